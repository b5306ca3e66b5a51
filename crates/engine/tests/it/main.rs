//! Engine integration tests: real SQLite store, in-process bus, injected clock.

mod helpers;

mod actions;
mod outbox;
mod routing;
mod tokens;
