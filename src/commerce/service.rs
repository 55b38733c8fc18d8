//! Commerce rules: cart, billing addresses, checkout, payment completion,
//! access. Prices always come from the database, never from a form.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    accounts::CurrentUser,
    catalog::model::Won,
    commerce::refund::{Offer, RefundCase, RefundPolicy},
    commerce::repo::{self, CartRow, OrderItemRow, OrderRow, PaymentRow, ProductIds},
    error::{AppError, AppResult, FieldErrors},
    ids::{CourseId, CurriculumId, UserId},
    infra::crypto::DataKeys,
};

/// Renewal opens this many days before access ends.
const RENEWAL_WINDOW_DAYS: i64 = 30;

/// Something for sale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Curriculum(CurriculumId),
    Course(CourseId),
}

impl Product {
    /// From the buy form: `curriculum_id` or `course_id`.
    pub fn from_form(curriculum_id: Option<&str>, course_id: Option<&str>) -> AppResult<Self> {
        let parse = |raw: &str| raw.trim().parse::<Uuid>().map_err(|_| AppError::NotFound);
        match (
            curriculum_id.filter(|s| !s.is_empty()),
            course_id.filter(|s| !s.is_empty()),
        ) {
            (Some(c), None) => Ok(Self::Curriculum(CurriculumId(parse(c)?))),
            (None, Some(c)) => Ok(Self::Course(CourseId(parse(c)?))),
            _ => Err(AppError::BadRequest(
                "구매할 상품을 하나 골라 주세요.".into(),
            )),
        }
    }

    fn ids(&self) -> ProductIds {
        match self {
            Self::Curriculum(id) => ProductIds {
                curriculum_id: Some(id.0),
                course_id: None,
            },
            Self::Course(id) => ProductIds {
                curriculum_id: None,
                course_id: Some(id.0),
            },
        }
    }
}

/// Puts a product in the cart: refused when it is unknown, not sold alone,
/// free, already in the cart, or owned with more than 30 days left.
pub async fn add_to_cart(
    conn: &mut PgConnection,
    user: &CurrentUser,
    product: Product,
) -> AppResult<()> {
    let row = match product {
        Product::Curriculum(id) => repo::curriculum_product(conn, id).await?,
        Product::Course(id) => repo::course_product(conn, id).await?,
    }
    .ok_or(AppError::NotFound)?;
    match row.price_won {
        None => {
            return Err(AppError::Conflict(
                "이 코스는 나노 디그리에 포함되어 있어 단독으로 구매할 수 없습니다.".into(),
            ));
        }
        Some(0) => {
            return Err(AppError::Conflict(
                "무료 코스는 구매하지 않아도 됩니다.".into(),
            ));
        }
        Some(_) => {}
    }
    if let Some(expires) = repo::active_enrolment(conn, user.id, product.ids()).await?
        && expires > OffsetDateTime::now_utc() + time::Duration::days(RENEWAL_WINDOW_DAYS)
    {
        return Err(AppError::Conflict(format!(
            "이미 수강 중인 상품입니다 ({}까지). 만료 30일 전부터 연장할 수 있습니다.",
            crate::web::dates::date(&expires)
        )));
    }
    if !repo::insert_cart_item(conn, user.id, product.ids()).await? {
        return Err(AppError::Conflict(
            "이미 장바구니에 담긴 상품입니다.".into(),
        ));
    }
    Ok(())
}

pub struct CartLine {
    pub id: Uuid,
    pub title: String,
    pub price: String,
    pub access_years: i32,
}

pub struct Cart {
    pub lines: Vec<CartLine>,
    pub total_won: i64,
    pub total: String,
}

fn cart_total(rows: &[CartRow]) -> i64 {
    rows.iter().filter_map(|r| r.price_won).sum()
}

pub async fn cart(conn: &mut PgConnection, user: UserId) -> AppResult<Cart> {
    let rows = repo::cart(conn, user).await?;
    let total_won = cart_total(&rows);
    Ok(Cart {
        lines: rows
            .into_iter()
            .map(|r| CartLine {
                id: r.id,
                title: r.title,
                price: Won(r.price_won.unwrap_or(0)).display(),
                access_years: r.access_days / 365,
            })
            .collect(),
        total_won,
        total: Won(total_won).display(),
    })
}

