//! Channel administration: list (secrets masked), create, edit, and the connectivity test.

use axum::Json;
use axum::extract::{Path, State};
use kefu_domain::{Channel, ChannelId, ChannelKind, Role};
use kefu_engine::connectivity::{self, Report};
use kefu_store::NewChannel;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::CurrentAgent;
use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// Says a secret is set without revealing any of it: even a few characters narrow a guess
/// and show up in screenshots.
pub fn mask(secret: &str) -> String {
    if secret.is_empty() { String::new() } else { "••••••••".into() }
}

/// A channel as admins see it: its secrets are named, never shown.
#[derive(Serialize, ToSchema)]
pub struct ChannelView {
    id: ChannelId,
    kind: ChannelKind,
    /// The public handle in callback and widget URLs.
    key: String,
    name: String,
    enabled: bool,
    /// Non-secret settings (app id, API base URL, welcome text...).
    #[schema(value_type = Object)]
    settings: Value,
    /// Every secret's name, with `"••••••••"` when it is set and `""` when it is empty.
    #[schema(value_type = std::collections::BTreeMap<String, MaskedSecret>)]
    secrets: Map<String, Value>,
    /// The URL to enter in the platform's console; null for the web chat.
    callback_url: Option<String>,
}

/// A secret's value as the API shows it: eight bullets (U+2022) when set, empty when not;
/// nothing of the secret itself (see `mask`).
#[derive(ToSchema)]
#[schema(value_type = String, pattern = "^(\u{2022}{8})?$")]
#[allow(dead_code)] // documents the strings `mask` writes
pub struct MaskedSecret(String);

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

/// Every channel, with its secrets masked and the callback URL to register on the platform.
#[utoipa::path(get, path = "/admin/channels", operation_id = "list_channels", tag = "admin",
    responses((status = 200, body = [ChannelView])))]
pub async fn list(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<Vec<ChannelView>>> {
    me.require(Role::Admin)?;
    let all = state.store.channels().await?;
    Ok(Json(all.into_iter().map(|c| view(&state, c)).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewChannelForm {
    kind: ChannelKind,
    /// The public handle in callback and widget URLs: 2-40 ASCII letters, digits, `-` or `_`;
    /// unique.
    #[schema(min_length = 2, max_length = 40, pattern = "^[A-Za-z0-9_-]{2,40}$")]
    key: String,
    name: String,
    /// Non-secret settings, as the channel kind needs them.
    #[serde(default)]
    #[schema(value_type = Object)]
    settings: Map<String, Value>,
    /// Secrets (tokens, AES keys, app secrets), stored encrypted; string values.
    #[serde(default)]
    #[schema(value_type = Object)]
    secrets: Map<String, Value>,
}

fn valid_key(key: &str) -> bool {
    (2..=40).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Adds a channel (enabled at once).
#[utoipa::path(post, path = "/admin/channels", operation_id = "create_channel", tag = "admin", request_body = NewChannelForm,
    responses((status = 200, description = "The new channel, secrets masked", body = ChannelView),
        (status = 409, description = "The key is taken", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(f): JsonObject<NewChannelForm>,
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

/// What to change; everything left out stays as it is.
#[derive(Deserialize, ToSchema)]
pub struct ChannelChangeForm {
    name: Option<String>,
    enabled: Option<bool>,
    /// Settings to set; a null value removes one.
    #[serde(default)]
    #[schema(value_type = Object)]
    settings: Map<String, Value>,
    /// Secrets to replace (a null value removes one); others stay as they are (the UI only ever
    /// sees masked values).
    #[serde(default)]
    #[schema(value_type = Object)]
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

/// Renames, enables or disables a channel, or changes some of its settings and secrets.
#[utoipa::path(put, path = "/admin/channels/{id}", operation_id = "update_channel", tag = "admin",
    params(("id" = i64, Path)), request_body = ChannelChangeForm,
    responses((status = 200, description = "The channel, secrets masked", body = ChannelView)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<ChannelChangeForm>,
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

#[derive(Deserialize, ToSchema)]
pub struct ChannelTestForm {
    /// Who receives the test messages: an OpenID, external_userid or member UserID (at most 128
    /// characters, not blank).
    #[schema(
        max_length = 128,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    recipient: String,
}

/// The connectivity test's report (the JSON of `kefu_engine::connectivity::Report`).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the JSON `Report` writes
pub struct ConnectivityReport {
    /// The channel's name.
    channel: String,
    /// The recipient, trimmed.
    recipient: String,
    /// Whether every step passed.
    ok: bool,
    /// In order: the configuration, the access token (a failure of either ends the test), each
    /// message sent, and, when all were accepted, what arrived.
    steps: Vec<ConnectivityStep>,
}

#[derive(ToSchema)]
#[allow(dead_code)] // documents the JSON `Step` writes
pub struct ConnectivityStep {
    /// What was tried, in Chinese (e.g. `配置检查`, the configuration check).
    name: String,
    ok: bool,
    /// What the platform answered, or why the step failed.
    detail: String,
}

/// Sends Chinese text, an image and emoji through the channel to a recipient and reports, step
/// by step, whether the platform took them (连通性测试).
#[utoipa::path(post, path = "/admin/channels/{id}/test", operation_id = "test_channel", tag = "admin",
    params(("id" = i64, Path)), request_body = ChannelTestForm,
    responses((status = 200, description = "The report; a failed step is a 200 too, with `ok: false`", body = ConnectivityReport),
        (status = 409, description = "This kind of channel (the web chat) has no connectivity test", body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<ChannelTestForm>,
) -> ApiResult<Json<Report>> {
    me.require(Role::Admin)?;
    let recipient = f.recipient.trim();
    if recipient.is_empty() || f.recipient.chars().count() > 128 {
        return Err(ApiError::BadRequest("a recipient of at most 128 characters is required".into()));
    }
    let ch = state.store.channel(ChannelId(id)).await?;
    let sender = state.senders.get(ch.kind).filter(|_| ch.kind != ChannelKind::Webchat).cloned();
    // A property of the channel, not of the request: a conflict, not a bad request.
    let sender =
        sender.ok_or_else(|| ApiError::Conflict(format!("no connectivity test for {} channels", ch.kind)))?;
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

    #[test]
    fn the_documented_masked_values_are_what_mask_writes() {
        // The schema's pattern: eight bullets or nothing.
        assert_eq!(mask("secret"), "\u{2022}".repeat(8));
        assert_eq!(mask(""), "");
    }
}
