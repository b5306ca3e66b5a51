//! The event bus: how a change on one task (or, with NATS, one node) reaches WebSockets
//! elsewhere. Every node delivers events through one local router: subscribers register for
//! exact subjects (a visitor, a conversation) or patterns, and a publish touches only the
//! subscribers that want it. A subscriber that falls behind is told to reload (`Lagged`)
//! instead of slowing everyone else.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::Stream;
use kefu_domain::{AgentId, ChannelId, Conversation, ConversationId, CustomerId, CustomerMerge, Message};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

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
    /// The knowledge base changed on some node: every node rebuilds its matcher.
    KbChanged {
        version: i64,
    },
    /// Sessions of the account ended (disabled, logged out by an admin or on another device,
    /// password changed): the workbenches they had open close, on whichever node they are.
    /// Sessions are named by their token's hash, never the token.
    SignedOut {
        agent: AgentId,
        /// The session that stays (one's own, after changing one's own password).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keep: Option<String>,
        /// Only this session ended; `None`: every session but `keep`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        only: Option<String>,
    },
}

/// An event with the change-feed position it was published at: a browser asks for what it
/// missed after the last position it saw, and never lets an older event overwrite a newer
/// state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub pos: i64,
    #[serde(flatten)]
    pub event: Event,
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

    pub fn kb() -> Self {
        Subject("kb".into())
    }

    pub fn agent(id: AgentId) -> Self {
        Subject(format!("agent.{id}"))
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
    Event(Subject, Arc<Published>),
    /// The subscriber fell behind and missed events; it should reload what it shows.
    Lagged,
}

pub type Subscription = Pin<Box<dyn Stream<Item = BusItem> + Send>>;

#[derive(Debug, thiserror::Error)]
#[error("event bus: {0}")]
pub struct BusError(pub String);

#[async_trait]
pub trait Bus: Send + Sync {
    async fn publish(&self, subject: Subject, event: Published) -> Result<(), BusError>;
    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError>;
}

/// How many events one subscriber may have waiting before it is told to reload.
const QUEUE: usize = 512;

struct Sub {
    tx: mpsc::Sender<BusItem>,
    /// An event was dropped for this subscriber; it gets `Lagged` before the next one.
    lagged: bool,
}

impl Sub {
    /// Delivers without ever waiting for a slow subscriber; false once it is gone.
    fn offer(&mut self, subject: &Subject, event: &Arc<Published>) -> bool {
        if self.lagged {
            match self.tx.try_send(BusItem::Lagged) {
                Ok(()) => self.lagged = false,
                Err(mpsc::error::TrySendError::Full(_)) => return true,
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
            }
        }
        match self.tx.try_send(BusItem::Event(subject.clone(), event.clone())) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lagged = true;
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

#[derive(Default)]
struct Routes {
    exact: HashMap<String, Vec<Sub>>,
    patterns: Vec<(String, Sub)>,
}

/// Delivers events to this node's subscribers, indexed by subject: a publish costs the
/// subscribers of that subject (and the pattern subscribers), not every open socket.
#[derive(Default)]
pub struct LocalRouter {
    routes: Mutex<Routes>,
}

fn is_pattern(p: &str) -> bool {
    p.split('.').any(|t| t == "*" || t == ">")
}

impl LocalRouter {
    pub fn subscribe(&self, pattern: &str) -> Subscription {
        let (tx, rx) = mpsc::channel(QUEUE);
        let sub = Sub { tx, lagged: false };
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if is_pattern(pattern) {
            routes.patterns.push((pattern.to_owned(), sub));
        } else {
            routes.exact.entry(pattern.to_owned()).or_default().push(sub);
        }
        Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
    }

    pub fn deliver(&self, subject: &Subject, event: Arc<Published>) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(subs) = routes.exact.get_mut(&subject.0) {
            subs.retain_mut(|s| s.offer(subject, &event));
            if subs.is_empty() {
                routes.exact.remove(&subject.0);
            }
        }
        routes.patterns.retain_mut(|(p, s)| !subject.matches(p) || s.offer(subject, &event));
    }

    /// Tells every subscriber to reload (the connection to other nodes was lost for a while).
    pub fn lag_all(&self) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        for s in routes.exact.values_mut().flatten() {
            s.lagged = true;
        }
        for (_, s) in routes.patterns.iter_mut() {
            s.lagged = true;
        }
    }

    /// Subscribers currently registered (for tests and metrics).
    pub fn subscribers(&self) -> usize {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        routes.exact.values().map(Vec::len).sum::<usize>() + routes.patterns.len()
    }
}

/// The single-node bus: publishing delivers straight to this node's router.
#[derive(Default)]
pub struct InProcBus {
    router: LocalRouter,
}

#[async_trait]
impl Bus for InProcBus {
    async fn publish(&self, subject: Subject, event: Published) -> Result<(), BusError> {
        self.router.deliver(&subject, Arc::new(event));
        Ok(())
    }

    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError> {
        Ok(self.router.subscribe(pattern))
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

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

    fn ev(pos: i64) -> Published {
        Published { pos, event: Event::KbChanged { version: pos } }
    }

    #[tokio::test]
    async fn a_publish_reaches_only_subscribers_of_its_subject_and_matching_patterns() {
        let bus = InProcBus::default();
        let mut a = bus.subscribe("visitor.1.a").await.unwrap();
        let mut b = bus.subscribe("visitor.1.b").await.unwrap();
        let mut all = bus.subscribe("visitor.>").await.unwrap();
        bus.publish(Subject("visitor.1.a".into()), ev(1)).await.unwrap();
        assert!(matches!(a.next().await, Some(BusItem::Event(s, _)) if s.0 == "visitor.1.a"));
        assert!(matches!(all.next().await, Some(BusItem::Event(..))));
        assert!(tokio::time::timeout(std::time::Duration::from_millis(20), b.next()).await.is_err());
        drop(a);
        bus.publish(Subject("visitor.1.a".into()), ev(2)).await.unwrap();
        assert_eq!(bus.router.subscribers(), 2, "a closed subscription is forgotten");
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_to_reload_instead_of_holding_up_others() {
        let bus = InProcBus::default();
        let mut slow = bus.subscribe("kb").await.unwrap();
        let mut fast = bus.subscribe("kb").await.unwrap();
        for i in 0..(QUEUE as i64 + 10) {
            bus.publish(Subject::kb(), ev(i)).await.unwrap();
            let _ = fast.next().await;
        }
        for _ in 0..QUEUE {
            assert!(matches!(slow.next().await, Some(BusItem::Event(..))));
        }
        bus.publish(Subject::kb(), ev(9999)).await.unwrap();
        assert!(matches!(slow.next().await, Some(BusItem::Lagged)), "then told it missed some");
    }
}
