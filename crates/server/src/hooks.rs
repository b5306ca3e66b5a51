//! The node's periodic work: picking up knowledge-base edits made on other nodes, and the
//! lifecycle tick (which only finds timeouts and queues jobs for them, one node at a time).

use tokio::sync::watch;

use crate::state::AppState;

/// Other nodes may edit the knowledge base; look for a new version now and then.
pub async fn refresh_knowledge(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
                if let Err(e) = state.engine.bot().refresh(state.store.as_ref()).await {
                    tracing::warn!(error = %e, "knowledge base not refreshed");
                }
            }
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
