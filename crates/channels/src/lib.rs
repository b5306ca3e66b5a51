//! Channel adapters: one module per platform, each turning its wire protocol into kefu's model.

pub mod dingtalk;
pub mod netguard;
pub mod outbound;
pub mod platform;
pub mod rules;
pub mod sandbox;
pub mod sms;
pub mod webchat;
pub mod webhook;
pub mod wechat;
pub mod wxcrypto;

pub use outbound::{Outbound, SendError, Sent};

/// Percent-encoding as the cloud vendors sign it (RFC 3986): `A–Z a–z 0–9 - _ . ~` stay, every other
/// UTF-8 byte becomes `%XY` in upper-case hex (a space is `%20`, never `+`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
