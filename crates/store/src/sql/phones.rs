//! Phone numbers for OneID: a number a customer typed stays unverified until they confirm an
//! SMS code; only verified numbers merge customers (see `oneid_matches`), and unverified
//! matches are only shown to agents as possible matches.

use async_trait::async_trait;
use kefu_domain::*;

use super::SqlStore;
use super::exec::{Row, q};
use super::rows::{self, identity_cols};
use crate::model::{NewSmsCode, PossibleMatch, SmsCode, SmsCounts};
use crate::{PhoneStore, Result};

fn sms_code(r: &Row) -> Result<SmsCode> {
    Ok(SmsCode {
        id: r.int("id")?,
        phone: r.text("phone")?,
        conversation_id: ConversationId(r.int("conversation_id")?),
        identity_id: IdentityId(r.int("identity_id")?),
        code_hash: r.text("code_hash")?,
        attempts: u32::try_from(r.int("attempts")?).unwrap_or(u32::MAX),
        created_at: Timestamp(r.int("created_at")?),
        expires_at: Timestamp(r.int("expires_at")?),
        used_at: r.opt_int("used_at")?.map(Timestamp),
    })
}

macro_rules! concat_sms {
    ($tail:literal) => {
        concat!(
            "SELECT id, phone, conversation_id, identity_id, code_hash, attempts, created_at, expires_at, \
             used_at FROM sms_codes",
            $tail
        )
    };
}

impl SqlStore {
    async fn identity_row(&self, id: IdentityId) -> Result<Identity> {
        let r = self
            .writer()
            .one(q!(concat!("SELECT ", identity_cols!(), " FROM identities i WHERE i.id = $1"), id.0))
            .await?;
        rows::identity(&r)
    }
}

#[async_trait]
impl PhoneStore for SqlStore {
    async fn set_typed_phone(&self, identity: IdentityId, phone: &str) -> Result<Identity> {
        self.writer()
            .exec(q!(
                "UPDATE identities SET phone = $1, phone_verified = FALSE WHERE id = $2 AND NOT phone_verified",
                phone,
                identity.0
            ))
            .await?;
        self.identity_row(identity).await
    }

    async fn create_sms_code(&self, new: NewSmsCode, now: Timestamp) -> Result<SmsCode> {
        let r = self
            .writer()
            .one(q!(
                "INSERT INTO sms_codes (phone, conversation_id, identity_id, code_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &new.phone,
                new.conversation_id.0,
                new.identity_id.0,
                &new.code_hash,
                now.0,
                new.expires_at.0
            ))
            .await?;
        let id = r.int("id")?;
        sms_code(&self.writer().one(q!(concat_sms!(" WHERE id = $1"), id)).await?)
    }

    async fn sms_counts(
        &self,
        phone: &str,
        conversation: ConversationId,
        since: Timestamp,
    ) -> Result<SmsCounts> {
        let r = self
            .reader()
            .one(q!(
                "SELECT (SELECT COUNT(*) FROM sms_codes WHERE phone = $1 AND created_at >= $3) AS to_phone, \
                 (SELECT COUNT(*) FROM sms_codes WHERE conversation_id = $2) AS in_conversation, \
                 (SELECT MAX(created_at) FROM sms_codes WHERE phone = $1) AS last_at",
                phone,
                conversation.0,
                since.0
            ))
            .await?;
        Ok(SmsCounts {
            to_phone: u32::try_from(r.int("to_phone")?).unwrap_or(u32::MAX),
            in_conversation: u32::try_from(r.int("in_conversation")?).unwrap_or(u32::MAX),
            last_to_phone: r.opt_int("last_at")?.map(Timestamp),
        })
    }

    async fn latest_sms_code(&self, conversation: ConversationId) -> Result<Option<SmsCode>> {
        let r = self
            .writer()
            .opt(q!(concat_sms!(" WHERE conversation_id = $1 ORDER BY id DESC LIMIT 1"), conversation.0))
            .await?;
        r.as_ref().map(sms_code).transpose()
    }

    async fn count_sms_attempt(&self, id: i64) -> Result<()> {
        self.writer().exec(q!("UPDATE sms_codes SET attempts = attempts + 1 WHERE id = $1", id)).await?;
        Ok(())
    }

    async fn confirm_sms_code(&self, id: i64, now: Timestamp) -> Result<Option<Identity>> {
        let mut tx = self.begin().await?;
        let r = tx
            .conn()
            .opt(q!(
                "UPDATE sms_codes SET used_at = $1, attempts = attempts + 1 WHERE id = $2 AND used_at IS NULL \
                 AND expires_at > $1 RETURNING identity_id, phone",
                now.0,
                id
            ))
            .await?;
        let Some(r) = r else { return Ok(None) };
        let identity = r.int("identity_id")?;
        // A number the platform already vouches for is never replaced by a confirmed one.
        tx.conn()
            .exec(q!(
                "UPDATE identities SET phone = $1, phone_verified = TRUE WHERE id = $2 \
                 AND (NOT phone_verified OR phone = $1)",
                r.text("phone")?,
                identity
            ))
            .await?;
        tx.commit().await?;
        Ok(Some(self.identity_row(IdentityId(identity)).await?))
    }

    async fn possible_matches(&self, customer: CustomerId) -> Result<Vec<PossibleMatch>> {
        let rows = self
            .reader()
            .all(q!(
                "SELECT DISTINCT o.customer_id, cu.display_name, i.phone FROM identities i \
                 JOIN identities o ON o.phone = i.phone AND o.customer_id <> i.customer_id \
                 JOIN customers cu ON cu.id = o.customer_id AND cu.merged_into IS NULL \
                 WHERE i.customer_id = $1 AND NOT (i.phone_verified AND o.phone_verified) \
                 AND NOT EXISTS (SELECT 1 FROM customer_merge_blocks b WHERE (b.low_id = $1 AND b.high_id = o.customer_id) \
                 OR (b.high_id = $1 AND b.low_id = o.customer_id)) ORDER BY o.customer_id LIMIT 20",
                customer.0
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PossibleMatch {
                    customer: CustomerId(r.int("customer_id")?),
                    display_name: r.text("display_name")?,
                    phone: r.text("phone")?,
                })
            })
            .collect()
    }
}
