//! Channel administration: list (secrets masked), create, edit, and the connectivity test.

use axum::Json;
use axum::extract::{Path, State};
use kefu_domain::{Channel, ChannelId, ChannelKind, Role};
use kefu_engine::connectivity::{self, Report};
use kefu_store::NewChannel;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Says a secret is set without revealing any of it: even a few characters narrow a guess
/// and show up in screenshots.
pub fn mask(secret: &str) -> String {
    if secret.is_empty() { String::new() } else { "••••••••".into() }
}

#[derive(Serialize)]
pub struct ChannelView {
    id: ChannelId,
    kind: ChannelKind,
    key: String,
    name: String,
    enabled: bool,
    settings: Value,
    /// Secret names with masked values.
    secrets: Map<String, Value>,
    /// The URL to enter in the platform's console.
    callback_url: Option<String>,
}

fn view(state: &AppState, ch: Channel) -> ChannelView {
    let secrets = ch
        .secrets
        .as_object()
        .map(|o| {
            o.iter().map(|(k, v)| (k.clone(), Value::String(mask(v.as_str().unwrap_or_default())))).collect()
        })
        .unwrap_or_default();
    let base = state.config.public_url.trim_end_matches('/');
    let path = match ch.kind {
        ChannelKind::WechatOa => Some(format!("/callback/wechat/{}", ch.key)),
        ChannelKind::Wecom | ChannelKind::WecomKf => Some(format!("/callback/wecom/{}", ch.key)),
        ChannelKind::Dingtalk => Some(format!("/callback/dingtalk/{}", ch.key)),
        ChannelKind::Webchat => None,
    };
    ChannelView {
        id: ch.id,
        kind: ch.kind,
        key: ch.key,
        name: ch.name,
        enabled: ch.enabled,
        settings: ch.settings,
        secrets,
        callback_url: path.map(|p| format!("{base}{p}")),
    }
}

pub async fn list(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<Vec<ChannelView>>> {
    me.require(Role::Admin)?;
    let all = state.store.channels().await?;
    Ok(Json(all.into_iter().map(|c| view(&state, c)).collect()))
}

#[derive(Deserialize)]
pub struct CreateForm {
    kind: ChannelKind,
    key: String,
    name: String,
    #[serde(default)]
    settings: Map<String, Value>,
    #[serde(default)]
    secrets: Map<String, Value>,
}

fn valid_key(key: &str) -> bool {
    (2..=40).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(f): Json<CreateForm>,
) -> ApiResult<Json<ChannelView>> {
    me.require(Role::Admin)?;
    if !valid_key(&f.key) {
        return Err(ApiError::BadRequest("key must be 2-40 letters, digits, '-' or '_'".into()));
    }
    let new = NewChannel {
        kind: f.kind,
        key: f.key,
        name: f.name,
        settings: f.settings.into(),
        secrets: f.secrets.into(),
    };
    let ch = state.store.create_channel(new, state.clock.now()).await?;
    Ok(Json(view(&state, ch)))
}

#[derive(Deserialize)]
pub struct UpdateForm {
    name: Option<String>,
    enabled: Option<bool>,
    /// Settings to set; a null value removes one.
    #[serde(default)]
    settings: Map<String, Value>,
    /// Secrets to replace; others stay as they are (the UI only ever sees masked values).
    #[serde(default)]
    secrets: Map<String, Value>,
}

fn merge(target: &mut Value, changes: Map<String, Value>) {
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let obj = target.as_object_mut().expect("made an object above");
    for (k, v) in changes {
        if v.is_null() {
            obj.remove(&k)
        } else {
            obj.insert(k, v)
        };
    }
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<UpdateForm>,
) -> ApiResult<Json<ChannelView>> {
    me.require(Role::Admin)?;
    let mut ch = state.store.channel(ChannelId(id)).await?;
    if let Some(n) = f.name {
        ch.name = n;
    }
    if let Some(e) = f.enabled {
        ch.enabled = e;
    }
    merge(&mut ch.settings, f.settings);
    merge(&mut ch.secrets, f.secrets);
    Ok(Json(view(&state, state.store.update_channel(&ch).await?)))
}

#[derive(Deserialize)]
pub struct TestForm {
    /// Who receives the test messages: an OpenID, external_userid or member UserID.
    recipient: String,
}

pub async fn test(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<TestForm>,
) -> ApiResult<Json<Report>> {
    me.require(Role::Admin)?;
    let ch = state.store.channel(ChannelId(id)).await?;
    let sender = state.senders.get(ch.kind).filter(|_| ch.kind != ChannelKind::Webchat).cloned();
    let sender = sender
        .ok_or_else(|| ApiError::BadRequest(format!("no connectivity test for {} channels", ch.kind)))?;
    let recipient = f.recipient.trim();
    if recipient.is_empty() || recipient.len() > 128 {
        return Err(ApiError::BadRequest("recipient is required".into()));
    }
    let r = connectivity::run(
        state.store.as_ref(),
        &state.platforms,
        sender.as_ref(),
        &ch,
        recipient,
        state.clock.now(),
    )
    .await;
    Ok(Json(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_beyond_use() {
        for secret in ["abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "short", "密钥密钥密钥密钥"] {
            let m = mask(secret);
            assert_eq!(m, "••••••••");
            assert!(!secret.chars().any(|c| m.contains(c)), "{m} reveals part of {secret}");
        }
        assert_eq!(mask(""), "", "an unset secret is shown as unset");
    }
}
