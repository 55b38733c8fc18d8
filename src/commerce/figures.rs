//! Sales figures for the admin dashboard.

use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

/// One day's payments and settled refunds (Asia/Seoul days).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DaySales {
    pub day: Option<Date>,
    pub payments: i64,
    pub paid_won: i64,
    pub refunds: i64,
    pub refunded_won: i64,
}

impl DaySales {
    /// What the day brought in, net of its refunds.
    pub fn net_won(&self) -> i64 {
        self.paid_won - self.refunded_won
    }
}

/// Payments approved and refunds settled in `[from, to)`, per day with any.
pub async fn sales_per_day(
    conn: &mut PgConnection,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> sqlx::Result<Vec<DaySales>> {
    sqlx::query_as!(
        DaySales,
        r#"SELECT day AS "day?", sum(payments)::bigint AS "payments!",
                  sum(paid)::bigint AS "paid_won!", sum(refunds)::bigint AS "refunds!",
                  sum(refunded)::bigint AS "refunded_won!"
             FROM (SELECT (approved_at AT TIME ZONE 'Asia/Seoul')::date AS day,
                          count(*) AS payments, sum(amount_won) AS paid,
                          0::bigint AS refunds, 0::numeric AS refunded
                     FROM payments WHERE approved_at >= $1 AND approved_at < $2
                    GROUP BY 1
                   UNION ALL
                   SELECT (settled_at AT TIME ZONE 'Asia/Seoul')::date, 0, 0,
                          count(*), sum(amount_won)
                     FROM refunds
                    WHERE state = 'succeeded' AND settled_at >= $1 AND settled_at < $2
                    GROUP BY 1) AS x
            GROUP BY day ORDER BY day"#,
        from,
        to
    )
    .fetch_all(conn)
    .await
}

/// How many orders are in each state (for `/metrics`).
pub async fn orders_by_status(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(r#"SELECT status, count(*) AS "n!" FROM orders GROUP BY status"#)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}
