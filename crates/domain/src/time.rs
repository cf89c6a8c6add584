//! Instants are epoch microseconds inside and RFC 3339 UTC with milliseconds on the wire.

use jiff::{Timestamp, civil::Date, tz::TimeZone};

pub fn now_micros() -> i64 {
    Timestamp::now().as_microsecond()
}

/// `2025-01-15T10:30:00.000Z`.
pub fn format_instant(micros: i64) -> String {
    match Timestamp::from_microsecond(micros) {
        Ok(ts) => format!("{:.3}", ts),
        Err(_) => String::new(),
    }
}

/// Accepts an RFC 3339 instant or a bare date (midnight in `zone`).
pub fn parse_instant(text: &str, zone: &TimeZone) -> Option<i64> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts.as_microsecond());
    }
    let date: Date = text.parse().ok()?;
    let zoned = date.to_zoned_datetime(zone.clone()).ok()?;
    Some(zoned.timestamp().as_microsecond())
}

/// Whether `name` is an IANA time zone this build knows.
pub fn is_time_zone(name: &str) -> bool {
    TimeZone::get(name).is_ok()
}

pub fn time_zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// Today's date in `zone`.
pub fn today_in(zone: &TimeZone) -> Date {
    Timestamp::now().to_zoned_datetime(zone.clone()).date()
}

/// A calendar date from a bare date (`2025-02-01`) or an instant, read in `zone`.
pub fn parse_date_in(text: &str, zone: &TimeZone) -> Option<Date> {
    if let Ok(date) = text.parse::<Date>() {
        return Some(date);
    }
    text.parse::<Timestamp>()
        .ok()
        .map(|ts| ts.to_zoned_datetime(zone.clone()).date())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds() {
        assert_eq!(
            format_instant(1_736_937_000_000_000),
            "2025-01-15T10:30:00.000Z"
        );
        assert_eq!(
            format_instant(1_736_937_000_123_456),
            "2025-01-15T10:30:00.123Z"
        );
    }

    #[test]
    fn parses_dates_in_the_zone() {
        let berlin = time_zone("Europe/Berlin");
        let at = parse_instant("2025-02-01", &berlin).unwrap();
        assert_eq!(format_instant(at), "2025-01-31T23:00:00.000Z");
        assert_eq!(
            parse_instant("2025-01-15T10:30:00Z", &berlin),
            Some(1_736_937_000_000_000)
        );
        assert_eq!(parse_instant("yesterday", &berlin), None);
        assert!(is_time_zone("America/New_York"));
        assert!(!is_time_zone("Mars/Olympus"));
    }
}
