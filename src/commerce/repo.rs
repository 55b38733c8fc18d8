//! Commerce SQL: its own tables only (cart items, addresses, orders, items,
//! payments, refunds, the gateway call log). Catalogue prices and buyers'
//! emails come through those capabilities' public functions.

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::{
    catalog::model::Product,
    commerce::model::{
        GatewayCallRecord, GatewayKind, Order, OrderDates, OrderItem, OrderStatus, Payment, Refund,
        RefundState,
    },
    ids::{AddressId, CartItemId, OrderId, PaymentId, RefundId, UserId},
    money::Won,
};

// ---------- cart ----------

/// `false` when the product is already in the cart.
pub async fn insert_cart_item(
    conn: &mut PgConnection,
    user: UserId,
    product: Product,
) -> sqlx::Result<bool> {
    let (curriculum, course) = product.columns();
    let done = sqlx::query!(
        "INSERT INTO cart_items (user_id, curriculum_id, course_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        user.0,
        curriculum,
        course
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The cart's lines in the order they were added.
pub async fn cart_items(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<(CartItemId, Product)>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id: CartItemId", curriculum_id, course_id FROM cart_items
            WHERE user_id = $1 ORDER BY created_at"#,
        user.0
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.id, Product::from_columns(r.curriculum_id, r.course_id)?)))
        .collect())
}

