//! The PostgreSQL pool: create the database when it is missing, migrate, and
//! explain plainly when nothing answers.

use std::time::Duration;

use anyhow::Context;
use sqlx::{
    PgConnection, PgPool, Postgres,
    migrate::{MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::Config;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Connects, creating the database first if the server has none by that name.
pub async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = config.database_url.parse().with_context(|| {
        format!(
            "DATABASE_URL={:?} is not a PostgreSQL URL",
            redacted(&config.database_url)
        )
    })?;
    let exists = Postgres::database_exists(&config.database_url)
        .await
        .map_err(|e| unreachable_server(&config.database_url, e))?;
    if !exists {
        tracing::info!(
            database = options.get_database().unwrap_or_default(),
            "creating database"
        );
        Postgres::create_database(&config.database_url)
            .await
            .context("creating the database")?;
    }
    let pool = PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| unreachable_server(&config.database_url, e))?;
    Ok(pool)
}

/// Applies every pending migration (safe to run from several processes).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying migrations")?;
    Ok(())
}

fn unreachable_server(url: &str, err: sqlx::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot reach PostgreSQL at {}: {err}\n\
         Start PostgreSQL (Debian: `apt-get install postgresql`, then \
         `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), \
         or set DATABASE_URL to a server you can reach. `make run` starts a private \
         cluster in var/pg when PostgreSQL's programs are installed.",
        redacted(url)
    )
}

/// The URL without its password, for messages and logs.
/// Takes the transaction-scoped lock named `scope:key` (released at commit or
/// rollback): what one statement cannot decide, one lock per learner, bucket
/// or seed decides. Must run inside a transaction.
pub async fn lock(conn: &mut PgConnection, scope: &str, key: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))",
        scope,
        key
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// `text` with LIKE's metacharacters (`%`, `_`, `\`) escaped, for a pattern
/// that must match it literally.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redacted("postgres://app:secret@db:5432/weaverse"),
            "postgres://app:***@db:5432/weaverse"
        );
        assert_eq!(
            redacted("postgres://localhost/weaverse"),
            "postgres://localhost/weaverse"
        );
    }
}