pub async fn remove_from_cart(conn: &mut PgConnection, user: UserId, item: Uuid) -> AppResult<()> {
    if repo::delete_cart_item(conn, user, item).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

// ---------- billing addresses ----------

/// The encrypted part of an address.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AddressFields {
    pub main: String,
    pub detail: String,
    pub postal_code: String,
}

pub struct Address {
    pub id: Uuid,
    pub country: String,
    pub fields: AddressFields,
    pub is_default: bool,
}

impl Address {
    pub fn one_line(&self) -> String {
        format!(
            "({}) {} {}",
            self.fields.postal_code, self.fields.main, self.fields.detail
        )
        .trim()
        .to_string()
    }
}

fn address_aad(id: Uuid) -> String {
    format!("billing_addresses.address_enc:{id}")
}

fn order_address_aad(order: Uuid) -> String {
    format!("orders.billing_snapshot_enc:{order}")
}

/// The raw address form.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub main: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub postal_code: String,
    pub is_default: Option<String>,
}

fn validate_address(form: &AddressForm) -> AppResult<(String, AddressFields)> {
    let mut errors = FieldErrors::new();
    let country = match form.country.trim() {
        "" => "KR".to_string(),
        c => c.to_ascii_uppercase(),
    };
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
        errors
            .entry("country")
            .or_default()
            .push("국가 코드는 KR처럼 영문 두 글자입니다.".into());
    }
    let main = form.main.trim().to_string();
    if main.is_empty() {
        errors
            .entry("main")
            .or_default()
            .push("주소를 입력해 주세요.".into());
    } else if main.chars().count() > 200 {
        errors
            .entry("main")
            .or_default()
            .push("주소는 200자 이하로 입력해 주세요.".into());
    }
    let detail = form.detail.trim().to_string();
    if detail.chars().count() > 200 {
        errors
            .entry("detail")
            .or_default()
            .push("상세 주소는 200자 이하로 입력해 주세요.".into());
    }
    let postal_code = form.postal_code.trim().to_string();
    let postal_ok = if country == "KR" {
        postal_code.len() == 5 && postal_code.chars().all(|c| c.is_ascii_digit())
    } else {
        (3..=10).contains(&postal_code.len())
    };
    if !postal_ok {
        errors
            .entry("postal_code")
            .or_default()
            .push("우편번호를 확인해 주세요. 국내 우편번호는 숫자 5자리입니다.".into());
    }
    if errors.is_empty() {
        Ok((
            country,
            AddressFields {
                main,
                detail,
                postal_code,
            },
        ))
    } else {
        Err(AppError::Validation(errors))
    }
}

fn decrypt_address(keys: &DataKeys, row: repo::AddressRow) -> AppResult<Address> {
    let json = keys.decrypt(&row.address_enc, &address_aad(row.id))?;
    let fields: AddressFields = serde_json::from_slice(&json).map_err(anyhow::Error::from)?;
    Ok(Address {
        id: row.id,
        country: row.country,
        fields,
        is_default: row.is_default,
    })
}

pub async fn addresses(
    conn: &mut PgConnection,
    keys: &DataKeys,
    user: UserId,
) -> AppResult<Vec<Address>> {
    repo::addresses(conn, user)
        .await?
        .into_iter()
        .map(|row| decrypt_address(keys, row))
        .collect()
}

pub async fn address(
    conn: &mut PgConnection,
    keys: &DataKeys,
    user: UserId,
    id: Uuid,
) -> AppResult<Address> {
    let row = repo::address(conn, user, id)
        .await?
        .ok_or(AppError::NotFound)?;
    decrypt_address(keys, row)
}

/// Saves a new address (`id` None) or changes one; the first is the default.
pub async fn save_address(
    conn: &mut PgConnection,
    keys: &DataKeys,
    user: UserId,
    id: Option<Uuid>,
    form: &AddressForm,
) -> AppResult<Uuid> {
    let (country, fields) = validate_address(form)?;
    let existing = repo::addresses(conn, user).await?;
    let is_default = form.is_default.is_some() || existing.iter().all(|a| Some(a.id) == id);
    let address_id = id.unwrap_or_else(Uuid::new_v4);
    let enc = keys.encrypt(
        &serde_json::to_vec(&fields).map_err(anyhow::Error::from)?,
        &address_aad(address_id),
    )?;
    if is_default {
        repo::clear_default(conn, user, address_id).await?;
    }
    match id {
        None => repo::insert_address(conn, address_id, user, &country, &enc, is_default).await?,
        Some(id) => {
            if !repo::update_address(conn, id, user, &country, &enc, is_default).await? {
                return Err(AppError::NotFound);
            }
        }
    }
    Ok(address_id)
}

