//! The knowledge-base API: entries, import/export, a test box, and FAQ mining candidates.
//! Reading and editing need the supervisor role.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kefu_bot::kbio::{self, Format, RowError};
use kefu_bot::policy::{BotMemory, Decision, decide};
use kefu_domain::{ChannelKind, FaqEntry, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentAgent;
use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Largest import file accepted.
pub const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;
/// Longest entry id, question and answer, in characters (what `KbEntryForm` declares).
const MAX_ID: usize = 64;
const MAX_QUESTION: usize = 500;
const MAX_ANSWER: usize = 5000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KbListQuery {
    /// Only the entries whose question or answer contains this text, or whose id it is.
    q: Option<String>,
}

/// The knowledge base's entries, all of them or those matching a search.
#[utoipa::path(get, path = "/kb/entries", operation_id = "list_kb_entries", tag = "knowledge", params(KbListQuery),
    responses((status = 200, body = [FaqEntry])))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<KbListQuery>,
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

// The `question` and `answer` patterns ("a character that is not white space") list exactly the
// characters `str::trim` removes, so that the schema and `check_texts` agree on every string.

/// An entry as the editor sends it: the JSON of `FaqEntry`. `question` and `answer` must have a
/// character that is not white space.
#[derive(Deserialize, ToSchema)]
pub struct KbEntryForm {
    /// A stable id such as `B001`; empty for kefu to assign one. Saving an id that exists
    /// replaces that entry. (On `PUT` the path's id is used, but this one is still checked.)
    #[schema(max_length = 64)]
    id: String,
    /// The standard question (标准问).
    #[schema(
        max_length = 500,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    question: String,
    /// Other ways customers ask it (相似问).
    #[serde(default)]
    similar: Vec<String>,
    #[schema(
        max_length = 5000,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    answer: String,
    /// The skill group that takes the topic when a human is needed.
    #[serde(default)]
    group: Option<String>,
    /// Whether the bot uses the entry (default true).
    #[serde(default = "yes")]
    enabled: bool,
    /// Answers worded for one channel (e.g. shorter for DingTalk), overriding `answer` there.
    #[serde(default)]
    channel_answers: BTreeMap<ChannelKind, String>,
}

fn yes() -> bool {
    true
}

impl From<KbEntryForm> for FaqEntry {
    fn from(f: KbEntryForm) -> Self {
        FaqEntry {
            id: f.id,
            question: f.question,
            similar: f.similar,
            answer: f.answer,
            group: f.group,
            enabled: f.enabled,
            channel_answers: f.channel_answers,
        }
    }
}

/// The bounds `KbEntryForm` declares, on the entry as it will be saved.
pub(crate) fn validate(e: &FaqEntry) -> ApiResult<()> {
    check_texts(Some(&e.question), Some(&e.answer))?;
    if e.id.chars().count() > MAX_ID {
        return Err(ApiError::BadRequest(format!("the id is longer than {MAX_ID} characters")));
    }
    Ok(())
}

/// The question and the answer, where given: not blank, and not too long.
pub(crate) fn check_texts(question: Option<&str>, answer: Option<&str>) -> ApiResult<()> {
    for (text, max) in [(question, MAX_QUESTION), (answer, MAX_ANSWER)] {
        let Some(text) = text else { continue };
        if text.trim().is_empty() {
            return Err(ApiError::BadRequest("question and answer are required".into()));
        }
        if text.chars().count() > max {
            return Err(ApiError::BadRequest("the question or the answer is too long".into()));
        }
    }
    Ok(())
}

/// Adds an entry (or replaces the one with its id); the bot answers with it at once.
#[utoipa::path(post, path = "/kb/entries", operation_id = "create_kb_entry", tag = "knowledge",
    request_body = KbEntryForm, responses((status = 200, description = "The saved entry, with its id", body = FaqEntry)))]
pub async fn save(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(f): JsonObject<KbEntryForm>,
) -> ApiResult<Json<FaqEntry>> {
    me.require(Role::Supervisor)?;
    let e = FaqEntry::from(f);
    validate(&e)?;
    let mut saved = state.engine.save_faqs(vec![e]).await?;
    Ok(Json(saved.remove(0)))
}

/// Changes an entry.
#[utoipa::path(put, path = "/kb/entries/{id}", operation_id = "update_kb_entry", tag = "knowledge",
    params(("id" = String, Path, max_length = 64, description = "The entry's id")),
    request_body = KbEntryForm, responses((status = 200, description = "The saved entry", body = FaqEntry)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<String>,
    JsonObject(f): JsonObject<KbEntryForm>,
) -> ApiResult<Json<FaqEntry>> {
    me.require(Role::Supervisor)?;
    let mut e = FaqEntry::from(f);
    // The body is checked as sent (its id included, as the schema says), then with the path's id.
    validate(&e)?;
    e.id = id;
    validate(&e)?;
    state.store.faq_entry(&e.id).await?;
    let mut saved = state.engine.save_faqs(vec![e]).await?;
    Ok(Json(saved.remove(0)))
}

/// Deletes an entry; the bot stops using it at once.
#[utoipa::path(delete, path = "/kb/entries/{id}", operation_id = "delete_kb_entry", tag = "knowledge",
    params(("id" = String, Path, description = "The entry's id")),
    responses((status = 200, description = "Deleted (the body is `null`)", body = ())))]
