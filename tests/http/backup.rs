//! Backups that restore, through the real binary: a drill that backs up a
//! platform with data in every part, restores it into an empty database
//! and storage, compares every row and file and plays a lesson on the
//! copy; a backup that cannot finish; a backup kept in S3.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use reqwest::StatusCode;
use sqlx::{PgPool, Row};

use crate::{
    learning::Player,
    support::{
        TestApp, count,
        media::{S3Server, clip, files_under, listing},
    },
};

/// `weaverse <args>` against `db_url`, with `var_dir` (and its media).
fn weaverse(db_url: &str, var_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weaverse"));
    command
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("VAR_DIR", var_dir)
        .env("DATA_KEYS", format!("test1:{}", hex::encode([9u8; 32])))
        .env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run weaverse")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The URL of another (new) database on the same server. Test database
/// names are already PostgreSQL's longest (63 bytes): a fresh short one.
fn sibling_url(db: &PgPool) -> (String, String) {
    let url = crate::cli::database_url(db);
    let name = format!(
        "weaverse_restored_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut parsed = url::Url::parse(&url).unwrap();
    parsed.set_path(&name);
    (parsed.to_string(), name)
}

/// Restores `from` into a new database and media folder with `weaverse
/// restore`; the pool, the folder and the database's name.
async fn restore_into_new(
    db: &PgPool,
    from: &str,
    env: &[(&str, &str)],
) -> (PgPool, PathBuf, String) {
    let (url, name) = sibling_url(db);
    let var_dir = std::env::temp_dir().join(format!("weaverse-restored-{}", uuid::Uuid::new_v4()));
    let out = weaverse(&url, &var_dir, &["restore", "--from", from], env);
    assert!(out.status.success(), "{}", text(&out));
    (PgPool::connect(&url).await.unwrap(), var_dir, name)
}

/// Closes the copy and drops its database.
async fn drop_copy(db: &PgPool, copy: PgPool, name: &str) {
    copy.close().await;
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(db)
        .await
        .unwrap();
}

/// Every table's row count and a digest of its rows, and every sequence's
/// value: what a faithful copy must repeat.
async fn contents(db: &PgPool) -> BTreeMap<String, (i64, String)> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT schemaname::text, tablename::text FROM pg_tables
          WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for (schema, table) in tables {
        let row = sqlx::query(&format!(
            "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '')
               FROM \"{schema}\".\"{table}\" t"
        ))
        .fetch_one(db)
        .await
        .unwrap();
        out.insert(format!("{schema}.{table}"), (row.get(0), row.get(1)));
    }
    let sequences: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences ORDER BY 1",
    )
    .fetch_all(db)
    .await
    .unwrap();
    for (name, value) in sequences {
        out.insert(
            format!("sequence {name}"),
            (value.unwrap_or(0), String::new()),
        );
    }
    out
}

/// Relative path and bytes of every file under `dir`.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.strip_prefix(dir).unwrap().to_path_buf(), bytes)
        })
        .collect()
}

/// The name a backup set taken `days` ago has (retention reads a set's age
/// from its name): the test's clock.
fn set_name_days_ago(days: i64) -> String {
    let at = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    format!(
        "weaverse-{}",
        at.format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap()
    )
}

