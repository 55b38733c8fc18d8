//! The `weaverse` command itself, run as the real binary.

use std::process::Command;

use sqlx::PgPool;

pub fn database_url(db: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut url = url::Url::parse(&base).expect("url");
    let name = db
        .connect_options()
        .get_database()
        .expect("db name")
        .to_string();
    url.set_path(&name);
    url.to_string()
}

fn create_admin(db: &PgPool, email: &str, password: &str) -> std::process::Output {
    let var_dir = std::env::temp_dir().join(format!("weaverse-cli-{}", uuid::Uuid::new_v4()));
    Command::new(env!("CARGO_BIN_EXE_weaverse"))
        .args(["create-admin", "--email", email])
        .env("WEAVERSE_ADMIN_PASSWORD", password)
        .env("DATABASE_URL", database_url(db))
        .env("VAR_DIR", var_dir)
        .env("RUST_LOG", "warn")
        // As on many machines: a refusal must still not print a backtrace.
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run weaverse")
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn create_admin_creates_then_promotes_an_account(db: PgPool) {
    let out = create_admin(&db, "Admin@Weaverse.kr", "a long operator passphrase");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin"));

    let (role, hash): (String, String) =
        sqlx::query_as("SELECT role, password_hash FROM users WHERE email = 'admin@weaverse.kr'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(role, "admin");
    assert!(hash.starts_with("$argon2id$"));

    sqlx::query("UPDATE users SET role = 'student', deleted_at = now()")
        .execute(&db)
        .await
        .unwrap();
    let out = create_admin(&db, "admin@weaverse.kr", "another long password");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is now an admin"));
    let (role, deleted): (String, bool) =
        sqlx::query_as("SELECT role, deleted_at IS NOT NULL FROM users")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((role.as_str(), deleted), ("admin", false));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn create_admin_refuses_a_bad_email_or_short_password(db: PgPool) {
    let out = create_admin(&db, "not-an-email", "a long operator passphrase");
    assert!(!out.status.success());
    let out = create_admin(&db, "admin@weaverse.kr", "short");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("10자"), "{stderr}");
    assert!(
        !stderr.contains("Stack backtrace") && !stderr.contains("stack backtrace"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("weaverse: ") && l.contains("10자")),
        "one clear line: {stderr}"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[test]
fn production_refuses_to_start_on_development_defaults() {
    let out = Command::new(env!("CARGO_BIN_EXE_weaverse"))
        .arg("serve")
        .env_clear()
        .env("APP_ENV", "production")
        .env("PUBLIC_URL", "http://weaverse.example")
        .env("DEMO_PAYMENTS", "true")
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run weaverse");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("APP_ENV=production refuses to start"),
        "{stderr}"
    );
    assert!(stderr.contains("SESSION_KEY must be set"), "{stderr}");
    assert!(stderr.contains("PUBLIC_URL must be https"), "{stderr}");
    assert!(stderr.contains("DATABASE_URL must be set"), "{stderr}");
    assert!(stderr.contains("DEMO_PAYMENTS must be off"), "{stderr}");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn seed_command_is_idempotent(db: PgPool) {
    let var_dir = std::env::temp_dir().join(format!("weaverse-seed-{}", uuid::Uuid::new_v4()));
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_weaverse"))
            .arg("seed")
            .env("DATABASE_URL", database_url(&db))
            .env("VAR_DIR", &var_dir)
            // One demo clip is enough to see the media seed run (each costs seconds).
            .env("SEED_VIDEOS", "1")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run weaverse")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("seeded the demo nano-degree"));
    assert!(String::from_utf8_lossy(&first.stdout).contains("queued 1 demo video"));
    let second = run();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("already there"));
    assert!(String::from_utf8_lossy(&second.stdout).contains("queued 0 demo video"));
    let courses: i64 = sqlx::query_scalar("SELECT count(*) FROM courses")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(courses, 7);
    let media: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM videos), (SELECT count(*) FROM captions), \
                (SELECT count(*) FROM images WHERE purpose = 'course_cover')",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        media,
        (1, 1, 7),
        "one clip with Korean captions, a cover per course, once"
    );
    let _ = std::fs::remove_dir_all(&var_dir);
}
