//! Signing in with an outside account: Google and Kakao through OpenID
//! Connect, Naver through OAuth 2.0 and its profile API. One registry, one
//! flow: the browser carries the flow's secrets (state, nonce, PKCE
//! verifier, where to go next, and for a link the account it is for) in a
//! signed, short-lived cookie, so an anonymous visitor needs no session row;
//! the callback spends the state once in PostgreSQL before it asks the
//! provider anything, so a replayed callback is refused.
//!
//! What an identity may do to accounts (find, create, link, take over an
//! unproven address, unlink) lives in [`crate::accounts::identities`].

pub mod naver;
pub mod oidc;

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::{
    accounts::{
        error::{AccountsError, AccountsResult, SignInProblem},
        repo,
    },
    ids::UserId,
    web::signing::Signer,
};

crate::text_enum!(
    /// An outside account a person can sign in with.
    Provider {
        Google => "google",
        Kakao => "kakao",
        Naver => "naver",
    }
);

/// The cookie the flow travels in between `/auth/{provider}` and the callback.
pub const COOKIE: &str = "weaverse_oidc";
const COOKIE_PURPOSE: &str = "oidc";
/// How long a person may take at the provider.
pub const FLOW_TTL_SECS: i64 = 600;

/// Who the provider says signed in.
#[derive(Clone, Debug)]
pub struct Identity {
    pub provider: Provider,
    /// The provider's stable id for the person (`sub`, Naver's `id`).
    pub subject: String,
    pub email: Option<String>,
    /// Only when the provider says so explicitly.
    pub email_verified: bool,
    pub name: Option<String>,
}

/// What the browser carries between the start and the callback.
#[derive(Debug, Serialize, Deserialize)]
pub struct Flow {
    pub provider: Provider,
    state: String,
    nonce: String,
    verifier: String,
    pub next: String,
    expires: i64,
    /// Set when a signed-in person links this provider to their account.
    pub link: Option<UserId>,
}

impl Flow {
    fn new(provider: Provider, next: String, link: Option<UserId>) -> Self {
        Self {
            provider,
            state: random_b64(24),
            nonce: random_b64(24),
            verifier: random_b64(48),
            next,
            expires: now() + FLOW_TTL_SECS,
            link,
        }
    }

    /// The PKCE challenge (S256) of this flow's verifier.
    fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()))
    }

    pub fn encode(&self, signer: &Signer) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default());
        let sig = signer.sign(COOKIE_PURPOSE, body.as_bytes());
        format!("{body}.{sig}")
    }

    pub fn decode(signer: &Signer, raw: &str) -> Option<Self> {
        let (body, sig) = raw.split_once('.')?;
        if !signer.verify(COOKIE_PURPOSE, body.as_bytes(), sig) {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
    }
}

/// How one provider is spoken to.
enum Protocol {
    Oidc(Box<oidc::Oidc>),
    Naver(naver::Naver),
}

impl Protocol {
    /// Where a browser may be sent on its way to the provider's sign-in
    /// page, for the CSP's `form-action` (the account page's link form is
    /// redirected there, and the redirects after it count too).
    fn origins(&self) -> Vec<String> {
        let (base, also): (&str, &[&str]) = match self {
            Protocol::Oidc(client) => (client.issuer(), client.login_origins()),
            Protocol::Naver(client) => (client.auth_base(), &[]),
        };
        url::Url::parse(base)
            .map(|u| u.origin().ascii_serialization())
            .into_iter()
            .chain(also.iter().map(|o| o.to_string()))
            .collect()
    }
}

/// The providers this instance is configured for, in the order their
/// buttons appear.
#[derive(Clone, Default)]
pub struct Providers(Arc<Vec<(Provider, Protocol)>>);

