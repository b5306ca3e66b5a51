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
    components(schemas(ErrorBody, StateFilter, ExportFormat)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let bearer = SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An API key an admin created (`kf_…`); the scheme is case-insensitive."))
                .build(),
        );
        // A supervisor's or admin's workbench session reads the data API too (GET only, so no
        // CSRF header is needed).
        let session = SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "kefu_session",
            "The workbench session of a supervisor or admin.",
        )));
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_key", bearer);
        components.add_security_scheme("session", session);
        api.security = Some(vec![
            SecurityRequirement::new("api_key", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// Every error: a stable code and a message for people.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the JSON `ApiError` writes
pub struct ErrorBody {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, …
    error: String,
    message: String,
}

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

/// The page size, within `1..=max` (`default` when absent): out of range is a 400, never
/// silently clamped, so a caller learns the bound instead of missing rows.
fn page_limit(limit: Option<u32>, default: u32, max: u32) -> ApiResult<u32> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::BadRequest(format!("limit must be between 1 and {max}, not {n}"))),
    }
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
#[utoipa::path(get, path = "/api/v1/conversations", params(ConversationQuery),
    responses((status = 200, description = "`{items: [conversation], next_after}`", body = Object), DataErrors))]
pub async fn conversations(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<ConversationQuery>,
) -> ApiResult<Json<Value>> {
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
    Ok(page(values(&items), next_after(&items, limit, |c| c.id.0)))
}

/// One conversation with its outcome tags.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", params(("id" = i64, Path)),
    responses((status = 200, description = "`{conversation, tags}`", body = Object), (status = 404, description = "no such conversation", body = ErrorBody), DataErrors))]
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
    /// Default 200.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Messages, oldest first, with filters.
#[utoipa::path(get, path = "/api/v1/messages", params(MessageQuery),
    responses((status = 200, description = "`{items: [message], next_after}`", body = Object), DataErrors))]
pub async fn messages(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<MessageQuery>,
) -> ApiResult<Json<Value>> {
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
    Ok(page(values(&items), next_after(&items, limit, |m| m.id.0)))
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

async fn customer_json(state: &AppState, id: CustomerId) -> ApiResult<Value> {
    Ok(json!({
        "customer": state.store.customer(id).await?,
        "identities": state.store.customer_identities(id).await?,
        "merged_into": state.store.merged_into(id).await?,
        "tags": state.store.tags(id).await?,
    }))
}

/// Customers (merged-away ones excluded), by id, with their identities.
#[utoipa::path(get, path = "/api/v1/customers", params(CustomerPage),
    responses((status = 200, description = "`{items: [{customer, identities, tags}], next_after}`", body = Object), DataErrors))]
pub async fn customers(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<CustomerPage>,
) -> ApiResult<Json<Value>> {
    caller.allow("customers:read")?;
    let limit = page_limit(q.limit, 100, 500)?;
    let list = state.store.customers_after(q.after.unwrap_or(0), limit).await?;
    let mut items = vec![];
    for c in &list {
        items.push(customer_json(&state, c.id).await?);
    }
    Ok(page(items, next_after(&list, limit, |c| c.id.0)))
}

/// One customer; `merged_into` tells where a merged-away customer went.
#[utoipa::path(get, path = "/api/v1/customers/{id}", params(("id" = i64, Path)),
    responses((status = 200, description = "`{customer, identities, merged_into, tags}`", body = Object), (status = 404, description = "no such customer", body = ErrorBody), DataErrors))]
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
#[utoipa::path(get, path = "/api/v1/changes", params(ChangesQuery),
    responses((status = 200, description = "`{items: [{id, type, seq, occurred_at, data}], next_after}`; `next_after` is the cursor to send next time", body = Object), DataErrors))]
pub async fn changes(
    State(state): State<AppState>,
    caller: DataCaller,
    Query(q): Query<ChangesQuery>,
) -> ApiResult<Json<Value>> {
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
#[utoipa::path(get, path = "/api/v1/export/transcripts", params(ExportQuery),
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
