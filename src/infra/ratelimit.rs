//! Sliding-window limits kept in PostgreSQL (shared by every instance):
//! failed logins, sign-ups, mails. An event is a row; a limit counts the rows
//! of a bucket and key inside the window.

use std::time::Duration;

use sqlx::{Acquire, PgConnection};

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
    async fn check(&self, conn: &mut PgConnection, key: &str) -> sqlx::Result<Option<u64>> {
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

    /// Takes one slot, or says when one frees: decided under a per-key lock
    /// in its own transaction, so parallel requests can never take more than
    /// `max` (a check now and a record later would let them all through).
    pub async fn reserve(&self, conn: &mut PgConnection, key: &str) -> sqlx::Result<Option<u64>> {
        let mut tx = conn.begin().await?;
        crate::infra::db::lock(&mut tx, self.bucket, key).await?;
        // A new statement, so a new snapshot: it sees every slot taken by
        // whoever held the lock before.
        let refused = self.check(&mut tx, key).await?;
        if refused.is_none() {
            self.record(&mut tx, key).await?;
        }
        tx.commit().await?;
        Ok(refused)
    }

    /// Gives back the latest slot of `key` (the attempt turned out fine).
    pub async fn release(&self, conn: &mut PgConnection, key: &str) -> sqlx::Result<()> {
        sqlx::query!(
            "DELETE FROM rate_events WHERE ctid = (SELECT ctid FROM rate_events
               WHERE bucket = $1 AND key = $2 ORDER BY at DESC LIMIT 1)",
            self.bucket,
            key
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn record(&self, conn: &mut PgConnection, key: &str) -> sqlx::Result<()> {
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
