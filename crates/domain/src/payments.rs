//! The states of a payment and the moves between them.

pub const STATUSES: &[&str] = &["pending", "processing", "paid", "failed", "cancelled"];

/// Why a move is refused: the API error code and a message.
pub type Refusal = (&'static str, String);

/// `pending → processing | paid | failed | cancelled`, `processing → paid | failed`,
/// `failed → processing | paid | cancelled`; `paid` and `cancelled` are final.
pub fn check_transition(from: &str, to: &str) -> Result<(), Refusal> {
    match (from, to) {
        ("paid", _) => Err(("ALREADY_PAID", "The payment is already paid".into())),
        ("cancelled", "cancelled") => Err((
            "ALREADY_CANCELLED",
            "The payment is already cancelled".into(),
        )),
        ("cancelled", _) => Err(("PAYMENT_CANCELLED", "The payment is cancelled".into())),
        ("pending", "processing" | "paid" | "failed" | "cancelled")
        | ("processing", "paid" | "failed")
        | ("failed", "processing" | "paid" | "cancelled") => Ok(()),
        ("processing", "cancelled") => Err((
            "PAYMENT_PROCESSING",
            "A payment being processed cannot be cancelled".into(),
        )),
        _ => Err((
            "INVALID_STATUS_TRANSITION",
            format!("A payment cannot go from {from} to {to}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves() {
        for (from, to) in [
            ("pending", "paid"),
            ("pending", "failed"),
            ("pending", "cancelled"),
            ("failed", "paid"),
            ("failed", "cancelled"),
            ("processing", "paid"),
        ] {
            assert!(check_transition(from, to).is_ok(), "{from} → {to}");
        }
        assert_eq!(
            check_transition("paid", "paid").unwrap_err().0,
            "ALREADY_PAID"
        );
        assert_eq!(
            check_transition("paid", "cancelled").unwrap_err().0,
            "ALREADY_PAID"
        );
        assert_eq!(
            check_transition("cancelled", "paid").unwrap_err().0,
            "PAYMENT_CANCELLED"
        );
        assert_eq!(
            check_transition("cancelled", "cancelled").unwrap_err().0,
            "ALREADY_CANCELLED"
        );
        assert_eq!(
            check_transition("cancelled", "paid").unwrap_err().0,
            "PAYMENT_CANCELLED"
        );
        assert_eq!(
            check_transition("processing", "cancelled").unwrap_err().0,
            "PAYMENT_PROCESSING"
        );
        assert_eq!(
            check_transition("failed", "failed").unwrap_err().0,
            "INVALID_STATUS_TRANSITION"
        );
    }
}
