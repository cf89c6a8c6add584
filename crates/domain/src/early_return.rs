//! The fee for returning a rented device before the contract ends.

use crate::money;
use crate::settings::{EarlyReturnMethod, EarlyReturnSettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlyReturnFee {
    /// Minor units.
    pub fee: i64,
    /// `remaining_months`, `flat_fee` or `no_fee`.
    pub method: &'static str,
    pub grace_period_applied: bool,
    /// Basis points of the remaining payments charged (remaining-months method only).
    pub penalty_bp: i64,
}

/// The fee for returning now: nothing within the grace period after the start; otherwise by
/// the method, from `remaining_payments` (what the months still to come would have cost).
pub fn early_return_fee(
    settings: &EarlyReturnSettings,
    remaining_payments: i64,
    days_from_start: i64,
    exponent: u32,
) -> EarlyReturnFee {
    let method = match settings.method {
        EarlyReturnMethod::RemainingMonths => "remaining_months",
        EarlyReturnMethod::FlatFee => "flat_fee",
        EarlyReturnMethod::NoFee => "no_fee",
    };
    let penalty_bp = match settings.method {
        EarlyReturnMethod::RemainingMonths => {
            money::minor_from_major(settings.percentage, 2).unwrap_or(0)
        }
        _ => 0,
    };
    if days_from_start <= i64::from(settings.grace_period_days) && settings.grace_period_days > 0 {
        return EarlyReturnFee {
            fee: 0,
            method,
            grace_period_applied: true,
            penalty_bp,
        };
    }
    let fee = match settings.method {
        EarlyReturnMethod::RemainingMonths => (remaining_payments * penalty_bp + 5_000) / 10_000,
        EarlyReturnMethod::FlatFee => {
            money::minor_from_major(settings.flat_fee, exponent).unwrap_or(0)
        }
        EarlyReturnMethod::NoFee => 0,
    };
    EarlyReturnFee {
        fee,
        method,
        grace_period_applied: false,
        penalty_bp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(
        method: EarlyReturnMethod,
        percentage: f64,
        flat: f64,
        grace: u32,
    ) -> EarlyReturnSettings {
        EarlyReturnSettings {
            method,
            percentage,
            flat_fee: flat,
            grace_period_days: grace,
        }
    }

    #[test]
    fn methods_and_grace() {
        let half = early_return_fee(
            &settings(EarlyReturnMethod::RemainingMonths, 50.0, 0.0, 14),
            100_000,
            30,
            2,
        );
        assert_eq!(
            (half.fee, half.penalty_bp, half.grace_period_applied),
            (50_000, 5_000, false)
        );
        let graced = early_return_fee(
            &settings(EarlyReturnMethod::RemainingMonths, 50.0, 0.0, 14),
            100_000,
            14,
            2,
        );
        assert_eq!((graced.fee, graced.grace_period_applied), (0, true));
        assert_eq!(
            early_return_fee(
                &settings(EarlyReturnMethod::FlatFee, 0.0, 149.0, 0),
                100_000,
                30,
                2
            )
            .fee,
            14_900
        );
        assert_eq!(
            early_return_fee(
                &settings(EarlyReturnMethod::NoFee, 0.0, 0.0, 0),
                100_000,
                30,
                2
            )
            .fee,
            0
        );
        // Rounded half up on the minor unit.
        assert_eq!(
            early_return_fee(
                &settings(EarlyReturnMethod::RemainingMonths, 33.33, 0.0, 0),
                101,
                1,
                2
            )
            .fee,
            34
        );
    }
}
