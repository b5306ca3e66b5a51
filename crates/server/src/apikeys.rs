//! Who may read the data API: an API key with the right scope (`Authorization: Bearer
//! kf_<prefix>_<secret>`), or a logged-in supervisor or admin. Agents may not. Keys are
//! created by admins, shown once, stored as a SHA-256 hash, and can be revoked.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use kefu_domain::Role;
use kefu_store::{ApiKey, NewApiKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::auth::{CurrentAgent, same_secret, token_hash as hash};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Everything a key can be allowed to do.
pub const SCOPES: &[&str] =
    &["conversations:read", "messages:read", "customers:read", "changes:read", "export"];

/// A caller of the data API that passed authentication; `allow` checks one scope.
pub enum DataCaller {
    Key(ApiKey),
    Staff(Box<CurrentAgent>),
}

impl DataCaller {
    pub fn allow(&self, scope: &str) -> ApiResult<()> {
        match self {
            DataCaller::Key(k) if k.scopes.iter().any(|s| s == scope) => Ok(()),
            DataCaller::Key(_) => Err(ApiError::Forbidden(format!("this API key lacks the {scope} scope"))),
            DataCaller::Staff(_) => Ok(()),
        }
    }
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn invalid_token() -> ApiError {
    ApiError::Challenge { error: Some("invalid_token"), message: "the API key is invalid or revoked".into() }
}

async fn by_key(state: &AppState, token: &str) -> ApiResult<ApiKey> {
    let mut parts = token.splitn(3, '_');
    let (Some("kf"), Some(prefix), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid_token());
    };
    let Some((key, stored)) = state.store.api_key(&format!("kf_{prefix}")).await? else {
        return Err(invalid_token());
    };
    if key.revoked_at.is_some() || !same_secret(&hash(secret), &stored) {
        return Err(invalid_token());
    }
    state.store.touch_api_key(key.id, state.clock.now()).await?;
    Ok(key)
}

/// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1: the scheme is
/// case-insensitive). Anything else in the header is refused, never ignored: a caller who
/// sent credentials gets an answer about them, not about a session they may also have.
fn bearer(value: &axum::http::HeaderValue) -> ApiResult<&str> {
    let malformed =
        |message: &str| ApiError::Challenge { error: Some("invalid_request"), message: message.into() };
    let v = value.to_str().map_err(|_| malformed("the Authorization header is not ASCII"))?;
    let (scheme, token) = v.trim().split_once(' ').unwrap_or((v.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed("use Authorization: Bearer <API key>"));
    }
    match token.trim() {
        "" => Err(malformed("the Bearer token is missing")),
        t if t.contains(' ') => Err(malformed("the Bearer token has spaces in it")),
        t => Ok(t),
    }
}

impl FromRequestParts<AppState> for DataCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let token = bearer(value)?;
            return Ok(DataCaller::Key(by_key(state, token).await?));
        }
        let me = match CurrentAgent::from_request_parts(parts, state).await {
            Err(ApiError::Unauthorized) => {
                let message = "send Authorization: Bearer <API key>, or sign in as a supervisor".into();
                return Err(ApiError::Challenge { error: None, message });
            }
            other => other?,
        };
        me.require(Role::Supervisor)?;
        Ok(DataCaller::Staff(Box::new(me)))
    }
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    name: String,
    scopes: Vec<String>,
}

#[derive(Serialize)]
pub struct CreatedKey {
    key: ApiKey,
    /// The whole key, shown this once.
    token: String,
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(f): Json<NewKeyForm>,
) -> ApiResult<Json<CreatedKey>> {
    me.require(Role::Admin)?;
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::BadRequest("a key needs a name of at most 60 characters".into()));
    }
    if f.scopes.is_empty() || f.scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
        return Err(ApiError::BadRequest(format!("scopes must be some of {}", SCOPES.join(", "))));
    }
    let (prefix, secret) = (format!("kf_{}", random_hex(6)), random_hex(24));
    let new =
        NewApiKey { name, prefix: &prefix, secret_hash: &hash(&secret), scopes: &f.scopes, by: me.agent.id };
    let key = state.store.create_api_key(new, state.clock.now()).await?;
    Ok(Json(CreatedKey { key, token: format!("{prefix}_{secret}") }))
}

pub async fn list(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<Vec<ApiKey>>> {
    me.require(Role::Admin)?;
    Ok(Json(state.store.api_keys().await?))
}

pub async fn revoke(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<()>> {
    me.require(Role::Admin)?;
    state.store.revoke_api_key(id, state.clock.now()).await?;
    Ok(Json(()))
}
