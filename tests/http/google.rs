//! Google sign-in against a local OpenID provider: the whole flow, linking,
//! and every refusal (forged signature, wrong audience, expired token, state
//! and nonce mismatches, a refused code).

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::{
    TestApp,
    oidc::{CLIENT_ID, CLIENT_SECRET, IdToken, OidcProvider, authorize},
};

async fn app_with_google(db: PgPool) -> (TestApp, OidcProvider) {
    let provider = OidcProvider::start().await;
    let issuer = provider.issuer.clone();
    let app = TestApp::spawn_with(db, |c| {
        c.google_client_id = Some(CLIENT_ID.into());
        c.google_client_secret = Some(CLIENT_SECRET.into());
        c.google_issuer = issuer;
    })
    .await;
    (app, provider)
}

/// Starts the flow; returns (state, nonce, code_challenge) from the redirect.
async fn start(app: &TestApp, provider: &OidcProvider) -> (String, String, String) {
    let at = authorize(
        &app.get("/auth/google?next=%2Fme").await,
        &format!("{}/authorize", provider.issuer),
    );
    assert_eq!(at.q("client_id"), CLIENT_ID);
    assert_eq!(at.q("response_type"), "code");
    assert_eq!(at.q("code_challenge_method"), "S256");
    assert_eq!(at.q("prompt"), "select_account");
    assert!(at.q("scope").contains("openid"));
    assert_eq!(
        at.q("redirect_uri"),
        format!("{}/auth/google/callback", app.base)
    );
    (at.q("state"), at.q("nonce"), at.q("code_challenge"))
}

