//! The WeCom platform API kefu calls (qyapi.weixin.qq.com) for a self-built app: tokens per
//! (corp, secret) and `message/send` to members.

use crate::api::{
    ApiError, ApiResult, Family, Query, authorize, body_json, counted, injected_send_error, need, ok,
};
use crate::faults::bump;
use crate::model::{SimChannel, Via};
use crate::outgoing::{self, WECOM_APP};
use crate::state::{Delivered, Inner, Sim};
use crate::tokens::Owner;
use axum::body::Bytes;
use axum::extract::{Query as Q, State};
use kefu_domain::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

/// `GET /cgi-bin/gettoken?corpid=&corpsecret=`: the secret decides which APIs the token opens.
pub async fn gettoken(State(sim): State<Arc<Sim>>, Q(q): Q<Query>) -> ApiResult {
    let corp_id = q.get("corpid").map(String::as_str).unwrap_or_default();
    let secret = q.get("corpsecret").map(String::as_str).unwrap_or_default();
    let corp = sim.config.corp(corp_id).ok_or_else(|| ApiError::new(40013, "invalid corpid"))?;
    let (owner, key) = if corp.app.as_ref().is_some_and(|a| a.secret == secret) {
        (Owner::WecomApp(corp_id.to_owned()), format!("{corp_id}/app"))
    } else if corp.kf.as_ref().is_some_and(|k| k.secret == secret) {
        (Owner::Kf(corp_id.to_owned()), format!("{corp_id}/kf"))
    } else {
        return Err(ApiError::new(40001, "invalid secret"));
    };
    let now = sim.now();
    let mut inner = sim.lock();
    bump(&mut inner.stats.token_fetches, &key);
    let (token, left) = inner.tokens.fetch_wecom(owner, now);
    Ok(ok(json!({ "access_token": token, "expires_in": left })))
}

/// The corp of a token that may call the app APIs; a 微信客服 token gets 48002.
pub fn app_corp(inner: &Inner, q: &Query, now: Timestamp) -> Result<String, ApiError> {
    match authorize(inner, q, now, Family::Wecom)? {
        Owner::WecomApp(corp) => Ok(corp),
        _ => Err(ApiError::code(48002)),
    }
}

/// `POST /cgi-bin/message/send`: app → members (`touser` may list several, `|`-separated).
pub async fn message_send(State(sim): State<Arc<Sim>>, Q(q): Q<Query>, body: Bytes) -> ApiResult {
    let now = sim.now();
    let mut inner = sim.lock();
    let result = message_send_locked(&sim, &mut inner, &q, &body, now);
    counted(&mut inner, result)
}

fn message_send_locked(sim: &Sim, inner: &mut Inner, q: &Query, body: &Bytes, now: Timestamp) -> ApiResult {
    let corp_id = app_corp(inner, q, now)?;
    injected_send_error(inner)?;
    let v = body_json(body)?;
    let agent_id = sim.config.corp(&corp_id).and_then(|c| c.app.as_ref()).map(|a| a.agent_id);
    let given = v.get("agentid").and_then(|a| a.as_i64().or_else(|| a.as_str().and_then(|s| s.parse().ok())));
    if given.is_none() || given != agent_id {
        return Err(ApiError::new(40056, "invalid agentid"));
    }
    let touser = need(&v, "touser")?;
    let checked = outgoing::check(&v, &WECOM_APP, &inner.media, now)?;
    for user in touser.split('|').filter(|u| !u.is_empty()) {
        let delivered = Delivered {
            via: Via::AppSend,
            channel: SimChannel::Wecom,
            account: &corp_id,
            user,
            msgtype: &checked.msgtype,
            content: checked.content.clone(),
            media: checked.media.clone(),
        };
        inner.record_received(delivered, now);
    }
    let msgid = format!("sim_app_{}", inner.next_msg_id());
    Ok(ok(json!({ "invaliduser": "", "invalidparty": "", "invalidtag": "", "msgid": Value::String(msgid) })))
}
