//! The knowledge base and mined FAQ candidates.

use async_trait::async_trait;
use kefu_domain::{FaqEntry, Timestamp};
use rand::RngCore;

use super::SqlStore;
use super::exec::{Row, Tx, q};
use crate::model::{FaqCandidate, NewCandidate};
use crate::{KbStore, Result, StoreError};

fn json<T: serde::de::DeserializeOwned>(r: &Row, col: &str) -> Result<T> {
    serde_json::from_str(&r.text(col)?).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn entry(r: &Row) -> Result<FaqEntry> {
    Ok(FaqEntry {
        id: r.text("id")?,
        question: r.text("question")?,
        similar: json(r, "similar_questions")?,
        answer: r.text("answer")?,
        group: r.opt_text("group_name")?,
        enabled: r.boolean("enabled")?,
        channel_answers: json(r, "channel_answers")?,
    })
}

fn candidate(r: &Row) -> Result<FaqCandidate> {
    Ok(FaqCandidate {
        id: r.int("id")?,
        question: r.text("question")?,
        similar: json(r, "similar_questions")?,
        answer: r.text("answer")?,
        support: r.int("support")?,
        conversations: json(r, "conversations")?,
        status: r.text("status")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

async fn bump(tx: &mut Tx) -> Result<()> {
    tx.conn().exec(q!("UPDATE kb_meta SET version = version + 1 WHERE id = 1")).await?;
    Ok(())
}

fn new_id() -> String {
    let mut b = [0u8; 5];
    rand::rng().fill_bytes(&mut b);
    format!("K{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

#[async_trait]
impl KbStore for SqlStore {
    async fn faq_entries(&self) -> Result<Vec<FaqEntry>> {
        let rows = self.reader().all(q!(concat!(
            "SELECT id, question, similar_questions, answer, group_name, enabled, channel_answers FROM faq_entries",
            " ORDER BY id"
        ))).await?;
        rows.iter().map(entry).collect()
    }

    async fn faq_entry(&self, id: &str) -> Result<FaqEntry> {
        entry(&self.reader().one(q!(concat!(
            "SELECT id, question, similar_questions, answer, group_name, enabled, channel_answers FROM faq_entries",
            " WHERE id = $1"
        ), id)).await?)
    }

    async fn put_faqs(&self, entries: Vec<FaqEntry>, now: Timestamp) -> Result<Vec<FaqEntry>> {
        let mut tx = self.begin().await?;
        let mut out = Vec::with_capacity(entries.len());
        for mut e in entries {
            if e.id.trim().is_empty() {
                e.id = new_id();
            }
            tx.conn()
                .exec(q!(
                    "INSERT INTO faq_entries (id, question, similar_questions, answer, group_name, enabled, channel_answers, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET question = $2, similar_questions = $3, \
                     answer = $4, group_name = $5, enabled = $6, channel_answers = $7, updated_at = $8",
                    &e.id,
                    &e.question,
                    to_json(&e.similar),
                    &e.answer,
                    e.group.clone(),
                    e.enabled,
                    to_json(&e.channel_answers),
                    now.0
                ))
                .await?;
            out.push(e);
        }
        bump(&mut tx).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn delete_faq(&self, id: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        if tx.conn().exec(q!("DELETE FROM faq_entries WHERE id = $1", id)).await? == 0 {
            return Err(StoreError::NotFound);
        }
        bump(&mut tx).await?;
        tx.commit().await
    }

    async fn kb_version(&self) -> Result<i64> {
        self.reader().one(q!("SELECT version FROM kb_meta WHERE id = 1")).await?.int("version")
    }

    async fn add_candidates(&self, new: Vec<NewCandidate>, now: Timestamp) -> Result<usize> {
        let mut tx = self.begin().await?;
        let n = new.len();
        for c in new {
            tx.conn()
                .exec(q!(
                    "INSERT INTO faq_candidates (question, similar_questions, answer, support, conversations, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
                    &c.question,
                    to_json(&c.similar),
                    &c.answer,
                    c.support,
                    to_json(&c.conversations),
                    now.0
                ))
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn candidates(&self, status: &str) -> Result<Vec<FaqCandidate>> {
        let rows = self
            .reader()
            .all(q!(concat!(
                "SELECT id, question, similar_questions, answer, support, conversations, status, created_at FROM faq_candidates",
                " WHERE status = $1 ORDER BY support DESC, id"
            ), status))
            .await?;
        rows.iter().map(candidate).collect()
    }

    async fn candidate(&self, id: i64) -> Result<FaqCandidate> {
        candidate(&self.reader().one(q!(concat!(
            "SELECT id, question, similar_questions, answer, support, conversations, status, created_at FROM faq_candidates",
            " WHERE id = $1"
        ), id)).await?)
    }

    async fn decide_candidate(&self, id: i64, status: &str, now: Timestamp) -> Result<()> {
        let n = self
            .writer()
            .exec(q!(
                "UPDATE faq_candidates SET status = $1, decided_at = $2 WHERE id = $3",
                status,
                now.0,
                id
            ))
            .await?;
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}
