//! Commerce rules: cart, billing addresses, checkout, orders. Prices always
//! come from the catalogue, never from a form; access is `learning::access`'s.
//! Functions take the caller's connection or transaction and return
//! [`CommerceError`] in domain words.

use serde::Deserialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::{
    accounts::{
        self, CurrentUser,
        consent::{self, ConsentKind},
    },
    catalog::{self, model::Product},
    commerce::{
        error::{AddressProblem, CommerceError, CommerceResult},
        model::{
            Address, AddressFields, AdminOrder, Cart, CartLine, GatewayCallRecord, GatewayKind,
            Order, OrderDates, OrderItem, OrderStatus, Payment, Refund,
        },
        refund::{Offer, RefundCase, RefundPolicy},
        repo,
    },
    ids::{AddressId, CartItemId, OrderId, PaymentId, UserId},
    infra::{crypto::DataKeys, sealed},
    learning::access::{self, Access},
    money::Won,
};

/// Renewal opens this many days before access ends.
const RENEWAL_WINDOW_DAYS: i64 = 30;

// ---------- cart ----------

/// Puts a product in the cart: refused when it is unknown, not sold alone,
/// free, already in the cart, or owned with more than 30 days left.
pub async fn add_to_cart(
    conn: &mut PgConnection,
    user: &CurrentUser,
    product: Product,
) -> CommerceResult<()> {
    let offer = catalog::offers(conn, &[product])
        .await?
        .into_iter()
        .next()
        .ok_or(CommerceError::NotFound)?;
    match offer.price {
        None => return Err(CommerceError::NotSoldAlone),
        Some(Won(0)) => return Err(CommerceError::Free),
        Some(_) => {}
    }
    refuse_if_owned(conn, user.id, &[product]).await?;
    if !repo::insert_cart_item(conn, user.id, product).await? {
        return Err(CommerceError::AlreadyInCart);
    }
    Ok(())
}

/// Refuses when the learner holds any of `products` beyond the renewal
/// window: buying it now would pay twice for the same months. Asked when a
/// product goes in the cart, at checkout, and again before a payment is
/// approved.
pub(crate) async fn refuse_if_owned(
    conn: &mut PgConnection,
    user: UserId,
    products: &[Product],
) -> CommerceResult<()> {
    let renewable_from = OffsetDateTime::now_utc() + time::Duration::days(RENEWAL_WINDOW_DAYS);
    for product in products {
        if let Access::Active(until) = access::product_access(conn, user, *product).await?
            && until > renewable_from
        {
            return Err(CommerceError::AlreadyOwned { until });
        }
    }
    Ok(())
}

/// What a product is and costs now, to ask before it goes in the cart.
pub async fn offer(conn: &mut PgConnection, product: Product) -> CommerceResult<catalog::Offer> {
    catalog::offers(conn, &[product])
        .await?
        .into_iter()
        .next()
        .ok_or(CommerceError::NotFound)
}

/// The cart, priced by the catalogue now.
pub async fn cart(conn: &mut PgConnection, user: UserId) -> CommerceResult<Cart> {
    let items = repo::cart_items(conn, user).await?;
    let products: Vec<Product> = items.iter().map(|(_, p)| *p).collect();
    let offers = catalog::offers(conn, &products).await?;
    Ok(Cart {
        lines: items
            .into_iter()
            .filter_map(|(id, product)| {
                let offer = offers.iter().find(|o| o.product == product)?;
                Some(CartLine {
                    id,
                    product,
                    title: offer.title.clone(),
                    price: offer.price,
                    access_months: offer.access_months,
                })
            })
            .collect(),
    })
}

pub async fn remove_from_cart(
    conn: &mut PgConnection,
    user: UserId,
    item: CartItemId,
) -> CommerceResult<()> {
    if repo::delete_cart_item(conn, user, item).await? {
        Ok(())
    } else {
        Err(CommerceError::NotFound)
    }
}

