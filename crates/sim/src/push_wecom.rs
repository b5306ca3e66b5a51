//! The WeCom platform pushing to kefu: a member's message to the self-built app, the
//! 微信客服 "kf_msg_or_event" notification after a customer writes, and URL verification.

use crate::config::{WecomApp, WecomCorp};
use crate::crypto::{Envelope, random_nonce, signature};
use crate::deliver::{self, Outcome, with_query};
use crate::error::SimError;
use crate::inbound::{self, Head};
use crate::model::{CallbackTarget, Delivery, Said, SimChannel, SimMessage, Verification, WecomTarget};
use crate::push_oa::verification;
use crate::reply::{self, Expect};
use crate::state::Sim;
use crate::xml::{XmlOut, cdata};
use rand::Rng as _;

/// Recorded on what a member said when kefu's callback answered badly or not at all.
pub const APP_FAILED: &str = "应用回调失败";
/// Recorded on what a customer said when the notification was not acknowledged.
pub const KF_FAILED: &str = "微信客服回调失败";

fn app_of<'a>(sim: &'a Sim, corp_id: &str) -> Result<(&'a WecomCorp, &'a WecomApp), SimError> {
    let corp = sim.config.corp(corp_id).ok_or_else(|| SimError::UnknownAccount(corp_id.into()))?;
    let app = corp.app.as_ref().ok_or_else(|| SimError::UnknownAccount(format!("{corp_id} has no app")))?;
    Ok((corp, app))
}

fn url_of(sim: &Sim, target: CallbackTarget, name: &str) -> Result<String, SimError> {
    sim.callback_url(&target).ok_or_else(|| SimError::NoCallbackUrl(name.to_owned()))
}

/// Where and how one WeCom callback is sent.
struct Wire<'a> {
    base: &'a str,
    token: &'a str,
    env: &'a Envelope,
    corp_id: &'a str,
    agent: Option<i64>,
    /// The stats key.
    account: &'a str,
}

/// Encrypts `xml`, signs it and POSTs the WeCom envelope with retries.
async fn push(sim: &Sim, w: &Wire<'_>, xml: &str) -> Result<Outcome, SimError> {
    let (ts, nonce) = (sim.now().seconds().to_string(), random_nonce());
    let enc = w.env.seal(xml, w.corp_id);
    let sig = signature(&[w.token, &ts, &nonce, &enc]);
    let url = with_query(w.base, &[("msg_signature", &sig), ("timestamp", &ts), ("nonce", &nonce)])?;
    let mut body =
        format!("<xml><ToUserName>{}</ToUserName><Encrypt>{}</Encrypt>", cdata(w.corp_id), cdata(&enc));
    if let Some(a) = w.agent {
        body.push_str(&format!("<AgentID>{}</AgentID>", cdata(&a.to_string())));
    }
    body.push_str("</xml>");
    Ok(deliver::post(sim, w.account, &url, &body).await)
}

/// A member writes to the corp's self-built app.
pub async fn member_says(
    sim: &Sim,
    corp_id: &str,
    userid: &str,
    msg: SimMessage,
) -> Result<Delivery, SimError> {
    let (corp, app) = app_of(sim, corp_id)?;
    let base = url_of(sim, CallbackTarget::WecomApp(corp_id.into()), &format!("{corp_id}/app"))?;
    let env = Envelope::new(&app.encoding_aes_key)?;
    let now = sim.now();
    let (xml, msg_id, said_seq) = {
        let mut inner = sim.lock();
        let body = inbound::for_xml(&msg, &mut inner, &sim.base_url, now)?;
        let msg_id = (!msg.is_event()).then(|| inner.next_msg_id());
        let head = Head { to: &corp.corp_id, from: userid, create_time: now.seconds() };
        let xml = inbound::render(&head, &body, msg_id, Some(app.agent_id));
        let said = said(SimChannel::Wecom, corp_id, userid, &msg, body.media_id, now);
        (xml, msg_id, inner.record_said(said))
    };
    let account = format!("{corp_id}/app");
    let wire = Wire {
        base: &base,
        token: &app.token,
        env: &env,
        corp_id,
        agent: Some(app.agent_id),
        account: &account,
    };
    let outcome = push(sim, &wire, &xml).await?;
    let expect = Expect {
        token: &app.token,
        envelope: Some(&env),
        receive_id: corp_id,
        user: userid,
        account: corp_id,
        to_message: !msg.is_event(),
    };
    let mut d = reply::conclude(sim, &expect, SimChannel::Wecom, corp_id, outcome, said_seq, APP_FAILED);
    d.msg_id = msg_id.map(|m| m.to_string());
    Ok(d)
}

fn said(
    channel: SimChannel,
    account: &str,
    user: &str,
    msg: &SimMessage,
    media_id: Option<String>,
    now: kefu_domain::Timestamp,
) -> Said {
    Said {
        seq: 0,
        channel,
        account: account.to_owned(),
        user: user.to_owned(),
        message: msg.clone(),
        media_id,
        at: now,
        error: None,
        conversation: None,
    }
}

