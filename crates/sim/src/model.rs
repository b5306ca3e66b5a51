//! The simulator's public vocabulary: what a simulated person says, what kefu delivered to
//! them, and how each platform push went (WeChat and DingTalk alike).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kefu_domain::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Something a simulated WeChat user (or WeCom member, 微信客服 customer, DingTalk user) does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SimMessage {
    Text {
        content: String,
    },
    /// An image; without data the built-in sample PNG is sent.
    Image {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data_base64: Option<String>,
    },
    Voice {
        /// What WeChat's speech recognition "heard", if enabled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recognition: Option<String>,
    },
    Video,
    ShortVideo,
    Location {
        /// Latitude.
        x: f64,
        /// Longitude.
        y: f64,
        #[serde(default = "default_scale")]
        scale: u32,
        #[serde(default)]
        label: String,
    },
    Link {
        title: String,
        #[serde(default)]
        description: String,
        url: String,
    },
    /// `subscribe`, `unsubscribe`, `CLICK`, `VIEW`, `SCAN` (OA); `enter_agent`, `click` (WeCom);
    /// `enter_session` (微信客服, `key` becomes the scene).
    Event {
        event: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    /// A file (微信客服 and DingTalk); without data a small sample text file is sent.
    File {
        file_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data_base64: Option<String>,
    },
    /// Text mixed with pictures in one message (DingTalk `richText`).
    RichText {
        parts: Vec<RichPart>,
    },
}

/// One piece of a [`SimMessage::RichText`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RichPart {
    Text {
        text: String,
    },
    /// Without data the built-in sample PNG is sent.
    Picture {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data_base64: Option<String>,
    },
}

fn default_scale() -> u32 {
    15
}

impl SimMessage {
    pub fn text(content: impl Into<String>) -> Self {
        SimMessage::Text { content: content.into() }
    }

    pub fn image(bytes: &[u8]) -> Self {
        SimMessage::Image { data_base64: Some(STANDARD.encode(bytes)) }
    }

    pub fn sample_image() -> Self {
        SimMessage::Image { data_base64: None }
    }

    pub fn event(event: impl Into<String>, key: Option<&str>) -> Self {
        SimMessage::Event { event: event.into(), key: key.map(str::to_owned) }
    }

    pub fn is_event(&self) -> bool {
        matches!(self, SimMessage::Event { .. })
    }
}

/// Which platform surface a message travelled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimChannel {
    Oa,
    Wecom,
    Kf,
    Dingtalk,
}

/// How kefu's message reached the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// In the HTTP response to a callback.
    Passive,
    /// OA `message/custom/send`.
    CustomSend,
    /// 微信客服 `kf/send_msg`.
    KfSend,
    /// 微信客服 `kf/send_msg_on_event`.
    KfEvent,
    /// WeCom `message/send`.
    AppSend,
    /// DingTalk: posted to a message's `sessionWebhook`.
    DtSession,
    /// DingTalk `robot/oToMessages/batchSend`.
    DtBatch,
    /// DingTalk `robot/groupMessages/send`.
    DtGroup,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Passive => "passive",
            Via::CustomSend => "custom_send",
            Via::KfSend => "kf_send",
            Via::KfEvent => "kf_event",
            Via::AppSend => "app_send",
            Via::DtSession => "dt_session",
            Via::DtBatch => "dt_batch",
            Via::DtGroup => "dt_group",
        }
    }
}

/// Proof of the bytes behind a media_id, so a test can tell an image arrived intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaDigest {
    pub media_id: String,
    pub sha256: String,
    pub size: usize,
    pub content_type: String,
}

/// One thing kefu delivered to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// Shared ordering with what the user said, see [`Said`].
    pub seq: u64,
    pub via: Via,
    pub channel: SimChannel,
    /// app_id, corp_id, open_kfid or DingTalk app_key.
    pub account: String,
    pub user: String,
    pub msgtype: String,
    /// The message body as kefu sent it (for passive replies: the XML fields as JSON).
    pub content: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaDigest>,
    pub at: Timestamp,
}

/// One thing a simulated user said, kept for the demo page's conversation view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Said {
    pub seq: u64,
    pub channel: SimChannel,
    pub account: String,
    pub user: String,
    pub message: SimMessage,
    /// The media the platform created for it (image, voice, video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    pub at: Timestamp,
    /// What the user saw if the push failed (e.g. "该公众号暂时无法提供服务，请稍后再试").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The group it was said in (DingTalk openConversationId); `None` for one-to-one chats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
}

/// Everything one user said and received, each list in order of `seq`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub said: Vec<Said>,
    pub received: Vec<Received>,
}

/// The outcome of one platform push to kefu.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub attempts: u32,
    /// HTTP status of the last attempt that got an answer.
    pub status: Option<u16>,
    pub ok: bool,
    pub passive_reply: Option<Received>,
    pub error: Option<String>,
    /// The MsgId (OA / WeCom app) or kf msgid of the pushed message; none for events.
    pub msg_id: Option<String>,
}

/// The outcome of a URL-verification GET.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub ok: bool,
    pub status: Option<u16>,
    pub expected: String,
    pub body: String,
    pub error: Option<String>,
}

/// Which of kefu's callback endpoints a URL belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "channel", content = "id", rename_all = "snake_case")]
pub enum CallbackTarget {
    /// By app_id.
    Oa(String),
    /// By corp_id.
    WecomApp(String),
    /// By corp_id.
    Kf(String),
    /// The DingTalk robot's message receiving URL, by app_key.
    DingtalkRobot(String),
    /// The DingTalk app's event subscription (事件订阅) URL, by app_key.
    DingtalkEvents(String),
}

/// Which WeCom callback a verification GET is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WecomTarget {
    App,
    Kf,
}

/// Where a DingTalk user talks to the robot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DtChat {
    /// A one-to-one chat with the robot (`conversationType` "1").
    Direct,
    /// A group the robot is in (`conversationType` "2"). Real DingTalk pushes group messages
    /// only when the robot is @-mentioned; the simulator pushes them anyway when `at_robot`
    /// is false (with `isInAtList: false`) so that kefu's filtering can be tested.
    Group {
        open_conversation_id: String,
        title: String,
        #[serde(default = "yes")]
        at_robot: bool,
    },
}

fn yes() -> bool {
    true
}
