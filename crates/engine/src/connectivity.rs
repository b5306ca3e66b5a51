//! The connectivity test (连通性测试): send Chinese text, an image and emoji through a channel
//! and report, step by step, whether each was accepted and — on the sandbox — arrived intact.

use kefu_channels::Outbound;
use kefu_channels::dingtalk::DtConfig;
use kefu_channels::dingtalk::events::EventCallback;
use kefu_channels::wechat::oa::OaCallback;
use kefu_channels::wechat::outbound::credentials;
use kefu_channels::wechat::wecom::WecomCallback;
use kefu_domain::*;
use kefu_store::{NewMedia, Store};
use serde::Serialize;

use crate::platforms::Platforms;

/// Mixes what breaks encodings: CJK, full-width punctuation, markup characters, quotes, emoji.
pub const TEST_TEXT: &str = "kefu 连通性测试 ✅ 中文：你好，世界！符号 <>&\"' 表情 😀🎉";
/// Emoji that need surrogate pairs, skin-tone modifiers, flags and joiners.
pub const TEST_EMOJI: &str = "😀🎉👍🏽🇨🇳❤️\u{200d}🔥";
const TEST_PNG: &[u8] = include_bytes!("connectivity.png");

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub channel: String,
    pub recipient: String,
    pub ok: bool,
    pub steps: Vec<Step>,
}

impl Report {
    fn step(&mut self, name: &'static str, result: Result<String, String>) -> bool {
        let ok = result.is_ok();
        self.steps.push(Step { name, ok, detail: result.unwrap_or_else(|e| e) });
        self.ok &= ok;
        ok
    }
}

fn config_check(ch: &Channel) -> Result<String, String> {
    if ch.kind == ChannelKind::Dingtalk {
        DtConfig::from_channel(ch).map_err(|e| e.to_string())?;
        if ch.secret("event_token").is_some() {
            EventCallback::from_channel(ch)?;
        }
        return Ok("AppKey、AppSecret（及事件订阅的 Token、aes_key）格式正确".into());
    }
    credentials(ch).map_err(|e| e.to_string())?;
    match ch.kind {
        ChannelKind::WechatOa => OaCallback::from_channel(ch).map(|_| ()).map_err(|e| e.to_string())?,
        _ => WecomCallback::from_channel(ch).map(|_| ()).map_err(|e| e.to_string())?,
    }
    Ok("AppID/CorpID、Secret、Token、EncodingAESKey 格式正确".into())
}

/// Fetches (and caches) the channel's access token.
async fn token_check(p: &Platforms, ch: &Channel) -> Result<String, String> {
    let got = match ch.kind {
        ChannelKind::Dingtalk => {
            let cfg = DtConfig::from_channel(ch).map_err(|e| e.to_string())?;
            p.dt.check_token(p.tokens.as_ref(), &cfg).await
        }
        _ => p.wx.check_token(p.tokens.as_ref(), &credentials(ch).map_err(|e| e.to_string())?).await,
    };
    got.map(|_| "已获取并缓存".to_owned()).map_err(|e| e.to_string())
}

fn probe_message(ch: &Channel, content: Content, now: Timestamp) -> Message {
    Message {
        // A fresh id per test message: 微信客服 uses it as the idempotent msgid.
        id: MessageId(now.0),
        conversation_id: ConversationId(0),
        channel_id: ch.id,
        direction: Direction::Outbound,
        sender: Sender::System,
        content,
        platform_msg_id: None,
        status: DeliveryStatus::Pending,
        error: None,
        created_at: now,
    }
}

/// Runs the test against `recipient` (an OpenID, external_userid, member UserID or DingTalk
/// staff userid that may receive messages now — e.g. an administrator who just wrote).
pub async fn run(
    store: &dyn Store,
    p: &Platforms,
    sender: &dyn Outbound,
    ch: &Channel,
    recipient: &str,
    now: Timestamp,
) -> Report {
    let mut r = Report { channel: ch.name.clone(), recipient: recipient.into(), ok: true, steps: vec![] };
    if !r.step("配置检查", config_check(ch)) {
        return r;
    }
    if !r.step("获取 access_token", token_check(p, ch).await) {
        return r;
    }
    let to = Identity {
        id: IdentityId(0),
        customer_id: CustomerId(0),
        channel_id: ch.id,
        external_id: recipient.into(),
        union_id: None,
        phone: None,
        phone_verified: false,
        nickname: None,
        created_at: now,
    };
    let image = store
        .put_media(
            NewMedia { mime: "image/png".into(), filename: "kefu-test.png".into(), data: TEST_PNG.to_vec() },
            now,
        )
        .await;
    let image_url = image.as_ref().map(|i| i.url()).ok();
    let sends = [
        ("发送中文文本", Content::text(TEST_TEXT), 0),
        ("上传并发送图片", Content::Image { url: image_url, media_id: None }, 1),
        ("发送 emoji", Content::text(TEST_EMOJI), 2),
    ];
    for (name, content, n) in sends {
        let res = sender.send(ch, &to, &probe_message(ch, content, Timestamp(now.0 + n))).await;
        r.step(name, res.map(|_| "平台已接受".to_owned()).map_err(|e| e.to_string()));
    }
    if r.ok {
        let check = verify_arrival(ch, recipient, image.map(|i| i.sha256).ok()).await;
        r.step("核对送达内容", check);
    }
    r
}

/// On the sandbox, compares what arrived with what was sent; on a real platform only the
/// person at the recipient's phone can, so the report says what to look for.
async fn verify_arrival(ch: &Channel, recipient: &str, image_sha: Option<String>) -> Result<String, String> {
    let Some(base) = ch.setting("sandbox_url") else {
        return Ok("平台已接受全部消息；请在接收人的手机上确认：中文、符号与表情显示正常，图片可见".into());
    };
    let got = kefu_channels::sandbox::received(base, recipient).await?;
    let tail: Vec<_> = got.iter().rev().take(3).rev().collect();
    let [text, img, emoji] = tail.as_slice() else {
        return Err(format!("沙箱只收到 {} 条消息", got.len()));
    };
    if text.text.as_deref() != Some(TEST_TEXT) {
        return Err(format!("文本不一致（乱码？）：收到 {:?}", text.text));
    }
    if emoji.text.as_deref() != Some(TEST_EMOJI) {
        return Err(format!("emoji 不一致：收到 {:?}", emoji.text));
    }
    if img.media_sha256.is_none() || img.media_sha256 != image_sha {
        return Err("图片内容与发送的不一致".into());
    }
    Ok("沙箱收到的文本、emoji 与图片与发送内容逐字节一致".into())
}
