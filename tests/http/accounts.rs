//! Accounts: sign-up, verification, login/logout, sessions, throttling,
//! profile, encrypted phone numbers, password reset, deletion, roles.

use reqwest::StatusCode;
use sqlx::PgPool;
use weaverse::accounts::Role;

use crate::support::{PASSWORD, SentMail, TestApp, count, payment_id, smtp::SmtpServer};

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn signup_mails_a_link_that_verifies_the_email_and_signs_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.signup("Minsu@Example.com", "김민수", PASSWORD).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.text("h1").as_deref(), Some("메일을 확인해 주세요"));
    // Not signed in yet: a registered address must get the same answer.
    assert_eq!(
        app.get("/")
            .await
            .attr("[data-user-nickname]", "data-user-nickname"),
        None
    );

    let (role, verified, hash): (String, bool, String) =
        sqlx::query_as("SELECT role, email_verified_at IS NOT NULL, password_hash FROM users WHERE email = 'minsu@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((role.as_str(), verified), ("student", false));
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    let mail = app.last_mail_to("minsu@example.com").await;
    assert!(
        mail.subject.contains("이메일 주소를 인증"),
        "{}",
        mail.subject
    );
    let link = mail.link("/verify-email/");
    let page = app.get(&link).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), "/me");
    let profile = app.get("/me").await;
    assert_eq!(
        profile
            .attr("[data-email-verified]", "data-email-verified")
            .as_deref(),
        Some("true")
    );
    assert!(
        profile.body.contains("인증 메일 링크 로그인"),
        "the session says how it began"
    );
    assert_eq!(
        app.get("/")
            .await
            .attr("[data-user-nickname]", "data-user-nickname")
            .as_deref(),
        Some("김민수")
    );

    // The link works once.
    let again = app.get(&link).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("인증 링크를 사용할 수 없습니다"));
    // A finished mail job keeps no copy of the link.
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM jobs WHERE payload::text LIKE '%verify-email%'"
        )
        .await,
        0
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn signup_shows_a_korean_message_beside_each_bad_field(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.signup("not-an-email", "김", "short").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        page.text(r#"[data-error-for="email"]"#).as_deref(),
        Some("이메일 주소 형식이 올바르지 않습니다.")
    );
    assert_eq!(
        page.text(r#"[data-error-for="nickname"]"#).as_deref(),
        Some("닉네임은 2자 이상 20자 이하로 입력해 주세요.")
    );
    assert_eq!(
        page.text(r#"[data-error-for="password"]"#).as_deref(),
        Some("비밀번호는 10자 이상이어야 합니다.")
    );
    // What was typed stays, except the password.
    assert_eq!(
        page.attr("#f-email", "value").as_deref(),
        Some("not-an-email")
    );
    assert_eq!(page.attr("#f-password", "value").as_deref(), Some(""));

    let page = app.signup("kim@example.com", "김코딩", "qwerty1234").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text(r#"[data-error-for="password"]"#)
            .unwrap()
            .contains("흔한 비밀번호")
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 0);
}

/// The visible part of an answer: what a person (or a script) reads.
fn visible_text(page: &crate::support::Page) -> String {
    let html = page.html();
    let main = scraper::Selector::parse("main").unwrap();
    html.select(&main)
        .flat_map(|m| m.text())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn signing_up_with_a_registered_email_looks_like_success_and_mails_the_owner(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("taken@example.com").await;
    let fresh = app
        .another_browser()
        .signup("someone-new@example.com", "새사람", PASSWORD)
        .await;
    let other = app.another_browser();
    let page = other
        .signup("TAKEN@example.com", "다른사람", "전혀 다른 비밀번호 123")
        .await;
    assert_eq!(page.status, fresh.status);
    assert_eq!(visible_text(&page), visible_text(&fresh));
    assert!(!page.body.contains("이미 가입된"));
    assert_eq!(
        other.get("/me").await.status,
        StatusCode::SEE_OTHER,
        "not signed in"
    );

    let mail = app.last_mail_to("taken@example.com").await;
    assert_eq!(mail.subject, "[Weaverse] 이미 가입된 이메일 주소입니다");
    assert!(mail.body.contains("/password-reset"), "{}", mail.body);
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 2);
    // The owner's password still works, the attempt's does not.
    let owner = app.another_browser();
    assert_eq!(
        owner
            .login("taken@example.com", "전혀 다른 비밀번호 123")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        owner.login("taken@example.com", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    // Repeated attempts cannot flood the owner's inbox.
    for _ in 0..10 {
        app.another_browser()
            .signup("taken@example.com", "다른사람", PASSWORD)
            .await;
    }
    let notices = app
        .mails()
        .await
        .into_iter()
        .filter(|m| m.to.contains("taken@example.com") && m.subject.contains("이미 가입된"))
        .count();
    assert!(notices <= 3, "{notices} notices");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn parallel_signups_for_one_address_make_one_account_and_no_error(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let statuses = app
        .in_parallel(
            "/signup",
            &[
                ("email", "race@example.com"),
                ("nickname", "경주"),
                ("password", PASSWORD),
                ("agree_terms", "yes"),
                ("agree_privacy", "yes"),
            ],
            6,
        )
        .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 1);
    let mails = app.mails().await;
    let verify = mails
        .iter()
        .filter(|m| m.subject.contains("이메일 주소를 인증"))
        .count();
    assert_eq!(verify, 1, "one account, one verification mail");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn duplicate_signups_count_against_the_limit(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.limits.signups_per_ip = 3).await;
    app.signed_up("taken@example.com").await;
    for _ in 0..2 {
        let page = app
            .another_browser()
            .signup("taken@example.com", "다른사람", PASSWORD)
            .await;
        assert_eq!(page.status, StatusCode::OK);
    }
    let page = app
        .another_browser()
        .signup("new@example.com", "새학습자", PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn login_issues_a_new_session_id_and_logout_ends_it_on_the_server(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("lee@example.com").await;
    app.logout().await;
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM auth_sessions").await,
        0
    );

    // A planted session id is not kept through login (no fixation).
    let browser = app.another_browser();
    browser.set_cookie("weaverse_session", "planted-session-id-0000000000");
    let page = browser.login("lee@example.com", PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let session_id = browser.cookie("weaverse_session").expect("session cookie");
    assert_ne!(session_id, "planted-session-id-0000000000");
    assert_eq!(browser.get("/me").await.status, StatusCode::OK);

    // A copy of the cookie taken before logout is useless after it.
    let thief = app.another_browser();
    thief.set_cookie("weaverse_session", &session_id);
    assert_eq!(thief.get("/me").await.status, StatusCode::OK);
    let page = browser.logout().await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = thief.get("/me").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), "/login?next=%2Fme");
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM tower_sessions.session").await,
        0
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn wrong_email_and_wrong_password_get_the_same_answer(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("park@example.com").await;
    let other = app.another_browser();
    let wrong_password = other.login("park@example.com", "not the password").await;
    let wrong_email = other.login("nobody@example.com", PASSWORD).await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_email.status, StatusCode::UNAUTHORIZED);
    let message = |p: &crate::support::Page| p.text(r#"[data-error-for="_form"]"#).unwrap();
    assert_eq!(message(&wrong_password), message(&wrong_email));
    assert!(message(&wrong_email).contains("이메일 또는 비밀번호가 올바르지 않습니다"));
    assert_eq!(
        wrong_email.attr("#f-email", "value").as_deref(),
        Some("nobody@example.com")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn repeated_failures_answer_429_for_a_while_then_let_the_owner_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("choi@example.com").await;
    app.logout().await;
    for _ in 0..5 {
        assert_eq!(
            app.login("choi@example.com", "guessing wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let page = app.login("choi@example.com", PASSWORD).await;
    assert_eq!(
        page.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(
        page.body.contains("분 후에 다시 시도해 주세요"),
        "{}",
        page.body
    );
    let retry: u64 = page.header("retry-after").parse().unwrap();
    assert!((800..=900).contains(&retry), "{retry}");

    // Fifteen minutes later the window has passed.
    sqlx::query("UPDATE rate_events SET at = at - interval '16 minutes'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        app.login("choi@example.com", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn many_failures_from_one_address_are_throttled_across_accounts(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.limits.login_failures_per_ip = 20).await;
    for i in 0..20 {
        let page = app
            .login(&format!("user{i}@example.com"), "guessing wrong")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.login("user99@example.com", "guessing wrong")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn signups_from_one_address_are_limited(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.limits.signups_per_ip = 5).await;
    for i in 0..5 {
        let browser = app.another_browser();
        let page = browser
            .signup(&format!("new{i}@example.com"), "새학습자", PASSWORD)
            .await;
        assert_eq!(page.status, StatusCode::OK);
    }
    let page = app
        .another_browser()
        .signup("new5@example.com", "새학습자", PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 5);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_learner_sees_their_sessions_and_can_end_another_one(db: PgPool) {
    let laptop = TestApp::spawn(db).await;
    laptop.signed_up("jung@example.com").await;
    let phone = laptop.another_browser();
    phone.login("jung@example.com", PASSWORD).await;

    let page = laptop.get("/me").await;
    let html = page.html();
    let sel = scraper::Selector::parse("[data-session-id]").unwrap();
    let ids: Vec<String> = html
        .select(&sel)
        .map(|e| e.value().attr("data-session-id").unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(page.body.contains("현재 기기"));
    assert!(page.body.contains("Chrome · Linux"));

    // End the other one (the one not marked current).
    let current_id = page
        .attr(r#"[data-current="true"]"#, "data-session-id")
        .unwrap();
    let other = ids.iter().find(|id| **id != current_id).unwrap();
    let page = laptop
        .post_form(&format!("/me/sessions/{other}/end"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        phone.get("/me").await.status,
        StatusCode::SEE_OTHER,
        "phone is signed out"
    );
    assert_eq!(
        laptop.get("/me").await.status,
        StatusCode::OK,
        "laptop stays"
    );

    // Someone else's session id cannot be ended from here.
    let stranger = laptop.another_browser();
    stranger.signed_up("stranger@example.com").await;
    let page = stranger
        .post_form(&format!("/me/sessions/{current_id}/end"), &[])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(laptop.get("/me").await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn changing_the_password_ends_every_other_session(db: PgPool) {
    let laptop = TestApp::spawn(db).await;
    laptop.signed_up("kang@example.com").await;
    let phone = laptop.another_browser();
    phone.login("kang@example.com", PASSWORD).await;

    let page = laptop
        .post_form(
            "/me/password",
            &[
                ("current_password", "wrong current pw"),
                ("new_password", "새로운 비밀번호 2027"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text(r#"[data-error-for="current_password"]"#)
            .is_some()
    );

    let page = laptop
        .post_form(
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "새로운 비밀번호 2027"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(laptop.get("/me").await.status, StatusCode::OK);
    assert_eq!(phone.get("/me").await.status, StatusCode::SEE_OTHER);
    let fresh = laptop.another_browser();
    assert_eq!(
        fresh.login("kang@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fresh
            .login("kang@example.com", "새로운 비밀번호 2027")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn profile_edits_are_validated_and_phone_numbers_stored_encrypted(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("yoon@example.com").await;
    let page = app
        .post_form(
            "/me",
            &[
                ("nickname", "윤"),
                ("introduction", "안녕하세요"),
                ("phone_number", "12345"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text(r#"[data-error-for="nickname"]"#).is_some());
    assert!(
        page.text(r#"[data-error-for="phone_number"]"#)
            .unwrap()
            .contains("전화번호 형식")
    );
    assert_eq!(
        page.attr("#f-phone_number", "value").as_deref(),
        Some("12345"),
        "typed value kept"
    );

    let page = app
        .post_form(
            "/me",
            &[
                ("nickname", "윤개발"),
                ("introduction", "웹 개발자가 되고 싶어요"),
                ("phone_number", "+82 10 9876 5432"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let profile = app.get("/me").await;
    assert_eq!(
        profile.attr("#f-phone_number", "value").as_deref(),
        Some("010-9876-5432")
    );
    assert_eq!(
        profile.attr("#f-nickname", "value").as_deref(),
        Some("윤개발")
    );
    assert_eq!(
        profile.text("#f-introduction").as_deref(),
        Some("웹 개발자가 되고 싶어요")
    );

    let blob: Vec<u8> = sqlx::query_scalar("SELECT phone_enc FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&blob).contains("9876"));
    // The honest empty states until those capabilities exist.
    assert!(
        profile
            .text(r#"[data-section="certificates"]"#)
            .unwrap()
            .contains("아직")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_database_dump_holds_no_phone_number_in_clear(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("dump@example.com").await;
    app.post_form(
        "/me",
        &[
            ("nickname", "덤프"),
            ("introduction", ""),
            ("phone_number", "010-5555-7777"),
        ],
    )
    .await;
    let name = app.db.connect_options().get_database().unwrap().to_string();
    let mut url = url::Url::parse(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    url.set_path(&name);
    let dump = std::process::Command::new("pg_dump")
        .arg(url.as_str())
        .output()
        .expect("pg_dump");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(text.contains("dump@example.com"), "the dump is real");
    for needle in ["010-5555-7777", "01055557777", "5555-7777"] {
        assert!(!text.contains(needle), "{needle} found in clear");
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn rotate_keys_covers_every_encrypted_column_so_the_old_key_can_go(db: PgPool) {
    let k1 = format!("k1:{}", hex::encode([1u8; 32]));
    let k2 = format!("k2:{}", hex::encode([2u8; 32]));
    let app = TestApp::spawn_with(db.clone(), |c| c.data_keys = Some(k1.clone())).await;
    app.seed().await;
    app.verified_learner("rot@example.com").await;
    app.post_form(
        "/me",
        &[
            ("nickname", "회전"),
            ("introduction", ""),
            ("phone_number", "010-1111-2222"),
        ],
    )
    .await;
    let order = app.buy_nanodegree().await;
    let payment = payment_id(&db).await;

    // The real command, with the new key added last.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weaverse"))
        .arg("rotate-keys")
        .env("DATABASE_URL", crate::cli::database_url(&db))
        .env("DATA_KEYS", format!("{k1},{k2}"))
        .env(
            "VAR_DIR",
            std::env::temp_dir().join(format!("weaverse-cli-{}", uuid::Uuid::new_v4())),
        )
        .env("RUST_LOG", "warn")
        .output()
        .expect("run weaverse");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "users.phone_enc: re-encrypted 1",
        "billing_addresses.address_enc: re-encrypted 1",
        "orders.billing_snapshot_enc: re-encrypted 1",
    ] {
        assert!(printed.contains(line), "{printed}");
    }
    for sealed in weaverse::infra::sealed::ALL {
        let blobs: Vec<Vec<u8>> = sqlx::query_scalar(&format!(
            "SELECT {} FROM {} WHERE {0} IS NOT NULL",
            sealed.column, sealed.table
        ))
        .fetch_all(&db)
        .await
        .unwrap();
        assert!(!blobs.is_empty(), "{sealed:?} holds a value");
        for blob in blobs {
            assert_eq!(
                weaverse::infra::crypto::DataKeys::key_id_of(&blob),
                Some("k2"),
                "{sealed:?}"
            );
        }
    }

    // The old key retired, the application restarted: every page that
    // decrypts still answers with the data.
    let app2 = TestApp::spawn_with(db, |c| c.data_keys = Some(k2)).await;
    app2.login("rot@example.com", PASSWORD).await;
    assert_eq!(
        app2.get("/me")
            .await
            .attr("#f-phone_number", "value")
            .as_deref(),
        Some("010-1111-2222")
    );
    for path in [
        "/me/addresses".to_string(),
        "/checkout".to_string(),
        format!("/orders/{order}"),
        format!("/payments/{payment}/receipt"),
    ] {
        let page = app2.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        if path != "/checkout" {
            assert!(
                page.body.contains("세종대로 110"),
                "{path} shows the address"
            );
        }
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn every_encrypted_column_in_the_schema_is_in_the_rotation_list(db: PgPool) {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type = 'bytea' AND column_name LIKE '%\\_enc'
          ORDER BY 1, 2",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let mut listed: Vec<(String, String)> = weaverse::infra::sealed::ALL
        .iter()
        .map(|s| (s.table.to_string(), s.column.to_string()))
        .collect();
    listed.sort();
    assert_eq!(columns, listed);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn password_reset_link_works_once_within_an_hour_and_ends_sessions(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("reset@example.com").await;
    let page = app
        .another_browser()
        .post_form("/password-reset", &[("email", "reset@example.com")])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("메일을 확인해 주세요"));
    let nobody = app
        .another_browser()
        .post_form("/password-reset", &[("email", "nobody@example.com")])
        .await;
    assert!(
        nobody.body.contains("메일을 확인해 주세요"),
        "the same answer for strangers"
    );

    let mails = app.mails().await;
    assert!(mails.iter().all(|m| !m.to.contains("nobody@example.com")));
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.subject.contains("비밀번호 재설정"))
        .unwrap();
    let link = mail.link("/password-reset/");
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM account_tokens WHERE purpose = 'password_reset'"
        )
        .await,
        1
    );
    let token = link.rsplit('/').next().unwrap();
    let stored: Vec<u8> = sqlx::query_scalar(
        "SELECT token_hash FROM account_tokens WHERE purpose = 'password_reset'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_ne!(stored, token.as_bytes(), "only a hash is stored");

    let browser = app.another_browser();
    let form = browser.get(&link).await;
    assert_eq!(form.status, StatusCode::OK);
    let weak = browser.post_form(&link, &[("password", "short")]).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = browser
        .post_form(&link, &[("password", "완전히 새로운 비밀번호")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.header("location"), "/login");
    assert_eq!(
        app.get("/me").await.status,
        StatusCode::SEE_OTHER,
        "old session ended"
    );
    assert_eq!(
        browser
            .post_form(&link, &[("password", "또 다른 새 비밀번호")])
            .await
            .status,
        StatusCode::GONE
    );
    assert_eq!(
        browser
            .login("reset@example.com", "완전히 새로운 비밀번호")
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // An expired link is refused.
    app.another_browser()
        .post_form("/password-reset", &[("email", "reset@example.com")])
        .await;
    let link = app
        .last_mail_to("reset@example.com")
        .await
        .link("/password-reset/");
    sqlx::query(
        "UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
    )
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(app.get(&link).await.status, StatusCode::GONE);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn reset_mails_are_rate_limited(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for _ in 0..3 {
        let page = app
            .post_form("/password-reset", &[("email", "flood@example.com")])
            .await;
        assert_eq!(page.status, StatusCode::OK);
    }
    let page = app
        .post_form("/password-reset", &[("email", "flood@example.com")])
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn reset_mail_goes_out_over_smtp_when_configured(db: PgPool) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url.clone();
    let app = TestApp::spawn_with(db, |c| c.smtp_url = Some(url)).await;
    app.signed_up("smtp@example.com").await;
    app.another_browser()
        .post_form("/password-reset", &[("email", "smtp@example.com")])
        .await;
    app.run_jobs().await;
    let received = smtp.messages.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "verification and reset");
    let reset = received
        .iter()
        .map(|r| (r, SentMail::parse(&r.data)))
        .find(|(_, m)| m.subject.contains("비밀번호 재설정"))
        .unwrap();
    assert_eq!(reset.0.to, vec!["smtp@example.com".to_string()]);
    assert!(reset.0.from.contains("no-reply@weaverse.kr"));
    assert!(reset.1.link("/password-reset/").starts_with(&app.base));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn deleting_the_account_needs_the_password_and_scrubs_personal_data(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("bye@example.com").await;
    app.post_form(
        "/me",
        &[
            ("nickname", "떠날사람"),
            ("introduction", "소개"),
            ("phone_number", "010-2222-3333"),
        ],
    )
    .await;
    let page = app
        .post_form("/me/delete", &[("confirmation", "wrong password")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text(r#"[data-error-for="confirmation"]"#).is_some());

    let page = app
        .post_form("/me/delete", &[("confirmation", PASSWORD)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/me").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.login("bye@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let (email, nickname, phone, deleted): (String, String, Option<Vec<u8>>, bool) =
        sqlx::query_as("SELECT email, nickname, phone_enc, deleted_at IS NOT NULL FROM users")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(email.ends_with("@deleted.invalid"));
    // No nickname is kept; the admin pages say "탈퇴한 사용자".
    assert_eq!(nickname, "");
    assert!(phone.is_none() && deleted);
    // The row stays for the records that point at it.
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn admin_pages_are_for_admins_only(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), "/login?next=%2Fadmin%2Fusers");

    app.signed_up("student@example.com").await;
    let page = app.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("관리자만 이용할 수 있습니다"));

    let tutor = app.another_browser();
    tutor.login_as("tutor@example.com", Role::Tutor).await;
    assert_eq!(
        tutor.get("/admin/users").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        tutor
            .post_form("/admin/users", &[("email", "x@example.com")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let admin = app.another_browser();
    admin.login_as_admin().await;
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("회원 관리"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn admins_search_page_create_edit_delete_and_restore_with_an_audit_trail(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.login_as_admin().await;
    for i in 0..25 {
        sqlx::query("INSERT INTO users (email, nickname) VALUES ($1, $2)")
            .bind(format!("learner{i:02}@example.com"))
            .bind(format!("학습자{i:02}"))
            .execute(&app.db)
            .await
            .unwrap();
    }
    let page = app.get("/admin/users?q=learner").await;
    assert_eq!(
        page.attr("[data-total]", "data-total").as_deref(),
        Some("25")
    );
    let rows = |p: &crate::support::Page| {
        p.html()
            .select(&scraper::Selector::parse("[data-user-id]").unwrap())
            .count()
    };
    assert_eq!(rows(&page), 20);
    let second = app.get("/admin/users?q=learner&page=2").await;
    assert_eq!(rows(&second), 5);
    let fragment = app
        .get_htmx("/admin/users?q=%ED%95%99%EC%8A%B5%EC%9E%9007")
        .await;
    assert!(!fragment.body.contains("<html"));
    assert_eq!(rows(&fragment), 1);

    let page = app
        .post_form(
            "/admin/users",
            &[
                ("email", "newtutor@weaverse.kr"),
                ("nickname", "새튜터"),
                ("password", "튜터의 안전한 비밀번호"),
                ("role", "tutor"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let user_url = page.header("location").to_string();
    let page = app
        .post_form(
            "/admin/users",
            &[
                ("email", "newtutor@weaverse.kr"),
                ("nickname", "새튜터"),
                ("password", "튜터의 안전한 비밀번호"),
                ("role", "tutor"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text(r#"[data-error-for="email"]"#).is_some());

    let tutor = app.another_browser();
    assert_eq!(
        tutor
            .login("newtutor@weaverse.kr", "튜터의 안전한 비밀번호")
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    let page = app
        .post_form(&user_url, &[("nickname", "수석튜터"), ("role", "admin")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = app.post_form(&format!("{user_url}/delete"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        tutor.get("/me").await.status,
        StatusCode::SEE_OTHER,
        "deleted: signed out"
    );
    assert_eq!(
        tutor
            .login("newtutor@weaverse.kr", "튜터의 안전한 비밀번호")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let page = app.post_form(&format!("{user_url}/restore"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        tutor
            .login("newtutor@weaverse.kr", "튜터의 안전한 비밀번호")
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    let actions: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.action, u.email FROM audit_log a JOIN users u ON u.id = a.actor_id \
          WHERE a.target_type = 'user' AND u.email = 'admin@weaverse.kr' ORDER BY a.id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let names: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        names,
        ["user.create", "user.update", "user.delete", "user.restore"]
    );
    let page = app.get(&user_url).await;
    assert!(page.body.contains(r#"data-audit-action="user.restore""#));

    // An admin cannot lock themself out.
    let me: String =
        sqlx::query_scalar("SELECT id::text FROM users WHERE email = 'admin@weaverse.kr'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let page = app
        .post_form(
            &format!("/admin/users/{me}"),
            &[("nickname", "관리자"), ("role", "student")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.post_form(&format!("/admin/users/{me}/delete"), &[])
            .await
            .status,
        StatusCode::CONFLICT
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn admin_search_treats_percent_and_underscore_as_letters(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.another_browser()
        .signed_up("under_score@example.com")
        .await;
    app.another_browser().signed_up("plain@example.com").await;
    app.login_as_admin().await;
    let emails = |page: &crate::support::Page| -> Vec<String> {
        page.html()
            .select(&scraper::Selector::parse("[data-user-email]").unwrap())
            .map(|e| e.value().attr("data-user-email").unwrap().to_string())
            .collect()
    };
    let page = app.get("/admin/users?q=_").await;
    assert_eq!(emails(&page), vec!["under_score@example.com"]);
    let page = app.get("/admin/users?q=%25").await;
    assert!(emails(&page).is_empty(), "{:?}", emails(&page));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn housekeeping_prunes_idle_sessions_and_spent_tokens(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("idle@example.com").await;
    app.another_browser().signed_up("fresh@example.com").await;
    // The first learner's session went idle long ago; their mailed token expired.
    sqlx::query(
        "UPDATE auth_sessions SET last_seen_at = now() - interval '30 days'
          WHERE user_id = (SELECT id FROM users WHERE email = 'idle@example.com')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE account_tokens SET expires_at = now() - interval '3 days'
          WHERE user_id = (SELECT id FROM users WHERE email = 'idle@example.com')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let mut conn = app.db.acquire().await.unwrap();
    let (sessions, tokens) = weaverse::accounts::prune(&mut conn, 14).await.unwrap();
    assert_eq!((sessions, tokens), (1, 1));
    let (left_sessions, left_tokens): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM auth_sessions), (SELECT count(*) FROM account_tokens)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (left_sessions, left_tokens),
        (1, 1),
        "the fresh learner's stay"
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn parallel_wrong_passwords_never_outrun_the_login_limit(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("racer@example.com").await;
    app.logout().await;
    let token = app.csrf_token().await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let request = app
            .client
            .post(app.url("/login"))
            .header("Origin", &app.base)
            .form(&[
                ("email", "racer@example.com"),
                ("password", "guessing wrong"),
                ("csrf_token", token.as_str()),
            ]);
        set.spawn(request.send());
    }
    let mut checked = 0;
    let mut refused = 0;
    while let Some(done) = set.join_next().await {
        match done.unwrap().unwrap().status() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        (checked, refused),
        (5, 25),
        "only the limit's 5 were checked"
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn current_password_guesses_from_a_session_are_limited(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("stolen@example.com").await;
    for _ in 0..5 {
        let page = app
            .post_form(
                "/me/password",
                &[
                    ("current_password", "a guess of mine"),
                    ("new_password", "brand new passphrase 7"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let page = app
        .post_form(
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "brand new passphrase 7"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // Deleting the account asks the same question and counts the same way.
    let page = app
        .post_form("/me/delete", &[("confirmation", PASSWORD)])
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM users WHERE scrubbed_at IS NULL"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_classroom_of_forty_behind_one_address_signs_up_on_its_first_day(db: PgPool) {
    // The default limits: a classroom or an office behind one NAT is not shut out.
    let app = TestApp::spawn(db).await;
    for i in 0..40 {
        let page = app
            .another_browser()
            .signup(&format!("pupil{i}@example.com"), "새학습자", PASSWORD)
            .await;
        assert_eq!(page.status, StatusCode::OK, "pupil {i}");
    }
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 40);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn private_pages_are_never_kept_by_the_browser(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("private@example.com").await;
    for path in ["/me", "/", "/orders", "/me/addresses", "/cart", "/courses"] {
        let page = app.get(path).await;
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
    }
    let page = app.logout().await;
    assert_eq!(page.header("cache-control"), "no-store");
    // After the logout the page is gone for this browser.
    assert_eq!(app.get("/me").await.status, StatusCode::SEE_OTHER);
    // A page every visitor gets alike may be kept, asking again first.
    let anonymous = app.another_browser();
    assert_eq!(
        anonymous.get("/courses").await.header("cache-control"),
        "no-cache"
    );
    assert_eq!(
        anonymous.get("/login").await.header("cache-control"),
        "no-store"
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_failed_form_reloaded_at_its_address_is_a_page_not_a_405(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.login_as("reload@example.com", Role::Tutor).await;
    // The refused submit answers at /studio/courses; a reload there is a GET.
    let page = app.post_form("/studio/courses", &[("title", "")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for path in [
        "/studio/courses",
        "/studio/curricula",
        "/me/password",
        "/me/delete",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn parallel_reset_requests_never_outrun_the_mail_limit(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("flood@example.com").await;
    app.logout().await;
    let statuses = app
        .in_parallel("/password-reset", &[("email", "flood@example.com")], 12)
        .await;
    let sent = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((sent, refused), (3, 9), "{statuses:?}");
    let mails = app
        .mails()
        .await
        .into_iter()
        .filter(|m| m.subject.contains("비밀번호 재설정"))
        .count();
    assert_eq!(mails, 3);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn sign_up_asks_both_consents_and_stores_each_with_its_version_and_time(db: PgPool) {
    use weaverse::accounts::consent::ConsentKind;
    let app = TestApp::spawn(db).await;
    let page = app
        .post_form(
            "/signup",
            &[
                ("email", "consent@example.com"),
                ("nickname", "동의"),
                ("password", PASSWORD),
                ("agree_terms", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        page.text(r#"[data-error-for="agree_privacy"]"#).as_deref(),
        Some("개인정보 수집·이용에 동의해야 가입할 수 있습니다.")
    );
    assert!(page.attr("#f-agree_terms", "checked").is_some(), "kept");
    assert!(
        page.text("table.legal-table")
            .unwrap()
            .contains("보유 기간")
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 0);
    assert_eq!(count(&app.db, "SELECT count(*) FROM consents").await, 0);

    let before = time::OffsetDateTime::now_utc();
    let page = app.signup("consent@example.com", "동의", PASSWORD).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let rows: Vec<(String, String, time::OffsetDateTime)> = sqlx::query_as(
        "SELECT c.kind, c.version, c.agreed_at FROM consents c JOIN users u ON u.id = c.user_id
          WHERE u.email = 'consent@example.com' AND c.order_id IS NULL ORDER BY c.kind",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|(k, v, _)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("privacy", ConsentKind::Privacy.current_version()),
            ("terms", ConsentKind::Terms.current_version()),
        ]
    );
    let after = time::OffsetDateTime::now_utc();
    for (_, _, at) in &rows {
        assert!(
            *at >= before - time::Duration::seconds(1) && *at <= after,
            "{at}"
        );
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_learners_admin_page_shows_orders_access_progress_missions_and_sign_ins(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("record@example.com").await;
    let order = app.buy_nanodegree().await;
    let (user, topic): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "SELECT u.id, t.id FROM users u, topics t JOIN lectures l ON l.id = t.lecture_id
          JOIN curriculum_courses cc ON cc.course_id = l.course_id
         WHERE u.email = 'record@example.com' AND t.published_at IS NOT NULL
         ORDER BY cc.position, l.position, t.position LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO topic_progress (user_id, topic_id, completed_at) VALUES ($1, $2, now())",
    )
    .bind(user)
    .bind(topic)
    .execute(&app.db)
    .await
    .unwrap();
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let page = admin.get(&format!("/admin/users/{user}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let number: String = sqlx::query_scalar("SELECT number FROM orders WHERE id = $1::uuid")
        .bind(&order)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(page.text("[data-orders]").unwrap().contains(&number));
    assert!(
        page.text("[data-holdings]")
            .unwrap()
            .contains("웹 개발 나노 디그리")
    );
    let progress = page.text("[data-progress]").unwrap();
    assert!(
        progress.contains("웹의 이해와 HTML") && progress.contains("1 /"),
        "{progress}"
    );
    assert!(page.text("[data-sessions]").is_some());
    assert!(
        !page
            .text("[data-last-sign-in]")
            .unwrap()
            .contains("기록 없음")
    );
    assert!(page.body.contains("응시한 미션이 없습니다"));
}
