//! The customer 360 API: one person across channels (identities, phones, UnionIDs and their
//! conflicts), tags and notes, the whole cross-channel history, OneID merges and unmerges,
//! and asking a customer for their phone number.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, Query, State};
use kefu_domain::*;
use kefu_store::MessagePage;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentAgent;
use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult, page_limit};
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// Everything known about one customer, for the customer 360 panel.
#[derive(Serialize, ToSchema)]
pub struct Customer360 {
    customer: Customer,
    /// Set when this customer was merged into another: show that one instead.
    merged_into: Option<CustomerId>,
    identities: Vec<IdentityView>,
    /// Every distinct phone number of the identities.
    phones: Vec<String>,
    union_ids: Vec<String>,
    /// Identifiers with more than one value: shown, never silently overwritten.
    conflicts: Vec<CustomerIdentifier>,
    tags: Vec<String>,
    /// Newest first.
    notes: Vec<CustomerNote>,
    /// Merges this customer took part in, newest first.
    merges: Vec<CustomerMerge>,
    /// Customers with the same phone where one side only typed it: perhaps the same person
    /// ("可能是同一客户"), merged only by a supervisor.
    possible_matches: Vec<kefu_store::PossibleMatch>,
}

/// An identifier a customer's identities can disagree on.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerIdentifier {
    Phone,
}

/// One identity with the channel it belongs to.
#[derive(Serialize, ToSchema)]
pub struct IdentityView {
    #[serde(flatten)]
    identity: Identity,
    channel_name: String,
    channel_kind: ChannelKind,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of a name, nickname, phone number, platform user id or UnionID; empty or absent
    /// matches every customer.
    #[serde(default)]
    q: String,
}

/// How many customers a search shows.
const SEARCH_LIMIT: u32 = 20;

/// Finds customers I may see by name, nickname, phone or platform id (the 20 newest matches).
#[utoipa::path(get, path = "/customers", operation_id = "search_customers", tag = "customers", params(SearchQuery),
    responses((status = 200, description = "Newest customer first; merged-away customers are left out", body = [Customer])))]
pub async fn search(
    State(state): State<AppState>,
    me: CurrentAgent,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Vec<Customer>>> {
    let viewer = kefu_engine::policy::list_scope(&me.agent);
    Ok(Json(state.store.search_customers(q.q.trim(), viewer, SEARCH_LIMIT).await?))
}

fn distinct(values: impl Iterator<Item = Option<String>>) -> Vec<String> {
    values.flatten().collect::<BTreeSet<_>>().into_iter().collect()
}

/// One customer across every channel: identities, phones, tags, notes, merges and possible matches.
#[utoipa::path(get, path = "/customers/{id}", operation_id = "get_customer", tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = Customer360)))]
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
    let conflicts = if phones.len() > 1 { vec![CustomerIdentifier::Phone] } else { vec![] };
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Page back from this message id (exclusive).
    before: Option<i64>,
    /// Default 30.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// Every message with this customer on any channel, newest first, a page at a time.
#[utoipa::path(get, path = "/customers/{id}/messages", operation_id = "list_customer_messages", tag = "customers",
    params(("id" = i64, Path), HistoryQuery), responses((status = 200, description = "Newest first", body = [Message])))]
pub async fn history(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    state.engine.visible_customer(&me.agent, CustomerId(id)).await?;
    let page = MessagePage { before: q.before.map(MessageId), limit: page_limit(q.limit, 30, 100)? };
    Ok(Json(state.store.customer_messages(CustomerId(id), page).await?))
}

/// Longest tag, in characters.
const MAX_TAG_CHARS: usize = 20;
/// Most tags on one customer.
const MAX_CUSTOMER_TAGS: usize = 30;

/// The tags to store: trimmed, blank ones dropped. The bounds apply to the tags as sent, as
/// the schema states them (`maxItems`, `maxLength`).
pub(crate) fn clean_tags(tags: &[String], max: usize) -> ApiResult<Vec<String>> {
    if tags.len() > max || tags.iter().any(|t| t.chars().count() > MAX_TAG_CHARS) {
        return Err(ApiError::BadRequest(format!(
            "at most {max} tags of at most {MAX_TAG_CHARS} characters"
        )));
    }
    Ok(tags.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect())
}

/// The customer's whole tag list; blank tags are dropped, the rest trimmed.
#[derive(Deserialize, ToSchema)]
pub struct CustomerTagsForm {
    /// At most 30 tags of at most 20 characters.
    #[schema(max_items = 30, max_length = 20)]
    tags: Vec<String>,
}

/// Replaces the customer's tags.
#[utoipa::path(put, path = "/customers/{id}/tags", operation_id = "set_customer_tags", tag = "customers",
    params(("id" = i64, Path)), request_body = CustomerTagsForm,
    responses((status = 200, description = "The tags as stored, sorted", body = [String])))]