/// A platform in use: the demo, a learner who bought it and watched part of
/// a real (transcoded) lesson, a course cover, a certificate, mail.
async fn platform_in_use(db: PgPool) -> (TestApp, String) {
    let admin = TestApp::spawn(db).await;
    admin.seed().await;
    let learner = admin.another_browser();
    learner.verified_learner("learner@example.com").await;
    learner.buy_nanodegree().await;
    admin.login_as_admin().await;
    let topic = admin.video_topic(false).await;
    let bytes = std::fs::read(clip(4, 720, true).await).unwrap();
    let page = admin.upload_video(&topic, "lesson.mp4", bytes).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let course: String = sqlx::query_scalar("SELECT id::text FROM courses ORDER BY slug LIMIT 1")
        .fetch_one(&admin.db)
        .await
        .unwrap();
    admin.give_cover(&course).await;
    admin.run_jobs().await;
    assert_eq!(
        admin.video_of(&topic).await.map(|v| v.1).as_deref(),
        Some("ready")
    );

    let duration: i32 = sqlx::query_scalar(
        "SELECT duration_ms FROM videos WHERE topic_id = $1::uuid AND deleted_at IS NULL",
    )
    .bind(&topic)
    .fetch_one(&admin.db)
    .await
    .unwrap();
    let mut player = Player::open(&learner, "learner@example.com", &topic).await;
    player.time_passes(4);
    let mut events = vec![
        player.ev("play", 0.0),
        player.ev("heartbeat", 2.0),
        player.ev("pause", 3.0),
    ];
    for event in &mut events {
        event["duration"] = serde_json::json!(f64::from(duration) / 1000.0);
    }
    let (status, reply) = player.send(events).await;
    assert_eq!(status, StatusCode::OK, "{reply}");

    // A certificate: every topic of a course done, then the check.
    let user: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'learner@example.com'")
            .fetch_one(&admin.db)
            .await
            .unwrap();
    let git: uuid::Uuid = sqlx::query_scalar("SELECT id FROM courses ORDER BY slug LIMIT 1")
        .fetch_one(&admin.db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO topic_progress (user_id, topic_id, completed_at)
         SELECT $1, t.id, now() FROM topics t JOIN lectures l ON l.id = t.lecture_id
          WHERE l.course_id = $2
         ON CONFLICT (user_id, topic_id) DO UPDATE SET completed_at = now()",
    )
    .bind(user)
    .bind(git)
    .execute(&admin.db)
    .await
    .unwrap();
    let mut conn = admin.db.acquire().await.unwrap();
    let issued = weaverse::certificates::check(
        &mut conn,
        weaverse::ids::UserId(user),
        weaverse::ids::CourseId(git),
    )
    .await
    .unwrap();
    assert_eq!(issued.len(), 1);
    drop(conn);
    admin.run_jobs().await;
    (admin, topic)
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_restored_backup_has_every_row_and_file_and_plays_the_lesson(db: PgPool) {
    let (app, topic) = platform_in_use(db.clone()).await;
    for table in [
        "users",
        "orders",
        "payments",
        "watch_events",
        "topic_progress",
        "certificates",
        "videos",
        "images",
        "jobs",
    ] {
        assert!(
            count(&db, &format!("SELECT count(*) FROM {table}")).await > 0,
            "{table} is empty"
        );
    }
    let before = contents(&db).await;
    let media_before = files(&app.var_dir.join("media"));
    assert!(media_before.len() >= 8, "{}", media_before.len());

    let backups = std::env::temp_dir().join(format!("weaverse-backups-{}", uuid::Uuid::new_v4()));
    let url = crate::cli::database_url(&db);
    let out = weaverse(
        &url,
        &app.var_dir,
        &["backup", "--to", backups.to_str().unwrap()],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("media file(s) copied"),
        "{}",
        text(&out)
    );
    let sets: Vec<PathBuf> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sets.len(), 1);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sets[0].join("MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["media"].as_array().unwrap().len(),
        media_before.len()
    );
    // The data keys stay out of the backup.
    let everything = files(&sets[0]);
    assert!(everything.keys().all(|p| !p.starts_with("keys")));
    let key_hex = hex::encode([9u8; 32]);
    assert!(
        everything
            .values()
            .all(|bytes| !String::from_utf8_lossy(bytes).contains(&key_hex)),
        "a data key is in the backup"
    );

    // A new, empty database and storage: restore there.
    let (restored, restored_var, restored_name) =
        restore_into_new(&db, backups.to_str().unwrap(), &[]).await;
    let restored_url = crate::cli::database_url(&restored);
    let after = contents(&restored).await;
    let rows: i64 = before.values().map(|(n, _)| *n).sum();
    assert_eq!(before, after, "the copy differs");
    assert_eq!(
        media_before,
        files(&restored_var.join("media")),
        "the media differ"
    );
    eprintln!(
        "restore drill: {} tables and sequences, {rows} rows, {} media files",
        before.len(),
        media_before.len()
    );

    // A second restore into the now full database is refused.
    let again = weaverse(
        &restored_url,
        &restored_var,
        &["restore", "--from", backups.to_str().unwrap()],
        &[],
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("empty database"), "{}", text(&again));

    // The copy serves: the learner signs in, the lesson resumes where they
    // stopped and its video plays.
    let copy = TestApp::spawn_with(restored.clone(), |c| {
        c.var_dir = restored_var.clone();
        c.media.dir = restored_var.join("media");
    })
    .await;
    let page = copy
        .login("learner@example.com", crate::support::PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let lesson = copy.get(&format!("/learn/topics/{topic}")).await;
    assert_eq!(lesson.status, StatusCode::OK);
    let master = lesson.attr("#player", "data-hls-src").unwrap();
    let segment = copy.first_segment(&master).await;
    assert_eq!(segment.status(), StatusCode::OK);
    assert!(segment.bytes().await.unwrap().len() > 1000);

    drop_copy(&db, restored, &restored_name).await;
    let _ = std::fs::remove_dir_all(backups);
    let _ = std::fs::remove_dir_all(restored_var);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_backup_that_cannot_finish_fails_loudly_and_leaves_the_earlier_ones(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    app.seed().await;
    let url = crate::cli::database_url(&db);
    let backups = std::env::temp_dir().join(format!("weaverse-backups-{}", uuid::Uuid::new_v4()));
    let to = backups.to_str().unwrap();
    // An unfinished set from a backup that died two days ago.
    let stale = set_name_days_ago(2);
    std::fs::create_dir_all(backups.join(&stale)).unwrap();
    std::fs::write(backups.join(&stale).join("database.dump"), b"half").unwrap();

    let out = weaverse(&url, &app.var_dir, &["backup", "--to", to], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let whole: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        whole.len(),
        1,
        "the stale unfinished set is gone: {whole:?}"
    );
    let first = files(&backups);

    // pg_dump dies half-way: the command fails and says why, and nothing
    // of it stays; the earlier backup is untouched.
    let bin = std::env::temp_dir().join(format!("weaverse-fake-pg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("pg_dump");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'pg_dump: error: connection to server lost' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = weaverse(
        &url,
        &app.var_dir,
        &["backup", "--to", to],
        &[("PG_BIN_DIR", bin.to_str().unwrap())],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("connection to server lost"),
        "{}",
        text(&out)
    );
    assert_eq!(files(&backups), first, "the earlier backup changed");
    assert!(files_under(&app.var_dir.join("backup-work")).is_empty());

    // The earlier one still restores.
    let (restored, restored_var, restored_name) = restore_into_new(&db, to, &[]).await;
    assert_eq!(
        count(&restored, "SELECT count(*) FROM courses").await,
        count(&db, "SELECT count(*) FROM courses").await
    );
    drop_copy(&db, restored, &restored_name).await;
    for dir in [backups, bin, restored_var] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_backup_killed_half_way_is_never_restored_and_the_next_one_completes(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    app.seed().await;
    let url = crate::cli::database_url(&db);
    let media = app.var_dir.join("media");
    for (key, bytes) in [
        ("images/a/320.jpg", b"first".as_slice()),
        ("images/b/320.jpg", b"second"),
    ] {
        std::fs::create_dir_all(media.join(key).parent().unwrap()).unwrap();
        std::fs::write(media.join(key), bytes).unwrap();
    }
    let backups = std::env::temp_dir().join(format!("weaverse-backups-{}", uuid::Uuid::new_v4()));
    let to = backups.to_str().unwrap();
    let out = weaverse(&url, &app.var_dir, &["backup", "--to", to], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let sets = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let first = sets(&backups).pop().unwrap();
    let first_files = files(&backups);

    // The next one dies (no clean-up runs) after the dump and one media file.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = weaverse(
        &url,
        &app.var_dir,
        &["backup", "--to", to],
        &[("WEAVERSE_CRASH_AT", "backup-media-file")],
    );
    assert!(
        out.status.code().is_none(),
        "killed by a signal: {}",
        text(&out)
    );
    let killed = sets(&backups).pop().unwrap();
    assert_ne!(killed, first);
    let left = listing(&backups.join(&killed));
    assert!(left.contains(&"database.dump".to_owned()), "{left:?}");
    assert!(
        !left.contains(&"MANIFEST.json".to_owned()),
        "no manifest: {left:?}"
    );
    for (path, bytes) in &first_files {
        assert_eq!(
            &std::fs::read(backups.join(path)).unwrap(),
            bytes,
            "the earlier set changed"
        );
    }
    // Its local work folder stays behind too, until it is a day old.
    let work = app.var_dir.join("backup-work");
    assert!(work.join(&killed).is_dir());

    // A restore from the destination takes the newest whole set, not it.
    let (restored, restored_var, restored_name) = restore_into_new(&db, to, &[]).await;
    assert_eq!(contents(&restored).await, contents(&db).await);
    assert_eq!(files(&restored_var.join("media")), files(&media));
    drop_copy(&db, restored, &restored_name).await;
    // Restoring the unfinished set by name is refused.
    let (other_url, _) = sibling_url(&db);
    let out = weaverse(
        &other_url,
        &std::env::temp_dir().join(format!("weaverse-restored-{}", uuid::Uuid::new_v4())),
        &["restore", "--from", backups.join(&killed).to_str().unwrap()],
        &[],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("not a whole backup"), "{}", text(&out));

    // The next backup completes. It replaces the first as the day's backup;
    // the unfinished one stays until it is a day old (the retention test
    // above), in case it is still being written elsewhere.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = weaverse(&url, &app.var_dir, &["backup", "--to", to], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let now = sets(&backups);
    assert_eq!(now.len(), 2, "{now:?}");
    assert_eq!(now[0], killed);
    assert!(listing(&backups.join(&now[1])).contains(&"MANIFEST.json".to_owned()));
    assert!(work.join(&killed).is_dir(), "younger than a day: kept");

    // A day later (the folder renamed as if taken two days ago) the next
    // backup removes the dead one's work folder.
    std::fs::rename(work.join(&killed), work.join(set_name_days_ago(2))).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = weaverse(&url, &app.var_dir, &["backup", "--to", to], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sets(&work), Vec::<String>::new(), "no work folder left");
    for dir in [backups, restored_var] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_backup_kept_in_s3_restores(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    let s3 = S3Server::start("backups").await;
    let env = [
        ("S3_ENDPOINT", s3.endpoint.as_str()),
        ("S3_REGION", "us-east-1"),
        ("S3_PATH_STYLE", "true"),
        ("S3_ACCESS_KEY_ID", crate::support::media::ACCESS_KEY),
        ("S3_SECRET_ACCESS_KEY", crate::support::media::SECRET_KEY),
    ];
    let url = crate::cli::database_url(&db);
    let out = weaverse(
        &url,
        &app.var_dir,
        &["backup", "--to", "s3://backups/nightly"],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out));
    let kept = files_under(&s3.root.join("backups").join("nightly"));
    assert!(
        kept.iter().any(|p| p.ends_with("MANIFEST.json")),
        "{kept:?}"
    );
    assert!(kept.iter().any(|p| p.ends_with("database.dump")));

    let (restored, restored_var, restored_name) =
        restore_into_new(&db, "s3://backups/nightly", &env).await;
    assert_eq!(contents(&db).await, contents(&restored).await);
    drop_copy(&db, restored, &restored_name).await;
    let _ = std::fs::remove_dir_all(restored_var);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn with_backup_to_set_the_worker_backs_up_in_the_batch_lane(db: PgPool) {
    let backups = std::env::temp_dir().join(format!("weaverse-backups-{}", uuid::Uuid::new_v4()));
    let url = crate::cli::database_url(&db);
    let to = backups.to_str().unwrap().to_owned();
    let app = TestApp::spawn_with(db.clone(), |c| {
        c.database_url = url;
        c.backup.to = Some(to);
    })
    .await;
    app.seed().await;
    assert_eq!(
        app.state.lanes.lane_of(weaverse::ops::backup::BACKUP_JOB),
        "batch"
    );
    let mut conn = db.acquire().await.unwrap();
    weaverse::jobs::enqueue(
        &mut conn,
        weaverse::ops::backup::BACKUP_JOB,
        serde_json::Value::Null,
        Default::default(),
    )
    .await
    .unwrap();
    drop(conn);
    app.run_jobs().await;
    let sets: Vec<PathBuf> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sets.len(), 1);
    assert!(sets[0].join("MANIFEST.json").exists());
    assert!(sets[0].join("database.dump").exists());
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM jobs WHERE kind = 'ops.backup' AND status = 'done'"
        )
        .await,
        1
    );
    let _ = std::fs::remove_dir_all(backups);
}
