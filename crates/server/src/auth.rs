//! Agent login: argon2 passwords, HttpOnly SameSite session cookies, and per-session CSRF tokens.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kefu_domain::{Agent, AgentStatus, Role, Timestamp};
use kefu_store::{Session, StoreError};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult};
use crate::guard::ClientAddr;
use crate::openapi::ErrorBody;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "kefu_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?
        .to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub use kefu_engine::same_secret;

/// Longest username and password accepted, in characters (as the OpenAPI `maxLength` counts):
/// anything longer is refused before it costs a database row or a hash.
const MAX_USERNAME: usize = 64;
const MAX_PASSWORD: usize = 256;

/// The throttle's keys: hashed, so a key's size never depends on what a client sent.
fn throttle_keys(username: &str, ip: std::net::IpAddr) -> [String; 2] {
    [format!("user:{}", token_hash(&username.to_lowercase())), format!("ip:{ip}")]
}

/// Whether further attempts are refused for this username or this address (shared by every
/// node through the database). An address gets ten times a username's allowance.
async fn throttled(state: &AppState, keys: &[String; 2], now: Timestamp) -> ApiResult<bool> {
    let l = &state.config.limits;
    let since = now.minus(Duration::from_secs(l.login_window_minutes * 60));
    let user = state.store.login_failures(&keys[0], since).await?;
    let ip = state.store.login_failures(&keys[1], since).await?;
    Ok(user >= l.login_failures || ip >= l.login_failures.saturating_mul(10))
}

async fn record_login(state: &AppState, keys: &[String; 2], now: Timestamp, ok: bool) -> ApiResult<()> {
    if ok {
        return Ok(state.store.login_succeeded(&keys[0]).await?);
    }
    let since = now.minus(Duration::from_secs(state.config.limits.login_window_minutes * 60));
    for k in keys {
        state.store.login_failed(k, since, now).await?;
    }
    Ok(())
}

/// The logged-in agent of a request. For state-changing methods it also demands the session's
/// CSRF token in the `X-CSRF-Token` header, which a cross-site form or script cannot know.
pub struct CurrentAgent {
    pub agent: Agent,
    pub session: Session,
}

impl CurrentAgent {
    pub fn require(&self, role: Role) -> ApiResult<()> {
        if self.agent.role.at_least(role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("requires the {} role", role.as_str())))
        }
    }
}

impl FromRequestParts<AppState> for CurrentAgent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar.get(SESSION_COOKIE).ok_or(ApiError::Unauthorized)?.value().to_owned();
        let session = match state.store.session(&token_hash(&token), state.clock.now()).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => return Err(ApiError::Unauthorized),
            Err(e) => return Err(e.into()),
        };
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !same_secret(sent, &session.csrf_token) {
                return Err(ApiError::Forbidden("missing or wrong CSRF token".into()));
            }
        }
        // Inside the nested /api router the path has lost its prefix; the original has it.
        let path =
            parts.extensions.get::<axum::extract::OriginalUri>().map_or(parts.uri.path(), |u| u.0.path());
        if session.must_change_password && !allowed_with_expired_password(path) {
            return Err(ApiError::Forbidden(
                "the password has expired: set a new one under 我的账号 first".into(),
            ));
        }
        let agent = state.store.agent(session.agent_id).await?;
        Ok(CurrentAgent { agent, session })
    }
}

/// What a session opened with an expired password may still do: see who it is, set a new
/// password, log out.
fn allowed_with_expired_password(path: &str) -> bool {
    matches!(path, "/api/me" | "/api/me/password" | "/api/auth/logout")
}

/// Whether the account's password is older than `password_max_age_days`.
async fn password_expired(state: &AppState, agent: &Agent, now: Timestamp) -> ApiResult<bool> {
    let days = state.config.limits.password_max_age_days;
    if days == 0 {
        return Ok(false);
    }
    let changed = state.store.password_changed_at(agent.id).await?;
    Ok(now.since(changed) > Duration::from_secs(u64::from(days) * 86_400))
}

/// A username and password, as an admin set them.
#[derive(Deserialize, ToSchema)]
pub struct LoginForm {
    #[schema(max_length = 64)]
    username: String,
    #[schema(max_length = 256)]
    password: String,
}

/// Who is signed in, and the token to send as `X-CSRF-Token` on every request that changes
/// something.
#[derive(Serialize, ToSchema)]
pub struct Me {
    agent: Agent,
    csrf_token: String,
    /// The password must be changed before anything else (see `password_max_age_days`).
    password_expired: bool,
}

fn session_cookie(state: &AppState, value: String, max_age: Duration) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .path("/")
        .max_age(time_duration(max_age))
        .build()
}

fn time_duration(d: Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

async fn dummy_hash(state: &AppState) -> ApiResult<String> {
    let make = || async {
        let hashed = state.hasher.hash(random_token()).await.map_err(|_| ApiError::TooMany)?;
        hashed.map_err(ApiError::Internal)
    };
    Ok(state.dummy_hash.get_or_try_init(make).await?.clone())
}

/// A new session (and its cookie token) for `agent`, logging in from `ip`.
async fn new_session(
    state: &AppState,
    agent: &Agent,
    ip: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    now: Timestamp,
    ttl: Duration,
) -> ApiResult<(String, Session)> {
    let token = random_token();
    let session = Session {
        token_hash: token_hash(&token),
        agent_id: agent.id,
        csrf_token: random_token(),
        created_at: now,
        expires_at: now.plus(ttl),
        client_ip: Some(ip.to_string()),
        // Shown to the account's owner only; capped so a huge header costs nothing.
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect()),
        must_change_password: password_expired(state, agent, now).await?,
    };
    Ok((token, session))
}

