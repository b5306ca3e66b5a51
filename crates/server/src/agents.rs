//! Accounts: admins create, edit, disable and re-enable accounts, set passwords and end
//! sessions; supervisors set capacity and skill groups (routing); everyone edits their own
//! display name and password. The rules (one admin always left, sessions ended on disabling)
//! are the store's, in one transaction.

use axum::Json;
use axum::extract::{Path, State};
use kefu_domain::{Agent, AgentId, Role, SkillGroupId};
use kefu_store::{AccountChange, NewAgent};
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

fn name_ok(s: &str) -> bool {
    (1..=32).contains(&s.chars().count())
}

fn check_display_name(name: &str) -> ApiResult<()> {
    if name_ok(name.trim()) {
        Ok(())
    } else {
        Err(ApiError::BadRequest("the display name must be 1-32 characters".into()))
    }
}

/// The password rules of [`crate::passwords::problem`], as a 400.
pub fn check_password(password: &str, username: Option<&str>) -> ApiResult<()> {
    match crate::passwords::problem(password, username) {
        Some(why) => Err(ApiError::BadRequest(why)),
        None => Ok(()),
    }
}

fn check_capacity(capacity: u32) -> ApiResult<()> {
    if capacity > 100 { Err(ApiError::BadRequest("capacity must be at most 100".into())) } else { Ok(()) }
}

fn check(f: &NewAgentForm) -> ApiResult<()> {
    check_account(&f.username, &f.display_name, Some(&f.password), f.capacity)
}

/// The rules for a new account, shared by the form and the spreadsheet import.
pub(crate) fn check_account(
    username: &str,
    display_name: &str,
    password: Option<&str>,
    capacity: u32,
) -> ApiResult<()> {
    if !name_ok(username) || !username.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c)) {
        return Err(ApiError::BadRequest("the username must be 1-32 letters, digits or . _ - @".into()));
    }
    check_display_name(display_name)?;
    if let Some(p) = password {
        check_password(p, Some(username))?;
    }
    check_capacity(capacity)
}

