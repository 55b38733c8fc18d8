//! Money: whole Korean won, never floats. Shared by the catalogue (prices),
//! commerce (orders, payments, refunds) and the dashboards; formatted for
//! people only by the `won` template filter (`web::filters`).

use std::{iter::Sum, ops::Add};

/// An amount in whole Korean won.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    sqlx::Type,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct Won(pub i64);

impl Won {
    pub const ZERO: Won = Won(0);

    pub fn checked_add(self, other: Won) -> Option<Won> {
        self.0.checked_add(other.0).map(Won)
    }

    /// What is left of `self` after `other` (never below zero).
    pub fn saturating_sub(self, other: Won) -> Won {
        Won((self.0 - other.0).max(0))
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl Add for Won {
    type Output = Won;
    fn add(self, other: Won) -> Won {
        Won(self.0.saturating_add(other.0))
    }
}

impl Sum for Won {
    fn sum<I: Iterator<Item = Won>>(iter: I) -> Won {
        iter.fold(Won::ZERO, Add::add)
    }
}

/// `1234567` -> `1,234,567`
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
    }

    #[test]
    fn sums_and_differences_stay_whole() {
        assert_eq!([Won(1), Won(2)].into_iter().sum::<Won>(), Won(3));
        assert_eq!(Won(5).saturating_sub(Won(9)), Won::ZERO);
        assert_eq!(Won(i64::MAX).checked_add(Won(1)), None);
    }
}
