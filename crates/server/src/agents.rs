//! Accounts: admins create, edit, disable and re-enable accounts, set passwords and end
//! sessions; supervisors set capacity and skill groups (routing); everyone edits their own
//! display name and password. The rules (one admin always left, sessions ended on disabling)
//! are the store's, in one transaction.

use axum::Json;
use axum::extract::{Path, State};
use kefu_domain::{Agent, AgentId, Role, SkillGroupId};
use kefu_store::{AccountChange, NewAgent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentAgent;
use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// A skill group by its id, or by its exact name.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum GroupRef {
    Id(i64),
    Name(String),
}

/// A new account. White space around the display name is trimmed; the username may have none.
#[derive(Deserialize, ToSchema)]
pub struct NewAgentForm {
    /// 1–32 letters, digits or `.` `_` `-` `@`; not taken (409).
    #[schema(min_length = 1, max_length = 32, pattern = r"^[\p{L}\p{N}._@-]{1,32}$")]
    username: String,
    /// 8–256 characters; one of the most common passwords, the username or a simple run such as
    /// `abcdefgh` is refused with a 422.
    #[schema(min_length = 8, max_length = 256)]
    password: String,
    /// What customers see: 1–32 characters once trimmed.
    #[schema(
        pattern = r"^[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[\s\S]{0,30}[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    display_name: String,
    /// Default `agent`.
    #[serde(default = "agent_role")]
    role: Role,
    /// The skill groups whose queues the agent serves (default none); each must exist (422).
    #[serde(default)]
    groups: Vec<GroupRef>,
    /// Most conversations held at once, default 5.
    #[serde(default = "five")]
    #[schema(maximum = 100)]
    capacity: u32,
}

fn agent_role() -> Role {
    Role::Agent
}

fn five() -> u32 {
    5
}

pub const MIN_PASSWORD: usize = 8;
/// Longest password, in characters (as the OpenAPI `maxLength` counts).
pub const MAX_PASSWORD: usize = 256;

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

