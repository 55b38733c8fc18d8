//! Certificate figures for the admin dashboard.

use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

/// Certificates issued in `[from, to)` (revoked since or not), per day in
/// Asia/Seoul.
pub async fn issued_per_day(
    conn: &mut PgConnection,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> sqlx::Result<Vec<(Date, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT (issued_at AT TIME ZONE 'Asia/Seoul')::date AS "day!", count(*) AS "n!"
             FROM certificates WHERE issued_at >= $1 AND issued_at < $2
            GROUP BY 1 ORDER BY 1"#,
        from,
        to
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.n)).collect())
}
