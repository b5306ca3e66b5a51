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

/// DingTalk's own hosts, the only places a `sessionWebhook` may point to.
pub const SESSION_HOSTS: [&str; 2] = ["oapi.dingtalk.com", "api.dingtalk.com"];

/// Whether a `sessionWebhook` from a callback body may be called: an https URL on DingTalk's
/// own hosts, or — only for a sandbox channel (`sandbox_url` set) — on the sandbox. Anything
/// else (loopback, an intranet address, another site) would let whoever can reach the callback
/// make kefu send requests for them.
pub fn session_webhook_allowed(ch: &Channel, url: &str) -> bool {
    if crate::sandbox::within(ch, url) {
        return true;
    }
    let Some(rest) = url.strip_prefix("https://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    SESSION_HOSTS.contains(&authority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::*;

    fn channel(settings: serde_json::Value) -> Channel {
        crate::sandbox::test_channel(ChannelKind::Dingtalk, settings)
    }

    #[test]
    fn only_dingtalks_own_hosts_receive_session_replies() {
        let real = channel(serde_json::json!({}));
        assert!(session_webhook_allowed(&real, "https://oapi.dingtalk.com/robot/sendBySession?session=x"));
        for bad in [
            "http://oapi.dingtalk.com/robot/sendBySession",
            "https://oapi.dingtalk.com.evil.example/robot",
            "https://oapi.dingtalk.com@127.0.0.1/robot",
            "https://127.0.0.1:8080/robot/sendBySession",
            "http://169.254.169.254/latest/meta-data",
            "https://evil.example/?https://oapi.dingtalk.com/",
        ] {
            assert!(!session_webhook_allowed(&real, bad), "{bad}");
        }
        let sandbox = channel(serde_json::json!({"sandbox_url": "http://127.0.0.1:41234"}));
        assert!(session_webhook_allowed(&sandbox, "http://127.0.0.1:41234/robot/sendBySession?session=s"));
        assert!(!session_webhook_allowed(&sandbox, "http://127.0.0.1:41234.evil/robot"));
        assert!(!session_webhook_allowed(&real, "http://127.0.0.1:41234/robot/sendBySession?session=s"));
    }
}