pub async fn delete(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<Json<()>> {
    me.require(Role::Supervisor)?;
    state.engine.delete_faq(&id).await?;
    Ok(Json(()))
}

/// A knowledge-base file's format: `csv` (UTF-8, with or without a BOM) or `xlsx` (the first
/// sheet), each with a header row naming at least `question` and `answer`, or `jsonl` (one
/// `FaqEntry` object per line).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KbFileFormat {
    Csv,
    Xlsx,
    Jsonl,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KbFormatQuery {
    /// `csv`, `xlsx` or `jsonl`.
    #[param(inline)]
    format: KbFileFormat,
}

impl KbFileFormat {
    fn reader(self) -> Format {
        match self {
            KbFileFormat::Csv => Format::Csv,
            KbFileFormat::Xlsx => Format::Xlsx,
            KbFileFormat::Jsonl => Format::Jsonl,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct KbImportReport {
    /// Entries saved (new ones, and existing ids replaced).
    imported: usize,
    /// Every row that was not imported, and why.
    #[schema(value_type = Vec<KbRowError>)]
    errors: Vec<RowError>,
}

/// A refused import: an error, with the rows to fix.
#[derive(Serialize, ToSchema)]
pub struct KbImportRefused {
    /// `unprocessable`.
    error: &'static str,
    message: &'static str,
    /// Always 0.
    imported: usize,
    #[schema(value_type = Vec<KbRowError>)]
    errors: Vec<RowError>,
}

impl KbImportRefused {
    fn response(message: &'static str, errors: Vec<RowError>) -> Response {
        let body = KbImportRefused { error: "unprocessable", message, imported: 0, errors };
        (axum::http::StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    }
}

/// One bad row of an imported file (the JSON of `kefu_bot::kbio::RowError`).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the JSON `RowError` writes
pub struct KbRowError {
    /// 1-based, counting the header row in CSV and XLSX; 0 when the whole file is unreadable.
    row: usize,
    message: String,
}

/// Imports entries from a file: good rows are saved (an existing id is replaced), bad rows are
/// reported with their number and reason.
#[utoipa::path(post, path = "/kb/import", operation_id = "import_kb", tag = "knowledge", params(KbFormatQuery),
    request_body(description = "The file, as the raw body (up to 20 MiB); `format` says how to read it, whatever the Content-Type",
        content((String = "text/csv"), (crate::openapi::FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "application/x-ndjson"))),
    responses((status = 200, description = "What was imported, and every row that was not", body = KbImportReport),
        (status = 422, description = "Nothing could be imported (a file that cannot be read is one error row): \
            every row that has a problem", body = KbImportRefused)))]
pub async fn import(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<KbFormatQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    me.require(Role::Supervisor)?;
    if body.is_empty() {
        // Both an empty file and no file: nothing to import, like a file of bad rows.
        return Ok(KbImportRefused::response("the file is empty", vec![]));
    }
    let parsed = kbio::parse(q.format.reader(), &body);
    let imported = parsed.entries.len();
    if imported > 0 {
        state.engine.save_faqs(parsed.entries).await?;
    }
    let report = KbImportReport { imported, errors: parsed.errors };
    if imported == 0 && !report.errors.is_empty() {
        // Only bad rows: a refusal, so a script notices, with the rows to fix.
        return Ok(KbImportRefused::response(
            "nothing could be imported: every row has a problem",
            report.errors,
        ));
    }
    Ok(Json(report).into_response())
}

/// Downloads the whole knowledge base as a file, to edit and import again.
#[utoipa::path(get, path = "/kb/export", operation_id = "export_kb", tag = "knowledge", params(KbFormatQuery),
    responses((status = 200, description = "The file; CSV (UTF-8) starts with a BOM so that Excel reads it",
        content((String = "text/csv"), (crate::openapi::FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "application/x-ndjson")),
        headers(("Content-Disposition" = String, description = "`attachment; filename=\"kefu-faq.<format>\"`")))))]
pub async fn export(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<KbFormatQuery>,
) -> ApiResult<Response> {
    me.require(Role::Supervisor)?;
    let f = q.format.reader();
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

#[derive(Deserialize, ToSchema)]
pub struct KbTryForm {
    /// A message as a customer would write it.
    text: String,
}

#[derive(Serialize, ToSchema)]
pub struct KbTryResult {
    /// The closest entries (at most 5), best first.
    #[schema(value_type = Vec<BotHit>)]
    hits: Vec<kefu_bot::Hit>,
    decision: BotDecision,
}

/// What the bot would do: answer, suggest questions (猜你想问), say it did not understand,
/// make small talk, or hand the customer to a person.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BotDecision {
    Answer,
    Suggest,
    Fallback,
    SmallTalk,
    Handoff,
}

/// One close entry (the JSON of `kefu_bot::Hit`).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the JSON `Hit` writes
pub struct BotHit {
    entry_id: String,
    question: String,
    group: Option<String>,
    score: f32,
    /// Calibrated probability that this is the right entry.
    confidence: f32,
}

/// What the bot would do with a message, for trying the knowledge base out.
#[utoipa::path(post, path = "/kb/try", operation_id = "try_kb", tag = "knowledge", request_body = KbTryForm,
    responses((status = 200, body = KbTryResult)))]
pub async fn try_it(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(f): JsonObject<KbTryForm>,
) -> ApiResult<Json<KbTryResult>> {
    me.require(Role::Supervisor)?;
    let bot = state.engine.bot();
    let matcher = bot.matcher();
    let policy = kefu_bot::policy::PolicyConfig { threshold: bot.config.threshold, ..Default::default() };
    let (decision, _) = decide(&matcher, &f.text, &BotMemory::default(), &policy);
    let decision = match decision {
        Decision::Answer(_) => BotDecision::Answer,
        Decision::Suggest(_) => BotDecision::Suggest,
        Decision::Fallback => BotDecision::Fallback,
        Decision::SmallTalk(_) => BotDecision::SmallTalk,
        Decision::HandOff { .. } => BotDecision::Handoff,
    };
    Ok(Json(KbTryResult { hits: matcher.search(&f.text, 5), decision }))
}
