//! Admin endpoints for outbound webhooks: endpoints, their signing secrets (shown once), the
//! delivery log, and sending a failed delivery again.

use axum::Json;
use axum::extract::{Path, State};
use kefu_domain::Role;
use kefu_engine::feed::EVENT_KINDS;
use kefu_store::{Webhook, WebhookDelivery};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::CurrentAgent;
use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// A kind of change: the change feed's `type`, and what a webhook subscribes to; exactly the
/// names of `feed::EVENT_KINDS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ChangeKind {
    #[serde(rename = "conversation.created")]
    ConversationCreated,
    #[serde(rename = "conversation.queued")]
    ConversationQueued,
    #[serde(rename = "conversation.assigned")]
    ConversationAssigned,
    #[serde(rename = "conversation.leave_message")]
    ConversationLeaveMessage,
    #[serde(rename = "conversation.closed")]
    ConversationClosed,
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "customer.created")]
    CustomerCreated,
    #[serde(rename = "customer.merged")]
    CustomerMerged,
    #[serde(rename = "customer.unmerged")]
    CustomerUnmerged,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::ConversationCreated => "conversation.created",
            ChangeKind::ConversationQueued => "conversation.queued",
            ChangeKind::ConversationAssigned => "conversation.assigned",
            ChangeKind::ConversationLeaveMessage => "conversation.leave_message",
            ChangeKind::ConversationClosed => "conversation.closed",
            ChangeKind::MessageCreated => "message.created",
            ChangeKind::CustomerCreated => "customer.created",
            ChangeKind::CustomerMerged => "customer.merged",
            ChangeKind::CustomerUnmerged => "customer.unmerged",
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct WebhookForm {
    /// Where deliveries are POSTed: `http://` or `https://` (surrounding white space is
    /// dropped), at most 500 characters, reaching the public internet or the outbound
    /// allow-list (`/admin/settings/outbound`).
    #[schema(
        max_length = 500,
        pattern = r"^[\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*https?://"
    )]
    url: String,
    /// At least one.
    #[schema(min_items = 1)]
    events: Vec<ChangeKind>,
    /// Default true (also on `PUT`: leaving it out enables the webhook).
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

impl WebhookForm {
    /// The URL must reach the public internet or the outbound allow-list (checked again at
    /// every delivery, after DNS, against rebinding). What the schema states is checked first
    /// (400), then where the URL leads (422).
    async fn check(&self, state: &AppState) -> ApiResult<()> {
        let url = self.url.trim();
        // The whole URL is counted, as the schema's maxLength counts it.
        if !(url.starts_with("https://") || url.starts_with("http://")) || self.url.chars().count() > 500 {
            return Err(ApiError::BadRequest("the URL must be http(s):// and at most 500 characters".into()));
        }
        if self.events.is_empty() {
            let kinds = EVENT_KINDS.join(", ");
            return Err(ApiError::BadRequest(format!("give at least one event of {kinds}")));
        }
        let allow = kefu_channels::netguard::AllowList::default();
        allow.set(kefu_engine::webhooks::load_allow(state.store.as_ref()).await?);
        allow.check_url(url).map_err(ApiError::Unprocessable)
    }

    fn events(&self) -> Vec<String> {
        self.events.iter().map(|e| e.as_str().to_owned()).collect()
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    webhook: Webhook,
    /// The signing secret, shown this once; it is stored sealed.
    secret: String,
}

/// Adds a webhook: kefu POSTs every change of the chosen kinds to the URL, signed with a secret
/// shown in this answer only. It starts with the changes after now.
#[utoipa::path(post, path = "/admin/webhooks", operation_id = "create_webhook", tag = "admin", request_body = WebhookForm,
    responses((status = 200, description = "The webhook and its signing secret", body = CreatedWebhook),
        (status = 422, description = "A field has the wrong type or is missing; or the URL is malformed, or leads to a \
            private, loopback or metadata address that the outbound allow-list does not name", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(f): JsonObject<WebhookForm>,
) -> ApiResult<Json<CreatedWebhook>> {
    me.require(Role::Admin)?;
    f.check(&state).await?;
    let secret = kefu_channels::webhook::new_secret();
    let webhook = state.store.create_webhook(f.url.trim(), &secret, &f.events(), state.clock.now()).await?;
    Ok(Json(CreatedWebhook { webhook, secret }))
}

/// Changes a webhook's URL, events, or whether it is enabled (its secret stays).
#[utoipa::path(put, path = "/admin/webhooks/{id}", operation_id = "update_webhook", tag = "admin",
    params(("id" = i64, Path)), request_body = WebhookForm,
    responses((status = 200, body = Webhook),
        (status = 422, description = "A field has the wrong type or is missing; or the URL is malformed, or leads to a \
            private, loopback or metadata address that the outbound allow-list does not name", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<WebhookForm>,
) -> ApiResult<Json<Webhook>> {
    me.require(Role::Admin)?;
    f.check(&state).await?;
    Ok(Json(state.store.update_webhook(id, f.url.trim(), &f.events(), f.enabled).await?))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    webhooks: Vec<Webhook>,
    /// Every event kind there is, to choose from.
    #[schema(value_type = Vec<ChangeKind>)]
    events: &'static [&'static str],
}

/// The webhooks, and the event kinds they can subscribe to.
#[utoipa::path(get, path = "/admin/webhooks", operation_id = "list_webhooks", tag = "admin",
    responses((status = 200, body = WebhookList)))]
