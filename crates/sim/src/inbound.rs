//! Turns what a simulated user does into the platform's wire form: the XML fields of an OA or
//! WeCom app push, or a 微信客服 `sync_msg` entry, creating media on the way.

use crate::error::SimError;
use crate::media::{SAMPLE_AMR, SAMPLE_FILE, SAMPLE_MP4, SAMPLE_PNG, sniff};
use crate::model::SimMessage;
use crate::state::Inner;
use crate::xml::XmlOut;
use axum::body::Bytes;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kefu_domain::Timestamp;
use serde_json::{Value, json};

/// A field value: strings go into CDATA, numbers are written bare.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Text(String),
    Num(String),
}

/// The type-specific part of a push.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub msgtype: &'static str,
    pub fields: Vec<(&'static str, Val)>,
    /// The media the platform created for it, if any.
    pub media_id: Option<String>,
}

/// The common head of every pushed XML.
pub struct Head<'a> {
    pub to: &'a str,
    pub from: &'a str,
    pub create_time: i64,
}

/// Media created for a user message: (media_id, thumb media_id).
struct UserMedia(String, Option<String>);

/// The bytes a user sends: the given Base64, or the sample when none was given.
pub fn user_bytes(data_base64: Option<&str>, sample: &[u8], what: &str) -> Result<Vec<u8>, SimError> {
    match data_base64 {
        Some(b64) => STANDARD
            .decode(b64.trim())
            .map_err(|_| SimError::Unsupported(format!("{what} data_base64 is not Base64"))),
        None => Ok(sample.to_vec()),
    }
}

fn create_media(msg: &SimMessage, inner: &mut Inner, now: Timestamp) -> Result<Option<UserMedia>, SimError> {
    let m = &mut inner.media;
    Ok(match msg {
        SimMessage::Image { data_base64 } => {
            let bytes = user_bytes(data_base64.as_deref(), SAMPLE_PNG, "image")?;
            let ct = sniff(&bytes);
            Some(UserMedia(m.add("image", Bytes::from(bytes), ct, "image", now), None))
        }
        SimMessage::Voice { .. } => Some(UserMedia(
            m.add("voice", Bytes::from_static(SAMPLE_AMR), "audio/amr", "voice.amr", now),
            None,
        )),
        SimMessage::Video | SimMessage::ShortVideo => {
            let thumb = m.add("thumb", Bytes::from_static(SAMPLE_PNG), "image/png", "thumb.png", now);
            let video = m.add("video", Bytes::from_static(SAMPLE_MP4), "video/mp4", "video.mp4", now);
            Some(UserMedia(video, Some(thumb)))
        }
        SimMessage::File { file_name, data_base64 } => {
            let bytes = user_bytes(data_base64.as_deref(), SAMPLE_FILE, "file")?;
            let ct = sniff(&bytes);
            Some(UserMedia(m.add("file", Bytes::from(bytes), ct, file_name, now), None))
        }
        _ => None,
    })
}

/// WeChat has no rich text, and OA / WeCom app users cannot send files.
fn wechat_refuses(msg: &SimMessage) -> SimError {
    match msg {
        SimMessage::RichText { .. } => SimError::Unsupported("rich text is a DingTalk message".into()),
        _ => SimError::Unsupported("only 微信客服 customers and DingTalk users send files".into()),
    }
}

/// Refuses before any media is created for a message that will not be pushed.
fn unsupported_on_wechat(msg: &SimMessage, files_ok: bool) -> Result<(), SimError> {
    match msg {
        SimMessage::RichText { .. } => Err(wechat_refuses(msg)),
        SimMessage::File { .. } if !files_ok => Err(wechat_refuses(msg)),
        _ => Ok(()),
    }
}

fn t(s: &str) -> Val {
    Val::Text(s.to_owned())
}

fn n(v: impl ToString) -> Val {
    Val::Num(v.to_string())
}

/// The XML fields of an OA / WeCom app push.
pub fn for_xml(
    msg: &SimMessage,
    inner: &mut Inner,
    base_url: &str,
    now: Timestamp,
) -> Result<Inbound, SimError> {
    unsupported_on_wechat(msg, false)?;
    let media = create_media(msg, inner, now)?;
    let media_id = media.as_ref().map(|m| m.0.clone());
    let mid = media_id.clone().unwrap_or_default();
    let thumb = media.and_then(|m| m.1).unwrap_or_default();
    let (msgtype, fields): (&'static str, Vec<(&'static str, Val)>) = match msg {
        SimMessage::Text { content } => ("text", vec![("Content", t(content))]),
        SimMessage::Image { .. } => (
            "image",
            vec![("PicUrl", Val::Text(format!("{base_url}/sim/media/{mid}"))), ("MediaId", t(&mid))],
        ),
        SimMessage::Voice { recognition } => {
            let mut f = vec![("MediaId", t(&mid)), ("Format", t("amr"))];
            if let Some(r) = recognition {
                f.push(("Recognition", t(r)));
            }
            ("voice", f)
        }
        SimMessage::Video => ("video", vec![("MediaId", t(&mid)), ("ThumbMediaId", t(&thumb))]),
        SimMessage::ShortVideo => ("shortvideo", vec![("MediaId", t(&mid)), ("ThumbMediaId", t(&thumb))]),
        SimMessage::Location { x, y, scale, label } => (
            "location",
            vec![("Location_X", n(x)), ("Location_Y", n(y)), ("Scale", n(scale)), ("Label", t(label))],
        ),
        SimMessage::Link { title, description, url } => {
            ("link", vec![("Title", t(title)), ("Description", t(description)), ("Url", t(url))])
        }
        SimMessage::Event { event, key } => ("event", event_fields(event, key.as_deref())),
        SimMessage::File { .. } | SimMessage::RichText { .. } => return Err(wechat_refuses(msg)),
    };
    Ok(Inbound { msgtype, fields, media_id })
}

