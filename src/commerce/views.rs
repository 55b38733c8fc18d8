use askama::Template;
use uuid::Uuid;

use crate::{
    catalog::model::Won,
    commerce::{
        gateway::GatewayOption,
        refund::Offer,
        repo::AdminOrderRow,
        repo::OrderRow,
        service::{Address, AddressForm, AdminOrderDetail, Cart, OrderDetail, status_label},
    },
    web::{PageCtx, form::FormErrors},
};

/// Helpers every commerce template uses.
pub trait Money {
    fn won(&self, amount: impl std::borrow::Borrow<i64>) -> String {
        Won(*amount.borrow()).display()
    }
    fn status(&self, code: &str) -> &'static str {
        status_label(code)
    }
    fn date(&self, t: &time::OffsetDateTime) -> String {
        crate::web::dates::date(t)
    }
}

#[derive(Template)]
#[template(path = "commerce/cart.html")]
pub struct CartPage {
    pub ctx: PageCtx,
    pub cart: Cart,
}

#[derive(Template)]
#[template(path = "commerce/addresses.html")]
pub struct AddressesPage {
    pub ctx: PageCtx,
    pub addresses: Vec<Address>,
    pub form: AddressForm,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "commerce/address_edit.html")]
pub struct AddressEditPage {
    pub ctx: PageCtx,
    pub id: Uuid,
    pub form: AddressForm,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "commerce/checkout.html")]
pub struct CheckoutPage {
    pub ctx: PageCtx,
    pub cart: Cart,
    pub addresses: Vec<Address>,
    pub gateways: Vec<GatewayOption>,
    pub verified: bool,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "commerce/demo_gateway.html")]
pub struct DemoGatewayPage {
    pub ctx: PageCtx,
    pub order: OrderRow,
}
impl Money for DemoGatewayPage {}

#[derive(Template)]
#[template(path = "commerce/orders.html")]
pub struct OrdersPage {
    pub ctx: PageCtx,
    /// Each order and the date its access runs to.
    pub orders: Vec<(OrderRow, Option<String>)>,
}
impl Money for OrdersPage {}

#[derive(Template)]
#[template(path = "commerce/order.html")]
pub struct OrderPage {
    pub ctx: PageCtx,
    pub detail: OrderDetail,
    pub refund_offer: Option<Offer>,
}
impl Money for OrderPage {}

#[derive(Template)]
#[template(path = "commerce/receipt.html")]
pub struct ReceiptPage {
    pub ctx: PageCtx,
    pub detail: OrderDetail,
    pub buyer: String,
    pub buyer_email: String,
}
impl Money for ReceiptPage {}

#[derive(Template)]
#[template(path = "admin/payments.html")]
pub struct AdminPaymentsPage {
    pub ctx: PageCtx,
    pub orders: Vec<AdminOrderRow>,
    pub status: String,
    pub from: String,
    pub to: String,
}
impl Money for AdminPaymentsPage {}

impl AdminPaymentsPage {
    pub fn statuses(&self) -> [&'static str; 6] {
        [
            "pending",
            "paid",
            "partially_refunded",
            "refunded",
            "failed",
            "cancelled",
        ]
    }
}

#[derive(Template)]
#[template(path = "admin/payment.html")]
pub struct AdminPaymentPage {
    pub ctx: PageCtx,
    pub detail: AdminOrderDetail,
}
impl Money for AdminPaymentPage {}

#[derive(Template)]
#[template(path = "commerce/toss.html")]
pub struct TossPage {
    pub ctx: PageCtx,
    pub order: OrderRow,
    pub client_key: String,
    pub customer_key: String,
    pub order_name: String,
    pub success_url: String,
    pub fail_url: String,
}
impl Money for TossPage {}
