//! The knowledge-base API: entries, import/export, a test box, and FAQ mining candidates.
//! Reading and editing need the supervisor role.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kefu_bot::kbio::{self, Format, RowError};
use kefu_bot::mining::Turn;
use kefu_bot::policy::{BotMemory, Decision, decide};
use kefu_domain::{FaqEntry, Role};
use kefu_store::FaqCandidate;
use serde::{Deserialize, Serialize};

use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Largest import file accepted.
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<FaqEntry>>> {
    me.require(Role::Supervisor)?;
    let needle = q.q.unwrap_or_default();
    let all = state.store.faq_entries().await?;
    Ok(Json(
        all.into_iter()
            .filter(|e| {
                needle.is_empty()
                    || e.question.contains(&needle)
                    || e.answer.contains(&needle)
                    || e.id == needle
            })
            .collect(),
    ))
}

fn validate(e: &FaqEntry) -> ApiResult<()> {
    if e.question.trim().is_empty() || e.answer.trim().is_empty() {
        return Err(ApiError::BadRequest("question and answer are required".into()));
    }
    if e.id.len() > 64 || e.question.chars().count() > 500 || e.answer.chars().count() > 5000 {
        return Err(ApiError::BadRequest("id, question or answer is too long".into()));
    }
    Ok(())
}

pub async fn save(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(e): Json<FaqEntry>,
) -> ApiResult<Json<FaqEntry>> {
    me.require(Role::Supervisor)?;
    validate(&e)?;
    let mut saved = state.engine.save_faqs(vec![e]).await?;
    Ok(Json(saved.remove(0)))
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<String>,
    Json(mut e): Json<FaqEntry>,
) -> ApiResult<Json<FaqEntry>> {
    me.require(Role::Supervisor)?;
    state.store.faq_entry(&id).await?;
    e.id = id;
    validate(&e)?;
    let mut saved = state.engine.save_faqs(vec![e]).await?;
    Ok(Json(saved.remove(0)))
}

pub async fn delete(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<()>> {
    me.require(Role::Supervisor)?;
    state.engine.delete_faq(&id).await?;
    Ok(Json(()))
}

#[derive(Deserialize)]
pub struct FormatQuery {
    format: String,
}

pub(crate) fn format(q: &FormatQuery) -> ApiResult<Format> {
    q.format.parse().map_err(ApiError::BadRequest)
}

#[derive(Serialize)]
pub struct ImportReport {
    imported: usize,
    errors: Vec<RowError>,
}

pub async fn import(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<FormatQuery>,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    me.require(Role::Supervisor)?;
    let parsed = kbio::parse(format(&q)?, &body);
    let imported = parsed.entries.len();
    if imported > 0 {
        state.engine.save_faqs(parsed.entries).await?;
    }
    Ok(Json(ImportReport { imported, errors: parsed.errors }))
}

pub async fn export(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<FormatQuery>,
) -> ApiResult<Response> {
    me.require(Role::Supervisor)?;
    let f = format(&q)?;
    let bytes =
        kbio::export(f, &state.store.faq_entries().await?).map_err(|e| ApiError::Internal(e.into()))?;
    let (mime, ext) = match f {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Xlsx => ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        Format::Jsonl => ("application/x-ndjson; charset=utf-8", "jsonl"),
    };
    let disposition = format!("attachment; filename=\"kefu-faq.{ext}\"");
    Ok(([(header::CONTENT_TYPE, mime.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}

#[derive(Deserialize)]
pub struct TryForm {
    text: String,
}

#[derive(Serialize)]
pub struct TryResult {
    hits: Vec<kefu_bot::Hit>,
    decision: String,
}

/// What the bot would do with a message, for trying the knowledge base out.
pub async fn try_it(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(f): Json<TryForm>,
) -> ApiResult<Json<TryResult>> {
    me.require(Role::Supervisor)?;
    let bot = state.engine.bot();
    let matcher = bot.matcher();
    let policy = kefu_bot::policy::PolicyConfig { threshold: bot.config.threshold, ..Default::default() };
    let (decision, _) = decide(&matcher, &f.text, &BotMemory::default(), &policy);
    let decision = match decision {
        Decision::Answer(_) => "answer",
        Decision::Suggest(_) => "suggest",
        Decision::Fallback => "fallback",
        Decision::SmallTalk(_) => "small_talk",
        Decision::HandOff { .. } => "handoff",
    };
    Ok(Json(TryResult { hits: matcher.search(&f.text, 5), decision: decision.into() }))
}

pub async fn candidates(
    State(state): State<AppState>,
    me: CurrentAgent,
) -> ApiResult<Json<Vec<FaqCandidate>>> {
    me.require(Role::Supervisor)?;
    Ok(Json(state.store.candidates("pending").await?))
}

#[derive(Serialize)]
pub struct MineReport {
    proposed: usize,
}

/// Mines the stored history, or the uploaded chat log (JSON lines) when a body is given.
pub async fn mine(
    State(state): State<AppState>,
    me: CurrentAgent,
    body: Bytes,
) -> ApiResult<Json<MineReport>> {
    me.require(Role::Supervisor)?;
    let turns = if body.is_empty() {
        None
    } else {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::BadRequest("the chat log is not UTF-8".into()))?;
        let parsed: Result<Vec<Turn>, _> =
            text.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str).collect();
        Some(parsed.map_err(|e| ApiError::BadRequest(format!("chat log line: {e}")))?)
    };
    let found = state.engine.mine_faqs(turns).await?;
    Ok(Json(MineReport { proposed: found.len() }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AcceptForm {
    question: Option<String>,
    similar: Option<Vec<String>>,
    answer: Option<String>,
    group: Option<String>,
}

/// Turns a candidate (as edited by the reviewer) into a knowledge-base entry.
pub async fn accept(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<AcceptForm>,
) -> ApiResult<Json<FaqEntry>> {
    me.require(Role::Supervisor)?;
    let c = state.store.candidate(id).await?;
    if c.status != "pending" {
        return Err(ApiError::Conflict(format!("the candidate is already {}", c.status)));
    }
    let entry = FaqEntry {
        id: String::new(),
        question: f.question.unwrap_or(c.question),
        similar: f.similar.unwrap_or(c.similar),
        answer: f.answer.unwrap_or(c.answer),
        group: f.group.filter(|g| !g.is_empty()),
        enabled: true,
        channel_answers: Default::default(),
    };
    validate(&entry)?;
    let mut saved = state.engine.save_faqs(vec![entry]).await?;
    state.store.decide_candidate(id, "accepted", state.clock.now()).await?;
    Ok(Json(saved.remove(0)))
}

pub async fn reject(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<()>> {
    me.require(Role::Supervisor)?;
    state.store.decide_candidate(id, "rejected", state.clock.now()).await?;
    Ok(Json(()))
}
