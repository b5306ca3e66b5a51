//! OneID: one person, one customer. Identities that share a WeChat UnionID or a verified phone
//! number (from the platform's user API, or confirmed by an SMS code) are merged automatically;
//! a number a customer only typed never merges anyone (see `verify`). Agents merge and unmerge
//! by hand with a reason, and every merge is recorded and undoable.

use kefu_domain::*;
use kefu_store::{Accepted, Profile};

use crate::bus::{Event, Subject};
use crate::engine::{Engine, EngineError, Result};

/// What kefu waits for after asking for a phone number.
pub const AWAITING_PHONE: &str = "phone";

/// Eleven digits that can be a mainland mobile number (1, then 3–9).
pub fn is_mobile(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 11 && b.iter().all(u8::is_ascii_digit) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

/// A mainland mobile number in what a customer typed ("138 0000 0001", "+86-13800000001").
pub fn phone_in(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let national = digits.strip_prefix("86").filter(|d| d.len() == 11).unwrap_or(&digits);
    let only_number = text.chars().all(|c| c.is_ascii_digit() || " +-()（）".contains(c));
    (is_mobile(national) && only_number).then(|| national.to_owned())
}

/// "138****0001": enough for the customer to recognise, not enough to leak.
pub fn masked(phone: &str) -> String {
    if phone.len() == 11 { format!("{}****{}", &phone[..3], &phone[7..]) } else { phone.to_owned() }
}

impl Engine {
    /// Merges every customer that shares a UnionID or phone with this one into the oldest of
    /// them. Returns the customer that remains.
    pub async fn link(&self, customer: CustomerId) -> Result<CustomerId> {
        let mut current = customer;
        for (other, why) in self.store.oneid_matches(customer).await? {
            let (survivor, merged) = if other.0 < current.0 { (other, current) } else { (current, other) };
            match self.store.merge_customers(survivor, merged, &why, None, self.clock.now()).await {
                Ok(m) => {
                    self.merged(&m).await;
                    current = survivor;
                }
                // Merged meanwhile by someone else: the next match decides again.
                Err(kefu_store::StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(current)
    }

    /// Stores what a platform told about an identity, then links the customer by it: a
    /// UnionID or phone may tie this person to a customer kefu already knows.
    pub async fn store_profile(&self, identity: IdentityId, profile: &Profile) -> Result<()> {
        let i = self.store.update_profile(identity, profile).await?;
        self.link(i.customer_id).await.map(|_| ())
    }

    async fn merged(&self, m: &CustomerMerge) {
        let event = Event::CustomerMerged { merge: m.clone() };
        self.publish(Subject::customer(m.survivor), event).await;
    }

    /// An agent merges `merged` into `survivor` by hand.
    pub async fn merge_customers(
        &self,
        by: &Agent,
        survivor: CustomerId,
        merged: CustomerId,
        reason: &str,
    ) -> Result<CustomerMerge> {
        if !by.role.at_least(Role::Supervisor) {
            return Err(EngineError::Forbidden("only supervisors merge customers"));
        }
        let m = self.store.merge_customers(survivor, merged, reason, Some(by.id), self.clock.now()).await?;
        self.merged(&m).await;
        Ok(m)
    }

    /// An agent undoes a merge; the two are not merged automatically again.
    pub async fn unmerge(&self, by: &Agent, merge: i64, reason: &str) -> Result<CustomerMerge> {
        if !by.role.at_least(Role::Supervisor) {
            return Err(EngineError::Forbidden("only supervisors unmerge customers"));
        }
        Ok(self.store.unmerge(merge, by.id, reason, self.clock.now()).await?)
    }

    /// Asks the customer for their phone number; their next message that is one binds it.
    pub async fn ask_phone(&self, id: ConversationId) -> Result<Message> {
        self.store.set_awaiting(id, Some(AWAITING_PHONE)).await?;
        self.tell(id, Content::text("为了更好地为您服务，请直接回复您的手机号码（11位）。")).await
    }

    /// Handles the answer to [`Engine::ask_phone`] (a number, kept unverified until the
    /// customer confirms an SMS code) and then the code; `true` if the message was either.
    pub(crate) async fn phone_answer(&self, a: &Accepted) -> Result<bool> {
        match self.store.awaiting(a.conversation.id).await?.as_deref() {
            Some(AWAITING_PHONE) => {}
            Some(crate::verify::AWAITING_CODE) => return self.code_answer(a).await,
            _ => return Ok(false),
        }
        let Some(text) = a.message.content.plain_text() else { return Ok(false) };
        let Some(phone) = phone_in(&text) else {
            self.tell(a.conversation.id, Content::text("手机号格式不正确，请回复11位手机号码。")).await?;
            return Ok(true);
        };
        let identity = self.store.identity(a.identity.id).await?;
        match (identity.phone.as_deref(), identity.phone_verified) {
            // Never overwrite a verified number: a second one is shown to agents instead.
            (Some(known), true) if known != phone => {
                self.store.set_awaiting(a.conversation.id, None).await?;
                let note = format!(
                    "客户回复了另一个手机号 {}，与已认证的 {} 不同，未覆盖。",
                    masked(&phone),
                    masked(known)
                );
                self.note(a.conversation.id, Sender::System, &note).await?;
                self.tell(a.conversation.id, Content::text("已收到，谢谢！")).await?;
            }
            (Some(_), true) => {
                self.store.set_awaiting(a.conversation.id, None).await?;
                self.tell(
                    a.conversation.id,
                    Content::text(format!("手机号 {} 已验证，谢谢！", masked(&phone))),
                )
                .await?;
            }
            _ => {
                self.store.set_typed_phone(identity.id, &phone).await?;
                self.start_verification(a, &phone).await?;
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_read_from_what_customers_type() {
        assert_eq!(phone_in("13800000001").as_deref(), Some("13800000001"));
        assert_eq!(phone_in("138 0000 0001").as_deref(), Some("13800000001"));
        assert_eq!(phone_in("+86-138-0000-0001").as_deref(), Some("13800000001"));
        assert_eq!(phone_in("12800000001"), None, "no such mobile prefix");
        assert_eq!(phone_in("1380000000"), None, "ten digits");
        assert_eq!(phone_in("我的号是13800000001"), None, "only a bare number binds");
        assert_eq!(masked("13800000001"), "138****0001");
    }
}
