//! OpenID Connect (Google, Kakao): authorization code with PKCE and a nonce.
//! The ID token's signature (JWKS, refetched once when a key is unknown),
//! issuer, audience, expiry and nonce are checked. A provider that leaves
//! `email_verified` out of its ID token (Kakao) is asked at its UserInfo
//! endpoint; an email counts as verified only when the provider says so.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::Deserialize;
use tokio::sync::RwLock;

use super::{Identity, Provider};
use crate::accounts::error::{AccountsError, AccountsResult, SignInProblem};

const CACHE_TTL: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
}

/// How one OpenID provider is called.
pub struct Settings {
    pub client_id: String,
    pub client_secret: String,
    /// The issuer; its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub redirect_uri: String,
    pub scope: &'static str,
    /// `prompt` on the authorization request, when the provider takes one.
    pub prompt: Option<&'static str>,
    /// Other origins the authorization endpoint sends the browser on to
    /// (its login page), for the CSP's `form-action`.
    pub login_origins: &'static [&'static str],
}

pub struct Oidc {
    settings: Settings,
    http: reqwest::Client,
    discovery: RwLock<Option<(Instant, Discovery)>>,
    jwks: RwLock<Option<(Instant, JwkSet)>>,
}

#[derive(Debug, Deserialize)]
struct TokenReply {
    id_token: String,
    #[serde(default)]
    access_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// The claims we use from a verified ID token (or a UserInfo reply).
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default)]
    name: Option<String>,
    /// Kakao names the person here.
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

impl Oidc {
    pub fn new(mut settings: Settings, http: reqwest::Client) -> Self {
        settings.issuer = settings.issuer.trim_end_matches('/').to_string();
        Self {
            settings,
            http,
            discovery: RwLock::new(None),
            jwks: RwLock::new(None),
        }
    }

    pub(super) fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    pub(super) fn login_origins(&self) -> &'static [&'static str] {
        self.settings.login_origins
    }

    async fn discovery(&self) -> anyhow::Result<Discovery> {
        if let Some((at, doc)) = self.discovery.read().await.as_ref()
            && at.elapsed() < CACHE_TTL
        {
            return Ok(doc.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.settings.issuer);
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

    pub(super) async fn authorize_url(
        &self,
        state: &str,
        nonce: &str,
        challenge: &str,
    ) -> anyhow::Result<String> {
        let doc = self.discovery().await?;
        let mut url =
            url::Url::parse(&doc.authorization_endpoint).context("authorization endpoint")?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.settings.client_id)
                .append_pair("redirect_uri", &self.settings.redirect_uri)
                .append_pair("scope", self.settings.scope)
                .append_pair("state", state)
                .append_pair("nonce", nonce)
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(prompt) = self.settings.prompt {
                query.append_pair("prompt", prompt);
            }
        }
        Ok(url.to_string())
    }

    /// Exchanges the code and returns who signed in.
    pub(super) async fn identity(
        &self,
        provider: Provider,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> AccountsResult<Identity> {
        let problem = |p| AccountsError::SignIn(provider, p);
        let doc = self.discovery().await?;
        let s = &self.settings;
        let reply = self
            .http
            .post(&doc.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", s.redirect_uri.as_str()),
                ("client_id", s.client_id.as_str()),
                ("client_secret", s.client_secret.as_str()),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .context("calling the token endpoint")?;
        let status = reply.status();
        let body = reply.bytes().await.context("reading the token reply")?;
        if !status.is_success() {
            let err: Option<TokenError> = serde_json::from_slice(&body).ok();
            tracing::warn!(%provider, %status, error = ?err.as_ref().map(|e| (&e.error, &e.error_description)), "token exchange refused");
            return Err(problem(SignInProblem::Exchange));
        }
        let tokens: TokenReply = serde_json::from_slice(&body).map_err(|err| {
            tracing::warn!(%provider, error = %err, "token reply without an ID token");
            problem(SignInProblem::Exchange)
        })?;
        let mut claims = self
            .verify_id_token(&doc, &tokens.id_token)
            .await
            .map_err(|err| {
                tracing::warn!(%provider, error = %err, "ID token refused");
                problem(SignInProblem::Unverified)
            })?;
        if claims.nonce.as_deref() != Some(nonce) {
            tracing::warn!(%provider, "ID token nonce mismatch");
            return Err(problem(SignInProblem::Unverified));
        }
        if claims.email_verified.is_none()
            && let (Some(endpoint), Some(access)) = (&doc.userinfo_endpoint, &tokens.access_token)
        {
            let info = self.userinfo(endpoint, access).await.map_err(|err| {
                tracing::warn!(%provider, error = %err, "UserInfo refused");
                problem(SignInProblem::Exchange)
            })?;
            if info.sub != claims.sub {
                tracing::warn!(%provider, "UserInfo names another subject");
                return Err(problem(SignInProblem::Unverified));
            }
            claims.email = info.email;
            claims.email_verified = info.email_verified;
            claims.name = claims.name.or(info.name).or(info.nickname);
        }
        Ok(Identity {
            provider,
            subject: claims.sub,
            email: claims.email,
            email_verified: claims.email_verified == Some(true),
            name: claims.name.or(claims.nickname),
        })
    }

    async fn userinfo(&self, endpoint: &str, access_token: &str) -> anyhow::Result<Claims> {
        let reply = self
            .http
            .get(endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .context("calling UserInfo")?;
        let status = reply.status();
        if !status.is_success() {
            bail!(
                "UserInfo answered {status}: {}",
                reply.text().await.unwrap_or_default()
            );
        }
        reply.json().await.context("reading UserInfo")
    }

    async fn verify_id_token(&self, doc: &Discovery, token: &str) -> anyhow::Result<Claims> {
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
        validation.set_audience(&[&self.settings.client_id]);
        // Google's tokens name their issuer with or without the scheme.
        let bare = doc.issuer.trim_start_matches("https://").to_string();
        validation.set_issuer(&[doc.issuer.as_str(), bare.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 60;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).context("ID token")?;
        Ok(data.claims)
    }
}
