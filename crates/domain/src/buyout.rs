//! The price of buying a rented device out, by the business unit's method.

use crate::money;
use crate::settings::{BuyoutMethod, BuyoutSettings};

/// What a buyout costs and what it is made of; amounts in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuyoutFigures {
    pub price: i64,
    /// The scheduled payments not yet due that the buyout replaces.
    pub remaining_payments: i64,
    /// The device's residual value: the list-price share of the price.
    pub depreciated_value: i64,
}

/// The buyout price for `remaining_payments` still to come on a device listed at `list_price`.
pub fn buyout_figures(
    settings: &BuyoutSettings,
    remaining_payments: i64,
    list_price: i64,
    exponent: u32,
) -> BuyoutFigures {
    // Percentages are numbers with up to two decimals; as basis points they multiply exactly.
    let bp = money::minor_from_major(settings.list_price_percentage, 2).unwrap_or(0);
    let residual = (list_price * bp + 5_000) / 10_000;
    let flat = money::minor_from_major(settings.flat_fee, exponent).unwrap_or(0);
    let (price, depreciated) = match settings.method {
        BuyoutMethod::FlatFee => (flat, 0),
        BuyoutMethod::RemainingMonths => (remaining_payments, 0),
        BuyoutMethod::ListPricePercentage => (residual, residual),
        BuyoutMethod::RemainingMonthsPlusListPricePercentage => {
            (remaining_payments + residual, residual)
        }
    };
    BuyoutFigures {
        price,
        remaining_payments,
        depreciated_value: depreciated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn settings(method: BuyoutMethod, pct: f64, flat: f64) -> BuyoutSettings {
        BuyoutSettings {
            method,
            flat_fee: flat,
            list_price_percentage: pct,
        }
    }

    #[test]
    fn each_method() {
        let remaining = 4 * 12_900;
        let list = 249_900;
        assert_eq!(
            buyout_figures(
                &settings(BuyoutMethod::RemainingMonths, 10.0, 0.0),
                remaining,
                list,
                2
            )
            .price,
            51_600
        );
        assert_eq!(
            buyout_figures(
                &settings(BuyoutMethod::FlatFee, 0.0, 199.0),
                remaining,
                list,
                2
            )
            .price,
            19_900
        );
        let pct = buyout_figures(
            &settings(BuyoutMethod::ListPricePercentage, 5.7, 0.0),
            remaining,
            list,
            2,
        );
        assert_eq!((pct.price, pct.depreciated_value), (14_244, 14_244));
        let both = buyout_figures(
            &settings(
                BuyoutMethod::RemainingMonthsPlusListPricePercentage,
                5.7,
                0.0,
            ),
            remaining,
            list,
            2,
        );
        assert_eq!(both.price, 51_600 + 14_244);
    }

    proptest! {
        #[test]
        fn remaining_plus_percentage_is_the_sum_of_its_parts(remaining in 0i64..10_000_000, list in 0i64..10_000_000, pct in 0u32..=10_000) {
            let pct = f64::from(pct) / 100.0;
            let sum = buyout_figures(&settings(BuyoutMethod::RemainingMonthsPlusListPricePercentage, pct, 0.0), remaining, list, 2);
            let only_list = buyout_figures(&settings(BuyoutMethod::ListPricePercentage, pct, 0.0), remaining, list, 2);
            prop_assert_eq!(sum.price, remaining + only_list.price);
            prop_assert!(only_list.price <= list);
        }
    }
}
