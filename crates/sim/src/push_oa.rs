//! The OA platform pushing to kefu: a follower's message or event in plain, compatible or
//! safe mode, the passive reply it gets back, and the server URL verification.

use crate::config::{OaAccount, OaMode};
use crate::crypto::{Envelope, random_nonce, signature};
use crate::deliver::{self, Outcome, with_query};
use crate::error::SimError;
use crate::inbound::{self, Head};
use crate::model::{CallbackTarget, Delivery, Said, SimChannel, SimMessage, Verification};
use crate::reply::{self, Expect, OA_UNAVAILABLE};
use crate::state::Sim;
use crate::xml::cdata;

/// A follower of `app_id` does something; returns how the push went.
pub async fn user_says(sim: &Sim, app_id: &str, openid: &str, msg: SimMessage) -> Result<Delivery, SimError> {
    let acct = sim.config.oa(app_id).ok_or_else(|| SimError::UnknownAccount(app_id.into()))?;
    let base = sim
        .callback_url(&CallbackTarget::Oa(app_id.into()))
        .ok_or_else(|| SimError::NoCallbackUrl(app_id.into()))?;
    let env = match acct.mode {
        OaMode::Plain => None,
        _ => Some(Envelope::new(&acct.encoding_aes_key)?),
    };
    let now = sim.now();
    let (xml, msg_id, said_seq) = prepare(sim, acct, openid, &msg)?;
    let (query, body) = wrap(acct, env.as_ref(), openid, &xml, now.seconds());
    let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = with_query(&base, &pairs)?;
    let outcome = deliver::post(sim, app_id, &url, &body).await;
    let expect = Expect {
        token: &acct.token,
        envelope: env.as_ref(),
        receive_id: &acct.app_id,
        user: openid,
        account: &acct.original_id,
        to_message: !msg.is_event(),
    };
    let mut d = reply::conclude(sim, &expect, SimChannel::Oa, app_id, outcome, said_seq, OA_UNAVAILABLE);
    d.msg_id = msg_id.map(|m| m.to_string());
    Ok(d)
}

/// Records what the user did and builds the plaintext XML; returns (xml, MsgId, said seq).
fn prepare(
    sim: &Sim,
    acct: &OaAccount,
    openid: &str,
    msg: &SimMessage,
) -> Result<(String, Option<u64>, u64), SimError> {
    let now = sim.now();
    let mut inner = sim.lock();
    let body = inbound::for_xml(msg, &mut inner, &sim.base_url, now)?;
    let follower = inner.follower(&acct.app_id, openid, now);
    match msg {
        SimMessage::Event { event, .. } if event == "unsubscribe" => follower.subscribed = false,
        _ => {
            if !follower.subscribed {
                follower.subscribed = true;
                follower.subscribe_time = now;
            }
            follower.window.user_wrote(now);
        }
    }
    let msg_id = (!msg.is_event()).then(|| inner.next_msg_id());
    let head = Head { to: &acct.original_id, from: openid, create_time: now.seconds() };
    let xml = inbound::render(&head, &body, msg_id, None);
    let said = Said {
        seq: 0,
        channel: SimChannel::Oa,
        account: acct.app_id.clone(),
        user: openid.to_owned(),
        message: msg.clone(),
        media_id: body.media_id,
        at: now,
        error: None,
        conversation: None,
    };
    Ok((xml, msg_id, inner.record_said(said)))
}

/// The query and body for the account's mode.
fn wrap(
    acct: &OaAccount,
    env: Option<&Envelope>,
    openid: &str,
    xml: &str,
    now_s: i64,
) -> (Vec<(&'static str, String)>, String) {
    let (ts, nonce) = (now_s.to_string(), random_nonce());
    let sig = signature(&[&acct.token, &ts, &nonce]);
    let mut query = vec![("signature", sig), ("timestamp", ts.clone()), ("nonce", nonce.clone())];
    query.push(("openid", openid.to_owned()));
    let Some(env) = env else {
        return (query, xml.to_owned());
    };
    let enc = env.seal(xml, &acct.app_id);
    query.push(("encrypt_type", "aes".to_owned()));
    query.push(("msg_signature", signature(&[&acct.token, &ts, &nonce, &enc])));
    let encrypt = format!("<Encrypt>{}</Encrypt>", cdata(&enc));
    let body = if acct.mode == OaMode::Compatible {
        let open = xml.strip_suffix("</xml>").unwrap_or(xml);
        format!("{open}\n{encrypt}\n</xml>")
    } else {
        format!("<xml><ToUserName>{}</ToUserName>\n{encrypt}\n</xml>", cdata(&acct.original_id))
    };
    (query, body)
}

/// The GET the OA console makes when the server URL is saved: echostr must come back verbatim.
pub async fn get_verify(sim: &Sim, app_id: &str, echostr: &str) -> Result<Verification, SimError> {
    let acct = sim.config.oa(app_id).ok_or_else(|| SimError::UnknownAccount(app_id.into()))?;
    let base = sim
        .callback_url(&CallbackTarget::Oa(app_id.into()))
        .ok_or_else(|| SimError::NoCallbackUrl(app_id.into()))?;
    let (ts, nonce) = (sim.now().seconds().to_string(), random_nonce());
    let sig = signature(&[&acct.token, &ts, &nonce]);
    let url = with_query(
        &base,
        &[("signature", &sig), ("timestamp", &ts), ("nonce", &nonce), ("echostr", echostr)],
    )?;
    Ok(verification(deliver::get(sim, &url).await, echostr))
}

/// Judges a verification answer: HTTP 200 and exactly the expected body, nothing around it.
pub fn verification(out: Outcome, expected: &str) -> Verification {
    let body = out.body.unwrap_or_default();
    let ok = out.status == Some(200) && body == expected;
    let error = match (&out.error, ok) {
        (Some(e), _) => Some(e.clone()),
        (None, false) => Some(format!("expected HTTP 200 with body {expected:?}")),
        (None, true) => None,
    };
    Verification { ok, status: out.status, expected: expected.to_owned(), body, error }
}
