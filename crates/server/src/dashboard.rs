//! The management dashboard (管理看板) API for supervisors and admins, conversation outcome
//! tags that feed its conversion figures, and Prometheus `/metrics` for operations.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kefu_domain::*;
use kefu_engine::dashboard::{Dimension, Figures, breakdown};
use serde::{Deserialize, Serialize};

use crate::api::visible;
use crate::auth::CurrentAgent;
use crate::customers::TagsForm;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct DashQuery {
    /// Unix ms; default: seven days before `to`.
    from: Option<i64>,
    /// Unix ms, exclusive; default: now.
    to: Option<i64>,
    /// `channel` (default), `group` or `agent`.
    by: Option<String>,
}

#[derive(Serialize)]
pub struct Row {
    label: String,
    #[serde(flatten)]
    figures: Figures,
}

#[derive(Serialize)]
pub struct Dashboard {
    from: i64,
    to: i64,
    by: String,
    rows: Vec<Row>,
    total: Figures,
}

async fn labels(state: &AppState, by: Dimension) -> ApiResult<HashMap<i64, String>> {
    let s = state.store.as_ref();
    Ok(match by {
        Dimension::Channel => s.channels().await?.into_iter().map(|c| (c.id.0, c.name)).collect(),
        Dimension::Group => s.skill_groups().await?.into_iter().map(|g| (g.id.0, g.name)).collect(),
        Dimension::Agent => s.agents().await?.into_iter().map(|a| (a.id.0, a.display_name)).collect(),
    })
}

pub async fn dashboard(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<DashQuery>,
) -> ApiResult<Json<Dashboard>> {
    me.require(Role::Supervisor)?;
    let to = q.to.unwrap_or(state.clock.now().0);
    let from = q.from.unwrap_or(Timestamp(to).minus(Duration::from_secs(7 * 86_400)).0);
    if from >= to {
        return Err(ApiError::BadRequest("the period must end after it starts".into()));
    }
    let (by, name) = match q.by.as_deref() {
        None | Some("channel") => (Dimension::Channel, "channel"),
        Some("group") => (Dimension::Group, "group"),
        Some("agent") => (Dimension::Agent, "agent"),
        Some(other) => return Err(ApiError::BadRequest(format!("unknown dimension {other:?}"))),
    };
    let facts = state.store.conversation_facts(Timestamp(from), Timestamp(to)).await?;
    let (rows, total) = breakdown(&facts, by);
    let names = labels(&state, by).await?;
    let rows = rows
        .into_iter()
        .map(|f| {
            let label = f
                .key
                .map_or_else(|| "—".to_owned(), |k| names.get(&k).cloned().unwrap_or_else(|| k.to_string()));
            Row { label, figures: f }
        })
        .collect();
    Ok(Json(Dashboard { from, to, by: name.into(), rows, total }))
}

/// Outcome tags of a conversation (成交, 投诉…), counted as conversions on the dashboard.
pub async fn set_conversation_tags(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<TagsForm>,
) -> ApiResult<Json<Vec<String>>> {
    let conv = visible(&state, &me, ConversationId(id)).await?;
    let tags = f.cleaned(10)?;
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
