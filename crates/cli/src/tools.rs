//! Operator tools: the channel connectivity test, and playing a WeChat or DingTalk user in the
//! sandbox.

use std::sync::Arc;

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
    /// Send a message as a WeChat user; prints kefu's passive reply, if any.
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
    },
    /// Show everything kefu sent to a sandbox user.
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
        SimCmd::Say { sim, channel, account, user, text } => {
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
            let url = format!("{}{path}", sim.trim_end_matches('/'));
            let d: Value = http.post(url).json(&body).send().await?.error_for_status()?.json().await?;
            println!("{}", serde_json::to_string_pretty(&d)?);
        }
        SimCmd::Inbox { sim, user } => {
            let url = format!("{}/sim/api/inbox/{user}", sim.trim_end_matches('/'));
            let items: Value = http.get(url).send().await?.error_for_status()?.json().await?;
            for r in items.as_array().into_iter().flatten() {
                println!(
                    "[{}] {} {}",
                    r["via"].as_str().unwrap_or(""),
                    r["msgtype"].as_str().unwrap_or(""),
                    r["content"]
                );
            }
        }
    }
    Ok(())
}
