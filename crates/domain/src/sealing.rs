//! Secrets at rest: a server key seals what must be read back (webhook signing secrets), so a
//! copy of the database alone reveals none of them. ChaCha20-Poly1305 with a random nonce per
//! secret; the sealed form is `v1.<base64 nonce ‖ ciphertext ‖ tag>`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

/// The server's 32-byte sealing key.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(…)")
    }
}

impl SealingKey {
    /// A fresh random key and its text form, for writing to the data directory.
    pub fn generate() -> (SealingKey, String) {
        let mut bytes = [0u8; 32];
        if getrandom::fill(&mut bytes).is_err() {
            // Not on any supported platform; two time-based UUIDs still make a key of its own.
            bytes[..16].copy_from_slice(&uuid::Uuid::now_v7().as_u128().to_le_bytes());
            bytes[16..].copy_from_slice(&uuid::Uuid::now_v7().as_u128().to_be_bytes());
        }
        (SealingKey(bytes), URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Reads a key given as 64 hex digits or as base64 (standard or URL-safe) of 32 bytes.
    pub fn from_text(text: &str) -> Option<SealingKey> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()?
        } else {
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .or_else(|_| STANDARD.decode(text))
                .ok()?
        };
        Some(SealingKey(bytes.try_into().ok()?))
    }

    /// A key for another purpose (e.g. signing file links), derived from this one with
    /// HMAC-SHA256 over `purpose`: one configured secret serves every use, and a key derived
    /// for one purpose says nothing about this key or about keys for other purposes.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, KeyInit, Mac};
        let mut out = [0u8; 32];
        // HMAC takes keys of any length; a failure is impossible and would leave `out` zero.
        if let Ok(mut mac) = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.0) {
            mac.update(purpose.as_bytes());
            out.copy_from_slice(&mac.finalize().into_bytes());
        }
        out
    }

    pub fn seal(&self, plaintext: &str) -> Option<String> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).ok()?;
        let cipher = ChaCha20Poly1305::new_from_slice(&self.0).ok()?;
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), plaintext.as_bytes())
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Some(format!("v1.{}", STANDARD.encode(out)))
    }

    /// The plaintext, or `None` when `sealed` was not sealed by this key or was altered.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed.strip_prefix("v1.")?).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let cipher = ChaCha20Poly1305::new_from_slice(&self.0).ok()?;
        let plain = cipher.decrypt(&Nonce::from(nonce), body).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_forms() {
        let (key, text) = SealingKey::generate();
        let again = SealingKey::from_text(&text).unwrap();
        let sealed = key.seal("whsec_abc").unwrap();
        assert_eq!(again.open(&sealed).as_deref(), Some("whsec_abc"));
        let hex = "00".repeat(32);
        assert!(SealingKey::from_text(&hex).is_some());
        assert!(SealingKey::from_text("too short").is_none());
        assert!(format!("{key:?}").contains('…'));
    }

    #[test]
    fn derived_keys_depend_on_key_and_purpose() {
        let (key, text) = SealingKey::generate();
        let (other, _) = SealingKey::generate();
        let again = SealingKey::from_text(&text).unwrap();
        assert_eq!(key.derive("links"), again.derive("links"));
        assert_ne!(key.derive("links"), key.derive("other"));
        assert_ne!(key.derive("links"), other.derive("links"));
        assert_ne!(key.derive("links"), [0u8; 32]);
        assert_ne!(key.derive("links"), key.0);
    }

    proptest! {
        #[test]
        fn sealed_secrets_open_only_with_their_key_and_unaltered(secret in "[ -~]{0,80}", flip in 0usize..200) {
            let (key, _) = SealingKey::generate();
            let (other, _) = SealingKey::generate();
            let sealed = key.seal(&secret).unwrap();
            prop_assert!(!sealed.contains(&secret) || secret.len() < 4);
            prop_assert_eq!(key.open(&sealed), Some(secret.clone()));
            prop_assert_eq!(other.open(&sealed), None);
            // Two seals of the same secret differ (fresh nonce).
            prop_assert_ne!(&key.seal(&secret).unwrap(), &sealed);
            let mut raw = STANDARD.decode(&sealed[3..]).unwrap();
            let i = flip % raw.len();
            raw[i] ^= 0x01;
            prop_assert_eq!(key.open(&format!("v1.{}", STANDARD.encode(raw))), None);
        }
    }
}
