//! kefu's logic layer: ingest, conversation actions, the event bus and the durable outbox.

pub mod bot;
pub mod bus;
pub mod connectivity;
pub mod dingtalk;
pub mod engine;
mod knowledge;
pub mod lifecycle;
pub mod oneid;
pub mod outbox;
pub mod platforms;
pub mod routing;
mod turns;
pub mod webchat;
pub mod wechat;

pub use bus::{Bus, BusItem, Event, InProcBus, Subject};
pub use engine::{Engine, EngineError, Senders};
pub use outbox::{OutboxWorker, RetryPolicy};
