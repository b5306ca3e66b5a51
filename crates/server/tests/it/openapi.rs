//! The OpenAPI document covers every `/api` route with how to sign in, its errors and its links,
//! and the API accepts exactly what the document describes: bodies are objects, alternatives
//! exclude each other, and a file with nothing importable is refused with its rows.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn document(app: &TestApp) -> Value {
    reqwest::get(app.url("/api/openapi.json")).await.unwrap().json().await.unwrap()
}

fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is documented");
    op
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_workbench_and_admin_routes_with_sign_in_errors_and_links() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let count: usize = doc["paths"].as_object().unwrap().values().map(|i| i.as_object().unwrap().len()).sum();
    assert!(count >= 72, "every /api operation, not only the data API: {count}");
    for (path, method) in [
        ("/api/auth/login", "post"),
        ("/api/conversations/{id}/messages", "post"),
        ("/api/agents/import", "post"),
        ("/api/kb/import", "post"),
        ("/api/admin/webhooks/{id}", "put"),
        ("/api/ws", "get"),
    ] {
        operation(&doc, path, method);
    }
    let claim = operation(&doc, "/api/conversations/{id}/claim", "post");
    assert_eq!(claim["security"], json!([{"session": [], "csrf": []}]), "a write needs the CSRF header");
    assert_eq!(operation(&doc, "/api/conversations", "get")["security"], json!([{"session": []}]));
    assert_eq!(operation(&doc, "/api/auth/login", "post")["security"], json!([{}]), "login needs nothing");
    for status in ["400", "401", "403", "404", "409"] {
        assert!(claim["responses"][status].is_object(), "claim documents {status}");
    }
    let reply = operation(&doc, "/api/conversations/{id}/messages", "post");
    for status in ["413", "415", "422"] {
        assert!(reply["responses"][status].is_object(), "a JSON body's {status}");
    }
    let links = &operation(&doc, "/api/conversations", "get")["responses"]["200"]["links"];
    assert_eq!(links["claim_conversation"]["operationId"], "claim_conversation", "{links}");
    assert_eq!(links["claim_conversation"]["parameters"]["id"], "$response.body#/0/id");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        (schemes["csrf"]["in"].as_str(), schemes["csrf"]["name"].as_str()),
        (Some("header"), Some("X-CSRF-Token"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_body_must_be_an_object_and_a_reply_is_a_text_or_an_image_never_both() {
    let app = TestApp::spawn().await;
    let li = app.agent("agent1", "agent123").await;
    let mut v = app.visitor("openapi-visitor-00000001").await;
    v.say("openapi-msg-0001", "报价多少钱").await;
    let conv = li.conversations().await[0]["id"].as_i64().unwrap();
    let path = format!("/conversations/{conv}/messages");

    let res = li.put("/me", json!([null, null])).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "an array is no profile form");
    let image = li.upload_png().await["url"].as_str().unwrap().to_owned();
    let both = li.post(&path, json!({"text": "看图", "image": image})).await;
    assert_eq!(both.status(), StatusCode::BAD_REQUEST, "both alternatives of the oneOf");
    assert_eq!(li.post(&path, json!({"text": "  "})).await.status(), StatusCode::BAD_REQUEST, "a blank text");
    let unknown = li.post(&path, json!({"image": "/media/nope"})).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY, "an image that does not exist");
    let sent: Value = li.post(&path, json!({"image": image, "text": ""})).await.json().await.unwrap();
    assert_eq!(sent["content"]["type"], "image", "a blank text beside an image is no text: {sent}");
    let sent: Value = li.post(&path, json!({"text": "您好", "image": null})).await.json().await.unwrap();
    assert_eq!(sent["content"]["text"], "您好");
    let neither = li.post(&format!("/conversations/{conv}/transfer"), json!({"agent": 2, "group": 1})).await;
    assert_eq!(neither.status(), StatusCode::BAD_REQUEST, "a transfer goes to an agent or a group");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_with_nothing_to_import_is_refused_with_its_rows_and_bounds_are_enforced() {
    let app = TestApp::spawn().await;
    let lead = app.agent("lead", "lead123").await;
    let res = lead.post_body("/kb/import?format=csv", "question,answer\n,没有问题\n").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = res.json().await.unwrap();
    assert_eq!((refused["error"].as_str(), refused["imported"].as_i64()), (Some("unprocessable"), Some(0)));
    assert_eq!(refused["errors"][0]["row"], 2, "{refused}");
    assert_eq!(lead.post_body("/kb/import?format=csv", "").await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let too_sticky = json!({"name": "夜班", "routing": {"sticky_hours": 721}});
    assert_eq!(lead.post("/groups", too_sticky).await.status(), StatusCode::BAD_REQUEST, "more than 30 days");
    let spaced = lead.get("/conversations?state=queued,%20assigned").await;
    assert_eq!(spaced.status(), StatusCode::BAD_REQUEST, "states are exact, as the pattern says");
    assert_eq!(lead.get("/conversations?state=queued,assigned").await.status(), StatusCode::OK);
    assert_eq!(lead.get("/conversations?limit=501").await.status(), StatusCode::BAD_REQUEST, "not clamped");
}
