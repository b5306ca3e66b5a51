//! The "WXBizMsgCrypt" envelope shared by WeChat OA safe mode, WeCom and DingTalk event callbacks.
//!
//! Plaintext layout: 16 random bytes ‖ u32 big-endian byte length ‖ message ‖ receive id,
//! padded PKCS#7-style to 32-byte blocks, AES-256-CBC with IV = key[..16], standard Base64.
//! Signatures are SHA-1 over the lexicographically sorted, concatenated parts.

use aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use rand::RngCore;
use sha1::{Digest, Sha1};

/// Real EncodingAESKeys are non-canonical Base64 (their last character carries stray bits),
/// which the strict engine rejects; every platform SDK decodes them leniently.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Padding block size of the scheme (not AES's 16).
const PAD_BLOCK: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptError {
    #[error("EncodingAESKey must be 43 characters of Base64")]
    BadKey,
    #[error("ciphertext is not valid Base64")]
    BadBase64,
    #[error("ciphertext length is not a positive multiple of 16")]
    BadLength,
    #[error("padding is invalid (tampered ciphertext or wrong key)")]
    BadPadding,
    #[error("decrypted layout is inconsistent (tampered ciphertext or wrong key)")]
    BadLayout,
    #[error("the message is addressed to another app (receive id mismatch)")]
    WrongReceiver,
    #[error("the message is not valid UTF-8")]
    NotUtf8,
}

#[derive(Clone)]
pub struct MsgCrypt {
    key: [u8; 32],
    receive_id: String,
}

impl std::fmt::Debug for MsgCrypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsgCrypt").field("receive_id", &self.receive_id).finish_non_exhaustive()
    }
}

impl MsgCrypt {
    pub fn new(encoding_aes_key: &str, receive_id: impl Into<String>) -> Result<Self, CryptError> {
        if encoding_aes_key.len() != 43 || !encoding_aes_key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CryptError::BadKey);
        }
        let bytes = LENIENT.decode(format!("{encoding_aes_key}=")).map_err(|_| CryptError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptError::BadKey)?;
        Ok(MsgCrypt { key, receive_id: receive_id.into() })
    }

    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    pub fn encrypt(&self, msg: &str) -> String {
        let mut random = [0u8; 16];
        rand::rng().fill_bytes(&mut random);
        self.encrypt_with(msg, &random)
    }

    /// Encryption with a chosen random prefix, for reproducing published test vectors.
    pub fn encrypt_with(&self, msg: &str, random: &[u8; 16]) -> String {
        let id = self.receive_id.as_bytes();
        let mut plain = Vec::with_capacity(20 + msg.len() + id.len() + PAD_BLOCK);
        plain.extend_from_slice(random);
        plain.extend_from_slice(&u32::try_from(msg.len()).unwrap_or(u32::MAX).to_be_bytes());
        plain.extend_from_slice(msg.as_bytes());
        plain.extend_from_slice(id);
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let enc = cbc::Encryptor::<Aes256>::new_from_slices(&self.key, &self.key[..16])
            .expect("32-byte key, 16-byte iv");
        STANDARD.encode(enc.encrypt_padded_vec::<NoPadding>(&plain))
    }

    /// Decrypts and checks the receive id; every malformed input is an error, never a panic.
    pub fn decrypt(&self, encrypted: &str) -> Result<String, CryptError> {
        let ct = STANDARD.decode(encrypted.trim()).map_err(|_| CryptError::BadBase64)?;
        if ct.is_empty() || ct.len() % 16 != 0 {
            return Err(CryptError::BadLength);
        }
        let dec = cbc::Decryptor::<Aes256>::new_from_slices(&self.key, &self.key[..16])
            .expect("32-byte key, 16-byte iv");
        let plain = dec.decrypt_padded_vec::<NoPadding>(&ct).map_err(|_| CryptError::BadLength)?;
        let pad = usize::from(*plain.last().ok_or(CryptError::BadPadding)?);
        if !(1..=PAD_BLOCK).contains(&pad) || pad > plain.len() {
            return Err(CryptError::BadPadding);
        }
        let body = &plain[..plain.len() - pad];
        if body.len() < 20 {
            return Err(CryptError::BadLayout);
        }
        let len = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
        let end = 20usize.checked_add(len).filter(|e| *e <= body.len()).ok_or(CryptError::BadLayout)?;
        if &body[end..] != self.receive_id.as_bytes() {
            return Err(CryptError::WrongReceiver);
        }
        String::from_utf8(body[20..end].to_vec()).map_err(|_| CryptError::NotUtf8)
    }
}

/// SHA-1 over the byte-wise sorted, concatenated parts, as lower-case hex.
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut h = Sha1::new();
    for p in sorted {
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a signature in constant time (case-insensitively, as hex).
pub fn verify(parts: &[&str], given: &str) -> bool {
    let expected = signature(parts);
    let given = given.to_ascii_lowercase();
    expected.len() == given.len()
        && expected.bytes().zip(given.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
}

#[cfg(test)]
#[path = "wxcrypto_tests.rs"]
mod tests;
