//! `TestApp`: the real application on 127.0.0.1:0 and a cookie-keeping client.

use std::path::PathBuf;

use reqwest::{Client, StatusCode, header::HeaderMap, redirect::Policy};
use scraper::{Html, Selector};
use sqlx::PgPool;
use weaverse::{
    app::{self, AppState},
    config::Config,
};

pub struct TestApp {
    pub base: String,
    pub db: PgPool,
    pub client: Client,
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
    pub async fn spawn(db: PgPool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let var_dir = std::env::temp_dir().join(format!("weaverse-test-{}", uuid::Uuid::new_v4()));
        let mut config = Config::for_tests("", root.join("static"), var_dir).expect("test config");
        config.public_url = format!("http://127.0.0.1:{port}").parse().expect("url");
        let state = AppState::new(config, db.clone()).expect("state");
        let router = app::router(state);
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        let client = Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("client");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            db,
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
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

    /// The CSRF token the site prints for this client (GETs `/` once).
    pub async fn csrf_token(&self) -> String {
        self.get("/")
            .await
            .attr(r#"meta[name="csrf-token"]"#, "content")
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
        tx.commit().await.expect("commit");
    }
}
