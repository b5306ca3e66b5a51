//! The simulator's HTTP surface: the WeChat and DingTalk platform APIs at their real paths
//! (with faults applied), the control API under /sim/api and the demo page under /sim/.

use crate::state::Sim;
use crate::{control, dt_api, dt_control, dt_send, faults, kf, media, oa, sms, ui, wecom};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use std::sync::Arc;

/// Uploads up to the largest temporary-media limit plus multipart overhead.
const BODY_LIMIT: usize = 25 << 20;

pub fn router(sim: Arc<Sim>) -> Router {
    let platform = Router::new()
        .route("/cgi-bin/token", get(oa::token))
        .route("/cgi-bin/stable_token", post(oa::stable_token))
        .route("/cgi-bin/message/custom/send", post(oa::custom_send))
        .route("/cgi-bin/user/info", get(oa::user_info))
        .route("/cgi-bin/media/upload", post(media::upload))
        .route("/cgi-bin/media/get", get(media::get))
        .route("/cgi-bin/gettoken", get(wecom::gettoken))
        .route("/cgi-bin/message/send", post(wecom::message_send))
        .route("/cgi-bin/kf/sync_msg", post(kf::sync_msg))
        .route("/cgi-bin/kf/send_msg", post(kf::send_msg))
        .route("/cgi-bin/kf/send_msg_on_event", post(kf::send_msg_on_event))
        .route("/cgi-bin/kf/service_state/get", post(kf::state_get))
        .route("/cgi-bin/kf/service_state/trans", post(kf::state_trans))
        .route("/cgi-bin/kf/customer/batchget", post(kf::customer_batchget))
        .merge(dingtalk(&sim))
        .route_layer(middleware::from_fn_with_state(sim.clone(), faults::middleware));
    platform
        .merge(control::routes())
        .merge(dt_control::routes())
        .route("/dt/files/{code}", get(dt_api::file_bytes))
        .route("/sms/aliyun/", get(sms::aliyun).post(sms::aliyun))
        .route("/sms/tencent/", post(sms::tencent))
        .route("/sim/api/sms", get(sms::inbox))
        .merge(ui::routes())
        .route("/sim/media/{id}", get(media::public))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(sim)
}

/// DingTalk's OpenAPI (api.dingtalk.com) and legacy oapi (oapi.dingtalk.com) on one base URL,
/// behind the `http_429` fault.
fn dingtalk(sim: &Arc<Sim>) -> Router<Arc<Sim>> {
    Router::new()
        .route("/v1.0/oauth2/accessToken", post(dt_api::access_token))
        .route("/v1.0/robot/oToMessages/batchSend", post(dt_send::batch_send))
        .route("/v1.0/robot/groupMessages/send", post(dt_send::group_send))
        .route("/v1.0/robot/messageFiles/download", post(dt_api::file_download))
        .route("/robot/sendBySession", post(dt_send::send_by_session))
        .route("/gettoken", get(dt_api::gettoken))
        .route("/media/upload", post(dt_api::media_upload))
        .route("/topapi/v2/user/get", post(dt_api::user_get))
        .route_layer(middleware::from_fn_with_state(sim.clone(), dt_api::throttle))
}
