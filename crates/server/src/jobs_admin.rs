//! Durable jobs for admins: what failed and why, and running a failed job again.

use axum::Json;
use axum::extract::{Path, Query, State};
use kefu_domain::Role;
use kefu_store::JobRow;
use serde::Deserialize;

use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct JobsQuery {
    /// `failed` (default), `pending` or `done`.
    state: Option<String>,
    limit: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<JobsQuery>,
) -> ApiResult<Json<Vec<JobRow>>> {
    me.require(Role::Admin)?;
    let which = q.state.as_deref().unwrap_or("failed");
    if !matches!(which, "failed" | "pending" | "done") {
        return Err(ApiError::BadRequest("state must be failed, pending or done".into()));
    }
    Ok(Json(state.store.jobs(which, q.limit.unwrap_or(100)).await?))
}

pub async fn retry(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<()>> {
    me.require(Role::Admin)?;
    state.store.retry_job(id, state.clock.now()).await?;
    state.engine.jobs_wake().notify_one();
    Ok(Json(()))
}
