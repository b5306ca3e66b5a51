//! The DingTalk platform API kefu calls besides sending (api.dingtalk.com and
//! oapi.dingtalk.com on one base URL): access tokens, media upload, downloading what users
//! sent, user details, and the throttling fault. Error shapes: see `dt_error.rs`.

use crate::api::Query;
use crate::crypto::random_alnum;
use crate::dt_error::{
    BAD_APP_CREDENTIALS, BAD_MEDIA_SIZE, BAD_MEDIA_TYPE, BAD_TOKEN, DtError, USER_NOT_FOUND,
};
use crate::faults::bump;
use crate::media::{file_response, read_media_field};
use crate::state::{Inner, Sim};
use crate::tokens::{LIFETIME, Owner};
use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query as Q, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kefu_domain::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

pub type DtResult = Result<Json<Value>, DtError>;

/// The OpenAPI's token header.
pub const TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";

/// Counts a refused call in the stats, whatever refused it.
pub fn counted(inner: &mut Inner, result: DtResult) -> DtResult {
    if let Err(e) = &result {
        bump(&mut inner.stats.rejections, &e.stat_key());
    }
    result
}

fn app_of_token(inner: &Inner, token: &str, now: Timestamp) -> Option<String> {
    match inner.tokens.check(token, now) {
        Ok(Owner::Dingtalk(app_key)) => Some(app_key.clone()),
        _ => None,
    }
}

/// The app whose token is in `x-acs-dingtalk-access-token`.
pub fn open_token(inner: &Inner, headers: &HeaderMap, now: Timestamp) -> Result<String, DtError> {
    let token = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    app_of_token(inner, token, now).ok_or_else(DtError::unauthenticated)
}

/// The app whose token is in `?access_token=` (internal-app tokens work on both hosts).
pub fn oapi_token(inner: &Inner, q: &Query, now: Timestamp) -> Result<String, DtError> {
    let token = q.get("access_token").map(String::as_str).unwrap_or_default();
    app_of_token(inner, token, now).ok_or_else(|| DtError::oapi(BAD_TOKEN))
}

pub fn open_body(body: &Bytes) -> Result<Value, DtError> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| DtError::param("请求体不是合法的 JSON 对象"))
}

/// The body's robotCode must be the token's app.
pub fn robot_code(v: &Value, app_key: &str) -> Result<(), DtError> {
    match v.get("robotCode").and_then(Value::as_str) {
        Some(code) if code == app_key => Ok(()),
        Some(code) => Err(DtError::param(format!("robotCode {code:?} 与 access token 所属应用不符"))),
        None => Err(DtError::param("robotCode 不能为空")),
    }
}

/// The `http_429` fault, in front of every DingTalk API route.
pub async fn throttle(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let throttled = {
        let mut inner = sim.lock();
        let hit = inner.faults.http_429 > 0;
        if hit {
            inner.faults.http_429 -= 1;
            bump(&mut inner.stats.rejections, "Throttling");
        }
        hit
    };
    if throttled { DtError::throttled().into_response() } else { next.run(req).await }
}

fn credentials_ok(sim: &Sim, app_key: &str, secret: &str) -> bool {
    sim.config.dingtalk(app_key).is_some_and(|a| a.app_secret == secret)
}

fn issue(sim: &Sim, app_key: &str) -> String {
    let now = sim.now();
    let mut inner = sim.lock();
    bump(&mut inner.stats.dt_token_fetches, app_key);
    inner.tokens.fetch_dingtalk(app_key, now)
}

/// `POST /v1.0/oauth2/accessToken` `{"appKey","appSecret"}`.
pub async fn access_token(State(sim): State<Arc<Sim>>, body: Bytes) -> DtResult {
    let v = open_body(&body)?;
    let key = v.get("appKey").and_then(Value::as_str).unwrap_or_default();
    let secret = v.get("appSecret").and_then(Value::as_str).unwrap_or_default();
    if !credentials_ok(&sim, key, secret) {
        let e = DtError::open(
            StatusCode::BAD_REQUEST,
            "invalidClientIdOrSecret",
            "无效的clientId或者clientSecret",
        );
        return counted(&mut sim.lock(), Err(e));
    }
    Ok(Json(json!({ "accessToken": issue(&sim, key), "expireIn": LIFETIME.as_secs() })))
}

/// Legacy `GET /gettoken?appkey=&appsecret=`; the same tokens as the OpenAPI.
pub async fn gettoken(State(sim): State<Arc<Sim>>, Q(q): Q<Query>) -> DtResult {
    let key = q.get("appkey").map(String::as_str).unwrap_or_default();
    let secret = q.get("appsecret").map(String::as_str).unwrap_or_default();
    if !credentials_ok(&sim, key, secret) {
        return counted(&mut sim.lock(), Err(DtError::oapi(BAD_APP_CREDENTIALS)));
    }
    let token = issue(&sim, key);
    Ok(Json(json!({ "errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": LIFETIME.as_secs() })))
}

