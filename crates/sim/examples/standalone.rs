//! Runs the simulator alone with the demo accounts, for poking at it by hand:
//! `cargo run -p kefu-sim --example standalone -- 127.0.0.1:7700 [kefu callback base URL]`.
//! With a base URL, the callbacks go to `{base}/wx/oa/{app_id}`, `{base}/wx/wecom/{corp_id}`,
//! `{base}/wx/kf/{corp_id}`, `{base}/dt/robot/{app_key}` and `{base}/dt/events/{app_key}`;
//! adjust them with PUT /sim/api/callbacks otherwise.

use kefu_domain::{Clock, SystemClock};
use kefu_sim::{CallbackTarget, SimConfig};
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut config = SimConfig::demo();
    if let Some(bind) = args.next() {
        config.bind = bind.parse()?;
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sim = kefu_sim::start(config, clock).await?;
    if let Some(base) = args.next() {
        for oa in &sim.config().oa {
            sim.set_callback_url(
                CallbackTarget::Oa(oa.app_id.clone()),
                &format!("{base}/wx/oa/{}", oa.app_id),
            )?;
        }
        for corp in &sim.config().wecom {
            let id = &corp.corp_id;
            sim.set_callback_url(CallbackTarget::WecomApp(id.clone()), &format!("{base}/wx/wecom/{id}"))?;
            sim.set_callback_url(CallbackTarget::Kf(id.clone()), &format!("{base}/wx/kf/{id}"))?;
        }
        for app in &sim.config().dingtalk {
            let key = &app.app_key;
            sim.set_callback_url(
                CallbackTarget::DingtalkRobot(key.clone()),
                &format!("{base}/dt/robot/{key}"),
            )?;
            sim.set_callback_url(
                CallbackTarget::DingtalkEvents(key.clone()),
                &format!("{base}/dt/events/{key}"),
            )?;
        }
    }
    println!("WeChat / DingTalk simulator: {}/sim/", sim.base_url);
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
