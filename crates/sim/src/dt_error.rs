//! Every error the simulated DingTalk API answers with, in one place.
//!
//! DingTalk has two API generations with different error shapes:
//!
//! * the OpenAPI (`/v1.0/…`, token in `x-acs-dingtalk-access-token`) answers an HTTP 4xx with
//!   `{"code","message","requestid"}`:
//!   - 400 `invalidClientIdOrSecret`: `oauth2/accessToken` with an unknown appKey or a wrong
//!     appSecret;
//!   - 401 `InvalidAuthentication` ("不合法的access_token"): token missing, unknown, replaced by
//!     a newer fetch, or expired;
//!   - 400 `param.error`: anything wrong in the body (missing field, `msgParam` not a JSON
//!     *string* of an object, unknown `msgKey`, > 20 userIds, robotCode not the token's app,
//!     unknown group or downloadCode, unknown `@mediaId`);
//!   - 429 `Throttling`: the `http_429` fault;
//!   - 400 with the code's decimal string: an injected `errcodes` fault on a send.
//! * the legacy oapi (`/topapi/…`, `/media/upload`, `/gettoken`, the sessionWebhook) answers
//!   HTTP 200 with `{"errcode","errmsg"}`:
//!   - 40014 "不合法的access_token" (unknown or expired token; DingTalk does not tell them apart);
//!   - 40035 "缺少参数 …" (a required field or the JSON body is missing or malformed);
//!   - 40004 "不合法的媒体文件类型", 40006 "不合法的文件大小" (media upload);
//!   - 60121 "找不到该用户" (user/get);
//!   - 40089 "不合法的corpid或corpsecret" (legacy gettoken);
//!   - 300001 "session不存在" / 300002 "session已过期" (sessionWebhook);
//!   - an injected `errcodes` fault is answered as is (sessionWebhook only).
//!
//! The 429 fault also hits the oapi calls, with the OpenAPI shape: DingTalk's gateway throttles
//! both the same way as far as a client can tell (non-200 status, retry later).

use crate::crypto::random_alnum;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub const SESSION_NOT_FOUND: i64 = 300_001;
pub const SESSION_EXPIRED: i64 = 300_002;
pub const BAD_TOKEN: i64 = 40_014;
pub const MISSING_PARAM: i64 = 40_035;
pub const BAD_MEDIA_TYPE: i64 = 40_004;
pub const BAD_MEDIA_SIZE: i64 = 40_006;
pub const USER_NOT_FOUND: i64 = 60_121;
pub const BAD_APP_CREDENTIALS: i64 = 40_089;

/// A refused DingTalk call, in the shape of the API generation it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DtError {
    /// OpenAPI: HTTP status and `{"code","message","requestid"}`.
    Open { status: StatusCode, code: String, message: String },
    /// Legacy oapi: HTTP 200 and `{"errcode","errmsg"}`.
    Oapi { errcode: i64, errmsg: String },
}

impl DtError {
    pub fn param(message: impl Into<String>) -> Self {
        DtError::open(StatusCode::BAD_REQUEST, "param.error", message)
    }

    pub fn unauthenticated() -> Self {
        DtError::open(StatusCode::UNAUTHORIZED, "InvalidAuthentication", "不合法的access_token")
    }

    pub fn throttled() -> Self {
        DtError::open(StatusCode::TOO_MANY_REQUESTS, "Throttling", "请求被流控，请稍后重试")
    }

    /// An injected `errcodes` fault on an OpenAPI send.
    pub fn injected(code: i64) -> Self {
        DtError::open(StatusCode::BAD_REQUEST, &code.to_string(), "error injected by the simulator")
    }

    pub fn open(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        DtError::Open { status, code: code.to_owned(), message: message.into() }
    }

    pub fn oapi(errcode: i64) -> Self {
        DtError::Oapi { errcode, errmsg: errmsg(errcode).to_owned() }
    }

    /// 40035 naming what is missing, the way DingTalk words it.
    pub fn missing(what: &str) -> Self {
        DtError::Oapi { errcode: MISSING_PARAM, errmsg: format!("缺少参数 {what}") }
    }

    /// The numeric code for the stats' rejection counter (OpenAPI errors count by status).
    pub fn stat_key(&self) -> String {
        match self {
            DtError::Open { code, .. } => code.clone(),
            DtError::Oapi { errcode, .. } => errcode.to_string(),
        }
    }
}

pub fn errmsg(code: i64) -> &'static str {
    match code {
        BAD_TOKEN => "不合法的access_token",
        MISSING_PARAM => "缺少参数",
        BAD_MEDIA_TYPE => "不合法的媒体文件类型",
        BAD_MEDIA_SIZE => "不合法的文件大小",
        USER_NOT_FOUND => "找不到该用户",
        BAD_APP_CREDENTIALS => "不合法的corpid或corpsecret",
        SESSION_NOT_FOUND => "session不存在",
        SESSION_EXPIRED => "session已过期",
        _ => "error injected by the simulator",
    }
}

impl IntoResponse for DtError {
    fn into_response(self) -> Response {
        match self {
            DtError::Open { status, code, message } => {
                let body = json!({ "code": code, "message": message, "requestid": request_id() });
                (status, Json(body)).into_response()
            }
            DtError::Oapi { errcode, errmsg } => {
                Json(json!({ "errcode": errcode, "errmsg": errmsg })).into_response()
            }
        }
    }
}

/// Looks like the ids DingTalk puts in every answer (`5F3E…`-style, upper-case hex-ish).
pub fn request_id() -> String {
    random_alnum(20).to_ascii_uppercase()
}
