//! DingTalk work around a robot callback: keeping the reply session, storing the message,
//! and learning the person's unionId and mobile for OneID.

use kefu_channels::dingtalk::DtConfig;
use kefu_channels::dingtalk::robot::RobotMessage;
use kefu_domain::*;
use kefu_store::{Inbound, IngestOutcome, Profile};

use crate::engine::{Engine, Result};
use crate::platforms::Platforms;

/// Stores one robot message (a redelivery is a duplicate) after keeping its reply session, so
/// that the reply to it can use the sessionWebhook.
pub async fn receive(engine: &Engine, channel: &Channel, m: RobotMessage) -> Result<IngestOutcome> {
    let now = engine.clock().now();
    let session = m.session.as_ref().filter(|s| {
        let ok = kefu_channels::dingtalk::session_webhook_allowed(channel, &s.webhook);
        if !ok {
            tracing::warn!(channel = %channel.key, "sessionWebhook outside DingTalk's hosts ignored");
        }
        ok
    });
    if let Some(s) = session {
        let data = serde_json::to_string(s).unwrap_or_default();
        engine.store().put_platform_session(channel.id, &m.sender, &data, s.expires_at, now).await?;
    }
    let inbound = Inbound {
        channel_id: channel.id,
        external_id: m.sender,
        profile: Profile { nickname: m.nick, union_id: None, phone: None },
        dedupe_key: Some(m.msg_id),
        content: m.content,
        received_at: now,
        initial_state: ConversationState::Queued,
        initial_group: None,
        passive: false,
    };
    engine.receive_retrying(inbound).await
}

/// Fetches the staff member's unionId and mobile (empty when the app lacks the phone
/// permission) and stores them on the identity. Failures are logged, never fatal.
pub async fn enrich(engine: &Engine, p: &Platforms, channel: &Channel, identity: &Identity) {
    if identity.phone.is_some() && identity.union_id.is_some() {
        return;
    }
    // Only members of the organisation have a userid the user API knows.
    if identity.external_id.starts_with("$:") {
        return;
    }
    let Ok(cfg) = DtConfig::from_channel(channel) else { return };
    match p.dt.user(p.tokens.as_ref(), &cfg, &identity.external_id).await {
        Ok(u) => {
            let profile = Profile { nickname: u.name, union_id: u.union_id, phone: u.mobile };
            if let Err(e) = engine.store_profile(identity.id, &profile).await {
                tracing::warn!(error = %e, "DingTalk profile not stored");
            }
        }
        Err(e) => tracing::info!(error = %e, identity = %identity.id, "DingTalk profile not available"),
    }
}
