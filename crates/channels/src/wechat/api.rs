//! Calling the WeChat and WeCom server APIs: access tokens, the `errcode` envelope, token
//! refresh on 40001/42001, and what each error code means for a retry.

use std::time::Duration;

use async_trait::async_trait;
use kefu_domain::{Clock, Timestamp};
use serde_json::Value;

use crate::SendError;
use crate::platform::{CachedToken, Media, TokenCache, TokenFetch};

pub const OA_API: &str = "https://api.weixin.qq.com";
pub const WORK_API: &str = "https://qyapi.weixin.qq.com";

/// Which token endpoint a credential uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Official Account: `cgi-bin/token?appid&secret`.
    Oa,
    /// WeCom: `cgi-bin/gettoken?corpid&corpsecret`, one token per secret.
    Work,
}

/// One platform credential: where the API is, who we are.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub base: String,
    pub flavor: Flavor,
    pub id: String,
    pub secret: String,
}

impl Credentials {
    /// The deployment-wide token cache key: one per id and secret (WeCom apps and 微信客服
    /// have separate secrets and separate tokens).
    pub fn token_key(&self) -> String {
        let tag: u32 =
            self.secret.bytes().fold(2166136261u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16777619));
        match self.flavor {
            Flavor::Oa => format!("wechat_oa:{}", self.id),
            Flavor::Work => format!("wecom:{}:{tag:08x}", self.id),
        }
    }
}

/// An HTTP client for the WeChat family of APIs.
#[derive(Clone)]
pub struct WxClient {
    http: reqwest::Client,
    clock: std::sync::Arc<dyn Clock>,
}

struct Fetch<'a> {
    client: &'a WxClient,
    creds: &'a Credentials,
}

#[async_trait]
impl TokenFetch for Fetch<'_> {
    async fn fetch(&self) -> Result<CachedToken, SendError> {
        let c = self.creds;
        let url = match c.flavor {
            Flavor::Oa => format!(
                "{}/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
                c.base, c.id, c.secret
            ),
            Flavor::Work => format!("{}/cgi-bin/gettoken?corpid={}&corpsecret={}", c.base, c.id, c.secret),
        };
        let v = self.client.read(self.client.http.get(url)).await?;
        let token = v["access_token"]
            .as_str()
            .ok_or_else(|| SendError::retryable("token response without access_token"))?;
        let ttl = v["expires_in"].as_i64().unwrap_or(7200);
        // Renew five minutes early so a token never expires in flight.
        let expires_at = Timestamp(self.client.clock.now().0 + (ttl - 300).max(60) * 1000);
        Ok(CachedToken { token: token.to_owned(), expires_at })
    }
}

/// Token errors: the token is invalid, expired or was replaced by a newer one.
fn is_token_error(code: i64) -> bool {
    matches!(code, 40001 | 40014 | 42001)
}

/// What an error code means for the message, in words an agent understands.
pub fn classify(code: i64, msg: &str) -> SendError {
    let retry_after = |secs| SendError::Retryable {
        reason: format!("{code}: {msg}"),
        retry_after: Some(Duration::from_secs(secs)),
    };
    match code {
        -1 => SendError::retryable(format!("微信系统繁忙 (-1): {msg}")),
        45009 => retry_after(3600),
        45011 | 45033 => retry_after(60),
        45015 => SendError::permanent(
            "超过48小时回复窗口 (45015)：客户48小时内没有发消息，需等客户再次发消息后才能回复",
        ),
        45047 => SendError::permanent("客服消息条数已达上限 (45047)：需等客户再次发消息后才能继续发送"),
        43004 => SendError::permanent("客户已取消关注 (43004)"),
        40003 => SendError::permanent("无效的用户 OpenID (40003)"),
        48002 => SendError::permanent("无权调用该接口，或客户拒收消息 (48002)"),
        95018 => {
            SendError::permanent("当前会话状态不允许发送 (95018)：会话可能已结束或由人工在企业微信中接待")
        }
        40007 => SendError::permanent("无效的媒体文件 (40007)"),
        40164 | 60020 => SendError::permanent(format!("服务器 IP 不在白名单 ({code})")),
        40013 | 40125 | 40091 => SendError::permanent(format!("AppID 或 Secret 配置错误 ({code})")),
        _ => SendError::permanent(format!("平台错误 {code}: {msg}")),
    }
}

impl WxClient {
    pub fn new(clock: std::sync::Arc<dyn Clock>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        WxClient { http, clock }
    }

    /// Sends a request and reads the `errcode` envelope. Transport failures and 5xx are
    /// retryable; an `errcode` comes back as `Err((code, message))` for the caller to judge.
    async fn read(&self, req: reqwest::RequestBuilder) -> Result<Value, SendError> {
        match self.read_raw(req).await? {
            Ok(v) => Ok(v),
            Err((code, msg)) => Err(classify(code, &msg)),
        }
    }

