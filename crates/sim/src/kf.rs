//! The 微信客服 API kefu calls: pulling messages with `sync_msg`, replying with `send_msg` and
//! `send_msg_on_event`, moving sessions between states, and customer lookup.
//!
//! Error codes chosen where the documentation is vague: session missing, older than 48 h, or
//! held by a human (3) / ended (4) → 95018; over five replies → 45047; a transition outside
//! the table → 95014 (also when state 3 lacks servicer_userid); an unknown, used or expired
//! event code → 40029; an invalid cursor → 40058; an expired or foreign sync token → 95007.

use crate::api::{
    ApiError, ApiResult, Family, Query, authorize, body_json, counted, injected_send_error, need, ok, s,
};
use crate::kf_book::KfError;
use crate::model::{SimChannel, Via};
use crate::outgoing::{self, KF_EVENT, KF_SEND};
use crate::state::{Delivered, Inner, Sim};
use crate::tokens::Owner;
use axum::body::Bytes;
use axum::extract::{Query as Q, State};
use kefu_domain::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

fn kf_error(e: KfError) -> ApiError {
    match e {
        KfError::SessionInvalid => ApiError::code(95018),
        KfError::Exhausted => ApiError::code(45047),
        KfError::InvalidTransition => ApiError::new(95014, "invalid service_state transition"),
        KfError::ServicerRequired => ApiError::new(95014, "servicer_userid is required for service_state 3"),
        KfError::InvalidCode => ApiError::new(40029, "invalid code: unknown, already used or expired"),
        KfError::CodeForbidsType => ApiError::code(40008),
        KfError::InvalidCursor => ApiError::new(40058, "invalid cursor"),
    }
}

/// The corp of a 微信客服 token; an app token gets 48002.
fn kf_corp(inner: &Inner, q: &Query, now: Timestamp) -> Result<String, ApiError> {
    match authorize(inner, q, now, Family::Wecom)? {
        Owner::Kf(corp) => Ok(corp),
        _ => Err(ApiError::code(48002)),
    }
}

/// The body's `open_kfid`, which must belong to the token's corporation.
fn own_kfid<'a>(sim: &Sim, corp: &str, v: &'a Value) -> Result<&'a str, ApiError> {
    let open_kfid = need(v, "open_kfid")?;
    match sim.config.kf_owner(open_kfid) {
        None => Err(ApiError::new(95004, "open_kfid not exist")),
        Some((c, _)) if c.corp_id != corp => Err(ApiError::new(95000, "invalid open_kfid")),
        Some(_) => Ok(open_kfid),
    }
}

type Handler = fn(&Sim, &mut Inner, &Value, &str, Timestamp) -> ApiResult;

/// Authorises, parses and runs one kf call under the lock, counting refusals.
fn run(sim: &Sim, q: &Query, body: &Bytes, send: bool, f: Handler) -> ApiResult {
    let now = sim.now();
    let mut inner = sim.lock();
    let result = (|| {
        let corp = kf_corp(&inner, q, now)?;
        if send {
            injected_send_error(&mut inner)?;
        }
        let v = body_json(body)?;
        f(sim, &mut inner, &v, &corp, now)
    })();
    counted(&mut inner, result)
}

pub async fn sync_msg(State(sim): State<Arc<Sim>>, Q(q): Q<Query>, body: Bytes) -> ApiResult {
    run(&sim, &q, &body, false, sync_locked)
}

fn sync_locked(sim: &Sim, inner: &mut Inner, v: &Value, corp: &str, now: Timestamp) -> ApiResult {
    inner.stats.sync_msg_calls += 1;
    let open_kfid = own_kfid(sim, corp, v)?;
    if let Some(tok) = s(v, "token").filter(|t| !t.is_empty())
        && !inner.kf.sync_token_valid(open_kfid, tok, now)
    {
        return Err(ApiError::new(95007, "invalid msg token"));
    }
    let limit = v.get("limit").and_then(Value::as_u64).filter(|l| *l > 0).unwrap_or(1000).min(1000);
    let limit = usize::try_from(limit).unwrap_or(1000);
    let page = inner.kf.sync(open_kfid, s(v, "cursor"), limit, now).map_err(kf_error)?;
    Ok(ok(json!({
        "next_cursor": page.next_cursor, "has_more": u8::from(page.has_more), "msg_list": page.msgs,
    })))
}

pub async fn send_msg(State(sim): State<Arc<Sim>>, Q(q): Q<Query>, body: Bytes) -> ApiResult {
    run(&sim, &q, &body, true, send_locked)
}

