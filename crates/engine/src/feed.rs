//! The change feed's public shape: each change as an event envelope carrying the entity it
//! names, shared by the data API's `/changes` and outbound webhooks so both say the same.

use kefu_store::{Change, Store, StoreError};
use serde_json::{Value, json};

/// The change kinds a webhook can subscribe to.
pub const EVENT_KINDS: &[&str] = &[
    "conversation.created",
    "conversation.queued",
    "conversation.assigned",
    "conversation.leave_message",
    "conversation.closed",
    "message.created",
    "customer.created",
    "customer.merged",
    "customer.unmerged",
];

/// A stable event id: the same change always has the same id, so consumers can deduplicate.
pub fn event_id(seq: i64) -> String {
    format!("evt_{seq}")
}

/// `{id, type, seq, occurred_at, data}`. `data` is the entity as it is now (a CRM upserts it).
pub async fn envelope(store: &dyn Store, c: &Change) -> Result<Value, StoreError> {
    let data = if c.kind.starts_with("conversation.") {
        let id = c.conversation_id.ok_or(StoreError::NotFound)?;
        json!({ "conversation": store.conversation(id).await?, "tags": store.conversation_tags(id).await? })
    } else if c.kind == "message.created" {
        let m = store.message(c.message_id.ok_or(StoreError::NotFound)?).await?;
        json!({ "message": m, "customer_id": c.customer_id })
    } else if c.kind == "customer.created" {
        json!({ "customer": store.customer(c.customer_id.ok_or(StoreError::NotFound)?).await? })
    } else {
        json!({ "merge": store.merge(c.merge_id.ok_or(StoreError::NotFound)?).await? })
    };
    Ok(json!({
        "id": event_id(c.seq),
        "type": c.kind,
        "seq": c.seq,
        "occurred_at": c.at,
        "data": data,
    }))
}
