//! One error shape on the whole API, and API keys by RFC 6750: every 4xx is JSON
//! `{error, message}` (extractor rejections, unknown routes, wrong methods, oversized bodies),
//! out-of-range parameters are refused rather than clamped, and a malformed or invalid
//! `Authorization` header is a 401 with a challenge, never a fall-through to the session.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// The status and the JSON error body; fails if the body is not `{error, message}`.
async fn error_of(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let kind = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body = res.text().await.unwrap();
    assert!(kind.starts_with("application/json"), "{status} {kind}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["error"].is_string() && v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    (status, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_error_is_json_including_rejections_unknown_routes_and_wrong_methods() {
    let app = TestApp::spawn().await;
    let lead = app.agent("lead", "lead123").await;
    let (s, e) = error_of(lead.get("/v1/conversations?state=open").await).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));
    assert!(e["message"].as_str().unwrap().contains("state"), "{e}");
    for bad in ["limit=0", "limit=501", "limit=-1", "limit=x"] {
        let (s, e) = error_of(lead.get(&format!("/v1/conversations?{bad}")).await).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {e}");
    }
    let (_, e) = error_of(lead.get("/v1/changes?limit=5000").await).await;
    assert!(e["message"].as_str().unwrap().contains("1000"), "the bound is named: {e}");
    assert_eq!(lead.get("/v1/conversations?limit=500").await.status(), 200, "the bound itself is fine");
    let (s, _) = error_of(lead.get("/v1/export/transcripts?format=xml").await).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = error_of(lead.get("/conversations/not-a-number").await).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, e) = error_of(lead.get("/no/such/route").await).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let wrong = lead.http.delete(format!("{}/api/conversations", lead.base)).send().await.unwrap();
    assert!(wrong.headers().contains_key("allow"), "a 405 still says what is allowed");
    let (s, e) = error_of(wrong).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed")));

    let put = |body: String, kind: &'static str| {
        lead.http
            .put(format!("{}/api/me/status", lead.base))
            .header("x-csrf-token", &lead.csrf)
            .header("content-type", kind)
            .body(body)
            .send()
    };
    let (s, _) = error_of(put("{not json".into(), "application/json").await.unwrap()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = error_of(put("{}".into(), "text/plain").await.unwrap()).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, _) =
        error_of(put(json!({"status": "dancing"}).to_string(), "application/json").await.unwrap()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let huge = format!("{{\"status\": \"{}\"}}", "x".repeat(2 << 20));
    let (s, e) = error_of(put(huge, "application/json").await.unwrap()).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
}

async fn with_auth(app: &TestApp, header: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(app.url("/api/v1/changes")).header("authorization", header);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

fn challenge(res: &reqwest::Response) -> String {
    res.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_follow_rfc_6750_and_bad_credentials_never_fall_through_to_the_session() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let res = admin.post("/admin/api-keys", json!({"name": "CRM", "scopes": ["changes:read"]})).await;
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        assert_eq!(with_auth(&app, &format!("{scheme} {token}"), None).await.status(), 200, "{scheme}");
    }
    let none = reqwest::get(app.url("/api/v1/changes")).await.unwrap();
    assert_eq!((none.status(), challenge(&none)), (StatusCode::UNAUTHORIZED, "Bearer realm=\"kefu\"".into()));

    // A supervisor's session would be enough alone; bad credentials beside it are still refused.
    let lead = app.agent("lead", "lead123").await;
    let cookie = lead.session_cookie.clone().expect("session cookie");
    assert_eq!(lead.get("/v1/changes").await.status(), 200);
    for (header, error) in [
        ("Bearer ", "invalid_request"),
        ("Bearer", "invalid_request"),
        ("Basic YWRtaW46YWRtaW4xMjM=", "invalid_request"),
        ("Bearer kf_nope_nope", "invalid_token"),
        ("Bearer a b", "invalid_request"),
    ] {
        let res = with_auth(&app, header, Some(&cookie)).await;
        let c = challenge(&res);
        assert!(c.starts_with("Bearer realm=\"kefu\"") && c.contains(error), "{header:?}: {c}");
        let (s, e) = error_of(res).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_ne!(e["message"], "not logged in", "{header:?}: says what is wrong with the key");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_api_document_declares_bounds_enums_errors_and_both_ways_to_sign_in() {
    let app = TestApp::spawn().await;
    let spec: Value = reqwest::get(app.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    let op = &spec["paths"]["/api/v1/conversations"]["get"];
    let param = |name: &str| op["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).cloned();
    let limit = param("limit").expect("limit");
    assert_eq!(
        (limit["schema"]["minimum"].as_i64(), limit["schema"]["maximum"].as_i64()),
        (Some(1), Some(500))
    );
    let state = serde_json::to_string(&param("state").expect("state")).unwrap();
    assert!(state.contains("StateFilter") || state.contains("leave_message"), "an enum: {state}");
    let states = &spec["components"]["schemas"]["StateFilter"]["enum"];
    assert_eq!(states, &json!(["bot", "queued", "assigned", "leave_message", "closed"]));
    for status in ["200", "400", "401", "403"] {
        assert!(op["responses"][status].is_object(), "{status} documented");
    }
    let unauthorized = &op["responses"]["401"];
    assert!(unauthorized["headers"]["WWW-Authenticate"].is_object(), "{unauthorized}");
    assert!(unauthorized["content"]["application/json"]["schema"].to_string().contains("ErrorBody"));
    let export = &spec["paths"]["/api/v1/export/transcripts"]["get"]["responses"]["200"]["content"];
    assert!(export["text/csv"].is_object() && export["application/x-ndjson"].is_object(), "{export}");
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(
        (schemes["api_key"]["scheme"].as_str(), schemes["session"]["in"].as_str()),
        (Some("bearer"), Some("cookie"))
    );
}
