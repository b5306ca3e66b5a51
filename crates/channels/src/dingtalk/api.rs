//! Calling DingTalk: the app access token (one per app, shared by the deployment), the new
//! API (`api.dingtalk.com`, token in a header, errors as HTTP status plus `{code,message}`),
//! the older `oapi` (token in the query, `errcode` envelope) and sessionWebhooks.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kefu_domain::{Clock, Timestamp};
use serde_json::{Value, json};

use super::DtConfig;
use crate::SendError;
use crate::platform::{CachedToken, Media, TokenCache, TokenFetch};

/// An HTTP client for DingTalk's APIs.
#[derive(Clone)]
pub struct DtClient {
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

/// What the user API says about a person, for OneID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DtUser {
    pub union_id: Option<String>,
    pub mobile: Option<String>,
    pub name: Option<String>,
}

struct Fetch<'a> {
    client: &'a DtClient,
    cfg: &'a DtConfig,
}

#[async_trait]
impl TokenFetch for Fetch<'_> {
    async fn fetch(&self) -> Result<CachedToken, SendError> {
        let url = format!("{}/v1.0/oauth2/accessToken", self.cfg.api_base);
        let body = json!({ "appKey": self.cfg.app_key, "appSecret": self.cfg.app_secret });
        let v = match self.client.read_api(self.client.http.post(url).json(&body)).await? {
            Ok(v) => v,
            Err((status, code, msg)) if status == 400 || status == 401 => {
                return Err(SendError::permanent(format!("AppKey 或 AppSecret 配置错误 ({code}: {msg})")));
            }
            Err((status, code, msg)) => return Err(api_error(status, &code, &msg)),
        };
        let token = v["accessToken"]
            .as_str()
            .ok_or_else(|| SendError::retryable("token response without accessToken"))?;
        let ttl = v["expireIn"].as_i64().unwrap_or(7200);
        // Renew five minutes early so a token never expires in flight.
        let expires_at = Timestamp(self.client.clock.now().0 + (ttl - 300).max(60) * 1000);
        Ok(CachedToken { token: token.to_owned(), expires_at })
    }
}

/// The new API's errors in words an agent understands, and whether to retry.
pub fn api_error(status: u16, code: &str, msg: &str) -> SendError {
    match status {
        429 => SendError::Retryable {
            reason: format!("钉钉限流 (429 {code})"),
            retry_after: Some(Duration::from_secs(2)),
        },
        s if s >= 500 => SendError::retryable(format!("钉钉服务异常 (HTTP {s})")),
        403 => SendError::permanent(format!("应用没有该接口权限 ({code}: {msg})")),
        _ => SendError::permanent(format!("钉钉错误 {status} {code}: {msg}")),
    }
}

/// The older `oapi` error codes.
pub fn oapi_error(code: i64, msg: &str) -> SendError {
    match code {
        -1 | 88 | 90005 | 90006 | 90018 => SendError::Retryable {
            reason: format!("钉钉限流或繁忙 ({code}: {msg})"),
            retry_after: Some(Duration::from_secs(2)),
        },
        60020 => SendError::permanent("服务器 IP 不在钉钉应用的白名单 (60020)"),
        60121 => SendError::permanent("钉钉找不到该用户 (60121)"),
        _ => SendError::permanent(format!("钉钉错误 {code}: {msg}")),
    }
}

fn is_token_error(code: i64) -> bool {
    matches!(code, 40001 | 40014 | 42001)
}

type ApiResult = Result<Result<Value, (u16, String, String)>, SendError>;

