//! Reactions to conversation events that involve a platform, whichever path caused them
//! (an agent, a supervisor, an idle timeout): e.g. ending the 微信客服 session on close.

use futures::StreamExt;
use kefu_domain::ConversationState;
use kefu_engine::{BusItem, Event};
use tokio::sync::watch;

use crate::state::AppState;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let Ok(mut events) = state.engine.bus().subscribe("conv.>").await else { return };
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            item = events.next() => match item {
                Some(BusItem::Event(_, e)) => {
                    if let Event::ConversationUpdated { conversation } = &*e
                        && conversation.state() == ConversationState::Closed {
                            let (s, c) = (state.clone(), conversation.clone());
                            tokio::spawn(async move {
                                if let Err(e) = kefu_engine::wechat::kf_closed(&s.engine, &s.platforms, &c).await {
                                    tracing::warn!(error = %e, "微信客服 session not ended");
                                }
                            });
                        }
                }
                Some(BusItem::Lagged) => {}
                None => return,
            }
        }
    }
}

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
