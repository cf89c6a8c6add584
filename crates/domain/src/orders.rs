//! Orders: their states, what may happen in each, and the money of an order.

use sha2::{Digest, Sha256};

pub const STATUSES: &[&str] = &["pending", "confirmed", "partial", "fulfilled", "cancelled"];
pub const TYPES: &[&str] = &["standard", "extension", "upgrade"];

/// Why a state change is refused: the API error code and a message.
pub type Refusal = (&'static str, &'static str);

/// `pending → confirmed`; nothing else can be confirmed.
pub fn check_confirm(status: &str) -> Result<(), Refusal> {
    match status {
        "pending" => Ok(()),
        "confirmed" => Err(("ORDER_NOT_CONFIRMABLE", "The order is already confirmed")),
        "cancelled" => Err((
            "ORDER_NOT_CONFIRMABLE",
            "A cancelled order cannot be confirmed",
        )),
        _ => Err((
            "ORDER_NOT_CONFIRMABLE",
            "The order is already being fulfilled",
        )),
    }
}

/// Cancelling is possible from `pending` and `confirmed` while no rental exists.
pub fn check_cancel(status: &str, rented_devices: i64) -> Result<(), Refusal> {
    match status {
        "cancelled" => Err(("ALREADY_CANCELLED", "The order is already cancelled")),
        "pending" | "confirmed" if rented_devices == 0 => Ok(()),
        _ => Err((
            "ORDER_NOT_CANCELLABLE",
            "An order with rentals cannot be cancelled",
        )),
    }
}

/// The status an order has once `rented` of its `total` devices have rentals.
pub fn fulfilment_status(current: &str, rented: i64, total: i64) -> &str {
    match current {
        "cancelled" => "cancelled",
        _ if total > 0 && rented >= total => "fulfilled",
        _ if rented > 0 => "partial",
        other => other,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
}

/// Monthly totals of lines `(unit price, quantity)` in minor units, with VAT in basis points.
/// Exclusive: tax is added on top. Inclusive: prices already contain it and tax is extracted.
/// Rounding is half up, once, on the whole order.
pub fn totals(lines: &[(i64, i64)], vat_rate_bp: i64, inclusive: bool) -> Totals {
    let subtotal: i64 = lines.iter().map(|(price, qty)| price * qty).sum();
    if inclusive {
        let net = div_round(subtotal * 10_000, 10_000 + vat_rate_bp);
        Totals {
            subtotal,
            tax: subtotal - net,
            total: subtotal,
        }
    } else {
        let tax = div_round(subtotal * vat_rate_bp, 10_000);
        Totals {
            subtotal,
            tax,
            total: subtotal + tax,
        }
    }
}

/// `a / b` rounded half up, for non-negative operands.
fn div_round(a: i64, b: i64) -> i64 {
    (a + b / 2) / b
}

/// What makes two orders "the same order" for natural idempotency: the customer's email
/// (case-insensitive) and the items (SKU, quantity, contract length) in any order.
pub fn fingerprint(email: &str, items: &[(String, i64, i64)]) -> String {
    let mut lines: Vec<String> = items
        .iter()
        .map(|(sku, qty, months)| format!("{sku}\u{1f}{qty}\u{1f}{months}"))
        .collect();
    lines.sort();
    let mut hasher = Sha256::new();
    hasher.update(email.trim().to_lowercase().as_bytes());
    for line in lines {
        hasher.update(b"\x1e");
        hasher.update(line.as_bytes());
    }
    crate::hex::lower(&hasher.finalize())
}

/// The human order number: the business unit's prefix and a six-digit sequence.
pub fn order_number(prefix: &str, sequence: i64) -> String {
    format!("{prefix}-{sequence:06}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn state_rules() {
        assert!(check_confirm("pending").is_ok());
        for s in ["confirmed", "partial", "fulfilled", "cancelled"] {
            assert_eq!(check_confirm(s).unwrap_err().0, "ORDER_NOT_CONFIRMABLE");
        }
        assert!(check_cancel("pending", 0).is_ok());
        assert!(check_cancel("confirmed", 0).is_ok());
        assert_eq!(
            check_cancel("confirmed", 1).unwrap_err().0,
            "ORDER_NOT_CANCELLABLE"
        );
        assert_eq!(
            check_cancel("partial", 1).unwrap_err().0,
            "ORDER_NOT_CANCELLABLE"
        );
        assert_eq!(
            check_cancel("fulfilled", 2).unwrap_err().0,
            "ORDER_NOT_CANCELLABLE"
        );
        assert_eq!(
            check_cancel("cancelled", 0).unwrap_err().0,
            "ALREADY_CANCELLED"
        );
        assert_eq!(fulfilment_status("confirmed", 1, 2), "partial");
        assert_eq!(fulfilment_status("partial", 2, 2), "fulfilled");
        assert_eq!(fulfilment_status("pending", 0, 2), "pending");
    }

    #[test]
    fn vat() {
        assert_eq!(
            totals(&[(8900, 2)], 1900, false),
            Totals {
                subtotal: 17800,
                tax: 3382,
                total: 21182
            }
        );
        assert_eq!(
            totals(&[(11900, 1)], 1900, true),
            Totals {
                subtotal: 11900,
                tax: 1900,
                total: 11900
            }
        );
        assert_eq!(
            totals(&[(999, 3)], 0, false),
            Totals {
                subtotal: 2997,
                tax: 0,
                total: 2997
            }
        );
    }

    #[test]
    fn fingerprints_ignore_case_and_item_order() {
        let a = fingerprint(
            "Jane@Example.com",
            &[("A".into(), 1, 12), ("B".into(), 2, 24)],
        );
        let b = fingerprint(
            "jane@example.com ",
            &[("B".into(), 2, 24), ("A".into(), 1, 12)],
        );
        assert_eq!(a, b);
        assert_ne!(a, fingerprint("jane@example.com", &[("A".into(), 1, 12)]));
        assert_eq!(order_number("ELE", 123), "ELE-000123");
    }

    proptest! {
        #[test]
        fn totals_add_up(lines in proptest::collection::vec((0i64..1_000_000, 1i64..100), 1..10), bp in 0i64..=10_000, inclusive: bool) {
            let t = totals(&lines, bp, inclusive);
            prop_assert!(t.tax >= 0);
            if inclusive {
                prop_assert_eq!(t.total, t.subtotal);
                // The extracted tax is the gross minus the net, within a cent of the exact value.
                let exact = t.subtotal as f64 * bp as f64 / (10_000 + bp) as f64;
                prop_assert!((t.tax as f64 - exact).abs() <= 0.5 + 1e-6);
            } else {
                prop_assert_eq!(t.total, t.subtotal + t.tax);
                let exact = t.subtotal as f64 * bp as f64 / 10_000.0;
                prop_assert!((t.tax as f64 - exact).abs() <= 0.5 + 1e-6);
            }
        }
    }
}
