//! Knowledge-base candidates mined from what agents keep answering: mine them from the history
//! or an uploaded chat log, review, accept (edited) into the knowledge base, or reject.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use kefu_bot::mining::Turn;
use kefu_domain::{FaqEntry, Role};
use kefu_store::FaqCandidate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentAgent;
use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult};
use crate::kb::{check_texts, validate};
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// The mined candidates waiting for review.
#[utoipa::path(get, path = "/kb/candidates", operation_id = "list_kb_candidates", tag = "knowledge",
    responses((status = 200, description = "Pending candidates", body = [FaqCandidate])))]
pub async fn candidates(
    State(state): State<AppState>,
    me: CurrentAgent,
) -> ApiResult<Json<Vec<FaqCandidate>>> {
    me.require(Role::Supervisor)?;
    Ok(Json(state.store.candidates("pending").await?))
}

#[derive(Serialize, ToSchema)]
pub struct KbMineReport {
    /// New candidates, now waiting in `GET /kb/candidates`.
    proposed: usize,
}

/// Proposes FAQ entries from questions agents keep answering: from the stored history, or from
/// an uploaded chat log.
#[utoipa::path(post, path = "/kb/mine", operation_id = "mine_kb_candidates", tag = "knowledge",
    request_body(content = Option<String>, content_type = "application/x-ndjson",
        description = "Optional (up to 20 MiB): a chat log in UTF-8, one JSON object per line, \
            `{\"conversation\": \"…\", \"from\": \"customer\" or \"agent\", \"text\": \"…\"}`. \
            Without a body, recent closed conversations are mined."),
    responses((status = 200, body = KbMineReport),
        (status = 409, description = "Mining failed", body = ErrorBody),
        (status = 422, description = "A line of the chat log is not such an object", body = ErrorBody)))]
pub async fn mine(
    State(state): State<AppState>,
    me: CurrentAgent,
    body: Bytes,
) -> ApiResult<Json<KbMineReport>> {
    me.require(Role::Supervisor)?;
    let turns = if body.is_empty() {
        None
    } else {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::BadRequest("the chat log is not UTF-8".into()))?;
        let parsed: Result<Vec<Turn>, _> =
            text.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str).collect();
        // A text body's schema cannot say what each line holds, so a bad line is a 422.
        Some(parsed.map_err(|e| ApiError::Unprocessable(format!("chat log line: {e}")))?)
    };
    let found = state.engine.mine_faqs(turns).await?;
    Ok(Json(KbMineReport { proposed: found.len() }))
}

/// The reviewer's edits; what is left out is taken from the candidate. A `question` or
/// `answer` given must have a character that is not white space.
#[derive(Deserialize, Default, ToSchema)]
#[serde(default)]
pub struct CandidateAcceptForm {
    #[schema(
        max_length = 500,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    question: Option<String>,
    similar: Option<Vec<String>>,
    #[schema(
        max_length = 5000,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    answer: Option<String>,
    /// The skill group that takes the topic; empty for none.
    group: Option<String>,
}

/// Turns a candidate (as edited by the reviewer) into a knowledge-base entry.
#[utoipa::path(post, path = "/kb/candidates/{id}/accept", operation_id = "accept_kb_candidate", tag = "knowledge",
    params(("id" = i64, Path)), request_body = CandidateAcceptForm,
    responses((status = 200, description = "The new entry", body = FaqEntry),
        (status = 409, description = "Already accepted or rejected, or the mined question or answer is blank or too long \
            and must be given edited", body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<CandidateAcceptForm>,
) -> ApiResult<Json<FaqEntry>> {
    me.require(Role::Supervisor)?;
    check_texts(f.question.as_deref(), f.answer.as_deref())?;
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
    // The form passed; only what was mined can fail here, which the request cannot be blamed for.
    validate(&entry).map_err(|e| ApiError::Conflict(format!("the candidate must be edited first: {e}")))?;
    let mut saved = state.engine.save_faqs(vec![entry]).await?;
    state.store.decide_candidate(id, "accepted", state.clock.now()).await?;
    Ok(Json(saved.remove(0)))
}

/// Rejects a candidate; it no longer shows up for review.
#[utoipa::path(post, path = "/kb/candidates/{id}/reject", operation_id = "reject_kb_candidate", tag = "knowledge",
    params(("id" = i64, Path)), responses((status = 200, description = "Rejected (the body is `null`)", body = ())))]
pub async fn reject(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<()>> {
    me.require(Role::Supervisor)?;
    state.store.decide_candidate(id, "rejected", state.clock.now()).await?;
    Ok(Json(()))
}
