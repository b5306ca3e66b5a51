//! Channels: the platforms a customer can write from, and one configured account on each.

use crate::ids::ChannelId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// The chat pop-up on the company's own website (官网弹窗).
    Webchat,
    /// WeChat Official Account (公众号).
    WechatOa,
    /// WeCom self-built app (企业微信自建应用).
    Wecom,
    /// WeChat Customer Service (微信客服), reached through WeCom.
    WecomKf,
    /// DingTalk robot (钉钉).
    Dingtalk,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 5] = [
        ChannelKind::Webchat,
        ChannelKind::WechatOa,
        ChannelKind::Wecom,
        ChannelKind::WecomKf,
        ChannelKind::Dingtalk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webchat => "webchat",
            ChannelKind::WechatOa => "wechat_oa",
            ChannelKind::Wecom => "wecom",
            ChannelKind::WecomKf => "wecom_kf",
            ChannelKind::Dingtalk => "dingtalk",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown channel kind {0:?}")]
pub struct UnknownChannelKind(pub String);

impl FromStr for ChannelKind {
    type Err = UnknownChannelKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownChannelKind(s.to_owned()))
    }
}

/// One configured account on a platform, e.g. one Official Account or one website.
///
/// `key` is the public, URL-safe handle used in callback and widget URLs; it is not a secret.
/// Platform secrets live in `secrets`, which the store keeps encrypted at rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Channel {
    pub id: ChannelId,
    pub kind: ChannelKind,
    pub key: String,
    pub name: String,
    pub enabled: bool,
    /// Non-secret settings (app id, API base URL, welcome text...).
    pub settings: serde_json::Value,
    /// Secret settings (tokens, AES keys, app secrets); never sent to a browser unmasked.
    #[serde(skip_serializing)]
    pub secrets: serde_json::Value,
}

impl Channel {
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).and_then(|v| v.as_str())
    }

    pub fn secret(&self, name: &str) -> Option<&str> {
        self.secrets.get(name).and_then(|v| v.as_str())
    }
}
