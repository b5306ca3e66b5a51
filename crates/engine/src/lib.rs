//! kefu's logic layer: ingest, conversation actions, the event bus and the durable outbox.

mod accounts;
pub mod bot;
pub mod bus;
pub mod commit;
pub mod connectivity;
pub mod dashboard;
pub mod dingtalk;
pub mod engine;
pub mod feed;
pub mod handlers;
pub mod jobs;
mod knowledge;
pub mod lifecycle;
pub mod media;
pub mod nats;
pub mod oneid;
pub mod outbox;
pub mod platforms;
pub mod policy;
pub mod routing;
pub mod transcripts;
pub mod turns;
pub mod verify;
pub mod webchat;
pub mod webhooks;
pub mod wechat;

pub use bus::{Bus, BusItem, Event, InProcBus, LocalRouter, Published, Subject};
pub use engine::{Engine, EngineError, Senders};
pub use jobs::{JobPolicy, JobRunner, Outcome};
pub use nats::NatsBus;
pub use outbox::{OutboxWorker, RetryPolicy};

/// Compares secrets without leaking where they differ through timing.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
