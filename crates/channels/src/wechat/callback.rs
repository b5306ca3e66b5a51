//! Callback verification common to the WeChat family: query parameters, timestamp window, errors.

use kefu_domain::Timestamp;
use serde::Deserialize;

use crate::wechat::xml::XmlError;
use crate::wxcrypto::CryptError;

/// How far a callback's timestamp may be from our clock. Platform retries reuse the original
/// timestamp for about 15 seconds; anything much older is a replay.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;

/// The query string of a WeChat, WeCom or 微信客服 callback; which fields are present depends
/// on the platform and mode.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackQuery {
    pub signature: Option<String>,
    pub msg_signature: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub echostr: Option<String>,
    pub openid: Option<String>,
    pub encrypt_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("missing query parameter {0}")]
    Missing(&'static str),
    #[error("signature mismatch")]
    BadSignature,
    #[error("timestamp outside the accepted window (replay?)")]
    Stale,
    #[error("plaintext message refused: this account is configured for safe mode")]
    PlaintextRefused,
    #[error(transparent)]
    Crypt(#[from] CryptError),
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("unsupported message: {0}")]
    Unsupported(String),
}

impl CallbackError {
    /// Signature, replay and crypto failures are authentication failures; the rest is bad input.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            CallbackError::BadSignature
                | CallbackError::Stale
                | CallbackError::Crypt(_)
                | CallbackError::PlaintextRefused
        )
    }
}

impl CallbackQuery {
    pub fn need<'a>(
        &'a self,
        field: &'a Option<String>,
        name: &'static str,
    ) -> Result<&'a str, CallbackError> {
        field.as_deref().filter(|s| !s.is_empty()).ok_or(CallbackError::Missing(name))
    }

    /// Checks the timestamp against `now` and returns it.
    pub fn fresh_timestamp(&self, now: Timestamp) -> Result<&str, CallbackError> {
        let ts = self.need(&self.timestamp, "timestamp")?;
        let secs: i64 = ts.parse().map_err(|_| CallbackError::Stale)?;
        if (now.seconds() - secs).abs() > TIMESTAMP_WINDOW_SECS {
            return Err(CallbackError::Stale);
        }
        Ok(ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_accepted_only_near_now() {
        let q = |ts: &str| CallbackQuery { timestamp: Some(ts.into()), ..Default::default() };
        let now = Timestamp::from_seconds(1_700_000_000);
        assert!(q("1700000000").fresh_timestamp(now).is_ok());
        assert!(q("1699999800").fresh_timestamp(now).is_ok());
        assert_eq!(q("1699999000").fresh_timestamp(now), Err(CallbackError::Stale));
        assert_eq!(q("1700000400").fresh_timestamp(now), Err(CallbackError::Stale));
        assert_eq!(q("abc").fresh_timestamp(now), Err(CallbackError::Stale));
        assert_eq!(CallbackQuery::default().fresh_timestamp(now), Err(CallbackError::Missing("timestamp")));
    }
}