// ---------- billing addresses ----------

fn address_aad(id: AddressId) -> String {
    sealed::BILLING_ADDRESS.aad(id)
}

pub(crate) fn order_address_aad(order: OrderId) -> String {
    sealed::ORDER_BILLING.aad(order)
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

impl From<&Address> for AddressForm {
    fn from(a: &Address) -> Self {
        Self {
            country: a.country.clone(),
            main: a.fields.main.clone(),
            detail: a.fields.detail.clone(),
            postal_code: a.fields.postal_code.clone(),
            is_default: a.is_default.then(|| "on".to_string()),
        }
    }
}

fn validate_address(form: &AddressForm) -> CommerceResult<(String, AddressFields)> {
    let mut problems = Vec::new();
    let country = match form.country.trim() {
        "" => "KR".to_string(),
        c => c.to_ascii_uppercase(),
    };
    if !super::model::COUNTRIES.contains(&country.as_str()) {
        problems.push(AddressProblem::CountryCode);
    }
    let main = form.main.trim().to_string();
    if main.is_empty() {
        problems.push(AddressProblem::MainMissing);
    } else if main.chars().count() > 200 {
        problems.push(AddressProblem::MainTooLong);
    }
    let detail = form.detail.trim().to_string();
    if detail.chars().count() > 200 {
        problems.push(AddressProblem::DetailTooLong);
    }
    let postal_code = form.postal_code.trim().to_string();
    let postal_ok = if country == "KR" {
        postal_code.len() == 5 && postal_code.chars().all(|c| c.is_ascii_digit())
    } else {
        (3..=10).contains(&postal_code.len())
    };
    if !postal_ok {
        problems.push(AddressProblem::PostalCode);
    }
    if problems.is_empty() {
        Ok((
            country,
            AddressFields {
                main,
                detail,
                postal_code,
            },
        ))
    } else {
        Err(CommerceError::InvalidAddress(problems))
    }
}

fn decrypt_address(keys: &DataKeys, row: repo::AddressRow) -> CommerceResult<Address> {
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
) -> CommerceResult<Vec<Address>> {
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
    id: AddressId,
) -> CommerceResult<Address> {
    let row = repo::address(conn, user, id)
        .await?
        .ok_or(CommerceError::NotFound)?;
    decrypt_address(keys, row)
}

/// Saves a new address (`id` None) or changes one; the first is the default.
pub async fn save_address(
    conn: &mut PgConnection,
    keys: &DataKeys,
    user: UserId,
    id: Option<AddressId>,
    form: &AddressForm,
) -> CommerceResult<AddressId> {
    let (country, fields) = validate_address(form)?;
    // One learner's address writes take turns (the caller's transaction
    // holds the lock): parallel "make default" submits cannot both clear
    // and set the default.
    repo::lock_addresses(conn, user).await?;
    let existing = repo::addresses(conn, user).await?;
    let is_default = form.is_default.is_some() || existing.iter().all(|a| Some(a.id) == id);
    let address_id = id.unwrap_or_else(|| AddressId(uuid::Uuid::new_v4()));
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
                return Err(CommerceError::NotFound);
            }
        }
    }
    Ok(address_id)
}

pub async fn delete_address(
    conn: &mut PgConnection,
    user: UserId,
    id: AddressId,
) -> CommerceResult<()> {
    if repo::delete_address(conn, id, user).await? {
        Ok(())
    } else {
        Err(CommerceError::NotFound)
    }
}

// ---------- checkout ----------

/// Creates a pending order from the cart: prices and total snapshotted from
/// the catalogue, the address copied (encrypted) into the order.
/// Where the bill goes: nowhere (a digital course's receipt needs no
/// address), a saved address, or one typed at checkout (saved for next time
/// when the learner asks).
pub enum Billing<'a> {
    None,
    Saved(Option<AddressId>),
    New { form: &'a AddressForm, save: bool },
}

