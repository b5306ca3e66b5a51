//! Agent login: argon2 passwords, HttpOnly SameSite session cookies, and per-session CSRF tokens.

use std::collections::HashMap;
use std::sync::Mutex;
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

use crate::error::{ApiError, ApiResult};
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

/// Compares secrets without leaking where they differ through timing.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Failed logins per username in the current window, to slow down password guessing.
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (Timestamp, u32)>>,
}

const MAX_FAILURES: u32 = 5;
const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

impl LoginThrottle {
    fn blocked(&self, user: &str, now: Timestamp) -> bool {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.get(user).is_some_and(|(since, n)| *n >= MAX_FAILURES && now.since(*since) < THROTTLE_WINDOW)
    }

    fn record(&self, user: &str, now: Timestamp, ok: bool) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if ok {
            map.remove(user);
            return;
        }
        let entry = map.entry(user.to_owned()).or_insert((now, 0));
        if now.since(entry.0) >= THROTTLE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
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
        let agent = state.store.agent(session.agent_id).await?;
        Ok(CurrentAgent { agent, session })
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

#[derive(Serialize)]
pub struct Me {
    agent: Agent,
    csrf_token: String,
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

pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    Json(form): Json<LoginForm>,
) -> ApiResult<(CookieJar, Json<Me>)> {
    let now = state.clock.now();
    if state.login_throttle.blocked(&form.username, now) {
        return Err(ApiError::TooMany);
    }
    let found = match state.store.agent_credentials(&form.username).await {
        Ok(found) => Some(found),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    // Verify against a dummy hash for unknown users too, so timing does not reveal usernames.
    let hash = found.as_ref().map(|(_, h)| h.as_str()).unwrap_or(&state.dummy_hash);
    let ok = verify_password(&form.password, hash) && found.is_some();
    state.login_throttle.record(&form.username, now, ok);
    let Some((agent, _)) = found.filter(|_| ok) else {
        return Err(ApiError::Unauthorized);
    };
    let token = random_token();
    let ttl = Duration::from_secs(state.config.session_ttl_minutes * 60);
    let session = Session {
        token_hash: token_hash(&token),
        agent_id: agent.id,
        csrf_token: random_token(),
        created_at: now,
        expires_at: now.plus(ttl),
    };
    state.store.create_session(&session).await?;
    state.engine.seen(agent.id).await?;
    let agent = state.engine.set_agent_status(agent.id, AgentStatus::Online).await?;
    let jar = jar.add(session_cookie(&state, token, ttl));
    Ok((jar, Json(Me { agent, csrf_token: session.csrf_token })))
}

pub async fn logout(State(state): State<AppState>, me: CurrentAgent, jar: CookieJar) -> ApiResult<CookieJar> {
    state.store.delete_session(&me.session.token_hash).await?;
    state.engine.set_agent_status(me.agent.id, AgentStatus::Offline).await?;
    Ok(jar.add(session_cookie(&state, String::new(), Duration::ZERO)))
}

pub async fn me(me: CurrentAgent) -> Json<Me> {
    Json(Me { agent: me.agent, csrf_token: me.session.csrf_token })
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: AgentStatus,
}

pub async fn set_status(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(form): Json<StatusForm>,
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
    fn the_throttle_blocks_after_repeated_failures_until_the_window_passes() {
        let t = LoginThrottle::default();
        let now = Timestamp(0);
        for _ in 0..MAX_FAILURES {
            assert!(!t.blocked("a", now));
            t.record("a", now, false);
        }
        assert!(t.blocked("a", now));
        assert!(!t.blocked("b", now));
        assert!(!t.blocked("a", now.plus(THROTTLE_WINDOW)));
    }
}
