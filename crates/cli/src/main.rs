//! The `kefu` binary: a thin layer that reads flags and configuration and starts the server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use kefu_domain::{Clock, SystemClock};
use kefu_server::seed::Login;
use kefu_server::{App, Config};

#[derive(Parser)]
#[command(name = "kefu", version, about = "Self-hosted omnichannel customer service (客服)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server with the configured database.
    Serve(Common),
    /// Run a throw-away demo: fresh SQLite, demo agents and channels, printed logins.
    Demo(Common),
    /// Bring the database schema up to date and exit.
    Migrate(Common),
}

#[derive(Args, Clone)]
struct Common {
    /// TOML configuration file.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 0.0.0.0:8080.
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// sqlite://… or postgres://…
    #[arg(long)]
    database_url: Option<String>,
    /// Directory for the SQLite database and secret key.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl Common {
    fn load(&self) -> anyhow::Result<Config> {
        let mut flags = vec![];
        if let Some(b) = self.bind {
            flags.push(("bind", b.to_string()));
        }
        if let Some(u) = &self.database_url {
            flags.push(("database_url", u.clone()));
        }
        if let Some(d) = &self.data_dir {
            flags.push(("data_dir", d.display().to_string()));
        }
        Config::load(self.config.as_deref(), &flags).map_err(|e| anyhow::anyhow!("configuration: {e}"))
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
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
    for l in logins {
        println!("  {:<11} {:<8} / {}", l.role.as_str(), l.username, l.password);
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = App::build(config.clone(), clock.clone()).await?;
    let logins = if demo {
        kefu_server::seed::demo(app.state.store.as_ref(), clock.as_ref()).await?
    } else {
        kefu_server::seed::bootstrap(app.state.store.as_ref(), clock.as_ref()).await?.into_iter().collect()
    };
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    let base = config.base_url(listener.local_addr()?);
    if !logins.is_empty() {
        println!("logins (登录账号):");
        print_logins(&logins);
    }
    // Scripts and tests read the port from this line; the "demo site" line ends the banner.
    println!("kefu listening on {base}");
    println!("  workbench (客服工作台): {base}/");
    println!("  demo site with the chat widget (示例官网): {base}/demo");
    app.serve(listener, shutdown_signal()).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(c) => {
            let config = c.load()?;
            init_logging(&config.log);
            serve(config, false).await
        }
        Command::Demo(c) => {
            let mut config = c.load()?;
            init_logging(&config.log);
            // A demo always starts empty: its own data directory unless one was given.
            let tmp = tempfile::Builder::new().prefix("kefu-demo-").tempdir()?;
            if c.data_dir.is_none() {
                config.data_dir = tmp.path().to_path_buf();
            }
            config.database_url = String::new();
            println!("demo data in {}", config.data_dir.display());
            serve(config, true).await
        }
        Command::Migrate(c) => {
            let config = c.load()?;
            init_logging(&config.log);
            let app = App::build(config, Arc::new(SystemClock)).await?;
            app.store.close().await;
            println!("database is up to date");
            Ok(())
        }
    }
}
