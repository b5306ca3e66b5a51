//! DingTalk callbacks: the robot's message callback (signed with the app secret) and the
//! encrypted event subscription. As with WeChat, a message is acknowledged only once stored;
//! a bad sign, a stale timestamp, malformed JSON or an oversized body gets a 4xx and stores
//! nothing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kefu_channels::dingtalk::events::{EventCallback, EventQuery};
use kefu_channels::dingtalk::robot::{self, Robot};
use kefu_channels::dingtalk::sign;
use kefu_domain::ChannelKind;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::callbacks::{Reject, body_text, load_channel, misconfigured, unavailable};
use crate::state::AppState;

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub async fn robot_message(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match robot_inner(&state, &key, &headers, &body).await {
        Ok(()) => Json(json!({})).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn robot_inner(state: &AppState, key: &str, headers: &HeaderMap, body: &Bytes) -> Result<(), Reject> {
    let text = body_text(body)?;
    let channel = load_channel(state, key, &[ChannelKind::Dingtalk]).await?;
    let secret = channel.secret("app_secret").ok_or_else(|| misconfigured("app_secret is not set"))?;
    let now = state.clock.now();
    let signed_at = sign::verify(header(headers, "timestamp"), header(headers, "sign"), secret, now)
        .map_err(|e| Reject(StatusCode::UNAUTHORIZED, e.to_string()))?;
    let message = match robot::parse(text).map_err(|e| Reject(StatusCode::BAD_REQUEST, e.to_string()))? {
        Robot::Message(m) => *m,
        Robot::Ignored(why) => {
            tracing::debug!(why, "DingTalk callback ignored");
            return Ok(());
        }
    };
    // A (timestamp, sign) pair seen in any log would otherwise sign any body for an hour.
    let body_hash: String = Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect();
    let sign = header(headers, "sign").unwrap_or_default();
    let until = signed_at.plus(std::time::Duration::from_millis(sign::WINDOW_MS as u64));
    if !state.store.remember_signature(channel.id, sign, &body_hash, until, now).await.map_err(unavailable)? {
        return Err(Reject(
            StatusCode::UNAUTHORIZED,
            "this signature was already used for another message".into(),
        ));
    }
    // The answer and the profile lookup are jobs written with the message: DingTalk gets its
    // acknowledgement at once and nothing is lost if this node dies.
    kefu_engine::dingtalk::receive(&state.engine, &channel, message).await.map_err(unavailable)?;
    Ok(())
}

pub async fn event(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<EventQuery>,
    body: Bytes,
) -> Response {
    let handled = async {
        let text = body_text(&body)?;
        let channel = load_channel(&state, &key, &[ChannelKind::Dingtalk]).await?;
        let cb = EventCallback::from_channel(&channel).map_err(misconfigured)?;
        let now = state.clock.now();
        let event = cb.open(&q, text, now).map_err(|e| {
            let status = if e.is_auth() { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
            Reject(status, e.to_string())
        })?;
        tracing::info!(event = %event["EventType"], channel = %channel.key, "DingTalk event");
        Ok::<_, Reject>(cb.success(now, q.nonce.as_deref().unwrap_or_default()))
    };
    match handled.await {
        Ok(reply) => Json(reply).into_response(),
        Err(r) => r.into_response(),
    }
}