impl Providers {
    pub fn new(
        google: Option<oidc::Oidc>,
        kakao: Option<oidc::Oidc>,
        naver: Option<naver::Naver>,
    ) -> Self {
        let mut list = Vec::new();
        if let Some(client) = kakao {
            list.push((Provider::Kakao, Protocol::Oidc(Box::new(client))));
        }
        if let Some(client) = naver {
            list.push((Provider::Naver, Protocol::Naver(client)));
        }
        if let Some(client) = google {
            list.push((Provider::Google, Protocol::Oidc(Box::new(client))));
        }
        Self(Arc::new(list))
    }

    /// The origins the link form may be sent on to (CSP `form-action`).
    pub fn form_origins(&self) -> Vec<String> {
        self.0
            .iter()
            .flat_map(|(_, protocol)| protocol.origins())
            .collect()
    }

    /// The configured providers, in button order.
    pub fn enabled(&self) -> Vec<Provider> {
        self.0.iter().map(|(p, _)| *p).collect()
    }

    fn protocol(&self, provider: Provider) -> AccountsResult<&Protocol> {
        self.0
            .iter()
            .find(|(p, _)| *p == provider)
            .map(|(_, protocol)| protocol)
            .ok_or(AccountsError::NotFound)
    }

    /// The provider URL to send the browser to, and the flow to keep in a
    /// cookie. `link` names the signed-in account a link is for.
    pub async fn start(
        &self,
        provider: Provider,
        next: String,
        link: Option<UserId>,
    ) -> AccountsResult<(String, Flow)> {
        let protocol = self.protocol(provider)?;
        let flow = Flow::new(provider, next, link);
        let url = match protocol {
            Protocol::Oidc(client) => {
                client
                    .authorize_url(&flow.state, &flow.nonce, &flow.challenge())
                    .await?
            }
            Protocol::Naver(client) => client.authorize_url(&flow.state)?,
        };
        Ok((url, flow))
    }

    /// Checks the returned state against the flow, spends it, and asks the
    /// provider who signed in.
    pub async fn finish(
        &self,
        db: &PgPool,
        provider: Provider,
        flow: &Flow,
        returned_state: &str,
        code: &str,
    ) -> AccountsResult<Identity> {
        use subtle::ConstantTimeEq;
        let protocol = self.protocol(provider)?;
        let problem = |p| AccountsError::SignIn(provider, p);
        if flow.provider != provider {
            return Err(problem(SignInProblem::StateMismatch));
        }
        if flow.expires < now() {
            return Err(problem(SignInProblem::Expired));
        }
        if !bool::from(flow.state.as_bytes().ct_eq(returned_state.as_bytes())) {
            return Err(problem(SignInProblem::StateMismatch));
        }
        let spent = Sha256::digest(flow.state.as_bytes());
        if !repo::spend_sign_in_state(&mut *db.acquire().await?, &spent).await? {
            return Err(problem(SignInProblem::Replayed));
        }
        match protocol {
            Protocol::Oidc(client) => {
                client
                    .identity(provider, code, &flow.verifier, &flow.nonce)
                    .await
            }
            Protocol::Naver(client) => client.identity(code, &flow.state).await,
        }
    }
}

fn random_b64(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flow_cookie_reads_back_only_unaltered_and_with_its_key() {
        let signer = Signer::new(&[7u8; 32]);
        let flow = Flow::new(Provider::Kakao, "/me".into(), None);
        let raw = flow.encode(&signer);
        let back = Flow::decode(&signer, &raw).unwrap();
        assert_eq!(
            (back.provider, back.next.as_str()),
            (Provider::Kakao, "/me")
        );
        assert_eq!(back.challenge(), flow.challenge());
        assert!(Flow::decode(&Signer::new(&[8u8; 32]), &raw).is_none());
        let (body, sig) = raw.split_once('.').unwrap();
        let mut edited = body.to_string();
        edited.insert(3, 'A');
        assert!(Flow::decode(&signer, &format!("{edited}.{sig}")).is_none());
        // Each flow has its own secrets.
        let other = Flow::new(Provider::Kakao, "/me".into(), None);
        assert_ne!(other.state, flow.state);
        assert_ne!(other.verifier, flow.verifier);
    }
}
