//! Signed links to stored files: whoever holds one may fetch that one file of that business
//! unit, handed over the way it was asked for (view or download), until it expires. No API key
//! is involved, so the signature is the whole of the access check.
//!
//! The signature is HMAC-SHA256 over the tenant, the file, the disposition and the expiry,
//! each length-prefixed so that no two different links sign the same bytes, keyed with a key
//! derived from the server's sealing key: every server sharing a database (and so that key)
//! accepts the links any of them signed, and nothing else needs configuring.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::files::Disposition;
use crate::sealing::SealingKey;

/// How long a link lives when the caller does not say.
pub const DEFAULT_TTL_MINUTES: i64 = 60;
/// The longest a link may live: seven days.
pub const MAX_TTL_MINUTES: i64 = 7 * 24 * 60;

/// What a link grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link<'a> {
    pub tenant_id: &'a str,
    pub file_id: &'a str,
    pub disposition: Disposition,
    /// Unix epoch milliseconds after which the link is refused.
    pub expires_at_ms: i64,
}

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not signed by this server's key for exactly this tenant, file, disposition and expiry.
    Invalid,
    /// Genuine, but past its expiry.
    Expired,
}

#[derive(Clone)]
pub struct LinkSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(…)")
    }
}

/// Separates this key from any other the sealing key may be asked to derive.
const PURPOSE: &str = "flexportal file links v1";
/// Export links get a key of their own, so a file link's signature can never open an export
/// (or the other way round) even where the ids would line up.
const EXPORT_PURPOSE: &str = "flexportal export links v1";

impl LinkSigner {
    /// Signs and checks links to files.
    pub fn new(sealing_key: &SealingKey) -> LinkSigner {
        LinkSigner {
            key: sealing_key.derive(PURPOSE),
        }
    }

    /// Signs and checks links to exports; `Link::file_id` then holds the export's id.
    pub fn for_exports(sealing_key: &SealingKey) -> LinkSigner {
        LinkSigner {
            key: sealing_key.derive(EXPORT_PURPOSE),
        }
    }

    /// `None` never happens: HMAC takes keys of any length.
    fn mac(&self, link: &Link<'_>) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).ok()?;
        mac.update(b"v1");
        for part in [link.tenant_id, link.file_id] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.update(link.disposition.as_str().as_bytes());
        mac.update(&link.expires_at_ms.to_be_bytes());
        Some(mac)
    }

