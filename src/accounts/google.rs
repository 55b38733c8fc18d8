//! Google sign-in: OpenID Connect authorization-code flow with PKCE, state and
//! nonce. The ID token's signature (JWKS), issuer, audience, expiry and nonce
//! are checked; accounts are keyed on Google's `sub` and linked to an
//! existing account only when Google says the email is verified.
//!
//! The flow's secrets (state, nonce, PKCE verifier) travel in a signed,
//! short-lived cookie, so an anonymous visitor still needs no session row.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use tokio::sync::RwLock;

use crate::{
    accounts::error::{AccountsError, AccountsResult, GoogleProblem},
    accounts::{
        model::{Email, Nickname, Role},
        repo::{self, NewUser},
    },
    ids::UserId,
    web::signing::Signer,
};

pub const COOKIE: &str = "weaverse_oidc";
const COOKIE_PURPOSE: &str = "oidc";
const FLOW_TTL_SECS: i64 = 600;
const CACHE_TTL: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// Google sign-in, when it is configured.
#[derive(Clone, Default)]
pub struct Google(pub Option<std::sync::Arc<GoogleOidc>>);

pub struct GoogleOidc {
    client_id: String,
    client_secret: String,
    issuer: String,
    redirect_uri: String,
    http: reqwest::Client,
    discovery: RwLock<Option<(Instant, Discovery)>>,
    jwks: RwLock<Option<(Instant, JwkSet)>>,
}

/// What the browser carries between `/auth/google` and the callback.
#[derive(Debug, Serialize, Deserialize)]
pub struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    pub next: String,
    expires: i64,
}

#[derive(Debug, Deserialize)]
struct TokenReply {
    id_token: String,
}

