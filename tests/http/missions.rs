//! Missions through HTTP: attempts with shuffled choices graded on the
//! server, code graded in the real sandbox by the job, limits, access, the
//! studio editor, and the demo missions' own reference answers.

use std::collections::HashMap;

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::{TestApp, count};

async fn learner(db: PgPool) -> TestApp {
    let app = TestApp::spawn_with(db, |c| c.limits.code_submissions_per_learner = 100).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    app
}

/// The mission on the mission topic titled `title`.
pub(crate) async fn mission(app: &TestApp, title: &str) -> String {
    sqlx::query_scalar(
        "SELECT m.id::text FROM missions m JOIN topics t ON t.id = m.topic_id WHERE t.title = $1",
    )
    .bind(title)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// `q-{question}` = choice for every choice question of the mission: the
/// correct ones, or (when `right` is false) one wrong one each.
pub(crate) async fn answers(app: &TestApp, mission: &str, right: bool) -> Vec<(String, String)> {
    let rows: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT q.id::text, c.id::text, c.correct FROM questions q JOIN choices c ON c.question_id = q.id
          WHERE q.mission_id = $1::uuid ORDER BY q.position, c.position",
    )
    .bind(mission)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let mut out = Vec::new();
    let mut wrong_done = std::collections::HashSet::new();
    for (q, c, correct) in rows {
        let take = if right {
            correct
        } else {
            !correct && wrong_done.insert(q.clone())
        };
        if take {
            out.push((format!("q-{q}"), c));
        }
    }
    out
}