/// The password rules of [`crate::passwords::problem`]. The length the schema states is a 400;
/// the rest (a common password, the username, a run) is a 422, being what no schema can say.
pub fn check_password(password: &str, username: Option<&str>) -> ApiResult<()> {
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&password.chars().count()) {
        let why = format!("the password must be {MIN_PASSWORD}-{MAX_PASSWORD} characters");
        return Err(ApiError::BadRequest(why));
    }
    match crate::passwords::problem(password, username) {
        Some(why) => Err(ApiError::Unprocessable(why)),
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

/// Creates an account (admins).
#[utoipa::path(post, path = "/agents", operation_id = "create_agent", tag = "accounts", request_body = NewAgentForm,
    responses((status = 200, description = "The new account", body = Agent),
        (status = 409, description = "The username is taken", body = ErrorBody),
        (status = 422, description = "A skill group that does not exist, a password the policy refuses (common, the \
            username, a simple run), or a field of the wrong type", body = ErrorBody),
        (status = 429, description = "Every password hasher is busy; try again", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(f): JsonObject<NewAgentForm>,
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

/// One account.
#[utoipa::path(get, path = "/agents/{id}", operation_id = "get_agent", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = Agent)))]
pub async fn get(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Agent>> {
    me.require(Role::Agent)?;
    Ok(Json(state.store.agent(AgentId(id)).await?))
}

/// Changes to an account; every field is optional and an absent (or null) one stays as it is.
/// Supervisors may set `capacity` and `groups`; the rest is for admins.
#[derive(Deserialize, ToSchema)]
pub struct AccountForm {
    /// 1–32 characters once trimmed.
    #[schema(
        pattern = r"^[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[\s\S]{0,30}[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    display_name: Option<String>,
    role: Option<Role>,
    /// The skill groups, replacing the old ones (also accepted as `skill_groups`); each must exist (422).
    #[serde(alias = "skill_groups")]
    groups: Option<Vec<GroupRef>>,
    #[schema(maximum = 100)]
    capacity: Option<u32>,
    /// Disabling ends the account's sessions and sends its conversations back to routing.
    disabled: Option<bool>,
    /// A new password (ends the account's sessions): as for a new account.
    #[schema(min_length = 8, max_length = 256)]
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

/// Edits an account: supervisors its capacity and skill groups, admins everything.
#[utoipa::path(put, path = "/agents/{id}", operation_id = "update_agent", tag = "accounts", params(("id" = i64, Path)),
    request_body = AccountForm,
    responses((status = 200, description = "The account as it is now", body = Agent),
        (status = 409, description = "The last enabled admin cannot be disabled or given another role", body = ErrorBody),
        (status = 422, description = "A skill group that does not exist, a password the policy refuses, an avatar \
            that is not an image uploaded to kefu, or a field of the wrong type", body = ErrorBody),
        (status = 429, description = "Every password hasher is busy; try again", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<AccountForm>,
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

/// Ends every session of the account at once and sets it offline (admins).
#[utoipa::path(post, path = "/agents/{id}/logout", operation_id = "force_logout_agent", tag = "accounts",
    params(("id" = i64, Path)), responses((status = 204, description = "Signed out everywhere")))]
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

/// One's own profile; an absent (or null) field stays as it is.
#[derive(Deserialize, ToSchema)]
pub struct ProfileForm {
    /// 1–32 characters once trimmed.
    #[schema(
        pattern = r"^[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[\s\S]{0,30}[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    display_name: Option<String>,
    /// As for `PUT /api/agents/{id}`: `/media/<id>` of an uploaded image, `""` to remove.
    avatar: Option<String>,
}

/// Sets one's own display name and avatar (what customers see).
#[utoipa::path(put, path = "/me", operation_id = "update_my_profile", tag = "auth", request_body = ProfileForm,
    responses((status = 200, description = "The account as it is now", body = Agent),
        (status = 422, description = "The avatar is not an image uploaded to kefu, or a field has the wrong type",
            body = ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(f): JsonObject<ProfileForm>,
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

/// The current password and the new one.
#[derive(Deserialize, ToSchema)]
pub struct PasswordForm {
    #[schema(max_length = 256)]
    current_password: String,
    /// 8–256 characters; one of the most common passwords, the username or a simple run is
    /// refused with a 422.
    #[schema(min_length = 8, max_length = 256)]
    new_password: String,
}

/// Sets a new password for oneself, given the current one; one's other sessions end.
#[utoipa::path(put, path = "/me/password", operation_id = "change_my_password", tag = "auth", request_body = PasswordForm,
    responses((status = 204, description = "Changed; this session stays (and may do everything again if the old \
            password had expired)"),
        (status = 403, description = "The current password is wrong (or the CSRF token is missing or wrong)", body = ErrorBody),
        (status = 422, description = "The policy refuses the new password (common, the username, a simple run), or a \
            field has the wrong type", body = ErrorBody),
        (status = 429, description = "Every password hasher is busy; try again", body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(f): JsonObject<PasswordForm>,
) -> ApiResult<axum::http::StatusCode> {
    check_password(&f.new_password, Some(&me.agent.username))?;
    if f.current_password.chars().count() > MAX_PASSWORD {
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
#[derive(Serialize, ToSchema)]
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

/// Where one is signed in: one's sessions that have not expired, newest first.
#[utoipa::path(get, path = "/me/sessions", operation_id = "list_my_sessions", tag = "auth",
    responses((status = 200, description = "`current` marks this one", body = [SessionView])))]
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

/// Ends one of one's own sessions (the current one too); its open workbench closes.
#[utoipa::path(delete, path = "/me/sessions/{id}", operation_id = "end_my_session", tag = "auth",
    params(("id" = String, Path, description = "A session's `id` from `GET /api/me/sessions`")),
    responses((status = 204, description = "Ended")))]
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