pub async fn delete_address(conn: &mut PgConnection, user: UserId, id: Uuid) -> AppResult<()> {
    if repo::delete_address(conn, id, user).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

// ---------- checkout ----------

/// Creates a pending order from the cart: prices and total snapshotted from
/// the catalogue, the address copied (encrypted) into the order.
pub async fn create_order(
    conn: &mut PgConnection,
    keys: &DataKeys,
    user: &CurrentUser,
    address_id: Option<Uuid>,
    gateway: &str,
) -> AppResult<Uuid> {
    if !user.verified {
        return Err(AppError::Forbidden(
            "이메일 인증을 마친 뒤 결제할 수 있습니다. 내 정보에서 인증 메일을 다시 받을 수 있습니다.".into(),
        ));
    }
    let rows = repo::cart(conn, user.id).await?;
    if rows.is_empty() {
        return Err(AppError::Conflict("장바구니가 비어 있습니다.".into()));
    }
    let Some(address_id) = address_id else {
        return Err(AppError::field(
            "address_id",
            "청구지 주소를 선택해 주세요.",
        ));
    };
    let address = address(conn, keys, user.id, address_id)
        .await
        .map_err(|_| AppError::field("address_id", "청구지 주소를 선택해 주세요."))?;
    let mut total = 0i64;
    let mut priced = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(price) = row.price_won.filter(|p| *p > 0) else {
            return Err(AppError::Conflict(format!(
                "{}은(는) 지금 구매할 수 없습니다. 장바구니에서 빼 주세요.",
                row.title
            )));
        };
        total = total
            .checked_add(price)
            .ok_or_else(|| AppError::BadRequest("금액이 너무 큽니다.".into()))?;
        priced.push((row, price));
    }
    let order = Uuid::new_v4();
    let snapshot = keys.encrypt(
        &serde_json::to_vec(&(address.country.as_str(), &address.fields))
            .map_err(anyhow::Error::from)?,
        &order_address_aad(order),
    )?;
    repo::insert_order(conn, order, user.id, gateway, total, address_id, &snapshot).await?;
    for (row, price) in &priced {
        repo::insert_order_item(conn, order, row, *price).await?;
    }
    Ok(order)
}

/// What the gateway reports it charged.
pub struct Approval<'a> {
    pub gateway: &'a str,
    pub tx_id: &'a str,
    pub method: &'a str,
    pub amount_won: i64,
    pub approved_at: OffsetDateTime,
}