/// `POST /v1.0/robot/messageFiles/download` `{"robotCode","downloadCode"}` → a short URL.
pub async fn file_download(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> DtResult {
    let now = sim.now();
    let mut inner = sim.lock();
    let result = (|| {
        let app_key = open_token(&inner, &headers, now)?;
        let v = open_body(&body)?;
        robot_code(&v, &app_key)?;
        let code = v.get("downloadCode").and_then(Value::as_str).unwrap_or_default();
        match inner.dt.file(code) {
            Some(f) if f.app_key == app_key => {
                Ok(Json(json!({ "downloadUrl": format!("{}/dt/files/{code}", sim.base_url) })))
            }
            _ => Err(DtError::param("downloadCode 无效")),
        }
    })();
    counted(&mut inner, result)
}

/// `GET /dt/files/{code}`: the bytes behind a downloadUrl.
pub async fn file_bytes(State(sim): State<Arc<Sim>>, Path(code): Path<String>) -> Response {
    let now = sim.now();
    let inner = sim.lock();
    let media = inner.dt.file(&code).and_then(|f| inner.media.get(&f.media_id, now));
    match media {
        Some(m) => file_response(m, true),
        None => {
            (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain")], "file not found").into_response()
        }
    }
}

/// `POST /topapi/v2/user/get?access_token=` `{"userid","language"}`.
pub async fn user_get(State(sim): State<Arc<Sim>>, Q(q): Q<Query>, body: Bytes) -> DtResult {
    let now = sim.now();
    let mut inner = sim.lock();
    let result = (|| {
        oapi_token(&inner, &q, now)?;
        let v: Value = serde_json::from_slice(&body).map_err(|_| DtError::missing("json"))?;
        let userid = v.get("userid").and_then(Value::as_str).ok_or_else(|| DtError::missing("userid"))?;
        let u = sim.config.dt_user(userid).ok_or_else(|| DtError::oapi(USER_NOT_FOUND))?;
        let result = json!({
            "userid": u.staff_id, "unionid": u.union_id, "name": u.nick, "avatar": "",
            "state_code": "86", "mobile": u.mobile.clone().unwrap_or_default(), "hide_mobile": false,
            "telephone": "", "job_number": "", "title": "", "email": "", "org_email": "",
            "dept_id_list": [1], "admin": false, "boss": false, "active": true, "real_authed": true,
            "senior": false,
        });
        Ok(Json(json!({ "errcode": 0, "errmsg": "ok", "result": result, "request_id": random_alnum(16) })))
    })();
    counted(&mut inner, result)
}

fn size_limit(kind: &str) -> Option<usize> {
    match kind {
        "image" | "video" | "file" => Some(20 << 20),
        "voice" => Some(2 << 20),
        _ => None,
    }
}

/// `POST /media/upload?access_token=&type=` with multipart field `media`; the id starts with
/// `@`, the form `sampleImageMsg` takes as its photoURL.
pub async fn media_upload(
    State(sim): State<Arc<Sim>>,
    Q(q): Q<Query>,
    form: Result<Multipart, MultipartRejection>,
) -> DtResult {
    let now = sim.now();
    let checked = (|| {
        oapi_token(&sim.lock(), &q, now)?;
        let kind = q.get("type").map(String::as_str).unwrap_or_default();
        let limit = size_limit(kind).ok_or_else(|| DtError::oapi(BAD_MEDIA_TYPE))?;
        Ok((kind.to_owned(), limit))
    })();
    let (kind, limit) = match checked {
        Ok(x) => x,
        Err(e) => return counted(&mut sim.lock(), Err(e)),
    };
    let mut form = form.map_err(|_| DtError::missing("media"))?;
    let (bytes, content_type, filename) =
        read_media_field(&mut form).await.map_err(|_| DtError::missing("media"))?;
    if bytes.is_empty() || bytes.len() > limit {
        return counted(&mut sim.lock(), Err(DtError::oapi(BAD_MEDIA_SIZE)));
    }
    let mut inner = sim.lock();
    inner.stats.uploads += 1;
    let id = inner.media.add_as(format!("@lADP{}", random_alnum(40)), bytes, &content_type, &filename, now);
    Ok(Json(
        json!({ "errcode": 0, "errmsg": "ok", "type": kind, "media_id": id, "created_at": now.millis() }),
    ))
}
