//! Channel adapters: one module per platform, each turning its wire protocol into kefu's model.

pub mod dingtalk;
pub mod outbound;
pub mod platform;
pub mod rules;
pub mod sandbox;
pub mod webchat;
pub mod webhook;
pub mod wechat;
pub mod wxcrypto;

pub use outbound::{Outbound, SendError, Sent};
