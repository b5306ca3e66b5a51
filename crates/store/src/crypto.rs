//! Encryption at rest for platform secrets (AES-256-GCM), so a stolen database file reveals none.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use crate::StoreError;

/// Version byte in front of every ciphertext, so the scheme can change later.
const V1: u8 = 1;

#[derive(Clone)]
pub struct SecretCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretCipher(..)")
    }
}

impl SecretCipher {
    pub fn new(key: &[u8; 32]) -> Self {
        SecretCipher { cipher: Aes256Gcm::new(key.into()) }
    }

    /// Parses a key given as 32 bytes in standard Base64 (what `kefu` writes to its key file).
    pub fn from_base64(s: &str) -> Result<Self, StoreError> {
        let bytes = STANDARD.decode(s.trim()).map_err(|e| StoreError::Crypto(e.to_string()))?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| StoreError::Crypto("the key must be 32 bytes".into()))?;
        Ok(SecretCipher::new(&key))
    }

    pub fn generate_base64() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        STANDARD.encode(key)
    }

    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|e| StoreError::Crypto(e.to_string()))?;
        let mut out = Vec::with_capacity(1 + 12 + ct.len());
        out.push(V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        match sealed {
            [V1, rest @ ..] if rest.len() >= 12 + 16 => {
                let (nonce, ct) = rest.split_at(12);
                self.cipher.decrypt(Nonce::from_slice(nonce), ct).map_err(|_| {
                    StoreError::Crypto("cannot decrypt channel secrets: wrong secret key?".into())
                })
            }
            _ => Err(StoreError::Crypto("unknown secret format".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_with_the_same_key_only() {
        let a = SecretCipher::from_base64(&SecretCipher::generate_base64()).unwrap();
        let b = SecretCipher::from_base64(&SecretCipher::generate_base64()).unwrap();
        let sealed = a.seal("appsecret-密钥".as_bytes()).unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"appsecret"), "plaintext leaked");
        assert_eq!(a.open(&sealed).unwrap(), "appsecret-密钥".as_bytes());
        assert!(b.open(&sealed).is_err());
        assert!(a.open(&sealed[..10]).is_err());
    }
}
