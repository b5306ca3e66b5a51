//! Every `/api` route, registered together with its OpenAPI operation (`routes!` reads each
//! handler's `#[utoipa::path]`), so the document lists exactly what the router serves.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::state::AppState;
use crate::{
    admin, agents, agents_import, api, apikeys, auth, customers, dashboard, data_api, feed, groups,
    jobs_admin, kb, kb_candidates, media, webhooks_admin, ws_agent,
};

/// The `/api` router (paths relative to `/api`) and the operations it serves.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::new()
        .merge(workbench())
        .merge(accounts())
        .merge(knowledge())
        .merge(admin())
        .merge(data())
        .split_for_parts()
}

fn workbench() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me, agents::update_me))
        .routes(routes!(agents::change_password))
        .routes(routes!(agents::my_sessions))
        .routes(routes!(agents::end_my_session))
        .routes(routes!(auth::set_status))
        .routes(routes!(api::list))
        .routes(routes!(api::detail))
        .routes(routes!(api::messages, api::reply))
        .routes(routes!(api::claim))
        .routes(routes!(api::close))
        .routes(routes!(api::transfer))
        .routes(routes!(customers::ask_phone))
        .routes(routes!(dashboard::set_conversation_tags))
        .routes(routes!(customers::search))
        .routes(routes!(customers::detail))
        .routes(routes!(customers::history))
        .routes(routes!(customers::set_tags))
        .routes(routes!(customers::add_note))
        .routes(routes!(customers::merge))
        .routes(routes!(customers::unmerge))
        .routes(routes!(ws_agent::agent_ws))
        .routes(routes!(feed::catch_up))
        .routes(routes!(media::message_media))
        .routes(routes!(media::upload).layer(DefaultBodyLimit::max(media::MAX_IMAGE_BYTES)))
        .routes(routes!(dashboard::dashboard))
}

fn accounts() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(groups::agents, agents::create))
        .routes(routes!(agents_import::import).layer(DefaultBodyLimit::max(kb::MAX_IMPORT_BYTES)))
        .routes(routes!(agents::get, agents::update))
        .routes(routes!(agents::force_logout))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::update))
}

fn knowledge() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kb::list, kb::save))
        .routes(routes!(kb::update, kb::delete))
        .routes(routes!(kb::import).layer(DefaultBodyLimit::max(kb::MAX_IMPORT_BYTES)))
        .routes(routes!(kb::export))
        .routes(routes!(kb::try_it))
        .routes(routes!(kb_candidates::mine).layer(DefaultBodyLimit::max(kb::MAX_IMPORT_BYTES)))
        .routes(routes!(kb_candidates::candidates))
        .routes(routes!(kb_candidates::accept))
        .routes(routes!(kb_candidates::reject))
}

fn admin() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::update))
        .routes(routes!(admin::test))
        .routes(routes!(apikeys::list, apikeys::create))
        .routes(routes!(apikeys::revoke))
        .routes(routes!(webhooks_admin::list, webhooks_admin::create))
        .routes(routes!(webhooks_admin::update))
        .routes(routes!(webhooks_admin::deliveries))
        .routes(routes!(webhooks_admin::redeliver))
        .routes(routes!(jobs_admin::list))
        .routes(routes!(jobs_admin::retry))
        .routes(routes!(webhooks_admin::outbound, webhooks_admin::set_outbound))
}

fn data() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(data_api::conversations))
        .routes(routes!(data_api::conversation))
        .routes(routes!(data_api::messages))
        .routes(routes!(data_api::customers))
        .routes(routes!(data_api::customer))
        .routes(routes!(data_api::changes))
        .routes(routes!(data_api::export_transcripts))
}
