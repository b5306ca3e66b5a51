//! Outbound webhooks to a CRM, signed the Standard Webhooks way (the scheme Svix uses):
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `id.timestamp.body`, keyed with the base64 part of a `whsec_…` secret.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;

/// A fresh signing secret, shown to the admin once and stored sealed.
pub fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::rng().fill_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

/// The signing key inside a secret: the base64 after `whsec_`, or the raw text otherwise.
fn key_of(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b| STANDARD.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// The `webhook-signature` header value for one delivery.
pub fn signature(secret: &str, id: &str, timestamp_secs: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key_of(secret)).expect("any key length");
    mac.update(format!("{id}.{timestamp_secs}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// What the receiving end answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostResult {
    /// Any 2xx.
    Accepted(u16),
    Refused(u16, String),
    /// No HTTP answer at all: connection refused, timeout, TLS.
    Unreachable(String),
}

#[derive(Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
}

impl WebhookClient {
    /// A client that reaches only public addresses and what `allow` names (see `netguard`).
    pub fn new(timeout: Duration, allow: crate::netguard::AllowList) -> Self {
        let builder = reqwest::Client::builder().timeout(timeout).connect_timeout(Duration::from_secs(5));
        WebhookClient { http: crate::netguard::guarded_client(allow, builder) }
    }

    pub async fn post(
        &self,
        url: &str,
        secret: &str,
        id: &str,
        timestamp_secs: i64,
        body: &str,
    ) -> PostResult {
        let res = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("user-agent", "kefu-webhooks/1")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp_secs.to_string())
            .header("webhook-signature", signature(secret, id, timestamp_secs, body))
            .body(body.to_owned())
            .send()
            .await;
        match res {
            Err(e) => PostResult::Unreachable(error_chain(&e.without_url())),
            Ok(r) if r.status().is_success() => PostResult::Accepted(r.status().as_u16()),
            Ok(r) => {
                let status = r.status().as_u16();
                let text: String = r.text().await.unwrap_or_default().chars().take(200).collect();
                PostResult::Refused(status, text)
            }
        }
    }
}

/// The error with its causes: "error sending request" alone does not say the address was refused.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_standard_webhooks_reference_vector() {
        // From the Standard Webhooks specification's test suite.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, id, 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_new_secret_is_random_and_in_whsec_form() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_") && a != b && key_of(&a).len() == 24);
    }
}