#[derive(Debug, Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// The claims we use from a verified ID token.
#[derive(Debug, Deserialize)]
pub struct IdClaims {
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

fn random_b64(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl GoogleOidc {
    pub fn new(
        client_id: String,
        client_secret: String,
        issuer: String,
        redirect_uri: String,
        http: reqwest::Client,
    ) -> Self {
        Self {
            client_id,
            client_secret,
            issuer: issuer.trim_end_matches('/').to_string(),
            redirect_uri,
            http,
            discovery: RwLock::new(None),
            jwks: RwLock::new(None),
        }
    }

    async fn discovery(&self) -> anyhow::Result<Discovery> {
        if let Some((at, doc)) = self.discovery.read().await.as_ref()
            && at.elapsed() < CACHE_TTL
        {
            return Ok(doc.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let doc: Discovery = self
            .http
            .get(&url)
            .send()
            .await
            .context("fetching the OpenID discovery document")?
            .error_for_status()?
            .json()
            .await
            .context("reading the discovery document")?;
        *self.discovery.write().await = Some((Instant::now(), doc.clone()));
        Ok(doc)
    }

    async fn jwks(&self, jwks_uri: &str, refresh: bool) -> anyhow::Result<JwkSet> {
        if !refresh
            && let Some((at, set)) = self.jwks.read().await.as_ref()
            && at.elapsed() < CACHE_TTL
        {
            return Ok(set.clone());
        }
        let set: JwkSet = self
            .http
            .get(jwks_uri)
            .send()
            .await
            .context("fetching the JWKS")?
            .error_for_status()?
            .json()
            .await
            .context("reading the JWKS")?;
        *self.jwks.write().await = Some((Instant::now(), set.clone()));
        Ok(set)
    }

    /// The provider URL to send the browser to, and the flow to keep in a cookie.
    pub async fn start(&self, next: String) -> anyhow::Result<(String, Flow)> {
        let doc = self.discovery().await?;
        let flow = Flow {
            state: random_b64(24),
            nonce: random_b64(24),
            verifier: random_b64(48),
            next,
            expires: now() + FLOW_TTL_SECS,
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(flow.verifier.as_bytes()));
        let mut url =
            url::Url::parse(&doc.authorization_endpoint).context("authorization endpoint")?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", &flow.state)
            .append_pair("nonce", &flow.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("prompt", "select_account");
        Ok((url.to_string(), flow))
    }

    /// Exchanges the code and returns the verified claims.
    pub async fn finish(
        &self,
        flow: &Flow,
        returned_state: &str,
        code: &str,
    ) -> AccountsResult<IdClaims> {
        use subtle::ConstantTimeEq;
        if flow.expires < now() {
            return Err(AccountsError::Google(GoogleProblem::Expired));
        }
        if !bool::from(flow.state.as_bytes().ct_eq(returned_state.as_bytes())) {
            return Err(AccountsError::Google(GoogleProblem::StateMismatch));
        }
        let doc = self.discovery().await?;
        let reply = self
            .http
            .post(&doc.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.client_secret.as_str()),
                ("code_verifier", flow.verifier.as_str()),
            ])
            .send()
            .await
            .context("calling the token endpoint")?;
        let status = reply.status();
        let body = reply.bytes().await.context("reading the token reply")?;
        if !status.is_success() {
            let err: Option<TokenError> = serde_json::from_slice(&body).ok();
            tracing::warn!(%status, error = ?err.as_ref().map(|e| (&e.error, &e.error_description)), "google token exchange refused");
            return Err(AccountsError::Google(GoogleProblem::Exchange));
        }
        let tokens: TokenReply = serde_json::from_slice(&body).context("token reply")?;
        let claims = self
            .verify_id_token(&doc, &tokens.id_token)
            .await
            .map_err(|err| {
                tracing::warn!(error = %err, "google id token refused");
                AccountsError::Google(GoogleProblem::Unverified)
            })?;
        if claims.nonce.as_deref() != Some(flow.nonce.as_str()) {
            tracing::warn!("google id token nonce mismatch");
            return Err(AccountsError::Google(GoogleProblem::Unverified));
        }
        Ok(claims)
    }

    async fn verify_id_token(&self, doc: &Discovery, token: &str) -> anyhow::Result<IdClaims> {
        let header = jsonwebtoken::decode_header(token).context("ID token header")?;
        if header.alg != Algorithm::RS256 {
            bail!("unexpected ID token algorithm {:?}", header.alg);
        }
        let kid = header.kid.context("ID token without kid")?;
        let mut set = self.jwks(&doc.jwks_uri, false).await?;
        if set.find(&kid).is_none() {
            // Keys rotate: look once more before refusing.
            set = self.jwks(&doc.jwks_uri, true).await?;
        }
        let jwk = set
            .find(&kid)
            .with_context(|| format!("no key {kid} in the JWKS"))?;
        let key = DecodingKey::from_jwk(jwk).context("JWK")?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.client_id]);
        // Google's tokens name their issuer with or without the scheme.
        let bare = doc.issuer.trim_start_matches("https://").to_string();
        validation.set_issuer(&[doc.issuer.as_str(), bare.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 60;
        let data =
            jsonwebtoken::decode::<IdClaims>(token, &key, &validation).context("ID token")?;
        Ok(data.claims)
    }
}

pub fn encode_flow(signer: &Signer, flow: &Flow) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(flow).unwrap_or_default());
    let sig = signer.sign(COOKIE_PURPOSE, body.as_bytes());
    format!("{body}.{sig}")
}

pub fn decode_flow(signer: &Signer, raw: &str) -> Option<Flow> {
    let (body, sig) = raw.split_once('.')?;
    if !signer.verify(COOKIE_PURPOSE, body.as_bytes(), sig) {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
}

/// The account for these claims: by `sub`; else linked to the account with
/// the same email when Google has verified it; else a new learner.
/// `fallback_nickname` names a new account when neither Google's name nor
/// the email's local part is a usable nickname.
pub async fn account_for(
    conn: &mut PgConnection,
    claims: &IdClaims,
    fallback_nickname: &str,
) -> AccountsResult<UserId> {
    if let Some(user) = repo::user_by_google_sub(conn, &claims.sub).await? {
        if user.deleted_at.is_some() {
            return Err(AccountsError::AccountClosed);
        }
        return Ok(user.id);
    }
    let email = claims
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or(AccountsError::Google(GoogleProblem::NoEmail))?;
    let verified = claims.email_verified == Some(true);
    if let Some(existing) = repo::live_user_by_email(conn, &email).await? {
        if !verified {
            return Err(AccountsError::Google(GoogleProblem::EmailNotLinkable));
        }
        if existing.email_verified_at.is_none() {
            // Someone signed up with this address and never proved it; Google
            // proves it now. The Google user takes the account over: the
            // unproven password and every session of it end (ADR 0006).
            repo::clear_password(conn, existing.id).await?;
            repo::delete_auth_sessions_except(conn, existing.id, None).await?;
            repo::mark_verified(conn, existing.id).await?;
            repo::audit(
                conn,
                Some(existing.id),
                "account.google_takeover",
                "user",
                &existing.id.to_string(),
                serde_json::json!({ "reason": "email never verified" }),
            )
            .await?;
        }
        repo::link_google(conn, existing.id, &claims.sub).await?;
        return Ok(existing.id);
    }
    let nickname = claims
        .name
        .as_deref()
        .and_then(|n| Nickname::parse(&n.chars().take(20).collect::<String>()).ok())
        .or_else(|| Nickname::parse(&email.local_part().chars().take(20).collect::<String>()).ok())
        .map(|n| n.as_str().to_string())
        .unwrap_or_else(|| fallback_nickname.to_string());
    // An account made with this email since we looked is not taken over
    // here: the person signs in again and the usual linking rules apply.
    repo::insert_user_unless_registered(
        conn,
        NewUser {
            email: email.as_str(),
            password_hash: None,
            nickname: &nickname,
            role: Role::Student,
            verified,
            google_sub: Some(&claims.sub),
        },
    )
    .await?
    .ok_or(AccountsError::Google(GoogleProblem::EmailNotLinkable))
}
