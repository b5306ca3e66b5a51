//! Messages in the internal model every channel adapter converts to and from.

use crate::clock::Timestamp;
use crate::ids::{AgentId, ChannelId, ConversationId, MessageId};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
    /// A note for agents (hand-off summary, transfer note); never sent to the customer.
    Internal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Sender {
    Customer,
    Bot,
    Agent {
        id: AgentId,
    },
    /// Messages kefu itself sends: queue position, closing message, notices.
    System,
}

/// Where an outbound message is on its way to the customer. Inbound messages are `Received`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Received,
    /// Accepted by kefu and waiting in the outbox.
    Pending,
    /// Accepted by the platform.
    Sent,
    /// Confirmed as shown to the customer (only channels that can tell us).
    Delivered,
    /// Given up on; `Message::error` says why.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Received => "received",
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = crate::agent::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "received" => DeliveryStatus::Received,
            "pending" => DeliveryStatus::Pending,
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => return Err(crate::agent::UnknownValue(s.to_owned())),
        })
    }
}

/// One clickable choice, e.g. a "猜你想问" suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Choice {
    pub id: String,
    pub text: String,
}

/// Typed message content. Media carry the platform's media id and/or a URL kefu can serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text {
        text: String,
    },
    Image {
        url: Option<String>,
        media_id: Option<String>,
    },
    Voice {
        url: Option<String>,
        media_id: Option<String>,
        format: Option<String>,
        /// The platform's speech recognition, when it offers one.
        recognition: Option<String>,
    },
    Video {
        url: Option<String>,
        media_id: Option<String>,
        thumb_media_id: Option<String>,
    },
    File {
        url: Option<String>,
        media_id: Option<String>,
        name: String,
        size: Option<u64>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        label: Option<String>,
    },
    /// A link or card: a title and description pointing somewhere.
    Link {
        title: String,
        description: Option<String>,
        url: String,
        pic_url: Option<String>,
    },
    /// Text with clickable choices; channels without buttons render it as a numbered list.
    Menu {
        head: String,
        choices: Vec<Choice>,
        tail: Option<String>,
    },
    /// A platform event: subscribe, unsubscribe, menu click, QR scan, session start...
    Event {
        event: String,
        key: Option<String>,
    },
}

impl Content {
    pub fn text(s: impl Into<String>) -> Self {
        Content::Text { text: s.into() }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Content::Text { .. } => "text",
            Content::Image { .. } => "image",
            Content::Voice { .. } => "voice",
            Content::Video { .. } => "video",
            Content::File { .. } => "file",
            Content::Location { .. } => "location",
            Content::Link { .. } => "link",
            Content::Menu { .. } => "menu",
            Content::Event { .. } => "event",
        }
    }

    /// The words in this content, for search, previews and the bot; `None` for pure media.
    pub fn plain_text(&self) -> Option<String> {
        match self {
            Content::Text { text } => Some(text.clone()),
            Content::Voice { recognition, .. } => recognition.clone(),
            Content::File { name, .. } => Some(name.clone()),
            Content::Location { label, .. } => label.clone(),
            Content::Link { title, description, .. } => Some(match description {
                Some(d) => format!("{title} {d}"),
                None => title.clone(),
            }),
            Content::Menu { head, choices, tail } => {
                let mut s = head.clone();
                for (i, c) in choices.iter().enumerate() {
                    s.push_str(&format!("\n{}. {}", i + 1, c.text));
                }
                if let Some(t) = tail {
                    s.push('\n');
                    s.push_str(t);
                }
                Some(s)
            }
            Content::Image { .. } | Content::Video { .. } | Content::Event { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub channel_id: ChannelId,
    pub direction: Direction,
    pub sender: Sender,
    pub content: Content,
    /// The platform's id for this message; unique per channel, so a retried delivery is a no-op.
    pub platform_msg_id: Option<String>,
    pub status: DeliveryStatus,
    pub error: Option<String>,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_round_trips_through_json_with_a_type_tag() {
        let c = Content::Menu {
            head: "猜你想问".into(),
            choices: vec![Choice { id: "B1".into(), text: "怎么查流量 😊".into() }],
            tail: None,
        };
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""type":"menu""#), "{json}");
        assert_eq!(serde_json::from_str::<Content>(&json).unwrap(), c);
    }

    #[test]
    fn a_menu_reads_as_a_numbered_list_in_plain_text() {
        let c = Content::Menu {
            head: "猜你想问：".into(),
            choices: vec![
                Choice { id: "a".into(), text: "查流量".into() },
                Choice { id: "b".into(), text: "交话费".into() },
            ],
            tail: Some("回复序号即可".into()),
        };
        assert_eq!(c.plain_text().unwrap(), "猜你想问：\n1. 查流量\n2. 交话费\n回复序号即可");
    }

    #[test]
    fn delivery_status_parses_what_it_prints() {
        for s in [
            DeliveryStatus::Received,
            DeliveryStatus::Pending,
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(s.as_str().parse::<DeliveryStatus>().unwrap(), s);
        }
        assert!("lost".parse::<DeliveryStatus>().is_err());
    }
}
