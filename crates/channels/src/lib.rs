//! Channel adapters: one module per platform, each turning its wire protocol into kefu's model.

pub mod outbound;
pub mod webchat;

pub use outbound::{Outbound, SendError, Sent};
