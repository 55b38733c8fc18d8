//! Certificates: the completion rules, exactly-once issue, revocation,
//! public verification (HTML and JSON), the PDF (Korean text, through
//! poppler), and the learner's list with credits.

use reqwest::StatusCode;
use sqlx::PgPool;
use weaverse::ids::{CourseId, UserId};

use crate::support::{TestApp, count, payment_id};

async fn learner(db: PgPool) -> (TestApp, UserId) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    let id: uuid::Uuid = sqlx::query_scalar(
        "UPDATE users SET nickname = '김위버', legal_name = '김위버' WHERE email = 'learner@example.com' RETURNING id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    (app, UserId(id))
}

async fn course(app: &TestApp, slug: &str) -> CourseId {
    CourseId(
        sqlx::query_scalar("SELECT id FROM courses WHERE slug = $1")
            .bind(slug)
            .fetch_one(&app.db)
            .await
            .unwrap(),
    )
}

/// Marks the course's topics complete for the learner, except those titled
/// in `but`.
async fn complete(app: &TestApp, user: UserId, course: CourseId, but: &[&str]) {
    sqlx::query(
        "INSERT INTO topic_progress (user_id, topic_id, completed_at)
         SELECT $1, t.id, now() FROM topics t JOIN lectures l ON l.id = t.lecture_id
          WHERE l.course_id = $2 AND NOT (t.title = ANY($3))
         ON CONFLICT (user_id, topic_id) DO UPDATE SET completed_at = now()",
    )
    .bind(user.0)
    .bind(course.0)
    .bind(but.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    .execute(&app.db)
    .await
    .unwrap();
}

async fn check(app: &TestApp, user: UserId, course: CourseId) -> Vec<String> {
    let mut conn = app.db.acquire().await.unwrap();
    weaverse::certificates::check(&mut conn, user, course)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_course_is_certified_once_when_its_last_topic_completes_even_at_once(db: PgPool) {
    let (app, user) = learner(db).await;
    let git = course(&app, "git-collaboration").await;
    complete(&app, user, git, &["협업 흐름 퀴즈"]).await;
    assert!(
        check(&app, user, git).await.is_empty(),
        "one topic (a mission) is missing"
    );
    complete(&app, user, git, &[]).await;
    // Ten checks at once issue one certificate.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let db = app.db.clone();
        set.spawn(async move {
            let mut conn = db.acquire().await.unwrap();
            weaverse::certificates::check(&mut conn, user, git)
                .await
                .unwrap()
        });
    }
    let mut issued = 0;
    while let Some(done) = set.join_next().await {
        issued += done.unwrap().len();
    }
    assert_eq!(issued, 1);
    assert_eq!(count(&app.db, "SELECT count(*) FROM certificates").await, 1);
    let (name, title, credits): (String, String, i32) =
        sqlx::query_as("SELECT learner_name, title, credits FROM certificates")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), title.as_str(), credits),
        ("김위버", "Git과 협업", 3)
    );

    // A refund later revokes nothing already earned.
    let payment = payment_id(&app.db).await;
    let page = app
        .post_form(
            &format!("/payments/{payment}/refund"),
            &[("reason", "환불 테스트")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM certificates WHERE status = 'valid'"
        )
        .await,
        1
    );
}

