//! The data API for CRMs and BI (`/api/v1`, OpenAPI at `/api/docs`): conversations, messages
//! and customers with filters, the incremental change feed, and cleaned transcript export.
//! Callers are API keys with scopes, or supervisors and admins (see `apikeys`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use kefu_domain::*;
use kefu_engine::feed;
use kefu_engine::transcripts::{Cleaner, TranscriptLine};
use kefu_store::{DataConversationFilter, MessageFilter};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::apikeys::DataCaller;
use crate::data_types::{ChangePage, ConversationRecord, CustomerRecord, Page};
use crate::error::{ApiError, ApiResult, page_limit};
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// What every data API operation may answer besides its success.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum DataErrors {
    /// A parameter is malformed, not one of its values, or out of its bounds.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No credentials, or a malformed, unknown or revoked API key (RFC 6750 challenge).
    #[response(status = 401, headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"kefu\"`, with `error=\"invalid_token\"` or `\"invalid_request\"` when credentials were sent")))]
    Unauthorized(ErrorBody),
    /// The key lacks the operation's scope, or the session is an agent's.
    #[response(status = 403)]
    Forbidden(ErrorBody),
}

fn page<T>(items: Vec<T>, next_after: Option<i64>) -> Json<Page<T>> {
    Json(Page { items, next_after })
}

/// The cursor for the next page: the last id of a full page, none after a short one.
fn next_after<T>(items: &[T], limit: u32, id: impl Fn(&T) -> i64) -> Option<i64> {
    if items.len() == limit as usize { items.last().map(id) } else { None }
}

/// A conversation's state, as a filter.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    Bot,
    Queued,
    Assigned,
    LeaveMessage,
    Closed,
}

impl From<StateFilter> for ConversationState {
    fn from(s: StateFilter) -> Self {
        match s {
            StateFilter::Bot => ConversationState::Bot,
            StateFilter::Queued => ConversationState::Queued,
            StateFilter::Assigned => ConversationState::Assigned,
            StateFilter::LeaveMessage => ConversationState::LeaveMessage,
            StateFilter::Closed => ConversationState::Closed,
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ConversationQuery {
    state: Option<StateFilter>,
    channel: Option<i64>,
    customer: Option<i64>,
    agent: Option<i64>,
    group: Option<i64>,
    /// Created at or after (unix ms).
    from: Option<i64>,
    /// Created before (unix ms).
    to: Option<i64>,
    /// Page after this conversation id (the previous page's `next_after`).
    after: Option<i64>,
    /// Default 100.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Conversations, oldest first, with filters.
#[utoipa::path(get, path = "/v1/conversations", operation_id = "list_data_conversations", tag = "data", params(ConversationQuery),
    responses((status = 200, body = Page<Conversation>), DataErrors))]
pub async fn conversations(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<ConversationQuery>,
) -> ApiResult<Json<Page<Conversation>>> {
    caller.allow("conversations:read")?;
    let st = q.state.map(ConversationState::from);
    let limit = page_limit(q.limit, 100, 500)?;
    let f = DataConversationFilter {
        state: st,
        channel: q.channel.map(ChannelId),
        customer: q.customer.map(CustomerId),
        agent: q.agent.map(AgentId),
        group: q.group.map(SkillGroupId),
        created_from: q.from.map(Timestamp),
        created_to: q.to.map(Timestamp),
        after: q.after.map(ConversationId),
        limit,
    };
    let items = state.store.find_conversations(&f).await?;
    let next = next_after(&items, limit, |c| c.id.0);
    Ok(page(items, next))
}

/// One conversation with its outcome tags.
#[utoipa::path(get, path = "/v1/conversations/{id}", operation_id = "get_data_conversation", tag = "data", params(("id" = i64, Path)),
    responses((status = 200, body = ConversationRecord), (status = 404, description = "no such conversation", body = ErrorBody), DataErrors))]
pub async fn conversation(
    State(state): State<AppState>,
    caller: DataCaller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationRecord>> {
    caller.allow("conversations:read")?;
    let conversation = state.store.conversation(ConversationId(id)).await?;
    let tags = state.store.conversation_tags(conversation.id).await?;
    Ok(Json(ConversationRecord { conversation, tags }))
}

#[derive(Deserialize, IntoParams)]
pub struct MessageQuery {
    conversation: Option<i64>,
    customer: Option<i64>,
    from: Option<i64>,
    to: Option<i64>,
    /// Page after this message id.
    after: Option<i64>,
    /// Default 200.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Messages, oldest first, with filters.
#[utoipa::path(get, path = "/v1/messages", operation_id = "list_data_messages", tag = "data", params(MessageQuery),
    responses((status = 200, body = Page<Message>), DataErrors))]
pub async fn messages(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<MessageQuery>,
) -> ApiResult<Json<Page<Message>>> {
    caller.allow("messages:read")?;
    let limit = page_limit(q.limit, 200, 1000)?;
    let f = MessageFilter {
        conversation: q.conversation.map(ConversationId),
        customer: q.customer.map(CustomerId),
        created_from: q.from.map(Timestamp),
        created_to: q.to.map(Timestamp),
        after: q.after.map(MessageId),
        limit,
    };
    let items = state.store.find_messages(&f).await?;
    let next = next_after(&items, limit, |m| m.id.0);
    Ok(page(items, next))
}

