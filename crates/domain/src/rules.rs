//! Platform send rules that kefu enforces before trying, so an agent learns at once that a
//! message cannot go out instead of watching it fail.

use std::time::Duration;

use crate::{ChannelKind, Timestamp};

/// A platform's limit on replies after a customer message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyWindow {
    pub length: Duration,
    /// Most messages per customer message (the count resets when the customer writes again).
    pub max_messages: u32,
}

/// WeChat OA customer-service messages and 微信客服 both allow 5 messages within 48 hours of
/// the customer's last message; the other channels have no such window.
pub fn reply_window(kind: ChannelKind) -> Option<ReplyWindow> {
    match kind {
        ChannelKind::WechatOa | ChannelKind::WecomKf => {
            Some(ReplyWindow { length: Duration::from_secs(48 * 3600), max_messages: 5 })
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("超过48小时回复窗口：客户最后一次发消息已超过48小时，需等客户再次发消息后才能回复")]
    WindowClosed,
    #[error("客户发消息后最多可回复{0}条，已达上限：需等客户再次发消息后才能继续发送")]
    QuotaUsed(u32),
}

/// Whether one more message may be sent now, given when the customer last wrote and how many
/// messages went out since.
pub fn check_reply(
    kind: ChannelKind,
    last_inbound: Option<Timestamp>,
    sent_since: u32,
    now: Timestamp,
) -> Result<(), Refusal> {
    let Some(w) = reply_window(kind) else { return Ok(()) };
    match last_inbound {
        Some(t) if now.since(t) < w.length => {}
        _ => return Err(Refusal::WindowClosed),
    }
    if sent_since >= w.max_messages {
        return Err(Refusal::QuotaUsed(w.max_messages));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechat_replies_are_limited_to_five_within_48_hours() {
        let t = Timestamp::from_seconds(1_000_000);
        let oa = ChannelKind::WechatOa;
        assert_eq!(check_reply(oa, Some(t), 0, t.plus(Duration::from_secs(47 * 3600))), Ok(()));
        assert_eq!(
            check_reply(oa, Some(t), 0, t.plus(Duration::from_secs(48 * 3600))),
            Err(Refusal::WindowClosed)
        );
        assert_eq!(check_reply(oa, None, 0, t), Err(Refusal::WindowClosed));
        assert_eq!(check_reply(oa, Some(t), 4, t), Ok(()));
        assert_eq!(check_reply(oa, Some(t), 5, t), Err(Refusal::QuotaUsed(5)));
        assert_eq!(check_reply(ChannelKind::Webchat, None, 100, t), Ok(()));
        assert_eq!(check_reply(ChannelKind::Wecom, None, 100, t), Ok(()));
    }
}
