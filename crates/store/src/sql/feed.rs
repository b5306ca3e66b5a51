//! The data API's reads: the change feed, filtered conversation/message/customer lists,
//! conversation outcome tags, and the per-conversation facts behind the dashboards.

use async_trait::async_trait;
use kefu_domain::*;

use super::SqlStore;
use super::exec::{Row, q};
use super::rows::{self, conversation_cols, message_cols};
use crate::feed_model::*;
use crate::{FeedStore, Result};

fn change(r: &Row) -> Result<Change> {
    Ok(Change {
        seq: r.int("seq")?,
        kind: r.text("kind")?,
        conversation_id: r.opt_int("conversation_id")?.map(ConversationId),
        message_id: r.opt_int("message_id")?.map(MessageId),
        customer_id: r.opt_int("customer_id")?.map(CustomerId),
        merge_id: r.opt_int("merge_id")?,
        agent_id: r.opt_int("agent_id")?.map(AgentId),
        at: Timestamp(r.int("at")?),
    })
}

/// The first time a conversation had one of the given change kinds.
macro_rules! first_change {
    ($kinds:literal) => {
        concat!(
            "(SELECT MIN(h.at) FROM changes h WHERE h.conversation_id = c.id AND h.kind IN (",
            $kinds,
            "))"
        )
    };
}

fn facts(r: &Row) -> Result<ConversationFacts> {
    Ok(ConversationFacts {
        id: r.int("id")?,
        channel_id: r.int("channel_id")?,
        group_id: r.opt_int("group_id")?,
        agent_id: r.opt_int("agent_id")?,
        state: r.text("state")?,
        created_at: r.int("created_at")?,
        closed_at: r.opt_int("closed_at")?,
        handed_off_at: r.opt_int("handed_off_at")?,
        queued_at: r.opt_int("first_queued_at")?,
        assigned_at: r.opt_int("assigned_at")?,
        left_message: r.opt_int("left_message_at")?.is_some(),
        first_agent_reply_at: r.opt_int("first_agent_reply_at")?,
        satisfaction: r.opt_int("satisfaction")?,
        tags: vec![],
    })
}

#[async_trait]
impl FeedStore for SqlStore {
    async fn changes_after(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        let rows = self
            .reader()
            .all(q!(
                "SELECT seq, kind, conversation_id, message_id, customer_id, merge_id, agent_id, at FROM changes \
                 WHERE seq IS NOT NULL AND seq > $1 ORDER BY seq LIMIT $2",
                after,
                limit.clamp(1, 1000)
            ))
            .await?;
        rows.iter().map(change).collect()
    }

    async fn last_change_seq(&self) -> Result<i64> {
        let r = self.reader().one(q!("SELECT COALESCE(MAX(seq), 0) AS seq FROM changes")).await?;
        r.int("seq")
    }

    async fn find_conversations(&self, f: &DataConversationFilter) -> Result<Vec<Conversation>> {
        let rows = self
            .reader()
            .all(q!(
                concat!(
                    "SELECT ",
                    conversation_cols!(),
                    " FROM conversations c WHERE c.id > $1 AND ($2 IS NULL OR c.state = $2) \
                     AND ($3 IS NULL OR c.channel_id = $3) AND ($4 IS NULL OR c.customer_id = $4) \
                     AND ($5 IS NULL OR c.agent_id = $5) AND ($6 IS NULL OR c.group_id = $6) \
                     AND ($7 IS NULL OR c.created_at >= $7) AND ($8 IS NULL OR c.created_at < $8) \
                     ORDER BY c.id LIMIT $9"
                ),
                f.after.map_or(0, |c| c.0),
                f.state.map(|s| s.as_str()),
                f.channel.map(|c| c.0),
                f.customer.map(|c| c.0),
                f.agent.map(|a| a.0),
                f.group.map(|g| g.0),
                f.created_from.map(|t| t.0),
                f.created_to.map(|t| t.0),
                f.limit.clamp(1, 500)
            ))
            .await?;
        rows.iter().map(rows::conversation).collect()
    }

