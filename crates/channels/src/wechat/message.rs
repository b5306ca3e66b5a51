//! Inbound XML messages of WeChat OA and WeCom apps, mapped to kefu's content model.

use kefu_domain::Content;

use super::callback::CallbackError;
use super::xml::XmlDoc;

/// One customer message or event, as the platform described it.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlMessage {
    /// The sender: an OpenID (OA) or a member UserID (WeCom).
    pub from: String,
    /// The account that received it: the OA's `gh_…` id or the CorpID.
    pub to: String,
    pub create_time: i64,
    /// `MsgId` for messages; sender + time + event for events, which have no id.
    pub dedupe_key: String,
    pub content: Content,
}

fn opt(doc: &XmlDoc, path: &str) -> Option<String> {
    doc.get(path).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn num(doc: &XmlDoc, path: &str) -> Result<f64, CallbackError> {
    doc.require(path)?
        .trim()
        .parse()
        .map_err(|_| CallbackError::Unsupported(format!("{path} is not a number")))
}

fn content_of(doc: &XmlDoc, msg_type: &str) -> Result<Content, CallbackError> {
    Ok(match msg_type {
        "text" => Content::Text { text: doc.require("Content")?.to_owned() },
        "image" => Content::Image { url: opt(doc, "PicUrl"), media_id: opt(doc, "MediaId") },
        "voice" => Content::Voice {
            url: None,
            media_id: opt(doc, "MediaId"),
            format: opt(doc, "Format"),
            recognition: opt(doc, "Recognition"),
        },
        "video" | "shortvideo" => Content::Video {
            url: None,
            media_id: opt(doc, "MediaId"),
            thumb_media_id: opt(doc, "ThumbMediaId"),
        },
        "location" => Content::Location {
            latitude: num(doc, "Location_X")?,
            longitude: num(doc, "Location_Y")?,
            label: opt(doc, "Label"),
        },
        "link" => Content::Link {
            title: doc.require("Title")?.to_owned(),
            description: opt(doc, "Description"),
            url: doc.require("Url")?.to_owned(),
            pic_url: opt(doc, "PicUrl"),
        },
        // Tencent sends CLICK/VIEW/SCAN upper-case but subscribe lower-case; normalise.
        "event" => {
            Content::Event { event: doc.require("Event")?.to_ascii_lowercase(), key: opt(doc, "EventKey") }
        }
        // Kept rather than refused: refusing makes WeChat retry and then tell the customer the
        // account is out of service.
        other => Content::Event { event: format!("unsupported_{other}"), key: None },
    })
}

/// Reads the common fields and the typed content of a decrypted message.
pub fn parse_message(doc: &XmlDoc) -> Result<XmlMessage, CallbackError> {
    let from = doc.require("FromUserName")?.to_owned();
    let to = doc.require("ToUserName")?.to_owned();
    let create_time: i64 = doc
        .require("CreateTime")?
        .trim()
        .parse()
        .map_err(|_| CallbackError::Unsupported("CreateTime is not a number".into()))?;
    let msg_type = doc.require("MsgType")?.to_owned();
    let content = content_of(doc, &msg_type)?;
    let dedupe_key = match opt(doc, "MsgId").or_else(|| opt(doc, "MsgID")) {
        Some(id) => id,
        None => match &content {
            Content::Event { event, key } => {
                format!("{from}:{create_time}:{event}:{}", key.as_deref().unwrap_or(""))
            }
            _ => format!("{from}:{create_time}:{msg_type}"),
        },
    };
    Ok(XmlMessage { from, to, create_time, dedupe_key, content })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::xml::parse;

    fn msg(body: &str) -> XmlMessage {
        parse_message(&parse(&format!(
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_user]]></FromUserName>\
             <CreateTime>1700000000</CreateTime>{body}</xml>"
        ))
        .unwrap())
        .unwrap()
    }

    #[test]
    fn every_inbound_type_maps_to_content() {
        let t =
            msg("<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好😀]]></Content><MsgId>42</MsgId>");
        assert_eq!((t.content, t.dedupe_key.as_str()), (Content::text("你好😀"), "42"));
        let i = msg(
            "<MsgType>image</MsgType><PicUrl>http://p/1.jpg</PicUrl><MediaId>m1</MediaId><MsgId>1</MsgId>",
        );
        assert_eq!(
            i.content,
            Content::Image { url: Some("http://p/1.jpg".into()), media_id: Some("m1".into()) }
        );
        let v = msg(
            "<MsgType>voice</MsgType><MediaId>m2</MediaId><Format>amr</Format><Recognition>喂</Recognition><MsgId>2</MsgId>",
        );
        assert!(matches!(v.content, Content::Voice { recognition: Some(ref r), .. } if r == "喂"));
        for kind in ["video", "shortvideo"] {
            let v = msg(&format!(
                "<MsgType>{kind}</MsgType><MediaId>m3</MediaId><ThumbMediaId>t3</ThumbMediaId><MsgId>3</MsgId>"
            ));
            assert!(matches!(v.content, Content::Video { thumb_media_id: Some(_), .. }));
        }
        let l = msg(
            "<MsgType>location</MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label>广州</Label><MsgId>4</MsgId>",
        );
        assert_eq!(
            l.content,
            Content::Location { latitude: 23.134521, longitude: 113.358803, label: Some("广州".into()) }
        );
        let k = msg(
            "<MsgType>link</MsgType><Title>标题</Title><Description>描述</Description><Url>https://x</Url><MsgId>5</MsgId>",
        );
        assert!(matches!(k.content, Content::Link { ref title, .. } if title == "标题"));
    }

    #[test]
    fn events_are_normalised_and_deduplicated_by_sender_and_time() {
        for (raw, event, key) in [
            ("<Event>subscribe</Event><EventKey>qrscene_7</EventKey>", "subscribe", Some("qrscene_7")),
            ("<Event>unsubscribe</Event>", "unsubscribe", None),
            ("<Event>CLICK</Event><EventKey>MENU_1</EventKey>", "click", Some("MENU_1")),
            ("<Event>VIEW</Event><EventKey>https://a</EventKey>", "view", Some("https://a")),
            ("<Event>SCAN</Event><EventKey>7</EventKey><Ticket>t</Ticket>", "scan", Some("7")),
        ] {
            let m = msg(&format!("<MsgType>event</MsgType>{raw}"));
            assert_eq!(m.content, Content::Event { event: event.into(), key: key.map(str::to_owned) });
            assert_eq!(m.dedupe_key, format!("o_user:1700000000:{event}:{}", key.unwrap_or("")));
        }
    }

    #[test]
    fn missing_fields_are_errors_and_unknown_types_are_kept_as_events() {
        let doc = parse("<xml><FromUserName>a</FromUserName></xml>").unwrap();
        assert!(parse_message(&doc).is_err());
        let doc = parse("<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>x</CreateTime><MsgType>text</MsgType></xml>").unwrap();
        assert!(parse_message(&doc).is_err());
        let doc = parse("<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>hologram</MsgType></xml>").unwrap();
        let m = parse_message(&doc).unwrap();
        assert_eq!(m.content, Content::Event { event: "unsupported_hologram".into(), key: None });
    }
}
