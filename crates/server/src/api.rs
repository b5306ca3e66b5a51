//! The workbench's conversation API: list, open, read history, reply, claim, close.

use axum::Json;
use axum::extract::{Path, Query, State};
use kefu_domain::*;
use kefu_store::{ConversationFilter, ConversationSummary, MessagePage};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use kefu_engine::lifecycle::TransferTo;
use kefu_engine::policy;

#[derive(Deserialize)]
pub struct ListQuery {
    /// Comma-separated states; default: every open state.
    state: Option<String>,
    /// `mine` (held by me, plus the unassigned queue) or `all` (supervisors only).
    scope: Option<String>,
    limit: Option<u32>,
}

fn parse_states(s: Option<&str>) -> ApiResult<Vec<ConversationState>> {
    match s {
        None | Some("") => Ok(ConversationState::ALL.into_iter().filter(|s| s.is_open()).collect()),
        Some(list) => list
            .split(',')
            .map(|p| p.trim().parse().map_err(|_| ApiError::BadRequest(format!("unknown state {p:?}"))))
            .collect(),
    }
}

pub async fn list(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<ConversationSummary>>> {
    // Supervisors choose between their own and everything; agents only ever get their own view.
    let scope = match q.scope.as_deref() {
        Some("all") => policy::list_scope(&me.agent),
        _ => Some(me.agent.id),
    };
    let filter = ConversationFilter {
        states: parse_states(q.state.as_deref())?,
        agent: scope,
        include_unassigned: true,
        customer: None,
        limit: q.limit.unwrap_or(100),
    };
    Ok(Json(state.store.conversations(&filter).await?))
}

#[derive(Serialize)]
pub struct Detail {
    conversation: Conversation,
    customer: Customer,
    identity: Identity,
    channel: ChannelInfo,
    /// Outcome tags (成交…), counted as conversions on the dashboard.
    tags: Vec<String>,
}

#[derive(Serialize)]
pub struct ChannelInfo {
    id: ChannelId,
    kind: ChannelKind,
    name: String,
}

/// The conversation if the visibility policy lets `me` see it (404 otherwise).
pub(crate) async fn visible(
    state: &AppState,
    me: &CurrentAgent,
    id: ConversationId,
) -> ApiResult<Conversation> {
    Ok(state.engine.visible_conversation(&me.agent, id).await?)
}

pub async fn detail(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Detail>> {
    let conversation = visible(&state, &me, ConversationId(id)).await?;
    let channel = state.store.channel(conversation.channel_id).await?;
    Ok(Json(Detail {
        customer: state.store.customer(conversation.customer_id).await?,
        identity: state.store.identity(conversation.identity_id).await?,
        channel: ChannelInfo { id: channel.id, kind: channel.kind, name: channel.name },
        tags: state.store.conversation_tags(conversation.id).await?,
        conversation,
    }))
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

pub async fn messages(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    let conv = visible(&state, &me, ConversationId(id)).await?;
    let page = MessagePage { before: q.before.map(MessageId), limit: q.limit.unwrap_or(50) };
    Ok(Json(state.store.messages(conv.id, page).await?))
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    text: String,
    /// A kefu media URL (`/media/<id>`) from `POST /api/media`, to send an image instead.
    image: Option<String>,
    /// Browser-generated id; resubmitting the same id does not send twice.
    client_id: Option<String>,
}

/// Longest reply an agent may send, in characters.
const MAX_REPLY_CHARS: usize = 5_000;

pub async fn reply(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(form): Json<ReplyForm>,
) -> ApiResult<Json<Message>> {
    let content = match &form.image {
        Some(url) => {
            let id = url.strip_prefix("/media/").unwrap_or_default();
            state.store.media(id).await.map_err(|_| ApiError::BadRequest("unknown image".into()))?;
            Content::Image { url: Some(url.clone()), media_id: None }
        }
        None if form.text.trim().is_empty() => return Err(ApiError::BadRequest("the reply is empty".into())),
        None => Content::text(form.text.clone()),
    };
    if form.text.chars().count() > MAX_REPLY_CHARS {
        return Err(ApiError::BadRequest(format!("the reply is longer than {MAX_REPLY_CHARS} characters")));
    }
    if form.client_id.as_ref().is_some_and(|c| c.len() > 64) {
        return Err(ApiError::BadRequest("client_id is longer than 64 characters".into()));
    }
    let conv = visible(&state, &me, ConversationId(id)).await?;
    let msg = state.engine.reply(&me.agent, conv.id, content, form.client_id).await?;
    Ok(Json(msg))
}

pub async fn claim(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Conversation>> {
    let conv = visible(&state, &me, ConversationId(id)).await?;
    Ok(Json(state.engine.claim(&me.agent, conv.id).await?))
}

pub async fn close(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Conversation>> {
    let conv = visible(&state, &me, ConversationId(id)).await?;
    Ok(Json(state.engine.close(&me.agent, conv.id).await?))
}

#[derive(Deserialize)]
pub struct TransferForm {
    agent: Option<i64>,
    group: Option<i64>,
    #[serde(default)]
    note: String,
}

/// Hands the conversation to a colleague or another skill group, with an internal note.
pub async fn transfer(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<TransferForm>,
) -> ApiResult<Json<Conversation>> {
    let conv = visible(&state, &me, ConversationId(id)).await?;
    let to = match (f.agent, f.group) {
        (Some(a), None) => TransferTo::Agent(AgentId(a)),
        (None, Some(g)) => TransferTo::Group(SkillGroupId(g)),
        _ => return Err(ApiError::BadRequest("give either agent or group".into())),
    };
    if f.note.chars().count() > 1000 {
        return Err(ApiError::BadRequest("the note is longer than 1000 characters".into()));
    }
    Ok(Json(state.engine.transfer(&me.agent, conv.id, to, &f.note).await?))
}
