//! Commerce vocabulary: order, payment and refund states, gateway kinds, and
//! the domain records services hand to views (typed values, no display text).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    catalog::model::Product,
    ids::{AddressId, CartItemId, OrderId, PaymentId, UserId},
    money::Won,
    text_enum,
};

text_enum!(
    /// Where an order stands.
    OrderStatus {
        Pending => "pending",
        Paid => "paid",
        PartiallyRefunded => "partially_refunded",
        Refunded => "refunded",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

impl OrderStatus {
    /// Paid, whether or not part of it went back.
    pub fn is_paid(self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded | Self::Refunded)
    }

    /// A payment that may still be refunded.
    pub fn refundable(self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded)
    }
}

text_enum!(
    /// The payment gateways Weaverse speaks to.
    GatewayKind {
        Demo => "demo",
        KakaoPay => "kakaopay",
        Toss => "toss",
    }
);

text_enum!(
    /// Which date of an order a date range of the admin's list reads: when
    /// it was placed, when its payment was approved, or when a refund of it
    /// was settled.
    OrderDates {
        Ordered => "ordered",
        Paid => "paid",
        Refunded => "refunded",
    }
);

text_enum!(
    /// A refund is recorded as requested before the gateway is called.
    RefundState {
        Requested => "requested",
        Succeeded => "succeeded",
        Failed => "failed",
    }
);

/// A product line in the cart, priced from the catalogue.
#[derive(Clone, Debug)]
pub struct CartLine {
    pub id: CartItemId,
    pub product: Product,
    pub title: String,
    /// `None` when it is not sold on its own (any more).
    pub price: Option<Won>,
    pub access_months: i32,
}

#[derive(Clone, Debug, Default)]
pub struct Cart {
    pub lines: Vec<CartLine>,
}

impl Cart {
    pub fn total(&self) -> Won {
        self.lines.iter().filter_map(|l| l.price).sum()
    }
}

/// The part of an address kept encrypted.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AddressFields {
    pub main: String,
    pub detail: String,
    pub postal_code: String,
}

/// A billing address, decrypted.
#[derive(Clone, Debug)]
pub struct Address {
    pub id: AddressId,
    pub country: String,
    pub fields: AddressFields,
    pub is_default: bool,
}

impl Address {
    /// `(04524) 서울특별시 중구 세종대로 110 3층`: the address as one line.
    pub fn one_line(&self) -> String {
        format!(
            "({}) {} {}",
            self.fields.postal_code, self.fields.main, self.fields.detail
        )
        .trim()
        .to_string()
    }
}

/// An order as stored (without its encrypted snapshot).
#[derive(Clone, Debug)]
pub struct Order {
    pub id: OrderId,
    pub user_id: UserId,
    pub status: OrderStatus,
    pub gateway: GatewayKind,
    pub total: Won,
    pub created_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub failure_reason: Option<String>,
    /// The gateway's id for the pending payment (KakaoPay `tid`, Toss `paymentKey`).
    pub gateway_ref: Option<String>,
    /// What people read and say: `20261129-000123` (the id stays the key).
    pub number: String,
}

#[derive(Clone, Debug)]
pub struct OrderItem {
    pub product: Product,
    pub title: String,
    pub price: Won,
    pub access_months: i32,
}

#[derive(Clone, Debug)]
pub struct Payment {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub gateway: GatewayKind,
    pub gateway_tx_id: String,
    pub method: String,
    pub amount: Won,
    /// What went back to the learner (settled refunds).
    pub refunded: Won,
    pub approved_at: OffsetDateTime,
}

impl Payment {
    pub fn left(&self) -> Won {
        self.amount.saturating_sub(self.refunded)
    }
}

#[derive(Clone, Debug)]
pub struct Refund {
    pub amount: Won,
    pub reason: String,
    pub by_admin: bool,
    pub state: RefundState,
    pub created_at: OffsetDateTime,
}

/// One logged call to a gateway, for the admin page.
#[derive(Clone, Debug)]
pub struct GatewayCallRecord {
    pub operation: String,
    pub http_status: Option<i32>,
    pub duration_ms: i32,
    pub error: Option<String>,
    pub at: OffsetDateTime,
}

/// A row of the admin payments list.
#[derive(Clone, Debug)]
pub struct AdminOrder {
    pub id: OrderId,
    pub buyer_email: String,
    pub status: OrderStatus,
    pub gateway: GatewayKind,
    pub total: Won,
    pub refunded: Option<Won>,
    pub created_at: OffsetDateTime,
    pub number: String,
    pub paid_at: Option<OffsetDateTime>,
}

/// Countries a billing address may be in, by ISO 3166 code (`labels`
/// names them). The form offers these; anything else is refused.
pub const COUNTRIES: &[&str] = &[
    "KR", "US", "JP", "CN", "TW", "HK", "SG", "VN", "TH", "PH", "ID", "MY", "IN", "AU", "NZ", "CA",
    "GB", "DE", "FR",
];
