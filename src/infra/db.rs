//! The PostgreSQL pool: create the database when it is missing, migrate, and
//! explain plainly when nothing answers.

use std::time::Duration;

use anyhow::Context;
use sqlx::{
    PgConnection, PgPool, Postgres,
    migrate::{MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions, PgSslMode},
};

use crate::config::Config;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// A pooled connection idle longer than this is checked before use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

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
        // A connection in steady use is not pinged before each request (a
        // round trip of its own, as many as the page's queries); one that
        // sat idle is, so a restarted server costs no request an error.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_BEFORE_PING {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(clear_on_loopback(
            options,
            &config.database_url,
            std::env::var_os("PGSSLMODE").is_some(),
        ))
        .await
        .map_err(|e| unreachable_server(&config.database_url, e))?;
    Ok(pool)
}

/// A server on this machine is spoken to without TLS unless the URL (or
/// `PGSSLMODE`) asks for it: on loopback TLS protects nothing and costs
/// both sides CPU on every statement (`sslmode=prefer`, the default, takes
/// it whenever the server offers it). Any other host keeps what was asked.
fn clear_on_loopback(options: PgConnectOptions, url: &str, env_asks: bool) -> PgConnectOptions {
    let asked = url.contains("sslmode=") || env_asks;
    let host = options.get_host();
    let loopback = host == "localhost"
        || host.starts_with('/')
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match loopback && !asked {
        true => options.ssl_mode(PgSslMode::Disable),
        false => options,
    }
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

/// The newest migration this build carries.
pub fn latest_migration() -> Option<i64> {
    MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .max()
}

/// The newest migration applied to the database.
pub async fn applied_migration(pool: &PgPool) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("SELECT max(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_on_this_machine_is_spoken_to_in_the_clear_unless_asked() {
        let mode = |url: &str, env_asks: bool| {
            let options: PgConnectOptions = url.parse().unwrap();
            clear_on_loopback(options, url, env_asks).get_ssl_mode()
        };
        for url in [
            "postgres://localhost/weaverse",
            "postgres://127.0.0.1:5432/weaverse",
            "postgres://[::1]/weaverse",
        ] {
            assert!(matches!(mode(url, false), PgSslMode::Disable), "{url}");
            assert!(!matches!(mode(url, true), PgSslMode::Disable), "{url}");
        }
        assert!(matches!(
            mode("postgres://localhost/weaverse?sslmode=require", false),
            PgSslMode::Require
        ));
        assert!(!matches!(
            mode("postgres://db.internal/weaverse", false),
            PgSslMode::Disable
        ));
    }

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
