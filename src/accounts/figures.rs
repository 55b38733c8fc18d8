//! Figures about people for the admin dashboard: who is online, who signed
//! up when.

use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

/// Learners (students, not deleted) with a session seen in the last five
/// minutes. A session's `last_seen_at` moves at most once a minute.
pub async fn online_learners(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(DISTINCT s.user_id) AS "n!" FROM auth_sessions s
             JOIN users u ON u.id = s.user_id
            WHERE s.last_seen_at > now() - interval '5 minutes'
              AND u.role = 'student' AND u.deleted_at IS NULL"#
    )
    .fetch_one(conn)
    .await
}

/// Learners who signed up in `[from, to)`, per day in Asia/Seoul.
pub async fn signups_per_day(
    conn: &mut PgConnection,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> sqlx::Result<Vec<(Date, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT (created_at AT TIME ZONE 'Asia/Seoul')::date AS "day!", count(*) AS "n!"
             FROM users WHERE created_at >= $1 AND created_at < $2 AND role = 'student'
            GROUP BY 1 ORDER BY 1"#,
        from,
        to
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.n)).collect())
}
