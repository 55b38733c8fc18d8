//! A local OpenID Connect provider that follows Google's contract: discovery
//! document, JWKS, and a token endpoint that checks the client secret, the
//! redirect URI and the PKCE verifier before returning a signed ID token.

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

#[derive(Clone)]
struct ProviderState {
    issuer: String,
    codes: Arc<Mutex<HashMap<String, Pending>>>,
}

pub struct OidcProvider {
    pub issuer: String,
    codes: Arc<Mutex<HashMap<String, Pending>>>,
}

impl OidcProvider {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let codes = Arc::new(Mutex::new(HashMap::new()));
        let state = ProviderState {
            issuer: issuer.clone(),
            codes: codes.clone(),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
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
    Json(json!({
        "issuer": state.issuer,
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
        Json(json!({ "error": error, "error_description": description })),
    )
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
    if !get("redirect_uri").ends_with("/auth/google/callback") {
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
    let claims = json!({
        "iss": state.issuer, "aud": t.audience, "sub": t.sub, "email": t.email,
        "email_verified": t.email_verified, "name": t.name, "nonce": t.nonce,
        "iat": now, "exp": now + t.expires_in,
    });
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
        "access_token": "ya29.test", "token_type": "Bearer", "expires_in": 3599,
        "scope": "openid email profile", "id_token": id_token,
    }))
    .into_response()
}
