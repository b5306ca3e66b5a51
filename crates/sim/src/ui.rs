//! The demo page: a phone-like chat where a person plays a WeChat user against kefu.
//! Hand-written HTML, CSS and JS compiled in; no inline scripts, so a strict CSP applies.

use crate::media::SAMPLE_PNG;
use crate::state::Sim;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use std::sync::Arc;

const INDEX: &str = include_str!("../ui/index.html");
const CSS: &str = include_str!("../ui/sim.css");
const JS: &str = include_str!("../ui/sim.js");

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/sim", get(|| async { Redirect::permanent("/sim/") }))
        .route("/sim/", get(index))
        .route("/sim/assets/{file}", get(asset))
}

async fn index() -> Response {
    let mut res = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response();
    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    res
}

async fn asset(Path(file): Path<String>) -> Response {
    let (ct, body): (&str, &[u8]) = match file.as_str() {
        "sim.css" => ("text/css; charset=utf-8", CSS.as_bytes()),
        "sim.js" => ("text/javascript; charset=utf-8", JS.as_bytes()),
        "sample.png" | "avatar.png" => ("image/png", SAMPLE_PNG),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}
