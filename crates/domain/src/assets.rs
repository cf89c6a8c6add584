//! Assets: serial-numbered units of a variant, and the statuses the API may set on them.

pub const STATUSES: &[&str] = &["available", "rented_out", "returned", "sold", "unavailable"];

/// Statuses a caller may set directly; `rented_out` and `sold` only come from rentals.
pub const SETTABLE: &[&str] = &["available", "unavailable"];

/// Why a status change is refused: the API error code and a message.
pub type Refusal = (&'static str, String);

/// Whether the API may move an asset from `from` to `to`.
pub fn check_transition(from: &str, to: &str) -> Result<(), Refusal> {
    if from == to {
        return Ok(());
    }
    match (from, to) {
        ("rented_out", _) => Err(("ASSET_IN_USE", "The asset is on an active rental".into())),
        ("sold", _) => Err((
            "INVALID_STATUS_TRANSITION",
            "A sold asset cannot change status".into(),
        )),
        (_, "rented_out" | "sold") => Err((
            "INVALID_STATUS_TRANSITION",
            format!("{to} is set by rentals, not directly"),
        )),
        ("available" | "unavailable" | "returned", "available" | "unavailable") => Ok(()),
        _ => Err((
            "INVALID_STATUS_TRANSITION",
            format!("An asset cannot go from {from} to {to}"),
        )),
    }
}

/// An IMEI: 15 digits whose last is the Luhn check digit of the first 14.
pub fn is_imei(text: &str) -> bool {
    text.len() == 15 && text.bytes().all(|b| b.is_ascii_digit()) && luhn_valid(text)
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether a product category means phones, whose serials are IMEIs.
pub fn is_phone_category(category: &str) -> bool {
    matches!(
        category.trim().to_lowercase().as_str(),
        "phones" | "phone" | "smartphones" | "smartphone" | "mobile phones"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn transitions() {
        assert!(check_transition("available", "unavailable").is_ok());
        assert!(check_transition("unavailable", "available").is_ok());
        assert!(
            check_transition("returned", "available").is_ok(),
            "back in stock after inspection"
        );
        assert_eq!(
            check_transition("rented_out", "available").unwrap_err().0,
            "ASSET_IN_USE"
        );
        assert_eq!(
            check_transition("available", "rented_out").unwrap_err().0,
            "INVALID_STATUS_TRANSITION"
        );
        assert_eq!(
            check_transition("available", "sold").unwrap_err().0,
            "INVALID_STATUS_TRANSITION"
        );
        assert_eq!(
            check_transition("sold", "available").unwrap_err().0,
            "INVALID_STATUS_TRANSITION"
        );
        assert_eq!(
            check_transition("available", "returned").unwrap_err().0,
            "INVALID_STATUS_TRANSITION"
        );
        assert!(check_transition("sold", "sold").is_ok());
    }

    #[test]
    fn imeis() {
        assert!(is_imei("490154203237518"));
        assert!(!is_imei("490154203237519"));
        assert!(!is_imei("49015420323751"));
        assert!(!is_imei("49015420323751X"));
        assert!(is_phone_category("Phones"));
        assert!(!is_phone_category("Laptops"));
    }

    proptest! {
        #[test]
        fn one_wrong_digit_breaks_the_check(body in "[0-9]{14}", position in 0usize..14, delta in 1u8..10) {
            // Complete a random 14-digit body with its check digit, then change one digit.
            let check = (0..10u8).find(|c| luhn_valid(&format!("{body}{c}"))).unwrap();
            let imei = format!("{body}{check}");
            prop_assert!(is_imei(&imei));
            let mut bytes = imei.into_bytes();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            prop_assert!(!is_imei(&String::from_utf8(bytes).unwrap()));
        }
    }
}
