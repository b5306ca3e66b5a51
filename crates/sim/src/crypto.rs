//! The platform's half of the "WXBizMsgCrypt" envelope: AES-256-CBC with a 32-byte PKCS#7
//! pad, the 43-character EncodingAESKey and the sorted SHA-1 signatures.
//!
//! Written from the protocol description on purpose, not shared with kefu's adapters: the
//! simulator is the independent party that proves kefu speaks the protocol, so a bug
//! common to both sides must not cancel itself out.

use aes::Aes256;
use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::Rng as _;
use sha1::{Digest as _, Sha1};

/// WeChat pads to 32 bytes although AES blocks are 16.
const PAD_BLOCK: usize = 32;
const AES_BLOCK: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("EncodingAESKey must be 43 characters of Base64, got {0}")]
    BadKey(String),
    #[error("ciphertext is not valid Base64")]
    BadBase64,
    #[error("ciphertext length {0} is not a positive multiple of 16")]
    BadLength(usize),
    #[error("padding byte {0} is outside 1..=32")]
    BadPadding(u8),
    #[error("decrypted envelope is malformed")]
    Malformed,
    #[error("receive id {found:?} does not match {expected:?}")]
    WrongReceiveId { expected: String, found: String },
    #[error("message is not UTF-8")]
    NotUtf8,
}

/// One account's envelope: the AES key (its first 16 bytes double as the IV).
#[derive(Clone)]
pub struct Envelope {
    cipher: Aes256,
    iv: [u8; AES_BLOCK],
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Envelope(..)")
    }
}

impl Envelope {
    pub fn new(encoding_aes_key: &str) -> Result<Self, CryptoError> {
        let key = decode_aes_key(encoding_aes_key)?;
        let cipher =
            Aes256::new_from_slice(&key).map_err(|_| CryptoError::BadKey(encoding_aes_key.into()))?;
        let mut iv = [0u8; AES_BLOCK];
        iv.copy_from_slice(&key[..AES_BLOCK]);
        Ok(Envelope { cipher, iv })
    }

    /// Encrypts with fresh random bytes, as the platform does for every push.
    pub fn seal(&self, msg: &str, receive_id: &str) -> String {
        let mut random = [0u8; 16];
        let mut rng = rand::rng();
        for b in random.iter_mut() {
            // Letters and digits like the official samples, in case a receiver logs them.
            *b = ALPHABET[rng.random_range(0..62)];
        }
        self.seal_with(&random, msg, receive_id)
    }

    /// Deterministic form for the official vectors.
    pub fn seal_with(&self, random: &[u8; 16], msg: &str, receive_id: &str) -> String {
        let msg = msg.as_bytes();
        let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
        let mut plain = Vec::with_capacity(20 + msg.len() + receive_id.len() + PAD_BLOCK);
        plain.extend_from_slice(random);
        plain.extend_from_slice(&len.to_be_bytes());
        plain.extend_from_slice(msg);
        plain.extend_from_slice(receive_id.as_bytes());
        pad32(&mut plain);
        STANDARD.encode(self.cbc_encrypt(&plain))
    }

    /// Opens an `Encrypt` value and insists that it was meant for `expected_id`.
    pub fn open(&self, encrypt_b64: &str, expected_id: &str) -> Result<String, CryptoError> {
        let (msg, rid) = self.open_any(encrypt_b64)?;
        if rid != expected_id {
            return Err(CryptoError::WrongReceiveId { expected: expected_id.into(), found: rid });
        }
        Ok(msg)
    }

