//! What can go wrong in commerce, in domain words. No Korean and no status
//! codes here: `handlers/errors.rs` maps each variant to both, in one place.

use time::OffsetDateTime;

use crate::{commerce::refund::RefundRefusal, money::Won};

/// A problem with one field of the billing address form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressProblem {
    CountryCode,
    MainMissing,
    MainTooLong,
    DetailTooLong,
    PostalCode,
}

#[derive(Debug, thiserror::Error)]
pub enum CommerceError {
    /// The thing asked for does not exist, or is not the asker's.
    #[error("not found")]
    NotFound,
    #[error("the course is sold only inside its curriculum")]
    NotSoldAlone,
    #[error("the product is free")]
    Free,
    #[error("already owned until {until}")]
    AlreadyOwned { until: OffsetDateTime },
    #[error("already in the cart")]
    AlreadyInCart,
    #[error("invalid address: {0:?}")]
    InvalidAddress(Vec<AddressProblem>),
    #[error("email not verified")]
    EmailUnverified,
    #[error("the cart is empty")]
    CartEmpty,
    #[error("no billing address chosen")]
    AddressMissing,
    /// The refund policy and withdrawal rules were not agreed to.
    #[error("refund policy not agreed")]
    RefundPolicyNotAgreed,
    #[error("no payment method chosen")]
    GatewayMissing,
    #[error("{title} can no longer be bought")]
    Unavailable { title: String },
    #[error("the total is too large")]
    TotalTooLarge,
    /// The order is failed or cancelled: it cannot be paid any more.
    #[error("the order is closed")]
    OrderClosed,
    #[error("the order was placed with another gateway")]
    WrongGateway,
    /// What the gateway (or its return URL) says was charged is not the total.
    #[error("amount {claimed} differs from the order total")]
    AmountMismatch { claimed: Won },
    #[error("the gateway could not start the payment: {0}")]
    StartFailed(String),
    /// The gateway refused to approve; the order failed.
    #[error("{gateway} refused: {message}")]
    PaymentRefused {
        gateway: crate::commerce::model::GatewayKind,
        message: String,
    },
    /// The gateway has not finished the payment (its status).
    #[error("the payment is not complete at the gateway: {0}")]
    PaymentIncomplete(String),
    #[error("refund refused: {0:?}")]
    RefundRefused(RefundRefusal),
    #[error("refund amount out of range (at most {max})")]
    RefundAmountOutOfRange { max: Won },
    #[error("refund reason longer than {max} characters")]
    RefundReasonTooLong { max: usize },
    /// The gateway refused the refund; nothing was refunded.
    #[error("the gateway refused the refund: {0}")]
    RefundFailed(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Decryption, serialisation and other infrastructure failures.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type CommerceResult<T> = Result<T, CommerceError>;