impl TestApp {
    pub(crate) async fn post_pairs(
        &self,
        path: &str,
        pairs: &[(String, String)],
    ) -> crate::support::Page {
        let fields: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post_form(path, &fields).await
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn choices_are_graded_on_the_server_the_best_score_is_kept_and_passing_completes_the_topic(
    db: PgPool,
) {
    let app = learner(db).await;
    let id = mission(&app, "웹 동작 원리 확인 퀴즈").await;
    let path = format!("/missions/{id}");
    // Opening the page starts nothing: a GET changes nothing that matters.
    let page = app.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text("[data-start-attempt]").is_some(), "{}", page.body);
    assert!(page.text("[data-choice-form]").is_none());
    assert_eq!(count(&app.db, "SELECT count(*) FROM attempts").await, 0);
    let started = app.post_form(&format!("{path}/attempts"), &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let page = app.get(&path).await;
    let questions = page
        .html()
        .select(&scraper::Selector::parse("fieldset.question").unwrap())
        .count();
    assert!(questions >= 5, "{questions}");
    // The order of choices holds for the attempt (a reload shows the same).
    let order = |p: &crate::support::Page| -> Vec<String> {
        p.html()
            .select(&scraper::Selector::parse("fieldset.question input").unwrap())
            .map(|e| e.value().attr("value").unwrap().to_string())
            .collect()
    };
    let first = order(&page);
    assert_eq!(first, order(&app.get(&path).await));

    // Wrong answers: a low score, not passed, per-question feedback.
    let page = app
        .post_pairs(
            &format!("{path}/submissions"),
            &answers(&app, &id, false).await,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = app.get(&path).await;
    assert_eq!(
        page.attr("[data-attempt-score]", "data-attempt-score")
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        page.attr("[data-best-score]", "data-passed").as_deref(),
        Some("false")
    );
    // The score shows, right/wrong per question does not (attempts are
    // left), and the next attempt waits for the cooldown.
    assert!(page.attr("[data-earned]", "data-earned").is_none());
    assert!(
        page.attr("[data-next-attempt]", "data-next-attempt")
            .is_some()
    );
    assert!(page.body.contains("문제별 맞음·틀림은"), "{}", page.body);
    let early = app
        .post_pairs(
            &format!("{path}/submissions"),
            &answers(&app, &id, true).await,
        )
        .await;
    assert_eq!(early.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM attempts").await,
        1,
        "no attempt opened inside the cooldown"
    );
    crate::support::attempts_ended_ago(&app.db, 11).await;
    app.post_form(&format!("{path}/attempts"), &[]).await;
    let page = app.get(&path).await;
    // The second attempt has its own order (with the same choices).
    let mut second = order(&page);
    let mut sorted_first = first.clone();
    sorted_first.sort();
    second.sort();
    assert_eq!(sorted_first, second);

    // A choice of another question or a made-up id counts for nothing;
    // the right answers pass and complete the topic.
    let mut right = answers(&app, &id, true).await;
    right.push((right[0].0.clone(), uuid::Uuid::new_v4().to_string()));
    let page = app.post_pairs(&format!("{path}/submissions"), &right).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = app.get(&path).await;
    assert_eq!(
        page.attr("[data-attempt-score]", "data-attempt-score")
            .as_deref(),
        Some("100")
    );
    assert_eq!(
        page.attr("[data-best-score]", "data-passed").as_deref(),
        Some("true")
    );
    // Passed: right/wrong per question is shown now.
    assert!(page.attr("[data-earned]", "data-earned").is_some());
    let done = count(
        &app.db,
        "SELECT count(*) FROM topic_progress p JOIN missions m ON m.topic_id = p.topic_id WHERE p.completed_at IS NOT NULL",
    )
    .await;
    assert_eq!(done, 1);
    // A worse attempt later keeps the best.
    crate::support::attempts_ended_ago(&app.db, 11).await;
    app.post_form(&format!("{path}/attempts"), &[]).await;
    app.post_pairs(
        &format!("{path}/submissions"),
        &answers(&app, &id, false).await,
    )
    .await;
    let page = app.get(&path).await;
    assert_eq!(
        page.attr("[data-best-score]", "data-best-score").as_deref(),
        Some("100")
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM attempts WHERE submitted_at IS NOT NULL"
        )
        .await,
        3
    );
    // That was the third and last attempt (the demo missions allow 3): a
    // fourth is refused, however long the learner waits.
    crate::support::attempts_ended_ago(&app.db, 60).await;
    let page = app.get(&path).await;
    assert!(
        page.attr("[data-no-attempts]", "data-no-attempts")
            .is_some()
    );
    let again = app
        .post_pairs(
            &format!("{path}/submissions"),
            &answers(&app, &id, true).await,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("응시 횟수를 모두 썼습니다"));
    assert_eq!(count(&app.db, "SELECT count(*) FROM attempts").await, 3);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn picking_the_kth_choice_on_attempt_k_learns_nothing_per_question(db: PgPool) {
    // The brute force from the review: attempt k picks every question's
    // k-th choice. Without per-question feedback and with 3 attempts 10
    // minutes apart, it cannot map the key.
    let app = learner(db).await;
    let id = mission(&app, "웹 동작 원리 확인 퀴즈").await;
    let path = format!("/missions/{id}");
    for k in 0..3 {
        app.post_form(&format!("{path}/attempts"), &[]).await;
        let page = app.get(&path).await;
        let fields: Vec<(String, String)> = page
            .html()
            .select(&scraper::Selector::parse("fieldset.question").unwrap())
            .filter_map(|q| {
                let input = q
                    .select(&scraper::Selector::parse("input").unwrap())
                    .nth(k)?;
                Some((
                    input.value().attr("name")?.to_string(),
                    input.value().attr("value")?.to_string(),
                ))
            })
            .collect();
        assert!(!fields.is_empty(), "attempt {k} is open");
        app.post_pairs(&format!("{path}/submissions"), &fields)
            .await;
        let page = app.get(&path).await;
        assert!(
            page.attr("[data-attempt-score]", "data-attempt-score")
                .is_some()
        );
        let passed = page.attr("[data-best-score]", "data-passed").as_deref() == Some("true");
        let used_up = page
            .attr("[data-no-attempts]", "data-no-attempts")
            .is_some();
        assert_eq!(
            page.attr("[data-earned]", "data-earned").is_some(),
            passed || used_up,
            "attempt {k}: per-question marks only once passed or used up"
        );
        crate::support::attempts_ended_ago(&app.db, 11).await;
    }
    assert_eq!(count(&app.db, "SELECT count(*) FROM attempts").await, 3);
    assert!(
        app.get(&path)
            .await
            .attr("[data-no-attempts]", "data-no-attempts")
            .is_some()
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn attempt_and_time_limits_hold_and_strangers_are_refused(db: PgPool) {
    let app = learner(db).await;
    let id = mission(&app, "레이아웃 퀴즈").await;
    let path = format!("/missions/{id}");
    sqlx::query("UPDATE missions SET max_attempts = 1, time_limit_secs = 60 WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.db)
        .await
        .unwrap();
    let started = app.post_form(&format!("{path}/attempts"), &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    // Ten minutes later the answer is too late.
    sqlx::query("UPDATE attempts SET started_at = now() - interval '10 minutes'")
        .execute(&app.db)
        .await
        .unwrap();
    let late = app
        .post_pairs(
            &format!("{path}/submissions"),
            &answers(&app, &id, true).await,
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.body.contains("제한 시간"));
    // That used the only attempt.
    let page = app.get(&path).await;
    assert!(
        page.attr("[data-no-attempts]", "data-no-attempts")
            .is_some()
    );
    let none = app
        .post_pairs(
            &format!("{path}/submissions"),
            &answers(&app, &id, true).await,
        )
        .await;
    assert_eq!(none.status, StatusCode::CONFLICT);
    assert_eq!(count(&app.db, "SELECT count(*) FROM attempts").await, 1);

    let visitor = app.another_browser();
    assert_eq!(visitor.get(&path).await.status, StatusCode::SEE_OTHER);
    let stranger = app.another_browser();
    stranger.verified_learner("stranger@example.com").await;
    assert_eq!(stranger.get(&path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        stranger
            .post_form(
                &format!("{path}/submissions"),
                &[("code", "x"), ("question_id", &id)]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// The code question of a mission.
pub(crate) async fn code_question(app: &TestApp, mission: &str) -> String {
    sqlx::query_scalar(
        "SELECT id::text FROM questions WHERE mission_id = $1::uuid AND kind = 'code'",
    )
    .bind(mission)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// A right answer to "배열 합계 함수 작성하기".
pub(crate) const RIGHT_SUM: &str =
    "function sum(numbers) {\n  return numbers.reduce((a, b) => a + b, 0);\n}\n";

impl TestApp {
    /// The verdict of a submission as its box shows it, polled until it is
    /// graded (at most `limit`), and how long that took.
    pub(crate) async fn verdict_within(
        &self,
        submission: &str,
        limit: std::time::Duration,
    ) -> (String, std::time::Duration) {
        let started = std::time::Instant::now();
        loop {
            let verdict = self
                .get(&format!("/missions/submissions/{submission}"))
                .await
                .attr("[data-verdict]", "data-verdict")
                .unwrap_or_default();
            if verdict != "pending" && !verdict.is_empty() {
                return (verdict, started.elapsed());
            }
            assert!(
                started.elapsed() < limit,
                "no verdict after {:?}",
                started.elapsed()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Submits code as the mission page does with htmx; the submission box.
    pub(crate) async fn submit_code(
        &self,
        mission: &str,
        question: &str,
        code: &str,
    ) -> crate::support::Page {
        let token = self.csrf_token().await;
        let response = self
            .client
            .post(self.url(&format!("/missions/{mission}/submissions")))
            .header("origin", &self.base)
            .header("hx-request", "true")
            .form(&[
                ("csrf_token", token.as_str()),
                ("question_id", question),
                ("code", code),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        crate::support::Page {
            status,
            headers: Default::default(),
            body,
        }
    }

    /// Grades what is queued and returns the submission box as polled.
    async fn graded(&self, submission_box: &crate::support::Page) -> crate::support::Page {
        let id = submission_box
            .attr("[data-submission]", "data-submission")
            .expect("submission");
        self.run_jobs().await;
        self.get(&format!("/missions/submissions/{id}")).await
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn code_is_graded_in_the_sandbox_with_verdicts_and_hidden_tests_stay_hidden(db: PgPool) {
    let app = learner(db).await;
    let id = mission(&app, "배열 합계 함수 작성하기").await;
    let q = code_question(&app, &id).await;
    let page = app.get(&format!("/missions/{id}")).await;
    // Visible tests are shown; hidden ones only as a count.
    assert!(page.body.contains("console.log(sum([1, 2, 3]));"));
    assert!(
        !page.body.contains("sum([-5, 2.5, 10])"),
        "a hidden test reached the page"
    );

    let wrong = app
        .submit_code(&id, &q, "function sum(numbers) { return numbers.length; }")
        .await;
    assert_eq!(wrong.status, StatusCode::ACCEPTED, "{}", wrong.body);
    assert_eq!(
        wrong.attr("[data-verdict]", "data-verdict").as_deref(),
        Some("pending")
    );
    // One pending submission at a time.
    let busy = app
        .submit_code(&id, &q, "function sum() { return 0; }")
        .await;
    assert_eq!(busy.status, StatusCode::CONFLICT);
    let graded = app.graded(&wrong).await;
    assert_eq!(
        graded.attr("[data-verdict]", "data-verdict").as_deref(),
        Some("wrong_answer")
    );
    assert!(
        !graded.body.contains("-5, 2.5"),
        "hidden input in the result"
    );
    assert!(
        graded
            .attr("[data-hidden-passed]", "data-hidden-passed")
            .is_some()
    );

    let right = app.submit_code(&id, &q, RIGHT_SUM).await;
    let graded = app.graded(&right).await;
    assert_eq!(
        graded.attr("[data-verdict]", "data-verdict").as_deref(),
        Some("accepted"),
        "{}",
        graded.body
    );
    assert_eq!(
        graded.attr("[data-verdict]", "data-score").as_deref(),
        Some("100")
    );
    // The practice mission (code only) is passed, and its topic complete.
    let page = app.get(&format!("/missions/{id}")).await;
    assert_eq!(
        page.attr("[data-best-score]", "data-passed").as_deref(),
        Some("true")
    );

    // Other verdicts, with a one-second CPU limit.
    sqlx::query("UPDATE questions SET cpu_secs = 1 WHERE id = $1::uuid")
        .bind(&q)
        .execute(&app.db)
        .await
        .unwrap();
    for (code, verdict) in [
        ("function sum( {", "compile_error"),
        ("function sum() { throw new Error('x'); }", "runtime_error"),
        ("function sum() { for (;;) {} }", "time_limit"),
        (
            "function sum() { const a = []; for (;;) a.push(new Array(1e6).fill(1.5)); }",
            "memory_limit",
        ),
    ] {
        let sent = app.submit_code(&id, &q, code).await;
        assert_eq!(sent.status, StatusCode::ACCEPTED, "{code}: {}", sent.body);
        let graded = app.graded(&sent).await;
        assert_eq!(
            graded.attr("[data-verdict]", "data-verdict").as_deref(),
            Some(verdict),
            "{code}"
        );
    }
    // A visible test that crashes says the error and the learner's line;
    // the hidden tests' failures stay counts.
    let sent = app
        .submit_code(
            &id,
            &q,
            "function sum(numbers) {\n  let total = 0;\n  return numbers.lenght.foo;\n}\n",
        )
        .await;
    let graded = app.graded(&sent).await;
    assert_eq!(
        graded
            .attr("[data-error-line]", "data-error-line")
            .as_deref(),
        Some("3"),
        "{}",
        graded.body
    );
    assert!(
        graded
            .text("[data-test-error]")
            .unwrap()
            .contains("TypeError: Cannot read properties of undefined"),
        "{}",
        graded.body
    );
    let errors = graded
        .html()
        .select(&scraper::Selector::parse("[data-test-error]").unwrap())
        .count();
    let visible = graded
        .html()
        .select(&scraper::Selector::parse("[data-test-verdict]").unwrap())
        .count();
    assert_eq!(
        errors, visible,
        "one error per visible test, none for hidden ones"
    );
    // Only a hidden test fails (it is the one with a negative number): the
    // verdict says so without saying how it failed (here, a time limit).
    let sent = app
        .submit_code(
            &id,
            &q,
            "function sum(numbers) {\n  if (numbers.some((n) => n < 0)) for (;;) {}\n  return numbers.reduce((a, b) => a + b, 0);\n}\n",
        )
        .await;
    let graded = app.graded(&sent).await;
    assert_eq!(
        graded.attr("[data-verdict]", "data-verdict").as_deref(),
        Some("hidden_failed"),
        "{}",
        graded.body
    );
    assert!(!graded.body.contains("시간 초과"), "{}", graded.body);
    // A NUL in the output is graded once, shown as a symbol, not retried.
    let sent = app
        .submit_code(&id, &q, "function sum() { process.stdout.write('a\\0b'); }")
        .await;
    let graded = app.graded(&sent).await;
    assert_eq!(
        graded.attr("[data-verdict]", "data-verdict").as_deref(),
        Some("wrong_answer"),
        "{}",
        graded.body
    );
    assert!(graded.body.contains("a\u{2400}b"), "{}", graded.body);
    assert_eq!(
        count(
            &app.db,
            "SELECT max(attempts)::bigint FROM jobs WHERE kind = 'assessments.grade' AND status = 'done'"
        )
        .await,
        1
    );
    // An empty or oversized submission is refused before anything is stored.
    let before = count(&app.db, "SELECT count(*) FROM code_submissions").await;
    assert_eq!(
        app.submit_code(&id, &q, "   ").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.submit_code(&id, &q, &"x".repeat(70_000)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM code_submissions").await,
        before
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn every_demo_course_has_real_missions_and_their_code_tasks_grade_the_reference_answers(
    db: PgPool,
) {
    let app = learner(db).await;
    // A midterm and a final per course, each with at least five questions,
    // and a code task with hidden tests in every course.
    let per_course: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT c.slug,
                count(DISTINCT m.id) FILTER (WHERE m.kind IN ('midterm', 'final')),
                min((SELECT count(*) FROM questions q WHERE q.mission_id = m.id)) FILTER (WHERE m.kind IN ('midterm', 'final')),
                count(DISTINCT q.id) FILTER (WHERE q.kind = 'code' AND EXISTS
                  (SELECT 1 FROM code_tests t WHERE t.question_id = q.id AND NOT t.visible))
           FROM courses c JOIN lectures l ON l.course_id = c.id JOIN topics t ON t.lecture_id = l.id
           JOIN missions m ON m.topic_id = t.id LEFT JOIN questions q ON q.mission_id = m.id
          GROUP BY c.slug",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(per_course.len(), 7, "{per_course:?}");
    for (slug, missions, fewest, code) in &per_course {
        assert_eq!(*missions, 2, "{slug}");
        assert!(*fewest >= 5, "{slug}: {fewest}");
        assert!(*code >= 1, "{slug}");
    }
    // Every mission topic of the demo is a real mission.
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM topics t WHERE t.kind = 'mission' AND NOT EXISTS (SELECT 1 FROM missions m WHERE m.topic_id = t.id)").await,
        0
    );

    // Each code task accepts its reference answer and refuses its starter.
    let answers: HashMap<String, String> =
        serde_json::from_str(include_str!("demo_answers.json")).unwrap();
    for (key, answer) in answers {
        let (course, title) = key.split_once('|').unwrap();
        let row: (String, String, String) = sqlx::query_as(
            "SELECT m.id::text, q.id::text, q.starter_code FROM missions m JOIN topics t ON t.id = m.topic_id
               JOIN lectures l ON l.id = t.lecture_id JOIN courses c ON c.id = l.course_id
               JOIN questions q ON q.mission_id = m.id AND q.kind = 'code'
              WHERE c.slug = $1 AND t.title = $2",
        )
        .bind(course)
        .bind(title)
        .fetch_one(&app.db)
        .await
        .unwrap();
        let (mission, question, starter) = row;
        let graded = app
            .graded(&app.submit_code(&mission, &question, &answer).await)
            .await;
        assert_eq!(
            graded.attr("[data-verdict]", "data-verdict").as_deref(),
            Some("accepted"),
            "{key}: {}",
            graded.body
        );
        let graded = app
            .graded(&app.submit_code(&mission, &question, &starter).await)
            .await;
        assert_ne!(
            graded.attr("[data-verdict]", "data-verdict").as_deref(),
            Some("accepted"),
            "{key} starter"
        );
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_studio_edits_missions_questions_choices_and_tests(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.login_as_admin().await;
    let topic: String =
        sqlx::query_scalar("SELECT id::text FROM topics WHERE title = '값과 타입 퀴즈'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let editor = format!("/studio/topics/{topic}/mission");
    let page = app.get(&editor).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("typeof null"));

    // The mission's settings form: pass mark, attempts, cooldown, time.
    let settings = |pass: &'static str,
                    attempts: &'static str,
                    cooldown: &'static str,
                    minutes: &'static str| {
        let editor = editor.clone();
        let app = &app;
        async move {
            app.post_form(
                &editor,
                &[
                    ("kind", "midterm"),
                    ("pass_percent", pass),
                    ("max_attempts", attempts),
                    ("cooldown_minutes", cooldown),
                    ("time_limit_minutes", minutes),
                ],
            )
            .await
        }
    };
    for (fields, words) in [
        (("150", "", "", ""), "통과 기준"),
        (("70", "3", "abc", "20"), "다음 응시까지"),
    ] {
        let page = settings(fields.0, fields.1, fields.2, fields.3).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.text(r#"[data-error-for="_form"]"#)
                .unwrap()
                .contains(words)
        );
    }
    let page = settings("70", "3", "30", "20").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let (pass, max, cooldown, secs): (i32, Option<i32>, i32, Option<i32>) = sqlx::query_as(
        "SELECT pass_percent, max_attempts, cooldown_secs, time_limit_secs FROM missions WHERE topic_id = $1::uuid",
    )
    .bind(&topic)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((pass, max, cooldown, secs), (70, Some(3), 1800, Some(1200)));

    let mission: String =
        sqlx::query_scalar("SELECT id::text FROM missions WHERE topic_id = $1::uuid")
            .bind(&topic)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let page = app
        .post_form(
            &format!("/studio/missions/{mission}/questions"),
            &[
                ("kind", "choice"),
                ("prompt", "`[] == false`의 결과는?"),
                ("points", "2"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let question: String = sqlx::query_scalar(
        "SELECT id::text FROM questions WHERE mission_id = $1::uuid ORDER BY position DESC LIMIT 1",
    )
    .bind(&mission)
    .fetch_one(&app.db)
    .await
    .unwrap();
    for (body, correct) in [("true", true), ("false", false)] {
        let mut fields = vec![("body", body)];
        if correct {
            fields.push(("correct", "on"));
        }
        let page = app
            .post_form(&format!("/studio/questions/{question}/choices"), &fields)
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
    }
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT count(*) FROM choices WHERE question_id = '{question}' AND correct")
        )
        .await,
        1
    );
    // A test on a choice question is refused; a code question takes tests.
    let page = app
        .post_form(
            &format!("/studio/questions/{question}/tests"),
            &[("expected", "1")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = app
        .post_form(
            &format!("/studio/missions/{mission}/questions"),
            &[
                ("kind", "code"),
                ("prompt", "두 배"),
                ("points", "3"),
                ("language", "python"),
                ("mode", "program"),
                ("starter_code", "def double(x):\n    pass\n"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let code: String = sqlx::query_scalar(
        "SELECT id::text FROM questions WHERE mission_id = $1::uuid AND kind = 'code'",
    )
    .bind(&mission)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let page = app
        .post_form(
            &format!("/studio/questions/{code}/tests"),
            &[("harness", "print(double(21))"), ("expected", "42")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = app.get(&editor).await;
    assert!(page.body.contains("print(double(21))"));
    // The editor's delete buttons remove a test and a choice.
    let test: String =
        sqlx::query_scalar("SELECT id::text FROM code_tests WHERE question_id = $1::uuid")
            .bind(&code)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let page = app
        .post_form(&format!("/studio/tests/{test}/delete"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let choice: String = sqlx::query_scalar(
        "SELECT id::text FROM choices WHERE question_id = $1::uuid AND NOT correct",
    )
    .bind(&question)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let page = app
        .post_form(&format!("/studio/choices/{choice}/delete"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT count(*) FROM code_tests WHERE question_id = '{code}'")
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT count(*) FROM choices WHERE question_id = '{question}'")
        )
        .await,
        1
    );

    // Learners cannot reach the editor.
    let learner = app.another_browser();
    learner.verified_learner("learner@example.com").await;
    assert_eq!(learner.get(&editor).await.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn without_a_usable_sandbox_grading_refuses_and_the_admin_page_says_why(db: PgPool) {
    // A run folder that cannot be made: the probe fails, so nothing runs.
    let app = TestApp::spawn_with(db, |c| c.sandbox_dir = "/proc/weaverse-sandbox".into()).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    let id = mission(&app, "배열 합계 함수 작성하기").await;
    let q = code_question(&app, &id).await;
    let refused = app
        .submit_code(&id, &q, "function sum() { return 6; }")
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.body.contains("채점할 수 없습니다"),
        "{}",
        refused.body
    );
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM code_submissions").await,
        0
    );
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let page = admin.get("/admin/jobs").await;
    assert_eq!(
        page.attr("[data-grader]", "data-grader").as_deref(),
        Some("down")
    );
    // The lesson page still links the mission (its choices work).
    let topic: String =
        sqlx::query_scalar("SELECT topic_id::text FROM missions WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let lesson = app.get(&format!("/learn/topics/{topic}")).await;
    assert_eq!(
        lesson.attr("[data-mission-link]", "href"),
        Some(format!("/missions/{id}"))
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn where_workers_grade_the_web_process_takes_submissions_without_a_sandbox_of_its_own(
    db: PgPool,
) {
    let app = TestApp::spawn_with(db, |c| {
        c.grades_here = false;
        c.sandbox_dir = "/proc/weaverse-sandbox".into();
    })
    .await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    let id = mission(&app, "배열 합계 함수 작성하기").await;
    let q = code_question(&app, &id).await;
    let taken = app
        .submit_code(&id, &q, "function sum() { return 6; }")
        .await;
    assert_eq!(taken.status, StatusCode::ACCEPTED, "{}", taken.body);
    assert_eq!(
        taken.attr("[data-verdict]", "data-verdict").as_deref(),
        Some("pending")
    );
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let page = admin.get("/admin/jobs").await;
    assert_eq!(
        page.attr("[data-grader]", "data-grader").as_deref(),
        Some("elsewhere")
    );
    // This process's own worker leaves the submission to the graders.
    app.run_jobs().await;
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM jobs WHERE kind = 'assessments.grade' AND status = 'pending'"
        )
        .await,
        1
    );

    // The mission page shows it pending, and keeps the learner's code read
    // (this process follows the others' changes, as `serve` does).
    app.follow_changes().await;
    let mission_page = format!("/missions/{id}");
    let verdict_shown = || async {
        app.get(&mission_page)
            .await
            .attr("[data-submission]", "data-verdict")
            .unwrap_or_default()
    };
    assert_eq!(verdict_shown().await, "pending");
    assert_eq!(app.get_counting_queries(&mission_page).await.1, 0, "kept");

    // A grader on its own, in production, given nothing but the database
    // and where to make its runs: no session, data, badge or payment keys.
    let sandbox = std::env::temp_dir().join(format!("weaverse-grader-{}", uuid::Uuid::new_v4()));
    let mut grader = tokio::process::Command::new(env!("CARGO_BIN_EXE_weaverse"))
        .args(["grade", "--concurrency", "1"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("APP_ENV", "production")
        .env("PUBLIC_URL", "https://weaverse.example")
        .env("DATABASE_URL", crate::cli::database_url(&app.db))
        .env("SANDBOX_DIR", &sandbox)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("weaverse grade starts");
    let mut verdict = String::from("pending");
    for _ in 0..150 {
        verdict = sqlx::query_scalar("SELECT verdict FROM code_submissions")
            .fetch_one(&app.db)
            .await
            .unwrap();
        if verdict != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(verdict, "hidden_failed", "the grader graded it");
    // The grader's notice reaches this process: its kept read is dropped
    // and the page shows the verdict at once, not when the read expires.
    let mut shown = verdict_shown().await;
    for _ in 0..20 {
        if shown != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        shown = verdict_shown().await;
    }
    grader.kill().await.unwrap();
    assert_eq!(shown, "hidden_failed", "within a second of the grade");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_attempt_past_its_time_is_closed_by_the_next_start_not_by_a_page_view(db: PgPool) {
    let app = learner(db).await;
    let id = mission(&app, "레이아웃 퀴즈").await;
    let path = format!("/missions/{id}");
    sqlx::query(
        "UPDATE missions SET max_attempts = 2, time_limit_secs = 60, cooldown_secs = 0 WHERE id = $1::uuid",
    )
    .bind(&id)
    .execute(&app.db)
    .await
    .unwrap();
    app.post_form(&format!("{path}/attempts"), &[]).await;
    let page = app.get(&path).await;
    assert!(page.text("[data-choice-form]").is_some(), "{}", page.body);
    // A second start while one is open keeps that one.
    app.post_form(&format!("{path}/attempts"), &[]).await;
    assert_eq!(count(&app.db, "SELECT count(*) FROM attempts").await, 1);
    let learner: uuid::Uuid = sqlx::query_scalar(
        "UPDATE attempts SET started_at = now() - interval '10 minutes' RETURNING user_id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // Written by hand, past the learner's writers: said as they say it.
    weaverse::learning::mine::changed(weaverse::ids::UserId(learner));
    // Looking at the page says the time is up and changes nothing.
    let page = app.get(&path).await;
    assert!(page.text("[data-timed-out]").is_some(), "{}", page.body);
    assert!(page.text("[data-choice-form]").is_none());
    let open = "SELECT count(*) FROM attempts WHERE submitted_at IS NULL";
    assert_eq!(count(&app.db, open).await, 1);
    // Starting again closes it with what it had (nothing: 0) and opens the next.
    let started = app.post_form(&format!("{path}/attempts"), &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM attempts WHERE submitted_at IS NOT NULL AND score = 0"
        )
        .await,
        1
    );
    assert_eq!(count(&app.db, open).await, 1);
    let page = app.get(&path).await;
    assert!(page.text("[data-choice-form]").is_some());
    assert!(page.text("[data-timed-out]").is_none());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_review_shows_each_answer_the_right_one_and_the_explanation_once_attempts_are_used_up(
    db: PgPool,
) {
    let app = learner(db).await;
    let id = mission(&app, "웹 동작 원리 확인 퀴즈").await;
    let path = format!("/missions/{id}");
    let wrong = answers(&app, &id, false).await;
    let explanation = "DNS(Domain Name System)는";
    for attempt in 1..=3 {
        if attempt > 1 {
            crate::support::attempts_ended_ago(&app.db, 11).await;
        }
        let started = app.post_form(&format!("{path}/attempts"), &[]).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let page = app.get(&path).await;
        // While an attempt is open or attempts are left: no key, no review.
        assert!(page.text("[data-review]").is_none());
        assert!(page.attr("[data-right='true']", "data-right").is_none());
        assert!(!page.body.contains(explanation));
        let sent = app.post_pairs(&format!("{path}/submissions"), &wrong).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
        if attempt < 3 {
            let page = app.get(&path).await;
            assert!(page.text("[data-review]").is_none(), "attempt {attempt}");
            assert!(!page.body.contains(explanation));
        }
    }
    // Every attempt used: each question with the learner's pick, the right
    // answer and the tutor's explanation.
    let page = app.get(&path).await;
    assert!(page.text("[data-no-attempts]").is_some(), "{}", page.body);
    assert!(page.text("[data-review]").is_some());
    let (question, picked): (String, String) = (
        wrong[0].0.trim_start_matches("q-").to_string(),
        wrong[0].1.clone(),
    );
    let in_question =
        |selector: &str| format!("[data-review] [data-question='{question}'] {selector}");
    assert_eq!(
        page.attr(
            &in_question(&format!("[data-choice='{picked}']")),
            "data-picked"
        )
        .as_deref(),
        Some("true")
    );
    assert_eq!(
        page.attr(
            &in_question(&format!("[data-choice='{picked}']")),
            "data-right"
        )
        .as_deref(),
        Some("false")
    );
    assert_eq!(
        page.text(&in_question("[data-right='true']"))
            .as_deref()
            .map(str::trim)
            .map(|t| t.starts_with("DNS")),
        Some(true)
    );
    assert!(
        page.text(&in_question("[data-explanation]"))
            .unwrap()
            .contains(explanation)
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_tutor_writes_a_questions_explanation_in_the_mission_editor(db: PgPool) {
    let app = learner(db).await;
    let id = mission(&app, "값과 타입 퀴즈").await;
    let question: String = sqlx::query_scalar(
        "SELECT id::text FROM questions WHERE mission_id = $1::uuid ORDER BY position LIMIT 1",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let saved = admin
        .post_form(
            &format!("/studio/questions/{question}"),
            &[
                ("prompt", "`typeof null`의 결과는?"),
                ("points", "1"),
                ("explanation", "  오래된 **버그**가 남은 것입니다.  "),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stored: String =
        sqlx::query_scalar("SELECT explanation FROM questions WHERE id = $1::uuid")
            .bind(&question)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, "오래된 **버그**가 남은 것입니다.");
    let too_long = "가".repeat(5_001);
    let refused = admin
        .post_form(
            &format!("/studio/questions/{question}"),
            &[
                ("prompt", "질문"),
                ("points", "1"),
                ("explanation", &too_long),
            ],
        )
        .await;
    assert!(
        refused.body.contains("해설은 5,000자까지"),
        "{}: {}",
        refused.status,
        refused.body
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_code_editor_opens_with_the_learners_draft_then_their_last_submission(db: PgPool) {
    let app = learner(db).await;
    let id = mission(&app, "배열 합계 함수 작성하기").await;
    let q = code_question(&app, &id).await;
    let editor = |page: &crate::support::Page| page.text(&format!("#code-{q}")).unwrap();
    let starter: String =
        sqlx::query_scalar("SELECT starter_code FROM questions WHERE id = $1::uuid")
            .bind(&q)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        editor(&app.get(&format!("/missions/{id}")).await),
        starter.trim()
    );

    // A draft is kept and comes back after a reload.
    let draft = "function sum(numbers) {\n  // 아직 쓰는 중\n}";
    let saved = app
        .post_form(
            &format!("/missions/{id}/drafts"),
            &[("question_id", &q), ("code", draft)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::NO_CONTENT, "{}", saved.body);
    let again = app
        .post_form(
            &format!("/missions/{id}/drafts"),
            &[("question_id", &q), ("code", draft)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let page = app.get(&format!("/missions/{id}")).await;
    assert_eq!(editor(&page), draft);
    assert_eq!(
        page.attr(&format!("#code-{q}"), "autocorrect").as_deref(),
        Some("off")
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM code_drafts").await, 1);

    // Too long, or not a code question of this mission: refused, nothing kept.
    let long = "x".repeat(65 * 1024);
    let refused = app
        .post_form(
            &format!("/missions/{id}/drafts"),
            &[("question_id", &q), ("code", &long)],
        )
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    let other = mission(&app, "웹 동작 원리 확인 퀴즈").await;
    let refused = app
        .post_form(
            &format!("/missions/{other}/drafts"),
            &[("question_id", &q), ("code", "x")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(editor(&app.get(&format!("/missions/{id}")).await), draft);

    // A learner who has not bought the course keeps no draft.
    let stranger = app.another_browser();
    stranger.verified_learner("stranger@example.com").await;
    let refused = stranger
        .post_form(
            &format!("/missions/{id}/drafts"),
            &[("question_id", &q), ("code", "x")],
        )
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert_eq!(count(&app.db, "SELECT count(*) FROM code_drafts").await, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_trial_run_checks_the_visible_tests_and_counts_for_nothing(db: PgPool) {
    let app = learner(db).await;
    let id = mission(&app, "배열 합계 함수 작성하기").await;
    let q = code_question(&app, &id).await;
    let token = app.csrf_token().await;
    let right = RIGHT_SUM;
    let response = app
        .client
        .post(app.url(&format!("/missions/{id}/submissions")))
        .header("origin", &app.base)
        .header("hx-request", "true")
        .form(&[
            ("csrf_token", token.as_str()),
            ("question_id", q.as_str()),
            ("code", right),
            ("trial", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let sent = crate::support::Page {
        status: StatusCode::ACCEPTED,
        headers: Default::default(),
        body: response.text().await.unwrap(),
    };
    let graded = app.graded(&sent).await;
    assert!(graded.text("[data-trial]").is_some(), "{}", graded.body);
    assert_eq!(
        graded.attr("[data-verdict]", "data-verdict").as_deref(),
        Some("accepted")
    );
    assert!(
        graded
            .attr("[data-hidden-passed]", "data-hidden-passed")
            .is_none()
    );
    let (trial, hidden_run): (bool, i64) = sqlx::query_as(
        "SELECT trial, (SELECT count(*) FROM jsonb_array_elements(results) r WHERE NOT (r->>'visible')::boolean)
           FROM code_submissions",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(trial);
    assert_eq!(hidden_run, 0, "a trial runs no hidden test");
    // Nothing counted: no result, the mission not passed.
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM mission_results WHERE best_score > 0"
        )
        .await,
        0
    );
    let page = app.get(&format!("/missions/{id}")).await;
    assert!(page.attr("[data-best-score]", "data-passed").as_deref() != Some("true"));
}