/// Places an order for the cart. Call it inside a transaction: a new address
/// saved here is kept only if the order is.
pub async fn create_order(
    conn: &mut PgConnection,
    keys: &DataKeys,
    user: &CurrentUser,
    billing: Billing<'_>,
    gateway: GatewayKind,
    agreed_refund_policy: bool,
) -> CommerceResult<OrderId> {
    if !user.verified {
        return Err(CommerceError::EmailUnverified);
    }
    if !agreed_refund_policy {
        return Err(CommerceError::RefundPolicyNotAgreed);
    }
    // One checkout per learner at a time; it replaces any order still open
    // for the same products (20 parallel submits leave one open order).
    repo::lock_checkout(conn, user.id).await?;
    let cart = cart(conn, user.id).await?;
    if cart.lines.is_empty() {
        return Err(CommerceError::CartEmpty);
    }
    let products: Vec<Product> = cart.lines.iter().map(|l| l.product).collect();
    refuse_if_owned(conn, user.id, &products).await?;
    repo::supersede_pending_orders(conn, user.id, &products).await?;
    let (address_id, typed) = match billing {
        Billing::None => (None, None),
        Billing::Saved(id) => {
            let id = id.ok_or(CommerceError::AddressMissing)?;
            match address(conn, keys, user.id, id).await {
                Ok(a) => (Some(a.id), Some((a.country, a.fields))),
                Err(CommerceError::NotFound) => return Err(CommerceError::AddressMissing),
                Err(other) => return Err(other),
            }
        }
        Billing::New { form, save } => {
            let (country, fields) = validate_address(form)?;
            let id = match save {
                true => Some(save_address(conn, keys, user.id, None, form).await?),
                false => None,
            };
            (id, Some((country, fields)))
        }
    };
    let mut total = Won::ZERO;
    let mut items = Vec::with_capacity(cart.lines.len());
    for line in cart.lines {
        let Some(price) = line.price.filter(|p| p.is_positive()) else {
            return Err(CommerceError::Unavailable { title: line.title });
        };
        total = total
            .checked_add(price)
            .ok_or(CommerceError::TotalTooLarge)?;
        items.push(OrderItem {
            product: line.product,
            title: line.title,
            price,
            access_months: line.access_months,
        });
    }
    let order = OrderId(uuid::Uuid::new_v4());
    let snapshot = match typed {
        Some((country, fields)) => Some(keys.encrypt(
            &serde_json::to_vec(&(country.as_str(), &fields)).map_err(anyhow::Error::from)?,
            &order_address_aad(order),
        )?),
        None => None,
    };
    repo::insert_order(
        conn,
        order,
        user.id,
        gateway,
        total,
        address_id,
        snapshot.as_deref(),
    )
    .await?;
    for item in &items {
        repo::insert_order_item(conn, order, item).await?;
    }
    consent::record(conn, user.id, &[ConsentKind::RefundPolicy], Some(order)).await?;
    Ok(order)
}

// ---------- orders ----------

/// An order of `user` (others' orders do not exist for them; admins see all).
pub async fn own_order(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: OrderId,
) -> CommerceResult<Order> {
    let order = repo::order(conn, id)
        .await?
        .ok_or(CommerceError::NotFound)?;
    if order.user_id != user.id && !user.is_admin() {
        return Err(CommerceError::NotFound);
    }
    Ok(order)
}

pub struct OrderDetail {
    pub order: Order,
    pub items: Vec<OrderItem>,
    pub payment: Option<Payment>,
    pub billing: Option<(String, AddressFields)>,
    /// What the refund policy offers now, when the payment may be refunded.
    pub refund_offer: Option<Offer>,
    /// How much of what it bought the learner has used, 0-100.
    pub content_used: i64,
}

