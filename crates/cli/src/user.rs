//! `kefu user …`: accounts for operators and scripts, on the configured database, also while
//! the server runs (the changes are ordinary transactions; with `nats_url` set, disabling or a
//! new password closes the account's open workbenches on every node at once).

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use kefu_domain::{Role, SystemClock};
use kefu_server::App;
use kefu_store::{AccountChange, AccountStore, AgentStore, NewAgent};

use crate::Common;

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create an account. Without --password-stdin a random password is printed once.
    Add {
        username: String,
        #[arg(long, default_value = "agent")]
        role: Role,
        /// A skill group by name (repeat for several); it must exist.
        #[arg(long = "group")]
        groups: Vec<String>,
        /// The name customers see; defaults to the username.
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, default_value_t = 5)]
        capacity: u32,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        common: Common,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Set a new password (from standard input with --password-stdin, else a printed random one);
    /// ends the account's sessions.
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Disable an account: it cannot log in, its sessions end, its conversations go back to routing.
    Disable {
        username: String,
        #[command(flatten)]
        common: Common,
    },
    /// Enable a disabled account again.
    Enable {
        username: String,
        #[command(flatten)]
        common: Common,
    },
}

async fn open(common: &Common) -> anyhow::Result<App> {
    App::build(common.load()?, Arc::new(SystemClock)).await
}

/// The password from stdin, or a random one that is printed.
fn password(from_stdin: bool) -> anyhow::Result<String> {
    if !from_stdin {
        let p = kefu_server::seed::random_password();
        println!("password: {p}");
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password")?;
    let p = line.trim_end_matches(['\r', '\n']).to_owned();
    if let Some(why) = kefu_server::passwords::problem(&p, None) {
        bail!("{why}");
    }
    Ok(p)
}

pub async fn run(cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add { username, role, groups, display_name, capacity, password_stdin, common } => {
            let app = open(&common).await?;
            let all = app.store.skill_groups().await?;
            let mut skill_groups = vec![];
            for name in &groups {
                let Some(g) = all.iter().find(|g| g.name == *name) else { bail!("no skill group {name:?}") };
                skill_groups.push(g.id);
            }
            let password = password(password_stdin)?;
            let new = NewAgent {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                password_hash: kefu_server::auth::hash_password(&password)?,
                role,
                capacity,
                skill_groups,
            };
            let a = app.state.store.create_agent(new, app.state.clock.now()).await?;
            println!("created {} ({}, id {})", a.username, a.role.as_str(), a.id);
        }
        UserCmd::List { common } => {
            let app = open(&common).await?;
            let groups = app.store.skill_groups().await?;
            println!("{:<6} {:<20} {:<10} {:<9} {:<8} groups", "id", "username", "role", "status", "enabled");
            for a in app.store.agents().await? {
                let names: Vec<&str> = groups
                    .iter()
                    .filter(|g| a.skill_groups.contains(&g.id))
                    .map(|g| g.name.as_str())
                    .collect();
                let enabled = if a.disabled { "no" } else { "yes" };
                let status = a.status.as_str();
                println!(
                    "{:<6} {:<20} {:<10} {:<9} {:<8} {}",
                    a.id,
                    a.username,
                    a.role.as_str(),
                    status,
                    enabled,
                    names.join(",")
                );
            }
        }
        UserCmd::Passwd { username, password_stdin, common } => {
            let app = open(&common).await?;
            let hash = kefu_server::auth::hash_password(&password(password_stdin)?)?;
            change(&app, &username, AccountChange { password_hash: Some(hash), ..Default::default() })
                .await?;
        }
        UserCmd::Disable { username, common } => {
            let app = open(&common).await?;
            change(&app, &username, AccountChange { disabled: Some(true), ..Default::default() }).await?;
        }
        UserCmd::Enable { username, common } => {
            let app = open(&common).await?;
            change(&app, &username, AccountChange { disabled: Some(false), ..Default::default() }).await?;
        }
    }
    Ok(())
}

async fn change(app: &App, username: &str, change: AccountChange) -> anyhow::Result<()> {
    let agent =
        app.store.agent_by_username(username).await.with_context(|| format!("no account {username:?}"))?;
    let a = app.state.engine.change_account(agent.id, &change).await?;
    println!("{}: {}", a.username, if a.disabled { "disabled" } else { "enabled" });
    app.store.close().await;
    Ok(())
}
