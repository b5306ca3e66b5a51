//! The conversation list behind the workbench, with its filters.

use kefu_domain::{ChannelKind, ConversationState};

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
     WHERE c.state IN ($1, $2, $3, $4, $5) \
       AND ($6 IS NULL OR c.agent_id = $6 \
         OR ($7 AND c.agent_id IS NULL AND c.state <> 'closed' AND (c.group_id IS NULL OR EXISTS \
             (SELECT 1 FROM agent_skill_groups g WHERE g.agent_id = $6 AND g.group_id = c.group_id))) \
         OR (c.state = 'closed' AND EXISTS \
             (SELECT 1 FROM conversation_agents ca WHERE ca.conversation_id = c.id AND ca.agent_id = $6))) \
       AND ($8 IS NULL OR c.customer_id = $8) \
     ORDER BY c.updated_at DESC, c.id DESC LIMIT $9"
);

pub(super) async fn list(store: &SqlStore, f: &ConversationFilter) -> Result<Vec<ConversationSummary>> {
    // Five slots, one per state: an `IN` list the state index serves (unused slots are NULL).
    let mut states: Vec<Option<&'static str>> = if f.states.is_empty() {
        ConversationState::ALL.iter().map(|s| Some(s.as_str())).collect()
    } else {
        f.states.iter().map(|s| Some(s.as_str())).collect()
    };
    states.resize(5, None);
    let limit = if f.limit == 0 { 100 } else { f.limit.min(500) };
    let agent = f.agent.map(|a| a.0);
    let rows = store
        .reader()
        .all(q!(
            LIST,
            states[0],
            states[1],
            states[2],
            states[3],
            states[4],
            agent,
            f.include_unassigned,
            f.customer.map(|c| c.0),
            limit
        ))
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
