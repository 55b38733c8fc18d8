//! Commerce pages: typed values in, formatted by `web::filters`.

use askama::Template;

use crate::labels::{self as filters, refusal_text};
use crate::{
    commerce::{
        model::{Address, AdminOrder, Cart, GatewayKind, Order, OrderDates, OrderStatus},
        refund::Offer,
        service::{AddressForm, AdminOrderDetail, OrderDetail},
    },
    ids::AddressId,
    money::Won,
    web::{PageCtx, form::FormErrors},
};

#[derive(Template)]
#[template(path = "commerce/cart.html")]
pub struct CartPage {
    pub ctx: PageCtx,
    pub cart: Cart,
}

/// Asks before a product goes in the cart: a GET changes nothing, so a
/// link on another site cannot fill a learner's cart.
#[derive(Template)]
#[template(path = "commerce/want.html")]
pub struct WantPage {
    pub ctx: PageCtx,
    pub offer: crate::catalog::Offer,
    pub curriculum_id: Option<crate::ids::CurriculumId>,
    pub course_id: Option<crate::ids::CourseId>,
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
    pub id: AddressId,
    pub form: AddressForm,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "commerce/checkout.html")]
pub struct CheckoutPage {
    pub ctx: PageCtx,
    pub cart: Cart,
    pub addresses: Vec<Address>,
    /// The billing choice shown checked: "none", a saved address's id or
    /// "new".
    pub chosen: String,
    /// A new address as typed (kept when the page comes back with errors).
    pub form: AddressForm,
    pub save_address: bool,
    pub gateway: String,
    pub gateways: Vec<GatewayKind>,
    pub verified: bool,
    /// The policy the learner agrees to, in figures.
    pub policy: crate::commerce::refund::RefundPolicy,
    pub agree_refund: bool,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "commerce/demo_gateway.html")]
pub struct DemoGatewayPage {
    pub ctx: PageCtx,
    pub order: Order,
}

#[derive(Template)]
#[template(path = "commerce/orders.html")]
pub struct OrdersPage {
    pub ctx: PageCtx,
    /// Each order and the time its access runs to.
    pub orders: Vec<(Order, Option<time::OffsetDateTime>)>,
}

#[derive(Template)]
#[template(path = "commerce/order.html")]
pub struct OrderPage {
    pub ctx: PageCtx,
    pub detail: OrderDetail,
    /// Where "학습 시작하기" goes: the buyer's first unfinished topic of a
    /// paid order.
    pub start: Option<crate::ids::TopicId>,
}

impl OrderPage {
    /// Why the refund offer is what it is.
    pub fn explain(&self, offer: &Offer) -> String {
        match offer {
            Offer::Full(_) => "결제 직후이고 강의를 거의 듣지 않아 전액 환불됩니다.".into(),
            Offer::Partial {
                remaining_days,
                access_days,
                ..
            } => {
                format!("남은 수강 기간 {remaining_days}일 / {access_days}일에 비례해 환불됩니다.")
            }
            Offer::Refused(why) => refusal_text(*why).into(),
        }
    }
}

#[derive(Template)]
#[template(path = "commerce/receipt.html")]
pub struct ReceiptPage {
    pub ctx: PageCtx,
    pub detail: OrderDetail,
    pub buyer: String,
    pub buyer_email: String,
}

#[derive(Template)]
#[template(path = "admin/payments.html")]
pub struct AdminPaymentsPage {
    pub ctx: PageCtx,
    pub orders: Vec<AdminOrder>,
    pub status: Option<OrderStatus>,
    pub dates: OrderDates,
    pub from: String,
    pub to: String,
}

impl AdminPaymentsPage {
    pub fn selected(&self, status: &OrderStatus) -> bool {
        self.status == Some(*status)
    }

    /// This list as a CSV download (the same filter).
    pub fn csv_href(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(s) = self.status {
            q.append_pair("status", s.as_str());
        }
        q.append_pair("dates", self.dates.as_str());
        q.append_pair("from", &self.from);
        q.append_pair("to", &self.to);
        q.append_pair("format", "csv");
        format!("/admin/payments?{}", q.finish())
    }
}

#[derive(Template)]
#[template(path = "admin/payment.html")]
pub struct AdminPaymentPage {
    pub ctx: PageCtx,
    pub detail: AdminOrderDetail,
}

#[derive(Template)]
#[template(path = "commerce/toss.html")]
pub struct TossPage {
    pub ctx: PageCtx,
    pub order: Order,
    pub client_key: String,
    pub customer_key: String,
    pub order_name: String,
    pub success_url: String,
    pub fail_url: String,
}

/// What a refund would return, and the button that confirms it.
#[derive(Template)]
#[template(path = "commerce/refund_confirm.html")]
pub struct RefundConfirmPage {
    pub ctx: PageCtx,
    pub detail: OrderDetail,
    pub payment: crate::ids::PaymentId,
    pub amount: Won,
    pub admin: bool,
    pub reason: String,
    pub back: String,
}
