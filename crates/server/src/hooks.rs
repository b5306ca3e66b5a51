//! The node's periodic work: picking up knowledge-base edits made on other nodes, and the
//! lifecycle tick (which only finds timeouts and queues jobs for them, one node at a time).

use futures::StreamExt;
use kefu_engine::Subject;
use tokio::sync::watch;

use crate::state::AppState;

/// Another node edited the knowledge base: rebuild this node's matcher as soon as its event
/// arrives, and check the version every minute in case an event was missed.
pub async fn refresh_knowledge(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut events = match state.engine.bus().subscribe(&Subject::kb().0).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "knowledge-base events unavailable; polling only");
            None
        }
    };
    loop {
        let next = async {
            match events.as_mut() {
                Some(s) => s.next().await.is_some(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.changed() => return,
            _ = next => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
        if let Err(e) = state.engine.bot().refresh(state.store.as_ref()).await {
            tracing::warn!(error = %e, "knowledge base not refreshed");
        }
    }
}

/// Idle and queue timeouts and serving the queue: every few seconds by the wall clock, while
/// the engine itself only ever looks at its injected clock.
pub async fn tick(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = state.config.routing.tick_seconds;
    if every == 0 {
        return;
    }
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(every)) => {
                if let Err(e) = state.engine.tick().await {
                    tracing::warn!(error = %e, "lifecycle tick failed");
                }
            }
        }
    }
}