pub async fn list(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<WebhookList>> {
    me.require(Role::Admin)?;
    Ok(Json(WebhookList { webhooks: state.store.webhooks().await?, events: EVENT_KINDS }))
}

/// A webhook's latest 100 deliveries, newest first.
#[utoipa::path(get, path = "/admin/webhooks/{id}/deliveries", operation_id = "list_webhook_deliveries", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = [WebhookDelivery])))]
pub async fn deliveries(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<WebhookDelivery>>> {
    me.require(Role::Admin)?;
    state.store.webhook(id).await?;
    Ok(Json(state.store.deliveries(id, 100).await?))
}

/// Sends a failed delivery again, soon.
#[utoipa::path(post, path = "/admin/deliveries/{id}/redeliver", operation_id = "redeliver_webhook_delivery", tag = "admin",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses((status = 200, description = "Queued (the body is `null`)", body = ()),
        (status = 409, description = "No failed delivery has this id (it is pending, delivered, or unknown)", body = ErrorBody)))]
pub async fn redeliver(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<()>> {
    me.require(Role::Admin)?;
    state.store.redeliver(id, state.clock.now()).await?;
    Ok(Json(()))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OutboundAllowList {
    /// Host names, addresses or CIDR blocks (`crm.internal`, `10.0.0.0/8`) that admin-typed
    /// URLs may reach although they are not public; at most 100.
    #[schema(max_items = 100)]
    allow: Vec<String>,
}

/// The outbound allow-list for webhooks (private, loopback and metadata addresses are refused
/// unless listed here).
#[utoipa::path(get, path = "/admin/settings/outbound", operation_id = "get_outbound_allow_list", tag = "admin",
    responses((status = 200, body = OutboundAllowList)))]
pub async fn outbound(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<OutboundAllowList>> {
    me.require(Role::Admin)?;
    let v = state.store.setting(kefu_engine::webhooks::OUTBOUND_SETTING).await?.unwrap_or_default();
    let allow =
        v["allow"].as_array().map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_owned)).collect());
    Ok(Json(OutboundAllowList { allow: allow.unwrap_or_default() }))
}

/// Replaces the outbound allow-list (entries are stored trimmed).
#[utoipa::path(put, path = "/admin/settings/outbound", operation_id = "set_outbound_allow_list", tag = "admin",
    request_body = OutboundAllowList,
    responses((status = 200, description = "The list as stored", body = OutboundAllowList),
        (status = 422, description = "A field has the wrong type or is missing, or an entry is neither a host name, an \
            address nor a CIDR block", body = ErrorBody)))]
pub async fn set_outbound(
    State(state): State<AppState>,
    me: CurrentAgent,
    JsonObject(f): JsonObject<OutboundAllowList>,
) -> ApiResult<Json<OutboundAllowList>> {
    me.require(Role::Admin)?;
    if f.allow.len() > 100 {
        return Err(ApiError::BadRequest("at most 100 entries".into()));
    }
    for entry in &f.allow {
        kefu_channels::netguard::Allow::parse(entry).map_err(ApiError::Unprocessable)?;
    }
    let allow: Vec<String> = f.allow.iter().map(|e| e.trim().to_owned()).collect();
    let value = serde_json::json!({ "allow": allow });
    state.store.put_setting(kefu_engine::webhooks::OUTBOUND_SETTING, &value, state.clock.now()).await?;
    Ok(Json(OutboundAllowList { allow }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_enum_accepts_exactly_the_event_kinds() {
        assert_eq!(EVENT_KINDS.len(), 9, "a new event kind needs a ChangeKind variant");
        for k in EVENT_KINDS {
            let kind: ChangeKind = serde_json::from_value(serde_json::json!(k)).unwrap();
            assert_eq!(kind.as_str(), *k);
        }
        assert!(serde_json::from_value::<ChangeKind>(serde_json::json!("conversation.*")).is_err());
    }
}