impl DtClient {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        DtClient { http, clock }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Sends a new-API request; a non-2xx answer comes back as `(status, code, message)`.
    async fn read_api(&self, req: reqwest::RequestBuilder) -> ApiResult {
        let res = req.send().await.map_err(|e| SendError::retryable(format!("网络错误: {e}")))?;
        let status = res.status().as_u16();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(Ok(v));
        }
        let code = v["code"].as_str().unwrap_or_default().to_owned();
        Ok(Err((status, code, v["message"].as_str().unwrap_or_default().to_owned())))
    }

    /// POSTs to the new API with the shared token, refreshing it once if DingTalk refuses it.
    pub async fn api_post(
        &self,
        tokens: &dyn TokenCache,
        cfg: &DtConfig,
        path: &str,
        body: &Value,
    ) -> Result<Value, SendError> {
        let fetch = Fetch { client: self, cfg };
        let key = cfg.token_key();
        let mut token = tokens.get(&key, &fetch).await?;
        for attempt in 0..2 {
            let req = self
                .http
                .post(format!("{}{path}", cfg.api_base))
                .header("x-acs-dingtalk-access-token", &token)
                .json(body);
            match self.read_api(req).await? {
                Ok(v) => return Ok(v),
                Err((401, _, _)) if attempt == 0 => token = tokens.refresh(&key, &token, &fetch).await?,
                Err((status, code, msg)) => return Err(api_error(status, &code, &msg)),
            }
        }
        Err(SendError::retryable("access token 刷新后仍无效"))
    }

    async fn read_oapi(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<Result<Value, (i64, String)>, SendError> {
        let res = req.send().await.map_err(|e| SendError::retryable(format!("网络错误: {e}")))?;
        let status = res.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(api_error(status.as_u16(), "", ""));
        }
        let v: Value =
            res.json().await.map_err(|e| SendError::retryable(format!("无法解析钉钉响应: {e}")))?;
        match v["errcode"].as_i64().unwrap_or(0) {
            0 => Ok(Ok(v)),
            code => Ok(Err((code, v["errmsg"].as_str().unwrap_or_default().to_owned()))),
        }
    }

    /// Calls an `oapi` endpoint with the token in the query (internal apps' tokens work on
    /// both APIs), refreshing it once if refused. `make` builds the request for a token.
    async fn oapi(
        &self,
        tokens: &dyn TokenCache,
        cfg: &DtConfig,
        make: &(dyn Fn(&str) -> reqwest::RequestBuilder + Send + Sync),
    ) -> Result<Value, SendError> {
        let fetch = Fetch { client: self, cfg };
        let key = cfg.token_key();
        let mut token = tokens.get(&key, &fetch).await?;
        for attempt in 0..2 {
            match self.read_oapi(make(&token)).await? {
                Ok(v) => return Ok(v),
                Err((code, _)) if is_token_error(code) && attempt == 0 => {
                    token = tokens.refresh(&key, &token, &fetch).await?
                }
                Err((code, msg)) => return Err(oapi_error(code, &msg)),
            }
        }
        Err(SendError::retryable("access token 刷新后仍无效"))
    }

    /// The user's unionId, mobile (empty without the phone permission) and name.
    pub async fn user(
        &self,
        tokens: &dyn TokenCache,
        cfg: &DtConfig,
        userid: &str,
    ) -> Result<DtUser, SendError> {
        let body = json!({ "userid": userid, "language": "zh_CN" });
        let url = format!("{}/topapi/v2/user/get", cfg.oapi_base);
        let v = self
            .oapi(tokens, cfg, &|t| self.http.post(format!("{url}?access_token={t}")).json(&body))
            .await?;
        let r = &v["result"];
        let some = |k: &str| r[k].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        Ok(DtUser { union_id: some("unionid"), mobile: some("mobile"), name: some("name") })
    }

    /// Uploads an image kefu holds; the returned media id (`@…`) is a valid photoURL.
    pub async fn upload(
        &self,
        tokens: &dyn TokenCache,
        cfg: &DtConfig,
        media: &Media,
    ) -> Result<String, SendError> {
        let url = format!("{}/media/upload", cfg.oapi_base);
        let make = |t: &str| {
            let part = reqwest::multipart::Part::bytes(media.bytes.clone())
                .file_name(media.filename.clone())
                .mime_str(&media.mime)
                .unwrap_or_else(|_| reqwest::multipart::Part::bytes(media.bytes.clone()));
            self.http
                .post(format!("{url}?access_token={t}&type=image"))
                .multipart(reqwest::multipart::Form::new().part("media", part))
        };
        let v = self.oapi(tokens, cfg, &make).await?;
        v["media_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SendError::retryable("upload response without media_id"))
    }

    /// Posts to a sessionWebhook (no token). Any refusal means the session is unusable and the
    /// caller should fall back to the send API.
    pub async fn session_send(&self, webhook: &str, body: &Value) -> Result<(), SendError> {
        match self.read_oapi(self.http.post(webhook).json(body)).await? {
            Ok(_) => Ok(()),
            Err((code, msg)) => Err(SendError::permanent(format!("sessionWebhook 不可用 ({code}: {msg})"))),
        }
    }

    /// Forces a token fetch through the cache; used by the connectivity test.
    pub async fn check_token(&self, tokens: &dyn TokenCache, cfg: &DtConfig) -> Result<(), SendError> {
        tokens.get(&cfg.token_key(), &Fetch { client: self, cfg }).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_retry_decisions() {
        assert!(matches!(
            api_error(429, "Throttling", ""),
            SendError::Retryable { retry_after: Some(_), .. }
        ));
        assert!(matches!(api_error(503, "", ""), SendError::Retryable { .. }));
        assert!(matches!(api_error(400, "param.error", "bad"), SendError::Permanent { .. }));
        assert!(matches!(oapi_error(90018, "too fast"), SendError::Retryable { .. }));
        assert!(
            matches!(oapi_error(60121, ""), SendError::Permanent { ref reason } if reason.contains("找不到"))
        );
        assert!(is_token_error(40014) && !is_token_error(60121));
    }
}
