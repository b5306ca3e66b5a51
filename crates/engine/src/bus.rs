//! The event bus: how a change on one task (or, with NATS, one node) reaches WebSockets elsewhere.

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Stream, StreamExt};
use kefu_domain::{ChannelId, Conversation, ConversationId, CustomerId, CustomerMerge, Message};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    MessageCreated {
        message: Message,
        conversation: Conversation,
    },
    MessageUpdated {
        message: Message,
    },
    ConversationUpdated {
        conversation: Conversation,
    },
    /// OneID merged two customers (automatically or by hand).
    CustomerMerged {
        merge: CustomerMerge,
    },
    /// A message to show in a web visitor's browser.
    VisitorMessage {
        channel_id: ChannelId,
        visitor: String,
        message: Message,
    },
}

/// Dot-separated subjects, NATS style: `conv.<id>`, `customer.<id>`, `visitor.<channel>.<visitor id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Subject(pub String);

impl Subject {
    pub fn conversation(id: ConversationId) -> Self {
        Subject(format!("conv.{id}"))
    }

    pub fn customer(id: CustomerId) -> Self {
        Subject(format!("customer.{id}"))
    }

    pub fn visitor(channel: ChannelId, visitor: &str) -> Self {
        Subject(format!("visitor.{channel}.{visitor}"))
    }

    /// NATS wildcard semantics: `*` matches one token, a final `>` matches one or more.
    pub fn matches(&self, pattern: &str) -> bool {
        let mut subject = self.0.split('.');
        for p in pattern.split('.') {
            match (p, subject.next()) {
                (">", Some(_)) => return true,
                ("*", Some(_)) => {}
                (p, Some(s)) if p == s => {}
                _ => return false,
            }
        }
        subject.next().is_none()
    }
}

#[derive(Debug, Clone)]
pub enum BusItem {
    Event(Subject, Arc<Event>),
    /// The subscriber fell behind and missed events; it should reload what it shows.
    Lagged,
}

pub type Subscription = Pin<Box<dyn Stream<Item = BusItem> + Send>>;

#[derive(Debug, thiserror::Error)]
#[error("event bus: {0}")]
pub struct BusError(pub String);

#[async_trait]
pub trait Bus: Send + Sync {
    async fn publish(&self, subject: Subject, event: Event) -> Result<(), BusError>;
    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError>;
}

/// A single-process bus over a broadcast channel; every subscriber filters by its pattern.
pub struct InProcBus {
    tx: broadcast::Sender<(Subject, Arc<Event>)>,
}

impl InProcBus {
    pub fn new(capacity: usize) -> Self {
        InProcBus { tx: broadcast::channel(capacity).0 }
    }
}

impl Default for InProcBus {
    fn default() -> Self {
        InProcBus::new(4096)
    }
}

#[async_trait]
impl Bus for InProcBus {
    async fn publish(&self, subject: Subject, event: Event) -> Result<(), BusError> {
        // No subscribers is not an error: nobody is watching right now.
        let _ = self.tx.send((subject, Arc::new(event)));
        Ok(())
    }

    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError> {
        let pattern = pattern.to_owned();
        let stream = BroadcastStream::new(self.tx.subscribe()).filter_map(move |item| {
            let out = match item {
                Ok((subject, event)) if subject.matches(&pattern) => Some(BusItem::Event(subject, event)),
                Ok(_) => None,
                Err(BroadcastStreamRecvError::Lagged(_)) => Some(BusItem::Lagged),
            };
            futures::future::ready(out)
        });
        Ok(Box::pin(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_match_nats_style_patterns() {
        let s = Subject("visitor.3.abc".into());
        assert!(s.matches("visitor.3.abc"));
        assert!(s.matches("visitor.*.abc"));
        assert!(s.matches("visitor.>"));
        assert!(!s.matches("visitor.3"));
        assert!(!s.matches("visitor.3.abc.x"));
        assert!(!s.matches("conv.>"));
        assert!(!Subject("conv".into()).matches("conv.>"));
    }
}
