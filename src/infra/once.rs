//! One-time form keys. A form that creates a row or moves money carries a
//! random `form_key` (`{% call m::once(ctx) %}`); the work runs in the same
//! transaction that claims the key, so a double click, a parallel replay or
//! a resubmitted page does it once. The claim is an insert on the primary
//! key: a repeat waits for the first to commit (or roll back, and then does
//! the work itself), then learns where the first one led.

use sqlx::PgConnection;
use uuid::Uuid;

/// A fresh key for a form printed once (`{% call m::once(ctx) %}`).
pub fn new_key() -> String {
    Uuid::new_v4().to_string()
}

/// What a submit did: the work, or nothing because its key was used.
pub enum Once<T> {
    Done(T),
    /// Already done by an earlier submit of the same form, which led here.
    Repeat(Option<String>),
}

/// Runs `work` unless `key` was claimed before, in the caller's transaction.
/// `location` names where the first submit leads, for its repeats. Without
/// a key (an old page, a script) the work simply runs.
pub async fn run<T, E>(
    conn: &mut PgConnection,
    key: Option<Uuid>,
    work: impl AsyncFnOnce(&mut PgConnection) -> Result<T, E>,
    location: impl FnOnce(&T) -> String,
) -> Result<Once<T>, E>
where
    E: From<sqlx::Error>,
{
    let Some(key) = key else {
        return work(conn).await.map(Once::Done);
    };
    if let Claim::Used(first) = claim(conn, key).await? {
        return Ok(Once::Repeat(first));
    }
    let value = work(conn).await?;
    led_to(conn, key, &location(&value)).await?;
    Ok(Once::Done(value))
}

pub enum Claim {
    /// This submit is the first: do the work in this transaction.
    Fresh,
    /// An earlier submit did it, and led here (when it said).
    Used(Option<String>),
}

/// Claims `key` in the caller's transaction, for work that does not fit
/// [`run`] (a refund commits before it calls the gateway).
pub async fn claim(conn: &mut PgConnection, key: Uuid) -> sqlx::Result<Claim> {
    let claimed = sqlx::query!(
        "INSERT INTO form_keys (key) VALUES ($1) ON CONFLICT (key) DO NOTHING",
        key
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if claimed {
        return Ok(Claim::Fresh);
    }
    let first = sqlx::query_scalar!("SELECT location FROM form_keys WHERE key = $1", key)
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    Ok(Claim::Used(first))
}

/// Notes where the first submit of `key` led, for its repeats.
pub async fn led_to(conn: &mut PgConnection, key: Uuid, location: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE form_keys SET location = $2 WHERE key = $1",
        key,
        location
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets keys older than a day (housekeeping): nobody double-clicks a day
/// apart, and a page that old has a stale CSRF token anyway.
pub async fn prune(conn: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM form_keys WHERE created_at < now() - interval '1 day'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
