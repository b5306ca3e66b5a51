//! The bus across nodes: events go out on core NATS (`<prefix>.<subject>`), and each node has
//! one subscription (`<prefix>.>`) feeding its local router, so a reply sent by the outbox on
//! node B reaches the visitor whose socket is on node A. Nothing depends on NATS for
//! durability: what an event announces is already committed, and clients that missed events
//! (NATS was unreachable for a while) are told to reload.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use tokio::task::JoinHandle;

use crate::bus::{Bus, BusError, LocalRouter, Published, Subject, Subscription};

pub struct NatsBus {
    client: async_nats::Client,
    prefix: String,
    router: Arc<LocalRouter>,
    forward: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl NatsBus {
    /// Connects (retrying in the background if the server is down at first) and starts this
    /// node's one subscription.
    pub async fn connect(url: &str, prefix: &str) -> Result<Arc<NatsBus>, BusError> {
        let router = Arc::new(LocalRouter::default());
        let on_event = router.clone();
        let was_connected = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let client = async_nats::ConnectOptions::new()
            .name("kefu")
            .retry_on_initial_connect()
            .event_callback(move |event| {
                let (router, was) = (on_event.clone(), was_connected.clone());
                async move {
                    // Whatever was published while we were away is lost to us: reload. The
                    // first connection has missed nothing.
                    if matches!(event, async_nats::Event::Connected)
                        && was.swap(true, std::sync::atomic::Ordering::SeqCst)
                    {
                        router.lag_all();
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|e| BusError(e.to_string()))?;
        let prefix = prefix.trim_end_matches('.').to_owned();
        let mut sub = client.subscribe(format!("{prefix}.>")).await.map_err(|e| BusError(e.to_string()))?;
        let (router2, strip) = (router.clone(), format!("{prefix}."));
        let forward = tokio::spawn(async move {
            while let Some(msg) = sub.next().await {
                let Some(subject) = msg.subject.as_str().strip_prefix(&strip) else { continue };
                match serde_json::from_slice::<Published>(&msg.payload) {
                    Ok(event) => router2.deliver(&Subject(subject.to_owned()), Arc::new(event)),
                    Err(e) => tracing::warn!(error = %e, "unreadable event on the bus"),
                }
            }
        });
        Ok(Arc::new(NatsBus { client, prefix, router, forward: std::sync::Mutex::new(Some(forward)) }))
    }

    /// Flushes what was published and stops the subscription (at shutdown).
    pub async fn close(&self) {
        let _ = self.client.flush().await;
        let task = self.forward.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = task {
            t.abort();
            let _ = t.await;
        }
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, subject: Subject, event: Published) -> Result<(), BusError> {
        let payload = serde_json::to_vec(&event).map_err(|e| BusError(e.to_string()))?;
        self.client
            .publish(format!("{}.{}", self.prefix, subject.0), payload.into())
            .await
            .map_err(|e| BusError(e.to_string()))
    }

    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError> {
        Ok(self.router.subscribe(pattern))
    }
}
