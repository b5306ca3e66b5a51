//! `kefu serve`, `kefu demo` and `kefu migrate`.

use std::sync::Arc;

use anyhow::Context;
use kefu_domain::{Clock, SystemClock};
use kefu_server::seed::Login;
use kefu_server::{App, Config};

use crate::Common;

/// `kefu demo`: the common flags plus where the sandbox listens and an optional history.
#[derive(clap::Args, Clone)]
pub struct DemoArgs {
    #[command(flatten)]
    pub common: Common,
    /// Address of the platform sandbox, e.g. 127.0.0.1:41234 (default: a free port, chosen at
    /// random on every run; config key `sandbox_bind`).
    #[arg(long)]
    pub sandbox_bind: Option<std::net::SocketAddr>,
    /// Fill the last seven days with realistic history (several channels, agents, ratings,
    /// leave-messages) so the dashboard and reports show something at once.
    #[arg(long)]
    pub seed_history: bool,
}

/// What `serve` sets up beyond the configured server.
#[derive(Default)]
pub struct Extras {
    demo: bool,
    seed_history: bool,
}

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

pub async fn serve(config: Config, extras: Extras) -> anyhow::Result<()> {
    let demo = extras.demo;
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
        let mut sim_config = kefu_sim::SimConfig::demo();
        if !config.sandbox_bind.is_empty() {
            sim_config.bind = config.sandbox_bind.parse().context("sandbox_bind")?;
        }
        let sim = kefu_sim::start(sim_config, clock.clone()).await?;
        kefu_server::seed::sandbox(store.as_ref(), clock.as_ref(), &sim, &base).await?;
        if extras.seed_history {
            let n = kefu_server::history::seed_week(store.as_ref(), clock.as_ref()).await?;
            println!("seeded a week of history: {n} conversations (--seed-history)");
        }
        Some(sim)
    } else {
        None
    };
    print_logins(&logins);
    // Scripts and tests read the port from this line; the "demo site" line ends the banner.
    println!("kefu listening on {base}");
    println!("  workbench (客服工作台): {base}/");
    if let Some(sim) = &sandbox {
        let kefu = invocation();
        let url = &sim.base_url;
        println!("  platform sandbox, play a WeChat or DingTalk user (微信/钉钉沙箱): {url}/sim/");
        if config.sandbox_bind.is_empty() {
            println!("    (its port is chosen at random on every run; --sandbox-bind fixes it)");
        }
        println!("    or from a shell: {kefu} sim say --sim {url} --user o_demo_xiaoming 你好");
        println!("    DingTalk (钉钉): {kefu} sim say --sim {url} --channel dingtalk --user dt_wanglei 你好");
    }
    println!("  demo site with the chat widget (示例官网): {base}/demo");
    app.serve(listener, shutdown_signal()).await
}

/// How to run this binary again from the current directory, for the printed examples:
/// `./target/release/kefu` after `cargo build`, `kefu` when it was found on PATH.
fn invocation() -> String {
    let exe = std::env::current_exe().ok();
    let cwd = std::env::current_dir().ok();
    match (exe, cwd) {
        (Some(exe), Some(cwd)) => match exe.strip_prefix(&cwd) {
            Ok(rel) => format!("./{}", rel.display()),
            Err(_) if on_path(&exe) => "kefu".into(),
            Err(_) => exe.display().to_string(),
        },
        _ => "kefu".into(),
    }
}

fn on_path(exe: &std::path::Path) -> bool {
    let Some(dir) = exe.parent() else { return false };
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d == dir))
}

pub async fn demo(d: &DemoArgs) -> anyhow::Result<()> {
    let c = &d.common;
    let mut config = c.load()?;
    if let Some(b) = d.sandbox_bind {
        config.sandbox_bind = b.to_string();
    }
    // A demo always starts empty: its own data directory unless one was given.
    let tmp = tempfile::Builder::new().prefix("kefu-demo-").tempdir()?;
    if c.data_dir.is_none() {
        config.data_dir = tmp.path().to_path_buf();
    }
    config.database_url = String::new();
    println!("demo data in {}", config.data_dir.display());
    serve(config, Extras { demo: true, seed_history: d.seed_history }).await
}

pub async fn migrate(config: Config) -> anyhow::Result<()> {
    let app = App::build(config, Arc::new(SystemClock)).await?;
    app.store.close().await;
    println!("database is up to date");
    Ok(())
}