    async fn find_messages(&self, f: &MessageFilter) -> Result<Vec<Message>> {
        let rows = self
            .reader()
            .all(q!(
                concat!(
                    "SELECT ",
                    message_cols!(),
                    " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id > $1 \
                     AND ($2 IS NULL OR m.conversation_id = $2) AND ($3 IS NULL OR c.customer_id = $3) \
                     AND ($4 IS NULL OR m.created_at >= $4) AND ($5 IS NULL OR m.created_at < $5) \
                     ORDER BY m.id LIMIT $6"
                ),
                f.after.map_or(0, |m| m.0),
                f.conversation.map(|c| c.0),
                f.customer.map(|c| c.0),
                f.created_from.map(|t| t.0),
                f.created_to.map(|t| t.0),
                f.limit.clamp(1, 1000)
            ))
            .await?;
        rows.iter().map(rows::message).collect()
    }

    async fn customers_after(&self, after: i64, limit: u32) -> Result<Vec<Customer>> {
        let rows = self
            .reader()
            .all(q!(
                "SELECT c.id, c.display_name, c.created_at FROM customers c WHERE c.id > $1 \
                 AND c.merged_into IS NULL ORDER BY c.id LIMIT $2",
                after,
                limit.clamp(1, 500)
            ))
            .await?;
        rows.iter().map(rows::customer).collect()
    }

    async fn conversation_tags(&self, conv: ConversationId) -> Result<Vec<String>> {
        let rows = self
            .reader()
            .all(q!("SELECT tag FROM conversation_tags WHERE conversation_id = $1 ORDER BY tag", conv.0))
            .await?;
        rows.iter().map(|r| r.text("tag")).collect()
    }

    async fn set_conversation_tags(
        &self,
        conv: ConversationId,
        tags: &[String],
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.conn().exec(q!("DELETE FROM conversation_tags WHERE conversation_id = $1", conv.0)).await?;
        for t in tags {
            tx.conn()
                .exec(q!(
                    "INSERT INTO conversation_tags (conversation_id, tag, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                    conv.0,
                    t.as_str(),
                    now.0
                ))
                .await?;
        }
        tx.commit().await
    }

    async fn gauges(&self) -> Result<Vec<(&'static str, String, i64)>> {
        let queries = [
            ("conversations", q!("SELECT state AS k, COUNT(*) AS n FROM conversations GROUP BY state")),
            ("messages", q!("SELECT direction AS k, COUNT(*) AS n FROM messages GROUP BY direction")),
            ("outbox", q!("SELECT state AS k, COUNT(*) AS n FROM outbox GROUP BY state")),
            (
                "webhook_deliveries",
                q!("SELECT state AS k, COUNT(*) AS n FROM webhook_deliveries GROUP BY state"),
            ),
            ("agents", q!("SELECT status AS k, COUNT(*) AS n FROM agents GROUP BY status")),
        ];
        let mut out = vec![];
        for (metric, query) in queries {
            for r in self.reader().all(query).await? {
                out.push((metric, r.text("k")?, r.int("n")?));
            }
        }
        Ok(out)
    }

    async fn conversation_facts(&self, from: Timestamp, to: Timestamp) -> Result<Vec<ConversationFacts>> {
        let sql = concat!(
            "SELECT c.id, c.channel_id, c.group_id, c.agent_id, c.state, c.created_at, c.closed_at, c.satisfaction, ",
            first_change!("'conversation.queued', 'conversation.assigned', 'conversation.leave_message'"),
            " AS handed_off_at, ",
            first_change!("'conversation.queued'"),
            " AS first_queued_at, ",
            first_change!("'conversation.assigned'"),
            " AS assigned_at, ",
            first_change!("'conversation.leave_message'"),
            " AS left_message_at, (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = c.id \
             AND m.direction = 'outbound' AND m.sender_kind = 'agent') AS first_agent_reply_at \
             FROM conversations c WHERE c.created_at >= $1 AND c.created_at < $2 ORDER BY c.id"
        );
        let rows = self.reader().all(q!(sql, from.0, to.0)).await?;
        let mut out: Vec<ConversationFacts> = rows.iter().map(facts).collect::<Result<_>>()?;
        let tags = self
            .reader()
            .all(q!(
                "SELECT t.conversation_id, t.tag FROM conversation_tags t JOIN conversations c \
                 ON c.id = t.conversation_id WHERE c.created_at >= $1 AND c.created_at < $2 ORDER BY t.tag",
                from.0,
                to.0
            ))
            .await?;
        for r in &tags {
            let id = r.int("conversation_id")?;
            if let Ok(i) = out.binary_search_by_key(&id, |f| f.id) {
                out[i].tags.push(r.text("tag")?);
            }
        }
        Ok(out)
    }
}
