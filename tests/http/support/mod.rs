//! `TestApp`: the real application on 127.0.0.1:0 and a cookie-keeping client.

// The stand-ins for KakaoPay, Toss, Google, Kakao, Naver and SMTP are other services, not
// Weaverse routes: axum's own Router::route and Form are fine there.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

pub mod api;
pub mod cdn;
pub mod kakaopay;
pub mod media;
pub mod naver;
pub mod oidc;
pub mod openai;
pub mod smtp;
pub mod toss;

use std::{path::PathBuf, sync::Arc};

use reqwest::{Client, StatusCode, cookie::Jar, header::HeaderMap, redirect::Policy};
use scraper::{Html, Selector};
use sqlx::PgPool;
use weaverse::{
    app::{self, Platform},
    config::Config,
    jobs::WorkerConfig,
};

pub struct TestApp {
    pub base: String,
    pub db: PgPool,
    pub client: Client,
    pub jar: Arc<Jar>,
    pub state: Platform,
    pub var_dir: PathBuf,
}

/// One response, read whole.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// Text of the first element matching `selector`.
    pub fn text(&self, selector: &str) -> Option<String> {
        let sel = Selector::parse(selector).expect("selector");
        self.html()
            .select(&sel)
            .next()
            .map(|e| e.text().collect::<String>().trim().to_string())
    }

    /// Attribute `attr` of the first element matching `selector`.
    pub fn attr(&self, selector: &str, attr: &str) -> Option<String> {
        let sel = Selector::parse(selector).expect("selector");
        self.html()
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr(attr).map(str::to_owned))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl TestApp {
    /// Follows the other processes' changes as `serve` does (ADR 0028), once
    /// the listener is in and has dropped what was kept before it.
    pub async fn follow_changes(&self) {
        app::follow_changes(&self.state);
        for _ in 0..100 {
            let listening: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            )
            .fetch_one(&self.db)
            .await
            .unwrap();
            if listening > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    pub async fn spawn(db: PgPool) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    /// Spawns with settings changed by `tweak` (gateways, SMTP, Google ...).
    pub async fn spawn_with(db: PgPool, tweak: impl FnOnce(&mut Config)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let var_dir = std::env::temp_dir().join(format!("weaverse-test-{}", uuid::Uuid::new_v4()));
        let mut config = Config::for_tests("", root.join("static"), var_dir).expect("test config");
        config.public_url = format!("http://127.0.0.1:{port}").parse().expect("url");
        tweak(&mut config);
        let var_dir = config.var_dir.clone();
        let state = Platform::new(config, db.clone()).expect("state");
        let router = app::router(state.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        let base = format!("http://127.0.0.1:{port}");
        let jar = Arc::new(Jar::default());
        let client = new_client(jar.clone());
        Self {
            base,
            db,
            client,
            jar,
            state,
            var_dir,
        }
    }

    /// Another browser on the same site (its own cookies).
    pub fn another_browser(&self) -> Self {
        let jar = Arc::new(Jar::default());
        Self {
            base: self.base.clone(),
            db: self.db.clone(),
            client: new_client(jar.clone()),
            jar,
            state: self.state.clone(),
            var_dir: self.var_dir.clone(),
        }
    }

    /// The value of cookie `name` in this browser's jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let header = self.jar.cookies(&self.base.parse().unwrap())?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar.add_cookie_str(
            &format!("{name}={value}; Path=/"),
            &self.base.parse().unwrap(),
        );
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            return path.to_string();
        }
        format!("{}{path}", self.base)
    }

    async fn read(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.expect("body");
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::read(self.client.get(self.url(path)).send().await.expect("GET")).await
    }

    /// A GET as htmx sends it.
    pub async fn get_htmx(&self, path: &str) -> Page {
        let response = self
            .client
            .get(self.url(path))
            .header("HX-Request", "true")
            .send()
            .await
            .expect("GET");
        Self::read(response).await
    }

    /// The CSRF token the site prints for this client: `/` when signed in,
    /// `/login` otherwise (pages every anonymous visitor gets alike, `/`
    /// among them, carry none).
    pub async fn csrf_token(&self) -> String {
        let login = self.get("/login").await;
        let page = if login.status == StatusCode::OK {
            login
        } else {
            self.get("/").await
        };
        page.attr(r#"meta[name="csrf-token"]"#, "content")
            .expect("csrf meta")
    }

    /// Posts a form as a browser on our own page would: same Origin, with
    /// the CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        self.post_raw(path, &form, Some(&self.base)).await
    }

    /// Sends the same form `n` times at once, as a double click or a replay
    /// would (one CSRF token, our Origin); the statuses.
    pub async fn in_parallel(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        n: usize,
    ) -> Vec<StatusCode> {
        let token = self.csrf_token().await;
        let mut form: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        form.push(("csrf_token".into(), token));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            let request = self
                .client
                .post(self.url(path))
                .header("Origin", &self.base)
                .form(&form);
            set.spawn(request.send());
        }
        let mut statuses = Vec::new();
        while let Some(done) = set.join_next().await {
            statuses.push(done.expect("task").expect("POST").status());
        }
        statuses
    }

    /// Posts exactly these fields with this Origin (or none): for refusals.
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Page {
        let mut request = self.client.post(self.url(path)).form(form);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        Self::read(request.send().await.expect("POST")).await
    }
}

