//! Durable jobs for admins: what failed and why, and running a failed job again.

use axum::Json;
use axum::extract::{Path, Query, State};
use kefu_domain::Role;
use kefu_store::JobRow;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentAgent;
use crate::error::{ApiResult, page_limit};
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// Which jobs to list.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStateFilter {
    Failed,
    Pending,
    Done,
}

impl JobStateFilter {
    fn as_str(self) -> &'static str {
        match self {
            JobStateFilter::Failed => "failed",
            JobStateFilter::Pending => "pending",
            JobStateFilter::Done => "done",
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// `failed` (default), `pending` or `done`.
    #[param(inline)]
    state: Option<JobStateFilter>,
    /// Default 100.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// The latest jobs in one state, newest first, with their last error.
#[utoipa::path(get, path = "/admin/jobs", operation_id = "list_jobs", tag = "admin", params(JobsQuery),
    responses((status = 200, body = [JobRow])))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<JobsQuery>,
) -> ApiResult<Json<Vec<JobRow>>> {
    me.require(Role::Admin)?;
    let which = q.state.unwrap_or(JobStateFilter::Failed);
    Ok(Json(state.store.jobs(which.as_str(), page_limit(q.limit, 100, 500)?).await?))
}

/// Runs a failed job again, now, with its attempts counted from zero.
#[utoipa::path(post, path = "/admin/jobs/{id}/retry", operation_id = "retry_job", tag = "admin",
    params(("id" = i64, Path)),
    responses((status = 200, description = "Queued (the body is `null`)", body = ()),
        (status = 409, description = "No failed job has this id (it is pending, done, or unknown)", body = ErrorBody)))]
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
