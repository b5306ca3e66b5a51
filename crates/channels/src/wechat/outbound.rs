//! Sending through WeChat: OA customer-service messages, WeCom app messages and 微信客服 messages.

use std::sync::Arc;

use async_trait::async_trait;
use kefu_domain::{Channel, ChannelKind, Content, DeliveryStatus, Identity, Message};
use serde_json::{Value, json};

use super::api::{Credentials, Flavor, OA_API, WORK_API, WxClient};
use super::oa::need;
use crate::platform::{MediaSource, TokenCache};
use crate::{Outbound, SendError, Sent};

/// The credential a channel sends with: the OA app secret, the WeCom app secret, or the
/// 微信客服 secret.
pub fn credentials(ch: &Channel) -> Result<Credentials, SendError> {
    let bad = |e: super::oa::ConfigError| SendError::permanent(e.to_string());
    let (flavor, default_base, id_field) = match ch.kind {
        ChannelKind::WechatOa => (Flavor::Oa, OA_API, "app_id"),
        ChannelKind::Wecom | ChannelKind::WecomKf => (Flavor::Work, WORK_API, "corp_id"),
        other => return Err(SendError::permanent(format!("{other} is not a WeChat channel"))),
    };
    Ok(Credentials {
        base: ch.setting("api_base").unwrap_or(default_base).trim_end_matches('/').to_owned(),
        flavor,
        id: need(ch.setting(id_field), id_field).map_err(bad)?.to_owned(),
        secret: need(ch.secret("app_secret"), "app_secret").map_err(bad)?.to_owned(),
    })
}

/// The sender for all three WeChat-family channel kinds.
pub struct WechatSender {
    client: WxClient,
    tokens: Arc<dyn TokenCache>,
    media: Arc<dyn MediaSource>,
}

impl WechatSender {
    pub fn new(client: WxClient, tokens: Arc<dyn TokenCache>, media: Arc<dyn MediaSource>) -> Self {
        WechatSender { client, tokens, media }
    }

    pub fn client(&self) -> &WxClient {
        &self.client
    }

    pub fn tokens(&self) -> &dyn TokenCache {
        self.tokens.as_ref()
    }

    /// Uploads a kefu-held image unless the content already names a platform media id.
    async fn image_id(
        &self,
        creds: &Credentials,
        url: &Option<String>,
        media_id: &Option<String>,
    ) -> Result<String, SendError> {
        if let Some(id) = media_id {
            return Ok(id.clone());
        }
        let url = url.as_deref().ok_or_else(|| SendError::permanent("图片没有内容"))?;
        let media =
            self.media.load(url).await.ok_or_else(|| SendError::permanent("找不到要发送的图片文件"))?;
        self.client.upload(self.tokens.as_ref(), creds, "image", &media).await
    }

    /// The typed part of the body, shared by the three APIs where their formats agree.
    async fn body_part(
        &self,
        kind: ChannelKind,
        creds: &Credentials,
        c: &Content,
    ) -> Result<(&'static str, Value), SendError> {
        Ok(match c {
            Content::Text { text } => ("text", json!({ "content": text })),
            Content::Image { url, media_id } => {
                ("image", json!({ "media_id": self.image_id(creds, url, media_id).await? }))
            }
            Content::Menu { head, choices, tail } if kind != ChannelKind::Wecom => {
                let list: Vec<Value> = if kind == ChannelKind::WechatOa {
                    choices.iter().map(|c| json!({ "id": c.id, "content": c.text })).collect()
                } else {
                    choices
                        .iter()
                        .map(|c| json!({ "type": "click", "click": { "id": c.id, "content": c.text } }))
                        .collect()
                };
                (
                    "msgmenu",
                    json!({ "head_content": head, "list": list, "tail_content": tail.clone().unwrap_or_default() }),
                )
            }
            Content::Link { title, description, url, pic_url } if kind == ChannelKind::WecomKf => {
                ("link", json!({ "title": title, "desc": description, "url": url, "pic_url": pic_url }))
            }
            Content::Link { title, description, url, pic_url } => (
                "news",
                json!({ "articles": [{ "title": title, "description": description, "url": url, "picurl": pic_url }] }),
            ),
            // Channels without buttons get the numbered list as plain text.
            Content::Menu { .. } | Content::Location { .. } => {
                ("text", json!({ "content": c.plain_text().unwrap_or_default() }))
            }
            other => return Err(SendError::permanent(format!("该渠道不支持发送{}消息", other.kind()))),
        })
    }
}

#[async_trait]
impl Outbound for WechatSender {
    async fn send(&self, channel: &Channel, to: &Identity, message: &Message) -> Result<Sent, SendError> {
        let creds = credentials(channel)?;
        let (msgtype, part) = self.body_part(channel.kind, &creds, &message.content).await?;
        let mut body = json!({ "touser": to.external_id, "msgtype": msgtype });
        body[msgtype] = part;
        let path = match channel.kind {
            ChannelKind::WechatOa => "/cgi-bin/message/custom/send",
            ChannelKind::Wecom => {
                body["agentid"] =
                    json!(channel.setting("agent_id").unwrap_or_default().parse::<i64>().unwrap_or(0));
                "/cgi-bin/message/send"
            }
            _ => {
                let kfid = channel
                    .setting("open_kfid")
                    .ok_or_else(|| SendError::permanent("open_kfid is not set"))?;
                body["open_kfid"] = json!(kfid);
                body["msgid"] = json!(format!("kefu{}", message.id));
                "/cgi-bin/kf/send_msg"
            }
        };
        let v = self.client.post(self.tokens.as_ref(), &creds, path, &body).await?;
        let platform_msg_id =
            v["msgid"].as_str().map(str::to_owned).or_else(|| v["msgid"].as_i64().map(|n| n.to_string()));
        Ok(Sent { platform_msg_id, status: DeliveryStatus::Sent })
    }
}
