//! DingTalk's event subscription over HTTP (事件订阅): `?signature&timestamp&nonce` plus a
//! body `{"encrypt":…}` in the WXBizMsgCrypt envelope (receive id = the AppKey). Every
//! callback, the URL check included, must be answered with an encrypted `success`.

use kefu_domain::{Channel, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wxcrypto::{CryptError, MsgCrypt, signature, verify};

/// DingTalk's query names vary between docs and SDKs; both spellings are read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventQuery {
    pub signature: Option<String>,
    pub msg_signature: Option<String>,
    pub timestamp: Option<String>,
    #[serde(rename = "timeStamp")]
    pub time_stamp: Option<String>,
    pub nonce: Option<String>,
}

/// The answer DingTalk expects: the encrypted word `success`, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventReply {
    pub msg_signature: String,
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    pub nonce: String,
    pub encrypt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("signature mismatch")]
    BadSignature,
    #[error("timestamp outside the accepted window (replay?)")]
    Stale,
    #[error(transparent)]
    Crypt(#[from] CryptError),
    #[error("body is not the expected JSON: {0}")]
    BadJson(String),
}

impl EventError {
    pub fn is_auth(&self) -> bool {
        matches!(self, EventError::BadSignature | EventError::Stale | EventError::Crypt(_))
    }
}

/// Pushes older than this are treated as replays. DingTalk retries failed pushes for a while,
/// each with a fresh timestamp.
pub const WINDOW_MS: i64 = 3_600_000;

pub struct EventCallback {
    token: String,
    crypt: MsgCrypt,
}

impl EventCallback {
    pub fn new(token: &str, aes_key: &str, app_key: &str) -> Result<Self, CryptError> {
        Ok(EventCallback { token: token.to_owned(), crypt: MsgCrypt::new(aes_key, app_key)? })
    }

    pub fn from_channel(ch: &Channel) -> Result<Self, String> {
        let need = |v: Option<&str>, what: &str| {
            v.filter(|s| !s.is_empty()).map(str::to_owned).ok_or(format!("{what} is not set"))
        };
        let token = need(ch.secret("event_token"), "event_token")?;
        let key = need(ch.secret("event_aes_key"), "event_aes_key")?;
        let app_key = need(ch.setting("app_key"), "app_key")?;
        EventCallback::new(&token, &key, &app_key).map_err(|e| e.to_string())
    }

    /// Verifies and decrypts one push, returning the event JSON.
    pub fn open(&self, q: &EventQuery, body: &str, now: Timestamp) -> Result<Value, EventError> {
        let given =
            q.msg_signature.as_ref().or(q.signature.as_ref()).ok_or(EventError::Missing("signature"))?;
        let ts = q.time_stamp.as_ref().or(q.timestamp.as_ref()).ok_or(EventError::Missing("timestamp"))?;
        let nonce = q.nonce.as_deref().ok_or(EventError::Missing("nonce"))?;
        let envelope: Value = serde_json::from_str(body).map_err(|e| EventError::BadJson(e.to_string()))?;
        let encrypt = envelope["encrypt"].as_str().ok_or(EventError::Missing("encrypt"))?;
        if !verify(&[&self.token, ts, nonce, encrypt], given) {
            return Err(EventError::BadSignature);
        }
        let ms: i64 = ts.parse().map_err(|_| EventError::Stale)?;
        if (now.0 - ms).abs() > WINDOW_MS {
            return Err(EventError::Stale);
        }
        let plain = self.crypt.decrypt(encrypt)?;
        serde_json::from_str(&plain).map_err(|e| EventError::BadJson(e.to_string()))
    }

    /// The encrypted `success` for the response.
    pub fn success(&self, now: Timestamp, nonce: &str) -> EventReply {
        self.seal(&self.crypt.encrypt("success"), now, nonce)
    }

    fn seal(&self, encrypt: &str, now: Timestamp, nonce: &str) -> EventReply {
        let ts = now.0.to_string();
        EventReply {
            msg_signature: signature(&[&self.token, &ts, nonce, encrypt]),
            time_stamp: ts,
            nonce: nonce.to_owned(),
            encrypt: encrypt.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DT1: &str = "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3";

    fn official() -> EventCallback {
        EventCallback::new("mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b")
            .unwrap()
    }

    fn query(sig: &str) -> EventQuery {
        EventQuery {
            msg_signature: Some(sig.into()),
            time_stamp: Some("1608001896814".into()),
            nonce: Some("WL4PK6yA".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_official_check_url_vector_opens() {
        // open-dingtalk/DingTalk-Callback-Crypto, DingCallbackCrypto3.py (shared notes, DT1).
        let body = serde_json::json!({ "encrypt": DT1 }).to_string();
        let event = official()
            .open(&query("03044561471240d4a14bb09372dfcfd4fd0e40cb"), &body, Timestamp(1_608_001_896_814))
            .unwrap();
        assert_eq!(event, serde_json::json!({"EventType": "check_url"}));
    }

    #[test]
    fn the_success_reply_matches_the_known_answer() {
        // DT3: "success" with random "aaaabbbbccccdddd" under DT1's keys, checked with Python and sha1sum.
        let cb = official();
        let enc = cb.crypt.encrypt_with("success", b"aaaabbbbccccdddd");
        assert_eq!(
            enc,
            "WriYdpwgW9R3hQnNQCWb99OFF54g0q8jTnsnENNcQVQtGNNNONLnnaRRsyJDkd9rdVbNdMyRj842O3VhNVQOmw=="
        );
        let reply = cb.seal(&enc, Timestamp(1_608_001_896_814), "WL4PK6yA");
        assert_eq!(reply.msg_signature, "976c3d87779e1226ef62b26faf308bef50edc62d");
        assert_eq!(serde_json::to_value(&reply).unwrap()["timeStamp"], "1608001896814");
    }

    #[test]
    fn tampering_a_wrong_signature_and_replays_are_refused() {
        let cb = official();
        let now = Timestamp(1_608_001_896_814);
        let body = serde_json::json!({ "encrypt": DT1 }).to_string();
        assert_eq!(
            cb.open(&query("0000000000000000000000000000000000000000"), &body, now),
            Err(EventError::BadSignature)
        );
        let tampered = serde_json::json!({ "encrypt": DT1.replace('0', "1") }).to_string();
        assert_eq!(
            cb.open(&query("03044561471240d4a14bb09372dfcfd4fd0e40cb"), &tampered, now),
            Err(EventError::BadSignature)
        );
        let later = Timestamp(now.0 + WINDOW_MS + 1);
        assert_eq!(
            cb.open(&query("03044561471240d4a14bb09372dfcfd4fd0e40cb"), &body, later),
            Err(EventError::Stale)
        );
        assert!(matches!(cb.open(&query("x"), "not json", now), Err(EventError::BadJson(_))));
        assert_eq!(cb.open(&EventQuery::default(), &body, now), Err(EventError::Missing("signature")));
    }
}
