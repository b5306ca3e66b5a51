//! Engine integration tests: real SQLite store, in-process bus, injected clock.

mod helpers;

mod actions;
mod bus;
mod durability;
mod outbox;
mod routing;
mod tokens;
