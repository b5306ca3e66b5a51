//! Phone verification for OneID: a number the customer types is only a claim. kefu keeps it
//! unverified (shown to agents as "可能是同一客户", never merged automatically) until the
//! customer echoes back a code sent to it by SMS. Codes expire, are used once, and are rate
//! limited per number and per conversation.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kefu_channels::sms::{SmsError, SmsSender, SmsSettings};
use kefu_domain::*;
use kefu_store::{Accepted, NewSmsCode, SmsCode, Store};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::engine::{Engine, Result};
use crate::oneid::masked;

/// What kefu waits for after sending a code.
pub const AWAITING_CODE: &str = "sms_code";
/// The run-time setting with the SMS service (its access key secret is sealed apart).
pub const SMS_SETTING: &str = "sms";
pub const CODE_TTL: Duration = Duration::from_secs(5 * 60);
/// Wrong guesses allowed per code.
pub const MAX_ATTEMPTS: u32 = 5;
/// At most one code per number per minute, five a day, and three per conversation.
pub const PHONE_GAP: Duration = Duration::from_secs(60);
pub const PHONE_PER_DAY: u32 = 5;
pub const PER_CONVERSATION: u32 = 3;
const RESEND: &str = "重新发送";

/// Where kefu gets the SMS sender from; the settings may change at run time on any node.
#[async_trait]
pub trait SmsGateway: Send + Sync {
    async fn sender(&self) -> Result<Option<Box<dyn SmsSender>>>;
}

/// The SMS service an administrator configured (setting `sms`), read on every use.
pub struct StoreSms {
    store: Arc<dyn Store>,
    http: reqwest::Client,
}

impl StoreSms {
    pub fn new(store: Arc<dyn Store>) -> Self {
        StoreSms { store, http: kefu_channels::sms::http_client() }
    }
}

#[async_trait]
impl SmsGateway for StoreSms {
    async fn sender(&self) -> Result<Option<Box<dyn SmsSender>>> {
        let Some(v) = self.store.setting(SMS_SETTING).await? else { return Ok(None) };
        let settings: SmsSettings = serde_json::from_value(v).unwrap_or_default();
        let secrets = self.store.setting_secrets(SMS_SETTING).await?;
        let secret = secrets["access_key_secret"].as_str().unwrap_or_default();
        Ok(kefu_channels::sms::sender(&settings, secret, self.http.clone()))
    }
}

pub fn code_hash(phone: &str, code: &str) -> String {
    Sha256::digest(format!("{phone}:{code}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A code the customer typed: 4–8 digits and nothing else (spaces allowed).
fn code_in(text: &str) -> Option<String> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit())).then_some(t)
}

/// Why no code can be sent now, in the customer's words; `None` when one may be sent.
pub fn rate_limited(counts: &kefu_store::SmsCounts, now: Timestamp) -> Option<&'static str> {
    if counts.in_conversation >= PER_CONVERSATION {
        return Some("本次会话的验证码发送次数已达上限，客服会与您核实手机号。");
    }
    if counts.last_to_phone.is_some_and(|t| now.since(t) < PHONE_GAP) {
        return Some("验证码发送过于频繁，请一分钟后回复“重新发送”。");
    }
    if counts.to_phone >= PHONE_PER_DAY {
        return Some("该号码今天的验证码次数已达上限，请明天再试，或由客服与您核实。");
    }
    None
}

impl Engine {
    /// After the customer typed a number (kept unverified): send a code, if SMS is configured.
    pub(crate) async fn start_verification(&self, a: &Accepted, phone: &str) -> Result<()> {
        let conv = a.conversation.id;
        let Some(sender) = self.sms.sender().await? else {
            self.store.set_awaiting(conv, None).await?;
            let note = format!("客户填写的手机号 {} 未经短信验证，不会自动合并客户。", masked(phone));
            self.note(conv, Sender::System, &note).await?;
            self.tell(conv, Content::text(format!("已记录您的手机号 {}，谢谢！", masked(phone)))).await?;
            return Ok(());
        };
        self.send_code(a, phone, sender.as_ref()).await
    }