fn send_locked(sim: &Sim, inner: &mut Inner, v: &Value, corp: &str, now: Timestamp) -> ApiResult {
    let open_kfid = own_kfid(sim, corp, v)?;
    let touser = need(v, "touser")?;
    let checked = outgoing::check(v, &KF_SEND, &inner.media, now)?;
    inner.kf.try_send(open_kfid, touser, now).map_err(kf_error)?;
    deliver(inner, v, Via::KfSend, open_kfid, touser, checked, now)
}

pub async fn send_msg_on_event(State(sim): State<Arc<Sim>>, Q(q): Q<Query>, body: Bytes) -> ApiResult {
    run(&sim, &q, &body, true, on_event_locked)
}

fn on_event_locked(_sim: &Sim, inner: &mut Inner, v: &Value, _corp: &str, now: Timestamp) -> ApiResult {
    let code = need(v, "code")?;
    let checked = outgoing::check(v, &KF_EVENT, &inner.media, now)?;
    let (open_kfid, user) = inner.kf.use_code(code, &checked.msgtype, now).map_err(kf_error)?;
    deliver(inner, v, Via::KfEvent, &open_kfid, &user, checked, now)
}

fn deliver(
    inner: &mut Inner,
    v: &Value,
    via: Via,
    open_kfid: &str,
    user: &str,
    checked: outgoing::Checked,
    now: Timestamp,
) -> ApiResult {
    let msgid = match s(v, "msgid").filter(|m| !m.is_empty()) {
        Some(m) => m.to_owned(),
        None => format!("sim_kf_out_{}", inner.next_msg_id()),
    };
    let delivered = Delivered {
        via,
        channel: SimChannel::Kf,
        account: open_kfid,
        user,
        msgtype: &checked.msgtype,
        content: checked.content,
        media: checked.media,
    };
    inner.record_received(delivered, now);
    Ok(ok(json!({ "msgid": msgid })))
}

pub async fn state_get(State(sim): State<Arc<Sim>>, Q(q): Q<Query>, body: Bytes) -> ApiResult {
    run(&sim, &q, &body, false, |sim, inner, v, corp, _now| {
        let open_kfid = own_kfid(sim, corp, v)?;
        let user = need(v, "external_userid")?;
        // No session means "ended / not started" (4).
        let (state, servicer) =
            inner.kf.session(open_kfid, user).map_or((4, String::new()), |s| (s.state, s.servicer.clone()));
        Ok(ok(json!({ "service_state": state, "servicer_userid": servicer })))
    })
}

pub async fn state_trans(State(sim): State<Arc<Sim>>, Q(q): Q<Query>, body: Bytes) -> ApiResult {
    run(&sim, &q, &body, false, |sim, inner, v, corp, now| {
        let open_kfid = own_kfid(sim, corp, v)?;
        let user = need(v, "external_userid")?;
        let to = v.get("service_state").and_then(Value::as_u64).and_then(|x| u8::try_from(x).ok());
        let to = to.ok_or_else(|| ApiError::new(47001, "data format error: service_state"))?;
        let servicer = s(v, "servicer_userid").unwrap_or_default();
        let code = inner.kf.transition(open_kfid, user, to, servicer, now).map_err(kf_error)?;
        Ok(ok(json!({ "msg_code": code })))
    })
}

pub async fn customer_batchget(State(sim): State<Arc<Sim>>, Q(q): Q<Query>, body: Bytes) -> ApiResult {
    run(&sim, &q, &body, false, |sim, inner, v, _corp, _now| {
        let ids =
            v.get("external_userid_list").and_then(Value::as_array).ok_or_else(|| ApiError::code(47001))?;
        let (mut found, mut invalid) = (Vec::new(), Vec::new());
        for id in ids.iter().filter_map(Value::as_str) {
            if !inner.kf.knows(id) && sim.config.user(id).is_none() {
                invalid.push(json!(id));
                continue;
            }
            let mut c = json!({
                "external_userid": id, "nickname": sim.nickname(id),
                "avatar": format!("{}/sim/assets/avatar.png", sim.base_url), "gender": 0,
            });
            if let (Some(u), Some(o)) = (sim.unionid(id), c.as_object_mut()) {
                o.insert("unionid".into(), Value::String(u));
            }
            found.push(c);
        }
        Ok(ok(json!({ "customer_list": found, "invalid_external_userid": invalid })))
    })
}
