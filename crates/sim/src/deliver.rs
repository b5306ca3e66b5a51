//! The platform's push side over HTTP: a per-attempt timeout and retries with the very same
//! query and body, the way WeChat retries a callback that did not answer in time.

use crate::error::SimError;
use crate::faults::bump;
use crate::state::Sim;
use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use std::time::Duration;

/// What the last attempt of a push got.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub attempts: u32,
    pub status: Option<u16>,
    /// The body of an HTTP 200 answer; `None` if no attempt got one.
    pub body: Option<String>,
    pub error: Option<String>,
}

/// `base` plus the given query parameters, percent-encoded (`+ / =` in echostr included).
pub fn with_query(base: &str, params: &[(&str, &str)]) -> Result<Url, SimError> {
    let mut url = Url::parse(base).map_err(|_| SimError::BadCallbackUrl(base.to_owned()))?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    Ok(url)
}

fn timeout(sim: &Sim) -> Duration {
    Duration::from_millis(sim.config.callback_timeout_ms.max(1))
}

/// One push request: the same bytes go out on every attempt.
pub struct Push<'a> {
    pub url: &'a Url,
    pub body: &'a str,
    pub content_type: &'a str,
    /// Extra headers (DingTalk's `timestamp` and `sign`).
    pub headers: &'a [(&'a str, String)],
}

/// POSTs XML until an attempt answers HTTP 200 or the attempts run out.
pub async fn post(sim: &Sim, account: &str, url: &Url, body: &str) -> Outcome {
    let push = Push { url, body, content_type: "text/xml; charset=utf-8", headers: &[] };
    send(sim, account, &push).await
}

/// POSTs until an attempt answers HTTP 200 or the attempts run out.
pub async fn send(sim: &Sim, account: &str, push: &Push<'_>) -> Outcome {
    let mut out = Outcome::default();
    let attempts = sim.config.callback_attempts.max(1);
    while out.attempts < attempts {
        out.attempts += 1;
        {
            let mut inner = sim.lock();
            inner.stats.callback_attempts += 1;
            bump(&mut inner.stats.callback_attempts_by_account, account);
        }
        let mut req = sim
            .http
            .post(push.url.clone())
            .header(CONTENT_TYPE, push.content_type)
            .timeout(timeout(sim))
            .body(push.body.to_owned());
        for (name, value) in push.headers {
            req = req.header(*name, value);
        }
        match attempt(req).await {
            Ok((200, text)) => {
                out.status = Some(200);
                out.body = Some(text);
                out.error = None;
                return out;
            }
            Ok((status, _)) => {
                out.status = Some(status);
                out.error = Some(format!("HTTP {status}"));
            }
            Err(e) => out.error = Some(e),
        }
        tracing::debug!(account, attempt = out.attempts, error = ?out.error, "callback attempt failed");
    }
    sim.lock().stats.callback_failures += 1;
    out
}

/// One GET (URL verification is not retried).
pub async fn get(sim: &Sim, url: &Url) -> Outcome {
    let req = sim.http.get(url.clone()).timeout(timeout(sim));
    let mut out = Outcome { attempts: 1, ..Outcome::default() };
    match attempt(req).await {
        Ok((status, text)) => {
            out.status = Some(status);
            out.body = Some(text);
        }
        Err(e) => out.error = Some(e),
    }
    out
}

async fn attempt(req: reqwest::RequestBuilder) -> Result<(u16, String), String> {
    let res = req.send().await.map_err(describe)?;
    let status = res.status().as_u16();
    let text = res.text().await.map_err(describe)?;
    Ok((status, text))
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection refused".to_owned()
    } else {
        e.to_string()
    }
}
