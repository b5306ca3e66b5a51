//! Errors of the simulator's own Rust and control API (platform API errors are errcodes,
//! see `api.rs`).

use crate::crypto::CryptoError;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot bind {addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("no such account: {0}")]
    UnknownAccount(String),
    #[error("no callback URL configured for {0}")]
    NoCallbackUrl(String),
    #[error("invalid callback URL {0:?}")]
    BadCallbackUrl(String),
    #[error("bad configuration: {0}")]
    Config(String),
    #[error("cannot simulate this: {0}")]
    Unsupported(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("HTTP client: {0}")]
    Http(String),
}

impl SimError {
    /// The HTTP status the control API answers with.
    pub fn status(&self) -> u16 {
        match self {
            SimError::UnknownAccount(_) => 404,
            SimError::NoCallbackUrl(_) => 409,
            SimError::BadCallbackUrl(_) | SimError::Unsupported(_) => 400,
            _ => 500,
        }
    }
}
