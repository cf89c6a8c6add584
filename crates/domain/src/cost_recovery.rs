//! Whether a device has paid for itself: collected money against what the device cost, for one
//! rental and for an asset across all of its rentals. Amounts are minor units; percentages are
//! basis points (hundredths of a percent) so that nothing here rounds twice.

use jiff::civil::Date;

/// The four portfolio-health buckets of a rental or an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryStatus {
    /// Collected more than the device cost.
    Profitable,
    /// More than half recovered, or less but with most of the contract still to run.
    Recovering,
    /// At most half recovered with more than half of the contract gone (or no rental running).
    AtRisk,
    /// No acquisition cost recorded, so nothing to recover against.
    NoData,
}

impl RecoveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecoveryStatus::Profitable => "profitable",
            RecoveryStatus::Recovering => "recovering",
            RecoveryStatus::AtRisk => "at_risk",
            RecoveryStatus::NoData => "no_data",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    pub acquisition_cost: i64,
    pub collected: i64,
    /// `collected / acquisition_cost` in basis points, half rounded up; `None` without a cost.
    pub percent_bp: Option<i64>,
    /// Collected minus cost: negative until the device has paid for itself.
    pub profit: i64,
    pub has_reached_breakeven: bool,
    pub status: RecoveryStatus,
}

/// How far through its contract a rental is on `today`: `true` once more than half of the days
/// from start to end have passed.
pub fn past_halfway(start: Date, end: Date, today: Date) -> bool {
    let total = (end - start).get_days() as i64;
    let elapsed = (today - start).get_days() as i64;
    elapsed * 2 > total
}

/// Recovery figures for `collected` against `acquisition_cost`; `past_halfway` says whether the
/// contract the device is on is more than half done (pass `true` for a device on no contract: an
/// idle device recovers nothing).
pub fn recovery(acquisition_cost: i64, collected: i64, past_halfway: bool) -> Recovery {
    let (percent_bp, status) = if acquisition_cost <= 0 {
        (None, RecoveryStatus::NoData)
    } else {
        let bp = ratio_bp(collected, acquisition_cost);
        let status = if collected > acquisition_cost {
            RecoveryStatus::Profitable
        } else if collected * 2 > acquisition_cost || !past_halfway {
            RecoveryStatus::Recovering
        } else {
            RecoveryStatus::AtRisk
        };
        (Some(bp), status)
    };
    Recovery {
        acquisition_cost,
        collected,
        percent_bp,
        profit: collected - acquisition_cost,
        has_reached_breakeven: acquisition_cost > 0 && collected >= acquisition_cost,
        status,
    }
}

/// Whole months of `monthly` it takes to collect `acquisition_cost`; `None` when nothing is
/// charged monthly or there is no cost.
pub fn breakeven_months(acquisition_cost: i64, monthly: i64) -> Option<i64> {
    (monthly > 0 && acquisition_cost > 0).then(|| (acquisition_cost + monthly - 1) / monthly)
}

/// `(list - cost) / list` in basis points: the room between what a device cost and what it is
/// worth; negative when it cost more than its list price. `None` without a list price.
pub fn margin_bp(list_price: i64, acquisition_cost: i64) -> Option<i64> {
    (list_price > 0).then(|| ratio_bp(list_price - acquisition_cost, list_price))
}

