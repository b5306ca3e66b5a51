//! The management dashboard (管理看板) API for supervisors and admins, conversation outcome
//! tags that feed its conversion figures, and Prometheus `/metrics` for operations.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kefu_domain::*;
use kefu_engine::dashboard::{Dimension, Figures, breakdown};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::visible;
use crate::auth::CurrentAgent;
use crate::body::JsonObject;
use crate::customers::clean_tags;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashQuery {
    /// Unix ms; default: seven days before `to`.
    from: Option<i64>,
    /// Unix ms, exclusive; default: now.
    to: Option<i64>,
    /// What the rows are: `channel` (the default), `group` or `agent`.
    by: Option<DashboardDimension>,
}

/// What the dashboard's rows break the figures down by.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DashboardDimension {
    #[default]
    Channel,
    Group,
    Agent,
}

impl From<DashboardDimension> for Dimension {
    fn from(d: DashboardDimension) -> Self {
        match d {
            DashboardDimension::Channel => Dimension::Channel,
            DashboardDimension::Group => Dimension::Group,
            DashboardDimension::Agent => Dimension::Agent,
        }
    }
}

/// The figures of one channel, group or agent.
#[derive(Serialize, ToSchema)]
pub struct DashboardRow {
    /// Its name; `—` for conversations without one (e.g. never assigned).
    label: String,
    #[serde(flatten)]
    #[schema(value_type = DashboardFigures)]
    figures: Figures,
}

/// The dashboard of a period.
#[derive(Serialize, ToSchema)]
pub struct Dashboard {
    from: i64,
    to: i64,
    by: DashboardDimension,
    rows: Vec<DashboardRow>,
    #[schema(value_type = DashboardFigures)]
    total: Figures,
}

/// The figures over conversations created in the period (defined in docs/DATA.md); durations
/// are in seconds.
// The JSON `kefu_engine::dashboard::Figures` writes: the engine has no schemas of its own.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documents `Figures`
pub struct DashboardFigures {
    /// The channel, group or agent id; null for "none" (e.g. never assigned) and in the total.
    key: Option<i64>,
    /// How many conversations.
    volume: u64,
    /// How many left the bot (queued, assigned or leave-message).
    handed_off: u64,
    /// The share that never left the bot; null without conversations.
    interception_rate: Option<f64>,
    /// The share that left the bot; null without conversations.
    handoff_rate: Option<f64>,
    /// From the hand-off to the first human reply.
    first_response: DashboardSpread,
    /// From the first assignment to closing.
    handle_time: DashboardSpread,
    /// From entering the queue to the first assignment.
    queue_wait: DashboardSpread,
    leave_messages: u64,
    /// Mean of the 1–5 ratings; null without ratings.
    satisfaction_avg: Option<f64>,
    satisfaction_count: u64,
    /// How many conversations carry each outcome tag.
    tags: BTreeMap<String, u64>,
}

/// Median and 90th percentile (nearest rank) of a set of durations, in seconds.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documents `kefu_engine::dashboard::Spread`
pub struct DashboardSpread {
    count: u64,
    median: Option<f64>,
    p90: Option<f64>,
}

async fn labels(state: &AppState, by: Dimension) -> ApiResult<HashMap<i64, String>> {
    let s = state.store.as_ref();
    Ok(match by {
        Dimension::Channel => s.channels().await?.into_iter().map(|c| (c.id.0, c.name)).collect(),
        Dimension::Group => s.skill_groups().await?.into_iter().map(|g| (g.id.0, g.name)).collect(),
        Dimension::Agent => s.agents().await?.into_iter().map(|a| (a.id.0, a.display_name)).collect(),
    })
}

