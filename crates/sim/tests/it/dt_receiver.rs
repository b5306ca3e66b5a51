//! A tiny stand-in for kefu's DingTalk endpoints: the robot URL checks `timestamp` and
//! `sign` with its own HMAC, the event URL checks the signature, opens the envelope with the
//! receiver's `cbc` code and answers an encrypted `success` unless told otherwise.

use crate::receiver::{Keys, open, seal, sha1_sorted};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// RFC 2104 written out again on the test side, checked against the documented sample.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > 64 { Sha256::digest(key).to_vec() } else { key.to_vec() };
    k.resize(64, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).chain(msg.iter().copied()).collect();
    let inner = Sha256::digest(&ipad);
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).chain(inner.iter().copied()).collect();
    Sha256::digest(&opad).to_vec()
}

pub fn sign(secret: &str, timestamp: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), format!("{timestamp}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// What one request looked like.
#[derive(Debug, Clone)]
pub struct DtHit {
    pub events: bool,
    pub headers: HashMap<String, String>,
    pub query: HashMap<String, String>,
    pub raw: String,
    pub body: Value,
    /// Robot: `sign` matches `timestamp`; events: `signature` matches the envelope.
    pub signed: bool,
    /// Events: the opened envelope.
    pub plaintext: Option<String>,
}

/// (HTTP status, body) for the n-th request (1-based).
pub type DtResponder = Arc<dyn Fn(&DtHit, usize) -> (u16, String) + Send + Sync>;

#[derive(Clone)]
struct Shared {
    secret: String,
    keys: Keys,
    hits: Arc<Mutex<Vec<DtHit>>>,
    robot: DtResponder,
    events: DtResponder,
}

pub struct DtReceiver {
    pub robot_url: String,
    pub events_url: String,
    hits: Arc<Mutex<Vec<DtHit>>>,
}

/// `{"msg_signature","timeStamp","nonce","encrypt"}` around an encrypted `success`.
pub fn success_answer(keys: &Keys) -> String {
    let enc = seal(keys, "success");
    let sig = sha1_sorted(&[&keys.token, "1700000001000", "n0nce123", &enc]);
    json!({ "msg_signature": sig, "timeStamp": "1700000001000", "nonce": "n0nce123", "encrypt": enc })
        .to_string()
}

pub fn ok_empty() -> DtResponder {
    Arc::new(|_, _| (200, String::new()))
}

impl DtReceiver {
    /// `events` = `None` answers a proper encrypted `success`.
    pub async fn start(
        secret: &str,
        keys: Keys,
        robot: DtResponder,
        events: Option<DtResponder>,
    ) -> DtReceiver {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let success = success_answer(&keys);
        let events = events.unwrap_or_else(|| Arc::new(move |_, _| (200, success.clone())));
        let shared = Shared { secret: secret.to_owned(), keys, hits: hits.clone(), robot, events };
        let app = axum::Router::new()
            .route("/robot", post(on_robot))
            .route("/events", post(on_event))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        DtReceiver { robot_url: format!("{base}/robot"), events_url: format!("{base}/events"), hits }
    }

    pub fn hits(&self) -> Vec<DtHit> {
        self.hits.lock().unwrap().clone()
    }

    pub fn last(&self) -> DtHit {
        self.hits().pop().expect("a request arrived")
    }
}

fn header_map(h: &HeaderMap) -> HashMap<String, String> {
    h.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect()
}

fn record(s: &Shared, hit: DtHit) -> usize {
    let mut hits = s.hits.lock().unwrap();
    hits.push(hit);
    hits.len()
}

async fn on_robot(State(s): State<Shared>, headers: HeaderMap, raw: String) -> impl IntoResponse {
    let headers = header_map(&headers);
    let ts = headers.get("timestamp").cloned().unwrap_or_default();
    let signed = headers.get("sign").is_some_and(|got| *got == sign(&s.secret, &ts));
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    let hit = DtHit { events: false, headers, query: HashMap::new(), raw, body, signed, plaintext: None };
    let n = record(&s, hit.clone());
    let (status, text) = (s.robot)(&hit, n);
    (StatusCode::from_u16(status).unwrap(), text)
}

async fn on_event(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    raw: String,
) -> impl IntoResponse {
    let body: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
    let enc = body["encrypt"].as_str().unwrap_or_default().to_owned();
    let q = |k: &str| query.get(k).cloned().unwrap_or_default();
    let signed = sha1_sorted(&[&s.keys.token, &q("timestamp"), &q("nonce"), &enc]) == q("signature");
    let plaintext = open(&s.keys, &enc);
    let hit = DtHit { events: true, headers: header_map(&headers), query, raw, body, signed, plaintext };
    let n = record(&s, hit.clone());
    let (status, text) = (s.events)(&hit, n);
    (StatusCode::from_u16(status).unwrap(), text)
}
