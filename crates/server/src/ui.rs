//! The embedded web UI: hand-written HTML, CSS and JS compiled into the binary.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "ui/"]
struct Assets;

/// The strict policy every page gets: only our own scripts, never inline ones, so customer
/// text that slips into markup still cannot run.
/// Images are same-origin only: a customer's image URL would reveal every agent's address to
/// the customer's server, so platform images are served from kefu's own copy.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/// The chat frame is made to be embedded in customers' own sites.
pub const CSP_EMBEDDABLE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors *";

pub fn asset(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = Assets::get(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag =
        format!("\"{}\"", file.metadata.sha256_hash().iter().map(|b| format!("{b:02x}")).collect::<String>());
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = file.metadata.mimetype().to_owned();
    let mut res = (
        [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "no-cache".into()), (header::ETAG, etag)],
        file.data.into_owned(),
    )
        .into_response();
    if path.ends_with(".html") {
        let csp = if path == "chat.html" { CSP_EMBEDDABLE } else { CSP };
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    res
}

pub async fn static_file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    asset(&path, &headers)
}

pub async fn workbench(headers: HeaderMap) -> Response {
    asset("workbench.html", &headers)
}

pub async fn chat_frame(headers: HeaderMap) -> Response {
    asset("chat.html", &headers)
}

pub async fn demo_site(headers: HeaderMap) -> Response {
    asset("demo-site.html", &headers)
}

/// The embed loader; any site may include it.
pub async fn widget_js(headers: HeaderMap) -> Response {
    let mut res = asset("widget.js", &headers);
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}