pub(crate) async fn hash(state: &AppState, password: &str) -> ApiResult<String> {
    let hashed = state.hasher.hash(password.to_owned()).await.map_err(|_| ApiError::TooMany)?;
    hashed.map_err(ApiError::Internal)
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
    let new = NewAgent {
        username: f.username.trim().to_owned(),
        display_name: f.display_name.trim().to_owned(),
        password_hash: hash(&state, &f.password).await?,
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

/// `PUT /api/agents/{id}`: every field optional. Supervisors may set capacity and skill groups;
/// the rest is for admins.
#[derive(Deserialize)]
pub struct AccountForm {
    display_name: Option<String>,
    role: Option<Role>,
    #[serde(alias = "skill_groups")]
    groups: Option<Vec<GroupRef>>,
    capacity: Option<u32>,
    disabled: Option<bool>,
    password: Option<String>,
    /// An uploaded image's URL (`/media/<id>`, from `POST /api/media`); `""` removes it.
    avatar: Option<String>,
}

impl AccountForm {
    fn admin_only(&self) -> bool {
        self.display_name.is_some()
            || self.role.is_some()
            || self.disabled.is_some()
            || self.password.is_some()
            || self.avatar.is_some()
    }
}

/// An avatar must be an image kefu stores itself: customers' browsers load nothing else.
async fn avatar_change(state: &AppState, avatar: Option<&str>) -> ApiResult<Option<Option<String>>> {
    let Some(url) = avatar.map(str::trim) else { return Ok(None) };
    if url.is_empty() {
        return Ok(Some(None));
    }
    let refused =
        || ApiError::Unprocessable("the avatar must be an image uploaded with POST /api/media".into());
    let id =
        url.strip_prefix("/media/").filter(|id| !id.is_empty() && !id.contains('/')).ok_or_else(refused)?;
    match state.store.media(id).await {
        Ok((info, _)) if info.mime.starts_with("image/") => Ok(Some(Some(url.to_owned()))),
        Ok(_) | Err(kefu_store::StoreError::NotFound) => Err(refused()),
        Err(e) => Err(e.into()),
    }
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<AccountForm>,
) -> ApiResult<Json<Agent>> {
    me.require(if f.admin_only() { Role::Admin } else { Role::Supervisor })?;
    if let Some(n) = &f.display_name {
        check_display_name(n)?;
    }
    if let Some(p) = &f.password {
        check_password(p, None)?;
    }
    f.capacity.map(check_capacity).transpose()?;
    let skill_groups = match &f.groups {
        Some(refs) => Some(resolve(&state, refs).await?),
        None => None,
    };
    let password_hash = match &f.password {
        Some(p) => Some(hash(&state, p).await?),
        None => None,
    };
    let change = AccountChange {
        display_name: f.display_name.map(|n| n.trim().to_owned()),
        role: f.role,
        capacity: f.capacity,
        skill_groups,
        disabled: f.disabled,
        password_hash,
        avatar: avatar_change(&state, f.avatar.as_deref()).await?,
        keep_session: None,
    };
    let agent = state.engine.change_account(AgentId(id), &change).await?;
    // New capacity or groups may let waiting customers in, on every node.
    state.engine.serve_queues(&agent.skill_groups).await?;
    Ok(Json(agent))
}

/// `POST /api/agents/{id}/logout`: ends every session of the account at once.
pub async fn force_logout(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<axum::http::StatusCode> {
    me.require(Role::Admin)?;
    state.store.agent(AgentId(id)).await?;
    state.engine.end_sessions(AgentId(id)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ProfileForm {
    display_name: Option<String>,
    /// As for `PUT /api/agents/{id}`: `/media/<id>` of an uploaded image, `""` to remove.
    avatar: Option<String>,
}

/// `PUT /api/me`: one's own display name and avatar (what customers see).
pub async fn update_me(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(f): Json<ProfileForm>,
) -> ApiResult<Json<Agent>> {
    if let Some(n) = &f.display_name {
        check_display_name(n)?;
    }
    let change = AccountChange {
        display_name: f.display_name.map(|n| n.trim().to_owned()),
        avatar: avatar_change(&state, f.avatar.as_deref()).await?,
        ..Default::default()
    };
    Ok(Json(state.engine.change_account(me.agent.id, &change).await?))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

/// `PUT /api/me/password`: needs the current password; ends one's other sessions.
pub async fn change_password(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(f): Json<PasswordForm>,
) -> ApiResult<axum::http::StatusCode> {
    check_password(&f.new_password, Some(&me.agent.username))?;
    if f.current_password.len() > 256 {
        return Err(ApiError::BadRequest("the current password is wrong".into()));
    }
    let (_, current) = state.store.agent_credentials(&me.agent.username).await?;
    let ok = state.hasher.verify(f.current_password, current).await.map_err(|_| ApiError::TooMany)?;
    if !ok {
        return Err(ApiError::Forbidden("the current password is wrong".into()));
    }
    let change = AccountChange {
        password_hash: Some(hash(&state, &f.new_password).await?),
        keep_session: Some(me.session.token_hash.clone()),
        ..Default::default()
    };
    // Through the engine: the other devices' open workbenches close too, not only their cookies.
    state.engine.change_account(me.agent.id, &change).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// One of one's own sessions, as its owner sees it. `id` is a prefix of the token's hash:
/// enough to name it, useless for logging in.
#[derive(serde::Serialize)]
pub struct SessionView {
    id: String,
    created_at: kefu_domain::Timestamp,
    expires_at: kefu_domain::Timestamp,
    client_ip: Option<String>,
    user_agent: Option<String>,
    current: bool,
}

fn session_id(token_hash: &str) -> String {
    token_hash.chars().take(16).collect()
}

/// `GET /api/me/sessions`: where one is logged in.
pub async fn my_sessions(
    State(state): State<AppState>,
    me: CurrentAgent,
) -> ApiResult<Json<Vec<SessionView>>> {
    let all = state.store.sessions_of(me.agent.id, state.clock.now()).await?;
    let views = all
        .into_iter()
        .map(|s| SessionView {
            id: session_id(&s.token_hash),
            current: s.token_hash == me.session.token_hash,
            created_at: s.created_at,
            expires_at: s.expires_at,
            client_ip: s.client_ip,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(Json(views))
}

/// `DELETE /api/me/sessions/{id}`: ends one of one's own sessions (the current one too).
pub async fn end_my_session(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    let all = state.store.sessions_of(me.agent.id, state.clock.now()).await?;
    let found = all.into_iter().find(|s| session_id(&s.token_hash) == id).ok_or(ApiError::NotFound)?;
    state.engine.end_session(me.agent.id, &found.token_hash).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
