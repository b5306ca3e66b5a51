//! The DingTalk part of the control API under /sim/api/dingtalk: play a user (one-to-one or
//! in a group), redeliver, send events, and read the last sessionWebhook.

use crate::control::{ControlError, Reply, json_ok};
use crate::model::{DtChat, SimMessage};
use crate::state::Sim;
use crate::{dt_event, dt_push};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/sim/api/dingtalk/say", post(say))
        .route("/sim/api/dingtalk/{app_key}/redeliver", post(redeliver))
        .route("/sim/api/dingtalk/{app_key}/events", post(event))
        .route("/sim/api/dingtalk/{app_key}/check_url", post(check_url))
        .route("/sim/api/dingtalk/sessions/{staff_id}", get(session))
}

/// `{"app_key", "staff_id", "text"}` or `{…, "message": SimMessage}`, plus an optional
/// `"group": {"open_conversation_id", "title", "at_robot"}`.
#[derive(Debug, Deserialize)]
struct Say {
    app_key: String,
    staff_id: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    message: Option<SimMessage>,
    #[serde(default)]
    group: Option<Group>,
}

#[derive(Debug, Deserialize)]
struct Group {
    open_conversation_id: String,
    #[serde(default)]
    title: String,
    #[serde(default = "yes")]
    at_robot: bool,
}

fn yes() -> bool {
    true
}

async fn say(State(sim): State<Arc<Sim>>, body: Result<Json<Say>, JsonRejection>) -> Reply {
    let b = body?.0;
    let msg = match (b.message, b.text) {
        (Some(m), _) => m,
        (None, Some(t)) => SimMessage::text(t),
        (None, None) => {
            return Err(ControlError(StatusCode::BAD_REQUEST, "give either text or message".into()));
        }
    };
    let chat = match b.group {
        None => DtChat::Direct,
        Some(g) => DtChat::Group {
            open_conversation_id: g.open_conversation_id,
            title: g.title,
            at_robot: g.at_robot,
        },
    };
    json_ok(dt_push::user_says(&sim, &b.app_key, &b.staff_id, msg, chat).await?)
}

async fn redeliver(State(sim): State<Arc<Sim>>, Path(app_key): Path<String>) -> Reply {
    json_ok(dt_push::redeliver_last(&sim, &app_key).await?)
}

async fn event(
    State(sim): State<Arc<Sim>>,
    Path(app_key): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Reply {
    json_ok(dt_event::push(&sim, &app_key, &body?.0).await?)
}

async fn check_url(State(sim): State<Arc<Sim>>, Path(app_key): Path<String>) -> Reply {
    json_ok(dt_event::push(&sim, &app_key, &json!({ "EventType": "check_url" })).await?)
}

async fn session(State(sim): State<Arc<Sim>>, Path(staff_id): Path<String>) -> Reply {
    json_ok(json!({ "session_webhook": sim.lock().dt.last_session_url(&staff_id) }))
}
