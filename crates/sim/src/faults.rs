//! Injected misbehaviour of the platform API (expired tokens, errcodes, HTTP 500 and 429,
//! slowness, expired DingTalk sessions) and the counters tests read to see what kefu did.

use crate::state::Sim;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Faults to inject; setting them replaces the pending ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// Expire every token issued so far, DingTalk's included (WeChat answers 42001, DingTalk
    /// 401 `InvalidAuthentication` / 40014, until kefu fetches a new one).
    #[serde(default)]
    pub expire_tokens: bool,
    /// Returned by the next send calls, one code per call. DingTalk sends answer a session
    /// webhook with `{"errcode": code}` and an OpenAPI send with HTTP 400 `{"code": "code"}`.
    #[serde(default)]
    pub errcodes: Vec<i64>,
    /// The next n platform API calls (WeChat or DingTalk) answer HTTP 500.
    #[serde(default)]
    pub http_500: u32,
    /// Every platform API response is delayed this long until reset.
    #[serde(default)]
    pub delay_ms: u64,
    /// The next n DingTalk API calls answer HTTP 429 `{"code":"Throttling"}`.
    #[serde(default)]
    pub http_429: u32,
    /// Every DingTalk sessionWebhook answers "session已过期" until reset.
    #[serde(default)]
    pub dt_session_expired: bool,
}

#[derive(Debug, Default)]
pub struct FaultState {
    pub errcodes: VecDeque<i64>,
    pub http_500: u32,
    pub delay_ms: u64,
    pub http_429: u32,
    pub dt_session_expired: bool,
}

/// What happened so far; keys are account ids (app_id, `corp_id/app`, `corp_id/kf`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Token fetches per account (OA stable tokens under `app_id/stable`).
    pub token_fetches: BTreeMap<String, u64>,
    /// Accepted sends per kind (custom_send, app_send, kf_send, kf_event).
    pub sends: BTreeMap<String, u64>,
    /// Refused calls per errcode (window, quota, media, injected…).
    pub rejections: BTreeMap<String, u64>,
    /// Platform API calls, faults included.
    pub api_calls: u64,
    pub sync_msg_calls: u64,
    pub uploads: u64,
    /// Callback HTTP attempts in total and per account.
    pub callback_attempts: u64,
    pub callback_attempts_by_account: BTreeMap<String, u64>,
    /// Pushes that never got an acceptable answer.
    pub callback_failures: u64,
    /// DingTalk token fetches per app_key.
    #[serde(default)]
    pub dt_token_fetches: BTreeMap<String, u64>,
}

pub fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_default() += 1;
}

/// Replaces the pending faults; `expire_tokens` acts once, right now.
pub fn apply(sim: &Sim, faults: Faults) {
    let now = sim.now();
    let mut inner = sim.lock();
    if faults.expire_tokens {
        inner.tokens.expire_all(now);
    }
    inner.faults.errcodes = faults.errcodes.into();
    inner.faults.http_500 = faults.http_500;
    inner.faults.delay_ms = faults.delay_ms;
    inner.faults.http_429 = faults.http_429;
    inner.faults.dt_session_expired = faults.dt_session_expired;
}

/// Wraps the platform API: counts calls, applies the HTTP 500 and delay faults.
pub async fn middleware(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let (fail, delay) = {
        let mut inner = sim.lock();
        inner.stats.api_calls += 1;
        let fail = inner.faults.http_500 > 0;
        if fail {
            inner.faults.http_500 -= 1;
        }
        (fail, inner.faults.delay_ms)
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if fail {
        return (StatusCode::INTERNAL_SERVER_ERROR, "simulated platform failure").into_response();
    }
    next.run(req).await
}