    /// The link's signature, URL-safe base64 without padding.
    pub fn sign(&self, link: &Link<'_>) -> String {
        self.mac(link)
            .map(|mac| URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// Accepts `signature` for `link` at `now_ms` (Unix epoch milliseconds). The comparison
    /// takes the same time wherever the signature differs, so it cannot be guessed byte by
    /// byte; the expiry is only looked at once the signature holds.
    pub fn verify(&self, link: &Link<'_>, signature: &str, now_ms: i64) -> Result<(), Refusal> {
        let given = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Refusal::Invalid)?;
        self.mac(link)
            .ok_or(Refusal::Invalid)?
            .verify_slice(&given)
            .map_err(|_| Refusal::Invalid)?;
        if now_ms >= link.expires_at_ms {
            return Err(Refusal::Expired);
        }
        Ok(())
    }
}

/// The expiry of a link made at `now_ms` to live `minutes`.
pub fn expiry(now_ms: i64, minutes: i64) -> i64 {
    now_ms.saturating_add(minutes.saturating_mul(60_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn signer() -> LinkSigner {
        LinkSigner::new(&SealingKey::generate().0)
    }

    const NOW: i64 = 1_750_000_000_000;

    fn link<'a>(tenant: &'a str, file: &'a str) -> Link<'a> {
        Link {
            tenant_id: tenant,
            file_id: file,
            disposition: Disposition::View,
            expires_at_ms: NOW + 60_000,
        }
    }

    #[test]
    fn a_signed_link_holds_until_it_expires() {
        let s = signer();
        let l = link("bu_1", "file_1");
        let sig = s.sign(&l);
        assert_eq!(s.verify(&l, &sig, NOW), Ok(()));
        assert_eq!(s.verify(&l, &sig, NOW + 59_999), Ok(()));
        assert_eq!(s.verify(&l, &sig, NOW + 60_000), Err(Refusal::Expired));
        assert_eq!(s.verify(&l, "", NOW), Err(Refusal::Invalid));
        assert_eq!(s.verify(&l, "not base64!", NOW), Err(Refusal::Invalid));
        assert_eq!(s.verify(&l, &sig[..20], NOW), Err(Refusal::Invalid));
        // An expired link with a forged signature says nothing about expiry.
        assert_eq!(s.verify(&l, "AAAA", NOW + 120_000), Err(Refusal::Invalid));
        assert!(format!("{s:?}").contains('…'));
    }

    #[test]
    fn the_same_key_signs_alike_and_another_key_does_not() {
        let (key, text) = SealingKey::generate();
        let l = link("bu_1", "file_1");
        let again = SealingKey::from_text(&text).unwrap();
        assert_eq!(
            LinkSigner::new(&key).sign(&l),
            LinkSigner::new(&again).sign(&l)
        );
        assert_eq!(
            signer().verify(&l, &LinkSigner::new(&key).sign(&l), NOW),
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn file_and_export_links_do_not_open_each_other() {
        let key = SealingKey::generate().0;
        let (files, exports) = (LinkSigner::new(&key), LinkSigner::for_exports(&key));
        let l = link("bu_1", "exp_1");
        assert_eq!(exports.verify(&l, &exports.sign(&l), NOW), Ok(()));
        assert_eq!(
            exports.verify(&l, &files.sign(&l), NOW),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            files.verify(&l, &exports.sign(&l), NOW),
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn parts_cannot_slide_into_each_other() {
        let s = signer();
        let a = link("bu_1f", "ile_1");
        let b = link("bu_1", "file_1");
        assert_ne!(s.sign(&a), s.sign(&b));
    }

    #[test]
    fn expiry_arithmetic_saturates() {
        assert_eq!(expiry(NOW, 60), NOW + 3_600_000);
        assert_eq!(expiry(i64::MAX - 5, MAX_TTL_MINUTES), i64::MAX);
    }

    proptest! {
        #[test]
        fn changing_any_part_is_refused(
            tenant in "bu_[a-z0-9]{1,26}",
            file in "file_[a-z0-9]{1,26}",
            other in "[a-z0-9_]{1,30}",
            download: bool,
            expires in NOW..NOW + 7 * 86_400_000,
            shift in 1i64..1_000_000,
        ) {
            let s = signer();
            let disposition = if download { Disposition::Download } else { Disposition::View };
            let l = Link { tenant_id: &tenant, file_id: &file, disposition, expires_at_ms: expires };
            let sig = s.sign(&l);
            prop_assert_eq!(s.verify(&l, &sig, NOW - 1), Ok(()));
            let flipped = if download { Disposition::View } else { Disposition::Download };
            let changed = [
                Link { tenant_id: &other, ..l },
                Link { file_id: &other, ..l },
                Link { disposition: flipped, ..l },
                Link { expires_at_ms: expires + shift, ..l },
                Link { expires_at_ms: expires - shift, ..l },
            ];
            for c in changed {
                if c != l {
                    prop_assert_eq!(s.verify(&c, &sig, NOW - 1), Err(Refusal::Invalid));
                }
            }
        }

        #[test]
        fn tampering_with_any_signature_byte_is_refused(i in 0usize..32, bit in 0u8..8) {
            let s = signer();
            let l = link("bu_x", "file_y");
            let mut raw = URL_SAFE_NO_PAD.decode(s.sign(&l)).unwrap();
            raw[i] ^= 1 << bit;
            prop_assert_eq!(s.verify(&l, &URL_SAFE_NO_PAD.encode(&raw), NOW), Err(Refusal::Invalid));
            // Nor does appending or dropping bytes help.
            let longer = URL_SAFE_NO_PAD.encode([raw.as_slice(), &[0u8]].concat());
            prop_assert_eq!(s.verify(&l, &longer, NOW), Err(Refusal::Invalid));
        }

        #[test]
        fn tampering_with_any_character_of_the_text_is_refused(i in 0usize..43, c in "[A-Za-z0-9_-]") {
            let s = signer();
            let l = link("bu_x", "file_y");
            let sig = s.sign(&l);
            let mut chars: Vec<char> = sig.chars().collect();
            let replacement = c.chars().next().unwrap();
            // A change to the last character's two spare bits fails decoding, which is refused
            // too.
            prop_assume!(chars[i] != replacement);
            chars[i] = replacement;
            let tampered: String = chars.into_iter().collect();
            prop_assert_eq!(s.verify(&l, &tampered, NOW), Err(Refusal::Invalid));
        }
    }
}
