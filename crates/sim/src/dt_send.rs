//! The three ways kefu's messages reach DingTalk users: the per-message sessionWebhook,
//! `robot/oToMessages/batchSend` (one-to-one, ≤ 20 users) and `robot/groupMessages/send`,
//! each checked the way the platform would before it is recorded as received.

use crate::api::Query;
use crate::crypto::random_alnum;
use crate::dt_api::{DtResult, counted, open_body, open_token, robot_code};
use crate::dt_book::SessionError;
use crate::dt_error::{DtError, SESSION_EXPIRED, SESSION_NOT_FOUND};
use crate::media::MediaStore;
use crate::model::{MediaDigest, SimChannel, Via};
use crate::state::{Delivered, Inner, Sim};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query as Q, State};
use axum::http::HeaderMap;
use kefu_domain::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

/// Users per batchSend call.
const MAX_USERS: usize = 20;
/// The documented limit of a group message's msgParam.
const MAX_PARAM_BYTES: usize = 15_000;

fn has(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Number(_)) => true,
        _ => false,
    }
}

/// The first of `keys` missing from `v`, if any.
fn first_missing<'a>(v: &Value, keys: &[&'a str]) -> Option<&'a str> {
    keys.iter().copied().find(|k| !has(v, k))
}

/// A session-webhook message (also what a robot may answer a push with): returns its msgtype
/// and that part of the body (plus `at` when present), or what is missing.
pub fn check_message(body: &Value) -> Result<(String, Value), String> {
    let msgtype = body.get("msgtype").and_then(Value::as_str).ok_or("msgtype")?;
    let required: &[&str] = match msgtype {
        "text" => &["content"],
        "markdown" => &["title", "text"],
        "link" => &["title", "text", "messageUrl"],
        "actionCard" => &["title", "text"],
        _ => return Err(format!("msgtype（不支持 {msgtype:?}）")),
    };
    let part = body.get(msgtype).filter(|p| p.is_object()).ok_or_else(|| msgtype.to_owned())?;
    if let Some(k) = first_missing(part, required) {
        return Err(format!("{msgtype}.{k}"));
    }
    if msgtype == "actionCard" {
        let single = has(part, "singleTitle") && has(part, "singleURL");
        let btns = part
            .get("btns")
            .and_then(Value::as_array)
            .is_some_and(|b| !b.is_empty() && b.iter().all(|x| has(x, "title") && has(x, "actionURL")));
        if !single && !btns {
            return Err("actionCard.singleTitle/singleURL 或 actionCard.btns".into());
        }
    }
    let mut content = part.clone();
    if let (Some(at), Some(o)) = (body.get("at"), content.as_object_mut()) {
        o.insert("at".into(), at.clone());
    }
    Ok((msgtype.to_owned(), content))
}

/// `POST /robot/sendBySession?session=…`: no token, the session is the credential.
pub async fn send_by_session(State(sim): State<Arc<Sim>>, Q(q): Q<Query>, body: Bytes) -> DtResult {
    let now = sim.now();
    let mut inner = sim.lock();
    let result = session_locked(&mut inner, &q, &body, now);
    counted(&mut inner, result)
}

fn session_locked(inner: &mut Inner, q: &Query, body: &Bytes, now: Timestamp) -> DtResult {
    let id = q.get("session").map(String::as_str).unwrap_or_default();
    let session = match inner.dt.session(id, now) {
        Ok(s) => s.clone(),
        Err(SessionError::NotFound) => return Err(DtError::oapi(SESSION_NOT_FOUND)),
        Err(SessionError::Expired) => return Err(DtError::oapi(SESSION_EXPIRED)),
    };
    if inner.faults.dt_session_expired {
        return Err(DtError::oapi(SESSION_EXPIRED));
    }
    if let Some(code) = inner.faults.errcodes.pop_front() {
        return Err(DtError::oapi(code));
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| DtError::missing("json"))?;
    let (msgtype, content) = check_message(&v).map_err(|what| DtError::missing(&what))?;
    let delivered = Delivered {
        via: Via::DtSession,
        channel: SimChannel::Dingtalk,
        account: &session.app_key,
        user: &session.user,
        msgtype: &msgtype,
        content,
        media: None,
    };
    inner.record_received(delivered, now);
    Ok(Json(json!({ "errcode": 0, "errmsg": "ok" })))
}

/// The msgParam keys each msgKey needs.
fn param_keys(msg_key: &str) -> Option<Vec<String>> {
    let fixed: &[&str] = match msg_key {
        "sampleText" => &["content"],
        "sampleMarkdown" => &["title", "text"],
        "sampleImageMsg" => &["photoURL"],
        "sampleLink" => &["title", "text", "messageUrl"],
        "sampleActionCard" => &["title", "text", "singleTitle", "singleURL"],
        "sampleAudio" => &["mediaId", "duration"],
        "sampleFile" => &["mediaId", "fileName", "fileType"],
        "sampleVideo" => &["videoMediaId", "videoType", "duration"],
        _ => {
            let n: usize = match msg_key.strip_prefix("sampleActionCard")?.parse().ok()? {
                6 => 2,
                n @ 2..=5 => n,
                _ => return None,
            };
            let mut keys = vec!["title".to_owned(), "text".to_owned()];
            for i in 1..=n {
                keys.push(format!("actionTitle{i}"));
                keys.push(format!("actionURL{i}"));
            }
            return Some(keys);
        }
    };
    Some(fixed.iter().map(|k| (*k).to_owned()).collect())
}

