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
    /// Someone else changed the row first; the caller may re-read and retry.
    #[error("concurrent update")]
    Concurrent,
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("secret encryption: {0}")]
    Crypto(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