pub async fn delete_cart_item(
    conn: &mut PgConnection,
    user: UserId,
    id: CartItemId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "DELETE FROM cart_items WHERE id = $1 AND user_id = $2",
        id.0,
        user.0
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes bought products from the buyer's cart.
pub async fn clear_bought_from_cart(
    conn: &mut PgConnection,
    user: UserId,
    order: OrderId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM cart_items ci USING order_items oi
          WHERE oi.order_id = $2 AND ci.user_id = $1
            AND (ci.curriculum_id = oi.curriculum_id OR ci.course_id = oi.course_id)",
        user.0,
        order.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------- addresses ----------

pub struct AddressRow {
    pub id: AddressId,
    pub country: String,
    pub address_enc: Vec<u8>,
    pub is_default: bool,
}

pub async fn addresses(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<AddressRow>> {
    sqlx::query_as!(
        AddressRow,
        r#"SELECT id AS "id: AddressId", country, address_enc, is_default FROM billing_addresses
          WHERE user_id = $1 AND deleted_at IS NULL ORDER BY is_default DESC, created_at"#,
        user.0
    )
    .fetch_all(conn)
    .await
}

pub async fn address(
    conn: &mut PgConnection,
    user: UserId,
    id: AddressId,
) -> sqlx::Result<Option<AddressRow>> {
    sqlx::query_as!(
        AddressRow,
        r#"SELECT id AS "id: AddressId", country, address_enc, is_default FROM billing_addresses
          WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL"#,
        id.0,
        user.0
    )
    .fetch_optional(conn)
    .await
}

/// Clears the default flag of the user's other addresses.
pub async fn clear_default(
    conn: &mut PgConnection,
    user: UserId,
    except: AddressId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE billing_addresses SET is_default = false WHERE user_id = $1 AND id <> $2 AND is_default",
        user.0,
        except.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_address(
    conn: &mut PgConnection,
    id: AddressId,
    user: UserId,
    country: &str,
    enc: &[u8],
    is_default: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO billing_addresses (id, user_id, country, address_enc, is_default) VALUES ($1, $2, $3, $4, $5)",
        id.0,
        user.0,
        country,
        enc,
        is_default
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_address(
    conn: &mut PgConnection,
    id: AddressId,
    user: UserId,
    country: &str,
    enc: &[u8],
    is_default: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE billing_addresses SET country = $3, address_enc = $4, is_default = $5, updated_at = now()
          WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
        id.0,
        user.0,
        country,
        enc,
        is_default
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_address(
    conn: &mut PgConnection,
    id: AddressId,
    user: UserId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE billing_addresses SET deleted_at = now(), is_default = false WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
        id.0,
        user.0
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

// ---------- orders ----------

/// Serialises one learner's checkouts until the transaction ends.
pub async fn lock_checkout(conn: &mut PgConnection, user: UserId) -> sqlx::Result<()> {
    crate::infra::db::lock(conn, "checkout", &user.to_string()).await
}

/// Closes the learner's pending orders for any of `products`: a newer
/// checkout replaces them, so one product never has two open orders.
/// Returns how many were closed.
pub async fn supersede_pending_orders(
    conn: &mut PgConnection,
    user: UserId,
    products: &[Product],
) -> sqlx::Result<u64> {
    let (curricula, courses) = Product::split(products);
    let done = sqlx::query!(
        "UPDATE orders SET status = 'cancelled', updated_at = now(),
                failure_reason = 'replaced by a newer checkout'
          WHERE user_id = $1 AND status = 'pending'
            AND id IN (SELECT order_id FROM order_items
                        WHERE curriculum_id = ANY($2) OR course_id = ANY($3))",
        user.0,
        &curricula,
        &courses
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Serialises one learner's billing-address writes until the transaction ends.
pub async fn lock_addresses(conn: &mut PgConnection, user: UserId) -> sqlx::Result<()> {
    crate::infra::db::lock(conn, "billing_addresses", &user.to_string()).await
}

pub async fn insert_order(
    conn: &mut PgConnection,
    id: OrderId,
    user: UserId,
    gateway: GatewayKind,
    total: Won,
    address: Option<AddressId>,
    snapshot_enc: Option<&[u8]>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO orders (id, user_id, gateway, total_won, billing_address_id, billing_snapshot_enc)
         VALUES ($1, $2, $3, $4, $5, $6)",
        id.0,
        user.0,
        gateway.as_str(),
        total.0,
        address.map(|a| a.0),
        snapshot_enc
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_order_item(
    conn: &mut PgConnection,
    order: OrderId,
    item: &OrderItem,
) -> sqlx::Result<()> {
    let (curriculum, course) = item.product.columns();
    sqlx::query!(
        "INSERT INTO order_items (order_id, curriculum_id, course_id, title, price_won, access_months)
         VALUES ($1, $2, $3, $4, $5, $6)",
        order.0,
        curriculum,
        course,
        item.title,
        item.price.0,
        item.access_months
    )
    .execute(conn)
    .await?;
    Ok(())
}

struct OrderRow {
    id: OrderId,
    user_id: UserId,
    status: OrderStatus,
    gateway: GatewayKind,
    total_won: Won,
    created_at: OffsetDateTime,
    paid_at: Option<OffsetDateTime>,
    failure_reason: Option<String>,
    gateway_ref: Option<String>,
    number: String,
}

impl From<OrderRow> for Order {
    fn from(r: OrderRow) -> Self {
        Order {
            id: r.id,
            user_id: r.user_id,
            status: r.status,
            gateway: r.gateway,
            total: r.total_won,
            created_at: r.created_at,
            paid_at: r.paid_at,
            failure_reason: r.failure_reason,
            gateway_ref: r.gateway_ref,
            number: r.number,
        }
    }
}

pub async fn order(conn: &mut PgConnection, id: OrderId) -> sqlx::Result<Option<Order>> {
    let row = sqlx::query_as!(
        OrderRow,
        r#"SELECT id AS "id: OrderId", user_id AS "user_id: UserId", status AS "status: OrderStatus",
                  gateway AS "gateway: GatewayKind", total_won AS "total_won: Won", created_at, paid_at,
                  failure_reason, gateway_ref, number
             FROM orders WHERE id = $1"#,
        id.0
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Order::from))
}

/// The order, locked until the transaction ends (approval and refund races).
pub async fn lock_order(conn: &mut PgConnection, id: OrderId) -> sqlx::Result<Option<Order>> {
    let row = sqlx::query_as!(
        OrderRow,
        r#"SELECT id AS "id: OrderId", user_id AS "user_id: UserId", status AS "status: OrderStatus",
                  gateway AS "gateway: GatewayKind", total_won AS "total_won: Won", created_at, paid_at,
                  failure_reason, gateway_ref, number
             FROM orders WHERE id = $1 FOR UPDATE"#,
        id.0
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Order::from))
}

pub async fn orders_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<Order>> {
    let rows = sqlx::query_as!(
        OrderRow,
        r#"SELECT id AS "id: OrderId", user_id AS "user_id: UserId", status AS "status: OrderStatus",
                  gateway AS "gateway: GatewayKind", total_won AS "total_won: Won", created_at, paid_at,
                  failure_reason, gateway_ref, number
             FROM orders WHERE user_id = $1 ORDER BY created_at DESC"#,
        user.0
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Order::from).collect())
}

/// The encrypted billing address copied into an order.
pub async fn billing_snapshot(
    conn: &mut PgConnection,
    order: OrderId,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar!(
        "SELECT billing_snapshot_enc FROM orders WHERE id = $1",
        order.0
    )
    .fetch_one(conn)
    .await
}

pub async fn order_items(conn: &mut PgConnection, order: OrderId) -> sqlx::Result<Vec<OrderItem>> {
    let rows = sqlx::query!(
        r#"SELECT curriculum_id, course_id, title, price_won AS "price_won: Won", access_months
             FROM order_items WHERE order_id = $1 ORDER BY title"#,
        order.0
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(OrderItem {
                product: Product::from_columns(r.curriculum_id, r.course_id)?,
                title: r.title,
                price: r.price_won,
                access_months: r.access_months,
            })
        })
        .collect())
}

pub async fn set_order_status(
    conn: &mut PgConnection,
    id: OrderId,
    status: OrderStatus,
    failure: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE orders SET status = $2, failure_reason = $3, updated_at = now(),
                paid_at = CASE WHEN $2 = 'paid' AND paid_at IS NULL THEN now() ELSE paid_at END
          WHERE id = $1",
        id.0,
        status.as_str(),
        failure
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The gateway's id for an order's pending payment.
pub async fn set_gateway_ref(
    conn: &mut PgConnection,
    order: OrderId,
    gateway_ref: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE orders SET gateway_ref = $2, updated_at = now() WHERE id = $1",
        order.0,
        gateway_ref
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------- payments ----------

struct PaymentRow {
    id: PaymentId,
    order_id: OrderId,
    gateway: GatewayKind,
    gateway_tx_id: String,
    method: String,
    amount_won: Won,
    refunded_won: Won,
    approved_at: OffsetDateTime,
}

impl From<PaymentRow> for Payment {
    fn from(r: PaymentRow) -> Self {
        Payment {
            id: r.id,
            order_id: r.order_id,
            gateway: r.gateway,
            gateway_tx_id: r.gateway_tx_id,
            method: r.method,
            amount: r.amount_won,
            refunded: r.refunded_won,
            approved_at: r.approved_at,
        }
    }
}

pub struct NewPayment<'a> {
    pub order: OrderId,
    pub gateway: GatewayKind,
    pub tx_id: &'a str,
    pub method: &'a str,
    pub amount: Won,
    pub approved_at: OffsetDateTime,
}

pub async fn insert_payment(conn: &mut PgConnection, p: &NewPayment<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO payments (order_id, gateway, gateway_tx_id, method, amount_won, approved_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        p.order.0,
        p.gateway.as_str(),
        p.tx_id,
        p.method,
        p.amount.0,
        p.approved_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn payment_of_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> sqlx::Result<Option<Payment>> {
    let row = sqlx::query_as!(
        PaymentRow,
        r#"SELECT id AS "id: PaymentId", order_id AS "order_id: OrderId", gateway AS "gateway: GatewayKind",
                  gateway_tx_id, method, amount_won AS "amount_won: Won", refunded_won AS "refunded_won: Won", approved_at
             FROM payments WHERE order_id = $1"#,
        order.0
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Payment::from))
}

pub async fn payment(conn: &mut PgConnection, id: PaymentId) -> sqlx::Result<Option<Payment>> {
    let row = sqlx::query_as!(
        PaymentRow,
        r#"SELECT id AS "id: PaymentId", order_id AS "order_id: OrderId", gateway AS "gateway: GatewayKind",
                  gateway_tx_id, method, amount_won AS "amount_won: Won", refunded_won AS "refunded_won: Won", approved_at
             FROM payments WHERE id = $1"#,
        id.0
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Payment::from))
}

// ---------- refunds ----------

pub struct NewRefund<'a> {
    pub id: RefundId,
    pub payment: PaymentId,
    pub amount: Won,
    pub reason: &'a str,
    pub requested_by: UserId,
    pub by_admin: bool,
    pub idempotency_key: &'a str,
}

/// Records a refund as requested (before the gateway is called).
pub async fn insert_refund(conn: &mut PgConnection, r: &NewRefund<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO refunds (id, payment_id, amount_won, reason, requested_by, by_admin, idempotency_key, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested')",
        r.id.0,
        r.payment.0,
        r.amount.0,
        r.reason,
        r.requested_by.0,
        r.by_admin,
        r.idempotency_key
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What of a payment is refunded or being refunded.
pub async fn refunds_claimed(conn: &mut PgConnection, payment: PaymentId) -> sqlx::Result<Won> {
    let total = sqlx::query_scalar!(
        r#"SELECT coalesce(sum(amount_won), 0)::bigint AS "total!" FROM refunds
            WHERE payment_id = $1 AND state IN ('requested', 'succeeded')"#,
        payment.0
    )
    .fetch_one(conn)
    .await?;
    Ok(Won(total))
}

pub struct PendingRefund {
    pub id: RefundId,
    pub payment: PaymentId,
    pub amount: Won,
    pub state: RefundState,
}

/// The refund, locked until the transaction ends.
pub async fn lock_refund(
    conn: &mut PgConnection,
    id: RefundId,
) -> sqlx::Result<Option<PendingRefund>> {
    sqlx::query_as!(
        PendingRefund,
        r#"SELECT id AS "id: RefundId", payment_id AS "payment: PaymentId", amount_won AS "amount: Won",
                  state AS "state: RefundState"
             FROM refunds WHERE id = $1 FOR UPDATE"#,
        id.0
    )
    .fetch_optional(conn)
    .await
}

/// Settles a requested refund; a success adds it to the payment's total.
pub async fn settle_refund(
    conn: &mut PgConnection,
    refund: &PendingRefund,
    state: RefundState,
    failure: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE refunds SET state = $2, failure_reason = $3, settled_at = now() WHERE id = $1",
        refund.id.0,
        state.as_str(),
        failure
    )
    .execute(&mut *conn)
    .await?;
    if state == RefundState::Succeeded {
        sqlx::query!(
            "UPDATE payments SET refunded_won = refunded_won + $2 WHERE id = $1",
            refund.payment.0,
            refund.amount.0
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

pub async fn refunds_of(conn: &mut PgConnection, payment: PaymentId) -> sqlx::Result<Vec<Refund>> {
    sqlx::query_as!(
        Refund,
        r#"SELECT amount_won AS "amount: Won", reason, by_admin, state AS "state: RefundState", created_at
             FROM refunds WHERE payment_id = $1 ORDER BY created_at"#,
        payment.0
    )
    .fetch_all(conn)
    .await
}

// ---------- gateway call log ----------

/// One call to a payment gateway, for the log.
#[derive(Clone, Debug)]
pub struct GatewayCall {
    pub order: OrderId,
    pub gateway: GatewayKind,
    pub operation: &'static str,
    pub request: serde_json::Value,
    pub response: Option<serde_json::Value>,
    pub http_status: Option<i32>,
    pub duration_ms: i32,
    pub error: Option<String>,
}

pub async fn record_gateway_call(conn: &mut PgConnection, call: &GatewayCall) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO gateway_calls (order_id, gateway, operation, request, response, http_status, duration_ms, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        call.order.0,
        call.gateway.as_str(),
        call.operation,
        call.request,
        call.response,
        call.http_status,
        call.duration_ms,
        call.error
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn gateway_calls_of(
    conn: &mut PgConnection,
    order: OrderId,
) -> sqlx::Result<Vec<GatewayCallRecord>> {
    sqlx::query_as!(
        GatewayCallRecord,
        "SELECT operation, http_status, duration_ms, error, at FROM gateway_calls WHERE order_id = $1 ORDER BY at",
        order.0
    )
    .fetch_all(conn)
    .await
}

// ---------- admin ----------

pub struct AdminOrderRow {
    pub id: OrderId,
    pub user_id: UserId,
    pub status: OrderStatus,
    pub gateway: GatewayKind,
    pub total_won: Won,
    pub refunded_won: Option<Won>,
    pub created_at: OffsetDateTime,
    pub number: String,
    pub paid_at: Option<OffsetDateTime>,
}

/// Orders by state and by one of their dates (inclusive `from`, exclusive
/// `to`), newest first.
pub async fn admin_orders(
    conn: &mut PgConnection,
    status: Option<OrderStatus>,
    dates: OrderDates,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    limit: i64,
) -> sqlx::Result<Vec<AdminOrderRow>> {
    sqlx::query_as!(
        AdminOrderRow,
        r#"SELECT o.id AS "id: OrderId", o.user_id AS "user_id: UserId", o.status AS "status: OrderStatus",
                  o.gateway AS "gateway: GatewayKind", o.total_won AS "total_won: Won",
                  p.refunded_won AS "refunded_won?: Won", o.created_at, o.number,
                  p.approved_at AS "paid_at?"
             FROM orders o LEFT JOIN payments p ON p.order_id = o.id
            WHERE ($1::text IS NULL OR o.status = $1)
              AND CASE $4
                  WHEN 'paid' THEN p.approved_at >= coalesce($2::timestamptz, '-infinity')
                               AND p.approved_at < coalesce($3::timestamptz, 'infinity')
                  WHEN 'refunded' THEN EXISTS (
                      SELECT 1 FROM refunds r
                       WHERE r.payment_id = p.id AND r.state = 'succeeded'
                         AND r.settled_at >= coalesce($2::timestamptz, '-infinity')
                         AND r.settled_at < coalesce($3::timestamptz, 'infinity'))
                  ELSE ($2::timestamptz IS NULL OR o.created_at >= $2)
                   AND ($3::timestamptz IS NULL OR o.created_at < $3)
                  END
            ORDER BY o.created_at DESC LIMIT $5"#,
        status.map(|s| s.as_str()),
        from,
        to,
        dates.as_str(),
        limit
    )
    .fetch_all(conn)
    .await
}
