//! The workbench's conversation API: list, open, read history, reply, claim, close.

use axum::Json;
use axum::extract::{Path, Query, State};
use kefu_domain::*;
use kefu_store::{ConversationFilter, ConversationSummary, MessagePage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentAgent;
use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult, page_limit};
use crate::openapi::ErrorBody;
use crate::state::AppState;
use kefu_engine::lifecycle::TransferTo;
use kefu_engine::policy;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Comma-separated states (`bot`, `queued`, `assigned`, `leave_message`, `closed`);
    /// default: every open state.
    #[param(
        example = "queued,assigned",
        pattern = r"^((bot|queued|assigned|leave_message|closed)(,(bot|queued|assigned|leave_message|closed))*)?$"
    )]
    state: Option<String>,
    /// `mine` (held by me, plus the unassigned queue, the default) or `all` (supervisors only).
    scope: Option<Scope>,
    /// Default 100.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Whose conversations a list shows.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Mine,
    All,
}

fn parse_states(s: Option<&str>) -> ApiResult<Vec<ConversationState>> {
    match s {
        None | Some("") => Ok(ConversationState::ALL.into_iter().filter(|s| s.is_open()).collect()),
        Some(list) => list
            .split(',')
            .map(|p| p.parse().map_err(|_| ApiError::BadRequest(format!("unknown state {p:?}"))))
            .collect(),
    }
}

/// The conversations in my view: mine and the unassigned queue, or all of them for a supervisor.
#[utoipa::path(get, path = "/conversations", operation_id = "list_conversations", tag = "conversations", params(ListQuery),
    responses((status = 200, description = "Newest activity first", body = [ConversationSummary])))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<ConversationSummary>>> {
    // Supervisors choose between their own and everything; agents only ever get their own view.
    let scope = match q.scope {
        Some(Scope::All) => policy::list_scope(&me.agent),
        _ => Some(me.agent.id),
    };
    let filter = ConversationFilter {
        states: parse_states(q.state.as_deref())?,
        agent: scope,
        include_unassigned: true,
        customer: None,
        limit: page_limit(q.limit, 100, 500)?,
    };
    Ok(Json(state.store.conversations(&filter).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Detail {
    conversation: Conversation,
    customer: Customer,
    identity: Identity,
    channel: ChannelInfo,
    /// Outcome tags (成交…), counted as conversions on the dashboard.
    tags: Vec<String>,
}

#[derive(Serialize, ToSchema)]
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

/// One conversation with its customer, the identity it came through, its channel and tags.
#[utoipa::path(get, path = "/conversations/{id}", operation_id = "get_conversation", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = Detail)))]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Page back from this message id (exclusive).
    before: Option<i64>,
    /// Default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// A page of the conversation's messages, oldest first.
#[utoipa::path(get, path = "/conversations/{id}/messages", operation_id = "list_conversation_messages", tag = "conversations",
    params(("id" = i64, Path), HistoryQuery), responses((status = 200, body = [Message])))]
pub async fn messages(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    let conv = visible(&state, &me, ConversationId(id)).await?;
    let page = MessagePage { before: q.before.map(MessageId), limit: page_limit(q.limit, 50, 500)? };
    Ok(Json(state.store.messages(conv.id, page).await?))
}

/// What a reply form holds. The document describes it as `ReplyBody`, which the checks in
/// `reply_content` mirror exactly.
#[derive(Deserialize)]
pub struct ReplyForm {
    text: Option<String>,
    image: Option<String>,
    client_id: Option<String>,
}

/// A text (`text`) or an image (`image`): exactly one of them.
// Serialize only so that `untagged` shapes the schema (a `oneOf` of the two).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documents `ReplyForm`
pub enum ReplyBody {
    Text(TextReply),
    Image(ImageReply),
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct TextReply {
    /// The reply: 1–5,000 characters, not only white space.
    #[schema(
        max_length = 5000,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    text: String,
    /// Absent or null: a text reply has no image.
    #[schema(schema_with = null_only)]
    image: Option<String>,
    /// Browser-generated id; resubmitting the same id does not send twice.
    #[schema(max_length = 64)]
    client_id: Option<String>,
}

fn null_only() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Null).build()
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ImageReply {
    /// A kefu media URL (`/media/<id>`) from `POST /api/media`; one that names no stored image
    /// is a 422.
    image: String,
    /// Absent, null or only white space: an image reply has no text.
    #[schema(pattern = r"^[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$")]
    text: Option<String>,
    /// Browser-generated id; resubmitting the same id does not send twice.
    #[schema(max_length = 64)]
    client_id: Option<String>,
}

/// Longest reply an agent may send, in characters.
const MAX_REPLY_CHARS: usize = 5_000;

/// Sends a reply to the customer through the conversation's channel (delivered by a job).
#[utoipa::path(post, path = "/conversations/{id}/messages", operation_id = "reply_to_conversation", tag = "conversations", params(("id" = i64, Path)),
    request_body = ReplyBody,
    responses((status = 200, description = "The stored message, `pending` until the platform accepts it", body = Message),
        (status = 409, description = "The conversation is not this agent's, or a platform rule (such as WeChat's 48 hours) refuses it now", body = ErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(form): JsonObject<ReplyForm>,
) -> ApiResult<Json<Message>> {
    let content = reply_content(&state, form.text, form.image).await?;
    let client_id = form.client_id;
    if client_id.as_ref().is_some_and(|c| c.chars().count() > 64) {
        return Err(ApiError::BadRequest("client_id is longer than 64 characters".into()));
    }
    let conv = visible(&state, &me, ConversationId(id)).await?;
    let msg = state.engine.reply(&me.agent, conv.id, content, client_id).await?;
    Ok(Json(msg))
}

/// A text or an image, as `ReplyBody`'s `oneOf` says: a text that is not blank, or an image
/// beside at most a blank text.
async fn reply_content(state: &AppState, text: Option<String>, image: Option<String>) -> ApiResult<Content> {
    let text = text.filter(|t| !t.trim().is_empty());
    let text_fits = text.as_ref().is_some_and(|t| t.chars().count() <= MAX_REPLY_CHARS);
    match (text, image) {
        (Some(_), Some(_)) => Err(ApiError::BadRequest("send a text or an image, not both".into())),
        (_, Some(image)) => {
            let id = image.strip_prefix("/media/").unwrap_or_default();
            // A well-formed URL naming no stored image: a reference to nothing (422).
            state.store.media(id).await.map_err(|_| ApiError::Unprocessable("unknown image".into()))?;
            Ok(Content::Image { url: Some(image), media_id: None })
        }
        (Some(_), None) if !text_fits => {
            Err(ApiError::BadRequest(format!("the reply is longer than {MAX_REPLY_CHARS} characters")))
        }
        (Some(text), None) => Ok(Content::text(text)),
        (None, None) => Err(ApiError::BadRequest("the reply is empty".into())),
    }
}

/// Takes a waiting conversation from the queue.
#[utoipa::path(post, path = "/conversations/{id}/claim", operation_id = "claim_conversation", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = Conversation),
        (status = 409, description = "Not waiting, or already someone else's", body = ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Conversation>> {
    let conv = visible(&state, &me, ConversationId(id)).await?;
    Ok(Json(state.engine.claim(&me.agent, conv.id).await?))
}

/// Ends the conversation (the closing message and survey go out by job).
#[utoipa::path(post, path = "/conversations/{id}/close", operation_id = "close_conversation", tag = "conversations", params(("id" = i64, Path)),
    responses((status = 200, body = Conversation), (status = 409, description = "Already closed", body = ErrorBody)))]
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
    note: Option<String>,
}

