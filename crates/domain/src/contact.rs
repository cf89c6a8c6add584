//! Checks on contact data: email addresses and phone numbers.

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain, no spaces, at most
/// 254 characters. Deliverability is the mail system's business, not ours.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Digits with optional `+`, spaces, dashes, dots and parentheses; 5 to 20 digits.
pub fn is_phone(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&digits)
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

/// The form under which emails are compared within a business unit.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["jane@example.com", "a.b+c@sub.example.co.uk"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "ja ne@example.com",
            "a@b@c.com",
            "jane@.com",
            "jane@example..com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert_eq!(email_key(" Jane@Example.COM "), "jane@example.com");
    }

    #[test]
    fn phones() {
        assert!(is_phone("+49 (30) 1234-567"));
        assert!(!is_phone("call me"));
        assert!(!is_phone("123"));
    }
}
