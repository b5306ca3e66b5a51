//! Catching up after a reconnect: the events an agent may see since a change-feed position,
//! rebuilt from the feed (so a browser reconnecting to any node gets what it missed), each
//! with its position so the browser never lets an older one overwrite a newer state.

use axum::Json;
use axum::extract::{Query, State};
use kefu_domain::{Conversation, CustomerMerge, Message};
use kefu_engine::{Event, Published};
use kefu_store::Change;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentAgent;
use crate::error::ApiResult;
use crate::state::AppState;

/// Events published near the same moment on different nodes may arrive out of position
/// order; replaying a margin before the last position seen covers the ones still in flight.
const MARGIN: i64 = 200;
const PAGE: u32 = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The last position seen (`pos` of the WebSocket's `hello`, of an event, or of the last
    /// catch-up).
    after: i64,
}

/// What happened since `after`, as far as I may see it.
#[derive(Serialize, ToSchema)]
pub struct CatchUp {
    /// In position order.
    #[schema(value_type = Vec<FeedEvent>)]
    events: Vec<Published>,
    /// The position to continue from.
    pos: i64,
    /// False when more happened than one page: reload instead.
    complete: bool,
}

/// One event of the catch-up with its change-feed position, carrying the entities as they are
/// now (the live feed's `Published` events of these three kinds; see `event_of`).
#[derive(Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)] // documents the `Published` events `catch_up` writes
pub enum FeedEvent {
    /// A message in a conversation I may see.
    MessageCreated { pos: i64, message: Message, conversation: Conversation },
    /// A conversation's state, agent or group changed.
    ConversationUpdated { pos: i64, conversation: Conversation },
    /// OneID merged two customers.
    CustomerMerged { pos: i64, merge: CustomerMerge },
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

/// The live feed's events since a position, for a workbench that reconnected.
///
/// Replays from 200 positions before `after` (events published on different nodes may arrive
/// out of order), one page of at most 500 changes, filtered by the visibility policy. See
/// docs/PROTOCOLS.md, section 2 (catch-up).
#[utoipa::path(get, path = "/feed", operation_id = "catch_up_feed", tag = "live", params(FeedQuery),
    responses((status = 200, description = "`complete: false`: more happened than one page, reload instead", body = CatchUp)))]
pub async fn catch_up(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<FeedQuery>,
) -> ApiResult<Json<CatchUp>> {
    // Saturating: any i64 is a valid `after`, and the margin must not overflow below i64::MIN.
    let changes = state.store.changes_after(q.after.saturating_sub(MARGIN).max(0), PAGE).await?;
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