/// Checks msgKey and the msgParam *string*; returns the parsed parameters and their medium.
fn check_param(
    v: &Value,
    media: &MediaStore,
    now: Timestamp,
) -> Result<(String, Value, Option<MediaDigest>), DtError> {
    let msg_key = v.get("msgKey").and_then(Value::as_str).ok_or_else(|| DtError::param("msgKey 不能为空"))?;
    let keys = param_keys(msg_key).ok_or_else(|| DtError::param(format!("不支持的 msgKey：{msg_key}")))?;
    let raw = v
        .get("msgParam")
        .and_then(Value::as_str)
        .ok_or_else(|| DtError::param("msgParam 必须是 JSON 字符串"))?;
    if raw.len() > MAX_PARAM_BYTES {
        return Err(DtError::param("msgParam 超过 15000 字节"));
    }
    let param: Value = serde_json::from_str(raw).map_err(|_| DtError::param("msgParam 不是合法的 JSON"))?;
    if !param.is_object() {
        return Err(DtError::param("msgParam 必须是 JSON 对象"));
    }
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    if let Some(k) = first_missing(&param, &key_refs) {
        return Err(DtError::param(format!("msgParam 缺少 {k}")));
    }
    let digest = medium(&param, media, now)?;
    Ok((msg_key.to_owned(), param, digest))
}

/// `@mediaId` references must exist; http(s) picture URLs are taken on trust.
fn medium(param: &Value, media: &MediaStore, now: Timestamp) -> Result<Option<MediaDigest>, DtError> {
    for key in ["photoURL", "mediaId", "videoMediaId"] {
        let Some(r) = param.get(key).and_then(Value::as_str) else { continue };
        if r.starts_with('@') {
            let d =
                media.digest(r, now).ok_or_else(|| DtError::param(format!("{key} 指向的媒体不存在：{r}")))?;
            return Ok(Some(d));
        }
        if key == "photoURL" && !(r.starts_with("http://") || r.starts_with("https://")) {
            return Err(DtError::param("photoURL 必须是 @mediaId 或 http(s) 地址"));
        }
    }
    Ok(None)
}

/// `POST /v1.0/robot/oToMessages/batchSend`.
pub async fn batch_send(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> DtResult {
    let now = sim.now();
    let mut inner = sim.lock();
    let result = batch_locked(&sim, &mut inner, &headers, &body, now);
    counted(&mut inner, result)
}

fn batch_locked(sim: &Sim, inner: &mut Inner, headers: &HeaderMap, body: &Bytes, now: Timestamp) -> DtResult {
    let app_key = open_token(inner, headers, now)?;
    let v = open_body(body)?;
    robot_code(&v, &app_key)?;
    let users: Vec<&str> = match v.get("userIds").and_then(Value::as_array) {
        Some(a) if !a.is_empty() && a.len() <= MAX_USERS => a.iter().filter_map(Value::as_str).collect(),
        _ => return Err(DtError::param("userIds 须为 1 到 20 个 userid")),
    };
    let (msg_key, param, media) = check_param(&v, &inner.media, now)?;
    if let Some(code) = inner.faults.errcodes.pop_front() {
        return Err(DtError::injected(code));
    }
    let (known, invalid): (Vec<&str>, Vec<&str>) =
        users.into_iter().partition(|u| sim.config.dt_user(u).is_some());
    for user in known {
        let d = Delivered {
            via: Via::DtBatch,
            channel: SimChannel::Dingtalk,
            account: &app_key,
            user,
            msgtype: &msg_key,
            content: param.clone(),
            media: media.clone(),
        };
        inner.record_received(d, now);
    }
    Ok(Json(
        json!({ "processQueryKey": random_alnum(40), "invalidStaffIdList": invalid, "flowControlledStaffIdList": [] }),
    ))
}

/// `POST /v1.0/robot/groupMessages/send`: only to a group the robot was seen in.
pub async fn group_send(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> DtResult {
    let now = sim.now();
    let mut inner = sim.lock();
    let result = group_locked(&mut inner, &headers, &body, now);
    counted(&mut inner, result)
}

fn group_locked(inner: &mut Inner, headers: &HeaderMap, body: &Bytes, now: Timestamp) -> DtResult {
    let app_key = open_token(inner, headers, now)?;
    let v = open_body(body)?;
    robot_code(&v, &app_key)?;
    let group = v.get("openConversationId").and_then(Value::as_str).unwrap_or_default();
    if !inner.dt.in_group(&app_key, group) {
        return Err(DtError::param(format!("机器人不在该群中或 openConversationId 无效：{group:?}")));
    }
    let (msg_key, param, media) = check_param(&v, &inner.media, now)?;
    if let Some(code) = inner.faults.errcodes.pop_front() {
        return Err(DtError::injected(code));
    }
    let d = Delivered {
        via: Via::DtGroup,
        channel: SimChannel::Dingtalk,
        account: &app_key,
        user: group,
        msgtype: &msg_key,
        content: param,
        media,
    };
    inner.record_received(d, now);
    Ok(Json(json!({ "processQueryKey": random_alnum(40) })))
}