pub async fn set_tags(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<CustomerTagsForm>,
) -> ApiResult<Json<Vec<String>>> {
    state.engine.visible_customer(&me.agent, CustomerId(id)).await?;
    let tags = clean_tags(&f.tags, MAX_CUSTOMER_TAGS)?;
    Ok(Json(state.store.set_tags(CustomerId(id), &tags, state.clock.now()).await?))
}

/// Longest note or reason, in characters.
const MAX_WORDS: usize = 1000;

/// The words an agent gives (a note, a reason), trimmed: at most 1,000 characters as sent,
/// and not blank (the schema's `pattern`).
fn words(text: &str, what: &str) -> ApiResult<String> {
    let t = text.trim();
    if t.is_empty() || text.chars().count() > MAX_WORDS {
        return Err(ApiError::BadRequest(format!("the {what} must be 1-{MAX_WORDS} characters")));
    }
    Ok(t.to_owned())
}

// `pattern` below: some character that is not white space as Rust's `trim` sees it (Unicode
// White_Space), written out because `\S` means a different set in other regex dialects.

/// Words an agent writes: a note on a customer, or why a merge was wrong.
#[derive(Deserialize, ToSchema)]
pub struct WordsForm {
    /// At most 1,000 characters, not blank (trimmed when stored).
    #[serde(default)]
    #[schema(
        required = true,
        max_length = 1000,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    text: String,
}

/// Adds an internal note to the customer (colleagues see it, the customer does not).
#[utoipa::path(post, path = "/customers/{id}/notes", operation_id = "add_customer_note", tag = "customers",
    params(("id" = i64, Path)), request_body = WordsForm,
    responses((status = 200, description = "Every note on the customer, newest first", body = [CustomerNote])))]
pub async fn add_note(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<WordsForm>,
) -> ApiResult<Json<Vec<CustomerNote>>> {
    state.engine.visible_customer(&me.agent, CustomerId(id)).await?;
    let text = words(&f.text, "note")?;
    state.store.add_note(CustomerId(id), me.agent.id, &text, state.clock.now()).await?;
    Ok(Json(state.store.notes(CustomerId(id)).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CustomerMergeForm {
    /// The customer to merge into this one (its identities and conversations move here).
    other: i64,
    /// Why they are the same person: at most 1,000 characters, not blank.
    #[serde(default)]
    #[schema(
        required = true,
        max_length = 1000,
        pattern = r"[^\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
    )]
    reason: String,
}

/// Merges another customer into this one by hand (supervisors; recorded and undoable).
#[utoipa::path(post, path = "/customers/{id}/merge", operation_id = "merge_customers", tag = "customers",
    params(("id" = i64, Path, description = "The customer that remains")), request_body = CustomerMergeForm,
    responses((status = 200, description = "The merge, as recorded", body = CustomerMerge),
        (status = 404, description = "No such customer (this one or `other`)", body = ErrorBody),
        (status = 409, description = "`other` is this customer, or one of them was already merged into another", body = ErrorBody)))]
pub async fn merge(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<CustomerMergeForm>,
) -> ApiResult<Json<CustomerMerge>> {
    let reason = words(&f.reason, "reason")?;
    Ok(Json(state.engine.merge_customers(&me.agent, CustomerId(id), CustomerId(f.other), &reason).await?))
}

/// Undoes a merge (supervisors): the identities go back to the merged customer.
///
/// The two are never merged automatically again.
#[utoipa::path(post, path = "/merges/{id}/undo", operation_id = "undo_customer_merge", tag = "customers",
    params(("id" = i64, Path, description = "The merge's id")), request_body = WordsForm,
    responses((status = 200, description = "The merge, now with `undone_at`", body = CustomerMerge),
        (status = 409, description = "Already undone, or a later merge moved these identities (undo that first)", body = ErrorBody)))]
pub async fn unmerge(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
    JsonObject(f): JsonObject<WordsForm>,
) -> ApiResult<Json<CustomerMerge>> {
    let reason = words(&f.text, "reason")?;
    Ok(Json(state.engine.unmerge(&me.agent, id, &reason).await?))
}

/// Asks the conversation's customer for their phone number.
///
/// The customer's next message that is a mobile number is kept (unverified) and an SMS code
/// confirms it; a verified number binds the customer (OneID).
#[utoipa::path(post, path = "/conversations/{id}/ask-phone", operation_id = "ask_customer_phone", tag = "customers",
    params(("id" = i64, Path, description = "The conversation")),
    responses((status = 200, description = "The question as stored: `pending` until the platform accepts it, \
        `failed` if a platform rule (such as WeChat's 48 hours) refuses it now", body = Message)))]
pub async fn ask_phone(
    State(state): State<AppState>,
    me: CurrentAgent,
    Path(id): Path<i64>,
) -> ApiResult<Json<Message>> {
    let conv = state.engine.visible_conversation(&me.agent, ConversationId(id)).await?;
    Ok(Json(state.engine.ask_phone(conv.id).await?))
}
