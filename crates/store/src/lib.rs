//! Storage for kefu: the `Store` traits, and one SQL implementation for SQLite and PostgreSQL.

pub mod crypto;
pub mod feed_model;
pub mod model;
mod sql;
mod traits;

pub use crypto::SecretCipher;
pub use feed_model::*;
pub use model::*;
pub use sql::{Backend, SqlStore};
pub use traits::*;

/// Errors a store reports; the server maps them to HTTP status codes without leaking details.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Conflict(String),
    #[error(transparent)]
    Illegal(#[from] kefu_domain::IllegalTransition),
    /// A rule refused the change (the last admin, a job that is not failed); the text says which.
    #[error("{0}")]
    Refused(String),
    /// Someone else changed the row first; the caller may re-read and retry.
    #[error("concurrent update")]
    Concurrent,
    /// The job's lease ran out and another worker took it over; nothing was written.
    #[error("the job's lease was lost")]
    LeaseLost,
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("secret encryption: {0}")]
    Crypto(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Which integrity rule a write broke: the caller's mistake (a taken name, a missing
/// reference), to be answered with a 4xx rather than an internal error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    Unique,
    ForeignKey,
}

impl StoreError {
    pub fn violation(&self) -> Option<Violation> {
        match self {
            StoreError::Db(sqlx::Error::Database(d)) if d.is_unique_violation() => Some(Violation::Unique),
            StoreError::Db(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                Some(Violation::ForeignKey)
            }
            _ => None,
        }
    }

    /// A lost connection, a pool timeout, a busy database: worth retrying shortly.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Db(e) => {
                matches!(
                    e,
                    sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::Io(_)
                        | sqlx::Error::Protocol(_)
                ) || matches!(e, sqlx::Error::Database(d) if d.code().is_some_and(|c| is_transient_code(&c)))
            }
            StoreError::Concurrent => true,
            _ => false,
        }
    }
}

/// SQLite busy/locked, PostgreSQL serialization failure, deadlock, too many connections,
/// admin shutdown and the connection-exception class.
fn is_transient_code(code: &str) -> bool {
    matches!(code, "5" | "6" | "40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03")
        || code.starts_with("08")
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
