//! Configuration, layered: embedded defaults, then a TOML file, then `KEFU_…` variables, then flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The defaults, also shipped as documentation of every setting.
pub const DEFAULTS: &str = include_str!("../kefu.default.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Where kefu keeps its SQLite database and secret key by default.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `<data_dir>/kefu.db`.
    pub database_url: String,
    /// Base64 of 32 bytes that encrypts platform secrets at rest; empty means the key file
    /// `<data_dir>/secret.key`, created on first start.
    pub secret_key: String,
    /// The URL customers and platforms reach kefu at, for printed links and callback URLs.
    pub public_url: String,
    /// Largest request body accepted on any endpoint, in bytes.
    pub max_body_bytes: usize,
    /// Mark cookies `Secure`; turn on whenever kefu is served over HTTPS.
    pub secure_cookies: bool,
    pub session_ttl_minutes: u64,
    /// Log filter, in `tracing` syntax.
    pub log: String,
    /// `text` (coloured only on a terminal, and never with `NO_COLOR`) or `json`, one object
    /// per line for log collectors.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Where `kefu demo` runs its platform sandbox; empty picks a free port on 127.0.0.1.
    #[serde(default)]
    pub sandbox_bind: String,
    /// How often the webhook worker runs, in milliseconds; 0 turns it off on this node.
    pub webhook_poll_ms: u64,
    /// The FAQ bot: thresholds and the wording of its own replies.
    #[serde(default)]
    pub bot: kefu_engine::bot::BotConfig,
    /// Routing and lifecycle messages: queue, leave-message, closing, idle timeout, survey.
    #[serde(default)]
    pub routing: kefu_engine::routing::RoutingConfig,
    /// Where Prometheus scrapes `/metrics`; empty turns that listener off.
    #[serde(default)]
    pub metrics_bind: String,
    /// With a token, `/metrics` is also served on `bind`, to `Authorization: Bearer <token>` only.
    #[serde(default)]
    pub metrics_token: String,
    /// Proxies (nginx) whose `X-Forwarded-For` names the client and whose connections are not
    /// capped per address.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// NATS server for events across nodes (`nats://127.0.0.1:4222`); empty: one node, events
    /// stay in this process.
    #[serde(default)]
    pub nats_url: String,
    /// Subject prefix on NATS, so several deployments (or tests) can share one server.
    #[serde(default = "kefu_prefix")]
    pub nats_prefix: String,
    /// How long a WeChat callback waits for the bot's answer to return it as the passive reply.
    #[serde(default = "passive_budget")]
    pub passive_budget_ms: u64,
    /// Run the job runner and the outbox worker on this node (tests drive them by hand).
    #[serde(default = "yes")]
    pub workers: bool,
    /// Timeouts and caps against slow, silent and flooding clients.
    #[serde(default)]
    pub limits: Limits,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

fn yes() -> bool {
    true
}

fn kefu_prefix() -> String {
    "kefu".into()
}

fn passive_budget() -> u64 {
    3_500
}

/// Abuse limits; see `kefu.default.toml` for what each means.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub header_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub body_timeout_secs: u64,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub visitor_burst: u32,
    pub visitor_per_minute: u32,
    pub new_visitors_per_ip_per_hour: u32,
    pub login_failures: u32,
    pub login_window_minutes: u64,
    /// Password hashes computed at once (0: one per core); more wait, and a long queue is refused.
    pub password_hashers: usize,
    /// Days after which a password must be changed at the next login (0: never).
    pub password_max_age_days: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout_secs: 10,
            idle_timeout_secs: 90,
            body_timeout_secs: 30,
            max_connections: 20_000,
            max_connections_per_ip: 256,
            visitor_burst: 10,
            visitor_per_minute: 30,
            new_visitors_per_ip_per_hour: 60,
            login_failures: 5,
            login_window_minutes: 15,
            password_hashers: 0,
            password_max_age_days: 0,
        }
    }
}

impl Config {
    /// Reads the layers. `file` is optional; `overrides` are the command-line flags that were given.
    pub fn load(file: Option<&Path>, overrides: &[(&str, String)]) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Toml::string(DEFAULTS));
        if let Some(f) = file {
            fig = fig.merge(Toml::file_exact(f));
        }
        // `KEFU_LIMITS__IDLE_TIMEOUT_SECS` sets `limits.idle_timeout_secs`.
        fig = fig.merge(Env::prefixed("KEFU_").split("__").ignore(&["test_database_url", "test_nats_url"]));
        for (key, value) in overrides {
            fig = fig.merge(Serialized::default(key, value));
        }
        fig.extract().map_err(Box::new)
    }

    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("kefu.db").display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn base_url(&self, local: SocketAddr) -> String {
        if self.public_url.is_empty() {
            format!("http://{local}")
        } else {
            self.public_url.trim_end_matches('/').to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_layers_override_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kefu.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\nmax_body_bytes = 2048\nlog = \"debug\"\n").unwrap();
        let c = Config::load(Some(&file), &[("log", "warn".into())]).unwrap();
        assert_eq!(c.bind.port(), 9000);
        assert_eq!(c.max_body_bytes, 2048);
        assert_eq!(c.log, "warn");
        assert_eq!(c.database_url(), format!("sqlite://{}", c.data_dir.join("kefu.db").display()));
    }

    #[test]
    fn a_missing_config_file_is_an_error_not_a_silent_default() {
        assert!(Config::load(Some(Path::new("/nonexistent/kefu.toml")), &[]).is_err());
    }
}