impl TestApp {
    /// Loads the demo nano-degree into this test's database.
    pub async fn seed(&self) {
        let mut tx = self.db.begin().await.expect("tx");
        weaverse::catalog::seed::seed_nanodegree(&mut tx)
            .await
            .expect("seed");
        weaverse::assessments::seed_demo(&mut tx)
            .await
            .expect("seed missions");
        tx.commit().await.expect("commit");
    }
}

fn new_client(jar: Arc<Jar>) -> Client {
    Client::builder()
        .cookie_provider(jar)
        .redirect(Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) WeaverseTest Chrome/156.0")
        .build()
        .expect("client")
}

/// A mail as the recipient sees it.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl SentMail {
    pub fn parse(raw: &[u8]) -> Self {
        let parsed = mailparse::parse_mail(raw).expect("mail");
        use mailparse::MailHeaderMap;
        Self {
            to: parsed.headers.get_first_value("To").unwrap_or_default(),
            subject: parsed
                .headers
                .get_first_value("Subject")
                .unwrap_or_default(),
            body: parsed.get_body().unwrap_or_default(),
        }
    }

    /// The first link in the body that contains `path`.
    pub fn link(&self, path: &str) -> String {
        self.body
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(path))
            .unwrap_or_else(|| panic!("no {path} link in {}", self.body))
            .to_string()
    }
}

impl TestApp {
    /// Runs the job queue until it is empty (sends queued mail).
    pub async fn run_jobs(&self) {
        let worker = app::worker(&self.state, WorkerConfig::default()).expect("worker");
        while worker.run_once().await.expect("job").is_some() {}
    }