fn event_fields(event: &str, key: Option<&str>) -> Vec<(&'static str, Val)> {
    let mut f = vec![("Event", t(event))];
    let qr = key.is_some_and(|k| k.starts_with("qrscene_"));
    if key.is_some() || event == "subscribe" {
        f.push(("EventKey", t(key.unwrap_or_default())));
    }
    if event == "SCAN" || (event == "subscribe" && qr) {
        f.push(("Ticket", Val::Text(format!("gQsim{}", crate::crypto::random_alnum(40)))));
    }
    f
}

/// The whole plaintext XML of a push, element order as the platform sends it.
pub fn render(head: &Head<'_>, body: &Inbound, msg_id: Option<u64>, agent_id: Option<i64>) -> String {
    let mut x = XmlOut::new()
        .cdata("ToUserName", head.to)
        .cdata("FromUserName", head.from)
        .raw("CreateTime", head.create_time)
        .cdata("MsgType", body.msgtype);
    for (name, v) in &body.fields {
        x = match v {
            Val::Text(s) => x.cdata(name, s),
            Val::Num(s) => x.raw(name, s),
        };
    }
    if let Some(id) = msg_id {
        x = x.raw("MsgId", id);
    }
    if let Some(a) = agent_id {
        x = x.raw("AgentID", a);
    }
    x.finish()
}

/// The msgtype and body object of a customer message in `sync_msg`.
pub fn for_kf(
    msg: &SimMessage,
    inner: &mut Inner,
    now: Timestamp,
) -> Result<(&'static str, Value), SimError> {
    unsupported_on_wechat(msg, true)?;
    let media = create_media(msg, inner, now)?;
    let mid = media.map(|m| m.0).unwrap_or_default();
    Ok(match msg {
        SimMessage::Text { content } => ("text", json!({ "content": content })),
        SimMessage::Image { .. } => ("image", json!({ "media_id": mid })),
        SimMessage::Voice { .. } => ("voice", json!({ "media_id": mid })),
        SimMessage::Video | SimMessage::ShortVideo => ("video", json!({ "media_id": mid })),
        SimMessage::Location { x, y, label, .. } => {
            ("location", json!({ "latitude": x, "longitude": y, "name": label, "address": label }))
        }
        SimMessage::Link { title, description, url } => {
            ("link", json!({ "title": title, "desc": description, "url": url, "pic_url": "" }))
        }
        SimMessage::File { .. } => ("file", json!({ "media_id": mid })),
        SimMessage::Event { event, .. } => {
            return Err(SimError::Unsupported(format!("微信客服 customers cannot send the event {event:?}")));
        }
        SimMessage::RichText { .. } => return Err(wechat_refuses(msg)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_push_has_the_platform_layout() {
        let mut inner = Inner::default();
        let now = Timestamp::from_seconds(1_700_000_000);
        let body = for_xml(&SimMessage::text("你好 ]]> 😀"), &mut inner, "http://x", now).unwrap();
        let head = Head { to: "gh_1", from: "o_1", create_time: now.seconds() };
        let xml = render(&head, &body, Some(7), None);
        assert_eq!(
            xml,
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n<FromUserName><![CDATA[o_1]]></FromUserName>\n\
             <CreateTime>1700000000</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n\
             <Content><![CDATA[你好 ]]]]><![CDATA[> 😀]]></Content>\n<MsgId>7</MsgId></xml>"
        );
    }

    #[test]
    fn a_qr_subscribe_carries_its_scene_and_a_ticket_and_click_only_its_key() {
        let sub = event_fields("subscribe", Some("qrscene_42"));
        assert_eq!(sub[1], ("EventKey", t("qrscene_42")));
        assert_eq!(sub[2].0, "Ticket");
        assert_eq!(event_fields("CLICK", Some("MENU_1")).len(), 2);
        assert_eq!(event_fields("unsubscribe", None).len(), 1);
    }

    #[test]
    fn an_image_push_points_at_media_the_platform_created() {
        let mut inner = Inner::default();
        let now = Timestamp::from_seconds(1_700_000_000);
        let body = for_xml(&SimMessage::image(b"\x89PNG...."), &mut inner, "http://sim", now).unwrap();
        let id = body.media_id.clone().unwrap();
        assert_eq!(inner.media.get(&id, now).map(|m| m.content_type.as_str()), Some("image/png"));
        assert_eq!(body.fields[0], ("PicUrl", Val::Text(format!("http://sim/sim/media/{id}"))));
    }
}