    async fn read_raw(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<Result<Value, (i64, String)>, SendError> {
        let res = req.send().await.map_err(|e| SendError::retryable(format!("网络错误: {e}")))?;
        let status = res.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(SendError::retryable(format!("平台返回 HTTP {status}")));
        }
        let v: Value =
            res.json().await.map_err(|e| SendError::retryable(format!("无法解析平台响应: {e}")))?;
        match v["errcode"].as_i64().unwrap_or(0) {
            0 => Ok(Ok(v)),
            code => Ok(Err((code, v["errmsg"].as_str().unwrap_or("").to_owned()))),
        }
    }

    /// POSTs JSON to `path` with the shared access token, refreshing it once if the platform
    /// says it is no longer valid.
    pub async fn post(
        &self,
        tokens: &dyn TokenCache,
        creds: &Credentials,
        path: &str,
        body: &Value,
    ) -> Result<Value, SendError> {
        let fetch = Fetch { client: self, creds };
        let key = creds.token_key();
        let mut token = tokens.get(&key, &fetch).await?;
        for attempt in 0..2 {
            let url = format!("{}{path}?access_token={token}", creds.base);
            match self.read_raw(self.http.post(url).json(body)).await? {
                Ok(v) => return Ok(v),
                Err((code, _)) if is_token_error(code) && attempt == 0 => {
                    token = tokens.refresh(&key, &token, &fetch).await?;
                }
                Err((code, msg)) if is_token_error(code) => {
                    return Err(SendError::retryable(format!("access_token 仍无效 ({code}: {msg})")));
                }
                Err((code, msg)) => return Err(classify(code, &msg)),
            }
        }
        Err(SendError::retryable("access_token refresh did not help"))
    }

    /// GETs `path?query&access_token=…`, with the same token handling.
    pub async fn get(
        &self,
        tokens: &dyn TokenCache,
        creds: &Credentials,
        path_and_query: &str,
    ) -> Result<Value, SendError> {
        let fetch = Fetch { client: self, creds };
        let key = creds.token_key();
        let token = tokens.get(&key, &fetch).await?;
        let url = format!("{}{path_and_query}&access_token={token}", creds.base);
        match self.read_raw(self.http.get(url)).await? {
            Ok(v) => Ok(v),
            Err((code, _)) if is_token_error(code) => {
                let token = tokens.refresh(&key, &token, &fetch).await?;
                self.read(self.http.get(format!("{}{path_and_query}&access_token={token}", creds.base))).await
            }
            Err((code, msg)) => Err(classify(code, &msg)),
        }
    }

    /// Uploads a temporary media file (`media/upload`), returning its `media_id`.
    pub async fn upload(
        &self,
        tokens: &dyn TokenCache,
        creds: &Credentials,
        kind: &str,
        media: &Media,
    ) -> Result<String, SendError> {
        let fetch = Fetch { client: self, creds };
        let token = tokens.get(&creds.token_key(), &fetch).await?;
        let part = reqwest::multipart::Part::bytes(media.bytes.clone())
            .file_name(media.filename.clone())
            .mime_str(&media.mime)
            .map_err(|e| SendError::permanent(format!("无效的文件类型: {e}")))?;
        let form = reqwest::multipart::Form::new().part("media", part);
        let url = format!("{}/cgi-bin/media/upload?access_token={token}&type={kind}", creds.base);
        let v = self.read(self.http.post(url).multipart(form)).await?;
        v["media_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SendError::retryable("upload response without media_id"))
    }

    /// Forces a token fetch through the cache; used by the connectivity test.
    pub async fn check_token(&self, tokens: &dyn TokenCache, creds: &Credentials) -> Result<(), SendError> {
        tokens.get(&creds.token_key(), &Fetch { client: self, creds }).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_retry_decisions() {
        assert!(matches!(classify(-1, "busy"), SendError::Retryable { .. }));
        assert!(
            matches!(classify(45009, "quota"), SendError::Retryable { retry_after: Some(d), .. } if d.as_secs() == 3600)
        );
        assert!(
            matches!(classify(45015, "out of time"), SendError::Permanent { ref reason } if reason.contains("48小时"))
        );
        assert!(matches!(classify(45047, "count"), SendError::Permanent { .. }));
        assert!(
            matches!(classify(12345, "odd"), SendError::Permanent { ref reason } if reason.contains("12345"))
        );
    }

    #[test]
    fn token_keys_separate_accounts_and_wecom_secrets() {
        let oa =
            Credentials { base: OA_API.into(), flavor: Flavor::Oa, id: "wx1".into(), secret: "s".into() };
        assert_eq!(oa.token_key(), "wechat_oa:wx1");
        let a = Credentials {
            base: WORK_API.into(),
            flavor: Flavor::Work,
            id: "ww1".into(),
            secret: "app".into(),
        };
        let b = Credentials { secret: "kf".into(), ..a.clone() };
        assert_ne!(a.token_key(), b.token_key());
        assert!(!a.token_key().contains("app"), "the secret itself never appears in a key");
    }
}
