//! The control API under /sim/api: lets tests, the demo page and scripts play the users,
//! read what kefu sent them, inject faults and read the counters.

use crate::crypto::random_alnum;
use crate::error::SimError;
use crate::faults::{self, Faults};
use crate::model::{CallbackTarget, SimMessage, WecomTarget};
use crate::state::Sim;
use crate::{handle, push_oa, push_wecom};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/sim/api/config", get(config))
        .route("/sim/api/oa/{app_id}/users/{openid}/messages", post(oa_says))
        .route("/sim/api/oa/{app_id}/verify", post(oa_verify))
        .route("/sim/api/wecom/{corp_id}/members/{userid}/messages", post(member_says))
        .route("/sim/api/wecom/{corp_id}/verify/{target}", post(wecom_verify))
        .route("/sim/api/kf/{open_kfid}/customers/{user}/messages", post(customer_says))
        .route("/sim/api/kf/{open_kfid}/customers/{user}/state", get(kf_state))
        .route("/sim/api/inbox/{user}", get(inbox))
        .route("/sim/api/timeline/{user}", get(timeline))
        .route("/sim/api/faults", post(set_faults))
        .route("/sim/api/stats", get(stats))
        .route("/sim/api/callbacks", post(set_callback).put(set_callback))
}

/// Control errors are plain HTTP errors with `{"error": "..."}`.
pub(crate) struct ControlError(pub StatusCode, pub String);

impl From<SimError> for ControlError {
    fn from(e: SimError) -> Self {
        ControlError(
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.to_string(),
        )
    }
}

impl From<JsonRejection> for ControlError {
    fn from(e: JsonRejection) -> Self {
        ControlError(StatusCode::BAD_REQUEST, e.body_text())
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

pub(crate) type Reply = Result<Response, ControlError>;

pub(crate) fn json_ok<T: Serialize>(v: T) -> Reply {
    Ok(Json(v).into_response())
}

/// The accounts and users, without secrets, for the demo page's pickers.
async fn config(State(sim): State<Arc<Sim>>) -> Reply {
    let c = &sim.config;
    let oa: Vec<_> =
        c.oa.iter()
            .map(|a| json!({ "app_id": a.app_id, "original_id": a.original_id, "mode": a.mode }))
            .collect();
    let wecom: Vec<_> = c
        .wecom
        .iter()
        .map(|w| {
            json!({
                "corp_id": w.corp_id,
                "agent_id": w.app.as_ref().map(|a| a.agent_id),
                "open_kfids": w.kf.as_ref().map(|k| k.open_kfids.clone()).unwrap_or_default(),
            })
        })
        .collect();
    let users: Vec<_> = c.users.iter().map(|u| json!({ "id": u.id, "nickname": u.nickname })).collect();
    let dingtalk: Vec<_> = c
        .dingtalk
        .iter()
        .map(|a| json!({ "app_key": a.app_key, "corp_id": a.corp_id, "robot_name": a.robot_name }))
        .collect();
    let dt_users: Vec<_> =
        c.dingtalk_users.iter().map(|u| json!({ "staff_id": u.staff_id, "nick": u.nick })).collect();
    json_ok(
        json!({ "oa": oa, "wecom": wecom, "users": users, "dingtalk": dingtalk, "dingtalk_users": dt_users }),
    )
}

async fn oa_says(
    State(sim): State<Arc<Sim>>,
    Path((app_id, openid)): Path<(String, String)>,
    msg: Result<Json<SimMessage>, JsonRejection>,
) -> Reply {
    json_ok(push_oa::user_says(&sim, &app_id, &openid, msg?.0).await?)
}

async fn member_says(
    State(sim): State<Arc<Sim>>,
    Path((corp_id, userid)): Path<(String, String)>,
    msg: Result<Json<SimMessage>, JsonRejection>,
) -> Reply {
    json_ok(push_wecom::member_says(&sim, &corp_id, &userid, msg?.0).await?)
}

async fn customer_says(
    State(sim): State<Arc<Sim>>,
    Path((open_kfid, user)): Path<(String, String)>,
    msg: Result<Json<SimMessage>, JsonRejection>,
) -> Reply {
    json_ok(push_wecom::customer_says(&sim, &open_kfid, &user, msg?.0).await?)
}

#[derive(Debug, Default, Deserialize)]
struct VerifyBody {
    #[serde(default)]
    echostr: Option<String>,
}

async fn oa_verify(
    State(sim): State<Arc<Sim>>,
    Path(app_id): Path<String>,
    body: Option<Json<VerifyBody>>,
) -> Reply {
    let echostr = body.and_then(|b| b.0.echostr).unwrap_or_else(|| random_alnum(19));
    json_ok(push_oa::get_verify(&sim, &app_id, &echostr).await?)
}

async fn wecom_verify(State(sim): State<Arc<Sim>>, Path((corp_id, target)): Path<(String, String)>) -> Reply {
    let target = match target.as_str() {
        "app" => WecomTarget::App,
        "kf" => WecomTarget::Kf,
        _ => return Err(ControlError(StatusCode::NOT_FOUND, "target must be app or kf".into())),
    };
    json_ok(push_wecom::get_verify(&sim, &corp_id, target).await?)
}

async fn kf_state(State(sim): State<Arc<Sim>>, Path((open_kfid, user)): Path<(String, String)>) -> Reply {
    let inner = sim.lock();
    let s = inner.kf.session(&open_kfid, &user);
    json_ok(json!({
        "service_state": s.map_or(4, |s| s.state),
        "servicer_userid": s.map(|s| s.servicer.clone()).unwrap_or_default(),
    }))
}

async fn inbox(State(sim): State<Arc<Sim>>, Path(user): Path<String>) -> Reply {
    let received = sim.lock().timelines.get(&user).map(|t| t.received.clone()).unwrap_or_default();
    json_ok(received)
}

async fn timeline(State(sim): State<Arc<Sim>>, Path(user): Path<String>) -> Reply {
    let t = sim.lock().timelines.get(&user).cloned().unwrap_or_default();
    json_ok(t)
}

async fn set_faults(State(sim): State<Arc<Sim>>, f: Result<Json<Faults>, JsonRejection>) -> Reply {
    faults::apply(&sim, f?.0);
    json_ok(json!({ "ok": true }))
}

async fn stats(State(sim): State<Arc<Sim>>) -> Reply {
    let s = sim.lock().stats.clone();
    json_ok(s)
}

/// `{"channel": "oa" | "wecom_app" | "kf" | "dingtalk_robot" | "dingtalk_events", "id": app_id,
/// corp_id or app_key, "url": "http://…"}`.
#[derive(Debug, Deserialize)]
struct SetCallback {
    channel: String,
    id: String,
    url: String,
}

async fn set_callback(State(sim): State<Arc<Sim>>, body: Result<Json<SetCallback>, JsonRejection>) -> Reply {
    let b = body?.0;
    let target = match b.channel.as_str() {
        "oa" => CallbackTarget::Oa(b.id),
        "wecom_app" => CallbackTarget::WecomApp(b.id),
        "kf" => CallbackTarget::Kf(b.id),
        "dingtalk_robot" => CallbackTarget::DingtalkRobot(b.id),
        "dingtalk_events" => CallbackTarget::DingtalkEvents(b.id),
        _ => {
            let msg = "channel must be oa, wecom_app, kf, dingtalk_robot or dingtalk_events";
            return Err(ControlError(StatusCode::BAD_REQUEST, msg.into()));
        }
    };
    handle::set_callback_url(&sim, target, &b.url)?;
    json_ok(json!({ "ok": true }))
}
