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
    fn check(&self) -> ApiResult<()> {
        let url = self.url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 500 {
            return Err(ApiError::BadRequest("the URL must be http(s):// and at most 500 characters".into()));
        }
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
    f.check()?;
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
    f.check()?;
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
