//! `kefu serve`, `kefu demo` and `kefu migrate`.

use std::sync::Arc;

use anyhow::Context;
use kefu_domain::{Clock, SystemClock};
use kefu_server::seed::Login;
use kefu_server::{App, Config};

use crate::Common;

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

fn print_logins(logins: &[Login]) {
    if logins.is_empty() {
        return;
    }
    println!("logins (登录账号):");
    for l in logins {
        println!("  {:<11} {:<8} / {}", l.role.as_str(), l.username, l.password);
    }
}

pub async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = App::build(config.clone(), clock.clone()).await?;
    let store = app.state.store.clone();
    let logins = if demo {
        let logins = kefu_server::seed::demo(store.as_ref(), clock.as_ref()).await?;
        kefu_server::seed::demo_faq(store.as_ref(), clock.as_ref()).await?;
        app.state.engine.bot().refresh(store.as_ref()).await?;
        logins
    } else {
        kefu_server::seed::bootstrap(store.as_ref(), clock.as_ref()).await?.into_iter().collect()
    };
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    let base = config.base_url(listener.local_addr()?);
    let sandbox = if demo {
        let sim = kefu_sim::start(kefu_sim::SimConfig::demo(), clock.clone()).await?;
        kefu_server::seed::sandbox(store.as_ref(), clock.as_ref(), &sim, &base).await?;
        Some(sim)
    } else {
        None
    };
    print_logins(&logins);
    // Scripts and tests read the port from this line; the "demo site" line ends the banner.
    println!("kefu listening on {base}");
    println!("  workbench (客服工作台): {base}/");
    if let Some(sim) = &sandbox {
        println!("  platform sandbox, play a WeChat or DingTalk user (微信/钉钉沙箱): {}/sim/", sim.base_url);
        println!("    or from a shell: kefu sim say --sim {} --user o_demo_xiaoming 你好", sim.base_url);
        println!(
            "    DingTalk (钉钉): kefu sim say --sim {} --channel dingtalk --user dt_wanglei 你好",
            sim.base_url
        );
    }
    println!("  demo site with the chat widget (示例官网): {base}/demo");
    app.serve(listener, shutdown_signal()).await
}

pub async fn demo(c: &Common) -> anyhow::Result<()> {
    let mut config = c.load()?;
    // A demo always starts empty: its own data directory unless one was given.
    let tmp = tempfile::Builder::new().prefix("kefu-demo-").tempdir()?;
    if c.data_dir.is_none() {
        config.data_dir = tmp.path().to_path_buf();
    }
    config.database_url = String::new();
    println!("demo data in {}", config.data_dir.display());
    serve(config, true).await
}

pub async fn migrate(config: Config) -> anyhow::Result<()> {
    let app = App::build(config, Arc::new(SystemClock)).await?;
    app.store.close().await;
    println!("database is up to date");
    Ok(())
}
