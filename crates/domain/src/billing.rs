//! The billing calendar: contract end dates and payment due dates, in the business unit's zone.
//!
//! Months are counted from the start date each time (never from the previous due date), so a
//! rental starting on the 31st is billed on the 31st whenever the month has one and on the month's
//! last day otherwise: Jan 31 → Feb 28 (29) → Mar 31.

use jiff::civil::Date;

use crate::orders::totals;
use crate::settings::BillingStart;

/// One charge to a customer in minor units: `net + tax == total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub net: i64,
    pub tax: i64,
    pub total: i64,
}

/// What charging `amount` means under a VAT rate in basis points. Inclusive: the amount is what
/// the customer pays and the tax is extracted from it; exclusive: the tax is added on top. Every
/// payment (monthly, buyout, fee) goes through here, and orders through the same
/// [`totals`], so they round alike: half up, once, to the minor unit.
pub fn charge(amount: i64, vat_rate_bp: i64, inclusive: bool) -> Charge {
    let t = totals(&[(amount, 1)], vat_rate_bp, inclusive);
    Charge {
        net: t.total - t.tax,
        tax: t.tax,
        total: t.total,
    }
}

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

    #[test]
    fn vat_both_ways() {
        assert_eq!(
            charge(9_900, 1_900, false),
            Charge {
                net: 9_900,
                tax: 1_881,
                total: 11_781
            }
        );
        // 99.00 including 19 %: 83.19 net, 15.81 tax.
        assert_eq!(
            charge(9_900, 1_900, true),
            Charge {
                net: 8_319,
                tax: 1_581,
                total: 9_900
            }
        );
        assert_eq!(
            charge(0, 1_900, true),
            Charge {
                net: 0,
                tax: 0,
                total: 0
            }
        );
    }

    proptest! {
        #[test]
        fn charges_add_up_and_round_half_up_once(
            amount in 0i64..100_000_000, bp in 0i64..=10_000, inclusive: bool
        ) {
            let c = charge(amount, bp, inclusive);
            prop_assert_eq!(c.net + c.tax, c.total);
            prop_assert!(c.tax >= 0 && c.net >= 0);
            let exact_tax = if inclusive {
                prop_assert_eq!(c.total, amount);
                amount as f64 * bp as f64 / (10_000 + bp) as f64
            } else {
                prop_assert_eq!(c.net, amount);
                amount as f64 * bp as f64 / 10_000.0
            };
            prop_assert!((c.tax as f64 - exact_tax).abs() <= 0.5 + 1e-6, "{} vs {}", c.tax, exact_tax);
            // Charging the net amount exclusively gives back (within a cent) the inclusive total.
            if inclusive {
                let back = charge(c.net, bp, false);
                prop_assert!((back.total - amount).abs() <= 1);
            }
        }

        #[test]
        fn a_schedule_costs_months_times_the_monthly_charge(
            monthly in 0i64..10_000_000, months in 1i64..=120, bp in 0i64..=10_000, inclusive: bool, mode in 0u8..3
        ) {
            let billing = [BillingStart::Immediate, BillingStart::SameDayNextMonth, BillingStart::FirstOfNextMonth][mode as usize];
            let each = charge(monthly, bp, inclusive);
            let dues = due_dates(date(2024, 1, 31), months, billing);
            let sum: i64 = dues.iter().map(|_| each.total).sum();
            prop_assert_eq!(sum, months * each.total);
            // Per-payment rounding drifts from rounding the whole contract by under a cent a month.
            let whole = charge(monthly * months, bp, inclusive);
            prop_assert!((sum - whole.total).abs() <= months);
        }

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
