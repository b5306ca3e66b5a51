//! Skill groups and agents for supervisors: routing settings per group (strategy, sticky
//! window, keywords and patterns, business hours, queue timeout, closing message) and agents'
//! capacity and groups. Changes apply to the next routing decision.

use axum::Json;
use axum::extract::{Path, State};
use kefu_domain::{Agent, GroupRouting, Role, SkillGroup, SkillGroupId};
use kefu_engine::routing::check_rule;
use serde::Deserialize;

use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<Vec<SkillGroup>>> {
    me.require(Role::Agent)?;
    Ok(Json(state.store.skill_groups().await?))
}

#[derive(Deserialize)]
pub struct GroupForm {
    name: String,
    #[serde(default)]
    routing: GroupRouting,
}

fn validate(f: &GroupForm) -> ApiResult<()> {
    if f.name.trim().is_empty() || f.name.chars().count() > 50 {
        return Err(ApiError::BadRequest("the name must be 1-50 characters".into()));
    }
    for k in &f.routing.keywords {
        check_rule(k).map_err(|e| ApiError::BadRequest(format!("rule {k:?}: {e}")))?;
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(f): Json<GroupForm>,
) -> ApiResult<Json<SkillGroup>> {
    me.require(Role::Supervisor)?;
    validate(&f)?;
    let mut g = state.store.create_skill_group(f.name.trim(), state.clock.now()).await?;
    g.routing = f.routing;
    Ok(Json(state.store.update_skill_group(&g).await?))
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<GroupForm>,
) -> ApiResult<Json<SkillGroup>> {
    me.require(Role::Supervisor)?;
    validate(&f)?;
    let g = SkillGroup { id: SkillGroupId(id), name: f.name.trim().to_owned(), routing: f.routing };
    let saved = state.store.update_skill_group(&g).await?;
    // New rules, hours or strategy apply to those already waiting, on every node.
    state.engine.serve_queues(&[saved.id]).await?;
    Ok(Json(saved))
}

pub async fn agents(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<Vec<Agent>>> {
    me.require(Role::Agent)?;
    Ok(Json(state.store.agents().await?))
}
