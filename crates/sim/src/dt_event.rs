//! DingTalk's event subscription (事件订阅) over HTTP: the event JSON sealed in the shared
//! envelope (receive_id = app_key), POSTed as `{"encrypt"}` with `signature`, `timestamp`
//! (ms) and `nonce` in the query; kefu must answer an encrypted, signed `success`.

use crate::config::DingtalkApp;
use crate::crypto::{Envelope, random_alnum, same, signature};
use crate::deliver::{self, Outcome, Push, with_query};
use crate::dt_push::JSON_UTF8;
use crate::error::SimError;
use crate::model::{CallbackTarget, Delivery};
use crate::state::Sim;
use serde_json::{Value, json};

/// Sends one event; `ok` only for a verifiable encrypted `success`.
pub async fn push(sim: &Sim, app_key: &str, event: &Value) -> Result<Delivery, SimError> {
    let app = sim.config.dingtalk(app_key).ok_or_else(|| SimError::UnknownAccount(app_key.into()))?;
    let base = sim
        .callback_url(&CallbackTarget::DingtalkEvents(app_key.into()))
        .ok_or_else(|| SimError::NoCallbackUrl(format!("{app_key}/events")))?;
    let env = Envelope::new(&app.event_aes_key)?;
    let enc = env.seal(&event.to_string(), app_key);
    let (ts, nonce) = (sim.now().millis().to_string(), random_alnum(8));
    let sig = signature(&[&app.event_token, &ts, &nonce, &enc]);
    let url = with_query(&base, &[("signature", &sig), ("timestamp", &ts), ("nonce", &nonce)])?;
    let body = json!({ "encrypt": enc }).to_string();
    let account = format!("{app_key}/events");
    let outcome =
        deliver::send(sim, &account, &Push { url: &url, body: &body, content_type: JSON_UTF8, headers: &[] })
            .await;
    Ok(judge(app, &env, outcome))
}

fn judge(app: &DingtalkApp, env: &Envelope, outcome: Outcome) -> Delivery {
    let mut d = Delivery { attempts: outcome.attempts, status: outcome.status, ..Delivery::default() };
    let result = match outcome.body {
        None => Err(outcome.error.unwrap_or_else(|| "no answer".into())),
        Some(body) => check_answer(app, env, &body),
    };
    match result {
        Ok(()) => d.ok = true,
        Err(e) => d.error = Some(format!("返回文本非success (71009): {e}")),
    }
    d
}

/// A JSON field DingTalk reads as a string; SDKs send the timestamp as either kind.
fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The answer must be `{"msg_signature","timeStamp","nonce","encrypt"}` with a valid
/// signature over an envelope that opens (for this app) to exactly `success`.
pub fn check_answer(app: &DingtalkApp, env: &Envelope, body: &str) -> Result<(), String> {
    let v: Value =
        serde_json::from_str(body.trim()).map_err(|_| format!("the answer is not JSON: {body:?}"))?;
    let field = |k: &str| text(&v, k).ok_or_else(|| format!("the answer lacks {k:?}: {body}"));
    let (sig, ts, nonce, enc) =
        (field("msg_signature")?, field("timeStamp")?, field("nonce")?, field("encrypt")?);
    if !same(&signature(&[&app.event_token, &ts, &nonce, &enc]), &sig) {
        return Err("msg_signature does not verify".into());
    }
    let plain = env.open(&enc, &app.app_key).map_err(|e| format!("encrypt does not open: {e}"))?;
    if plain != "success" {
        return Err(format!("encrypt holds {plain:?}, not \"success\""));
    }
    Ok(())
}
