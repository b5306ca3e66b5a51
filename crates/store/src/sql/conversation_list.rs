//! The conversation list behind the workbench, with its filters.

use kefu_domain::ChannelKind;

use super::SqlStore;
use super::exec::q;
use super::rows::{self, conversation_cols};
use crate::model::{ConversationFilter, ConversationSummary};
use crate::{Result, StoreError};

/// One fixed SQL text for every filter combination: unused filters are bound as NULL/empty,
/// so no SQL is ever assembled at run time.
const LIST: &str = concat!(
    "SELECT ",
    conversation_cols!(),
    ", cu.display_name AS customer_name, ch.kind AS channel_kind, ch.name AS channel_name, \
     (SELECT m.body_text FROM messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) AS last_message \
     FROM conversations c \
     JOIN customers cu ON cu.id = c.customer_id \
     JOIN channels ch ON ch.id = c.channel_id \
     WHERE ($1 = '' OR $1 LIKE '%,' || c.state || ',%') \
       AND ($2 IS NULL OR c.agent_id = $2 OR ($3 AND c.agent_id IS NULL AND c.state <> 'closed')) \
       AND ($4 IS NULL OR c.customer_id = $4) \
     ORDER BY c.updated_at DESC, c.id DESC LIMIT $5"
);

pub(super) async fn list(store: &SqlStore, f: &ConversationFilter) -> Result<Vec<ConversationSummary>> {
    let states = if f.states.is_empty() {
        String::new()
    } else {
        format!(",{},", f.states.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","))
    };
    let limit = if f.limit == 0 { 100 } else { f.limit.min(500) };
    let rows = store
        .reader()
        .all(q!(LIST, states, f.agent.map(|a| a.0), f.include_unassigned, f.customer.map(|c| c.0), limit))
        .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.text("channel_kind")?;
            Ok(ConversationSummary {
                conversation: rows::conversation(r)?,
                customer_name: r.text("customer_name")?,
                channel_kind: kind.parse::<ChannelKind>().map_err(|e| StoreError::Corrupt(e.to_string()))?,
                channel_name: r.text("channel_name")?,
                last_message: r.opt_text("last_message")?,
            })
        })
        .collect()
}
