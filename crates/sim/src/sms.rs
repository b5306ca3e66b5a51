//! The cloud SMS services' side: Aliyun's `SendSms` (RPC signature, HMAC-SHA1) and Tencent
//! Cloud's `SendSms` (TC3-HMAC-SHA256), each verifying the caller's signature with the
//! simulator's own code, enforcing a per-number rate limit as the real services do, and
//! keeping the texts in an inbox the demo page shows (短信收件箱).
//!
//! HMAC and percent-encoding are written out here rather than shared with kefu's client:
//! the simulator is the independent party.

use crate::dt_sign::hmac_sha256;
use crate::state::Sim;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kefu_domain::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use sha1::{Digest as _, Sha1};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// One text the simulated service delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sms {
    pub provider: String,
    pub phone: String,
    pub text: String,
    /// The template's variable: the verification code.
    pub code: String,
    pub at: Timestamp,
}

/// Both services allow one code per number per minute by default.
const PER_NUMBER_GAP: Duration = Duration::from_secs(60);

fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha1::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// RFC 3986 unreserved characters stay; everything else is `%XX`, upper case.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn aliyun_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"RequestId": "sim", "Code": code, "Message": message}))).into_response()
}

/// `POST /sms/aliyun/?…` (or GET): Dysmsapi SendSms with every parameter in the query.
pub async fn aliyun(State(sim): State<Arc<Sim>>, method: Method, RawQuery(q): RawQuery) -> Response {
    let mut params = BTreeMap::new();
    for pair in q.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match (decode(k), decode(v)) {
            (Some(k), Some(v)) => params.insert(k, v),
            _ => return aliyun_error(StatusCode::BAD_REQUEST, "InvalidParameter", "bad percent-encoding"),
        };
    }
    let Some(sig) = params.remove("Signature") else {
        return aliyun_error(StatusCode::BAD_REQUEST, "MissingParameter", "Signature");
    };
    let p = |k: &str| params.get(k).map(String::as_str).unwrap_or_default();
    let Some(acct) =
        sim.config.sms.iter().find(|a| a.provider == "aliyun" && a.access_key_id == p("AccessKeyId"))
    else {
        return aliyun_error(StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound", "unknown AccessKeyId");
    };
    let canonical: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    let to_sign = format!("{}&{}&{}", method.as_str(), encode("/"), encode(&canonical.join("&")));
    let want =
        STANDARD.encode(hmac_sha1(format!("{}&", acct.access_key_secret).as_bytes(), to_sign.as_bytes()));
    if p("SignatureMethod") != "HMAC-SHA1" || p("SignatureVersion") != "1.0" || want != sig {
        return aliyun_error(
            StatusCode::BAD_REQUEST,
            "SignatureDoesNotMatch",
            "Specified signature is not matched",
        );
    }
    if !fresh_iso(p("Timestamp"), sim.now(), Duration::from_secs(15 * 60)) {
        return aliyun_error(StatusCode::BAD_REQUEST, "InvalidTimeStamp.Expired", "timestamp out of range");
    }
    if !sim.lock().sms_nonces.insert(p("SignatureNonce").to_owned()) {
        return aliyun_error(StatusCode::BAD_REQUEST, "SignatureNonceUsed", "nonce used");
    }
    if p("SignName") != acct.sign_name || p("TemplateCode") != acct.template {
        return aliyun_error(StatusCode::OK, "isv.SMS_TEMPLATE_ILLEGAL", "签名或模板不合法");
    }
    let code = serde_json::from_str::<Value>(p("TemplateParam"))
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned));
    let Some(code) = code else {
        return aliyun_error(StatusCode::OK, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值");
    };
    match deliver(&sim, "aliyun", p("PhoneNumbers"), &acct.sign_name, &code) {
        Ok(()) => {
            Json(json!({"RequestId": "sim", "Code": "OK", "Message": "OK", "BizId": "sim^0"})).into_response()
        }
        Err(Refusal::Number) => aliyun_error(StatusCode::OK, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
        Err(Refusal::Rate) => {
            aliyun_error(StatusCode::OK, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
        }
    }
}

/// Whether `ts` (`2017-07-12T02:42:19Z`) is within `window` of now: the simulator only
/// compares against the seconds around now instead of parsing dates in general.
fn fresh_iso(ts: &str, now: Timestamp, window: Duration) -> bool {
    let w = i64::try_from(window.as_secs()).unwrap_or(0);
    (-w..=w).any(|d| Timestamp::from_seconds(now.seconds() + d).utc_iso() == ts)
}

enum Refusal {
    Number,
    Rate,
}

fn deliver(sim: &Sim, provider: &str, phone: &str, sign: &str, code: &str) -> Result<(), Refusal> {
    let national = phone.trim_start_matches("+86");
    if national.len() != 11 || !national.bytes().all(|b| b.is_ascii_digit()) || !national.starts_with('1') {
        return Err(Refusal::Number);
    }
    let now = sim.now();
    let mut inner = sim.lock();
    if inner.sms.iter().any(|s| s.phone == national && now.since(s.at) < PER_NUMBER_GAP) {
        return Err(Refusal::Rate);
    }
    let text = format!("【{sign}】您的验证码为{code}，5分钟内有效。如非本人操作，请忽略本短信。");
    inner.sms.push(Sms {
        provider: provider.into(),
        phone: national.into(),
        text,
        code: code.into(),
        at: now,
    });
    Ok(())
}

fn tencent_error(code: &str, message: &str) -> Response {
    Json(json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "sim"}}))
        .into_response()
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `POST /sms/tencent/`: SendSms 2021-01-11, TC3-HMAC-SHA256 over the exact body.
pub async fn tencent(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let auth = h("authorization");
    let Some(rest) = auth.strip_prefix("TC3-HMAC-SHA256 Credential=") else {
        return tencent_error("AuthFailure.SignatureFailure", "bad Authorization");
    };
    let parts: Vec<&str> = rest.split(", ").collect();
    let (cred, signed, sig) = match parts.as_slice() {
        [c, s, g] => (*c, s.trim_start_matches("SignedHeaders="), g.trim_start_matches("Signature=")),
        _ => return tencent_error("AuthFailure.SignatureFailure", "bad Authorization"),
    };
    let id = cred.split('/').next().unwrap_or_default();
    let Some(acct) = sim.config.sms.iter().find(|a| a.provider == "tencent" && a.access_key_id == id) else {
        return tencent_error("AuthFailure.SecretIdNotFound", "unknown SecretId");
    };
    let ts: i64 = h("x-tc-timestamp").parse().unwrap_or(0);
    let date = Timestamp::from_seconds(ts).utc_date();
    let canonical_headers: String =
        signed.split(';').map(|name| format!("{name}:{}\n", h(name).trim().to_lowercase())).collect();
    let canonical = format!("POST\n/\n\n{canonical_headers}\n{signed}\n{}", hexs(&Sha256::digest(&body)));
    let scope = format!("{date}/sms/tc3_request");
    let to_sign = format!("TC3-HMAC-SHA256\n{ts}\n{scope}\n{}", hexs(&Sha256::digest(canonical.as_bytes())));
    let k = hmac_sha256(format!("TC3{}", acct.access_key_secret).as_bytes(), date.as_bytes());
    let k = hmac_sha256(&k, b"sms");
    let k = hmac_sha256(&k, b"tc3_request");
    if hexs(&hmac_sha256(&k, to_sign.as_bytes())) != sig
        || !cred.ends_with(&scope)
        || !signed.contains("host")
    {
        return tencent_error(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated.",
        );
    }
    if (sim.now().seconds() - ts).abs() > 300 {
        return tencent_error("AuthFailure.SignatureExpire", "signature expired");
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    if v["SmsSdkAppId"] != acct.sdk_app_id.as_str() || v["TemplateId"] != acct.template.as_str() {
        return tencent_error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或不存在");
    }
    let phone = v["PhoneNumberSet"][0].as_str().unwrap_or_default().to_owned();
    let code = v["TemplateParamSet"][0].as_str().unwrap_or_default().to_owned();
    let status = match deliver(&sim, "tencent", &phone, &acct.sign_name, &code) {
        Ok(()) => json!({"Code": "Ok", "Message": "send success", "PhoneNumber": phone}),
        Err(Refusal::Number) => {
            json!({"Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "手机号格式错误"})
        }
        Err(Refusal::Rate) => {
            json!({"Code": "LimitExceeded.PhoneNumberThirtySecondLimit", "Message": "频率限制"})
        }
    };
    Json(json!({"Response": {"SendStatusSet": [status], "RequestId": "sim"}})).into_response()
}

/// `GET /sim/api/sms`: every text delivered, newest last.
pub async fn inbox(State(sim): State<Arc<Sim>>) -> Json<Vec<Sms>> {
    Json(sim.lock().sms.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        let mac = hmac_sha1(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hexs(&mac), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn percent_coding_round_trips_chinese_and_json() {
        let s = r#"阿里云 {"code":"1"}~*"#;
        assert_eq!(decode(&encode(s)).as_deref(), Some(s));
        assert_eq!(encode("a b*~"), "a%20b%2A~");
    }
}
