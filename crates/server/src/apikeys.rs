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
use utoipa::ToSchema;

use crate::auth::{CurrentAgent, same_secret, token_hash as hash};
use crate::body::JsonObject;
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

/// What a key may do; `as_str` is the string the data API checks (one of `SCOPES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum KeyScope {
    #[serde(rename = "conversations:read")]
    ConversationsRead,
    #[serde(rename = "messages:read")]
    MessagesRead,
    #[serde(rename = "customers:read")]
    CustomersRead,
    #[serde(rename = "changes:read")]
    ChangesRead,
    /// Transcript export.
    #[serde(rename = "export")]
    Export,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::ConversationsRead => "conversations:read",
            KeyScope::MessagesRead => "messages:read",
            KeyScope::CustomersRead => "customers:read",
            KeyScope::ChangesRead => "changes:read",
            KeyScope::Export => "export",
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewApiKeyForm {
    /// Who uses the key (e.g. `CRM`): at most 60 characters, not blank.
    #[schema(
        max_length = 60,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    name: String,
    /// At least one.
    #[schema(min_items = 1)]
    scopes: Vec<KeyScope>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    key: ApiKey,
    /// The whole key (`kf_<prefix>_<secret>`), shown this once.
    token: String,
}

/// Creates an API key for the data API; its token is in this answer only.
#[utoipa::path(post, path = "/admin/api-keys", operation_id = "create_api_key", tag = "admin", request_body = NewApiKeyForm,
    responses((status = 200, description = "The key, and the token to give the caller", body = CreatedApiKey)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(f): JsonObject<NewApiKeyForm>,
) -> ApiResult<Json<CreatedApiKey>> {
    me.require(Role::Admin)?;
    let name = f.name.trim();
    // The whole name is counted, as the schema's maxLength counts it; the trimmed one is stored.
    if name.is_empty() || f.name.chars().count() > 60 {
        return Err(ApiError::BadRequest("a key needs a name of at most 60 characters".into()));
    }
    if f.scopes.is_empty() {
        return Err(ApiError::BadRequest(format!("give at least one scope of {}", SCOPES.join(", "))));
    }
    let scopes: Vec<String> = f.scopes.iter().map(|s| s.as_str().to_owned()).collect();
    let (prefix, secret) = (format!("kf_{}", random_hex(6)), random_hex(24));
    let new =
        NewApiKey { name, prefix: &prefix, secret_hash: &hash(&secret), scopes: &scopes, by: me.agent.id };
    let key = state.store.create_api_key(new, state.clock.now()).await?;
    Ok(Json(CreatedApiKey { key, token: format!("{prefix}_{secret}") }))
}

/// Every API key, revoked ones included (never their secrets).
#[utoipa::path(get, path = "/admin/api-keys", operation_id = "list_api_keys", tag = "admin",
    responses((status = 200, body = [ApiKey])))]
pub async fn list(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<Vec<ApiKey>>> {
    me.require(Role::Admin)?;
    Ok(Json(state.store.api_keys().await?))
}

/// Revokes an API key: its next request is refused. Revoking it again changes nothing.
#[utoipa::path(post, path = "/admin/api-keys/{id}/revoke", operation_id = "revoke_api_key", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, description = "Revoked (the body is `null`)", body = ())))]
pub async fn revoke(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<()>> {
    me.require(Role::Admin)?;
    state.store.revoke_api_key(id, state.clock.now()).await?;
    Ok(Json(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_enum_accepts_exactly_the_scopes() {
        assert_eq!(SCOPES.len(), 5, "a new scope needs a KeyScope variant");
        for s in SCOPES {
            let scope: KeyScope = serde_json::from_value(serde_json::json!(s)).unwrap();
            assert_eq!(scope.as_str(), *s);
        }
        assert!(serde_json::from_value::<KeyScope>(serde_json::json!("everything")).is_err());
    }
}