/// To a colleague (`agent`) or to a skill group (`group`): exactly one of them.
// Serialize only so that `untagged` shapes the schema (a `oneOf` of the two).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documents `TransferForm`
pub enum TransferBody {
    ToAgent(ToAgent),
    ToGroup(ToGroup),
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ToAgent {
    agent: i64,
    /// An internal note for the colleague (at most 1,000 characters).
    #[schema(max_length = 1000)]
    note: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ToGroup {
    group: i64,
    /// An internal note for the colleague (at most 1,000 characters).
    #[schema(max_length = 1000)]
    note: Option<String>,
}

/// Hands the conversation to a colleague or another skill group, with an internal note.
#[utoipa::path(post, path = "/conversations/{id}/transfer", operation_id = "transfer_conversation", tag = "conversations", params(("id" = i64, Path)),
    request_body = TransferBody,
    responses((status = 200, body = Conversation),
        (status = 409, description = "The conversation cannot be transferred in its state", body = ErrorBody),
        (status = 422, description = "No such agent or group, or the agent is not available", body = ErrorBody)))]
pub async fn transfer(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<TransferForm>,
) -> ApiResult<Json<Conversation>> {
    let conv = visible(&state, &me, ConversationId(id)).await?;
    let to = match (f.agent, f.group) {
        (Some(a), None) => TransferTo::Agent(AgentId(a)),
        (None, Some(g)) => TransferTo::Group(SkillGroupId(g)),
        _ => return Err(ApiError::BadRequest("give either agent or group".into())),
    };
    let note = f.note.unwrap_or_default();
    if note.chars().count() > 1000 {
        return Err(ApiError::BadRequest("the note is longer than 1000 characters".into()));
    }
    Ok(Json(state.engine.transfer(&me.agent, conv.id, to, &note).await?))
}