async fn callback(app: &TestApp, code: &str, state: &str) -> crate::support::Page {
    app.get(&format!("/auth/google/callback?code={code}&state={state}"))
        .await
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn google_sign_in_creates_an_account_and_finds_it_again(db: PgPool) {
    let (app, provider) = app_with_google(db).await;
    assert!(app.get("/login").await.body.contains("/auth/google"));
    let (state, nonce, challenge) = start(&app, &provider).await;
    provider.approve(
        "code-1",
        &challenge,
        IdToken::new("google-sub-1", "gildong@gmail.com", &nonce),
    );
    let page = callback(&app, "code-1", &state).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // A Google sign-up agrees to the terms before anything else.
    assert_eq!(page.header("location"), "/me/consents?next=%2Fme");
    let asked = app.get("/me/consents?next=%2Fme").await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked.text("label[for=f-agree_privacy]").is_some());
    let refused = app
        .post_form("/me/consents", &[("agree_terms", "yes"), ("next", "/me")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text(r#"[data-error-for="agree_privacy"]"#)
            .is_some()
    );
    app.agree_to_terms().await;
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM consents WHERE version <> '' ORDER BY kind")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(kinds, ["privacy", "terms"]);
    // Asked once: the page now goes straight on.
    assert_eq!(
        app.get("/me/consents?next=%2Fme").await.header("location"),
        "/me"
    );
    let me = app.get("/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.attr("[data-email-verified]", "data-email-verified")
            .as_deref(),
        Some("true")
    );

    // A second sign-in with the same Google account: the same person.
    let other = app.another_browser();
    let (state, nonce, challenge) = start(&other, &provider).await;
    provider.approve(
        "code-2",
        &challenge,
        IdToken::new("google-sub-1", "gildong@gmail.com", &nonce),
    );
    assert_eq!(
        callback(&other, "code-2", &state).await.header("location"),
        "/me"
    );
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 1);
    let method: String = sqlx::query_scalar("SELECT DISTINCT method FROM auth_sessions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(method, "google");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_verified_google_email_links_to_the_existing_account_an_unverified_one_does_not(
    db: PgPool,
) {
    let (app, provider) = app_with_google(db).await;
    app.signed_up("linked@example.com").await;
    app.logout().await;

    let mut unverified = IdToken::new("sub-unverified", "linked@example.com", "");
    unverified.email_verified = false;
    let (state, nonce, challenge) = start(&app, &provider).await;
    unverified.nonce = nonce;
    provider.approve("c1", &challenge, unverified);
    let page = callback(&app, "c1", &state).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("같은 이메일로 가입된 계정"));

    let (state, nonce, challenge) = start(&app, &provider).await;
    provider.approve(
        "c2",
        &challenge,
        IdToken::new("sub-verified", "linked@example.com", &nonce),
    );
    assert_eq!(
        callback(&app, "c2", &state).await.status,
        StatusCode::SEE_OTHER
    );
    let (count, sub): (i64, Option<String>) = sqlx::query_as(
        "SELECT count(*) OVER (), i.subject FROM users u
           LEFT JOIN user_identities i ON i.user_id = u.id AND i.provider = 'google'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((count, sub.as_deref()), (1, Some("sub-verified")));
}

async fn refused(app: &TestApp, page: crate::support::Page) {
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert_eq!(
        app.get("/me").await.status,
        StatusCode::SEE_OTHER,
        "not signed in"
    );
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_token_signed_by_another_key_is_refused(db: PgPool) {
    let (app, provider) = app_with_google(db).await;
    let (state, nonce, challenge) = start(&app, &provider).await;
    let mut token = IdToken::new("sub", "forged@gmail.com", &nonce);
    token.forged = true;
    provider.approve("c", &challenge, token);
    refused(&app, callback(&app, "c", &state).await).await;
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_token_for_another_audience_is_refused(db: PgPool) {
    let (app, provider) = app_with_google(db).await;
    let (state, nonce, challenge) = start(&app, &provider).await;
    let mut token = IdToken::new("sub", "aud@gmail.com", &nonce);
    token.audience = "someone-else.apps.example".into();
    provider.approve("c", &challenge, token);
    refused(&app, callback(&app, "c", &state).await).await;
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_expired_token_is_refused(db: PgPool) {
    let (app, provider) = app_with_google(db).await;
    let (state, nonce, challenge) = start(&app, &provider).await;
    let mut token = IdToken::new("sub", "old@gmail.com", &nonce);
    token.expires_in = -3600;
    provider.approve("c", &challenge, token);
    refused(&app, callback(&app, "c", &state).await).await;
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_state_mismatch_is_refused_before_any_exchange(db: PgPool) {
    let (app, provider) = app_with_google(db).await;
    let (_state, nonce, challenge) = start(&app, &provider).await;
    provider.approve(
        "c",
        &challenge,
        IdToken::new("sub", "csrf@gmail.com", &nonce),
    );
    refused(&app, callback(&app, "c", "attacker-state").await).await;
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_replayed_nonce_or_a_refused_code_is_refused(db: PgPool) {
    let (app, provider) = app_with_google(db).await;
    let (state, _nonce, challenge) = start(&app, &provider).await;
    provider.approve(
        "c",
        &challenge,
        IdToken::new("sub", "nonce@gmail.com", "some-other-nonce"),
    );
    refused(&app, callback(&app, "c", &state).await).await;

    // The provider answers invalid_grant (unknown code / wrong verifier).
    let (state, _, _) = start(&app, &provider).await;
    refused(&app, callback(&app, "never-issued", &state).await).await;
    let (state, nonce, _) = start(&app, &provider).await;
    provider.approve(
        "c3",
        "a-challenge-for-another-verifier",
        IdToken::new("sub", "pkce@gmail.com", &nonce),
    );
    refused(&app, callback(&app, "c3", &state).await).await;
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn without_google_settings_the_routes_do_not_exist(db: PgPool) {
    let app = TestApp::spawn(db).await;
    assert_eq!(app.get("/auth/google").await.status, StatusCode::NOT_FOUND);
    assert!(!app.get("/login").await.body.contains("/auth/google"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_account_set_up_in_advance_with_someone_elses_email_is_taken_over(db: PgPool) {
    let (app, provider) = app_with_google(db).await;
    // An attacker registers the victim's address (never verified) and stays signed in.
    let attacker = app.another_browser();
    attacker.signed_up("victim@example.com").await;
    assert_eq!(attacker.get("/me").await.status, StatusCode::OK);

    // The victim signs in with Google, which has verified the address.
    let (state, nonce, challenge) = start(&app, &provider).await;
    provider.approve(
        "c1",
        &challenge,
        IdToken::new("sub-victim", "victim@example.com", &nonce),
    );
    assert_eq!(
        callback(&app, "c1", &state).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get("/me").await.status, StatusCode::OK);

    // The attacker's session and password no longer work.
    assert_eq!(attacker.get("/me").await.status, StatusCode::SEE_OTHER);
    let fresh = app.another_browser();
    assert_eq!(
        fresh
            .login("victim@example.com", crate::support::PASSWORD)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let (hash, verified): (Option<String>, bool) = sqlx::query_as(
        "SELECT password_hash, email_verified_at IS NOT NULL FROM users WHERE email = 'victim@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(hash.is_none());
    assert!(verified);
}
