//! Operator tools: the channel connectivity test, and playing a WeChat or DingTalk user in the
//! sandbox.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use kefu_domain::{Clock, SystemClock};
use kefu_server::App;
use serde_json::{Value, json};

use crate::Common;

#[derive(Subcommand)]
pub enum ChannelCmd {
    /// 连通性测试: send Chinese text, an image and emoji through a channel and report each step.
    Test {
        #[command(flatten)]
        common: Common,
        /// The channel key (as in its callback URL).
        #[arg(long)]
        key: String,
        /// Who receives the test: an OpenID, external_userid or member UserID.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
pub enum SimCmd {
    /// Send a message as a WeChat or DingTalk user; prints kefu's replies as they arrive
    /// (passive replies, API sends and DingTalk sessionWebhook messages alike).
    Say {
        /// The sandbox's URL, as printed by `kefu demo`.
        #[arg(long)]
        sim: String,
        /// oa (公众号), kf (微信客服), wecom (企业微信 app) or dingtalk (钉钉机器人; the user is a
        /// staff id such as dt_wanglei).
        #[arg(long, default_value = "oa")]
        channel: String,
        /// App id, open_kfid, corp id or DingTalk app key; defaults to the demo account.
        #[arg(long)]
        account: Option<String>,
        #[arg(long, default_value = "o_demo_xiaoming")]
        user: String,
        /// The text; `event:subscribe` sends an event instead.
        text: String,
        /// How long to wait for kefu's first reply, in seconds (0: do not wait).
        #[arg(long, default_value_t = 5)]
        wait: u64,
    },
    /// Show everything kefu sent to a sandbox user (WeChat OpenID, userid or DingTalk staff id).
    Inbox {
        #[arg(long)]
        sim: String,
        #[arg(long, default_value = "o_demo_xiaoming")]
        user: String,
    },
}

pub async fn channel(cmd: ChannelCmd) -> anyhow::Result<()> {
    let ChannelCmd::Test { common, key, to } = cmd;
    let config = common.load()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = App::build(config, clock.clone()).await?;
    let state = &app.state;
    let ch =
        state.store.channel_by_key(&key).await.with_context(|| format!("no channel with key {key:?}"))?;
    let sender = state.senders.get(ch.kind).context("this channel kind has no connectivity test")?;
    let report = kefu_engine::connectivity::run(
        state.store.as_ref(),
        &state.platforms,
        sender.as_ref(),
        &ch,
        &to,
        clock.now(),
    )
    .await;
    for s in &report.steps {
        println!("{} {}：{}", if s.ok { "✅" } else { "❌" }, s.name, s.detail);
    }
    app.store.close().await;
    if !report.ok {
        bail!("connectivity test failed");
    }
    Ok(())
}

fn sim_path(channel: &str, account: Option<String>, user: &str) -> anyhow::Result<String> {
    Ok(match channel {
        "oa" => format!(
            "/sim/api/oa/{}/users/{user}/messages",
            account.unwrap_or_else(|| "wxdemo0000000001".into())
        ),
        "kf" => format!(
            "/sim/api/kf/{}/customers/{user}/messages",
            account.unwrap_or_else(|| "wkdemo0000000001".into())
        ),
        "wecom" => format!(
            "/sim/api/wecom/{}/members/{user}/messages",
            account.unwrap_or_else(|| "wwdemo0000000001".into())
        ),
        other => bail!("unknown channel {other:?}: use oa, kf, wecom or dingtalk"),
    })
}

pub async fn sim(cmd: SimCmd) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    match cmd {
        SimCmd::Say { sim, channel, account, user, text, wait } => {
            let sim = sim.trim_end_matches('/');
            let (path, body) = if channel == "dingtalk" {
                let app_key = account.unwrap_or_else(|| "dingdemo00000001".into());
                (
                    "/sim/api/dingtalk/say".to_owned(),
                    json!({ "app_key": app_key, "staff_id": user, "text": text }),
                )
            } else {
                let body = match text.strip_prefix("event:") {
                    Some(event) => json!({ "type": "event", "event": event }),
                    None => json!({ "type": "text", "content": text }),
                };
                (sim_path(&channel, account, &user)?, body)
            };
            let seen = inbox(&http, sim, &user).await?.len();
            let d: Value = http
                .post(format!("{sim}{path}"))
                .json(&body)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            if d["ok"] == json!(false) {
                bail!("kefu did not accept the message: {}", d["error"].as_str().unwrap_or("no answer"));
            }
            println!("sent; waiting up to {wait} s for kefu's reply (kefu 的回复)…");
            let shown = follow(&http, sim, &user, seen, Duration::from_secs(wait)).await?;
            if shown == 0 && wait > 0 {
                println!("no reply yet; `kefu sim inbox --sim {sim} --user {user}` shows later ones");
            }
        }
        SimCmd::Inbox { sim, user } => {
            for r in inbox(&http, sim.trim_end_matches('/'), &user).await? {
                println!("{}", line(&r));
            }
        }
    }
    Ok(())
}

async fn inbox(http: &reqwest::Client, sim: &str, user: &str) -> anyhow::Result<Vec<Value>> {
    let url = format!("{sim}/sim/api/inbox/{user}");
    let items: Value = http.get(url).send().await?.error_for_status()?.json().await?;
    Ok(items.as_array().cloned().unwrap_or_default())
}

/// Prints what arrives after the first `seen` items: waits up to `wait` for the first one, then
/// until a second passes quietly (a hand-off sends several). Returns how many were printed.
async fn follow(
    http: &reqwest::Client,
    sim: &str,
    user: &str,
    mut seen: usize,
    wait: Duration,
) -> anyhow::Result<usize> {
    let start = std::time::Instant::now();
    let mut last = None::<std::time::Instant>;
    let mut shown = 0;
    loop {
        let items = inbox(http, sim, user).await?;
        for r in items.iter().skip(seen) {
            println!("{}", line(r));
            shown += 1;
            last = Some(std::time::Instant::now());
        }
        seen = seen.max(items.len());
        let done = match last {
            Some(t) => t.elapsed() >= Duration::from_secs(1),
            None => start.elapsed() >= wait,
        };
        if done {
            return Ok(shown);
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// One received message as `[via] msgtype: text`, the text pulled out of the platform's JSON.
fn line(r: &Value) -> String {
    let via = r["via"].as_str().unwrap_or("");
    let msgtype = r["msgtype"].as_str().unwrap_or("");
    format!("[{via}] {msgtype}: {}", readable(&r["content"]))
}

fn readable(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            for key in ["content", "Content", "text", "title"] {
                if let Some(inner) = o.get(key) {
                    return readable(inner);
                }
            }
            v.to_string()
        }
        _ => v.to_string(),
    }
}
