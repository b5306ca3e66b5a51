//! Tests of the real `kefu` binary: the README's commands, and crash safety under `kill -9`.

mod helpers;

mod cluster;
mod commands;
mod crash;
mod dbfaults;
mod multinode;
