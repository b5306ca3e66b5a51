//! The one interface every platform's send path implements, used by the outbox worker.

use std::time::Duration;

use async_trait::async_trait;
use kefu_domain::{Channel, DeliveryStatus, Identity, Message};

/// What the platform said when it took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub platform_msg_id: Option<String>,
    /// `Sent` normally; `Delivered` where the platform confirms display synchronously.
    pub status: DeliveryStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (network error, 5xx, rate limit).
    #[error("{reason}")]
    Retryable { reason: String, retry_after: Option<Duration> },
    /// Will never succeed as is (window expired, user blocked us, bad content); shown to the agent.
    #[error("{reason}")]
    Permanent { reason: String },
}

impl SendError {
    pub fn retryable(reason: impl Into<String>) -> Self {
        SendError::Retryable { reason: reason.into(), retry_after: None }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        SendError::Permanent { reason: reason.into() }
    }
}

#[async_trait]
pub trait Outbound: Send + Sync {
    /// Sends one stored message to `to` through `channel`.
    async fn send(&self, channel: &Channel, to: &Identity, message: &Message) -> Result<Sent, SendError>;
}