/// Signs in with a username and password: sets the session cookie and answers who signed in,
/// with the session's CSRF token.
#[utoipa::path(post, path = "/auth/login", operation_id = "login", tag = "auth", request_body = LoginForm,
    responses(
        (status = 200, description = "Signed in (and set online, unless `password_expired`: then the session may \
            only use `/api/me`, set a new password with `PUT /api/me/password` and sign out)", body = Me,
            headers(("set-cookie" = String, description = "The session: `kefu_session=…; HttpOnly; SameSite=Strict; Path=/`"))),
        (status = 401, description = "Unknown username or wrong password (which of the two is not said); the \
            failure counts towards the lockout", body = ErrorBody),
        (status = 403, description = "The account is disabled, or the request came from another site", body = ErrorBody),
        (status = 429, description = "Locked out: too many failed attempts for this username or from this address \
            within `login_window_minutes`; or every password hasher is busy. Try again later", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: axum::http::HeaderMap,
    jar: CookieJar,
    JsonObject(form): JsonObject<LoginForm>,
) -> ApiResult<(CookieJar, Json<Me>)> {
    if form.username.chars().count() > MAX_USERNAME || form.password.chars().count() > MAX_PASSWORD {
        return Err(ApiError::BadRequest("username or password too long".into()));
    }
    let now = state.clock.now();
    let keys = throttle_keys(&form.username, ip);
    if throttled(&state, &keys, now).await? {
        return Err(ApiError::TooMany);
    }
    let found = match state.store.agent_credentials(&form.username).await {
        Ok(found) => Some(found),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    // Verify against a dummy hash for unknown users too, so timing does not reveal usernames.
    let hash = match &found {
        Some((_, h)) => h.clone(),
        None => dummy_hash(&state).await?,
    };
    let verified = state.hasher.verify(form.password.clone(), hash).await.map_err(|_| ApiError::TooMany)?;
    let ok = verified && found.is_some();
    record_login(&state, &keys, now, ok).await?;
    let Some((agent, _)) = found.filter(|_| ok) else {
        return Err(ApiError::Unauthorized);
    };
    if agent.disabled {
        return Err(ApiError::Forbidden("this account is disabled".into()));
    }
    let ttl = Duration::from_secs(state.config.session_ttl_minutes * 60);
    let (token, session) = new_session(&state, &agent, ip, &headers, now, ttl).await?;
    state.store.create_session(&session).await?;
    state.engine.seen(agent.id).await?;
    // With an expired password the agent only sets a new one: no customers meanwhile.
    let agent = if session.must_change_password {
        agent
    } else {
        state.engine.set_agent_status(agent.id, AgentStatus::Online).await?
    };
    let jar = jar.add(session_cookie(&state, token, ttl));
    let password_expired = session.must_change_password;
    Ok((jar, Json(Me { agent, csrf_token: session.csrf_token, password_expired })))
}

/// Signs out: ends this session (its open workbench closes) and sets the agent offline.
#[utoipa::path(post, path = "/auth/logout", operation_id = "logout", tag = "auth",
    responses((status = 200, description = "Signed out; the body is empty and the cookie is cleared",
        headers(("set-cookie" = String, description = "`kefu_session=; Max-Age=0`, removing the cookie")))))]
pub async fn logout(State(state): State<AppState>, me: CurrentAgent, jar: CookieJar) -> ApiResult<CookieJar> {
    state.engine.end_session(me.agent.id, &me.session.token_hash).await?;
    state.engine.set_agent_status(me.agent.id, AgentStatus::Offline).await?;
    Ok(jar.add(session_cookie(&state, String::new(), Duration::ZERO)))
}

/// Who is signed in, with the session's CSRF token (also for a session whose password expired).
#[utoipa::path(get, path = "/me", operation_id = "get_me", tag = "auth", responses((status = 200, body = Me)))]
pub async fn me(me: CurrentAgent) -> Json<Me> {
    let password_expired = me.session.must_change_password;
    Json(Me { agent: me.agent, csrf_token: me.session.csrf_token, password_expired })
}

/// One's availability from now on.
#[derive(Deserialize, ToSchema)]
pub struct StatusForm {
    status: AgentStatus,
}

/// Sets one's own availability: `online` takes customers, `away` and `offline` do not (going
/// offline hands one's conversations back to routing).
#[utoipa::path(put, path = "/me/status", operation_id = "set_my_status", tag = "auth", request_body = StatusForm,
    responses((status = 200, description = "The account with its new status", body = Agent)))]
pub async fn set_status(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(form): JsonObject<StatusForm>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(state.engine.set_agent_status(me.agent.id, form.status).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("正确的密码").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("正确的密码", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("正确的密码", "not a hash"));
    }

    #[test]
    fn throttle_keys_have_a_fixed_size_whatever_the_username() {
        let ip = "10.0.0.1".parse().unwrap();
        let long = "x".repeat(1_000_000);
        let [user, _] = throttle_keys(&long, ip);
        assert_eq!(user.len(), "user:".len() + 64);
        assert_eq!(throttle_keys("Admin", ip)[0], throttle_keys("admin", ip)[0], "usernames are case-blind");
    }
}
