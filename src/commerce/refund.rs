//! The refund policy. The Korean default, after the e-learning standard terms:
//! a full refund within `full_days` of payment while little of the content was
//! used; later, a share in proportion to the access time left; nothing once
//! half the access period has passed. Admins may refund any amount up to what
//! is left of the payment.

use time::OffsetDateTime;

use crate::money::Won;

#[derive(Clone, Copy, Debug)]
pub struct RefundPolicy {
    /// Days after payment with a full refund.
    pub full_days: i64,
    /// Content used (percent of topics) up to which the full refund holds.
    pub full_max_used_percent: i64,
}

impl Default for RefundPolicy {
    fn default() -> Self {
        Self {
            full_days: 7,
            full_max_used_percent: 10,
        }
    }
}

/// Why the policy offers nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundRefusal {
    AlreadyRefunded,
    PastHalfThePeriod,
    NothingLeft,
}

/// What the policy offers a learner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offer {
    Full(i64),
    Partial {
        amount: i64,
        remaining_days: i64,
        access_days: i64,
    },
    Refused(RefundRefusal),
}

impl Offer {
    pub fn amount(&self) -> Won {
        match self {
            Self::Full(a) | Self::Partial { amount: a, .. } => Won(*a),
            Self::Refused(_) => Won::ZERO,
        }
    }
}

pub struct RefundCase {
    pub paid_won: i64,
    pub already_refunded_won: i64,
    pub paid_at: OffsetDateTime,
    pub access_days: i64,
    pub used_percent: i64,
    pub now: OffsetDateTime,
}

impl RefundPolicy {
    pub fn offer(&self, case: &RefundCase) -> Offer {
        let left = case.paid_won - case.already_refunded_won;
        if left <= 0 {
            return Offer::Refused(RefundRefusal::AlreadyRefunded);
        }
        let elapsed_days = (case.now - case.paid_at).whole_days().max(0);
        if elapsed_days < self.full_days && case.used_percent <= self.full_max_used_percent {
            return Offer::Full(left);
        }
        let access_days = case.access_days.max(1);
        let remaining_days = (access_days - elapsed_days).max(0);
        if remaining_days * 2 < access_days {
            return Offer::Refused(RefundRefusal::PastHalfThePeriod);
        }
        // Pro rata, rounded down to 10 won: the most this payment may ever
        // refund in all; earlier refunds count against it.
        let allowed = case.paid_won * remaining_days / access_days / 10 * 10;
        let amount = (allowed - case.already_refunded_won).min(left);
        if amount <= 0 {
            return Offer::Refused(RefundRefusal::NothingLeft);
        }
        Offer::Partial {
            amount,
            remaining_days,
            access_days,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(days_ago: i64, used: i64, refunded: i64) -> RefundCase {
        let now = OffsetDateTime::now_utc();
        RefundCase {
            paid_won: 50_000,
            already_refunded_won: refunded,
            paid_at: now - time::Duration::days(days_ago),
            access_days: 730,
            used_percent: used,
            now,
        }
    }

    #[test]
    fn full_within_seven_days_when_little_was_used() {
        let policy = RefundPolicy::default();
        assert_eq!(policy.offer(&case(0, 0, 0)), Offer::Full(50_000));
        assert_eq!(policy.offer(&case(6, 10, 0)), Offer::Full(50_000));
    }

    #[test]
    fn pro_rata_later_or_after_heavy_use() {
        let policy = RefundPolicy::default();
        let offer = policy.offer(&case(73, 0, 0));
        assert_eq!(offer.amount(), Won(50_000 * 657 / 730 / 10 * 10));
        assert!(matches!(
            offer,
            Offer::Partial {
                remaining_days: 657,
                ..
            }
        ));
        // Heavy use in the first week: pro rata too.
        assert!(matches!(
            policy.offer(&case(1, 50, 0)),
            Offer::Partial { .. }
        ));
    }

    #[test]
    fn a_second_refund_never_exceeds_the_pro_rata_total() {
        let policy = RefundPolicy::default();
        // 73 days in: 45,000 won may go back in all.
        let first = policy.offer(&case(73, 0, 0));
        assert_eq!(first.amount(), Won(45_000));
        // After 10,000 went back (say an admin's partial refund), the learner
        // is offered the rest of the 45,000, not 45,000 again.
        assert_eq!(policy.offer(&case(73, 0, 10_000)).amount(), Won(35_000));
        // After the full pro-rata amount, nothing more.
        assert!(matches!(
            policy.offer(&case(73, 0, 45_000)),
            Offer::Refused(RefundRefusal::NothingLeft)
        ));
    }

    #[test]
    fn refused_after_half_the_period_or_when_nothing_is_left() {
        let policy = RefundPolicy::default();
        assert!(matches!(policy.offer(&case(400, 0, 0)), Offer::Refused(_)));
        assert!(matches!(
            policy.offer(&case(0, 0, 50_000)),
            Offer::Refused(_)
        ));
        // Never more than what is left after earlier refunds.
        assert_eq!(policy.offer(&case(0, 0, 20_000)).amount(), Won(30_000));
    }
}