/// Records an approved payment exactly once. Locks the order row: a double
/// click, a repeated return URL or concurrent approvals all end in one
/// payment and one enrolment. An amount that is not the order's total
/// leaves the order unpaid.
pub async fn complete_payment(
    conn: &mut PgConnection,
    order_id: Uuid,
    approval: Approval<'_>,
) -> AppResult<PaymentRow> {
    let order = repo::lock_order(conn, order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(existing) = repo::payment_of_order(conn, order_id).await? {
        return Ok(existing);
    }
    if order.status != "pending" {
        return Err(AppError::Conflict("이미 처리된 주문입니다.".into()));
    }
    if order.gateway != approval.gateway {
        return Err(AppError::Conflict("주문한 결제 수단과 다릅니다.".into()));
    }
    if approval.amount_won != order.total_won {
        repo::set_order_status(
            conn,
            order_id,
            "failed",
            Some("approved amount differs from the order total"),
        )
        .await?;
        return Err(AppError::Conflict(
            "결제 금액이 주문 금액과 달라 결제를 완료하지 않았습니다.".into(),
        ));
    }
    repo::insert_payment(
        conn,
        order_id,
        approval.gateway,
        approval.tx_id,
        approval.method,
        approval.amount_won,
        approval.approved_at,
    )
    .await?;
    repo::set_order_status(conn, order_id, "paid", None).await?;
    for item in repo::order_items(conn, order_id).await? {
        repo::extend_enrolment(conn, order.user_id, &item, order_id).await?;
    }
    repo::clear_bought_from_cart(conn, order.user_id, order_id).await?;
    repo::payment_of_order(conn, order_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The learner left the gateway or it refused: a pending order fails.
pub async fn fail_order(conn: &mut PgConnection, order_id: Uuid, reason: &str) -> AppResult<()> {
    let order = repo::lock_order(conn, order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if order.status == "pending" {
        repo::set_order_status(conn, order_id, "failed", Some(reason)).await?;
    }
    Ok(())
}

/// An order of `user` (others' orders do not exist for them).
pub async fn own_order(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: Uuid,
) -> AppResult<OrderRow> {
    let order = repo::order(conn, id).await?.ok_or(AppError::NotFound)?;
    if order.user_id != user.id.0 && !user.is_admin() {
        return Err(AppError::NotFound);
    }
    Ok(order)
}

pub struct OrderDetail {
    pub order: OrderRow,
    pub items: Vec<OrderItemRow>,
    pub payment: Option<PaymentRow>,
    pub billing: Option<(String, AddressFields)>,
}

pub async fn order_detail(
    conn: &mut PgConnection,
    keys: &DataKeys,
    user: &CurrentUser,
    id: Uuid,
) -> AppResult<OrderDetail> {
    let order = own_order(conn, user, id).await?;
    let items = repo::order_items(conn, id).await?;
    let payment = repo::payment_of_order(conn, id).await?;
    let billing = match &order.billing_snapshot_enc {
        Some(blob) => {
            let json = keys.decrypt(blob, &order_address_aad(id))?;
            Some(serde_json::from_slice(&json).map_err(anyhow::Error::from)?)
        }
        None => None,
    };
    Ok(OrderDetail {
        order,
        items,
        payment,
        billing,
    })
}

/// A learner's orders, each with the date its access runs to (if active).
pub async fn orders(
    conn: &mut PgConnection,
    user: UserId,
) -> AppResult<Vec<(OrderRow, Option<String>)>> {
    let access = repo::access_by_order(conn, user).await?;
    Ok(repo::orders_of(conn, user)
        .await?
        .into_iter()
        .map(|o| {
            let until = access
                .iter()
                .find(|(id, _)| *id == o.id)
                .map(|(_, t)| crate::web::dates::date(t));
            (o, until)
        })
        .collect())
}

/// The order a payment belongs to, for its receipt.
pub async fn payment_order(
    conn: &mut PgConnection,
    user: &CurrentUser,
    payment: Uuid,
) -> AppResult<Uuid> {
    let payment = repo::payment(conn, payment)
        .await?
        .ok_or(AppError::NotFound)?;
    own_order(conn, user, payment.order_id).await?;
    Ok(payment.order_id)
}

/// Korean label of an order status.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "pending" => "결제 대기",
        "paid" => "결제 완료",
        "partially_refunded" => "부분 환불",
        "refunded" => "환불 완료",
        "failed" => "결제 실패",
        "cancelled" => "취소",
        _ => "알 수 없음",
    }
}

// ---------- refunds ----------

/// What the policy offers for this payment now.
pub async fn refund_offer(
    conn: &mut PgConnection,
    policy: &RefundPolicy,
    payment: &PaymentRow,
    order: &OrderRow,
) -> AppResult<Offer> {
    let items = repo::order_items(conn, order.id).await?;
    let access_days = items
        .iter()
        .map(|i| i64::from(i.access_days))
        .max()
        .unwrap_or(730);
    Ok(policy.offer(&RefundCase {
        paid_won: payment.amount_won,
        already_refunded_won: payment.refunded_won,
        paid_at: payment.approved_at,
        access_days,
        // Nothing records watching or missions yet, so nothing can have been
        // used; the learning capability feeds this in when it lands.
        used_percent: 0,
        now: OffsetDateTime::now_utc(),
    }))
}

/// Refunds a payment: the learner under the policy, an admin any amount up
/// to what is left. The order row is locked for the whole refund, so two
/// refunds of one payment run one after the other and never exceed it. The
/// access bought ends at once.
pub async fn refund(
    conn: &mut PgConnection,
    gateways: &crate::commerce::gateway::Gateways,
    actor: &CurrentUser,
    payment_id: Uuid,
    admin_amount: Option<i64>,
    reason: &str,
) -> AppResult<i64> {
    let payment = repo::payment(conn, payment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let order = repo::lock_order(conn, payment.order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if order.user_id != actor.id.0 && !actor.is_admin() {
        return Err(AppError::NotFound);
    }
    // Read again under the lock: an earlier refund may just have committed.
    let payment = repo::payment(conn, payment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let left = payment.amount_won - payment.refunded_won;
    let amount = match admin_amount.filter(|_| actor.is_admin()) {
        Some(amount) if amount > 0 && amount <= left => amount,
        Some(_) => {
            return Err(AppError::field(
                "amount",
                format!(
                    "환불 금액은 1원 이상 {}원 이하로 입력해 주세요.",
                    crate::catalog::model::thousands(left)
                ),
            ));
        }
        None => match refund_offer(conn, &gateways.refund_policy, &payment, &order).await? {
            Offer::Refused(reason) => return Err(AppError::Conflict(reason)),
            offer => offer.amount(),
        },
    };
    let key = format!("refund-{}-{}", payment.id.simple(), payment.refunded_won);
    crate::commerce::flow::cancel_at_gateway(
        conn,
        gateways,
        order.id,
        &payment.gateway,
        &payment.gateway_tx_id,
        amount,
        &key,
    )
    .await?;
    let reason = match reason.trim() {
        "" if actor.is_admin() => "관리자 환불",
        "" => "수강생 환불 요청",
        r => r,
    };
    repo::insert_refund(
        conn,
        payment.id,
        amount,
        reason,
        actor.id.0,
        actor.is_admin(),
        &key,
    )
    .await?;
    let status = if payment.refunded_won + amount == payment.amount_won {
        "refunded"
    } else {
        "partially_refunded"
    };
    repo::set_order_status(conn, order.id, status, None).await?;
    repo::end_enrolments_of_order(conn, order.id).await?;
    Ok(amount)
}

pub struct AdminOrderDetail {
    pub detail: OrderDetail,
    pub refunds: Vec<repo::RefundRow>,
    pub calls: Vec<repo::GatewayCallRow>,
}

pub async fn admin_order(
    conn: &mut PgConnection,
    keys: &DataKeys,
    admin: &CurrentUser,
    id: Uuid,
) -> AppResult<AdminOrderDetail> {
    let detail = order_detail(conn, keys, admin, id).await?;
    let refunds = match &detail.payment {
        Some(p) => repo::refunds_of(conn, p.id).await?,
        None => Vec::new(),
    };
    let calls = repo::gateway_calls_of(conn, id).await?;
    Ok(AdminOrderDetail {
        detail,
        refunds,
        calls,
    })
}

/// Orders for the admin list; dates are Asia/Seoul calendar days.
pub async fn admin_orders(
    conn: &mut PgConnection,
    status: Option<&str>,
    from: Option<time::Date>,
    to: Option<time::Date>,
) -> AppResult<Vec<repo::AdminOrderRow>> {
    Ok(repo::admin_orders(
        conn,
        status,
        from.map(crate::web::dates::day_start),
        to.and_then(|d| d.next_day())
            .map(crate::web::dates::day_start),
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_come_from_exactly_one_id() {
        let id = Uuid::new_v4().to_string();
        assert!(matches!(
            Product::from_form(Some(&id), None),
            Ok(Product::Curriculum(_))
        ));
        assert!(matches!(
            Product::from_form(None, Some(&id)),
            Ok(Product::Course(_))
        ));
        assert!(Product::from_form(Some(&id), Some(&id)).is_err());
        assert!(Product::from_form(None, None).is_err());
        assert!(matches!(
            Product::from_form(Some("nope"), None),
            Err(AppError::NotFound)
        ));
    }

    #[test]
    fn korean_postal_codes_are_five_digits() {
        let form = |postal: &str| AddressForm {
            country: "kr".into(),
            main: "서울특별시 중구 세종대로 110".into(),
            detail: "3층".into(),
            postal_code: postal.into(),
            is_default: None,
        };
        assert!(validate_address(&form("04524")).is_ok());
        assert!(validate_address(&form("4524")).is_err());
        assert!(validate_address(&form("0452a")).is_err());
        let (country, _) = validate_address(&form("04524")).unwrap_or_default();
        assert_eq!(country, "KR");
    }
}
