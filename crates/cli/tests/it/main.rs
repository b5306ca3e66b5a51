//! Tests of the real `kefu` binary: the README's commands, and crash safety under `kill -9`.

mod helpers;

mod commands;
mod crash;
