//! API key secrets: 32 random bytes shown once as `pk_live_<region>_<base62>`, kept as SHA-256.

use sha2::{Digest, Sha256};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A new secret for `region`. Fails only if the operating system has no randomness to give.
pub fn generate_secret(region: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("pk_live_{}_{}", region, base62(&bytes)))
}

/// The stored form of a secret: lower-case hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    crate::hex::lower(&digest)
}

/// Compares two hashes without leaking the position of the first difference.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn base62(bytes: &[u8]) -> String {
    // Big-number division: repeatedly divide the byte string by 62.
    let mut digits: Vec<u8> = bytes.to_vec();
    let mut out = Vec::new();
    while digits.iter().any(|&d| d != 0) {
        let mut remainder: u32 = 0;
        for d in digits.iter_mut() {
            let acc = (remainder << 8) | u32::from(*d);
            *d = (acc / 62) as u8;
            remainder = acc % 62;
        }
        out.push(BASE62[remainder as usize]);
    }
    // Fixed width (43 digits hold 256 bits) so every key has the same length.
    while out.len() < 43 {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_documented_shape() {
        let s = generate_secret("eu").unwrap();
        assert!(s.starts_with("pk_live_eu_"));
        assert_eq!(s.len(), "pk_live_eu_".len() + 43);
        assert_ne!(s, generate_secret("eu").unwrap());
    }

    #[test]
    fn hashing_is_stable_and_comparison_exact() {
        let h = hash_secret("pk_live_eu_abc");
        assert_eq!(h.len(), 64);
        assert!(hashes_equal(&h, &hash_secret("pk_live_eu_abc")));
        assert!(!hashes_equal(&h, &hash_secret("pk_live_eu_abd")));
        assert_eq!(base62(&[0, 61]), format!("{}z", "0".repeat(42)));
    }
}
