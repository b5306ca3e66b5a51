//! The data API's response bodies, typed so the OpenAPI document states exactly what a CRM
//! receives (the pages are what the handlers serialise; the change event documents the JSON
//! the engine's feed writes for both the feed and webhooks; those derive `Serialize` only so
//! the schema can follow serde's renames).

use kefu_domain::{Conversation, Customer, CustomerId, CustomerMerge, Identity, Message, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use crate::webhooks_admin::ChangeKind;

/// One page of a listing. Send `next_after` as `after` for the next page; it is null after the
/// last (short) page.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<i64>,
}

/// A conversation with its outcome tags (成交…).
#[derive(Serialize, ToSchema)]
pub struct ConversationRecord {
    pub conversation: Conversation,
    pub tags: Vec<String>,
}

/// A customer with every channel identity it is known by.
#[derive(Serialize, ToSchema)]
pub struct CustomerRecord {
    pub customer: Customer,
    pub identities: Vec<Identity>,
    /// Where a merged-away customer went; null for a live one.
    pub merged_into: Option<CustomerId>,
    pub tags: Vec<String>,
}

/// A page of the change feed. `next_after` is always set: the cursor to send next time (the same
/// one again when nothing new happened).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documents the page `changes` writes
pub struct ChangePage {
    items: Vec<ChangeEvent>,
    next_after: i64,
}

/// One change, in commit order; delivery is at least once, so deduplicate on `id`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documents `kefu_engine::feed::envelope`
pub struct ChangeEvent {
    /// `evt_<seq>`, stable across redeliveries.
    id: String,
    #[serde(rename = "type")]
    kind: ChangeKind,
    seq: i64,
    occurred_at: Timestamp,
    /// The entity as it is when read: a CRM upserts it.
    data: ChangeData,
}

/// What `data` holds, by the type's prefix: `conversation.*`, `message.created`,
/// `customer.created`, `customer.merged|unmerged`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum ChangeData {
    Conversation(ConversationRecord),
    Message { message: Message, customer_id: Option<CustomerId> },
    Customer { customer: Customer },
    Merge { merge: CustomerMerge },
}
