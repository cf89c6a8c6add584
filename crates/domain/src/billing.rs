//! The billing calendar: contract end dates and payment due dates, in the business unit's zone.
//!
//! Months are counted from the start date each time (never from the previous due date), so a
//! rental starting on the 31st is billed on the 31st whenever the month has one and on the month's
//! last day otherwise: Jan 31 → Feb 28 (29) → Mar 31.

use jiff::civil::Date;

use crate::settings::BillingStart;

/// `start` plus `months` calendar months, the day clamped to the end of the target month.
pub fn add_months(start: Date, months: i64) -> Date {
    let total = i64::from(start.year()) * 12 + i64::from(start.month() - 1) + months;
    let (year, month) = (
        total.div_euclid(12) as i16,
        (total.rem_euclid(12) + 1) as i8,
    );
    let first = Date::new(year, month, 1).unwrap_or(start);
    let day = start.day().min(first.days_in_month());
    Date::new(year, month, day).unwrap_or(first)
}

/// The last day of a contract of `months` starting on `start`: the day before the same day
/// `months` later.
pub fn end_date(start: Date, months: i64) -> Date {
    add_months(start, months).yesterday().unwrap_or(start)
}

/// Due dates of the `months` monthly payments of a rental starting on `start`.
pub fn due_dates(start: Date, months: i64, billing_start: BillingStart) -> Vec<Date> {
    let first = match billing_start {
        BillingStart::Immediate => start,
        BillingStart::SameDayNextMonth => add_months(start, 1),
        BillingStart::FirstOfNextMonth => add_months(start.first_of_month(), 1),
    };
    (0..months).map(|k| add_months(first, k)).collect()
}

/// `YYYY-MM` of a date: the billing period a payment belongs to.
pub fn billing_period(date: Date) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    #[test]
    fn month_end_clamping_counts_from_the_start() {
        let start = date(2024, 1, 31);
        assert_eq!(add_months(start, 1), date(2024, 2, 29));
        assert_eq!(add_months(start, 2), date(2024, 3, 31));
        assert_eq!(add_months(date(2025, 1, 31), 1), date(2025, 2, 28));
        assert_eq!(add_months(date(2025, 11, 15), 3), date(2026, 2, 15));
        assert_eq!(end_date(date(2025, 1, 15), 12), date(2026, 1, 14));
    }

    #[test]
    fn schedules_by_billing_start() {
        let start = date(2025, 1, 15);
        assert_eq!(
            due_dates(start, 3, BillingStart::Immediate),
            [date(2025, 1, 15), date(2025, 2, 15), date(2025, 3, 15)]
        );
        assert_eq!(
            due_dates(start, 2, BillingStart::SameDayNextMonth),
            [date(2025, 2, 15), date(2025, 3, 15)]
        );
        assert_eq!(
            due_dates(start, 2, BillingStart::FirstOfNextMonth),
            [date(2025, 2, 1), date(2025, 3, 1)]
        );
        assert_eq!(billing_period(date(2025, 2, 1)), "2025-02");
    }

    proptest! {
        #[test]
        fn one_payment_per_month_each_in_its_own_period(
            year in 2000i16..2100, month in 1i8..=12, day in 1i8..=31, months in 1i64..=120, mode in 0u8..3
        ) {
            let first = Date::new(year, month, 1).unwrap();
            let start = Date::new(year, month, day.min(first.days_in_month())).unwrap();
            let billing = [BillingStart::Immediate, BillingStart::SameDayNextMonth, BillingStart::FirstOfNextMonth][mode as usize];
            let dates = due_dates(start, months, billing);
            prop_assert_eq!(dates.len() as i64, months);
            let periods: std::collections::BTreeSet<String> = dates.iter().map(|d| billing_period(*d)).collect();
            prop_assert_eq!(periods.len() as i64, months);
            prop_assert!(dates.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(dates.iter().all(|d| *d >= start));
            // Days never drift: each due day is the first's day, or its month's last day.
            for d in &dates {
                prop_assert!(d.day() == dates[0].day() || d.day() == d.days_in_month());
            }
        }
    }
}
