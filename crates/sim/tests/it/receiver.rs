//! A tiny stand-in for kefu's callback endpoint. It checks signatures and opens envelopes
//! with its own code path (the `cbc` crate and a lenient Base64 engine), not the
//! simulator's, so a round trip proves both sides agree on the wire format.

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;
use base64::alphabet::STANDARD as ALPHABET;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What one callback request looked like.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub get: bool,
    pub query: HashMap<String, String>,
    pub body: String,
    /// Whether `signature` / `msg_signature` verified.
    pub signed: bool,
    /// The opened Encrypt (or echostr for WeCom GETs), or the plain body.
    pub plaintext: Option<String>,
}

/// How to answer.
pub struct Answer {
    pub delay: Duration,
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn ok(body: &str) -> Self {
        Answer { delay: Duration::ZERO, status: 200, body: body.to_owned() }
    }
}

pub type Responder = Arc<dyn Fn(&Hit, usize, &Keys) -> Answer + Send + Sync>;

/// The receiver's own copy of the account secrets.
#[derive(Clone)]
pub struct Keys {
    pub token: String,
    pub key: [u8; 32],
    pub receive_id: String,
    /// WeCom signs echostr and encrypts it; the OA does neither.
    pub wecom: bool,
}

#[derive(Clone)]
struct Shared {
    keys: Keys,
    hits: Arc<Mutex<Vec<Hit>>>,
    respond: Responder,
}

pub struct Receiver {
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    pub async fn start(keys: Keys, respond: Responder) -> Receiver {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared { keys, hits: hits.clone(), respond };
        let app = axum::Router::new().route("/cb", get(on_get).post(on_post)).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/cb", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Receiver { url, hits }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

pub fn keys(token: &str, aes_key: &str, receive_id: &str, wecom: bool) -> Keys {
    let engine = GeneralPurpose::new(
        &ALPHABET,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(format!("{aes_key}=")).unwrap();
    Keys { token: token.into(), key: bytes.try_into().unwrap(), receive_id: receive_id.into(), wecom }
}

pub fn sha1_sorted(parts: &[&str]) -> String {
    let mut v = parts.to_vec();
    v.sort();
    let digest = Sha1::digest(v.concat().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn open(keys: &Keys, b64: &str) -> Option<String> {
    let mut buf = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(&keys.key, &keys.key[..16]).ok()?;
    let plain = dec.decrypt_padded::<NoPadding>(&mut buf).ok()?;
    let pad = usize::from(*plain.last()?);
    let body = &plain[..plain.len().checked_sub(pad)?];
    let n = u32::from_be_bytes(body.get(16..20)?.try_into().ok()?) as usize;
    let msg = body.get(20..20 + n)?;
    (body.get(20 + n..)? == keys.receive_id.as_bytes()).then(|| String::from_utf8(msg.to_vec()).ok())?
}

pub fn seal(keys: &Keys, msg: &str) -> String {
    let mut p = b"0123456789abcdef".to_vec();
    p.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    p.extend_from_slice(msg.as_bytes());
    p.extend_from_slice(keys.receive_id.as_bytes());
    let pad = 32 - p.len() % 32;
    p.extend(std::iter::repeat_n(pad as u8, pad));
    let len = p.len();
    let enc = cbc::Encryptor::<aes::Aes256>::new_from_slices(&keys.key, &keys.key[..16]).unwrap();
    let ct = enc.encrypt_padded::<NoPadding>(&mut p, len).unwrap().to_vec();
    base64::engine::general_purpose::STANDARD.encode(ct)
}

/// A signed, encrypted passive reply in the platform's envelope.
pub fn encrypted_reply(keys: &Keys, inner_xml: &str) -> String {
    let enc = seal(keys, inner_xml);
    let sig = sha1_sorted(&[&keys.token, "1700000001", "4242", &enc]);
    format!(
        "<xml><Encrypt><![CDATA[{enc}]]></Encrypt><MsgSignature><![CDATA[{sig}]]></MsgSignature>\
         <TimeStamp>1700000001</TimeStamp><Nonce><![CDATA[4242]]></Nonce></xml>"
    )
}

/// The text between `<tag>` and `</tag>`, CDATA unwrapped.
pub fn field(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    let v = &xml[start..end];
    Some(v.strip_prefix("<![CDATA[").and_then(|v| v.strip_suffix("]]>")).unwrap_or(v).to_owned())
}

fn q<'a>(query: &'a HashMap<String, String>, k: &str) -> &'a str {
    query.get(k).map(String::as_str).unwrap_or_default()
}

async fn on_get(State(s): State<Shared>, Query(query): Query<HashMap<String, String>>) -> impl IntoResponse {
    let k = &s.keys;
    let (ts, nonce, echostr) = (q(&query, "timestamp"), q(&query, "nonce"), q(&query, "echostr"));
    let (signed, plaintext) = if k.wecom {
        (sha1_sorted(&[&k.token, ts, nonce, echostr]) == q(&query, "msg_signature"), open(k, echostr))
    } else {
        (sha1_sorted(&[&k.token, ts, nonce]) == q(&query, "signature"), Some(echostr.to_owned()))
    };
    let hit = Hit { get: true, query, body: String::new(), signed, plaintext: plaintext.clone() };
    s.hits.lock().unwrap().push(hit);
    if signed {
        (StatusCode::OK, plaintext.unwrap_or_default())
    } else {
        (StatusCode::FORBIDDEN, String::new())
    }
}

async fn on_post(
    State(s): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    body: String,
) -> impl IntoResponse {
    let k = &s.keys;
    let (ts, nonce) = (q(&query, "timestamp"), q(&query, "nonce"));
    let encrypted = field(&body, "Encrypt");
    let plain_sig_ok = k.wecom || sha1_sorted(&[&k.token, ts, nonce]) == q(&query, "signature");
    let (signed, plaintext) = match &encrypted {
        Some(enc) => {
            let ok = sha1_sorted(&[&k.token, ts, nonce, enc]) == q(&query, "msg_signature");
            (ok && plain_sig_ok, open(k, enc))
        }
        None => (plain_sig_ok, Some(body.clone())),
    };
    let hit = Hit { get: false, query, body, signed, plaintext };
    let n = {
        let mut hits = s.hits.lock().unwrap();
        hits.push(hit.clone());
        hits.len()
    };
    let answer = (s.respond)(&hit, n, k);
    tokio::time::sleep(answer.delay).await;
    (StatusCode::from_u16(answer.status).unwrap(), answer.body)
}
