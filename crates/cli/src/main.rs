//! The `kefu` binary: a thin layer that reads flags and configuration and starts the server.

mod kb;
mod run;
mod tools;
mod user;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use kefu_server::Config;

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
    /// Run a throw-away demo: fresh SQLite, demo agents and channels, the WeChat and DingTalk
    /// sandbox.
    Demo(run::DemoArgs),
    /// Bring the database schema up to date and exit.
    Migrate(Common),
    /// Channel tools.
    #[command(subcommand)]
    Channel(tools::ChannelCmd),
    /// Knowledge-base tools: evaluation of the bot.
    #[command(subcommand)]
    Kb(kb::KbCmd),
    /// Play a WeChat or DingTalk user against a running sandbox (started by `kefu demo`).
    #[command(subcommand)]
    Sim(tools::SimCmd),
    /// Accounts: add, list, passwd, disable, enable (also while the server runs).
    #[command(subcommand)]
    User(user::UserCmd),
}

#[derive(Args, Clone)]
pub struct Common {
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
    pub fn load(&self) -> anyhow::Result<Config> {
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
        let config = Config::load(self.config.as_deref(), &flags)
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        init_logging(&config);
        Ok(config)
    }
}

/// Logs go to stderr: coloured only on a terminal without `NO_COLOR`, or as JSON lines.
fn init_logging(config: &Config) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log_format {
        kefu_server::LogFormat::Json => builder.json().flatten_event(true).try_init(),
        kefu_server::LogFormat::Text => {
            let colour = colour_wanted(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR"));
            builder.with_ansi(colour).try_init()
        }
    };
}

/// <https://no-color.org>: any non-empty `NO_COLOR` turns colour off.
fn colour_wanted(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(c) => run::serve(c.load()?, run::Extras::default()).await,
        Command::Demo(d) => run::demo(&d).await,
        Command::Migrate(c) => run::migrate(c.load()?).await,
        Command::Channel(cmd) => tools::channel(cmd).await,
        Command::Sim(cmd) => tools::sim(cmd).await,
        Command::Kb(cmd) => kb::run(cmd),
        Command::User(cmd) => user::run(cmd).await,
    }
}

#[cfg(test)]
mod tests {
    use super::colour_wanted;

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color_set() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some("".into())), "an empty NO_COLOR does not count");
        assert!(!colour_wanted(true, Some("1".into())));
        assert!(!colour_wanted(false, None), "files and pipes get no escape codes");
    }
}