/// `numerator / denominator` in basis points, rounded half away from zero; `denominator > 0`.
fn ratio_bp(numerator: i64, denominator: i64) -> i64 {
    let scaled = i128::from(numerator) * 10_000;
    let d = i128::from(denominator);
    let half = d / 2;
    let rounded = if scaled >= 0 {
        (scaled + half) / d
    } else {
        (scaled - half) / d
    };
    rounded.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_laptop_of_the_pages() {
        // $1,000 device at $89 a month.
        let month = |n: i64, halfway| recovery(100_000, 8_900 * n, halfway);
        assert_eq!(month(6, false).percent_bp, Some(5_340));
        assert_eq!(month(6, false).status, RecoveryStatus::Recovering);
        assert_eq!(month(11, true).percent_bp, Some(9_790));
        assert_eq!(month(11, true).status, RecoveryStatus::Recovering);
        assert_eq!(month(12, true).percent_bp, Some(10_680));
        assert_eq!(month(12, true).status, RecoveryStatus::Profitable);
        assert_eq!(month(12, true).profit, 6_800);
        assert_eq!(breakeven_months(100_000, 8_900), Some(12));
    }

    #[test]
    fn thresholds() {
        assert_eq!(recovery(0, 5_000, true).status, RecoveryStatus::NoData);
        assert_eq!(recovery(0, 5_000, true).percent_bp, None);
        // Exactly recovered is breakeven, not yet profit.
        let even = recovery(1_000, 1_000, true);
        assert_eq!(even.status, RecoveryStatus::Recovering);
        assert!(even.has_reached_breakeven);
        // Exactly half counts as at most half.
        assert_eq!(recovery(1_000, 500, true).status, RecoveryStatus::AtRisk);
        assert_eq!(
            recovery(1_000, 500, false).status,
            RecoveryStatus::Recovering
        );
        assert_eq!(
            recovery(1_000, 501, true).status,
            RecoveryStatus::Recovering
        );
    }

    #[test]
    fn halfway_by_days() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        let (start, end) = (d("2026-01-01"), d("2026-12-31"));
        assert!(!past_halfway(start, end, d("2026-01-01")));
        assert!(!past_halfway(start, end, d("2026-07-02")));
        assert!(past_halfway(start, end, d("2026-07-03")));
        assert!(past_halfway(start, end, d("2027-06-01")));
    }

    #[test]
    fn margins() {
        assert_eq!(margin_bp(199_900, 100_000), Some(4_997));
        assert_eq!(margin_bp(100_000, 120_000), Some(-2_000));
        assert_eq!(margin_bp(0, 100_000), None);
    }

    proptest! {
        #[test]
        fn status_follows_the_percentage(
            cost in 1i64..10_000_000,
            collected in 0i64..30_000_000,
            halfway: bool,
        ) {
            let r = recovery(cost, collected, halfway);
            let bp = r.percent_bp.unwrap();
            prop_assert_eq!(r.profit, collected - cost);
            prop_assert_eq!(r.has_reached_breakeven, r.profit >= 0);
            match r.status {
                RecoveryStatus::Profitable => prop_assert!(bp >= 10_000 && r.profit > 0),
                RecoveryStatus::Recovering => prop_assert!(bp <= 10_000 && (bp >= 5_000 || !halfway)),
                RecoveryStatus::AtRisk => prop_assert!(bp <= 5_000 && halfway),
                RecoveryStatus::NoData => prop_assert!(false),
            }
            // Rounding never moves the percentage by more than half a basis point.
            let exact = collected as f64 * 10_000.0 / cost as f64;
            prop_assert!((bp as f64 - exact).abs() <= 0.5 + 1e-9);
        }

        #[test]
        fn breakeven_is_the_first_month_that_covers_the_cost(
            cost in 1i64..10_000_000,
            monthly in 1i64..1_000_000,
        ) {
            let n = breakeven_months(cost, monthly).unwrap();
            prop_assert!(n * monthly >= cost);
            prop_assert!((n - 1) * monthly < cost);
        }

        #[test]
        fn collected_adds_across_rentals(
            cost in 1i64..10_000_000,
            parts in proptest::collection::vec(0i64..1_000_000, 0..6),
        ) {
            // An asset's lifetime figure is the recovery of the sum of its rentals' collections.
            let total: i64 = parts.iter().sum();
            let lifetime = recovery(cost, total, true);
            prop_assert_eq!(lifetime.profit, parts.iter().sum::<i64>() - cost);
            prop_assert!(parts.iter().all(|p| recovery(cost, *p, true).percent_bp <= lifetime.percent_bp));
        }
    }
}
