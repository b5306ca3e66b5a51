//! The customer 360 API: one person across channels (identities, phones, UnionIDs and their
//! conflicts), tags and notes, the whole cross-channel history, OneID merges and unmerges,
//! and asking a customer for their phone number.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, Query, State};
use kefu_domain::*;
use kefu_store::MessagePage;
use serde::{Deserialize, Serialize};

use crate::auth::CurrentAgent;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Serialize)]
pub struct Customer360 {
    customer: Customer,
    /// Set when this customer was merged into another: show that one instead.
    merged_into: Option<CustomerId>,
    identities: Vec<IdentityView>,
    phones: Vec<String>,
    union_ids: Vec<String>,
    /// Identifiers with more than one value ("phone"): shown, never silently overwritten.
    conflicts: Vec<&'static str>,
    tags: Vec<String>,
    notes: Vec<CustomerNote>,
    merges: Vec<CustomerMerge>,
    /// Customers with the same phone where one side only typed it: perhaps the same person
    /// ("可能是同一客户"), merged only by a supervisor.
    possible_matches: Vec<kefu_store::PossibleMatch>,
}

#[derive(Serialize)]
pub struct IdentityView {
    #[serde(flatten)]
    identity: Identity,
    channel_name: String,
    channel_kind: ChannelKind,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn search(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Vec<Customer>>> {
    let viewer = kefu_engine::policy::list_scope(&me.agent);
    Ok(Json(state.store.search_customers(q.q.trim(), viewer, 20).await?))
}

fn distinct(values: impl Iterator<Item = Option<String>>) -> Vec<String> {
    values.flatten().collect::<BTreeSet<_>>().into_iter().collect()
}

pub async fn detail(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Customer360>> {
    let id = CustomerId(id);
    let customer = state.engine.visible_customer(&me.agent, id).await?;
    let s = state.store.as_ref();
    let mut identities = vec![];
    for i in s.customer_identities(id).await? {
        let ch = s.channel(i.channel_id).await?;
        identities.push(IdentityView { identity: i, channel_name: ch.name, channel_kind: ch.kind });
    }
    let phones = distinct(identities.iter().map(|i| i.identity.phone.clone()));
    let union_ids = distinct(identities.iter().map(|i| i.identity.union_id.clone()));
    let conflicts = if phones.len() > 1 { vec!["phone"] } else { vec![] };
    Ok(Json(Customer360 {
        customer,
        possible_matches: s.possible_matches(id).await?,
        merged_into: s.merged_into(id).await?,
        identities,
        phones,
        union_ids,
        conflicts,
        tags: s.tags(id).await?,
        notes: s.notes(id).await?,
        merges: s.merges_of(id).await?,
    }))
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

/// Every message with this customer on any channel, newest first, a page at a time.
pub async fn history(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    state.engine.visible_customer(&me.agent, CustomerId(id)).await?;
    let page = MessagePage { before: q.before.map(MessageId), limit: q.limit.unwrap_or(30).min(100) };
    Ok(Json(state.store.customer_messages(CustomerId(id), page).await?))
}

#[derive(Deserialize)]
pub struct TagsForm {
    tags: Vec<String>,
}

impl TagsForm {
    /// The non-empty, trimmed tags: at most `max` of at most 20 characters each.
    pub(crate) fn cleaned(&self, max: usize) -> ApiResult<Vec<String>> {
        let tags: Vec<String> =
            self.tags.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        if tags.len() > max || tags.iter().any(|t| t.chars().count() > 20) {
            return Err(ApiError::BadRequest(format!("at most {max} tags of at most 20 characters")));
        }
        Ok(tags)
    }
}

pub async fn set_tags(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<TagsForm>,
) -> ApiResult<Json<Vec<String>>> {
    state.engine.visible_customer(&me.agent, CustomerId(id)).await?;
    let tags = f.cleaned(30)?;
    Ok(Json(state.store.set_tags(CustomerId(id), &tags, state.clock.now()).await?))
}

#[derive(Deserialize)]
pub struct TextForm {
    #[serde(default)]
    text: String,
}

fn words(text: &str, what: &str) -> ApiResult<String> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 1000 {
        return Err(ApiError::BadRequest(format!("the {what} must be 1-1000 characters")));
    }
    Ok(t.to_owned())
}

pub async fn add_note(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<TextForm>,
) -> ApiResult<Json<Vec<CustomerNote>>> {
    state.engine.visible_customer(&me.agent, CustomerId(id)).await?;
    let text = words(&f.text, "note")?;
    state.store.add_note(CustomerId(id), me.agent.id, &text, state.clock.now()).await?;
    Ok(Json(state.store.notes(CustomerId(id)).await?))
}

#[derive(Deserialize)]
pub struct MergeForm {
    /// The customer to merge into this one.
    other: i64,
    #[serde(default)]
    reason: String,
}

pub async fn merge(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<MergeForm>,
) -> ApiResult<Json<CustomerMerge>> {
    let reason = words(&f.reason, "reason")?;
    Ok(Json(state.engine.merge_customers(&me.agent, CustomerId(id), CustomerId(f.other), &reason).await?))
}

pub async fn unmerge(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Json(f): Json<TextForm>,
) -> ApiResult<Json<CustomerMerge>> {
    let reason = words(&f.text, "reason")?;
    Ok(Json(state.engine.unmerge(&me.agent, id, &reason).await?))
}

/// The agent asks the customer of a conversation for their phone number (to bind it).
pub async fn ask_phone(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Message>> {
    let conv = state.engine.visible_conversation(&me.agent, ConversationId(id)).await?;
    Ok(Json(state.engine.ask_phone(conv.id).await?))
}
