//! DingTalk's robot-message signature, `Base64(HMAC-SHA256(appSecret, timestamp + "\n" +
//! appSecret))`, and the opaque ids DingTalk puts in robot messages.
//!
//! HMAC is written out here (RFC 2104 over the sim's `sha2`) rather than taken from a crate
//! kefu's adapter might also use: the simulator is the independent party, see `crypto.rs`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};

const BLOCK: usize = 64;

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The `sign` header of a robot message pushed at `timestamp_ms`.
pub fn robot_sign(app_secret: &str, timestamp_ms: &str) -> String {
    let msg = format!("{timestamp_ms}\n{app_secret}");
    STANDARD.encode(hmac_sha256(app_secret.as_bytes(), msg.as_bytes()))
}

/// A stable opaque id derived from its parts, so the same person gets the same encrypted-looking
/// id in every message, as with DingTalk.
fn opaque(parts: &[&str], len: usize) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let mut s = URL_SAFE_NO_PAD.encode(h.finalize());
    s.truncate(len);
    s
}

/// `senderId`: robot-specific and encrypted, never a person key.
pub fn sender_id(app_key: &str, staff_id: &str) -> String {
    format!("$:LWCP_v1:${}", opaque(&["sender", app_key, staff_id], 32))
}

/// `chatbotUserId`, also the robot's `dingtalkId` in `atUsers`.
pub fn chatbot_user_id(app_key: &str) -> String {
    format!("$:LWCP_v1:${}", opaque(&["robot", app_key], 32))
}

/// `conversationId` of a one-to-one chat.
pub fn direct_conversation_id(app_key: &str, staff_id: &str) -> String {
    format!("cid{}==", opaque(&["direct", app_key, staff_id], 28))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hex;

    #[test]
    fn hmac_matches_rfc_4231_for_short_and_long_keys() {
        let short = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&short), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let long = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(hex(&long), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn the_robot_sign_matches_the_documented_sample_inputs() {
        assert_eq!(
            robot_sign("this is a secret", "1577262236757"),
            "DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA="
        );
        let secret = "hJgL2f9QYmTwuuiXazTNiol7qo5WlxC4udxihHBaFaPSe0XH3kqfRGrF9nvMzQV2";
        assert_eq!(robot_sign(secret, "1577262236757"), "JnEOqIPEXSE0Q7cHyYSsx7l+AfDnVk6TG3fXVr0+Vmw=");
        assert_eq!(
            robot_sign("test_secret_xyz", "1700000000000"),
            "xgBE9S31fHMAv3J6Q8QwOUxLSWLEYn9BXCSN0SCIUqA="
        );
    }

    #[test]
    fn opaque_ids_are_stable_per_person_and_robot() {
        assert_eq!(sender_id("a", "u1"), sender_id("a", "u1"));
        assert_ne!(sender_id("a", "u1"), sender_id("b", "u1"));
        assert!(chatbot_user_id("a").starts_with("$:LWCP_v1:$"));
        assert!(direct_conversation_id("a", "u1").starts_with("cid"));
    }
}