pub async fn order_detail(
    conn: &mut PgConnection,
    keys: &DataKeys,
    policy: &RefundPolicy,
    user: &CurrentUser,
    id: OrderId,
) -> CommerceResult<OrderDetail> {
    let order = own_order(conn, user, id).await?;
    let items = repo::order_items(conn, id).await?;
    let payment = repo::payment_of_order(conn, id).await?;
    let billing = match repo::billing_snapshot(conn, id).await? {
        Some(blob) => {
            let json = keys.decrypt(&blob, &order_address_aad(id))?;
            Some(serde_json::from_slice(&json).map_err(anyhow::Error::from)?)
        }
        None => None,
    };
    let used = content_used(conn, order.user_id, &items).await?;
    let refund_offer = match &payment {
        Some(payment) if order.status.refundable() => {
            Some(refund_offer(policy, payment, &items, used))
        }
        _ => None,
    };
    Ok(OrderDetail {
        order,
        items,
        payment,
        billing,
        refund_offer,
        content_used: used,
    })
}

/// A learner's orders, each with the time its access runs to (if active).
/// A person's orders, newest first (without what they opened; see
/// [`orders`]).
pub async fn order_list(conn: &mut PgConnection, user: UserId) -> CommerceResult<Vec<Order>> {
    Ok(repo::orders_of(conn, user).await?)
}

pub async fn orders(
    conn: &mut PgConnection,
    user: UserId,
) -> CommerceResult<Vec<(Order, Option<OffsetDateTime>)>> {
    let access = access::until_by_order(conn, user).await?;
    Ok(order_list(conn, user)
        .await?
        .into_iter()
        .map(|o| {
            let until = access.iter().find(|(id, _)| *id == o.id).map(|(_, t)| *t);
            (o, until)
        })
        .collect())
}

/// The order a payment belongs to, for its receipt.
pub async fn payment_order(
    conn: &mut PgConnection,
    user: &CurrentUser,
    payment: PaymentId,
) -> CommerceResult<OrderId> {
    let payment = repo::payment(conn, payment)
        .await?
        .ok_or(CommerceError::NotFound)?;
    own_order(conn, user, payment.order_id).await?;
    Ok(payment.order_id)
}

/// How much of what `items` bought the learner has used, 0-100 (their
/// progress through it, from `learning`).
pub async fn content_used(
    conn: &mut PgConnection,
    learner: crate::ids::UserId,
    items: &[OrderItem],
) -> sqlx::Result<i64> {
    let products: Vec<_> = items.iter().map(|i| i.product).collect();
    crate::learning::progress::used_percent(conn, learner, &products).await
}

/// What the policy offers for this payment now, with `used_percent` of
/// the content used.
pub fn refund_offer(
    policy: &RefundPolicy,
    payment: &Payment,
    items: &[OrderItem],
    used_percent: i64,
) -> Offer {
    let months = items.iter().map(|i| i.access_months).max().unwrap_or(24);
    let access_days = (access::add_months(payment.approved_at, months.max(1) as u32)
        - payment.approved_at)
        .whole_days();
    policy.offer(&RefundCase {
        paid_won: payment.amount.0,
        already_refunded_won: payment.refunded.0,
        paid_at: payment.approved_at,
        access_days,
        used_percent,
        now: OffsetDateTime::now_utc(),
    })
}

// ---------- admin ----------

pub struct AdminOrderDetail {
    pub detail: OrderDetail,
    pub refunds: Vec<Refund>,
    pub calls: Vec<GatewayCallRecord>,
}

