//! Sliding-window limits kept in PostgreSQL (shared by every instance):
//! failed logins, sign-ups, mails. An event is a row; a limit counts the rows
//! of a bucket and key inside the window.

use std::time::Duration;

use sqlx::PgConnection;

/// A limit: at most `max` events per `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: i64,
    pub window: Duration,
}

impl Limit {
    pub const fn new(bucket: &'static str, max: i64, window_secs: u64) -> Self {
        Self {
            bucket,
            max,
            window: Duration::from_secs(window_secs),
        }
    }

    /// `Some(seconds until a slot frees)` when the limit is reached.
    pub async fn check(&self, conn: &mut PgConnection, key: &str) -> sqlx::Result<Option<u64>> {
        let window = self.window.as_secs_f64();
        let row = sqlx::query!(
            r#"
            SELECT count(*) AS "count!",
                   extract(epoch FROM (min(at) + make_interval(secs => $3)) - now())::float8 AS wait
              FROM (SELECT at FROM rate_events
                     WHERE bucket = $1 AND key = $2 AND at > now() - make_interval(secs => $3)
                     ORDER BY at DESC LIMIT $4) recent
            "#,
            self.bucket,
            key,
            window,
            self.max,
        )
        .fetch_one(conn)
        .await?;
        if row.count >= self.max {
            let wait = row.wait.unwrap_or(window).max(1.0);
            Ok(Some(wait.ceil() as u64))
        } else {
            Ok(None)
        }
    }

    pub async fn record(&self, conn: &mut PgConnection, key: &str) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO rate_events (bucket, key) VALUES ($1, $2)",
            self.bucket,
            key
        )
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// Forgets events older than a day (housekeeping).
pub async fn prune(conn: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM rate_events WHERE at < now() - interval '1 day'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
