//! Sending to DingTalk: through the sessionWebhook of the person's last message while it is
//! valid (no token, no quota), otherwise — and for images — through the robot send APIs
//! (one-to-one `batchSend`, or the group's `groupMessages/send`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kefu_domain::{Channel, Choice, Content, DeliveryStatus, Identity, Message};
use serde_json::{Value, json};

use super::DtConfig;
use super::api::DtClient;
use super::robot::DtSession;
use crate::platform::{MediaSource, PlatformSessions, TokenCache};
use crate::{Outbound, SendError, Sent};

/// A session this close to its end is not worth a try.
const SESSION_MARGIN: Duration = Duration::from_secs(60);

pub struct DingtalkSender {
    client: DtClient,
    tokens: Arc<dyn TokenCache>,
    media: Arc<dyn MediaSource>,
    sessions: Arc<dyn PlatformSessions>,
}

use crate::percent_encode as encode;

/// A button that, when tapped in DingTalk, sends its text back as the user's message — how a
/// "猜你想问" suggestion is picked.
pub fn send_back_url(text: &str) -> String {
    format!("dtmd://dingtalkclient/sendMessage?content={}", encode(text))
}

fn card_text(head: &str, tail: &Option<String>) -> String {
    match tail {
        Some(t) if !t.is_empty() => format!("{head}\n\n{t}"),
        _ => head.to_owned(),
    }
}

fn link_markdown(title: &str, description: &Option<String>, url: &str) -> String {
    let desc = description.as_deref().map(|d| format!("{d}\n\n")).unwrap_or_default();
    format!("#### {title}\n\n{desc}[查看详情]({url})")
}

/// The sessionWebhook body, or `None` for content only the send API carries (images).
pub fn webhook_body(c: &Content) -> Option<Value> {
    Some(match c {
        Content::Text { text } => json!({ "msgtype": "text", "text": { "content": text } }),
        Content::Menu { head, choices, tail } => {
            let btns: Vec<Value> = choices
                .iter()
                .map(|c| json!({ "title": c.text, "actionURL": send_back_url(&c.text) }))
                .collect();
            json!({ "msgtype": "actionCard", "actionCard": { "title": head, "text": card_text(head, tail), "btnOrientation": "0", "btns": btns } })
        }
        Content::Link { title, description, url, .. } => {
            json!({ "msgtype": "markdown", "markdown": { "title": title, "text": link_markdown(title, description, url) } })
        }
        Content::Location { .. } => {
            json!({ "msgtype": "text", "text": { "content": c.plain_text().unwrap_or_default() } })
        }
        _ => return None,
    })
}

/// An action card with one to five buttons, as the send API's msgKey and msgParam.
fn action_card(head: &str, choices: &[Choice], tail: &Option<String>) -> (String, Value) {
    let mut p = json!({ "title": head, "text": card_text(head, tail) });
    if let [only] = choices {
        p["singleTitle"] = json!(only.text);
        p["singleURL"] = json!(send_back_url(&only.text));
        return ("sampleActionCard".into(), p);
    }
    for (i, c) in choices.iter().enumerate() {
        p[format!("actionTitle{}", i + 1)] = json!(c.text);
        p[format!("actionURL{}", i + 1)] = json!(send_back_url(&c.text));
    }
    (format!("sampleActionCard{}", choices.len()), p)
}

impl DingtalkSender {
    pub fn new(
        client: DtClient,
        tokens: Arc<dyn TokenCache>,
        media: Arc<dyn MediaSource>,
        sessions: Arc<dyn PlatformSessions>,
    ) -> Self {
        DingtalkSender { client, tokens, media, sessions }
    }

    pub fn client(&self) -> &DtClient {
        &self.client
    }

    pub fn tokens(&self) -> &dyn TokenCache {
        self.tokens.as_ref()
    }

    /// The send API's msgKey and msgParam for a content.
    async fn api_message(&self, cfg: &DtConfig, c: &Content) -> Result<(String, Value), SendError> {
        Ok(match c {
            Content::Text { text } => ("sampleText".into(), json!({ "content": text })),
            Content::Image { url, media_id } => {
                ("sampleImageMsg".into(), json!({ "photoURL": self.photo(cfg, url, media_id).await? }))
            }
            Content::Menu { head, choices, tail } if (1..=5).contains(&choices.len()) => {
                action_card(head, choices, tail)
            }
            Content::Link { title, description, url, .. } => (
                "sampleMarkdown".into(),
                json!({ "title": title, "text": link_markdown(title, description, url) }),
            ),
            Content::Menu { .. } | Content::Location { .. } => {
                ("sampleText".into(), json!({ "content": c.plain_text().unwrap_or_default() }))
            }
            other => return Err(SendError::permanent(format!("钉钉渠道暂不支持发送{}消息", other.kind()))),
        })
    }

