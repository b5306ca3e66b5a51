//! Platform callbacks (WeChat OA, WeCom app, 微信客服): verify, decrypt, store, acknowledge fast.
//!
//! A message is acknowledged only after it is stored. Anything bad — signature, replayed
//! timestamp, tampered ciphertext, foreign app, XXE, truncated XML, oversized body — gets a
//! 4xx with a plain reason and stores nothing.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_channels::wechat::callback::{CallbackError, CallbackQuery};
use kefu_channels::wechat::message::XmlMessage;
use kefu_channels::wechat::oa::{OaCallback, Opened};
use kefu_channels::wechat::wecom::{WecomCallback, WecomPush, classify};
use kefu_domain::*;
use kefu_store::{Inbound, IngestOutcome, Profile};

use crate::state::AppState;

/// Largest callback body accepted. WeChat's messages are a few KB.
pub const MAX_CALLBACK_BYTES: usize = 256 * 1024;

pub(crate) fn plain(status: StatusCode, text: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text.into()).into_response()
}

/// Why a callback was refused: a status and a plain reason for the platform's logs.
pub struct Reject(pub StatusCode, pub String);

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        plain(self.0, self.1)
    }
}

fn reject(e: CallbackError) -> Reject {
    let status = if e.is_auth() { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
    Reject(status, e.to_string())
}

pub(crate) fn body_text(body: &Bytes) -> Result<&str, Reject> {
    if body.len() > MAX_CALLBACK_BYTES {
        return Err(Reject(StatusCode::PAYLOAD_TOO_LARGE, "callback body too large".into()));
    }
    std::str::from_utf8(body)
        .map_err(|_| Reject(StatusCode::BAD_REQUEST, "callback body is not valid UTF-8".into()))
}

pub(crate) async fn load_channel(
    state: &AppState,
    key: &str,
    kinds: &[ChannelKind],
) -> Result<Channel, Reject> {
    match state.store.channel_by_key(key).await {
        Ok(c) if kinds.contains(&c.kind) && c.enabled => Ok(c),
        Ok(_) | Err(kefu_store::StoreError::NotFound) => {
            Err(Reject(StatusCode::NOT_FOUND, "unknown channel".into()))
        }
        Err(e) => Err(unavailable(e)),
    }
}

pub(crate) fn misconfigured(e: impl std::fmt::Display) -> Reject {
    tracing::error!(error = %e, "channel misconfigured");
    Reject(StatusCode::SERVICE_UNAVAILABLE, "channel is not configured".into())
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> Reject {
    tracing::error!(error = %e, "callback not stored");
    // A 5xx makes the platform retry, which is what we want when storage failed.
    Reject(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable".into())
}

fn inbound_of(channel: &Channel, m: XmlMessage, now: Timestamp, passive: bool) -> Inbound {
    Inbound {
        passive,
        channel_id: channel.id,
        external_id: m.from,
        profile: Profile::default(),
        dedupe_key: Some(m.dedupe_key),
        content: m.content,
        received_at: now,
        initial_state: ConversationState::Queued,
        initial_group: None,
    }
}

pub async fn wechat_verify(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let verify = async {
        let channel = load_channel(&state, &key, &[ChannelKind::WechatOa]).await?;
        let cb = OaCallback::from_channel(&channel).map_err(misconfigured)?;
        cb.verify_url(&q, state.clock.now()).map_err(reject)
    };
    match verify.await {
        Ok(echo) => plain(StatusCode::OK, echo),
        Err(r) => r.into_response(),
    }
}

pub async fn wechat_message(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<CallbackQuery>,
    body: Bytes,
) -> Response {
    match wechat_message_inner(&state, &key, &q, &body).await {
        Ok(r) => r,
        Err(r) => r.into_response(),
    }
}

async fn wechat_message_inner(
    state: &AppState,
    key: &str,
    q: &CallbackQuery,
    body: &Bytes,
) -> Result<Response, Reject> {
    let text = body_text(body)?;
    let channel = load_channel(state, key, &[ChannelKind::WechatOa]).await?;
    let cb = OaCallback::from_channel(&channel).map_err(misconfigured)?;
    let now = state.clock.now();
    let opened = cb.open(q, text, now).map_err(reject)?;
    let msg = cb.message(&opened).map_err(reject)?;
    let inbound = inbound_of(&channel, msg.clone(), now, true);
    let reply = match state.engine.receive_retrying(inbound).await.map_err(unavailable)? {
        IngestOutcome::Accepted(a) => passive_reply(state, &channel, &a).await,
        IngestOutcome::Duplicate(m) => retried_reply(state, &channel, &m).await,
    };
    let xml = reply.and_then(|c| kefu_channels::wechat::oa::passive_reply(&msg, &c, now));
    Ok(match xml {
        Some(xml) => {
            let nonce = q.nonce.clone().unwrap_or_default();
            let sealed = seal(&cb, &opened, &xml, now, &nonce);
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/xml; charset=utf-8")], sealed)
                .into_response()
        }
        // "success" tells WeChat not to retry; the answer, if any, goes out via the send API.
        None => plain(StatusCode::OK, "success"),
    })
}

fn seal(cb: &OaCallback, opened: &Opened, xml: &str, now: Timestamp, nonce: &str) -> String {
    cb.seal(opened, xml, now, nonce)
}

/// The reply that fits in this HTTP response: the message's `inbound` job runs at once (on
/// the job runner, never cancelled) and holds its first reply for a few seconds; if the job
/// is done within the budget, that reply is taken for the response. Otherwise WeChat gets
/// `success` and the held reply goes out through the customer-service API right away.
async fn passive_reply(state: &AppState, channel: &Channel, a: &kefu_store::Accepted) -> Option<Content> {
    let inbound = &a.message;
    let done = state.jobs.expedite(a.job?).await;
    // WeChat gives up after 5 seconds; a passive reply must be ready well before that.
    let budget = Duration::from_millis(state.config.passive_budget_ms);
    let finished = tokio::time::timeout(budget, done).await.is_ok();
    let key = kefu_engine::turns::passive_key(inbound.id);
    let now = state.clock.now();
    if finished && let Ok(Some(m)) = state.store.take_held(channel.id, &key, now).await {
        state.engine.announce_message(m.clone()).await;
        return Some(m.content);
    }
    if let Err(e) = state.store.release_held(channel.id, &key, now).await {
        tracing::warn!(error = %e, "held reply not released; it goes out when its hold ends");
    }
    None
}

/// WeChat retried a message we already stored: give the passive reply again if that is how
/// it was answered (the first response may have been lost), or take a reply still held.
async fn retried_reply(state: &AppState, channel: &Channel, inbound: &Message) -> Option<Content> {
    let key = kefu_engine::turns::passive_key(inbound.id);
    if let Ok(Some(m)) = state.store.take_held(channel.id, &key, state.clock.now()).await {
        return Some(m.content);
    }
    let earlier = state.engine.passive_reply_to(inbound).await.ok().flatten()?;
    (earlier.platform_msg_id.as_deref() == Some(kefu_store::PASSIVE)).then_some(earlier.content)
}

pub async fn wecom_verify(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let verify = async {
        let channel = load_channel(&state, &key, &[ChannelKind::Wecom, ChannelKind::WecomKf]).await?;
        let cb = WecomCallback::from_channel(&channel).map_err(misconfigured)?;
        cb.verify_url(&q, state.clock.now()).map_err(reject)
    };
    match verify.await {
        Ok(plaintext) => plain(StatusCode::OK, plaintext),
        Err(r) => r.into_response(),
    }
}

pub async fn wecom_message(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<CallbackQuery>,
    body: Bytes,
) -> Response {
    match wecom_message_inner(&state, &key, &q, &body).await {
        Ok(r) => r,
        Err(r) => r.into_response(),
    }
}

async fn wecom_message_inner(
    state: &AppState,
    key: &str,
    q: &CallbackQuery,
    body: &Bytes,
) -> Result<Response, Reject> {
    let text = body_text(body)?;
    let channel = load_channel(state, key, &[ChannelKind::Wecom, ChannelKind::WecomKf]).await?;
    let cb = WecomCallback::from_channel(&channel).map_err(misconfigured)?;
    let now = state.clock.now();
    let doc = cb.open(q, text, now).map_err(reject)?;
    match classify(&doc).map_err(reject)? {
        WecomPush::KfNotify { open_kfid, token } => {
            // WeCom wants its answer within 5 s; the pull is a job that may take longer.
            let target = kf_channel(state, &channel, &open_kfid).await?;
            let job = NewJob { job: Job::KfPull { channel: target.id, token }, run_at: now };
            state.engine.enqueue(vec![job]).await.map_err(unavailable)?;
        }
        WecomPush::Message(m) => {
            state.engine.receive_retrying(inbound_of(&channel, m, now, false)).await.map_err(unavailable)?;
        }
    }
    // WeCom: HTTP 200 with an empty body means "received"; replies go through the API.
    Ok(plain(StatusCode::OK, ""))
}

/// The 微信客服 channel for `open_kfid`: the called one, or a sibling of the same corp (all
/// accounts of a corp share one callback URL).
async fn kf_channel(state: &AppState, called: &Channel, open_kfid: &str) -> Result<Channel, Reject> {
    if called.setting("open_kfid") == Some(open_kfid) {
        return Ok(called.clone());
    }
    let all = state.store.channels().await.map_err(unavailable)?;
    all.into_iter()
        .find(|c| {
            c.kind == ChannelKind::WecomKf
                && c.enabled
                && c.setting("corp_id") == called.setting("corp_id")
                && c.setting("open_kfid") == Some(open_kfid)
        })
        .ok_or_else(|| Reject(StatusCode::NOT_FOUND, "unknown 微信客服 account".into()))
}
