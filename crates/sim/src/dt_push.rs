//! DingTalk pushing robot messages to kefu: one signed JSON POST per message (headers
//! `timestamp` and `sign`), a fresh sessionWebhook with each, retries, redelivery of the very
//! same message (same msgId, fresh signature), and what kefu's answer means.

use crate::config::DingtalkApp;
use crate::crypto::random_alnum;
use crate::deliver::{self, Outcome, Push};
use crate::dt_book::{DtSession, LastPush};
use crate::dt_inbound::{self, Head, Speaker};
use crate::dt_send::check_message;
use crate::dt_sign::robot_sign;
use crate::error::SimError;
use crate::model::{CallbackTarget, Delivery, DtChat, Said, SimChannel, SimMessage, Via};
use crate::state::{Delivered, Sim};
use serde_json::Value;
use std::time::Duration;

/// Recorded on what a user said when kefu's robot URL answered badly or not at all.
pub const ROBOT_FAILED: &str = "钉钉机器人回调失败";

pub const JSON_UTF8: &str = "application/json; charset=utf-8";

fn app_of<'a>(sim: &'a Sim, app_key: &str) -> Result<&'a DingtalkApp, SimError> {
    sim.config.dingtalk(app_key).ok_or_else(|| SimError::UnknownAccount(app_key.into()))
}

fn robot_url(sim: &Sim, app_key: &str) -> Result<reqwest::Url, SimError> {
    let url = sim
        .callback_url(&CallbackTarget::DingtalkRobot(app_key.into()))
        .ok_or_else(|| SimError::NoCallbackUrl(format!("{app_key}/robot")))?;
    reqwest::Url::parse(&url).map_err(|_| SimError::BadCallbackUrl(url))
}

/// A user says something to the robot, in a one-to-one chat or a group.
pub async fn user_says(
    sim: &Sim,
    app_key: &str,
    staff_id: &str,
    msg: SimMessage,
    chat: DtChat,
) -> Result<Delivery, SimError> {
    let app = app_of(sim, app_key)?;
    let url = robot_url(sim, app_key)?;
    if let DtChat::Group { open_conversation_id, .. } = &chat
        && open_conversation_id.is_empty()
    {
        return Err(SimError::Unsupported("a group needs an open_conversation_id".into()));
    }
    let last = prepare(sim, app, staff_id, &msg, &chat)?;
    let outcome = push(sim, app, &url, &last.push.body).await;
    Ok(conclude(sim, app_key, &last.push, outcome, Some((staff_id, last.said_seq))))
}

/// Resends the app's last robot message byte for byte, as DingTalk does when kefu was slow.
pub async fn redeliver_last(sim: &Sim, app_key: &str) -> Result<Delivery, SimError> {
    let app = app_of(sim, app_key)?;
    let url = robot_url(sim, app_key)?;
    let last = sim.lock().dt.last_push(app_key).cloned();
    let last =
        last.ok_or_else(|| SimError::Unsupported(format!("no robot message was pushed for {app_key} yet")))?;
    let outcome = push(sim, app, &url, &last.body).await;
    Ok(conclude(sim, app_key, &last, outcome, None))
}

struct Prepared {
    push: LastPush,
    said_seq: u64,
}

