//! SMS verification codes through a cloud SMS service, signed by hand per each vendor's
//! documentation: Aliyun (阿里云短信, RPC signature HMAC-SHA1) and Tencent Cloud (腾讯云短信,
//! TC3-HMAC-SHA256). The sandbox in `kefu demo` implements Aliyun's side with its own crypto.

pub mod aliyun;
pub mod tencent;

use std::time::Duration;

use async_trait::async_trait;
use kefu_domain::Timestamp;
use serde::{Deserialize, Serialize};

/// Why a code was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The service refused this number or this rate (a limit, an invalid number): retrying
    /// now would not help; the customer is told to try later.
    #[error("refused by the SMS service: {0}")]
    Refused(String),
    /// The service could not be reached or failed; another attempt may work.
    #[error("SMS service unavailable: {0}")]
    Unavailable(String),
    #[error("SMS is not configured: {0}")]
    Config(String),
}

/// Sends one verification code to one mainland mobile number.
#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send_code(&self, phone: &str, code: &str, now: Timestamp) -> Result<(), SmsError>;
}

/// The SMS settings an administrator enters (run-time setting `sms`); the access key secret
/// is stored sealed, apart from these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmsSettings {
    /// `aliyun`, `tencent`, or empty: no SMS (typed numbers stay unverified).
    pub provider: String,
    /// Empty: the vendor's public endpoint. The sandbox's URL in the demo and tests.
    pub endpoint: String,
    /// Aliyun AccessKey ID / Tencent SecretId.
    pub access_key_id: String,
    /// 短信签名, e.g. 某某公司.
    pub sign_name: String,
    /// Aliyun TemplateCode (`SMS_…`) / Tencent TemplateId, a template with one variable: the code.
    pub template: String,
    /// Tencent only: SmsSdkAppId.
    pub sdk_app_id: String,
    /// Tencent only (X-TC-Region); default ap-guangzhou.
    pub region: String,
}

impl SmsSettings {
    pub fn enabled(&self) -> bool {
        !self.provider.is_empty()
    }

    /// Checks the settings before they are saved, so a typo is refused on the form.
    pub fn validate(&self) -> Result<(), SmsError> {
        let need = |v: &str, what: &str| {
            if v.trim().is_empty() { Err(SmsError::Config(format!("{what} is required"))) } else { Ok(()) }
        };
        match self.provider.as_str() {
            "" => return Ok(()),
            "aliyun" | "tencent" => {}
            other => return Err(SmsError::Config(format!("unknown provider {other:?}"))),
        }
        need(&self.access_key_id, "access_key_id")?;
        need(&self.sign_name, "sign_name")?;
        need(&self.template, "template")?;
        if self.provider == "tencent" {
            need(&self.sdk_app_id, "sdk_app_id")?;
        }
        if !self.endpoint.is_empty()
            && !self.endpoint.starts_with("https://")
            && !self.endpoint.starts_with("http://")
        {
            return Err(SmsError::Config("endpoint must be an http(s) URL".into()));
        }
        Ok(())
    }
}

/// The sender for these settings, or `None` when SMS is off.
pub fn sender(settings: &SmsSettings, secret: &str, http: reqwest::Client) -> Option<Box<dyn SmsSender>> {
    match settings.provider.as_str() {
        "aliyun" => Some(Box::new(aliyun::Aliyun::new(settings.clone(), secret.to_owned(), http))),
        "tencent" => Some(Box::new(tencent::Tencent::new(settings.clone(), secret.to_owned(), http))),
        _ => None,
    }
}

/// The HTTP client for SMS services: short timeouts (a code the customer waits for).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

pub use crate::percent_encode;

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_follows_the_vendors_rules() {
        let cases = [
            ("a b*c~d", "a%20b%2Ac~d"),
            ("+", "%2B"),
            ("/", "%2F"),
            ("=&", "%3D%26"),
            ("!'()", "%21%27%28%29"),
            ("阿里云", "%E9%98%BF%E9%87%8C%E4%BA%91"),
            (r#"{"code":"123456"}"#, "%7B%22code%22%3A%22123456%22%7D"),
            ("2017-07-12T02:42:19Z", "2017-07-12T02%3A42%3A19Z"),
        ];
        for (input, want) in cases {
            assert_eq!(percent_encode(input), want, "{input}");
        }
    }

    #[test]
    fn settings_are_checked_before_they_are_saved() {
        let mut s = SmsSettings {
            provider: "aliyun".into(),
            access_key_id: "id".into(),
            sign_name: "测试".into(),
            template: "SMS_1".into(),
            ..Default::default()
        };
        assert!(s.validate().is_ok());
        s.provider = "tencent".into();
        assert!(matches!(s.validate(), Err(SmsError::Config(m)) if m.contains("sdk_app_id")));
        s.provider = "nope".into();
        assert!(s.validate().is_err());
        assert!(SmsSettings::default().validate().is_ok() && !SmsSettings::default().enabled());
    }
}
