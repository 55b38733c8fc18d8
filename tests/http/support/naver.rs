//! A local Naver Login that follows Naver's documented contract: the token
//! endpoint takes its parameters in the query string and answers a refusal
//! with HTTP 200 and an `error` field; the profile API (`/v1/nid/me`) takes
//! the access token as a Bearer and answers `resultcode` "00" with the
//! person, or 401 with "024" for a token it does not know.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;

pub const CLIENT_ID: &str = "naver-test-client";
pub const CLIENT_SECRET: &str = "naver-test-secret";

/// The person Naver's profile API describes.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: String,
    pub email: Option<String>,
    pub nickname: String,
}

impl Person {
    pub fn new(id: &str, email: &str) -> Self {
        Self {
            id: id.into(),
            email: Some(email.into()),
            nickname: "네이버 사용자".into(),
        }
    }
}

#[derive(Clone, Default)]
struct Twin {
    /// The profile API refuses every token (as after a revocation).
    refuse_profiles: Arc<std::sync::atomic::AtomicBool>,
    /// code -> (state it was issued with, person)
    codes: Arc<Mutex<HashMap<String, (String, Person)>>>,
    access: Arc<Mutex<HashMap<String, Person>>>,
}

pub struct NaverLogin {
    pub base: String,
    twin: Twin,
}

impl NaverLogin {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let twin = Twin::default();
        let app = Router::new()
            .route("/oauth2.0/token", get(token).post(token))
            .route("/v1/nid/me", get(me))
            .with_state(twin.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, twin }
    }

    /// From now on the profile API answers 401 "024" to every token.
    pub fn refuse_profiles(&self) {
        self.twin
            .refuse_profiles
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The person approved at Naver: `code` comes back with `state`.
    pub fn approve(&self, code: &str, state: &str, person: Person) {
        self.twin
            .codes
            .lock()
            .unwrap()
            .insert(code.into(), (state.into(), person));
    }
}

/// Naver answers a refused exchange with 200 and an error body.
fn refused(error: &str, description: &str) -> Response {
    Json(json!({ "error": error, "error_description": description })).into_response()
}

async fn token(State(twin): State<Twin>, Query(q): Query<HashMap<String, String>>) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("grant_type") != "authorization_code" {
        return refused("unsupported_response_type", "grant_type is invalid");
    }
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return refused("invalid_client", "client authentication failed");
    }
    let Some((state, person)) = twin.codes.lock().unwrap().remove(get("code")) else {
        return refused("invalid_request", "no valid data in session");
    };
    if state != get("state") {
        return refused("invalid_request", "state is invalid");
    }
    let access = format!("AAAAN{}", uuid::Uuid::new_v4().simple());
    twin.access.lock().unwrap().insert(access.clone(), person);
    Json(json!({
        "access_token": access, "refresh_token": "refresh", "token_type": "bearer",
        "expires_in": "3600",
    }))
    .into_response()
}

async fn me(State(twin): State<Twin>, headers: HeaderMap) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let known = twin.access.lock().unwrap().get(token).cloned();
    let refusing = twin
        .refuse_profiles
        .load(std::sync::atomic::Ordering::SeqCst);
    let (Some(p), false) = (known, refusing) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "resultcode": "024", "message": "Authentication failed / 인증에 실패했습니다." })),
        )
            .into_response();
    };
    let mut response = json!({ "id": p.id, "nickname": p.nickname, "name": "홍길동" });
    if let Some(email) = p.email {
        response["email"] = json!(email);
    }
    Json(json!({ "resultcode": "00", "message": "success", "response": response })).into_response()
}