pub async fn admin_order(
    conn: &mut PgConnection,
    keys: &DataKeys,
    policy: &RefundPolicy,
    admin: &CurrentUser,
    id: OrderId,
) -> CommerceResult<AdminOrderDetail> {
    let detail = order_detail(conn, keys, policy, admin, id).await?;
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
    status: Option<OrderStatus>,
    dates: OrderDates,
    from: Option<time::Date>,
    to: Option<time::Date>,
    limit: i64,
) -> CommerceResult<Vec<AdminOrder>> {
    let rows = repo::admin_orders(
        conn,
        status,
        dates,
        from.map(crate::web::dates::day_start),
        to.and_then(|d| d.next_day())
            .map(crate::web::dates::day_start),
        limit,
    )
    .await?;
    let buyers: Vec<UserId> = rows.iter().map(|r| r.user_id).collect();
    let emails = accounts::emails_of(conn, &buyers).await?;
    Ok(rows
        .into_iter()
        .map(|r| AdminOrder {
            id: r.id,
            buyer_email: emails.get(&r.user_id).cloned().unwrap_or_default(),
            status: r.status,
            gateway: r.gateway,
            total: r.total_won,
            refunded: r.refunded_won,
            created_at: r.created_at,
            number: r.number,
            paid_at: r.paid_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(matches!(
            validate_address(&form("4524")),
            Err(CommerceError::InvalidAddress(p)) if p == vec![AddressProblem::PostalCode]
        ));
        assert!(validate_address(&form("0452a")).is_err());
        let (country, _) = validate_address(&form("04524")).unwrap_or_default();
        assert_eq!(country, "KR");
    }

    /// The nano-degree seeded, a learner, and every published topic of it.
    async fn learner_with_topics(
        conn: &mut PgConnection,
    ) -> (UserId, Product, Vec<crate::ids::TopicId>) {
        let (user, curriculum) = crate::catalog::seed::testing::seeded_learner(conn).await;
        let product = Product::Curriculum(curriculum);
        let courses = catalog::courses_of(conn, &[product]).await.unwrap();
        let topics = catalog::published_topics(conn, &courses)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        (user, product, topics)
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn the_refund_offer_follows_how_much_of_the_course_was_used(db: sqlx::PgPool) {
        let mut conn = db.acquire().await.unwrap();
        let (user, product, topics) = learner_with_topics(&mut conn).await;
        let items = [OrderItem {
            product,
            title: "nano-degree".into(),
            price: Won(50_000),
            access_months: 24,
        }];
        let now = OffsetDateTime::now_utc();
        let payment = |days_ago: i64, refunded: i64| Payment {
            id: PaymentId(uuid::Uuid::new_v4()),
            order_id: OrderId(uuid::Uuid::new_v4()),
            gateway: GatewayKind::Demo,
            gateway_tx_id: "t".into(),
            method: "demo".into(),
            amount: Won(50_000),
            refunded: Won(refunded),
            approved_at: now - time::Duration::days(days_ago),
        };
        let policy = RefundPolicy::default();
        // Nothing studied yet, three days in: all of it back.
        let used = content_used(&mut conn, user, &items).await.unwrap();
        assert_eq!(used, 0);
        assert_eq!(
            refund_offer(&policy, &payment(3, 0), &items, used),
            Offer::Full(50_000)
        );
        // A fifth of the topics done: past the 10 % of the full refund,
        // so pro rata for the days left (and never more than is left).
        let completion = crate::learning::Completion::unheard();
        let fifth = topics.len() / 5;
        for topic in &topics[..fifth] {
            completion.complete(&mut conn, user, *topic).await.unwrap();
        }
        let used = content_used(&mut conn, user, &items).await.unwrap();
        assert!((15..=25).contains(&used), "{used} % used");
        let Offer::Partial {
            amount,
            remaining_days,
            access_days,
        } = refund_offer(&policy, &payment(3, 0), &items, used)
        else {
            panic!("a partial refund was due");
        };
        assert_eq!(amount, 50_000 * remaining_days / access_days / 10 * 10);
        assert!(amount < 50_000 && amount > 49_000);
        // A second refund counts the first against the pro rata total.
        assert_eq!(
            refund_offer(&policy, &payment(3, 40_000), &items, used).amount(),
            Won(amount - 40_000)
        );
        // Past half the access period: nothing.
        assert_eq!(
            refund_offer(&policy, &payment(400, 0), &items, used),
            Offer::Refused(crate::commerce::refund::RefundRefusal::PastHalfThePeriod)
        );
    }
}