#[derive(Deserialize, IntoParams)]
pub struct CustomerPage {
    /// Page after this customer id (the previous page's `next_after`).
    after: Option<i64>,
    /// Default 100.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Deserialize, IntoParams)]
pub struct ChangesQuery {
    /// The cursor: the previous page's `next_after` (0 or absent: from the beginning).
    after: Option<i64>,
    /// Default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

async fn customer_record(state: &AppState, id: CustomerId) -> ApiResult<CustomerRecord> {
    Ok(CustomerRecord {
        customer: state.store.customer(id).await?,
        identities: state.store.customer_identities(id).await?,
        merged_into: state.store.merged_into(id).await?,
        tags: state.store.tags(id).await?,
    })
}

/// Customers (merged-away ones excluded), by id, with their identities.
#[utoipa::path(get, path = "/v1/customers", operation_id = "list_data_customers", tag = "data", params(CustomerPage),
    responses((status = 200, body = Page<CustomerRecord>), DataErrors))]
pub async fn customers(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<CustomerPage>,
) -> ApiResult<Json<Page<CustomerRecord>>> {
    caller.allow("customers:read")?;
    let limit = page_limit(q.limit, 100, 500)?;
    let list = state.store.customers_after(q.after.unwrap_or(0), limit).await?;
    let mut items = vec![];
    for c in &list {
        items.push(customer_record(&state, c.id).await?);
    }
    Ok(page(items, next_after(&list, limit, |c| c.id.0)))
}

/// One customer; `merged_into` tells where a merged-away customer went.
#[utoipa::path(get, path = "/v1/customers/{id}", operation_id = "get_data_customer", tag = "data", params(("id" = i64, Path)),
    responses((status = 200, body = CustomerRecord), (status = 404, description = "no such customer", body = ErrorBody), DataErrors))]
pub async fn customer(
    State(state): State<AppState>,
    caller: DataCaller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CustomerRecord>> {
    caller.allow("customers:read")?;
    Ok(Json(customer_record(&state, CustomerId(id)).await?))
}

/// The change feed: events after a cursor, in commit order. Store `next_after` only after you
/// have processed a page; deduplicate on `id` (delivery is at least once).
#[utoipa::path(get, path = "/v1/changes", operation_id = "list_changes", tag = "data", params(ChangesQuery),
    responses((status = 200, body = ChangePage), DataErrors))]
pub async fn changes(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<ChangesQuery>,
) -> ApiResult<Json<Page<Value>>> {
    caller.allow("changes:read")?;
    let after = q.after.unwrap_or(0);
    let list = state.store.changes_after(after, page_limit(q.limit, 100, 1000)?).await?;
    let mut items = vec![];
    for c in &list {
        items.push(feed::envelope(state.store.as_ref(), c).await?);
    }
    Ok(page(items, Some(list.last().map_or(after, |c| c.seq))))
}

/// How transcripts are written.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    #[default]
    Csv,
    Jsonl,
}

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `csv` (default) or `jsonl`.
    format: Option<ExportFormat>,
    conversation: Option<i64>,
    customer: Option<i64>,
    from: Option<i64>,
    to: Option<i64>,
}

const EXPORT_MAX: usize = 100_000;

fn csv_body(lines: &[TranscriptLine]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(["conversation_id", "message_id", "at", "speaker", "agent_id", "text"])?;
    for l in lines {
        let agent = l.agent_id.map(|a| a.to_string()).unwrap_or_default();
        let at = l.at.to_string();
        let (conv, msg) = (l.conversation_id.to_string(), l.message_id.to_string());
        w.write_record([
            conv.as_str(),
            msg.as_str(),
            at.as_str(),
            l.speaker,
            agent.as_str(),
            l.text.as_str(),
        ])?;
    }
    w.flush()?;
    let bytes = w.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Cleaned transcripts: what the customer saw, i.e. customer, bot, agent and system lines
/// (kefu's own notices such as the queue position), no internal notes or events; media named,
/// phone and ID numbers masked.
#[utoipa::path(get, path = "/v1/export/transcripts", operation_id = "export_transcripts", tag = "data", params(ExportQuery),
    responses((status = 200, description = "CSV (`conversation_id,message_id,at,speaker,agent_id,text`) or JSON Lines",
        content((String = "text/csv"), (String = "application/x-ndjson"))), DataErrors))]
pub async fn export_transcripts(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<ExportQuery>,
) -> ApiResult<impl IntoResponse> {
    caller.allow("export")?;
    let jsonl = matches!(q.format.unwrap_or_default(), ExportFormat::Jsonl);
    let cleaner = Cleaner::default();
    let mut f = MessageFilter {
        conversation: q.conversation.map(ConversationId),
        customer: q.customer.map(CustomerId),
        created_from: q.from.map(Timestamp),
        created_to: q.to.map(Timestamp),
        after: None,
        limit: 1000,
    };
    let mut lines = vec![];
    loop {
        let batch = state.store.find_messages(&f).await?;
        lines.extend(batch.iter().filter_map(|m| cleaner.line(m)));
        if batch.len() < 1000 || lines.len() >= EXPORT_MAX {
            break;
        }
        f.after = batch.last().map(|m| m.id);
    }
    lines.truncate(EXPORT_MAX);
    let (body, mime) = if jsonl {
        let body: String =
            lines.iter().map(|l| format!("{}\n", serde_json::to_string(l).unwrap_or_default())).collect();
        (body, "application/x-ndjson; charset=utf-8")
    } else {
        (csv_body(&lines).map_err(|e| ApiError::Internal(e.into()))?, "text/csv; charset=utf-8")
    };
    Ok(([(header::CONTENT_TYPE, mime)], body))
}
