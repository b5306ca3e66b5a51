//! 微信客服 (WeChat Customer Service) APIs: pulling messages with sync_msg, session states,
//! event replies and customer profiles.

use kefu_domain::{Content, Profile};
use serde_json::{Value, json};

use super::api::{Credentials, WxClient};
use crate::SendError;
use crate::platform::TokenCache;

/// One page of sync_msg.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncPage {
    pub next_cursor: String,
    pub has_more: bool,
    pub items: Vec<KfItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum KfItem {
    /// A customer message (origin 3).
    Customer { msgid: String, external_userid: String, send_time: i64, content: Content },
    /// The customer opened the chat; `welcome_code` allows one welcome message within 20 s.
    EnterSession { external_userid: String, welcome_code: Option<String>, send_time: i64 },
    /// A message we sent was not delivered.
    SendFailed { fail_msgid: String, fail_type: i64 },
    /// Anything else (agent messages from the WeCom client, other events), kept for the log.
    Other { msgid: String, what: String },
}

fn s(v: &Value) -> String {
    v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())
}

fn content_of(m: &Value) -> Content {
    let kind = m["msgtype"].as_str().unwrap_or_default();
    let media = |k: &str| m[k]["media_id"].as_str().map(str::to_owned);
    match kind {
        "text" => Content::text(m["text"]["content"].as_str().unwrap_or_default()),
        "image" => Content::Image { url: None, media_id: media("image") },
        "voice" => Content::Voice { url: None, media_id: media("voice"), format: None, recognition: None },
        "video" => Content::Video { url: None, media_id: media("video"), thumb_media_id: None },
        "file" => Content::File { url: None, media_id: media("file"), name: "文件".into(), size: None },
        "location" => Content::Location {
            latitude: m["location"]["latitude"].as_f64().unwrap_or_default(),
            longitude: m["location"]["longitude"].as_f64().unwrap_or_default(),
            label: m["location"]["name"].as_str().map(str::to_owned),
        },
        "link" => Content::Link {
            title: m["link"]["title"].as_str().unwrap_or_default().to_owned(),
            description: m["link"]["desc"].as_str().map(str::to_owned),
            url: m["link"]["url"].as_str().unwrap_or_default().to_owned(),
            pic_url: m["link"]["pic_url"].as_str().map(str::to_owned),
        },
        other => Content::Event { event: format!("unsupported_{other}"), key: None },
    }
}

fn item_of(m: &Value) -> KfItem {
    let msgid = s(&m["msgid"]);
    let ev = &m["event"];
    match (m["origin"].as_i64(), m["msgtype"].as_str(), ev["event_type"].as_str()) {
        (Some(3), _, _) => KfItem::Customer {
            msgid,
            external_userid: s(&m["external_userid"]),
            send_time: m["send_time"].as_i64().unwrap_or_default(),
            content: content_of(m),
        },
        (_, Some("event"), Some("enter_session")) => KfItem::EnterSession {
            external_userid: s(&ev["external_userid"]),
            welcome_code: ev["welcome_code"].as_str().filter(|c| !c.is_empty()).map(str::to_owned),
            send_time: m["send_time"].as_i64().unwrap_or_default(),
        },
        (_, Some("event"), Some("msg_send_fail")) => KfItem::SendFailed {
            fail_msgid: s(&ev["fail_msgid"]),
            fail_type: ev["fail_type"].as_i64().unwrap_or(0),
        },
        (origin, kind, event) => {
            KfItem::Other { msgid, what: format!("origin={origin:?} msgtype={kind:?} event={event:?}") }
        }
    }
}

pub fn parse_sync(v: &Value) -> SyncPage {
    SyncPage {
        next_cursor: v["next_cursor"].as_str().unwrap_or_default().to_owned(),
        has_more: v["has_more"].as_i64() == Some(1),
        items: v["msg_list"].as_array().map(|l| l.iter().map(item_of).collect()).unwrap_or_default(),
    }
}

/// Why a sent message failed, from `msg_send_fail.fail_type`.
pub fn fail_reason(fail_type: i64) -> &'static str {
    match fail_type {
        1 => "客服账号已删除",
        2 => "应用已关闭",
        4 => "会话已过期（超过48小时）",
        5 => "会话已结束",
        6 => "超过5条消息的发送上限",
        7 => "未绑定视频号",
        8 => "主体未验证",
        10 => "用户拒收",
        _ => "未知原因",
    }
}

pub struct Kf<'a> {
    pub client: &'a WxClient,
    pub tokens: &'a dyn TokenCache,
    pub creds: &'a Credentials,
}