    /// Opens an envelope and returns (message, receive id).
    pub fn open_any(&self, encrypt_b64: &str) -> Result<(String, String), CryptoError> {
        let ct = STANDARD.decode(encrypt_b64.trim()).map_err(|_| CryptoError::BadBase64)?;
        if ct.is_empty() || ct.len() % AES_BLOCK != 0 {
            return Err(CryptoError::BadLength(ct.len()));
        }
        let plain = self.cbc_decrypt(&ct);
        let body = unpad32(&plain)?;
        if body.len() < 20 {
            return Err(CryptoError::Malformed);
        }
        let mut len_bytes = [0u8; 4];
        len_bytes.copy_from_slice(&body[16..20]);
        let n = usize::try_from(u32::from_be_bytes(len_bytes)).map_err(|_| CryptoError::Malformed)?;
        let end = 20usize.checked_add(n).filter(|e| *e <= body.len()).ok_or(CryptoError::Malformed)?;
        let msg = String::from_utf8(body[20..end].to_vec()).map_err(|_| CryptoError::NotUtf8)?;
        let rid = String::from_utf8(body[end..].to_vec()).map_err(|_| CryptoError::NotUtf8)?;
        Ok((msg, rid))
    }

    fn cbc_encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plain.len());
        let mut prev = self.iv;
        for chunk in plain.chunks(AES_BLOCK) {
            let mut block = [0u8; AES_BLOCK];
            for (i, b) in chunk.iter().enumerate() {
                block[i] = b ^ prev[i];
            }
            let mut arr = aes::Block::from(block);
            self.cipher.encrypt_block(&mut arr);
            prev.copy_from_slice(&arr);
            out.extend_from_slice(&arr);
        }
        out
    }

    fn cbc_decrypt(&self, ct: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(ct.len());
        let mut prev = self.iv;
        for chunk in ct.chunks(AES_BLOCK) {
            let mut block = [0u8; AES_BLOCK];
            block.copy_from_slice(chunk);
            let mut arr = aes::Block::from(block);
            self.cipher.decrypt_block(&mut arr);
            out.extend(arr.iter().zip(prev.iter()).map(|(a, p)| a ^ p));
            prev = block;
        }
        out
    }
}

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn pad32(buf: &mut Vec<u8>) {
    let pad = PAD_BLOCK - buf.len() % PAD_BLOCK;
    // pad is 1..=32, so the cast cannot truncate.
    buf.extend(std::iter::repeat_n(pad as u8, pad));
}

fn unpad32(buf: &[u8]) -> Result<&[u8], CryptoError> {
    let last = *buf.last().ok_or(CryptoError::Malformed)?;
    let pad = usize::from(last);
    if !(1..=PAD_BLOCK).contains(&pad) || pad > buf.len() {
        return Err(CryptoError::BadPadding(last));
    }
    Ok(&buf[..buf.len() - pad])
}

/// Decodes the 43-character key by hand: real keys carry non-zero trailing bits in the
/// last character, which strict Base64 decoders refuse.
pub fn decode_aes_key(key: &str) -> Result<[u8; 32], CryptoError> {
    let bad = || CryptoError::BadKey(key.to_owned());
    if key.len() != 43 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    let (mut acc, mut bits, mut n) = (0u32, 0u32, 0usize);
    for c in key.bytes() {
        acc = (acc << 6) | u32::from(sextet(c).ok_or_else(bad)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if n < out.len() {
                out[n] = ((acc >> bits) & 0xff) as u8;
                n += 1;
            }
        }
        acc &= (1 << bits) - 1;
    }
    if n != 32 {
        return Err(bad());
    }
    Ok(out)
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// `lower_hex(sha1(concat(sorted(parts))))`, the rule for both `signature` (three parts)
/// and `msg_signature` (four).
pub fn signature(parts: &[&str]) -> String {
    let mut sorted: Vec<&str> = parts.to_vec();
    sorted.sort_unstable();
    let mut h = Sha1::new();
    for p in sorted {
        h.update(p.as_bytes());
    }
    hex(&h.finalize())
}

/// Equality that does not stop at the first differing byte.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

/// Random letters and digits, for tokens, nonces and ids.
pub fn random_alnum(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(ALPHABET[rng.random_range(0..62)])).collect()
}

/// A decimal nonce like the ones WeChat puts in callback queries.
pub fn random_nonce() -> String {
    rand::rng().random_range(100_000_000u64..10_000_000_000).to_string()
}

#[cfg(test)]
#[path = "crypto_tests.rs"]
mod tests;
