//! Learning SQL: the `enrolments` table (one access grant per order and product).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    catalog::model::Product,
    ids::{EnrolmentId, OrderId, UserId},
    learning::access::Grant,
};

struct GrantRow {
    id: EnrolmentId,
    curriculum_id: Option<Uuid>,
    course_id: Option<Uuid>,
    order_id: Option<OrderId>,
    starts_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    ended_at: Option<OffsetDateTime>,
}

fn into_grants(rows: Vec<GrantRow>) -> Vec<Grant> {
    rows.into_iter()
        .filter_map(|r| {
            Some(Grant {
                id: r.id,
                product: Product::from_columns(r.curriculum_id, r.course_id)?,
                order: r.order_id,
                starts_at: r.starts_at,
                expires_at: r.expires_at,
                ended_at: r.ended_at,
            })
        })
        .collect()
}

/// Serialises grants to one learner until the transaction ends.
pub async fn lock_learner(conn: &mut PgConnection, user: UserId) -> sqlx::Result<()> {
    crate::infra::db::lock(conn, "enrolments", &user.to_string()).await
}

/// A user's grants for any of `products`.
pub async fn grants(
    conn: &mut PgConnection,
    user: UserId,
    products: &[Product],
) -> sqlx::Result<Vec<Grant>> {
    let (curricula, courses) = Product::split(products);
    let rows = sqlx::query_as!(
        GrantRow,
        r#"SELECT id AS "id: EnrolmentId", curriculum_id, course_id, order_id AS "order_id: OrderId",
                  starts_at, expires_at, ended_at
             FROM enrolments
            WHERE user_id = $1 AND (curriculum_id = ANY($2) OR course_id = ANY($3))"#,
        user.0,
        &curricula,
        &courses
    )
    .fetch_all(conn)
    .await?;
    Ok(into_grants(rows))
}

/// Every grant a user has had.
pub async fn grants_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<Grant>> {
    let rows = sqlx::query_as!(
        GrantRow,
        r#"SELECT id AS "id: EnrolmentId", curriculum_id, course_id, order_id AS "order_id: OrderId",
                  starts_at, expires_at, ended_at
             FROM enrolments WHERE user_id = $1 ORDER BY starts_at"#,
        user.0
    )
    .fetch_all(conn)
    .await?;
    Ok(into_grants(rows))
}

pub async fn insert_grant(
    conn: &mut PgConnection,
    user: UserId,
    order: OrderId,
    product: Product,
    starts_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> sqlx::Result<()> {
    let (curriculum, course) = product.columns();
    sqlx::query!(
        "INSERT INTO enrolments (user_id, curriculum_id, course_id, starts_at, expires_at, order_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (order_id, coalesce(curriculum_id, course_id)) WHERE order_id IS NOT NULL DO NOTHING",
        user.0,
        curriculum,
        course,
        starts_at,
        expires_at,
        order.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends an order's live grants; returns whose and of what.
pub async fn end_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> sqlx::Result<Vec<(UserId, Product)>> {
    let rows = sqlx::query!(
        r#"UPDATE enrolments SET ended_at = now(), updated_at = now()
            WHERE order_id = $1 AND ended_at IS NULL
        RETURNING user_id AS "user_id: UserId", curriculum_id, course_id"#,
        order.0
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                r.user_id,
                Product::from_columns(r.curriculum_id, r.course_id)?,
            ))
        })
        .collect())
}

/// Moves a not-yet-started grant to a new period.
pub async fn move_grant(
    conn: &mut PgConnection,
    id: EnrolmentId,
    starts_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE enrolments SET starts_at = $2, expires_at = $3, updated_at = now() WHERE id = $1",
        id.0,
        starts_at,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}