/// A 微信客服 customer writes (or enters the chat): queue it for `sync_msg`, then notify kefu.
pub async fn customer_says(
    sim: &Sim,
    open_kfid: &str,
    user: &str,
    msg: SimMessage,
) -> Result<Delivery, SimError> {
    let (corp, kf) =
        sim.config.kf_owner(open_kfid).ok_or_else(|| SimError::UnknownAccount(open_kfid.into()))?;
    let base = url_of(sim, CallbackTarget::Kf(corp.corp_id.clone()), &format!("{}/kf", corp.corp_id))?;
    let env = Envelope::new(&kf.encoding_aes_key)?;
    let (msg_id, said_seq, sync_token) = queue(sim, open_kfid, user, &msg)?;
    let xml = XmlOut::new()
        .cdata("ToUserName", &corp.corp_id)
        .raw("CreateTime", sim.now().seconds())
        .cdata("MsgType", "event")
        .cdata("Event", "kf_msg_or_event")
        .cdata("Token", &sync_token)
        .cdata("OpenKfId", open_kfid)
        .finish();
    let account = format!("{}/kf", corp.corp_id);
    let wire = Wire {
        base: &base,
        token: &kf.token,
        env: &env,
        corp_id: &corp.corp_id,
        agent: None,
        account: &account,
    };
    let outcome = push(sim, &wire, &xml).await?;
    Ok(acknowledged(sim, user, said_seq, outcome, msg_id))
}

/// Puts the customer's step into the queue; returns (msgid, said seq, sync token).
fn queue(
    sim: &Sim,
    open_kfid: &str,
    user: &str,
    msg: &SimMessage,
) -> Result<(Option<String>, u64, String), SimError> {
    let now = sim.now();
    let mut inner = sim.lock();
    let (msg_id, media_id) = match msg {
        SimMessage::Event { event, key } if event == "enter_session" => {
            inner.kf.enter(open_kfid, user, key.as_deref().unwrap_or_default(), now);
            (None, None)
        }
        _ => {
            let (msgtype, body) = inbound::for_kf(msg, &mut inner, now)?;
            let media_id = body.get("media_id").and_then(|m| m.as_str()).map(str::to_owned);
            if inner.kf.needs_new_session(open_kfid, user) {
                inner.kf.enter(open_kfid, user, "", now);
            }
            (Some(inner.kf.customer_message(open_kfid, user, msgtype, body, now)), media_id)
        }
    };
    let said = said(SimChannel::Kf, open_kfid, user, msg, media_id, now);
    let seq = inner.record_said(said);
    Ok((msg_id, seq, inner.kf.issue_sync_token(open_kfid, now)))
}

/// WeCom only wants HTTP 200 for a notification; the body is ignored.
fn acknowledged(sim: &Sim, user: &str, said_seq: u64, outcome: Outcome, msg_id: Option<String>) -> Delivery {
    let ok = outcome.body.is_some();
    let error = (!ok).then(|| format!("{KF_FAILED} ({})", outcome.error.as_deref().unwrap_or("no answer")));
    if !ok {
        sim.lock().mark_said_failed(user, said_seq, KF_FAILED);
    }
    Delivery { attempts: outcome.attempts, status: outcome.status, ok, passive_reply: None, error, msg_id }
}

fn verify_keys<'a>(
    sim: &'a Sim,
    corp_id: &str,
    target: WecomTarget,
) -> Result<(&'a str, &'a str, CallbackTarget), SimError> {
    let corp = sim.config.corp(corp_id).ok_or_else(|| SimError::UnknownAccount(corp_id.into()))?;
    let missing = || SimError::UnknownAccount(format!("{corp_id} has no {target:?} configured"));
    match target {
        WecomTarget::App => corp
            .app
            .as_ref()
            .map(|a| {
                (a.token.as_str(), a.encoding_aes_key.as_str(), CallbackTarget::WecomApp(corp_id.into()))
            })
            .ok_or_else(missing),
        WecomTarget::Kf => corp
            .kf
            .as_ref()
            .map(|k| (k.token.as_str(), k.encoding_aes_key.as_str(), CallbackTarget::Kf(corp_id.into())))
            .ok_or_else(missing),
    }
}

/// The GET WeCom makes when a callback URL is saved: echostr is an encrypted random number,
/// signed, URL-encoded; the answer must be its plaintext and nothing else.
pub async fn get_verify(sim: &Sim, corp_id: &str, target: WecomTarget) -> Result<Verification, SimError> {
    let (token, key, cb) = verify_keys(sim, corp_id, target)?;
    let base = url_of(sim, cb, corp_id)?;
    let env = Envelope::new(key)?;
    let plain =
        rand::rng().random_range(1_000_000_000_000_000_000u64..10_000_000_000_000_000_000).to_string();
    let echostr = env.seal(&plain, corp_id);
    let (ts, nonce) = (sim.now().seconds().to_string(), random_nonce());
    let sig = signature(&[token, &ts, &nonce, &echostr]);
    let url = with_query(
        &base,
        &[("msg_signature", &sig), ("timestamp", &ts), ("nonce", &nonce), ("echostr", &echostr)],
    )?;
    Ok(verification(deliver::get(sim, &url).await, &plain))
}
