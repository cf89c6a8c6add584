//! Identifiers: a UUIDv7 inside, `<prefix>_<26 Crockford base32 chars>` at the edge.
//!
//! Lower-case Crockford base32 of the 128 UUID bits keeps the byte order, so ids of one kind sort
//! by creation time both as strings and in an index.

use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// The kinds of entity that carry a prefixed id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    Organization,
    BusinessUnit,
    ApiKey,
    Product,
    Variant,
    Customer,
    Order,
    Subscription,
    Payment,
    BillingGroup,
    File,
    Event,
    WebhookEndpoint,
    Message,
    /// One delivery attempt of a webhook message.
    Attempt,
    /// One CSV export.
    Export,
    /// One HTTP request, for `X-Request-Id`.
    Request,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Organization => "org",
            IdKind::BusinessUnit => "bu",
            IdKind::ApiKey => "key",
            IdKind::Product => "prod",
            IdKind::Variant => "var",
            IdKind::Customer => "cust",
            IdKind::Order => "ord",
            IdKind::Subscription => "sub",
            IdKind::Payment => "pay",
            IdKind::BillingGroup => "bg",
            IdKind::File => "file",
            IdKind::Event => "evt",
            IdKind::WebhookEndpoint => "whe",
            IdKind::Message => "msg",
            IdKind::Attempt => "att",
            IdKind::Export => "exp",
            IdKind::Request => "req",
        }
    }

    /// A fresh, time-sortable id of this kind.
    pub fn generate(self) -> String {
        encode(self, uuid::Uuid::now_v7().as_u128())
    }

    /// Whether `text` is syntactically an id of this kind. Says nothing about existence.
    pub fn matches(self, text: &str) -> bool {
        text.strip_prefix(self.prefix())
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|body| {
                body.len() == 26
                    && body.bytes().all(|b| ALPHABET.contains(&b))
                    // 26 base32 chars hold 130 bits; the first char carries only the top 3.
                    && body.as_bytes()[0] <= b'7'
            })
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

fn encode(kind: IdKind, mut value: u128) -> String {
    let mut body = [0u8; 26];
    for slot in body.iter_mut().rev() {
        *slot = ALPHABET[(value & 31) as usize];
        value >>= 5;
    }
    let mut out = String::with_capacity(kind.prefix().len() + 27);
    out.push_str(kind.prefix());
    out.push('_');
    out.extend(body.iter().map(|&b| b as char));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_ids_match_their_kind_only() {
        let id = IdKind::Product.generate();
        assert!(id.starts_with("prod_"));
        assert!(IdKind::Product.matches(&id));
        assert!(!IdKind::Variant.matches(&id));
        assert!(!IdKind::Product.matches("prod_short"));
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let ids: Vec<String> = (0..200).map(|_| IdKind::Order.generate()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    proptest! {
        #[test]
        fn encoding_preserves_order(a: u128, b: u128) {
            let (ea, eb) = (encode(IdKind::Event, a), encode(IdKind::Event, b));
            prop_assert_eq!(a.cmp(&b), ea.cmp(&eb));
            prop_assert!(IdKind::Event.matches(&ea));
        }
    }
}