    /// Mail delivered to files in `var/mail`, oldest first.
    pub async fn mails(&self) -> Vec<SentMail> {
        self.run_jobs().await;
        let dir = self.var_dir.join("mail");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| SentMail::parse(&std::fs::read(p).unwrap()))
            .collect()
    }

    /// The newest mail to `to`.
    pub async fn last_mail_to(&self, to: &str) -> SentMail {
        self.mails()
            .await
            .into_iter()
            .rev()
            .find(|m| m.to.contains(to))
            .unwrap_or_else(|| panic!("no mail to {to}"))
    }

    pub async fn signup(&self, email: &str, nickname: &str, password: &str) -> Page {
        self.post_form(
            "/signup",
            &[
                ("email", email),
                ("nickname", nickname),
                ("password", password),
                ("agree_terms", "yes"),
                ("agree_privacy", "yes"),
            ],
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Page {
        self.post_form("/login", &[("email", email), ("password", password)])
            .await
    }

    /// Agrees to the sign-up texts a provider sign-up is asked for on
    /// `/me/consents`, and lands on `/me`.
    pub async fn agree_to_terms(&self) {
        let agreed = self
            .post_form(
                "/me/consents",
                &[
                    ("agree_terms", "yes"),
                    ("agree_privacy", "yes"),
                    ("next", "/me"),
                ],
            )
            .await;
        assert_eq!(agreed.status, StatusCode::SEE_OTHER, "{}", agreed.body);
        assert_eq!(agreed.header("location"), "/me");
    }

    pub async fn logout(&self) -> Page {
        self.post_form("/logout", &[]).await
    }

    /// Signs up a learner and signs in with the password, leaving the email
    /// unverified.
    pub async fn signed_up(&self, email: &str) -> &Self {
        let page = self.signup(email, "테스트학습자", PASSWORD).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let page = self.login(email, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        self
    }

    /// Creates an account with `role` straight in the database, then signs in.
    pub async fn login_as(&self, email: &str, role: weaverse::accounts::Role) {
        let mut conn = self.db.acquire().await.unwrap();
        weaverse::accounts::create_or_promote_admin(&mut conn, email, PASSWORD, "관리자")
            .await
            .unwrap();
        sqlx::query("UPDATE users SET role = $2 WHERE email = $1")
            .bind(email)
            .bind(role.as_str())
            .execute(&mut *conn)
            .await
            .unwrap();
        let page = self.login(email, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }

    pub async fn login_as_admin(&self) {
        self.login_as("admin@weaverse.kr", weaverse::accounts::Role::Admin)
            .await;
    }
}

/// The one number a query returns (`SELECT count(*) ...`).
pub async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db)
        .await
        .expect("a number")
}

/// Time passes for every mission attempt: each ended `minutes` earlier
/// than it did (the test's clock for cooldowns).
pub async fn attempts_ended_ago(db: &PgPool, minutes: i32) {
    sqlx::query(
        "UPDATE attempts SET submitted_at = submitted_at - make_interval(mins => $1),
                             started_at = started_at - make_interval(mins => $1)",
    )
    .bind(minutes)
    .execute(db)
    .await
    .expect("attempts moved back");
}

/// The id of the only payment in this test's database.
pub async fn payment_id(db: &PgPool) -> String {
    sqlx::query_scalar("SELECT id::text FROM payments")
        .fetch_one(db)
        .await
        .expect("one payment")
}

/// A password every test account uses.
pub const PASSWORD: &str = "푸른 바다 위 고래 2026";

/// Counts the SQL statements sqlx runs in this test process (nextest runs
/// each test in its own process, so the count is this test's).
pub fn query_counter() -> Arc<std::sync::atomic::AtomicUsize> {
    use std::sync::{OnceLock, atomic::AtomicUsize};
    use tracing_subscriber::{Layer, filter::Targets, layer::SubscriberExt};

    struct Count(Arc<AtomicUsize>);
    impl<S: tracing::Subscriber> Layer<S> for Count {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if event.metadata().target() == "sqlx::query" {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }
    static COUNTER: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    COUNTER
        .get_or_init(|| {
            let counter = Arc::new(AtomicUsize::new(0));
            let layer = Count(counter.clone())
                .with_filter(Targets::new().with_target("sqlx::query", tracing::Level::TRACE));
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
                .expect("subscriber");
            counter
        })
        .clone()
}

impl TestApp {
    /// GETs `path` and returns the page and how many SQL statements it ran.
    pub async fn get_counting_queries(&self, path: &str) -> (Page, usize) {
        use std::sync::atomic::Ordering;
        let counter = query_counter();
        let before = counter.load(Ordering::SeqCst);
        let page = self.get(path).await;
        (page, counter.load(Ordering::SeqCst) - before)
    }
}

impl TestApp {
    /// Signs up and verifies the email (through the mailed link).
    pub async fn verified_learner(&self, email: &str) {
        self.signed_up(email).await;
        let link = self.last_mail_to(email).await.link("/verify-email/");
        assert_eq!(self.get(&link).await.status, StatusCode::SEE_OTHER);
    }

    /// Saves a billing address and returns its id.
    pub async fn add_address(&self) -> String {
        let page = self
            .post_form(
                "/me/addresses",
                &[
                    ("postal_code", "04524"),
                    ("main", "서울특별시 중구 세종대로 110"),
                    ("detail", "3층 학습실"),
                    ("country", "KR"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        self.get("/me/addresses")
            .await
            .attr("[data-address-id]", "data-address-id")
            .expect("address")
    }

    pub async fn nanodegree_id(&self) -> String {
        sqlx::query_scalar("SELECT id::text FROM curricula WHERE slug = 'web-dev-nanodegree'")
            .fetch_one(&self.db)
            .await
            .expect("seeded")
    }

    /// Puts the nano-degree in the cart and places a demo order; returns its id.
    pub async fn order_nanodegree(&self) -> String {
        let curriculum = self.nanodegree_id().await;
        let page = self
            .post_form("/cart/items", &[("curriculum_id", &curriculum)])
            .await;
        assert_eq!(page.header("location"), "/cart");
        let address = self.add_address().await;
        let page = self
            .post_form(
                "/checkout",
                &[
                    ("address_id", &address),
                    ("gateway", "demo"),
                    ("agree_refund", "yes"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let location = page.header("location").to_string();
        assert!(location.starts_with("/payments/demo/"), "{location}");
        location.trim_start_matches("/payments/demo/").to_string()
    }

    /// The demo gateway's approve button, with the amount it "charged".
    pub async fn approve_demo(&self, order: &str, amount: i64) -> Page {
        self.post_form(
            &format!("/payments/demo/{order}/approve"),
            &[("amount", &amount.to_string())],
        )
        .await
    }

    /// A verified learner buys the nano-degree with the demo gateway.
    pub async fn buy_nanodegree(&self) -> String {
        let order = self.order_nanodegree().await;
        let page = self.approve_demo(&order, 50_000).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        order
    }
}