/// Stores media, hands out the session, records what was said; returns the body to push.
fn prepare(
    sim: &Sim,
    app: &DingtalkApp,
    staff_id: &str,
    msg: &SimMessage,
    chat: &DtChat,
) -> Result<Prepared, SimError> {
    let now = sim.now();
    let nick = sim.config.dt_user(staff_id).map_or(staff_id, |u| u.nick.as_str());
    let sp = Speaker { app, staff_id, nick, chat };
    let mut inner = sim.lock();
    let content = dt_inbound::content(msg, &mut inner, &sp, now)?;
    let reply_to = match chat {
        DtChat::Direct => staff_id.to_owned(),
        DtChat::Group { open_conversation_id, .. } => {
            inner.dt.join_group(&app.app_key, open_conversation_id);
            open_conversation_id.clone()
        }
    };
    let expires = now.plus(Duration::from_millis(app.session_ttl_ms));
    let session = DtSession { app_key: app.app_key.clone(), user: reply_to.clone(), expires_at: expires };
    let session_url = inner.dt.open_session(&sim.base_url, session, staff_id);
    let msg_id = format!("msg{}", random_alnum(24));
    let media_id = content.media_id.clone();
    let head = Head { msg_id: &msg_id, now, session_url: &session_url, session_expires: expires };
    let body = dt_inbound::body(&sp, content, &head).to_string();
    let said = Said {
        seq: 0,
        channel: SimChannel::Dingtalk,
        account: app.app_key.clone(),
        user: staff_id.to_owned(),
        message: msg.clone(),
        media_id,
        at: now,
        error: None,
        conversation: match chat {
            DtChat::Direct => None,
            DtChat::Group { open_conversation_id, .. } => Some(open_conversation_id.clone()),
        },
    };
    let said_seq = inner.record_said(said);
    let push = LastPush { body, msg_id, user: reply_to };
    inner.dt.remember_push(&app.app_key, push.clone());
    Ok(Prepared { push, said_seq })
}

/// POSTs the body, signed for the current time, with the usual retries. Each push gets a
/// timestamp of its own, as wall-clock pushes do, even when a test's clock stands still.
async fn push(sim: &Sim, app: &DingtalkApp, url: &reqwest::Url, body: &str) -> Outcome {
    let ts = {
        let mut inner = sim.lock();
        let ms = sim.now().millis().max(inner.dt_last_sign_ms + 1);
        inner.dt_last_sign_ms = ms;
        ms.to_string()
    };
    let sign = robot_sign(&app.app_secret, &ts);
    let headers = [("timestamp", ts), ("sign", sign)];
    let account = format!("{}/robot", app.app_key);
    deliver::send(sim, &account, &Push { url, body, content_type: JSON_UTF8, headers: &headers }).await
}

/// The reply carried by an HTTP 200 answer, if any; `Err` when there was no such answer or
/// its reply is not a valid message.
fn read_answer(outcome: Outcome) -> Result<Option<(String, Value)>, String> {
    let text = outcome.body.ok_or_else(|| outcome.error.unwrap_or_else(|| "no answer".into()))?;
    match serde_json::from_str::<Value>(text.trim()) {
        Ok(v) if v.get("msgtype").is_some() => {
            check_message(&v).map(Some).map_err(|e| format!("the reply in the answer is invalid: {e}"))
        }
        _ => Ok(None),
    }
}

/// HTTP 200 acknowledges the message. A JSON answer carrying a `msgtype` is a reply in the
/// conversation (DingTalk's HTTP-mode robots may answer that way) and must be a valid message.
fn conclude(
    sim: &Sim,
    app_key: &str,
    last: &LastPush,
    outcome: Outcome,
    said: Option<(&str, u64)>,
) -> Delivery {
    let mut d = Delivery {
        attempts: outcome.attempts,
        status: outcome.status,
        msg_id: Some(last.msg_id.clone()),
        ..Delivery::default()
    };
    let now = sim.now();
    let mut inner = sim.lock();
    match read_answer(outcome) {
        Ok(reply) => {
            d.ok = true;
            d.passive_reply = reply.map(|(msgtype, content)| {
                let delivered = Delivered {
                    via: Via::Passive,
                    channel: SimChannel::Dingtalk,
                    account: app_key,
                    user: &last.user,
                    msgtype: &msgtype,
                    content,
                    media: None,
                };
                inner.record_received(delivered, now)
            });
        }
        Err(e) => {
            if let Some((user, seq)) = said {
                inner.mark_said_failed(user, seq, ROBOT_FAILED);
            }
            d.error = Some(format!("{ROBOT_FAILED} ({e})"));
        }
    }
    d
}