/// Starts an attempt at the mission and submits these answers.
async fn submit(
    app: &TestApp,
    mission: &str,
    pairs: Vec<(String, String)>,
) -> crate::support::Page {
    app.post_form(&format!("/missions/{mission}/attempts"), &[])
        .await;
    let fields: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post_form(&format!("/missions/{mission}/submissions"), &fields)
        .await
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn finishing_the_last_reading_of_a_course_certifies_it_and_opening_it_does_not(db: PgPool) {
    let (app, user) = learner(db).await;
    let git = course(&app, "git-collaboration").await;
    complete(&app, user, git, &["풀 리퀘스트와 코드 리뷰"]).await;
    let reading: String =
        sqlx::query_scalar("SELECT id::text FROM topics WHERE title = '풀 리퀘스트와 코드 리뷰'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    // A GET changes nothing that matters: the page opens, nothing is issued.
    let page = app.get(&format!("/learn/topics/{reading}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text("[data-read-form]").is_some(), "{}", page.body);
    assert_eq!(count(&app.db, "SELECT count(*) FROM certificates").await, 0);
    // Marking it read goes through the completion path, which certifies.
    let done = app
        .post_form(&format!("/learn/topics/{reading}/read"), &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(count(&app.db, "SELECT count(*) FROM certificates").await, 1);
    // Again: nothing new is issued, and the page says it is read.
    app.post_form(&format!("/learn/topics/{reading}/read"), &[])
        .await;
    assert_eq!(count(&app.db, "SELECT count(*) FROM certificates").await, 1);
    let page = app.get(&format!("/learn/topics/{reading}")).await;
    assert!(page.text("[data-read-done]").is_some() && page.text("[data-read-form]").is_none());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_failed_mission_certifies_nothing_until_it_is_passed(db: PgPool) {
    let (app, user) = learner(db).await;
    let web = course(&app, "web-and-html").await;
    complete(&app, user, web, &["웹 동작 원리 확인 퀴즈"]).await;
    let mission: String = sqlx::query_scalar(
        "SELECT m.id::text FROM missions m JOIN topics t ON t.id = m.topic_id WHERE t.title = '웹 동작 원리 확인 퀴즈'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let rows: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT q.id::text, c.id::text, c.correct FROM questions q JOIN choices c ON c.question_id = q.id
          WHERE q.mission_id = $1::uuid",
    )
    .bind(&mission)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let pick = |right: bool| -> Vec<(String, String)> {
        let mut seen = std::collections::HashSet::new();
        rows.iter()
            .filter(|(q, _, correct)| *correct == right && seen.insert(q.clone()))
            .map(|(q, c, _)| (format!("q-{q}"), c.clone()))
            .collect()
    };
    assert_eq!(
        submit(&app, &mission, pick(false)).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM certificates").await, 0);
    crate::support::attempts_ended_ago(&app.db, 11).await;
    assert_eq!(
        submit(&app, &mission, pick(true)).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM certificates WHERE course_id IS NOT NULL"
        )
        .await,
        1
    );
    // The dashboard lists it with its credits.
    let dashboard = app.get("/me/dashboard").await;
    assert_eq!(
        dashboard.attr("[data-credits]", "data-credits").as_deref(),
        Some("3")
    );
    assert!(
        dashboard
            .attr("[data-my-certificate]", "data-my-certificate")
            .is_some()
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn finishing_every_course_certifies_the_nanodegree(db: PgPool) {
    let (app, user) = learner(db).await;
    let courses: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM courses ORDER BY slug")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let mut issued = Vec::new();
    for c in &courses {
        complete(&app, user, CourseId(*c), &[]).await;
        issued.extend(check(&app, user, CourseId(*c)).await);
    }
    assert_eq!(issued.len(), 8, "seven courses and the nano-degree");
    let (title, credits): (String, i32) =
        sqlx::query_as("SELECT title, credits FROM certificates WHERE curriculum_id IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(title, "웹 개발 나노 디그리");
    assert_eq!(credits, 21);
}

async fn issued(app: &TestApp, user: UserId) -> String {
    let git = course(app, "git-collaboration").await;
    complete(app, user, git, &[]).await;
    check(app, user, git).await.pop().expect("issued")
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn anyone_verifies_a_certificate_as_a_page_or_json_and_admins_revoke_and_issue(db: PgPool) {
    let (app, user) = learner(db).await;
    let code = issued(&app, user).await;
    let visitor = app.another_browser();
    let page = visitor.get(&format!("/certificates/{code}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.attr("[data-certificate-status]", "data-certificate-status")
            .as_deref(),
        Some("valid")
    );
    assert_eq!(
        page.text("[data-certificate-name]").as_deref(),
        Some("김위버")
    );
    assert!(
        !page.body.contains("learner@example.com"),
        "nothing else personal"
    );
    assert!(
        page.attr(r#"meta[property="og:title"]"#, "content")
            .unwrap()
            .contains("Git과 협업")
    );
    let linkedin = page.attr("[data-linkedin]", "href").unwrap();
    assert!(
        linkedin.starts_with("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME")
    );
    assert!(linkedin.contains(&format!("certId={code}")));
    assert!(
        page.attr("[data-pdf]", "href").is_none(),
        "private PDF: no link for others"
    );

    let json = visitor
        .client
        .get(visitor.url(&format!("/certificates/{code}")))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::OK);
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["status"], "valid");
    assert_eq!(body["name"], "김위버");
    assert_eq!(body["kind"], "course");
    let unknown = visitor
        .get("/certificates/WV-AAAAA-AAAAA-AAAAA-AAAAA")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let admin = app.another_browser();
    admin.login_as_admin().await;
    let list = admin.get("/admin/certificates").await;
    assert_eq!(
        list.attr("[data-certificate-row]", "data-certificate-row"),
        Some(code.clone())
    );
    // Filtered by Seoul issue day: today finds it, tomorrow does not, and
    // the filter form shows the days asked for.
    let today = weaverse::web::dates::today();
    let tomorrow = today.next_day().unwrap();
    let list = admin
        .get(&format!("/admin/certificates?from={today}&to={today}"))
        .await;
    assert_eq!(
        list.attr("[data-certificate-row]", "data-certificate-row"),
        Some(code.clone())
    );
    assert_eq!(
        list.attr("#f-issued-from", "value"),
        Some(today.to_string())
    );
    let later = admin
        .get(&format!("/admin/certificates?from={tomorrow}"))
        .await;
    assert_eq!(
        later.attr("[data-certificate-row]", "data-certificate-row"),
        None
    );
    let page = admin
        .post_form(
            &format!("/admin/certificates/{code}/revoke"),
            &[("reason", "")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = admin
        .post_form(
            &format!("/admin/certificates/{code}/revoke"),
            &[("reason", "부정 수료 확인")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = visitor.get(&format!("/certificates/{code}")).await;
    assert_eq!(
        page.attr("[data-certificate-status]", "data-certificate-status")
            .as_deref(),
        Some("revoked")
    );

    // By hand: the learner found by what the admin types, the course picked
    // by its title (no page asks for an id); twice is refused.
    let form = admin.get("/admin/certificates").await;
    let option = form
        .html()
        .select(&scraper::Selector::parse("#f-product option").unwrap())
        .find(|o| o.text().collect::<String>() == "웹의 이해와 HTML")
        .and_then(|o| o.value().attr("value").map(str::to_owned))
        .expect("the course by its title");
    let web = course(&app, "web-and-html").await;
    assert_eq!(option, format!("course:{web}"));
    let suggested = admin
        .get("/admin/certificates/learners?email=learner@exa")
        .await;
    assert_eq!(
        suggested.attr("option", "value").as_deref(),
        Some("learner@example.com")
    );
    assert!(
        admin
            .get("/admin/certificates/learners?email=l")
            .await
            .attr("option", "value")
            .is_none(),
        "one letter suggests nobody"
    );
    let fields = [
        ("email", "learner@example.com"),
        ("product", option.as_str()),
        ("reason", "오프라인 과정 이수"),
    ];
    let page = admin.post_form("/admin/certificates", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = admin.post_form("/admin/certificates", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = admin
        .post_form(
            "/admin/certificates",
            &[
                ("email", "nobody@example.com"),
                ("product", option.as_str()),
                ("reason", "다른 사유"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text("[data-error-for=_form]")
            .unwrap()
            .contains("회원이 없습니다")
    );
    // Nothing typed is lost: the refused form comes back filled in.
    assert_eq!(
        page.attr("#f-email", "value").as_deref(),
        Some("nobody@example.com")
    );
    assert_eq!(
        page.attr("#f-reason", "value").as_deref(),
        Some("다른 사유")
    );
    assert_eq!(
        page.attr("#f-product option[selected]", "value"),
        Some(option.clone())
    );
    let page = admin
        .post_form(
            "/admin/certificates",
            &[("email", "learner@example.com"), ("reason", "사유")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text("[data-error-for=_form]")
            .unwrap()
            .contains("과정을 고르세요")
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM certificates WHERE issued_by IS NOT NULL"
        )
        .await,
        1
    );
    // Learners cannot reach the admin page.
    assert_eq!(
        app.get("/admin/certificates").await.status,
        StatusCode::FORBIDDEN
    );
}

/// `bytes` written to a PDF file in a temporary folder of its own: (folder, file).
fn pdf_file(name: &str, bytes: &[u8]) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("weaverse-cert-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("c.pdf");
    std::fs::write(&file, bytes).unwrap();
    (dir, file)
}

/// The text of a PDF, as `pdftotext` reads it.
fn pdf_text(file: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg(file)
        .arg("-")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_pdf_carries_the_korean_name_as_text_renders_and_is_made_once(db: PgPool) {
    let (app, user) = learner(db).await;
    let code = issued(&app, user).await;
    let path = format!("/certificates/{code}.pdf");
    let (status, bytes) = app.get_bytes(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes.starts_with(b"%PDF"));
    assert!(bytes.len() < 100 * 1024, "{} bytes", bytes.len());
    let (dir, file) = pdf_file(&code, &bytes);
    let text = pdf_text(&file);
    assert!(text.contains("김위버"), "{text}");
    assert!(
        text.contains("Git과 협업") && text.contains(&code),
        "{text}"
    );
    let png = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "30", "-singlefile"])
        .arg(&file)
        .arg(dir.join("c"))
        .status()
        .unwrap();
    assert!(png.success());
    let image = std::fs::read(dir.join("c.png")).unwrap();
    assert!(image.starts_with(b"\x89PNG"));
    std::fs::remove_dir_all(&dir).unwrap();
    // Made once: the same bytes again, from storage.
    assert_eq!(app.get_bytes(&path).await.1, bytes);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM certificates WHERE pdf_key IS NOT NULL"
        )
        .await,
        1
    );

    // Others: a visitor is sent to log in, another learner refused, until
    // the owner makes it public.
    let visitor = app.another_browser();
    assert_eq!(visitor.get_bytes(&path).await.0, StatusCode::SEE_OTHER);
    let other = app.another_browser();
    other.verified_learner("other@example.com").await;
    assert_eq!(other.get_bytes(&path).await.0, StatusCode::FORBIDDEN);
    let page = app
        .post_form(
            &format!("/certificates/{code}/visibility"),
            &[("public", "on")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(visitor.get_bytes(&path).await.0, StatusCode::OK);
    assert_eq!(
        other
            .post_form(&format!("/certificates/{code}/visibility"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_missing_certificate_font_stops_the_start_with_a_clear_error(db: PgPool) {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let var = std::env::temp_dir().join(format!("weaverse-font-{}", uuid::Uuid::new_v4()));
    let mut config = weaverse::config::Config::for_tests("", root.join("static"), var).unwrap();
    config.certificate_font = "/nonexistent/NanumGothic.ttf".into();
    let err = weaverse::app::Platform::new(config, db)
        .err()
        .expect("refused");
    let message = format!("{err:#}");
    assert!(
        message.contains("fonts-nanum") && message.contains("CERTIFICATE_FONT"),
        "{message}"
    );
}

/// The JSON the app serves at `path`.
async fn served(app: &TestApp, path: &str) -> (StatusCode, serde_json::Value) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

/// What `POST /certificates/verify` answers about `badge` (as JSON).
async fn verdict(app: &TestApp, badge: &serde_json::Value) -> (StatusCode, serde_json::Value) {
    let response = app
        .client
        .post(app.url("/certificates/verify"))
        .json(badge)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// What Digital Bazaar's verifier says of `badge`, offline, given the DID
/// document and status list the app serves.
async fn their_verdict(app: &TestApp, badge: &serde_json::Value) -> serde_json::Value {
    let (_, did) = served(app, "/.well-known/did.json").await;
    let (_, list) = served(app, "/certificates/status/0").await;
    let file = app
        .var_dir
        .join(format!("badge-{}.json", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&app.var_dir).unwrap();
    let input = serde_json::json!({ "badge": badge, "didDocument": did, "statusList": list });
    std::fs::write(&file, input.to_string()).unwrap();
    let out = tokio::process::Command::new("node")
        .arg("tests/interop/verify-badge.mjs")
        .arg(&file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .await
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_open_badge_verifies_here_and_with_independent_libraries_pinned_to_our_did(db: PgPool) {
    let (app, user) = learner(db).await;
    let code = issued(&app, user).await;
    let response = app
        .client
        .get(app.url(&format!("/certificates/{code}/badge")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/ld+json")
    );
    let badge: serde_json::Value = response.json().await.unwrap();
    assert_eq!(badge["type"][1], "OpenBadgeCredential");
    assert_eq!(badge["credentialSubject"]["name"], "김위버");
    assert_eq!(badge["proof"]["cryptosuite"], "eddsa-jcs-2022");
    // Our DID, published with its key; the proof keeps its @context.
    let did = format!(
        "did:web:{}",
        app.base.trim_start_matches("http://").replace(':', "%3A")
    );
    assert_eq!(badge["issuer"]["id"], did.as_str());
    assert_eq!(badge["proof"]["@context"], badge["@context"]);
    let (status, document) = served(&app, "/.well-known/did.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["id"], did.as_str());
    assert_eq!(
        document["assertionMethod"][0],
        badge["proof"]["verificationMethod"]
    );
    // OB 3.0 wants the subject identified: a salted hash of the email.
    let identity = &badge["credentialSubject"]["identifier"][0];
    assert_eq!(identity["hashed"], true);
    assert!(
        !badge.to_string().contains("learner@example.com"),
        "the email is only hashed"
    );
    assert!(badge["validFrom"].is_string());
    assert_eq!(
        badge["credentialStatus"]["type"],
        "BitstringStatusListEntry"
    );
    let page = app.get(&format!("/certificates/{code}")).await;
    assert_eq!(
        page.text("[data-issuer-did]").as_deref(),
        Some(did.as_str())
    );

    // Ours says valid; so do Digital Bazaar's libraries.
    let (status, reply) = verdict(&app, &badge).await;
    assert_eq!(
        (status, reply["verdict"].as_str()),
        (StatusCode::OK, Some("valid"))
    );
    assert_eq!(reply["certificate"]["code"], code.as_str());
    let theirs = their_verdict(&app, &badge).await;
    assert_eq!(theirs["verified"], true, "{theirs}");
    assert_eq!(theirs["revoked"], false);

    // A changed name fails both.
    let mut forged = badge.clone();
    forged["credentialSubject"]["name"] = "다른 사람".into();
    assert_eq!(verdict(&app, &forged).await.1["verdict"], "altered");
    assert_eq!(their_verdict(&app, &forged).await["verified"], false);
    // Re-signed with another key that names itself: a fine signature, but
    // not Weaverse's.
    let other = weaverse::certificates::badge::BadgeSigner::from_seed(&[9u8; 32]).unwrap();
    let row = weaverse::certificates::by_code(&mut app.db.acquire().await.unwrap(), &code)
        .await
        .unwrap()
        .unwrap();
    let resigned =
        weaverse::certificates::badge::credential(&other, &row, "x@example.com", &app.base)
            .unwrap();
    assert_eq!(verdict(&app, &resigned).await.1["verdict"], "not_ours");
    // Pointing the re-signed proof at our key breaks its signature.
    let mut borrowed = resigned.clone();
    borrowed["proof"]["verificationMethod"] = badge["proof"]["verificationMethod"].clone();
    assert_eq!(verdict(&app, &borrowed).await.1["verdict"], "altered");
    // Not a badge at all: 422, in words too.
    let page = app
        .post_form(
            "/certificates/verify",
            &[("badge", "{ 이건 배지가 아닙니다")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        page.attr("[data-badge-verdict]", "data-badge-verdict")
            .as_deref(),
        Some("malformed")
    );
    let page = app
        .post_form("/certificates/verify", &[("badge", &badge.to_string())])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text("[data-verdict-words]")
            .unwrap()
            .contains("유효한 수료증")
    );

    // Revoked: the badge saved before shows revoked, here and through the
    // status list with the independent libraries; no new badge is given.
    sqlx::query("UPDATE certificates SET status = 'revoked', revoked_at = now()")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(verdict(&app, &badge).await.1["verdict"], "revoked");
    let theirs = their_verdict(&app, &badge).await;
    assert_eq!(
        (theirs["verified"].clone(), theirs["revoked"].clone()),
        (true.into(), true.into()),
        "{theirs}"
    );
    let gone = app.get(&format!("/certificates/{code}/badge")).await;
    assert_eq!(gone.status, StatusCode::GONE);
    // Lists past the last one in use do not exist.
    assert_eq!(
        served(&app, "/certificates/status/7").await.0,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_legal_name_is_asked_once_before_the_first_certificates_pdf(db: PgPool) {
    let (app, user) = learner(db).await;
    sqlx::query("UPDATE users SET legal_name = NULL, nickname = '코딩고수' WHERE id = $1")
        .bind(user.0)
        .execute(&app.db)
        .await
        .unwrap();
    let code = issued(&app, user).await;
    // Until the name is given, no page presents the nickname as the name.
    let page = app.get(&format!("/certificates/{code}")).await;
    assert_eq!(
        page.text("[data-certificate-name]").as_deref(),
        Some("수료자 이름 확인 중")
    );
    assert!(
        page.text("[data-name-needed]").is_some(),
        "the owner is asked"
    );
    assert!(page.attr("[data-open-badge]", "href").is_none());
    let badge = app.get(&format!("/certificates/{code}/badge")).await;
    assert_eq!(badge.status, StatusCode::CONFLICT);
    assert!(badge.body.contains("name_pending"));
    assert!(
        app.get("/me/dashboard")
            .await
            .text("[data-name-needed]")
            .is_some()
    );
    let pdf = format!("/certificates/{code}.pdf");
    let asked = app.get_bytes(&pdf).await;
    assert_eq!(asked.0, StatusCode::SEE_OTHER);
    let form = app.get(&format!("/me/legal-name?next={pdf}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(
        form.attr("input[name=next]", "value").as_deref(),
        Some(pdf.as_str())
    );

    let refused = app
        .post_form("/me/legal-name", &[("legal_name", "홍"), ("next", &pdf)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("2자 이상 40자 이하"));
    let refused = app
        .post_form(
            "/me/legal-name",
            &[("legal_name", "홍길동123"), ("next", &pdf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let saved = app
        .post_form(
            "/me/legal-name",
            &[("legal_name", "  홍   길동 "), ("next", &pdf)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.header("location"), pdf);
    let (name, confirmed): (String, bool) =
        sqlx::query_as("SELECT learner_name, name_confirmed FROM certificates WHERE code = $1")
            .bind(&code)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((name.as_str(), confirmed), ("홍 길동", true));
    let badge = app.get(&format!("/certificates/{code}/badge")).await;
    assert_eq!(badge.status, StatusCode::OK);
    assert!(badge.body.contains("홍 길동"));

    // The PDF carries the legal name, not the nickname, and no study time
    // under an hour (it read "0.0시간").
    let (status, bytes) = app.get_bytes(&pdf).await;
    assert_eq!(status, StatusCode::OK);
    let (dir, file) = pdf_file(&format!("legal-{code}"), &bytes);
    let text = pdf_text(&file);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(text.contains("홍 길동"), "{text}");
    assert!(!text.contains("코딩고수"), "{text}");
    assert!(
        !text.contains("학습 시간") && !text.contains("0.0시간"),
        "{text}"
    );

    // Asked once: the next certificate carries the name from the start.
    let html = course(&app, "web-and-html").await;
    complete(&app, user, html, &[]).await;
    let next = check(&app, user, html).await.pop().expect("issued");
    let (name, confirmed): (String, bool) =
        sqlx::query_as("SELECT learner_name, name_confirmed FROM certificates WHERE code = $1")
            .bind(&next)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((name.as_str(), confirmed), ("홍 길동", true));
    assert!(
        app.get("/me/dashboard")
            .await
            .text("[data-name-needed]")
            .is_none()
    );
}
