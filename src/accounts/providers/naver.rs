//! Naver Login: OAuth 2.0 authorization code with state (Naver offers no
//! PKCE and no ID token), then its profile API for the id, email and
//! nickname. Naver's token endpoint answers a refusal with HTTP 200 and an
//! `error` field; its profile API answers `resultcode` "00" or a refusal.
//! Naver does not say that the email is verified, so it never is here.

use anyhow::Context;
use serde::Deserialize;

use super::{Identity, Provider};
use crate::accounts::error::{AccountsError, AccountsResult, SignInProblem};

pub struct Settings {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    /// `https://nid.naver.com`: authorization and token endpoints.
    pub auth_base: String,
    /// `https://openapi.naver.com`: the profile API.
    pub api_base: String,
}

pub struct Naver {
    settings: Settings,
    http: reqwest::Client,
}

#[derive(Debug, Deserialize)]
struct TokenReply {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProfileReply {
    resultcode: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    response: Option<Profile>,
}

#[derive(Debug, Deserialize)]
struct Profile {
    id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

impl Naver {
    pub fn new(mut settings: Settings, http: reqwest::Client) -> Self {
        settings.auth_base = settings.auth_base.trim_end_matches('/').to_string();
        settings.api_base = settings.api_base.trim_end_matches('/').to_string();
        Self { settings, http }
    }

    pub(super) fn auth_base(&self) -> &str {
        &self.settings.auth_base
    }

    pub(super) fn authorize_url(&self, state: &str) -> anyhow::Result<String> {
        let s = &self.settings;
        let mut url = url::Url::parse(&format!("{}/oauth2.0/authorize", s.auth_base))
            .context("Naver authorization endpoint")?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &s.client_id)
            .append_pair("redirect_uri", &s.redirect_uri)
            .append_pair("state", state);
        Ok(url.to_string())
    }

    pub(super) async fn identity(&self, code: &str, state: &str) -> AccountsResult<Identity> {
        let problem = |p| AccountsError::SignIn(Provider::Naver, p);
        let s = &self.settings;
        let reply = self
            .http
            .post(format!("{}/oauth2.0/token", s.auth_base))
            .query(&[
                ("grant_type", "authorization_code"),
                ("client_id", s.client_id.as_str()),
                ("client_secret", s.client_secret.as_str()),
                ("code", code),
                ("state", state),
            ])
            .send()
            .await
            .context("calling Naver's token endpoint")?;
        let status = reply.status();
        let tokens: Option<TokenReply> = reply.json().await.ok();
        let access = match tokens {
            Some(TokenReply {
                access_token: Some(access),
                error: None,
                ..
            }) if status.is_success() => access,
            other => {
                tracing::warn!(%status, reply = ?other.map(|t| (t.error, t.error_description)), "naver token exchange refused");
                return Err(problem(SignInProblem::Exchange));
            }
        };
        let reply = self
            .http
            .get(format!("{}/v1/nid/me", s.api_base))
            .bearer_auth(&access)
            .send()
            .await
            .context("calling Naver's profile API")?;
        let status = reply.status();
        let profile: Option<ProfileReply> = reply.json().await.ok();
        let profile = match profile {
            Some(ProfileReply {
                resultcode,
                response: Some(profile),
                ..
            }) if status.is_success() && resultcode == "00" && !profile.id.is_empty() => profile,
            other => {
                tracing::warn!(%status, reply = ?other.map(|p| (p.resultcode, p.message)), "naver profile refused");
                return Err(problem(SignInProblem::Unverified));
            }
        };
        Ok(Identity {
            provider: Provider::Naver,
            subject: profile.id,
            email: profile.email.filter(|e| !e.is_empty()),
            email_verified: false,
            name: profile.nickname.or(profile.name),
        })
    }
}
