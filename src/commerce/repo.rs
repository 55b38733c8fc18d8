//! Commerce SQL.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ids::{CourseId, CurriculumId, UserId};

/// A product as stored: exactly one of the two ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProductIds {
    pub curriculum_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
}

/// What a product costs, read from the catalogue (never the form); `None`
/// when it is not sold on its own.
pub struct ProductRow {
    pub price_won: Option<i64>,
}

pub async fn curriculum_product(
    conn: &mut PgConnection,
    id: CurriculumId,
) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as!(
        ProductRow,
        r#"SELECT price_won AS "price_won?" FROM curricula WHERE id = $1 AND deleted_at IS NULL"#,
        id.0
    )
    .fetch_optional(conn)
    .await
}

/// A course is sold alone when it has its own price.
pub async fn course_product(
    conn: &mut PgConnection,
    id: CourseId,
) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as!(
        ProductRow,
        "SELECT price_won FROM courses WHERE id = $1 AND deleted_at IS NULL",
        id.0
    )
    .fetch_optional(conn)
    .await
}

/// The active enrolment of a user for a product: its expiry.
pub async fn active_enrolment(
    conn: &mut PgConnection,
    user: UserId,
    product: ProductIds,
) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar!(
        "SELECT expires_at FROM enrolments
          WHERE user_id = $1 AND ended_at IS NULL AND expires_at > now()
            AND curriculum_id IS NOT DISTINCT FROM $2 AND course_id IS NOT DISTINCT FROM $3",
        user.0,
        product.curriculum_id,
        product.course_id
    )
    .fetch_optional(conn)
    .await
}

/// Access to a course, directly or through a curriculum that holds it.
pub struct CourseAccess {
    pub active_until: Option<OffsetDateTime>,
    pub lapsed: bool,
}

pub async fn course_access(
    conn: &mut PgConnection,
    user: UserId,
    course: CourseId,
) -> sqlx::Result<CourseAccess> {
    let row = sqlx::query!(
        r#"SELECT course_access_until($1, $2) AS active_until, course_access_lapsed($1, $2) AS "lapsed!""#,
        user.0,
        course.0
    )
    .fetch_one(conn)
    .await?;
    Ok(CourseAccess {
        active_until: row.active_until,
        lapsed: row.lapsed,
    })
}

/// The curricula a user can study now, with expiry.
pub async fn active_curricula(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<(Uuid, OffsetDateTime)>> {
    let rows = sqlx::query!(
        r#"SELECT curriculum_id AS "curriculum_id!", expires_at FROM enrolments
            WHERE user_id = $1 AND curriculum_id IS NOT NULL AND ended_at IS NULL AND expires_at > now()"#,
        user.0
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.curriculum_id, r.expires_at))
        .collect())
}

// ---------- cart ----------

