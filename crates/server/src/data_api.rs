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
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi};

use crate::apikeys::DataCaller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "kefu data API", description = "Read conversations, messages and customers, follow the change feed, export transcripts. Authenticate with `Authorization: Bearer kf_…` (an API key an admin created)."),
    paths(conversations, conversation, messages, customers, customer, changes, export_transcripts),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let scheme = SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        api.components.get_or_insert_with(Default::default).add_security_scheme("api_key", scheme);
        api.security = Some(vec![SecurityRequirement::new("api_key", Vec::<String>::new())]);
    }
}

fn page(items: Vec<Value>, next: Option<i64>) -> Json<Value> {
    Json(json!({ "items": items, "next_after": next }))
}

/// The cursor for the next page: the last id of a full page, none after a short one.
fn next_after<T>(items: &[T], limit: u32, id: impl Fn(&T) -> i64) -> Option<i64> {
    if items.len() == limit as usize { items.last().map(id) } else { None }
}

fn values<T: serde::Serialize>(items: &[T]) -> Vec<Value> {
    items.iter().map(|i| serde_json::to_value(i).unwrap_or(Value::Null)).collect()
}

#[derive(Deserialize, IntoParams)]
pub struct ConversationQuery {
    /// bot, queued, assigned, leave_message or closed.
    state: Option<String>,
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
    /// At most 500; default 100.
    limit: Option<u32>,
}

/// Conversations, oldest first, with filters.
#[utoipa::path(get, path = "/api/v1/conversations", params(ConversationQuery),
    responses((status = 200, description = "`{items: [conversation], next_after}`")))]
pub async fn conversations(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<ConversationQuery>,
) -> ApiResult<Json<Value>> {
    caller.allow("conversations:read")?;
    let st = match q.state.as_deref() {
        Some(s) => Some(s.parse().map_err(|_| ApiError::BadRequest(format!("unknown state {s:?}")))?),
        None => None,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
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
    Ok(page(values(&items), next_after(&items, limit, |c| c.id.0)))
}

/// One conversation with its outcome tags.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", params(("id" = i64, Path)),
    responses((status = 200, description = "`{conversation, tags}`"), (status = 404)))]
pub async fn conversation(
    State(state): State<AppState>,
    caller: DataCaller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.allow("conversations:read")?;
    let c = state.store.conversation(ConversationId(id)).await?;
    Ok(Json(json!({ "conversation": c, "tags": state.store.conversation_tags(c.id).await? })))
}

#[derive(Deserialize, IntoParams)]
pub struct MessageQuery {
    conversation: Option<i64>,
    customer: Option<i64>,
    from: Option<i64>,
    to: Option<i64>,
    /// Page after this message id.
    after: Option<i64>,
    /// At most 1000; default 200.
    limit: Option<u32>,
}

/// Messages, oldest first, with filters.
#[utoipa::path(get, path = "/api/v1/messages", params(MessageQuery),
    responses((status = 200, description = "`{items: [message], next_after}`")))]
pub async fn messages(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<MessageQuery>,
) -> ApiResult<Json<Value>> {
    caller.allow("messages:read")?;
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let f = MessageFilter {
        conversation: q.conversation.map(ConversationId),
        customer: q.customer.map(CustomerId),
        created_from: q.from.map(Timestamp),
        created_to: q.to.map(Timestamp),
        after: q.after.map(MessageId),
        limit,
    };
    let items = state.store.find_messages(&f).await?;
    Ok(page(values(&items), next_after(&items, limit, |m| m.id.0)))
}

#[derive(Deserialize, IntoParams)]
pub struct AfterQuery {
    after: Option<i64>,
    limit: Option<u32>,
}

async fn customer_json(state: &AppState, id: CustomerId) -> ApiResult<Value> {
    Ok(json!({
        "customer": state.store.customer(id).await?,
        "identities": state.store.customer_identities(id).await?,
        "merged_into": state.store.merged_into(id).await?,
        "tags": state.store.tags(id).await?,
    }))
}

/// Customers (merged-away ones excluded), by id, with their identities.
#[utoipa::path(get, path = "/api/v1/customers", params(AfterQuery),
    responses((status = 200, description = "`{items: [{customer, identities, tags}], next_after}`")))]
pub async fn customers(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<AfterQuery>,
) -> ApiResult<Json<Value>> {
    caller.allow("customers:read")?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let list = state.store.customers_after(q.after.unwrap_or(0), limit).await?;
    let mut items = vec![];
    for c in &list {
        items.push(customer_json(&state, c.id).await?);
    }
    Ok(page(items, next_after(&list, limit, |c| c.id.0)))
}

/// One customer; `merged_into` tells where a merged-away customer went.
#[utoipa::path(get, path = "/api/v1/customers/{id}", params(("id" = i64, Path)),
    responses((status = 200, description = "`{customer, identities, merged_into, tags}`"), (status = 404)))]
pub async fn customer(
    State(state): State<AppState>,
    caller: DataCaller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.allow("customers:read")?;
    Ok(Json(customer_json(&state, CustomerId(id)).await?))
}

/// The change feed: events after a cursor, in commit order. Store `next_after` only after you
/// have processed a page; deduplicate on `id` (delivery is at least once).
#[utoipa::path(get, path = "/api/v1/changes", params(AfterQuery),
    responses((status = 200, description = "`{items: [{id, type, seq, occurred_at, data}], next_after}`; `next_after` is the cursor to send next time")))]
pub async fn changes(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<AfterQuery>,
) -> ApiResult<Json<Value>> {
    caller.allow("changes:read")?;
    let after = q.after.unwrap_or(0);
    let list = state.store.changes_after(after, q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    let mut items = vec![];
    for c in &list {
        items.push(feed::envelope(state.store.as_ref(), c).await?);
    }
    Ok(page(items, Some(list.last().map_or(after, |c| c.seq))))
}

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `csv` (default) or `jsonl`.
    format: Option<String>,
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

/// Cleaned transcripts: customer, bot and agent lines only (no internal notes or events),
/// media named, phone and ID numbers masked.
#[utoipa::path(get, path = "/api/v1/export/transcripts", params(ExportQuery),
    responses((status = 200, description = "CSV (`conversation_id,message_id,at,speaker,agent_id,text`) or JSON Lines")))]
pub async fn export_transcripts(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<ExportQuery>,
) -> ApiResult<impl IntoResponse> {
    caller.allow("export")?;
    let jsonl = match q.format.as_deref() {
        None | Some("csv") => false,
        Some("jsonl") => true,
        Some(f) => return Err(ApiError::BadRequest(format!("unknown format {f:?}: csv or jsonl"))),
    };
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
