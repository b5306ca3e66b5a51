//! Turns what a simulated DingTalk user says into the JSON robot message DingTalk pushes:
//! the type-specific part (`text` or `content`) and the common fields, storing the media a
//! user sends under a download code on the way.

use crate::config::DingtalkApp;
use crate::dt_sign::{chatbot_user_id, direct_conversation_id, sender_id};
use crate::error::SimError;
use crate::inbound::user_bytes;
use crate::media::{SAMPLE_AMR, SAMPLE_FILE, SAMPLE_MP4, SAMPLE_PNG, sniff};
use crate::model::{DtChat, RichPart, SimMessage};
use crate::state::Inner;
use axum::body::Bytes;
use kefu_domain::Timestamp;
use serde_json::{Map, Value, json};

/// Who speaks where.
pub struct Speaker<'a> {
    pub app: &'a DingtalkApp,
    pub staff_id: &'a str,
    pub nick: &'a str,
    pub chat: &'a DtChat,
}

/// The type-specific part of a robot message.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    pub msgtype: &'static str,
    /// `{"text": {…}}` or `{"content": {…}}`.
    pub fields: Map<String, Value>,
    /// The first medium the platform stored for it, for the demo page.
    pub media_id: Option<String>,
}

/// The per-push values of the common fields.
pub struct Head<'a> {
    pub msg_id: &'a str,
    pub now: Timestamp,
    pub session_url: &'a str,
    pub session_expires: Timestamp,
}

/// Stores bytes a user sent and returns (media_id, downloadCode).
fn store(inner: &mut Inner, app_key: &str, bytes: Vec<u8>, name: &str, now: Timestamp) -> (String, String) {
    let ct = sniff(&bytes);
    let kind = if ct.starts_with("image/") { "image" } else { "file" };
    let media_id = inner.media.add(kind, Bytes::from(bytes), ct, name, now);
    let code = inner.dt.add_file(app_key, &media_id);
    (media_id, code)
}

fn store_static(
    inner: &mut Inner,
    app_key: &str,
    bytes: &'static [u8],
    ct: &str,
    name: &str,
    now: Timestamp,
) -> (String, String) {
    let media_id = inner.media.add("media", Bytes::from_static(bytes), ct, name, now);
    let code = inner.dt.add_file(app_key, &media_id);
    (media_id, code)
}

fn with(key: &str, value: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(key.to_owned(), value);
    m
}

/// The `text` / `content` part of a robot message for `msg`.
pub fn content(
    msg: &SimMessage,
    inner: &mut Inner,
    sp: &Speaker<'_>,
    now: Timestamp,
) -> Result<Content, SimError> {
    let key = sp.app.app_key.as_str();
    let (msgtype, fields, media_id) = match msg {
        SimMessage::Text { content } => {
            // DingTalk cuts the robot's @-mention out of the text and leaves its trailing space.
            let at = matches!(sp.chat, DtChat::Group { at_robot: true, .. });
            let text = if at { format!(" {content}") } else { content.clone() };
            ("text", with("text", json!({ "content": text })), None)
        }
        SimMessage::Image { data_base64 } => {
            let (id, code) =
                store(inner, key, user_bytes(data_base64.as_deref(), SAMPLE_PNG, "image")?, "image.png", now);
            ("picture", with("content", json!({ "downloadCode": code })), Some(id))
        }
        SimMessage::Voice { recognition } => {
            let (id, code) = store_static(inner, key, SAMPLE_AMR, "audio/amr", "voice.amr", now);
            let c = json!({ "duration": 2000, "downloadCode": code, "recognition": recognition.clone().unwrap_or_default() });
            ("audio", with("content", c), Some(id))
        }
        SimMessage::Video | SimMessage::ShortVideo => {
            let (id, code) = store_static(inner, key, SAMPLE_MP4, "video/mp4", "video.mp4", now);
            (
                "video",
                with("content", json!({ "duration": 5, "downloadCode": code, "videoType": "mp4" })),
                Some(id),
            )
        }
        SimMessage::File { file_name, data_base64 } => {
            let (id, code) =
                store(inner, key, user_bytes(data_base64.as_deref(), SAMPLE_FILE, "file")?, file_name, now);
            ("file", with("content", json!({ "downloadCode": code, "fileName": file_name })), Some(id))
        }
        SimMessage::RichText { parts } => {
            let (rich, media_id) = rich_text(parts, inner, key, now)?;
            ("richText", with("content", json!({ "richText": rich })), media_id)
        }
        SimMessage::Location { .. } | SimMessage::Link { .. } | SimMessage::Event { .. } => {
            return Err(SimError::Unsupported(
                "a DingTalk robot receives text, pictures, rich text, audio, video and files".into(),
            ));
        }
    };
    Ok(Content { msgtype, fields, media_id })
}

fn rich_text(
    parts: &[RichPart],
    inner: &mut Inner,
    key: &str,
    now: Timestamp,
) -> Result<(Vec<Value>, Option<String>), SimError> {
    let mut first = None;
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        out.push(match p {
            RichPart::Text { text } => json!({ "text": text }),
            RichPart::Picture { data_base64 } => {
                let bytes = user_bytes(data_base64.as_deref(), SAMPLE_PNG, "picture")?;
                let (id, code) = store(inner, key, bytes, "image.png", now);
                first.get_or_insert(id);
                json!({ "type": "picture", "downloadCode": code })
            }
        });
    }
    Ok((out, first))
}

/// The whole robot message: the common fields around `content`.
pub fn body(sp: &Speaker<'_>, content: Content, head: &Head<'_>) -> Value {
    let app = sp.app;
    let mut b = json!({
        "msgtype": content.msgtype,
        "msgId": head.msg_id,
        "createAt": head.now.millis(),
        "senderId": sender_id(&app.app_key, sp.staff_id),
        "senderStaffId": sp.staff_id,
        "senderNick": sp.nick,
        "senderCorpId": app.corp_id,
        "isAdmin": false,
        "chatbotUserId": chatbot_user_id(&app.app_key),
        "chatbotCorpId": app.corp_id,
        "robotCode": app.app_key,
        "sessionWebhook": head.session_url,
        "sessionWebhookExpiredTime": head.session_expires.millis(),
    });
    let Some(o) = b.as_object_mut() else { return b };
    o.extend(content.fields);
    match sp.chat {
        DtChat::Direct => {
            o.insert("conversationType".into(), json!("1"));
            o.insert("conversationId".into(), json!(direct_conversation_id(&app.app_key, sp.staff_id)));
        }
        DtChat::Group { open_conversation_id, title, at_robot } => {
            o.insert("conversationType".into(), json!("2"));
            o.insert("conversationId".into(), json!(open_conversation_id));
            o.insert("conversationTitle".into(), json!(title));
            o.insert("isInAtList".into(), json!(at_robot));
            let at: Vec<Value> =
                if *at_robot { vec![json!({ "dingtalkId": chatbot_user_id(&app.app_key) })] } else { vec![] };
            o.insert("atUsers".into(), Value::Array(at));
        }
    }
    b
}
