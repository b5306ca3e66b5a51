//! Accounts for admins: creating agents, supervisors and admins with their skill groups and
//! capacity, and reading one account.

use axum::Json;
use axum::extract::{Path, State};
use kefu_domain::{Agent, AgentId, Role, SkillGroupId};
use kefu_store::NewAgent;
use serde::Deserialize;

use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A skill group named by id or by name.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum GroupRef {
    Id(i64),
    Name(String),
}

#[derive(Deserialize)]
pub struct NewAgentForm {
    username: String,
    password: String,
    display_name: String,
    #[serde(default = "agent_role")]
    role: Role,
    #[serde(default)]
    groups: Vec<GroupRef>,
    #[serde(default = "five")]
    capacity: u32,
}

fn agent_role() -> Role {
    Role::Agent
}

fn five() -> u32 {
    5
}

pub const MIN_PASSWORD: usize = 8;

fn check(f: &NewAgentForm) -> ApiResult<()> {
    let name_ok = |s: &str| (1..=32).contains(&s.chars().count());
    if !name_ok(&f.username) || !f.username.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c)) {
        return Err(ApiError::BadRequest("the username must be 1-32 letters, digits or . _ - @".into()));
    }
    if !name_ok(f.display_name.trim()) {
        return Err(ApiError::BadRequest("the display name must be 1-32 characters".into()));
    }
    if f.password.chars().count() < MIN_PASSWORD || f.password.len() > 256 {
        return Err(ApiError::BadRequest(format!("the password must be {MIN_PASSWORD}-256 characters")));
    }
    if f.capacity > 100 {
        return Err(ApiError::BadRequest("capacity must be at most 100".into()));
    }
    Ok(())
}

async fn resolve(state: &AppState, refs: &[GroupRef]) -> ApiResult<Vec<SkillGroupId>> {
    let all = state.store.skill_groups().await?;
    refs.iter()
        .map(|r| {
            let found = match r {
                GroupRef::Id(id) => all.iter().find(|g| g.id.0 == *id),
                GroupRef::Name(n) => all.iter().find(|g| g.name == *n),
            };
            found.map(|g| g.id).ok_or_else(|| ApiError::Unprocessable("no such skill group".into()))
        })
        .collect()
}

/// `POST /api/agents`: an admin creates an account.
pub async fn create(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(f): Json<NewAgentForm>,
) -> ApiResult<Json<Agent>> {
    me.require(Role::Admin)?;
    check(&f)?;
    let skill_groups = resolve(&state, &f.groups).await?;
    let hashed = state.hasher.hash(f.password.clone()).await.map_err(|_| ApiError::TooMany)?;
    let new = NewAgent {
        username: f.username.trim().to_owned(),
        display_name: f.display_name.trim().to_owned(),
        password_hash: hashed.map_err(ApiError::Internal)?,
        role: f.role,
        capacity: f.capacity,
        skill_groups,
    };
    let agent = state.store.create_agent(new, state.clock.now()).await?;
    Ok(Json(agent))
}

/// `GET /api/agents/{id}`.
pub async fn get(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Agent>> {
    me.require(Role::Agent)?;
    Ok(Json(state.store.agent(AgentId(id)).await?))
}
