//! The one error type every handler returns; it shows clients a stable code, never internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kefu_engine::EngineError;
use kefu_store::{StoreError, Violation};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("not logged in")]
    Unauthorized,
    /// A data API caller without valid credentials: 401 with an RFC 6750 challenge.
    /// `error` is `invalid_request` (a malformed header) or `invalid_token`; none when no
    /// credentials came at all.
    #[error("{message}")]
    Challenge { error: Option<&'static str>, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// Well-formed, but refers to something that does not exist or is not allowed.
    #[error("{0}")]
    Unprocessable(String),
    /// A platform rule forbids the action now; the message says which and what to do.
    #[error("{0}")]
    Refused(String),
    #[error("too many requests")]
    TooMany,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized | ApiError::Challenge { .. } => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            ApiError::Refused(_) => (StatusCode::CONFLICT, "refused"),
            ApiError::TooMany => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        if let ApiError::Internal(e) = &self {
            // The details go to the log only; the client gets an opaque message.
            tracing::error!(error = ?e, "request failed");
        }
        let mut res = (status, Json(json!({ "error": code, "message": self.to_string() }))).into_response();
        if let ApiError::Challenge { error, .. } = &self {
            let value = match error {
                Some(e) => format!("Bearer realm=\"kefu\", error=\"{e}\""),
                None => "Bearer realm=\"kefu\"".to_owned(),
            };
            if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
                res.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, v);
            }
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(what) => ApiError::Conflict(format!("already exists: {what}")),
            StoreError::Illegal(i) => ApiError::Conflict(i.to_string()),
            StoreError::Refused(why) => ApiError::Conflict(why),
            other => match other.violation() {
                Some(Violation::Unique) => ApiError::Conflict("that name or key is already taken".into()),
                Some(Violation::ForeignKey) => {
                    ApiError::Unprocessable("the request refers to something that does not exist".into())
                }
                None => ApiError::Internal(other.into()),
            },
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotFound => ApiError::NotFound,
            EngineError::Forbidden(why) => ApiError::Forbidden(why.into()),
            EngineError::Illegal(i) => ApiError::Conflict(i.to_string()),
            EngineError::Invalid(why) => ApiError::Conflict(why),
            EngineError::Refused(why) => ApiError::Refused(why),
            EngineError::Unknown(what) => ApiError::Unprocessable(format!("no such {what}")),
            EngineError::Store(s) => s.into(),
            EngineError::Bus(b) => ApiError::Internal(b.into()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The page size, within `1..=max` (`default` when absent): out of range is a 400, never
/// silently clamped, so a caller learns the bound instead of missing rows.
pub fn page_limit(limit: Option<u32>, default: u32, max: u32) -> ApiResult<u32> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::BadRequest(format!("limit must be between 1 and {max}, not {n}"))),
    }
}