    async fn send_code(&self, a: &Accepted, phone: &str, sender: &dyn SmsSender) -> Result<()> {
        let (conv, now) = (a.conversation.id, self.clock.now());
        let counts = self.store.sms_counts(phone, conv, now.minus(Duration::from_secs(86_400))).await?;
        if let Some(why) = rate_limited(&counts, now) {
            return self.tell(conv, Content::text(why)).await.map(|_| ());
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let new = NewSmsCode {
            phone: phone.to_owned(),
            conversation_id: conv,
            identity_id: a.identity.id,
            code_hash: code_hash(phone, &code),
            expires_at: now.plus(CODE_TTL),
        };
        // Recorded before sending: a crash after the send still counts against the limits.
        self.store.create_sms_code(new, now).await?;
        let reply = match sender.send_code(phone, &code, now).await {
            Ok(()) => {
                self.store.set_awaiting(conv, Some(AWAITING_CODE)).await?;
                format!(
                    "验证码已发送至 {}，请在5分钟内直接回复6位验证码。没收到？回复“{RESEND}”。",
                    masked(phone)
                )
            }
            Err(SmsError::Refused(why)) => {
                tracing::info!(%why, "verification code refused by the SMS service");
                "验证码暂时无法发送到该号码，请稍后回复“重新发送”，或由客服与您核实。".into()
            }
            Err(e) => {
                tracing::warn!(error = %e, "verification code not sent");
                "验证码暂时无法发送，客服会与您核实手机号。".into()
            }
        };
        self.tell(conv, Content::text(reply)).await.map(|_| ())
    }

    /// Handles a message while a code is awaited; `false` if it is not about the code.
    pub(crate) async fn code_answer(&self, a: &Accepted) -> Result<bool> {
        let Some(text) = a.message.content.plain_text() else { return Ok(false) };
        let conv = a.conversation.id;
        let Some(latest) = self.store.latest_sms_code(conv).await? else { return Ok(false) };
        if text.trim() == RESEND {
            match self.sms.sender().await? {
                Some(sender) => self.send_code(a, &latest.phone, sender.as_ref()).await?,
                None => self.store.set_awaiting(conv, None).await?,
            }
            return Ok(true);
        }
        let Some(code) = code_in(&text) else { return Ok(false) };
        let reply = self.check_code(a, &latest, &code).await?;
        self.tell(conv, Content::text(reply)).await?;
        Ok(true)
    }

    async fn check_code(&self, a: &Accepted, latest: &SmsCode, code: &str) -> Result<String> {
        let now = self.clock.now();
        let again = format!("请回复“{RESEND}”获取新的验证码。");
        if latest.used_at.is_some() || latest.expires_at <= now {
            return Ok(format!("验证码已过期，{again}"));
        }
        if latest.attempts >= MAX_ATTEMPTS {
            return Ok(format!("验证码错误次数过多，{again}"));
        }
        if !crate::same_secret(&code_hash(&latest.phone, code), &latest.code_hash) {
            self.store.count_sms_attempt(latest.id).await?;
            let left = MAX_ATTEMPTS.saturating_sub(latest.attempts + 1);
            return Ok(if left == 0 {
                format!("验证码错误次数过多，{again}")
            } else {
                format!("验证码不正确，还可以再试{left}次。")
            });
        }
        let Some(identity) = self.store.confirm_sms_code(latest.id, now).await? else {
            return Ok(format!("验证码已过期，{again}"));
        };
        self.store.set_awaiting(a.conversation.id, None).await?;
        if identity.phone.as_deref() != Some(latest.phone.as_str()) || !identity.phone_verified {
            let note =
                format!("客户验证了手机号 {}，但该身份已有平台认证的号码，未覆盖。", masked(&latest.phone));
            self.note(a.conversation.id, Sender::System, &note).await?;
        } else {
            self.link(identity.customer_id).await?;
        }
        Ok(format!("手机号 {} 验证成功，谢谢！", masked(&latest.phone)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_store::SmsCounts;

    #[test]
    fn codes_are_six_digits_typed_alone() {
        assert_eq!(code_in(" 042 917 ").as_deref(), Some("042917"));
        assert_eq!(code_in("04291"), None);
        assert_eq!(code_in("验证码042917"), None);
    }

    #[test]
    fn the_rate_limits_apply_per_number_and_per_conversation() {
        let now = Timestamp(10_000_000);
        let quiet = SmsCounts { to_phone: 0, in_conversation: 0, last_to_phone: None };
        assert_eq!(rate_limited(&quiet, now), None);
        let just_sent = SmsCounts { last_to_phone: Some(now.minus(Duration::from_secs(30))), ..quiet };
        assert!(rate_limited(&just_sent, now).is_some());
        let a_minute_ago =
            SmsCounts { to_phone: 1, in_conversation: 1, last_to_phone: Some(now.minus(PHONE_GAP)) };
        assert_eq!(rate_limited(&a_minute_ago, now), None);
        assert!(rate_limited(&SmsCounts { to_phone: PHONE_PER_DAY, ..quiet }, now).is_some());
        assert!(rate_limited(&SmsCounts { in_conversation: PER_CONVERSATION, ..quiet }, now).is_some());
        assert_ne!(code_hash("13800000001", "123456"), code_hash("13800000002", "123456"));
    }
}
