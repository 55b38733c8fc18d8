//! Kakao (OpenID Connect) and Naver (OAuth 2.0 and its profile API) sign-in
//! against local twins of each, and the account page's links: link, unlink,
//! and the last way in that stays.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::{
    PASSWORD, Page, TestApp, count,
    naver::{self, NaverLogin, Person},
    oidc::{Authorize, CLIENT_ID, CLIENT_SECRET, IdToken, OidcProvider, authorize},
};

struct Twins {
    google: OidcProvider,
    kakao: OidcProvider,
    naver: NaverLogin,
}

async fn app_with_providers(db: PgPool) -> (TestApp, Twins) {
    let twins = Twins {
        google: OidcProvider::start().await,
        kakao: OidcProvider::kakao().await,
        naver: NaverLogin::start().await,
    };
    let (google, kakao, naver) = (
        twins.google.issuer.clone(),
        twins.kakao.issuer.clone(),
        twins.naver.base.clone(),
    );
    let app = TestApp::spawn_with(db, |c| {
        c.google_client_id = Some(CLIENT_ID.into());
        c.google_client_secret = Some(CLIENT_SECRET.into());
        c.google_issuer = google;
        // The Kakao twin checks the same client id and secret as Google's;
        // the audience of its tokens is this id.
        c.kakao_client_id = Some(CLIENT_ID.into());
        c.kakao_client_secret = Some(CLIENT_SECRET.into());
        c.kakao_issuer = kakao;
        c.naver_client_id = Some(naver::CLIENT_ID.into());
        c.naver_client_secret = Some(naver::CLIENT_SECRET.into());
        c.naver_auth_base = naver.clone();
        c.naver_api_base = naver;
    })
    .await;
    (app, twins)
}

impl Twins {
    /// Starts a Kakao sign-in and approves it at Kakao with this token
    /// (its nonce is filled in); the code to come back with.
    async fn kakao_approves(&self, app: &TestApp, code: &str, token: IdToken) -> Authorize {
        self.oidc_approves(app, "kakao", code, token).await
    }

    /// The same at an OpenID provider (`kakao` or `google`).
    async fn oidc_approves(
        &self,
        app: &TestApp,
        provider: &str,
        code: &str,
        mut token: IdToken,
    ) -> Authorize {
        let twin = match provider {
            "kakao" => &self.kakao,
            _ => &self.google,
        };
        let at = authorize(
            &app.get(&format!("/auth/{provider}?next=%2Fme")).await,
            &format!("{}/authorize", twin.issuer),
        );
        if token.nonce.is_empty() {
            token.nonce = at.q("nonce");
        }
        twin.approve(code, &at.q("code_challenge"), token);
        at
    }

    async fn naver_approves(&self, app: &TestApp, code: &str, person: Person) -> Authorize {
        let at = authorize(
            &app.get("/auth/naver?next=%2Fme").await,
            &format!("{}/oauth2.0/authorize", self.naver.base),
        );
        self.naver.approve(code, &at.q("state"), person);
        at
    }
}

fn kakao_token(sub: &str, email: &str) -> IdToken {
    let mut token = IdToken::new(sub, email, "");
    token.name = "카카오 친구".into();
    token
}

async fn callback(app: &TestApp, provider: &str, code: &str, at: &Authorize) -> Page {
    app.get(&format!(
        "/auth/{provider}/callback?code={code}&state={}",
        at.q("state")
    ))
    .await
}

/// A first sign-in: the callback asks for the terms, the person agrees and
/// lands on `/me`; that page.
async fn signs_up(app: &TestApp, provider: &str, code: &str, at: &Authorize) -> Page {
    let page = callback(app, provider, code, at).await;
    assert_eq!(
        page.header("location"),
        "/me/consents?next=%2Fme",
        "{}",
        page.body
    );
    app.agree_to_terms().await;
    app.get("/me").await
}

/// Whether `/me` says the email is verified.
fn email_verified(me: &Page) -> Option<String> {
    me.attr("[data-email-verified]", "data-email-verified")
}