impl Kf<'_> {
    pub async fn sync(&self, open_kfid: &str, cursor: &str, token: &str) -> Result<SyncPage, SendError> {
        let mut body = json!({ "open_kfid": open_kfid, "limit": 1000 });
        if !cursor.is_empty() {
            body["cursor"] = json!(cursor);
        }
        if !token.is_empty() {
            body["token"] = json!(token);
        }
        Ok(parse_sync(&self.client.post(self.tokens, self.creds, "/cgi-bin/kf/sync_msg", &body).await?))
    }

    /// Moves the session to `state` (1 = served by the API/bot, 4 = ended).
    pub async fn trans_state(
        &self,
        open_kfid: &str,
        external_userid: &str,
        state: i64,
    ) -> Result<(), SendError> {
        let body =
            json!({ "open_kfid": open_kfid, "external_userid": external_userid, "service_state": state });
        self.client.post(self.tokens, self.creds, "/cgi-bin/kf/service_state/trans", &body).await.map(|_| ())
    }

    pub async fn state(&self, open_kfid: &str, external_userid: &str) -> Result<i64, SendError> {
        let body = json!({ "open_kfid": open_kfid, "external_userid": external_userid });
        let v = self.client.post(self.tokens, self.creds, "/cgi-bin/kf/service_state/get", &body).await?;
        Ok(v["service_state"].as_i64().unwrap_or(0))
    }

    pub async fn welcome(&self, code: &str, text: &str) -> Result<(), SendError> {
        let body = json!({ "code": code, "msgtype": "text", "text": { "content": text } });
        self.client.post(self.tokens, self.creds, "/cgi-bin/kf/send_msg_on_event", &body).await.map(|_| ())
    }

    pub async fn profile(&self, external_userid: &str) -> Result<Profile, SendError> {
        let body = json!({ "external_userid_list": [external_userid] });
        let v = self.client.post(self.tokens, self.creds, "/cgi-bin/kf/customer/batchget", &body).await?;
        let c = &v["customer_list"][0];
        Ok(Profile {
            nickname: c["nickname"].as_str().filter(|n| !n.is_empty()).map(str::to_owned),
            union_id: c["unionid"].as_str().filter(|n| !n.is_empty()).map(str::to_owned),
            phone: None,
        })
    }
}

/// An Official Account follower's UnionID (only present when the OA is bound to an Open Platform).
pub async fn oa_profile(
    client: &WxClient,
    tokens: &dyn TokenCache,
    creds: &Credentials,
    openid: &str,
) -> Result<Profile, SendError> {
    let v = client.get(tokens, creds, &format!("/cgi-bin/user/info?openid={openid}&lang=zh_CN")).await?;
    Ok(Profile {
        union_id: v["unionid"].as_str().filter(|u| !u.is_empty()).map(str::to_owned),
        nickname: v["nickname"].as_str().filter(|n| !n.is_empty()).map(str::to_owned),
        phone: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_page_yields_customer_messages_events_and_failures() {
        let v = json!({"errcode":0,"next_cursor":"c2","has_more":1,"msg_list":[
            {"msgid":"m1","open_kfid":"wk1","external_userid":"wm1","send_time":1700000000,"origin":3,"msgtype":"text","text":{"content":"你好😀"}},
            {"msgid":"m2","origin":4,"msgtype":"event","event":{"event_type":"enter_session","open_kfid":"wk1","external_userid":"wm1","welcome_code":"W1"}},
            {"msgid":"m3","origin":4,"msgtype":"event","event":{"event_type":"msg_send_fail","fail_msgid":"kefu7","fail_type":6}},
            {"msgid":"m4","origin":5,"msgtype":"text","text":{"content":"agent"}},
            {"msgid":"m5","origin":3,"external_userid":"wm1","msgtype":"location","location":{"latitude":23.1,"longitude":113.3,"name":"广州塔"}}
        ]});
        let page = parse_sync(&v);
        assert_eq!((page.next_cursor.as_str(), page.has_more), ("c2", true));
        assert!(
            matches!(&page.items[0], KfItem::Customer { content, .. } if *content == Content::text("你好😀"))
        );
        assert!(matches!(&page.items[1], KfItem::EnterSession { welcome_code: Some(c), .. } if c == "W1"));
        assert_eq!(page.items[2], KfItem::SendFailed { fail_msgid: "kefu7".into(), fail_type: 6 });
        assert!(matches!(page.items[3], KfItem::Other { .. }));
        assert!(matches!(&page.items[4], KfItem::Customer { content: Content::Location { .. }, .. }));
        assert_eq!(fail_reason(6), "超过5条消息的发送上限");
    }
}
