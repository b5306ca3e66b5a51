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
