//! A stand-in for CloudFront in front of the media folder, following its
//! documented contract for signed cookies with a custom policy:
//! `CloudFront-Policy` (the policy JSON in CloudFront's base64),
//! `CloudFront-Signature` (RSA over the policy bytes, same encoding),
//! `CloudFront-Key-Pair-Id` (a public key it trusts) and
//! `CloudFront-Hash-Algorithm` (`SHA1` when absent, or `SHA256`). A request
//! passes when the signature verifies, the statement's `Resource` (with `*`
//! and `?` wildcards) matches the full address, and `DateLessThan` is still
//! ahead (and `DateGreaterThan`, when given, behind). Refusals are 403 with
//! CloudFront's XML error body. Files are fetched from the origin once and
//! then served from the cache to everyone (`X-Cache: Hit from cloudfront`):
//! cookies are not part of the cache key.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use weaverse::infra::storage::cdn;

/// The key pair the tests sign with (`tests/fixtures/cdn`).
pub const KEY_ID: &str = "K2JCJMDEHXQW5F";
pub const PRIVATE_KEY: &[u8] = include_bytes!("../../fixtures/cdn/private.pem");
const PUBLIC_KEY: &[u8] = include_bytes!("../../fixtures/cdn/public.pem");

#[derive(Clone)]
struct Edge {
    origin: PathBuf,
    host: String,
    allowed_origin: Arc<Mutex<Option<String>>>,
    cache: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    origin_fetches: Arc<Mutex<HashMap<String, u32>>>,
}

pub struct CdnTwin {
    pub base: String,
    edge: Edge,
}

impl CdnTwin {
    /// A distribution whose origin is the folder `origin` (the media storage).
    pub async fn start(origin: PathBuf) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
        let edge = Edge {
            origin,
            host: host.clone(),
            allowed_origin: Arc::default(),
            cache: Arc::default(),
            origin_fetches: Arc::default(),
        };
        let app = Router::new().fallback(serve).with_state(edge.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{host}"),
            edge,
        }
    }

    /// The app's settings for this distribution.
    pub fn settings(&self) -> cdn::Cdn {
        cdn::Cdn::new(
            self.base.parse().unwrap(),
            KEY_ID.into(),
            PRIVATE_KEY,
            None,
            std::time::Duration::from_secs(2 * 3600),
        )
        .unwrap()
    }

    /// Answers cross-origin requests from `origin` with credentials, as the
    /// distribution's CORS policy for the site would.
    pub fn allow(&self, origin: &str) {
        *self.edge.allowed_origin.lock().unwrap() = Some(origin.to_owned());
    }

    /// How often the origin was asked for `path`.
    pub fn origin_fetches(&self, path: &str) -> u32 {
        self.edge
            .origin_fetches
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

/// CloudFront's error body.
fn refused(code: &str, message: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/xml")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
        ),
    )
        .into_response()
}

/// `*` any run of characters, `?` one; everything else literally.
fn matches(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            matches(&pattern[1..], text) || (!text.is_empty() && matches(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => matches(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => matches(&pattern[1..], &text[1..]),
        _ => false,
    }
}

/// CloudFront's error code and message when the request may not have the
/// file.
type Refusal = (&'static str, &'static str);

/// Why the request may not have the file, if it may not.
fn check(headers: &HeaderMap, url: &str) -> Result<(), Refusal> {
    let jar = |name| weaverse::web::cookies::get(headers, name);
    let (Some(policy), Some(signature), Some(key_id)) = (
        jar(cdn::POLICY_COOKIE),
        jar(cdn::SIGNATURE_COOKIE),
        jar(cdn::KEY_PAIR_COOKIE),
    ) else {
        return Err((
            "MissingKey",
            "Missing Key-Pair-Id query parameter or cookie value",
        ));
    };
    let denied = || ("AccessDenied", "Access denied");
    if key_id != KEY_ID {
        return Err(denied());
    }
    // The twin holds only SHA-256 verification; CloudFront's SHA1 default
    // is never what the app sends.
    if jar(cdn::HASH_COOKIE) != Some("SHA256") {
        return Err(denied());
    }
    let policy = cdn::from_cloudfront_base64(policy).ok_or_else(denied)?;
    let signature = cdn::from_cloudfront_base64(signature).ok_or_else(denied)?;
    use base64::Engine;
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
    let key = DecodingKey::from_rsa_pem(PUBLIC_KEY).unwrap();
    if !jsonwebtoken::crypto::verify(&signature, &policy, &key, Algorithm::RS256).unwrap_or(false) {
        return Err(denied());
    }
    let policy: Value = serde_json::from_slice(&policy).map_err(|_| denied())?;
    let statement = &policy["Statement"][0];
    let resource = statement["Resource"].as_str().ok_or_else(denied)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let condition = &statement["Condition"];
    let before = condition["DateLessThan"]["AWS:EpochTime"]
        .as_i64()
        .ok_or_else(denied)?;
    let after = condition["DateGreaterThan"]["AWS:EpochTime"].as_i64();
    if now >= before || after.is_some_and(|after| now <= after) {
        return Err(denied());
    }
    if !matches(resource.as_bytes(), url.as_bytes()) {
        return Err(denied());
    }
    Ok(())
}

async fn serve(State(edge): State<Edge>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let url = format!(
        "http://{}{}",
        edge.host,
        request
            .uri()
            .path_and_query()
            .map_or(path.as_str(), |p| p.as_str())
    );
    let mut response = match check(request.headers(), &url) {
        Err((code, message)) => refused(code, message),
        Ok(()) => {
            let cached = edge.cache.lock().unwrap().get(&path).cloned();
            let (bytes, hit) = match cached {
                Some(bytes) => (Some(bytes), true),
                None => {
                    *edge
                        .origin_fetches
                        .lock()
                        .unwrap()
                        .entry(path.clone())
                        .or_default() += 1;
                    let file = edge.origin.join(path.trim_start_matches('/'));
                    let bytes = std::fs::read(file).ok();
                    if let Some(bytes) = &bytes {
                        edge.cache
                            .lock()
                            .unwrap()
                            .insert(path.clone(), bytes.clone());
                    }
                    (bytes, false)
                }
            };
            match bytes {
                None => refused("NoSuchKey", "The specified key does not exist."),
                Some(bytes) => (
                    [(
                        "x-cache",
                        if hit {
                            "Hit from cloudfront"
                        } else {
                            "Miss from cloudfront"
                        },
                    )],
                    bytes,
                )
                    .into_response(),
            }
        }
    };
    // CORS as the distribution's response headers policy sets it for the
    // site: credentials allowed for that one origin.
    if let (Some(origin), Some(allowed)) = (
        request.headers().get(header::ORIGIN),
        edge.allowed_origin.lock().unwrap().clone(),
    ) && origin.to_str().ok() == Some(allowed.as_str())
    {
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_str(&allowed).unwrap(),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    response
}

#[test]
fn wildcards_match_as_cloudfront_documents() {
    assert!(matches(
        b"http://h/videos/a/*",
        b"http://h/videos/a/360p/s.ts"
    ));
    assert!(matches(b"http*://h/a/?.ts", b"https://h/a/1.ts"));
    assert!(!matches(
        b"http://h/videos/a/*",
        b"http://h/videos/b/360p/s.ts"
    ));
    assert!(!matches(b"http://h/a/?.ts", b"http://h/a/12.ts"));
}
