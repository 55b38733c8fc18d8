//! A local OpenID Connect provider that follows Google's or Kakao's
//! contract: discovery document, JWKS, and a token endpoint that checks the
//! client secret, the redirect URI and the PKCE verifier before returning a
//! signed ID token. Kakao's flavour leaves `email_verified` out of the ID
//! token (it names the person `nickname`), answers refusals with its
//! `error_code` (KOE...), and says whether the email is verified at its
//! UserInfo endpoint, which takes the access token of that code.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "weaverse-test.apps.example";
pub const CLIENT_SECRET: &str = "test-secret";

/// What the provider signs for one authorization code.
#[derive(Clone, Debug)]
pub struct IdToken {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub nonce: String,
    pub audience: String,
    pub expires_in: i64,
    /// Sign with a key the JWKS does not hold (a forged token).
    pub forged: bool,
}

impl IdToken {
    pub fn new(sub: &str, email: &str, nonce: &str) -> Self {
        Self {
            sub: sub.into(),
            email: email.into(),
            email_verified: true,
            name: "구글 사용자".into(),
            nonce: nonce.into(),
            audience: CLIENT_ID.into(),
            expires_in: 3600,
            forged: false,
        }
    }
}

#[derive(Clone)]
struct Pending {
    challenge: String,
    token: IdToken,
}

/// Whose contract the twin follows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Google,
    Kakao,
}

impl Flavour {
    fn path(self) -> &'static str {
        match self {
            Flavour::Google => "google",
            Flavour::Kakao => "kakao",
        }
    }
}

#[derive(Clone)]
struct ProviderState {
    issuer: String,
    flavour: Flavour,
    codes: Arc<Mutex<HashMap<String, Pending>>>,
    /// Access tokens handed out, for UserInfo.
    access: Arc<Mutex<HashMap<String, IdToken>>>,
}

pub struct OidcProvider {
    pub issuer: String,
    codes: Arc<Mutex<HashMap<String, Pending>>>,
}

impl OidcProvider {
    /// Google's contract.
    pub async fn start() -> Self {
        Self::start_as(Flavour::Google).await
    }

    /// Kakao's contract.
    pub async fn kakao() -> Self {
        Self::start_as(Flavour::Kakao).await
    }

    async fn start_as(flavour: Flavour) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let codes = Arc::new(Mutex::new(HashMap::new()));
        let state = ProviderState {
            issuer: issuer.clone(),
            flavour,
            codes: codes.clone(),
            access: Arc::default(),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .route("/v1/oidc/userinfo", get(userinfo))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { issuer, codes }
    }

    /// The user approved: `code` will be exchanged for `token`, if the client
    /// proves it holds the verifier of `challenge`.
    pub fn approve(&self, code: &str, challenge: &str, token: IdToken) {
        self.codes.lock().unwrap().insert(
            code.into(),
            Pending {
                challenge: challenge.into(),
                token,
            },
        );
    }
}

async fn discovery(State(state): State<ProviderState>) -> Json<Value> {
    let userinfo = match state.flavour {
        Flavour::Kakao => Some(format!("{}/v1/oidc/userinfo", state.issuer)),
        Flavour::Google => None,
    };
    Json(json!({
        "issuer": state.issuer,
        "userinfo_endpoint": userinfo,
        "authorization_endpoint": format!("{}/authorize", state.issuer),
        "token_endpoint": format!("{}/token", state.issuer),
        "jwks_uri": format!("{}/jwks", state.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks() -> Json<Value> {
    Json(json!({ "keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "good",
        "n": include_str!("../../fixtures/oidc/good.n").trim(), "e": "AQAB",
    }]}))
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error, "error_description": description, "error_code": "KOE320" })),
    )
        .into_response()
}

/// Kakao's UserInfo: the person of an access token this twin handed out.
async fn userinfo(State(state): State<ProviderState>, headers: axum::http::HeaderMap) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(t) = state.access.lock().unwrap().get(token).cloned() else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "msg": "this access token does not exist", "code": -401 })),
        )
            .into_response();
    };
    Json(json!({
        "sub": t.sub, "nickname": t.name, "email": t.email, "email_verified": t.email_verified,
    }))
    .into_response()
}

async fn token(
    State(state): State<ProviderState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if get("grant_type") != "authorization_code" {
        return oauth_error("unsupported_grant_type", "");
    }
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    if !get("redirect_uri").ends_with(&format!("/auth/{}/callback", state.flavour.path())) {
        return oauth_error("redirect_uri_mismatch", "Bad Request");
    }
    let Some(pending) = state.codes.lock().unwrap().remove(get("code")) else {
        return oauth_error("invalid_grant", "Malformed auth code.");
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(get("code_verifier").as_bytes()));
    if challenge != pending.challenge {
        return oauth_error("invalid_grant", "Invalid code verifier.");
    }
    let t = pending.token;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = match state.flavour {
        Flavour::Google => json!({
            "iss": state.issuer, "aud": t.audience, "sub": t.sub, "email": t.email,
            "email_verified": t.email_verified, "name": t.name, "nonce": t.nonce,
            "iat": now, "exp": now + t.expires_in,
        }),
        // Kakao's ID token: no email_verified; the name is `nickname`.
        Flavour::Kakao => json!({
            "iss": state.issuer, "aud": t.audience, "sub": t.sub, "email": t.email,
            "nickname": t.name, "nonce": t.nonce, "auth_time": now,
            "iat": now, "exp": now + t.expires_in,
        }),
    };
    let access_token = format!("access-{}", uuid::Uuid::new_v4());
    state
        .access
        .lock()
        .unwrap()
        .insert(access_token.clone(), t.clone());
    let pem: &[u8] = if t.forged {
        include_bytes!("../../fixtures/oidc/evil.pem")
    } else {
        include_bytes!("../../fixtures/oidc/good.pem")
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("good".into());
    let id_token =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(pem).unwrap()).unwrap();
    Json(json!({
        "access_token": access_token, "token_type": "Bearer", "expires_in": 3599,
        "scope": "openid email profile", "id_token": id_token,
    }))
    .into_response()
}

/// The provider's authorization request the app sent the browser to.
pub struct Authorize {
    pub url: url::Url,
}

impl Authorize {
    /// A parameter of the request ("" when absent).
    pub fn q(&self, key: &str) -> String {
        self.url
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_string())
            .unwrap_or_default()
    }
}

/// Follows a start of the flow (`GET /auth/{provider}` or the account page's
/// link form) to the provider: the redirect must go to `authorize_url`.
pub fn authorize(page: &super::Page, authorize_url: &str) -> Authorize {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let url = url::Url::parse(page.header("location")).unwrap();
    assert!(
        url.as_str().starts_with(&format!("{authorize_url}?")),
        "{url} is not {authorize_url}"
    );
    Authorize { url }
}
