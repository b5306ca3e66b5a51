//! The SQL store: one implementation of the store traits over SQLite (default) or PostgreSQL.
//!
//! SQLite runs in WAL mode with `synchronous=FULL`, so a committed (acknowledged) message
//! survives a crash, and with one writer connection, so writers queue in-process instead of
//! failing with `SQLITE_BUSY`. Readers use a separate pool and see every committed write.

mod access;
mod accounts;
mod agents;
mod apply;
mod channels;
mod conversation_list;
mod conversations;
mod customers;
pub(crate) mod exec;
mod feed;
mod guard;
mod integrations;
mod jobs;
mod kb;
mod media;
mod messages;
mod outbox;
mod phones;
mod platform;
mod routing;
mod rows;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::{Result, SecretCipher};
use exec::{Conn, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) enum Db {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

pub struct SqlStore {
    db: Db,
    cipher: SecretCipher,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl SqlStore {
    /// Connects to `sqlite://path` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str, cipher: SecretCipher) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(PgConnectOptions::from_str(url)?, cipher).await
        } else {
            Self::connect_sqlite(SqliteConnectOptions::from_str(url)?, cipher).await
        }
    }

    pub async fn connect_sqlite(opts: SqliteConnectOptions, cipher: SecretCipher) -> Result<Self> {
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new().max_connections(1).connect_with(opts.clone()).await?;
        let read = SqlitePoolOptions::new().max_connections(4).connect_with(opts.read_only(false)).await?;
        Ok(SqlStore { db: Db::Sqlite { read, write }, cipher })
    }

    pub async fn connect_postgres(opts: PgConnectOptions, cipher: SecretCipher) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(SqlStore { db: Db::Postgres(pool), cipher })
    }

    /// Brings the schema up to date; safe to run on every start and from several nodes.
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }

    pub(crate) fn reader(&self) -> Conn<'_> {
        match &self.db {
            Db::Sqlite { read, .. } => Conn::SqlitePool(read),
            Db::Postgres(p) => Conn::PgPool(p),
        }
    }

    pub(crate) fn writer(&self) -> Conn<'_> {
        match &self.db {
            Db::Sqlite { write, .. } => Conn::SqlitePool(write),
            Db::Postgres(p) => Conn::PgPool(p),
        }
    }

    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match &self.db {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
            Db::Postgres(p) => Tx::Pg(p.begin().await?),
        })
    }

    pub(crate) fn cipher(&self) -> &SecretCipher {
        &self.cipher
    }
}
