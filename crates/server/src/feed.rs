//! Catching up after a reconnect: the events an agent may see since a change-feed position,
//! rebuilt from the feed (so a browser reconnecting to any node gets what it missed), each
//! with its position so the browser never lets an older one overwrite a newer state.

use axum::Json;
use axum::extract::{Query, State};
use kefu_engine::{Event, Published};
use kefu_store::Change;
use serde::{Deserialize, Serialize};

use crate::auth::CurrentAgent;
use crate::error::ApiResult;
use crate::state::AppState;

/// Events published near the same moment on different nodes may arrive out of position
/// order; replaying a margin before the last position seen covers the ones still in flight.
const MARGIN: i64 = 200;
const PAGE: u32 = 500;

#[derive(Deserialize)]
pub struct FeedQuery {
    after: i64,
}

#[derive(Serialize)]
pub struct CatchUp {
    events: Vec<Published>,
    /// The position to continue from.
    pos: i64,
    /// False when more happened than one page: reload instead.
    complete: bool,
}

async fn event_of(state: &AppState, c: &Change) -> Option<Event> {
    let store = state.store.as_ref();
    if let (Some(m), true) = (c.message_id, c.kind == "message.created") {
        let message = store.message(m).await.ok()?;
        let conversation = store.conversation(message.conversation_id).await.ok()?;
        return Some(Event::MessageCreated { message, conversation });
    }
    if let (Some(conv), true) = (c.conversation_id, c.kind.starts_with("conversation.")) {
        return Some(Event::ConversationUpdated { conversation: store.conversation(conv).await.ok()? });
    }
    if let (Some(id), "customer.merged") = (c.merge_id, c.kind.as_str()) {
        return Some(Event::CustomerMerged { merge: store.merge(id).await.ok()? });
    }
    None
}

async fn visible(state: &AppState, me: &CurrentAgent, e: &Event) -> bool {
    let engine = &state.engine;
    match e {
        Event::MessageCreated { conversation, .. } | Event::ConversationUpdated { conversation } => {
            engine.may_view_conversation(&me.agent, conversation).await.unwrap_or(false)
        }
        Event::CustomerMerged { merge } => {
            engine.may_view_customer(&me.agent, merge.survivor).await.unwrap_or(false)
        }
        _ => false,
    }
}

pub async fn catch_up(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<FeedQuery>,
) -> ApiResult<Json<CatchUp>> {
    let changes = state.store.changes_after((q.after - MARGIN).max(0), PAGE).await?;
    let complete = changes.len() < PAGE as usize;
    let mut pos = q.after;
    let mut events = vec![];
    for c in &changes {
        pos = pos.max(c.seq);
        if let Some(event) = event_of(&state, c).await
            && visible(&state, &me, &event).await
        {
            events.push(Published { pos: c.seq, event });
        }
    }
    Ok(Json(CatchUp { events, pos, complete }))
}