async fn identities(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT i.provider, i.subject, u.email FROM user_identities i JOIN users u ON u.id = i.user_id
          ORDER BY i.provider, i.subject",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

fn linked(me: &Page, provider: &str) -> Option<String> {
    me.attr(
        &format!(r#"[data-sign-in-method="{provider}"]"#),
        "data-linked",
    )
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn kakao_sign_in_makes_a_verified_account_and_finds_it_again(db: PgPool) {
    let (app, twins) = app_with_providers(db).await;
    for page in ["/login", "/signup"] {
        let page = app.get(page).await;
        let order: Vec<String> = page
            .html()
            .select(&scraper::Selector::parse("[data-provider]").unwrap())
            .map(|a| a.value().attr("data-provider").unwrap().to_string())
            .collect();
        assert_eq!(order, ["kakao", "naver", "google"]);
    }
    assert!(app.get("/signup").await.body.contains("카카오로 시작하기"));
    // The link form is redirected to the provider and on to Kakao's login
    // page: the CSP's form-action lets it.
    let login = app.get("/login").await;
    let csp = login.header("content-security-policy");
    let form_action = csp
        .split(';')
        .find(|d| d.trim().starts_with("form-action"))
        .unwrap();
    for origin in [
        twins.kakao.issuer.as_str(),
        twins.naver.base.as_str(),
        "https://accounts.kakao.com",
    ] {
        assert!(form_action.contains(origin), "{form_action}");
    }
    assert!(app.get("/login").await.body.contains("카카오 로그인"));

    let at = twins
        .kakao_approves(&app, "k1", kakao_token("kakao-1", "friend@kakao.com"))
        .await;
    assert_eq!(at.q("client_id"), CLIENT_ID);
    assert_eq!(at.q("response_type"), "code");
    assert_eq!(at.q("code_challenge_method"), "S256");
    assert_eq!(at.q("scope"), "openid account_email profile_nickname");
    assert_eq!(
        at.q("redirect_uri"),
        format!("{}/auth/kakao/callback", app.base)
    );
    assert!(!at.q("nonce").is_empty());
    let me = signs_up(&app, "kakao", "k1", &at).await;
    // Kakao's UserInfo said the email is verified; the ID token said the name.
    assert_eq!(email_verified(&me).as_deref(), Some("true"));
    assert_eq!(linked(&me, "kakao").as_deref(), Some("true"));
    assert_eq!(linked(&me, "password").as_deref(), Some("false"));
    let nickname: String = sqlx::query_scalar("SELECT nickname FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(nickname, "카카오 친구");

    let other = app.another_browser();
    let at = twins
        .kakao_approves(&other, "k2", kakao_token("kakao-1", "friend@kakao.com"))
        .await;
    assert_eq!(
        callback(&other, "kakao", "k2", &at)
            .await
            .header("location"),
        "/me"
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 1);
    let methods: Vec<String> = sqlx::query_scalar("SELECT DISTINCT method FROM auth_sessions")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(methods, ["kakao"]);
}

/// A refused callback: 400, nobody signed in, no account made.
async fn refused(app: &TestApp, page: Page, words: &str) {
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains(words), "{}", page.body);
    assert_eq!(app.get("/me").await.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 0);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn kakao_refusals_a_wrong_nonce_an_expired_token_a_refused_code(db: PgPool) {
    let (app, twins) = app_with_providers(db).await;
    let mut token = kakao_token("kakao-n", "nonce@kakao.com");
    token.nonce = "a-nonce-of-another-sign-in".into();
    let at = twins.kakao_approves(&app, "c1", token).await;
    refused(
        &app,
        callback(&app, "kakao", "c1", &at).await,
        "카카오 로그인 정보를 확인할 수 없습니다",
    )
    .await;

    let mut token = kakao_token("kakao-e", "old@kakao.com");
    token.expires_in = -3600;
    let at = twins.kakao_approves(&app, "c2", token).await;
    refused(
        &app,
        callback(&app, "kakao", "c2", &at).await,
        "카카오 로그인 정보를 확인할 수 없습니다",
    )
    .await;

    let mut token = kakao_token("kakao-f", "forged@kakao.com");
    token.forged = true;
    let at = twins.kakao_approves(&app, "c3", token).await;
    refused(
        &app,
        callback(&app, "kakao", "c3", &at).await,
        "카카오 로그인 정보를 확인할 수 없습니다",
    )
    .await;

    // Kakao answers KOE320 (invalid_grant) to a code it never issued.
    let at = twins
        .kakao_approves(&app, "c4", kakao_token("kakao-g", "g@kakao.com"))
        .await;
    refused(
        &app,
        callback(&app, "kakao", "never-issued", &at).await,
        "카카오 로그인에 실패했습니다",
    )
    .await;

    // The person said no at Kakao: back to the login page, told so.
    let at = twins
        .kakao_approves(&app, "c5", kakao_token("kakao-h", "h@kakao.com"))
        .await;
    let page = app
        .get(&format!(
            "/auth/kakao/callback?error=access_denied&error_description=User%20denied%20access&state={}",
            at.q("state")
        ))
        .await;
    assert_eq!(page.header("location"), "/login");
    assert!(
        app.get("/login")
            .await
            .body
            .contains("카카오 로그인이 취소되었습니다")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_replayed_callback_is_refused_even_with_the_flow_cookie(db: PgPool) {
    let (app, twins) = app_with_providers(db).await;
    for (provider, code) in [
        ("kakao", "k-replay"),
        ("google", "g-replay"),
        ("naver", "n-replay"),
    ] {
        let browser = app.another_browser();
        let at = match provider {
            "naver" => {
                twins
                    .naver_approves(&browser, code, Person::new("naver-r", "r@naver.com"))
                    .await
            }
            _ => {
                let token = kakao_token(&format!("{provider}-r"), &format!("r@{provider}.com"));
                twins.oidc_approves(&browser, provider, code, token).await
            }
        };
        let flow = browser.cookie("weaverse_oidc").expect("flow cookie");
        let first = callback(&browser, provider, code, &at).await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
        assert!(
            browser.cookie("weaverse_oidc").is_none(),
            "the flow cookie is spent"
        );
        // Someone who copied the browser's cookie and the callback URL.
        let thief = app.another_browser();
        thief.set_cookie("weaverse_oidc", &flow);
        let again = callback(&thief, provider, code, &at).await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
        assert!(again.body.contains("이미 사용되었습니다"));
        assert_eq!(thief.get("/me").await.status, StatusCode::SEE_OTHER);
    }
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM auth_sessions").await,
        3
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_unverified_kakao_email_never_links_and_a_new_account_keeps_it_unverified(db: PgPool) {
    let (app, twins) = app_with_providers(db).await;
    let owner = app.another_browser();
    owner.signed_up("taken@example.com").await;
    owner.logout().await;

    let mut token = kakao_token("kakao-u", "taken@example.com");
    token.email_verified = false;
    let at = twins.kakao_approves(&app, "u1", token).await;
    let page = callback(&app, "kakao", "u1", &at).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    assert!(
        page.body
            .contains("카카오에서 인증된 이메일만 연결할 수 있으니")
    );
    assert!(identities(&app).await.is_empty());

    let mut token = kakao_token("kakao-v", "fresh@example.com");
    token.email_verified = false;
    let at = twins.kakao_approves(&app, "u2", token).await;
    let me = signs_up(&app, "kakao", "u2", &at).await;
    assert_eq!(email_verified(&me).as_deref(), Some("false"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn naver_sign_in_makes_an_account_from_the_profile_api(db: PgPool) {
    let (app, twins) = app_with_providers(db).await;
    let at = twins
        .naver_approves(&app, "n1", Person::new("naver-1", "gildong@naver.com"))
        .await;
    assert_eq!(at.q("response_type"), "code");
    assert_eq!(at.q("client_id"), naver::CLIENT_ID);
    assert_eq!(
        at.q("redirect_uri"),
        format!("{}/auth/naver/callback", app.base)
    );
    assert!(!at.q("state").is_empty());
    let me = signs_up(&app, "naver", "n1", &at).await;
    // Naver does not say the address is proven: it is not, here.
    assert_eq!(email_verified(&me).as_deref(), Some("false"));
    assert_eq!(linked(&me, "naver").as_deref(), Some("true"));
    assert_eq!(
        identities(&app).await,
        [("naver".into(), "naver-1".into(), "gildong@naver.com".into())]
    );
    let (nickname, method): (String, String) = sqlx::query_as(
        "SELECT u.nickname, s.method FROM users u JOIN auth_sessions s ON s.user_id = u.id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (nickname.as_str(), method.as_str()),
        ("네이버 사용자", "naver")
    );

    let other = app.another_browser();
    let at = twins
        .naver_approves(&other, "n2", Person::new("naver-1", "gildong@naver.com"))
        .await;
    assert_eq!(
        callback(&other, "naver", "n2", &at)
            .await
            .header("location"),
        "/me"
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn naver_refusals_state_code_profile_email(db: PgPool) {
    let (app, twins) = app_with_providers(db).await;
    // Another state than the one sent: refused before Naver is asked.
    let at = twins
        .naver_approves(&app, "s1", Person::new("naver-s", "s@naver.com"))
        .await;
    let page = app
        .get("/auth/naver/callback?code=s1&state=attacker-state")
        .await;
    refused(&app, page, "로그인 요청이 일치하지 않거나").await;
    drop(at);

    // Naver refuses the code (HTTP 200 with an error body).
    let at = twins
        .naver_approves(&app, "s2", Person::new("naver-t", "t@naver.com"))
        .await;
    refused(
        &app,
        callback(&app, "naver", "wrong-code", &at).await,
        "네이버 로그인에 실패했습니다",
    )
    .await;

    // No email given at Naver.
    let mut person = Person::new("naver-u", "");
    person.email = None;
    let at = twins.naver_approves(&app, "s3", person).await;
    refused(
        &app,
        callback(&app, "naver", "s3", &at).await,
        "네이버 계정의 이메일 주소를 받을 수 없습니다",
    )
    .await;

    // The profile API refuses the token (024).
    twins.naver.refuse_profiles();
    let at = twins
        .naver_approves(&app, "s4", Person::new("naver-v", "v@naver.com"))
        .await;
    refused(
        &app,
        callback(&app, "naver", "s4", &at).await,
        "네이버 로그인 정보를 확인할 수 없습니다",
    )
    .await;
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_naver_email_never_takes_over_and_a_verified_kakao_one_ends_it(db: PgPool) {
    let (app, twins) = app_with_providers(db).await;
    // Someone registers the victim's address at Naver (unproven) and signs up.
    let attacker = app.another_browser();
    let at = twins
        .naver_approves(
            &attacker,
            "a1",
            Person::new("naver-attacker", "victim@example.com"),
        )
        .await;
    signs_up(&attacker, "naver", "a1", &at).await;

    // A password account of the same address is not linked either.
    let at = twins
        .naver_approves(&app, "a2", Person::new("naver-other", "victim@example.com"))
        .await;
    assert_eq!(
        callback(&app, "naver", "a2", &at).await.status,
        StatusCode::CONFLICT
    );

    // The owner signs in with Kakao, which proved the address: the account is
    // theirs, and the Naver identity and its session end.
    let at = twins
        .kakao_approves(
            &app,
            "a3",
            kakao_token("kakao-victim", "victim@example.com"),
        )
        .await;
    assert_eq!(
        callback(&app, "kakao", "a3", &at).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        identities(&app).await,
        [(
            "kakao".into(),
            "kakao-victim".into(),
            "victim@example.com".into()
        )]
    );
    assert_eq!(attacker.get("/me").await.status, StatusCode::SEE_OTHER);
    let at = twins
        .naver_approves(
            &attacker,
            "a4",
            Person::new("naver-attacker", "victim@example.com"),
        )
        .await;
    assert_eq!(
        callback(&attacker, "naver", "a4", &at).await.status,
        StatusCode::CONFLICT
    );
    let audit: i64 = count(
        &app.db,
        "SELECT count(*) FROM audit_log WHERE action = 'account.provider_takeover'",
    )
    .await;
    assert_eq!(audit, 1);
}

/// Links `provider` from the account page; the callback page.
async fn link(app: &TestApp, twins: &Twins, provider: &str, code: &str, subject: &str) -> Page {
    let page = app
        .post_form(&format!("/me/sign-in-methods/{provider}/link"), &[])
        .await;
    let at = match provider {
        "kakao" => {
            let at = authorize(&page, &format!("{}/authorize", twins.kakao.issuer));
            let mut token = kakao_token(subject, "another-address@kakao.com");
            token.nonce = at.q("nonce");
            twins.kakao.approve(code, &at.q("code_challenge"), token);
            at
        }
        _ => {
            let at = authorize(&page, &format!("{}/oauth2.0/authorize", twins.naver.base));
            twins
                .naver
                .approve(code, &at.q("state"), Person::new(subject, "x@naver.com"));
            at
        }
    };
    callback(app, provider, code, &at).await
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_password_account_links_kakao_and_naver_and_signs_in_with_either(db: PgPool) {
    let (app, twins) = app_with_providers(db).await;
    app.signed_up("learner@example.com").await;
    let me = app.get("/me").await;
    assert_eq!(linked(&me, "password").as_deref(), Some("true"));
    assert_eq!(linked(&me, "kakao").as_deref(), Some("false"));
    assert!(
        me.body
            .contains(r#"action="/me/sign-in-methods/kakao/link""#)
    );

    let page = link(&app, &twins, "kakao", "l1", "kakao-learner").await;
    assert_eq!(
        page.header("location"),
        "/me#sign-in-methods",
        "{}",
        page.body
    );
    let page = link(&app, &twins, "naver", "l2", "naver-learner").await;
    assert_eq!(
        page.header("location"),
        "/me#sign-in-methods",
        "{}",
        page.body
    );
    let me = app.get("/me").await;
    assert!(me.body.contains("네이버 계정을 연결했습니다"));
    assert_eq!(linked(&me, "kakao").as_deref(), Some("true"));
    assert_eq!(linked(&me, "naver").as_deref(), Some("true"));
    // The emails differ: a link needs none to match, the person proved both.
    assert_eq!(identities(&app).await.len(), 2);
    // An admin helping with a sign-in sees every way in.
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'learner@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let page = admin.get(&format!("/admin/users/{id}")).await;
    let methods = page.text("[data-sign-in-methods]").unwrap();
    assert!(methods.contains("비밀번호, 카카오, 네이버"), "{methods}");

    // Linking again is the same answer; another Kakao account is refused.
    let again = link(&app, &twins, "kakao", "l3", "kakao-learner").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let second = link(&app, &twins, "kakao", "l4", "kakao-second").await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(
        second
            .body
            .contains("이미 다른 카카오 계정이 연결되어 있습니다")
    );

    for (provider, code, subject) in [
        ("kakao", "s1", "kakao-learner"),
        ("naver", "s2", "naver-learner"),
    ] {
        let browser = app.another_browser();
        let at = match provider {
            "kakao" => {
                twins
                    .kakao_approves(&browser, code, kakao_token(subject, "other@kakao.com"))
                    .await
            }
            _ => {
                twins
                    .naver_approves(&browser, code, Person::new(subject, "other@naver.com"))
                    .await
            }
        };
        assert_eq!(
            callback(&browser, provider, code, &at)
                .await
                .header("location"),
            "/me"
        );
        assert!(
            browser
                .get("/me")
                .await
                .body
                .contains("learner@example.com")
        );
    }
    // No account was made by those sign-ins (the admin's is the other one).
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM users WHERE role = 'student'").await,
        1
    );

    // An identity another account holds cannot be linked here.
    let someone = app.another_browser();
    someone.signed_up("someone@example.com").await;
    let taken = link(&someone, &twins, "kakao", "t1", "kakao-learner").await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.body.contains("이미 다른 Weaverse 계정에 연결되어"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn unlinking_always_keeps_one_way_in(db: PgPool) {
    let (app, twins) = app_with_providers(db).await;
    let at = twins
        .kakao_approves(&app, "k1", kakao_token("kakao-only", "only@kakao.com"))
        .await;
    signs_up(&app, "kakao", "k1", &at).await;

    let last = app.post_form("/me/sign-in-methods/kakao/unlink", &[]).await;
    assert_eq!(last.status, StatusCode::CONFLICT, "{}", last.body);
    assert!(last.body.contains("로그인할 방법이 없습니다"));
    let not_linked = app.post_form("/me/sign-in-methods/naver/unlink", &[]).await;
    assert_eq!(not_linked.status, StatusCode::CONFLICT);

    // With Naver linked too, two unlinks at once: exactly one goes.
    link(&app, &twins, "naver", "n1", "naver-only").await;
    let kakao = app.post_form("/me/sign-in-methods/kakao/unlink", &[]);
    let naver = app.post_form("/me/sign-in-methods/naver/unlink", &[]);
    let (kakao, naver) = tokio::join!(kakao, naver);
    let mut statuses = [kakao.status, naver.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
    assert_eq!(identities(&app).await.len(), 1);

    // A password is a way in: then the last provider may go.
    let made = app
        .post_form("/me/password", &[("new_password", PASSWORD)])
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let remaining = identities(&app).await[0].0.clone();
    let gone = app
        .post_form(&format!("/me/sign-in-methods/{remaining}/unlink"), &[])
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.body);
    assert!(identities(&app).await.is_empty());
    assert!(
        app.get("/me")
            .await
            .body
            .contains("계정 연결을 해제했습니다")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_link_started_by_another_account_is_refused(db: PgPool) {
    let (app, twins) = app_with_providers(db).await;
    let other = app.another_browser();
    other.signed_up("b@example.com").await;
    app.signed_up("a@example.com").await;
    let page = app.post_form("/me/sign-in-methods/kakao/link", &[]).await;
    let at = authorize(&page, &format!("{}/authorize", twins.kakao.issuer));
    let mut token = kakao_token("kakao-a", "a@kakao.com");
    token.nonce = at.q("nonce");
    twins.kakao.approve("x1", &at.q("code_challenge"), token);
    // Before coming back, the browser signs out and in as someone else.
    app.logout().await;
    app.login("b@example.com", PASSWORD).await;
    let page = callback(&app, "kakao", "x1", &at).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(identities(&app).await.is_empty());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn providers_not_configured_have_no_routes_or_buttons(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for path in [
        "/auth/kakao",
        "/auth/naver",
        "/auth/google",
        "/auth/facebook",
    ] {
        assert_eq!(app.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert!(
        app.get("/login")
            .await
            .text("[data-provider-buttons]")
            .is_none()
    );
    app.signed_up("plain@example.com").await;
    assert_eq!(
        app.post_form("/me/sign-in-methods/kakao/link", &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