/// The management dashboard (管理看板) of a period, by channel, skill group or agent (supervisors, admins).
///
/// Figures over conversations created in `[from, to)`: volume, hand-offs, bot interception,
/// first response, handle time, queue wait, leave-messages, satisfaction and outcome tags.
#[utoipa::path(get, path = "/dashboard", operation_id = "get_dashboard", tag = "dashboard", params(DashQuery),
    responses((status = 200, description = "One row per channel, group or agent with conversations, and the total", body = Dashboard),
        (status = 422, description = "The period does not end after it starts", body = ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<DashQuery>,
) -> ApiResult<Json<Dashboard>> {
    me.require(Role::Supervisor)?;
    let to = q.to.unwrap_or(state.clock.now().0);
    let from = q.from.unwrap_or(Timestamp(to).minus(Duration::from_secs(7 * 86_400)).0);
    // 422, not 400: each bound is valid alone, the schema cannot relate the two.
    if from >= to {
        return Err(ApiError::Unprocessable("the period must end after it starts".into()));
    }
    let by = q.by.unwrap_or_default();
    let facts = state.store.conversation_facts(Timestamp(from), Timestamp(to)).await?;
    let (rows, total) = breakdown(&facts, by.into());
    let names = labels(&state, by.into()).await?;
    let rows = rows
        .into_iter()
        .map(|f| {
            let label = f
                .key
                .map_or_else(|| "—".to_owned(), |k| names.get(&k).cloned().unwrap_or_else(|| k.to_string()));
            DashboardRow { label, figures: f }
        })
        .collect();
    Ok(Json(Dashboard { from, to, by, rows, total }))
}

/// The conversation's whole list of outcome tags; blank tags are dropped, the rest trimmed.
#[derive(Deserialize, ToSchema)]
pub struct ConversationTagsForm {
    /// At most 10 tags of at most 20 characters.
    #[schema(max_items = 10, max_length = 20)]
    tags: Vec<String>,
}

/// Most outcome tags on one conversation.
const MAX_CONVERSATION_TAGS: usize = 10;

/// Sets the conversation's outcome tags (成交, 投诉…), counted as conversions on the dashboard.
#[utoipa::path(put, path = "/conversations/{id}/tags", operation_id = "set_conversation_tags", tag = "conversations",
    params(("id" = i64, Path)), request_body = ConversationTagsForm,
    responses((status = 200, description = "The tags as stored, sorted", body = [String])))]
pub async fn set_conversation_tags(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<ConversationTagsForm>,
) -> ApiResult<Json<Vec<String>>> {
    let conv = visible(&state, &me, ConversationId(id)).await?;
    let tags = clean_tags(&f.tags, MAX_CONVERSATION_TAGS)?;
    state.store.set_conversation_tags(conv.id, &tags, state.clock.now()).await?;
    Ok(Json(state.store.conversation_tags(conv.id).await?))
}

/// The last metrics text and when it was made: a scrape costs full-table counts, so every
/// scrape within 15 s of the last one gets the same figures.
#[derive(Default)]
pub struct MetricsCache {
    text: tokio::sync::Mutex<Option<(Timestamp, String)>>,
}

const METRICS_TTL: std::time::Duration = std::time::Duration::from_secs(15);

impl MetricsCache {
    pub async fn get(&self, state: &AppState) -> ApiResult<String> {
        let now = state.clock.now();
        // Held across the refresh: concurrent scrapes wait for one computation, not run many.
        let mut cached = self.text.lock().await;
        if let Some((at, text)) = cached.as_ref()
            && now.since(*at) < METRICS_TTL
        {
            return Ok(text.clone());
        }
        let text = render_metrics(state).await?;
        *cached = Some((now, text.clone()));
        Ok(text)
    }
}

/// Prometheus text format. Aggregate counts only, no personal data.
async fn render_metrics(state: &AppState) -> ApiResult<String> {
    let mut out = String::new();
    let mut last = "";
    for (metric, label, n) in state.store.gauges().await? {
        if metric != last {
            let _ = writeln!(out, "# TYPE kefu_{metric} gauge");
            last = metric;
        }
        let key = match metric {
            "conversations" | "outbox" | "webhook_deliveries" | "jobs" => "state",
            "messages" => "direction",
            _ => "status",
        };
        let _ = writeln!(out, "kefu_{metric}{{{key}=\"{}\"}} {n}", label.replace(['"', '\\', '\n'], "_"));
    }
    let _ = writeln!(
        out,
        "# TYPE kefu_changes_last_seq gauge\nkefu_changes_last_seq {}",
        state.store.last_change_seq().await?
    );
    Ok(out)
}

fn metrics_response(text: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// `/metrics` on the metrics listener (`metrics_bind`, loopback by default): no credentials,
/// the address is the protection.
pub async fn metrics_local(State(state): State<AppState>) -> Response {
    match state.metrics.get(&state).await {
        Ok(text) => metrics_response(text),
        Err(e) => e.into_response(),
    }
}

/// `/metrics` on the public listener: only with `metrics_token` set, and only to its bearer.
pub async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let token = &state.config.metrics_token;
    if token.is_empty() {
        return ApiError::NotFound.into_response();
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !crate::auth::same_secret(given, token) {
        return ApiError::Unauthorized.into_response();
    }
    metrics_local(State(state)).await
}
