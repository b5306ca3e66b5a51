//! What the platform APIs have in common: `{"errcode","errmsg"}` answers with HTTP 200,
//! access-token checks, lenient JSON bodies and the injected send errcodes.

use crate::state::Inner;
use crate::tokens::{Owner, TokenError};
use axum::Json;
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use kefu_domain::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;

pub type Query = HashMap<String, String>;

/// A platform error: HTTP 200 with an errcode, like the real thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: i64,
    pub msg: String,
}

impl ApiError {
    pub fn new(code: i64, msg: impl Into<String>) -> Self {
        ApiError { code, msg: msg.into() }
    }

    /// With the platform's usual wording for well-known codes.
    pub fn code(code: i64) -> Self {
        ApiError::new(code, errmsg(code))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        Json(json!({ "errcode": self.code, "errmsg": self.msg })).into_response()
    }
}

pub type ApiResult = Result<Json<Value>, ApiError>;

/// `{"errcode":0,"errmsg":"ok"}` plus the given fields.
pub fn ok(fields: Value) -> Json<Value> {
    let mut out = json!({ "errcode": 0, "errmsg": "ok" });
    if let (Some(o), Value::Object(extra)) = (out.as_object_mut(), fields) {
        o.extend(extra);
    }
    Json(out)
}

pub fn errmsg(code: i64) -> &'static str {
    match code {
        -1 => "system error",
        40001 => "invalid credential, access_token is invalid or not latest",
        40003 => "invalid openid",
        40007 => "invalid media_id",
        40008 => "invalid message type",
        40013 => "invalid appid",
        40014 => "invalid access_token",
        41001 => "access_token missing",
        42001 => "access_token expired",
        44002 => "empty post data",
        45008 => "article size out of limit",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit",
        45015 => "response out of time limit or subscription is canceled",
        45047 => "out of response count limit",
        47001 => "data format error",
        48001 => "api unauthorized",
        48002 => "api forbidden",
        95018 => "send msg session status invalid",
        _ => "error injected by the simulator",
    }
}

/// Request bodies are parsed by hand so that bad JSON gets 47001 instead of a framework 4xx.
pub fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::code(44002));
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| ApiError::code(47001))?;
    if v.is_object() { Ok(v) } else { Err(ApiError::code(47001)) }
}

pub fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A required string field, 47001 when missing.
pub fn need<'a>(v: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    s(v, key)
        .filter(|x| !x.is_empty())
        .ok_or_else(|| ApiError::new(47001, format!("data format error: {key}")))
}

/// Which API family is asking: the codes for a bad token differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Oa,
    Wecom,
}

/// Resolves `?access_token=` to its owner, refusing tokens of the other family.
pub fn authorize(inner: &Inner, q: &Query, now: Timestamp, family: Family) -> Result<Owner, ApiError> {
    let token = q.get("access_token").filter(|t| !t.is_empty()).ok_or_else(|| ApiError::code(41001))?;
    let unknown = || match family {
        Family::Oa => ApiError::code(40001),
        Family::Wecom => ApiError::code(40014),
    };
    let owner = inner.tokens.check(token, now).map_err(|e| match e {
        TokenError::Unknown => unknown(),
        TokenError::Expired => ApiError::code(42001),
    })?;
    match (family, owner) {
        (Family::Oa, Owner::Oa(_)) | (Family::Wecom, Owner::WecomApp(_) | Owner::Kf(_)) => Ok(owner.clone()),
        _ => Err(unknown()),
    }
}

/// Any valid token of either family (media upload/get serve both).
pub fn authorize_any(inner: &Inner, q: &Query, now: Timestamp) -> Result<Owner, ApiError> {
    authorize(inner, q, now, Family::Oa).or_else(|_| authorize(inner, q, now, Family::Wecom))
}

/// The `errcodes` fault: the next send call answers with the queued code instead.
pub fn injected_send_error(inner: &mut Inner) -> Result<(), ApiError> {
    match inner.faults.errcodes.pop_front() {
        Some(code) => Err(ApiError::code(code)),
        None => Ok(()),
    }
}

/// Counts a refused send call in the stats, whatever refused it.
pub fn counted(inner: &mut Inner, result: ApiResult) -> ApiResult {
    if let Err(e) = &result {
        inner.count_rejection(e.code);
    }
    result
}
