//! Tencent Cloud SMS (`SendSms`, version 2021-01-11) with the TC3-HMAC-SHA256 signature:
//! a canonical request over the exact body bytes, a date-scoped derived key, and an
//! `Authorization` header.

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use kefu_domain::Timestamp;
use sha2::{Digest, Sha256};

use super::{SmsError, SmsSender, SmsSettings, hex};

pub const ENDPOINT: &str = "https://sms.tencentcloudapi.com/";
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// One signed request's inputs.
pub struct Tc3<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    pub service: &'a str,
    pub host: &'a str,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub timestamp: i64,
}

impl Tc3<'_> {
    pub fn canonical_request(&self) -> String {
        format!(
            "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
            self.content_type.trim().to_lowercase(),
            self.host.trim().to_lowercase(),
            hex(&Sha256::digest(self.body))
        )
    }

    fn scope(&self) -> String {
        format!("{}/{}/tc3_request", Timestamp::from_seconds(self.timestamp).utc_date(), self.service)
    }

    pub fn string_to_sign(&self) -> String {
        let hashed = hex(&Sha256::digest(self.canonical_request().as_bytes()));
        format!("TC3-HMAC-SHA256\n{}\n{}\n{hashed}", self.timestamp, self.scope())
    }

    pub fn signature(&self) -> String {
        let date = Timestamp::from_seconds(self.timestamp).utc_date();
        let k_date = hmac256(format!("TC3{}", self.secret_key).as_bytes(), date.as_bytes());
        let k_service = hmac256(&k_date, self.service.as_bytes());
        let k_signing = hmac256(&k_service, b"tc3_request");
        hex(&hmac256(&k_signing, self.string_to_sign().as_bytes()))
    }

    pub fn authorization(&self) -> String {
        format!(
            "TC3-HMAC-SHA256 Credential={}/{}, SignedHeaders=content-type;host, Signature={}",
            self.secret_id,
            self.scope(),
            self.signature()
        )
    }
}

pub struct Tencent {
    settings: SmsSettings,
    secret: String,
    http: reqwest::Client,
}

impl Tencent {
    pub fn new(settings: SmsSettings, secret: String, http: reqwest::Client) -> Self {
        Tencent { settings, secret, http }
    }

    /// The JSON body, serialised once: exactly these bytes are hashed and sent.
    pub fn body(&self, phone: &str, code: &str) -> Vec<u8> {
        let s = &self.settings;
        serde_json::to_vec(&serde_json::json!({
            "PhoneNumberSet": [format!("+86{phone}")],
            "SmsSdkAppId": s.sdk_app_id,
            "SignName": s.sign_name,
            "TemplateId": s.template,
            "TemplateParamSet": [code],
        }))
        .unwrap_or_default()
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split('/').next().unwrap_or(rest)
}

#[async_trait]
impl SmsSender for Tencent {
    async fn send_code(&self, phone: &str, code: &str, now: Timestamp) -> Result<(), SmsError> {
        let endpoint = if self.settings.endpoint.is_empty() { ENDPOINT } else { &self.settings.endpoint };
        let body = self.body(phone, code);
        let region = if self.settings.region.is_empty() { "ap-guangzhou" } else { &self.settings.region };
        let sig = Tc3 {
            secret_id: &self.settings.access_key_id,
            secret_key: &self.secret,
            service: "sms",
            host: host_of(endpoint),
            content_type: CONTENT_TYPE,
            body: &body,
            timestamp: now.seconds(),
        };
        let res = self
            .http
            .post(endpoint)
            .header("authorization", sig.authorization())
            .header("content-type", CONTENT_TYPE)
            .header("x-tc-action", "SendSms")
            .header("x-tc-version", "2021-01-11")
            .header("x-tc-timestamp", now.seconds().to_string())
            .header("x-tc-region", region)
            .body(body)
            .send()
            .await
            .map_err(|e| SmsError::Unavailable(e.without_url().to_string()))?;
        let v: serde_json::Value = res.json().await.map_err(|e| SmsError::Unavailable(e.to_string()))?;
        let r = &v["Response"];
        if let Some(code) = r["Error"]["Code"].as_str() {
            let msg = r["Error"]["Message"].as_str().unwrap_or_default();
            return Err(if code.starts_with("AuthFailure") || code.starts_with("UnauthorizedOperation") {
                SmsError::Config(format!("{code}: {msg}"))
            } else if code.starts_with("InternalError") || code == "RequestLimitExceeded" {
                SmsError::Unavailable(format!("{code}: {msg}"))
            } else {
                SmsError::Refused(format!("{code}: {msg}"))
            });
        }
        match r["SendStatusSet"][0]["Code"].as_str() {
            Some("Ok") => Ok(()),
            Some(c) => Err(SmsError::Refused(format!("{c}: {}", r["SendStatusSet"][0]["Message"]))),
            None => Err(SmsError::Unavailable("no send status in the answer".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_BODY: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

    #[test]
    fn the_documented_tc3_example_signs_to_the_published_signature() {
        let t = Tc3 {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service: "cvm",
            host: "cvm.tencentcloudapi.com",
            content_type: "application/json; charset=utf-8",
            body: DOC_BODY.as_bytes(),
            timestamp: 1_551_113_065,
        };
        assert!(
            t.canonical_request()
                .ends_with("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
        );
        assert_eq!(
            t.string_to_sign(),
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
             5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(t.signature(), "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
        assert_eq!(
            t.authorization(),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn a_code_goes_out_as_an_e164_number_with_the_code_as_the_only_parameter() {
        let settings = SmsSettings {
            provider: "tencent".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            sign_name: "腾讯云".into(),
            template: "1234".into(),
            sdk_app_id: "1400006666".into(),
            ..Default::default()
        };
        let t = Tencent::new(settings, "k".into(), reqwest::Client::new());
        let body = String::from_utf8(t.body("13800138000", "123456")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["PhoneNumberSet"][0], "+8613800138000");
        assert_eq!(v["TemplateParamSet"][0], "123456");
        assert_eq!(host_of("https://sms.tencentcloudapi.com/"), "sms.tencentcloudapi.com");
        assert_eq!(host_of("http://127.0.0.1:9/sms/tencent"), "127.0.0.1:9");
    }
}