    async fn photo(
        &self,
        cfg: &DtConfig,
        url: &Option<String>,
        media_id: &Option<String>,
    ) -> Result<String, SendError> {
        if let Some(id) = media_id.as_ref().filter(|m| m.starts_with('@')) {
            return Ok(id.clone());
        }
        let url = url.as_deref().ok_or_else(|| SendError::permanent("图片没有内容"))?;
        if url.starts_with("https://") || url.starts_with("http://") {
            return Ok(url.to_owned());
        }
        let media =
            self.media.load(url).await.ok_or_else(|| SendError::permanent("找不到要发送的图片文件"))?;
        self.client.upload(self.tokens.as_ref(), cfg, &media).await
    }

    async fn session(&self, channel: &Channel, to: &Identity) -> Option<DtSession> {
        let raw = self.sessions.get(channel.id, &to.external_id).await?;
        serde_json::from_str(&raw).ok()
    }

    /// Sends through the send API: to the group the person last wrote in, or to them alone.
    async fn send_api(
        &self,
        cfg: &DtConfig,
        to: &Identity,
        session: Option<&DtSession>,
        c: &Content,
    ) -> Result<Sent, SendError> {
        let (key, param) = self.api_message(cfg, c).await?;
        let mut body = json!({ "robotCode": cfg.robot_code, "msgKey": key, "msgParam": param.to_string() });
        let path = match session.filter(|s| s.group) {
            Some(g) => {
                body["openConversationId"] = json!(g.conversation_id);
                "/v1.0/robot/groupMessages/send"
            }
            None if to.external_id.starts_with("$:") => {
                return Err(SendError::permanent(
                    "该用户不是本企业成员，会话已过期，无法主动发送；请等客户再次发消息",
                ));
            }
            None => {
                body["userIds"] = json!([to.external_id]);
                "/v1.0/robot/oToMessages/batchSend"
            }
        };
        let v = self.client.api_post(self.tokens.as_ref(), cfg, path, &body).await?;
        let listed = |k: &str| {
            v[k].as_array().is_some_and(|a| a.iter().any(|x| x.as_str() == Some(to.external_id.as_str())))
        };
        if listed("invalidStaffIdList") {
            return Err(SendError::permanent("钉钉认为该用户无效 (invalidStaffIdList)"));
        }
        if listed("flowControlledStaffIdList") {
            return Err(SendError::Retryable {
                reason: "钉钉对该用户限流".into(),
                retry_after: Some(Duration::from_secs(60)),
            });
        }
        Ok(Sent {
            platform_msg_id: v["processQueryKey"].as_str().map(str::to_owned),
            status: DeliveryStatus::Sent,
        })
    }
}

#[async_trait]
impl Outbound for DingtalkSender {
    async fn send(&self, channel: &Channel, to: &Identity, message: &Message) -> Result<Sent, SendError> {
        let cfg = DtConfig::from_channel(channel).map_err(|e| SendError::permanent(e.to_string()))?;
        let session = self.session(channel, to).await;
        let fresh = session.as_ref().filter(|s| {
            s.expires_at > self.client.clock().now().plus(SESSION_MARGIN)
                && super::session_webhook_allowed(channel, &s.webhook)
        });
        if let (Some(s), Some(mut body)) = (fresh, webhook_body(&message.content)) {
            if s.group && !to.external_id.starts_with("$:") {
                body["at"] = json!({ "atUserIds": [to.external_id], "isAtAll": false });
            }
            // An expired or revoked session is no failure: the send API still reaches them.
            if self.client.session_send(&s.webhook, &body).await.is_ok() {
                return Ok(Sent { platform_msg_id: None, status: DeliveryStatus::Sent });
            }
        }
        self.send_api(&cfg, to, session.as_ref(), &message.content).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_become_buttons_that_send_their_text_back() {
        assert_eq!(
            send_back_url("退款 多久?"),
            "dtmd://dingtalkclient/sendMessage?content=%E9%80%80%E6%AC%BE%20%E5%A4%9A%E4%B9%85%3F"
        );
        let choices =
            vec![Choice { id: "1".into(), text: "甲".into() }, Choice { id: "2".into(), text: "乙".into() }];
        let (key, p) = action_card("猜你想问", &choices, &Some("点按钮".into()));
        assert_eq!(key, "sampleActionCard2");
        assert_eq!(
            (p["actionTitle2"].as_str(), p["text"].as_str()),
            (Some("乙"), Some("猜你想问\n\n点按钮"))
        );
        let (key, p) = action_card("猜你想问", &choices[..1], &None);
        assert_eq!((key.as_str(), p["singleTitle"].as_str()), ("sampleActionCard", Some("甲")));
        let body = webhook_body(&Content::Menu { head: "猜".into(), choices, tail: None }).unwrap();
        assert_eq!(body["actionCard"]["btns"][1]["title"], "乙");
        assert!(webhook_body(&Content::Image { url: None, media_id: None }).is_none());
    }
}