pub async fn insert_cart_item(
    conn: &mut PgConnection,
    user: UserId,
    product: ProductIds,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO cart_items (user_id, curriculum_id, course_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        user.0,
        product.curriculum_id,
        product.course_id
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct CartRow {
    pub id: Uuid,
    pub curriculum_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    pub title: String,
    pub price_won: Option<i64>,
    pub access_days: i32,
}

/// The cart with live prices from the catalogue.
pub async fn cart(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<CartRow>> {
    sqlx::query_as!(
        CartRow,
        r#"SELECT ci.id, ci.curriculum_id, ci.course_id,
                  coalesce(cu.title, co.title) AS "title!",
                  coalesce(cu.price_won, co.price_won) AS price_won,
                  coalesce(cu.access_days, 730) AS "access_days!"
             FROM cart_items ci
             LEFT JOIN curricula cu ON cu.id = ci.curriculum_id AND cu.deleted_at IS NULL
             LEFT JOIN courses co ON co.id = ci.course_id AND co.deleted_at IS NULL
            WHERE ci.user_id = $1 AND (cu.id IS NOT NULL OR co.id IS NOT NULL)
            ORDER BY ci.created_at"#,
        user.0
    )
    .fetch_all(conn)
    .await
}

pub async fn delete_cart_item(
    conn: &mut PgConnection,
    user: UserId,
    id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "DELETE FROM cart_items WHERE id = $1 AND user_id = $2",
        id,
        user.0
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

// ---------- addresses ----------

pub struct AddressRow {
    pub id: Uuid,
    pub country: String,
    pub address_enc: Vec<u8>,
    pub is_default: bool,
}

pub async fn addresses(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<AddressRow>> {
    sqlx::query_as!(
        AddressRow,
        "SELECT id, country, address_enc, is_default FROM billing_addresses
          WHERE user_id = $1 AND deleted_at IS NULL ORDER BY is_default DESC, created_at",
        user.0
    )
    .fetch_all(conn)
    .await
}

pub async fn address(
    conn: &mut PgConnection,
    user: UserId,
    id: Uuid,
) -> sqlx::Result<Option<AddressRow>> {
    sqlx::query_as!(
        AddressRow,
        "SELECT id, country, address_enc, is_default FROM billing_addresses
          WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
        id,
        user.0
    )
    .fetch_optional(conn)
    .await
}

/// Clears the default flag of the user's other addresses.
pub async fn clear_default(
    conn: &mut PgConnection,
    user: UserId,
    except: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE billing_addresses SET is_default = false WHERE user_id = $1 AND id <> $2 AND is_default",
        user.0,
        except
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_address(
    conn: &mut PgConnection,
    id: Uuid,
    user: UserId,
    country: &str,
    enc: &[u8],
    is_default: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO billing_addresses (id, user_id, country, address_enc, is_default) VALUES ($1, $2, $3, $4, $5)",
        id,
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
    id: Uuid,
    user: UserId,
    country: &str,
    enc: &[u8],
    is_default: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE billing_addresses SET country = $3, address_enc = $4, is_default = $5, updated_at = now()
          WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
        id,
        user.0,
        country,
        enc,
        is_default
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_address(conn: &mut PgConnection, id: Uuid, user: UserId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE billing_addresses SET deleted_at = now(), is_default = false WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
        id,
        user.0
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

// ---------- orders ----------

pub async fn insert_order(
    conn: &mut PgConnection,
    id: Uuid,
    user: UserId,
    gateway: &str,
    total_won: i64,
    address: Uuid,
    snapshot_enc: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO orders (id, user_id, gateway, total_won, billing_address_id, billing_snapshot_enc)
         VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        user.0,
        gateway,
        total_won,
        address,
        snapshot_enc
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_order_item(
    conn: &mut PgConnection,
    order: Uuid,
    item: &CartRow,
    price_won: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO order_items (order_id, curriculum_id, course_id, title, price_won, access_days)
         VALUES ($1, $2, $3, $4, $5, $6)",
        order,
        item.curriculum_id,
        item.course_id,
        item.title,
        price_won,
        item.access_days
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct OrderRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub status: String,
    pub gateway: String,
    pub total_won: i64,
    pub billing_snapshot_enc: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
    pub paid_at: Option<OffsetDateTime>,
    pub failure_reason: Option<String>,
    /// The gateway's id for the pending payment (KakaoPay `tid`, Toss `paymentKey`).
    pub gateway_ref: Option<String>,
}

pub async fn order(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<OrderRow>> {
    sqlx::query_as!(
        OrderRow,
        "SELECT id, user_id, status, gateway, total_won, billing_snapshot_enc, created_at, paid_at, failure_reason, gateway_ref
           FROM orders WHERE id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

/// The order, locked until the transaction ends (approval races).
pub async fn lock_order(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<OrderRow>> {
    sqlx::query_as!(
        OrderRow,
        "SELECT id, user_id, status, gateway, total_won, billing_snapshot_enc, created_at, paid_at, failure_reason, gateway_ref
           FROM orders WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn orders_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<OrderRow>> {
    sqlx::query_as!(
        OrderRow,
        "SELECT id, user_id, status, gateway, total_won, billing_snapshot_enc, created_at, paid_at, failure_reason, gateway_ref
           FROM orders WHERE user_id = $1 ORDER BY created_at DESC",
        user.0
    )
    .fetch_all(conn)
    .await
}

pub struct OrderItemRow {
    pub curriculum_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    pub title: String,
    pub price_won: i64,
    pub access_days: i32,
}

pub async fn order_items(conn: &mut PgConnection, order: Uuid) -> sqlx::Result<Vec<OrderItemRow>> {
    sqlx::query_as!(
        OrderItemRow,
        "SELECT curriculum_id, course_id, title, price_won, access_days FROM order_items WHERE order_id = $1 ORDER BY title",
        order
    )
    .fetch_all(conn)
    .await
}

pub async fn set_order_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    failure: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE orders SET status = $2, failure_reason = $3, updated_at = now(),
                paid_at = CASE WHEN $2 = 'paid' THEN now() ELSE paid_at END
          WHERE id = $1",
        id,
        status,
        failure
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct PaymentRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub gateway: String,
    pub gateway_tx_id: String,
    pub method: String,
    pub amount_won: i64,
    pub refunded_won: i64,
    pub approved_at: OffsetDateTime,
}

pub async fn insert_payment(
    conn: &mut PgConnection,
    order: Uuid,
    gateway: &str,
    tx_id: &str,
    method: &str,
    amount_won: i64,
    approved_at: OffsetDateTime,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "INSERT INTO payments (order_id, gateway, gateway_tx_id, method, amount_won, approved_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        order,
        gateway,
        tx_id,
        method,
        amount_won,
        approved_at
    )
    .fetch_one(conn)
    .await
}

pub async fn payment_of_order(
    conn: &mut PgConnection,
    order: Uuid,
) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as!(
        PaymentRow,
        "SELECT id, order_id, gateway, gateway_tx_id, method, amount_won, refunded_won, approved_at FROM payments WHERE order_id = $1",
        order
    )
    .fetch_optional(conn)
    .await
}

pub async fn payment(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as!(
        PaymentRow,
        "SELECT id, order_id, gateway, gateway_tx_id, method, amount_won, refunded_won, approved_at FROM payments WHERE id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

/// Grants or extends access: from the later of now and the current expiry.
/// Two statements because each product kind has its own partial unique
/// index, and `ON CONFLICT` must name one; both keep the upsert race-free.
pub async fn extend_enrolment(
    conn: &mut PgConnection,
    user: Uuid,
    item: &OrderItemRow,
    order: Uuid,
) -> sqlx::Result<()> {
    let days = f64::from(item.access_days);
    if let Some(curriculum) = item.curriculum_id {
        sqlx::query!(
            "INSERT INTO enrolments (user_id, curriculum_id, starts_at, expires_at, order_id)
             VALUES ($1, $2, now(), now() + make_interval(days => $3::float8::int), $4)
             ON CONFLICT (user_id, curriculum_id) WHERE curriculum_id IS NOT NULL DO UPDATE
                SET expires_at = CASE WHEN enrolments.ended_at IS NULL
                                      THEN greatest(now(), enrolments.expires_at) ELSE now() END
                                 + make_interval(days => $3::float8::int),
                    starts_at = CASE WHEN enrolments.ended_at IS NULL THEN enrolments.starts_at ELSE now() END,
                    ended_at = NULL, order_id = $4, updated_at = now()",
            user,
            curriculum,
            days,
            order
        )
        .execute(conn)
        .await?;
    } else if let Some(course) = item.course_id {
        sqlx::query!(
            "INSERT INTO enrolments (user_id, course_id, starts_at, expires_at, order_id)
             VALUES ($1, $2, now(), now() + make_interval(days => $3::float8::int), $4)
             ON CONFLICT (user_id, course_id) WHERE course_id IS NOT NULL DO UPDATE
                SET expires_at = CASE WHEN enrolments.ended_at IS NULL
                                      THEN greatest(now(), enrolments.expires_at) ELSE now() END
                                 + make_interval(days => $3::float8::int),
                    starts_at = CASE WHEN enrolments.ended_at IS NULL THEN enrolments.starts_at ELSE now() END,
                    ended_at = NULL, order_id = $4, updated_at = now()",
            user,
            course,
            days,
            order
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Removes bought products from the buyer's cart.
pub async fn clear_bought_from_cart(
    conn: &mut PgConnection,
    user: Uuid,
    order: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM cart_items ci USING order_items oi
          WHERE oi.order_id = $2 AND ci.user_id = $1
            AND (ci.curriculum_id = oi.curriculum_id OR ci.course_id = oi.course_id)",
        user,
        order
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One call to a payment gateway, for the log.
#[derive(Clone, Debug)]
pub struct GatewayCall<'a> {
    pub order: Option<Uuid>,
    pub gateway: &'a str,
    pub operation: &'a str,
    pub request: serde_json::Value,
    pub response: Option<serde_json::Value>,
    pub http_status: Option<i32>,
    pub duration_ms: i32,
    pub error: Option<String>,
}

pub async fn record_gateway_call(
    conn: &mut PgConnection,
    call: &GatewayCall<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO gateway_calls (order_id, gateway, operation, request, response, http_status, duration_ms, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        call.order,
        call.gateway,
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

// ---------- refunds ----------

pub async fn insert_refund(
    conn: &mut PgConnection,
    payment: Uuid,
    amount_won: i64,
    reason: &str,
    requested_by: Uuid,
    by_admin: bool,
    idempotency_key: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO refunds (payment_id, amount_won, reason, requested_by, by_admin, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6)",
        payment,
        amount_won,
        reason,
        requested_by,
        by_admin,
        idempotency_key
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE payments SET refunded_won = refunded_won + $2 WHERE id = $1",
        payment,
        amount_won
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Access bought by this order ends now.
pub async fn end_enrolments_of_order(conn: &mut PgConnection, order: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE enrolments SET ended_at = now(), updated_at = now() WHERE order_id = $1 AND ended_at IS NULL",
        order
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub struct RefundRow {
    pub amount_won: i64,
    pub reason: String,
    pub by_admin: bool,
    pub created_at: OffsetDateTime,
}

pub async fn refunds_of(conn: &mut PgConnection, payment: Uuid) -> sqlx::Result<Vec<RefundRow>> {
    sqlx::query_as!(
        RefundRow,
        "SELECT amount_won, reason, by_admin, created_at FROM refunds WHERE payment_id = $1 ORDER BY created_at",
        payment
    )
    .fetch_all(conn)
    .await
}

// ---------- admin ----------

pub struct AdminOrderRow {
    pub id: Uuid,
    pub buyer_email: String,
    pub status: String,
    pub gateway: String,
    pub total_won: i64,
    pub refunded_won: Option<i64>,
    pub created_at: OffsetDateTime,
}

/// Orders by state and creation date (inclusive `from`, exclusive `to`).
pub async fn admin_orders(
    conn: &mut PgConnection,
    status: Option<&str>,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
) -> sqlx::Result<Vec<AdminOrderRow>> {
    sqlx::query_as!(
        AdminOrderRow,
        r#"SELECT o.id, u.email AS buyer_email, o.status, o.gateway, o.total_won, p.refunded_won AS "refunded_won?", o.created_at
             FROM orders o JOIN users u ON u.id = o.user_id LEFT JOIN payments p ON p.order_id = o.id
            WHERE ($1::text IS NULL OR o.status = $1)
              AND ($2::timestamptz IS NULL OR o.created_at >= $2)
              AND ($3::timestamptz IS NULL OR o.created_at < $3)
            ORDER BY o.created_at DESC LIMIT 200"#,
        status,
        from,
        to
    )
    .fetch_all(conn)
    .await
}

pub struct GatewayCallRow {
    pub operation: String,
    pub http_status: Option<i32>,
    pub duration_ms: i32,
    pub error: Option<String>,
    pub at: OffsetDateTime,
}

pub async fn gateway_calls_of(
    conn: &mut PgConnection,
    order: Uuid,
) -> sqlx::Result<Vec<GatewayCallRow>> {
    sqlx::query_as!(
        GatewayCallRow,
        "SELECT operation, http_status, duration_ms, error, at FROM gateway_calls WHERE order_id = $1 ORDER BY at",
        order
    )
    .fetch_all(conn)
    .await
}

/// The gateway's id for an order's pending payment (KakaoPay `tid`).
pub async fn set_gateway_ref(
    conn: &mut PgConnection,
    order: Uuid,
    gateway_ref: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE orders SET gateway_ref = $2, updated_at = now() WHERE id = $1",
        order,
        gateway_ref
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Until when each of a user's orders gives access (active enrolments only).
pub async fn access_by_order(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<(Uuid, OffsetDateTime)>> {
    let rows = sqlx::query!(
        r#"SELECT order_id AS "order_id!", max(expires_at) AS "until!" FROM enrolments
            WHERE user_id = $1 AND order_id IS NOT NULL AND ended_at IS NULL AND expires_at > now()
            GROUP BY order_id"#,
        user.0
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.order_id, r.until)).collect())
}

pub struct EnrolmentRow {
    pub title: String,
    pub curriculum_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
    pub starts_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub active: bool,
}

/// Everything a user has bought access to, newest expiry first.
pub async fn enrolments_of(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<EnrolmentRow>> {
    sqlx::query_as!(
        EnrolmentRow,
        r#"SELECT coalesce(cu.title, co.title) AS "title!", e.curriculum_id, e.course_id, e.starts_at, e.expires_at,
                  (e.ended_at IS NULL AND e.expires_at > now()) AS "active!"
             FROM enrolments e
             LEFT JOIN curricula cu ON cu.id = e.curriculum_id
             LEFT JOIN courses co ON co.id = e.course_id
            WHERE e.user_id = $1
            ORDER BY e.expires_at DESC"#,
        user.0
    )
    .fetch_all(conn)
    .await
}
