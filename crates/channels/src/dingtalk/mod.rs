//! DingTalk (钉钉): the enterprise robot's HTTP callback (signed with the app secret), the
//! encrypted event subscription, replies through the message's sessionWebhook or the robot
//! send APIs, and the user API for OneID.

pub mod api;
pub mod events;
pub mod outbound;
pub mod robot;
pub mod sign;

use kefu_domain::Channel;

/// What a DingTalk channel is configured with, read from its settings and secrets.
#[derive(Debug, Clone)]
pub struct DtConfig {
    /// AppKey (ClientId); also the robotCode of an internal app's robot and the receive id of
    /// its event crypto.
    pub app_key: String,
    pub app_secret: String,
    /// `https://api.dingtalk.com` normally; the sandbox's URL in tests and the demo.
    pub api_base: String,
    /// `https://oapi.dingtalk.com` normally (user and media APIs).
    pub oapi_base: String,
    pub robot_code: String,
}

pub const API: &str = "https://api.dingtalk.com";
pub const OAPI: &str = "https://oapi.dingtalk.com";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DingTalk channel setting {0} is not set")]
pub struct Missing(pub &'static str);

impl DtConfig {
    pub fn from_channel(ch: &Channel) -> Result<Self, Missing> {
        let app_key = ch.setting("app_key").filter(|s| !s.is_empty()).ok_or(Missing("app_key"))?;
        let app_secret = ch.secret("app_secret").filter(|s| !s.is_empty()).ok_or(Missing("app_secret"))?;
        let base = |key, default: &str| ch.setting(key).unwrap_or(default).trim_end_matches('/').to_owned();
        Ok(DtConfig {
            app_key: app_key.to_owned(),
            app_secret: app_secret.to_owned(),
            api_base: base("api_base", API),
            oapi_base: base("oapi_base", OAPI),
            robot_code: ch.setting("robot_code").unwrap_or(app_key).to_owned(),
        })
    }

    /// One token per app for the whole deployment.
    pub fn token_key(&self) -> String {
        format!("dingtalk:{}", self.app_key)
    }
}
