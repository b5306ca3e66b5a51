//! The OA platform API kefu calls (api.weixin.qq.com): access tokens, 客服消息 with the 48 h /
//! 5-message window, and user info with the unionid.

use crate::api::{
    ApiError, ApiResult, Family, Query, authorize, body_json, counted, injected_send_error, need, ok, s,
};
use crate::faults::bump;
use crate::model::{SimChannel, Via};
use crate::outgoing::{self, OA_CUSTOM};
use crate::state::{Delivered, Inner, Sim};
use crate::tokens::{LIFETIME, Owner};
use crate::window::WindowError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query as Q, State};
use kefu_domain::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

fn check_secret(sim: &Sim, app_id: &str, secret: &str) -> Result<(), ApiError> {
    let acct = sim.config.oa(app_id).ok_or_else(|| ApiError::code(40013))?;
    if acct.app_secret != secret {
        return Err(ApiError::new(40001, "AppSecret error or access_token is invalid"));
    }
    Ok(())
}

/// `GET /cgi-bin/token`: every call replaces the app's previous token.
pub async fn token(State(sim): State<Arc<Sim>>, Q(q): Q<Query>) -> ApiResult {
    if q.get("grant_type").map(String::as_str) != Some("client_credential") {
        return Err(ApiError::new(40002, "invalid grant_type"));
    }
    let app_id = q.get("appid").map(String::as_str).unwrap_or_default();
    check_secret(&sim, app_id, q.get("secret").map(String::as_str).unwrap_or_default())?;
    let now = sim.now();
    let mut inner = sim.lock();
    bump(&mut inner.stats.token_fetches, app_id);
    let token = inner.tokens.fetch_oa(app_id, now);
    Ok(Json(json!({ "access_token": token, "expires_in": LIFETIME.as_secs() })))
}

/// `POST /cgi-bin/stable_token`: the same token while valid unless `force_refresh`.
pub async fn stable_token(State(sim): State<Arc<Sim>>, body: Bytes) -> ApiResult {
    let v = body_json(&body)?;
    if s(&v, "grant_type") != Some("client_credential") {
        return Err(ApiError::new(40002, "invalid grant_type"));
    }
    let app_id = s(&v, "appid").unwrap_or_default();
    check_secret(&sim, app_id, s(&v, "secret").unwrap_or_default())?;
    let force = v.get("force_refresh").and_then(Value::as_bool).unwrap_or(false);
    let now = sim.now();
    let mut inner = sim.lock();
    bump(&mut inner.stats.token_fetches, &format!("{app_id}/stable"));
    let (token, left) = inner.tokens.fetch_stable(app_id, now, force);
    Ok(Json(json!({ "access_token": token, "expires_in": left })))
}

/// `POST /cgi-bin/message/custom/send`.
pub async fn custom_send(State(sim): State<Arc<Sim>>, Q(q): Q<Query>, body: Bytes) -> ApiResult {
    let now = sim.now();
    let mut inner = sim.lock();
    let result = custom_send_locked(&sim, &mut inner, &q, &body, now);
    counted(&mut inner, result)
}

fn custom_send_locked(sim: &Sim, inner: &mut Inner, q: &Query, body: &Bytes, now: Timestamp) -> ApiResult {
    let Owner::Oa(app_id) = authorize(inner, q, now, Family::Oa)? else {
        return Err(ApiError::code(40001));
    };
    injected_send_error(inner)?;
    let v = body_json(body)?;
    let touser = need(&v, "touser")?.to_owned();
    let key = (app_id.clone(), touser.clone());
    let Some(follower) = inner.followers.get(&key) else {
        // A user the platform knows but who never wrote is outside the window.
        return Err(ApiError::code(if sim.config.user(&touser).is_some() { 45015 } else { 40003 }));
    };
    if !follower.subscribed {
        return Err(ApiError::code(45015));
    }
    follower.window.check(now).map_err(|e| match e {
        WindowError::Closed => ApiError::code(45015),
        WindowError::Exhausted => ApiError::code(45047),
    })?;
    let checked = outgoing::check(&v, &OA_CUSTOM, &inner.media, now)?;
    if let Some(f) = inner.followers.get_mut(&key) {
        f.window.record_send();
    }
    let delivered = Delivered {
        via: Via::CustomSend,
        channel: SimChannel::Oa,
        account: &app_id,
        user: &touser,
        msgtype: &checked.msgtype,
        content: checked.content,
        media: checked.media,
    };
    inner.record_received(delivered, now);
    Ok(ok(json!({})))
}

/// `GET /cgi-bin/user/info`: nickname and avatar are no longer returned by the platform.
pub async fn user_info(State(sim): State<Arc<Sim>>, Q(q): Q<Query>) -> ApiResult {
    let now = sim.now();
    let inner = sim.lock();
    let Owner::Oa(app_id) = authorize(&inner, &q, now, Family::Oa)? else {
        return Err(ApiError::code(40001));
    };
    let openid = q.get("openid").map(String::as_str).unwrap_or_default();
    let follower = inner.followers.get(&(app_id, openid.to_owned()));
    if follower.is_none() && sim.config.user(openid).is_none() {
        return Err(ApiError::code(40003));
    }
    let mut out = match follower.filter(|f| f.subscribed) {
        Some(f) => json!({
            "subscribe": 1, "openid": openid, "language": "zh_CN",
            "subscribe_time": f.subscribe_time.seconds(), "remark": "", "groupid": 0, "tagid_list": [],
            "subscribe_scene": "ADD_SCENE_SEARCH", "qr_scene": 0, "qr_scene_str": "",
        }),
        None => json!({ "subscribe": 0, "openid": openid }),
    };
    if let (Some(u), Some(o)) = (sim.unionid(openid), out.as_object_mut()) {
        o.insert("unionid".into(), Value::String(u));
    }
    Ok(Json(out))
}
