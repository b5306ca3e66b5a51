//! The enterprise robot's message callback (HTTP mode): the JSON DingTalk posts when someone
//! writes to the robot in a one-to-one chat or @-mentions it in a group, mapped to kefu's
//! content model, plus the reply session it comes with.

use kefu_domain::{Content, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a reply to the sender goes, as DingTalk told us with their last message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DtSession {
    /// The sessionWebhook: replies without a token until it expires (about 90 minutes).
    pub webhook: String,
    pub expires_at: Timestamp,
    /// DingTalk's conversation: `openConversationId` of a group, for sending there later.
    pub conversation_id: String,
    pub group: bool,
}

/// One message from a person to the robot.
#[derive(Debug, Clone, PartialEq)]
pub struct RobotMessage {
    /// The dedupe key: DingTalk redelivers a message it thinks was not received.
    pub msg_id: String,
    /// The sender's userid in the organisation (`senderStaffId`); DingTalk's encrypted,
    /// robot-specific `senderId` only when there is none.
    pub sender: String,
    pub is_staff: bool,
    pub nick: Option<String>,
    pub session: Option<DtSession>,
    pub content: Content,
}

/// What to do with a callback body.
#[derive(Debug, Clone, PartialEq)]
pub enum Robot {
    Message(Box<RobotMessage>),
    /// Valid, but not for us: a group message that does not @-mention the robot.
    Ignored(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RobotError {
    #[error("body is not JSON: {0}")]
    BadJson(String),
    #[error("missing field {0}")]
    Missing(&'static str),
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn code(content: &Value) -> Option<String> {
    text(&content["downloadCode"]).or_else(|| text(&content["pictureDownloadCode"]))
}

/// The typed content of one message; a type kefu does not know is kept as a readable note
/// rather than refused, so nothing a customer sent is lost.
pub fn content_of(msgtype: &str, body: &Value) -> Result<Content, RobotError> {
    let c = &body["content"];
    let group = body["conversationType"].as_str() == Some("2");
    Ok(match msgtype {
        "text" => {
            let t = body["text"]["content"].as_str().ok_or(RobotError::Missing("text.content"))?;
            // DingTalk cuts the robot's @-mention out of a group message and leaves the space
            // that followed it; that one space goes, everything the person wrote stays.
            Content::text(if group { t.strip_prefix(' ').unwrap_or(t) } else { t })
        }
        "picture" => Content::Image {
            url: None,
            media_id: Some(code(c).ok_or(RobotError::Missing("content.downloadCode"))?),
        },
        "richText" => {
            let parts = c["richText"].as_array().ok_or(RobotError::Missing("content.richText"))?;
            let joined: Vec<String> = parts
                .iter()
                .map(|p| match p["type"].as_str() {
                    Some("picture") => "[图片]".to_owned(),
                    _ => p["text"].as_str().unwrap_or_default().to_owned(),
                })
                .collect();
            Content::text(joined.concat().trim())
        }
        "audio" => Content::Voice {
            url: None,
            media_id: code(c),
            format: None,
            recognition: text(&c["recognition"]),
        },
        "video" => Content::Video { url: None, media_id: code(c), thumb_media_id: None },
        "file" => Content::File {
            url: None,
            media_id: code(c),
            name: text(&c["fileName"]).unwrap_or_else(|| "文件".into()),
            size: None,
        },
        other => Content::text(format!("[钉钉{other}消息，暂不支持显示]")),
    })
}

/// Parses a robot callback body.
pub fn parse(body: &str) -> Result<Robot, RobotError> {
    let v: Value = serde_json::from_str(body).map_err(|e| RobotError::BadJson(e.to_string()))?;
    let group = v["conversationType"].as_str() == Some("2");
    if group && v["isInAtList"].as_bool() == Some(false) {
        return Ok(Robot::Ignored("a group message that does not mention the robot"));
    }
    let msg_id = text(&v["msgId"]).filter(|s| !s.is_empty()).ok_or(RobotError::Missing("msgId"))?;
    let staff = text(&v["senderStaffId"]).filter(|s| !s.is_empty());
    let sender =
        staff.clone().or_else(|| text(&v["senderId"])).ok_or(RobotError::Missing("senderStaffId"))?;
    let msgtype = v["msgtype"].as_str().ok_or(RobotError::Missing("msgtype"))?;
    let session = match (text(&v["sessionWebhook"]), v["sessionWebhookExpiredTime"].as_i64()) {
        (Some(webhook), Some(exp)) => Some(DtSession {
            webhook,
            expires_at: Timestamp(exp),
            conversation_id: text(&v["conversationId"]).unwrap_or_default(),
            group,
        }),
        _ => None,
    };
    Ok(Robot::Message(Box::new(RobotMessage {
        msg_id,
        sender,
        is_staff: staff.is_some(),
        nick: text(&v["senderNick"]),
        session,
        content: content_of(msgtype, &v)?,
    })))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(extra: Value) -> String {
        let mut v = json!({
            "msgtype": "text", "text": {"content": " 你好 😀 <b>x</b>"}, "msgId": "msgA1", "createAt": 1700000000000i64,
            "conversationType": "1", "conversationId": "cidX", "senderId": "$:LWCP_v1:$abc", "senderStaffId": "manager4220",
            "senderNick": "王磊", "robotCode": "dingabc", "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=s1",
            "sessionWebhookExpiredTime": 1700005400000i64
        });
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        v.to_string()
    }

    #[test]
    fn a_direct_text_keeps_its_emoji_and_markup_as_text_and_its_session() {
        let Robot::Message(m) = parse(&body(json!({}))).unwrap() else { panic!() };
        assert_eq!(m.content, Content::text(" 你好 😀 <b>x</b>"), "a direct message is kept as written");
        assert_eq!((m.msg_id.as_str(), m.sender.as_str(), m.is_staff), ("msgA1", "manager4220", true));
        let s = m.session.unwrap();
        assert_eq!(
            (s.expires_at, s.group, s.conversation_id.as_str()),
            (Timestamp(1_700_005_400_000), false, "cidX")
        );
    }

    #[test]
    fn groups_are_handled_only_when_the_robot_is_mentioned() {
        let quiet = body(json!({"conversationType": "2", "isInAtList": false}));
        assert!(matches!(parse(&quiet).unwrap(), Robot::Ignored(_)));
        let Robot::Message(m) = parse(&body(json!({"conversationType": "2", "isInAtList": true}))).unwrap()
        else {
            panic!()
        };
        assert!(m.session.unwrap().group);
        assert_eq!(m.content, Content::text("你好 😀 <b>x</b>"), "only the mention's space goes");
        let spaced = body(json!({"conversationType": "2", "text": {"content": "  两个空格 \n"}}));
        let Robot::Message(m) = parse(&spaced).unwrap() else { panic!() };
        assert_eq!(m.content, Content::text(" 两个空格 \n"), "the rest is never trimmed");
    }

    #[test]
    fn media_and_rich_text_map_to_kefu_content() {
        let pic = body(json!({"msgtype": "picture", "content": {"downloadCode": "dc1"}}));
        let Robot::Message(m) = parse(&pic).unwrap() else { panic!() };
        assert_eq!(m.content, Content::Image { url: None, media_id: Some("dc1".into()) });
        let rich = body(
            json!({"msgtype": "richText", "content": {"richText": [{"text": "看图："}, {"type": "picture", "downloadCode": "dc2"}]}}),
        );
        let Robot::Message(m) = parse(&rich).unwrap() else { panic!() };
        assert_eq!(m.content, Content::text("看图：[图片]"));
        let audio = body(
            json!({"msgtype": "audio", "content": {"downloadCode": "dc3", "recognition": "你好", "duration": 2000}}),
        );
        let Robot::Message(m) = parse(&audio).unwrap() else { panic!() };
        assert!(matches!(m.content, Content::Voice { recognition: Some(ref r), .. } if r == "你好"));
        let file =
            body(json!({"msgtype": "file", "content": {"downloadCode": "dc4", "fileName": "合同.pdf"}}));
        let Robot::Message(m) = parse(&file).unwrap() else { panic!() };
        assert!(matches!(m.content, Content::File { ref name, .. } if name == "合同.pdf"));
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        assert!(matches!(parse("{"), Err(RobotError::BadJson(_))));
        assert_eq!(parse(&body(json!({"msgId": ""}))), Err(RobotError::Missing("msgId")));
        assert_eq!(parse(&body(json!({"text": 5}))), Err(RobotError::Missing("text.content")));
        assert!(matches!(parse("[1,2]"), Err(RobotError::Missing(_))));
    }
}
