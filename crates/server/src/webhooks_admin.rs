//! Admin endpoints for outbound webhooks: endpoints, their signing secrets (shown once), the
//! delivery log, and sending a failed delivery again.

use axum::Json;
use axum::extract::{Path, State};
use kefu_domain::Role;
use kefu_engine::feed::EVENT_KINDS;
use kefu_store::{Webhook, WebhookDelivery};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct HookForm {
    url: String,
    events: Vec<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

impl HookForm {
    /// The URL must reach the public internet or the outbound allow-list (checked again at
    /// every delivery, after DNS, against rebinding).
    async fn check(&self, state: &AppState) -> ApiResult<()> {
        let url = self.url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 500 {
            return Err(ApiError::BadRequest("the URL must be http(s):// and at most 500 characters".into()));
        }
        let allow = kefu_channels::netguard::AllowList::default();
        allow.set(kefu_engine::webhooks::load_allow(state.store.as_ref()).await?);
        allow.check_url(url).map_err(ApiError::Unprocessable)?;
        if self.events.is_empty() || self.events.iter().any(|e| !EVENT_KINDS.contains(&e.as_str())) {
            return Err(ApiError::BadRequest(format!("events must be some of {}", EVENT_KINDS.join(", "))));
        }
        Ok(())
    }
}

#[derive(Serialize)]
pub struct CreatedHook {
    webhook: Webhook,
    /// The signing secret, shown this once; it is stored sealed.
    secret: String,
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(f): Json<HookForm>,
) -> ApiResult<Json<CreatedHook>> {
    me.require(Role::Admin)?;
    f.check(&state).await?;
    let secret = kefu_channels::webhook::new_secret();
    let webhook = state.store.create_webhook(f.url.trim(), &secret, &f.events, state.clock.now()).await?;
    Ok(Json(CreatedHook { webhook, secret }))
}

pub async fn update(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<HookForm>,
) -> ApiResult<Json<Webhook>> {
    me.require(Role::Admin)?;
    f.check(&state).await?;
    Ok(Json(state.store.update_webhook(id, f.url.trim(), &f.events, f.enabled).await?))
}

#[derive(Serialize)]
pub struct Hooks {
    webhooks: Vec<Webhook>,
    events: &'static [&'static str],
}

pub async fn list(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<Hooks>> {
    me.require(Role::Admin)?;
    Ok(Json(Hooks { webhooks: state.store.webhooks().await?, events: EVENT_KINDS }))
}

pub async fn deliveries(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<WebhookDelivery>>> {
    me.require(Role::Admin)?;
    state.store.webhook(id).await?;
    Ok(Json(state.store.deliveries(id, 100).await?))
}

pub async fn redeliver(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<()>> {
    me.require(Role::Admin)?;
    state.store.redeliver(id, state.clock.now()).await?;
    Ok(Json(()))
}

#[derive(Serialize, Deserialize)]
pub struct OutboundForm {
    /// Host names, addresses or CIDR blocks (`crm.internal`, `10.0.0.0/8`) that admin-typed
    /// URLs may reach although they are not public.
    allow: Vec<String>,
}

/// The outbound allow-list for webhooks (private, loopback and metadata addresses are refused
/// unless listed here).
pub async fn outbound(State(state): State<AppState>, me: CurrentAgent) -> ApiResult<Json<OutboundForm>> {
    me.require(Role::Admin)?;
    let v = state.store.setting(kefu_engine::webhooks::OUTBOUND_SETTING).await?.unwrap_or_default();
    let allow =
        v["allow"].as_array().map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_owned)).collect());
    Ok(Json(OutboundForm { allow: allow.unwrap_or_default() }))
}

pub async fn set_outbound(
    State(state): State<AppState>,
    me: CurrentAgent,
    Json(f): Json<OutboundForm>,
) -> ApiResult<Json<OutboundForm>> {
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
    Ok(Json(OutboundForm { allow }))
}
