//! WeChat-family work that happens after a callback: pulling 微信客服 messages, keeping the
//! 微信客服 session state in step, and fetching UnionIDs for OneID.

use std::time::Duration;

use kefu_channels::SendError;
use kefu_channels::wechat::api::Credentials;
use kefu_channels::wechat::kf::{Kf, KfItem, fail_reason, oa_profile};
use kefu_channels::wechat::outbound::credentials;
use kefu_domain::*;
use kefu_store::{Inbound, IngestOutcome, Profile};

use crate::engine::{Engine, EngineError, Result};
use crate::platforms::Platforms;

/// 微信客服 session states (service_state).
const STATE_API: i64 = 1;
const STATE_ENDED: i64 = 4;
const CURSOR_LEASE: Duration = Duration::from_secs(60);

fn platform(e: SendError) -> EngineError {
    EngineError::Invalid(format!("platform call failed: {e}"))
}

fn kf<'a>(p: &'a Platforms, creds: &'a Credentials) -> Kf<'a> {
    Kf { client: &p.wx, tokens: p.tokens.as_ref(), creds }
}

/// Pulls every new message of one 微信客服 account (after a kf_msg_or_event notification).
/// Only one node pulls an account at a time; the cursor is saved after each page, and each
/// message is deduplicated by its msgid, so a crash mid-pull re-reads but never duplicates.
pub async fn kf_pull(engine: &Engine, p: &Platforms, channel: &Channel, sync_token: &str) -> Result<usize> {
    let creds = credentials(channel).map_err(platform)?;
    let kfid =
        channel.setting("open_kfid").ok_or_else(|| EngineError::Invalid("open_kfid is not set".into()))?;
    let store = engine.store();
    let mut cursor = None;
    for _ in 0..100 {
        let now = engine.clock().now();
        cursor = store.lease_cursor(channel.id, kfid, now, now.plus(CURSOR_LEASE)).await?;
        if cursor.is_some() {
            break;
        }
        // Another node is pulling; its pull may have started before our notification.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(mut cursor) = cursor else { return Ok(0) };
    let result = pull_pages(engine, p, channel, &creds, kfid, &mut cursor, sync_token).await;
    store.release_cursor(channel.id, kfid).await?;
    result
}

#[allow(clippy::too_many_arguments)]
async fn pull_pages(
    engine: &Engine,
    p: &Platforms,
    channel: &Channel,
    creds: &Credentials,
    kfid: &str,
    cursor: &mut String,
    sync_token: &str,
) -> Result<usize> {
    let mut n = 0;
    loop {
        let page = kf(p, creds).sync(kfid, cursor, sync_token).await.map_err(platform)?;
        for item in page.items {
            n += kf_item(engine, p, channel, creds, item).await?;
        }
        if !page.next_cursor.is_empty() {
            *cursor = page.next_cursor;
            engine.store().save_cursor(channel.id, kfid, cursor, engine.clock().now()).await?;
        }
        if !page.has_more {
            return Ok(n);
        }
    }
}

fn kf_inbound(
    engine: &Engine,
    channel: &Channel,
    external_userid: String,
    msgid: String,
    content: Content,
) -> Inbound {
    Inbound {
        channel_id: channel.id,
        external_id: external_userid,
        profile: Profile::default(),
        dedupe_key: Some(msgid),
        content,
        received_at: engine.clock().now(),
        initial_state: ConversationState::Queued,
        initial_group: None,
        passive: false,
    }
}

async fn kf_item(
    engine: &Engine,
    p: &Platforms,
    channel: &Channel,
    creds: &Credentials,
    item: KfItem,
) -> Result<usize> {
    let (inbound, welcome_code) = match item {
        KfItem::Customer { msgid, external_userid, content, .. } => {
            let IngestOutcome::Accepted(a) =
                engine.receive(kf_inbound(engine, channel, external_userid, msgid, content)).await?
            else {
                return Ok(0);
            };
            kf_new_session(p, channel, creds, &a).await;
            return Ok(1);
        }
        KfItem::EnterSession { external_userid, welcome_code, send_time } => {
            let key = format!("enter:{external_userid}:{send_time}");
            let event = Content::Event { event: "enter_session".into(), key: None };
            (kf_inbound(engine, channel, external_userid, key, event), welcome_code)
        }
        KfItem::SendFailed { fail_msgid, fail_type } => {
            mark_failed(engine, &fail_msgid, fail_type).await?;
            return Ok(0);
        }
        KfItem::Other { msgid, what } => {
            tracing::debug!(%msgid, %what, "微信客服 item not handled");
            return Ok(0);
        }
    };
    let IngestOutcome::Accepted(a) = engine.receive(inbound).await? else { return Ok(0) };
    kf_new_session(p, channel, creds, &a).await;
    // Without a welcome_code WeChat already greeted the customer (natively or within 48 h).
    if let (Some(code), Some(welcome)) = (welcome_code, engine.quick_reply(&a.message).await?)
        && let Content::Text { text } = &welcome
    {
        kf(p, creds).welcome(&code, text).await.map_err(platform)?;
        engine.record_passive(&a.message, Sender::System, welcome).await?;
    }
    Ok(1)
}

/// A new conversation is served through the API (so send_msg works); its `inbound` job
/// learns the UnionID.
async fn kf_new_session(p: &Platforms, channel: &Channel, creds: &Credentials, a: &kefu_store::Accepted) {
    if !a.new_conversation {
        return;
    }
    let kfid = channel.setting("open_kfid").unwrap_or_default();
    if let Err(e) = kf(p, creds).trans_state(kfid, &a.identity.external_id, STATE_API).await {
        tracing::warn!(error = %e, "微信客服 session state not moved to API reception");
    }
}

/// Our 微信客服 msgids are `kefu<message id>`; a failure report marks that message failed.
async fn mark_failed(engine: &Engine, fail_msgid: &str, fail_type: i64) -> Result<()> {
    let Some(id) = fail_msgid.strip_prefix("kefu").and_then(|n| n.parse().ok()) else { return Ok(()) };
    let reason = format!("微信客服未送达：{}", fail_reason(fail_type));
    let message =
        engine.store().set_message_status(MessageId(id), DeliveryStatus::Failed, Some(&reason)).await?;
    engine.announce_message(message).await;
    Ok(())
}

/// Fetches what the platform knows about a new identity (UnionID, nickname) and stores it,
/// so OneID can link the customer across channels. Failures are logged, never fatal.
pub async fn enrich(engine: &Engine, p: &Platforms, channel: &Channel, identity: &Identity) {
    if identity.union_id.is_some() {
        return;
    }
    let profile = match (channel.kind, credentials(channel)) {
        (ChannelKind::WechatOa, Ok(creds)) => {
            oa_profile(&p.wx, p.tokens.as_ref(), &creds, &identity.external_id).await
        }
        (ChannelKind::WecomKf, Ok(creds)) => kf(p, &creds).profile(&identity.external_id).await,
        _ => return,
    };
    match profile {
        Ok(profile) => {
            if let Err(e) = engine.store_profile(identity.id, &profile).await {
                tracing::warn!(error = %e, "profile not stored");
            }
        }
        Err(e) => tracing::info!(error = %e, identity = %identity.id, "profile not available"),
    }
}

/// Ends the 微信客服 session when kefu closes the conversation, so the next customer message
/// opens a new one on WeChat's side too.
pub async fn kf_closed(engine: &Engine, p: &Platforms, conversation: &Conversation) -> Result<()> {
    let channel = engine.store().channel(conversation.channel_id).await?;
    if channel.kind != ChannelKind::WecomKf {
        return Ok(());
    }
    let creds = credentials(&channel).map_err(platform)?;
    let identity = engine.store().identity(conversation.identity_id).await?;
    let kfid = channel.setting("open_kfid").unwrap_or_default();
    kf(p, &creds).trans_state(kfid, &identity.external_id, STATE_ENDED).await.map_err(platform)
}
