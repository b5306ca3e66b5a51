//! The simulator's HTTP surface: the platform API at the real paths (with faults applied),
//! the control API under /sim/api and the demo page under /sim/.

use crate::state::Sim;
use crate::{control, faults, kf, media, oa, ui, wecom};
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
        .route_layer(middleware::from_fn_with_state(sim.clone(), faults::middleware));
    platform
        .merge(control::routes())
        .merge(ui::routes())
        .route("/sim/media/{id}", get(media::public))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(sim)
}
