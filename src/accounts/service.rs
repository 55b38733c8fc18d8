//! Account rules. Functions take the caller's connection or transaction.

use askama::Template;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{Acquire, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    accounts::consent::{self, ConsentKind},
    accounts::error::{AccountsError, AccountsResult, Invalid, Problem},
    accounts::{
        model::{Email, Nickname, PhoneNumber, Role, SignInMethod, check_password, new_account},
        password::{hash_password, verify_password},
        repo::{self, NewUser},
    },
    config::Config,
    ids::UserId,
    infra::{
        crypto::DataKeys,
        mail::{self, Mail},
        ratelimit::Limit,
        sealed,
    },
    web::client::ClientInfo,
};

/// The limits in force, from the `LIMIT_*` settings.
struct Limits {
    login_failures_per_account: Limit,
    login_failures_per_ip: Limit,
    signups_per_ip: Limit,
    verify_mails_per_account: Limit,
    reset_mails_per_account: Limit,
    reset_mails_per_ip: Limit,
    /// Guesses of the current password from a signed-in session (password
    /// change, account deletion): a stolen session must not become an oracle.
    password_checks_per_account: Limit,
}

fn limits(config: &Config) -> Limits {
    let l = &config.limits;
    Limits {
        login_failures_per_account: Limit::new(
            "login_fail_email",
            l.login_failures_per_account,
            15 * 60,
        ),
        login_failures_per_ip: Limit::new("login_fail_ip", l.login_failures_per_ip, 15 * 60),
        signups_per_ip: Limit::new("signup_ip", l.signups_per_ip, 60 * 60),
        verify_mails_per_account: Limit::new("verify_mail", l.verify_mails_per_account, 60 * 60),
        reset_mails_per_account: Limit::new("reset_mail_email", l.reset_mails_per_account, 60 * 60),
        reset_mails_per_ip: Limit::new("reset_mail_ip", l.reset_mails_per_ip, 60 * 60),
        password_checks_per_account: Limit::new(
            "password_check",
            l.password_checks_per_account,
            15 * 60,
        ),
    }
}

/// Longer than any email we accept (RFC 5321 paths are at most 256 octets).
const MAX_EMAIL_BYTES: usize = 320;
/// Longer than any password we accept at sign-up.
const MAX_PASSWORD_BYTES: usize = 4096;

const VERIFY_TTL_SECS: f64 = 24.0 * 3600.0;
const RESET_TTL_SECS: f64 = 3600.0;

/// Takes a slot of `limit` for `key` before the work it limits, or refuses.
async fn reserve(conn: &mut PgConnection, limit: Limit, key: &str) -> AccountsResult<()> {
    match limit.reserve(conn, key).await? {
        Some(retry_after_secs) => Err(AccountsError::TooManyRequests { retry_after_secs }),
        None => Ok(()),
    }
}

/// A random single-use token and the hash we store of it.
pub(super) fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub(super) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn link(config: &Config, path: &str) -> String {
    format!(
        "{}{}",
        config.public_url.as_str().trim_end_matches('/'),
        path
    )
}

fn phone_aad(user: UserId) -> String {
    sealed::USER_PHONE.aad(user)
}

#[derive(Template)]
#[template(path = "mail/verify_email.txt")]
struct VerifyMail<'a> {
    nickname: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
struct ResetMail<'a> {
    nickname: &'a str,
    link: &'a str,
}

pub struct SignUp<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub nickname: &'a str,
    /// The texts the person ticked "agree" on (all of [`consent::SIGN_UP`]
    /// are required).
    pub agreed: &'a [ConsentKind],
}

/// Adds a problem for each sign-up text not in `agreed`.
fn unagreed(errors: &mut Invalid, agreed: &[ConsentKind]) {
    for kind in consent::SIGN_UP {
        if !agreed.contains(kind) {
            match kind {
                ConsentKind::Terms => errors.push("agree_terms", Problem::TermsNotAgreed),
                ConsentKind::Privacy => errors.push("agree_privacy", Problem::PrivacyNotAgreed),
                ConsentKind::RefundPolicy => {}
            }
        }
    }
}

/// Records the sign-up texts for an account that has not agreed to their
/// current versions (a Google sign-up, or a text changed since): all are
/// required, as at sign-up.
pub async fn agree(
    conn: &mut PgConnection,
    user: UserId,
    agreed: &[ConsentKind],
) -> AccountsResult<()> {
    let mut errors = Invalid::default();
    unagreed(&mut errors, agreed);
    if !errors.is_empty() {
        return Err(AccountsError::Invalid(errors));
    }
    let missing = consent::missing(conn, user).await?;
    if !missing.is_empty() {
        consent::record(conn, user, &missing, None).await?;
    }
    Ok(())
}

/// Takes a sign-up in its own transaction. A new address gets an account and
/// the verification mail; an address already registered gets a mail telling
/// its owner, and the caller cannot tell the two apart (same answer, same
/// argon2 cost). Every attempt that passes the field checks takes a slot of
/// the per-address limit before the hash, duplicates included. `Some` is the
/// new account.
pub async fn sign_up(
    db: &PgPool,
    config: &Config,
    client: &ClientInfo,
    input: SignUp<'_>,
) -> AccountsResult<Option<UserId>> {
    let mut errors = Invalid::default();
    let (email, nickname) = new_account(&mut errors, input.email, input.nickname, input.password);
    unagreed(&mut errors, input.agreed);
    let (Some(email), Some(nickname), true) = (email, nickname, errors.is_empty()) else {
        return Err(AccountsError::Invalid(errors));
    };
    // The slot is taken and committed first; no connection is held while
    // the password is hashed.
    reserve(
        &mut *db.acquire().await?,
        limits(config).signups_per_ip,
        &client.ip,
    )
    .await?;
    let hash = hash_password(input.password.to_owned()).await?;
    let mut tx = db.begin().await?;
    let conn = &mut *tx;
    let created = repo::insert_user_unless_registered(
        conn,
        NewUser {
            email: email.as_str(),
            password_hash: Some(&hash),
            nickname: nickname.as_str(),
            role: Role::Student,
            verified: false,
        },
    )
    .await?;
    match created {
        Some(user) => {
            consent::record(conn, user, consent::SIGN_UP, None).await?;
            queue_verification_mail(conn, config, user, email.as_str(), nickname.as_str()).await?;
        }
        None => tell_owner_of_signup_attempt(conn, config, &email).await?,
    }
    tx.commit().await?;
    Ok(created)
}

#[derive(Template)]
#[template(path = "mail/signup_existing.txt")]
struct SignupExistingMail<'a> {
    nickname: &'a str,
    login_link: &'a str,
    reset_link: &'a str,
}

/// Mails the owner of a registered address that somebody tried to sign up
/// with it. Limited like verification mails, so sign-ups cannot flood an
/// inbox; past the limit the attempt is answered the same and mails nothing.
async fn tell_owner_of_signup_attempt(
    conn: &mut PgConnection,
    config: &Config,
    email: &Email,
) -> AccountsResult<()> {
    let Some(owner) = repo::live_user_by_email(conn, email).await? else {
        return Ok(());
    };
    let limit = limits(config).verify_mails_per_account;
    if limit.reserve(conn, &owner.id.to_string()).await?.is_some() {
        return Ok(());
    }
    let text = SignupExistingMail {
        nickname: &owner.nickname,
        login_link: &link(config, "/login"),
        reset_link: &link(config, "/password-reset"),
    }
    .render()?;
    mail::enqueue(conn, &Mail::compose(owner.email.clone(), &text)).await?;
    Ok(())
}

async fn queue_verification_mail(
    conn: &mut PgConnection,
    config: &Config,
    user: UserId,
    email: &str,
    nickname: &str,
) -> AccountsResult<()> {
    let (token, hash) = new_token();
    repo::insert_token(conn, &hash, user, "verify_email", VERIFY_TTL_SECS).await?;
    let link = link(config, &format!("/verify-email/{token}"));
    let text = VerifyMail {
        nickname,
        link: &link,
    }
    .render()?;
    mail::enqueue(conn, &Mail::compose(email.to_string(), &text)).await?;
    Ok(())
}

/// Sends the verification mail again (limited per account).
pub async fn resend_verification(
    conn: &mut PgConnection,
    config: &Config,
    user: UserId,
) -> AccountsResult<()> {
    let Some(row) = repo::user_by_id(conn, user).await? else {
        return Err(AccountsError::NotFound);
    };
    if row.email_verified_at.is_some() {
        return Err(AccountsError::AlreadyVerified);
    }
    reserve(
        conn,
        limits(config).verify_mails_per_account,
        &user.to_string(),
    )
    .await?;
    queue_verification_mail(conn, config, user, &row.email, &row.nickname).await
}

/// Uses a verification token. `None` when it is unknown, used or expired.
pub async fn verify_email(conn: &mut PgConnection, token: &str) -> AccountsResult<Option<UserId>> {
    let Some(user) = repo::take_token(conn, &token_hash(token), "verify_email").await? else {
        return Ok(None);
    };
    repo::mark_verified(conn, user).await?;
    Ok(Some(user))
}

/// Checks an email and password. Wrong email and wrong password give the same
/// message and cost the same time. Each attempt takes a slot of the limits
/// before the hash is checked (so parallel guesses cannot outrun them); a
/// success gives its slots back. No database connection is held while the
/// hash is checked, so a flood of logins cannot starve the pool.
/// Where a sign-in without a page to return to lands: an admin on the
/// admin home, everyone else on the home page.
pub async fn landing(conn: &mut PgConnection, user: UserId) -> AccountsResult<&'static str> {
    let admin = repo::user_by_id(conn, user)
        .await?
        .is_some_and(|u| u.role == Role::Admin);
    Ok(if admin { "/admin" } else { "/" })
}

pub async fn authenticate(
    db: &PgPool,
    config: &Config,
    client: &ClientInfo,
    email_raw: &str,
    password: &str,
) -> AccountsResult<UserId> {
    let email_key = email_raw.trim().to_lowercase();
    // No account has such an email or password: refused before anything is
    // stored (a 1 MB email would not even fit the limit's index).
    if email_key.len() > MAX_EMAIL_BYTES || password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountsError::field("_form", Problem::BadLogin));
    }
    let user = {
        let mut conn = db.acquire().await?;
        reserve(
            &mut conn,
            limits(config).login_failures_per_account,
            &email_key,
        )
        .await?;
        if let Err(refused) =
            reserve(&mut conn, limits(config).login_failures_per_ip, &client.ip).await
        {
            limits(config)
                .login_failures_per_account
                .release(&mut conn, &email_key)
                .await?;
            return Err(refused);
        }
        match Email::parse(email_raw) {
            Ok(email) => repo::live_user_by_email(&mut conn, &email).await?,
            Err(_) => None,
        }
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = verify_password(password.to_owned(), hash).await?;
    match user {
        Some(user) if ok => {
            let mut conn = db.acquire().await?;
            limits(config)
                .login_failures_per_account
                .release(&mut conn, &email_key)
                .await?;
            limits(config)
                .login_failures_per_ip
                .release(&mut conn, &client.ip)
                .await?;
            Ok(user.id)
        }
        // The slots stay taken: they are the failures the limits count.
        _ => Err(AccountsError::field("_form", Problem::BadLogin)),
    }
}

/// Mails a reset link when the address belongs to a live account. Says the
/// same either way, so the form does not reveal who is registered.
pub async fn request_password_reset(
    conn: &mut PgConnection,
    config: &Config,
    client: &ClientInfo,
    email_raw: &str,
) -> AccountsResult<()> {
    let email = Email::parse(email_raw).map_err(|p| AccountsError::field("email", p))?;
    // Each limit takes its slot under its own lock (a check now and a
    // record later would let parallel requests all through).
    reserve(conn, limits(config).reset_mails_per_ip, &client.ip).await?;
    reserve(conn, limits(config).reset_mails_per_account, email.as_str()).await?;
    let Some(user) = repo::live_user_by_email(conn, &email).await? else {
        return Ok(());
    };
    let (token, hash) = new_token();
    repo::insert_token(conn, &hash, user.id, "password_reset", RESET_TTL_SECS).await?;
    let link = link(config, &format!("/password-reset/{token}"));
    let text = ResetMail {
        nickname: &user.nickname,
        link: &link,
    }
    .render()?;
    mail::enqueue(conn, &Mail::compose(user.email.clone(), &text)).await?;
    Ok(())
}

/// Whether a reset token can still be used (to show the form or not).
pub async fn reset_token_is_valid(conn: &mut PgConnection, token: &str) -> AccountsResult<bool> {
    Ok(repo::peek_token(conn, &token_hash(token), "password_reset")
        .await?
        .is_some())
}

/// Sets a new password with a reset token, once; ends every session.
pub async fn reset_password(
    conn: &mut PgConnection,
    token: &str,
    new_password: &str,
) -> AccountsResult<UserId> {
    let Some(user) = repo::peek_token(conn, &token_hash(token), "password_reset").await? else {
        return Err(AccountsError::ResetLinkInvalid);
    };
    let row = repo::user_by_id(conn, user)
        .await?
        .ok_or(AccountsError::NotFound)?;
    let email = Email::parse(&row.email).ok();
    check_password(new_password, email.as_ref())
        .map_err(|p| AccountsError::field("password", p))?;
    // Taking the token is the race guard: of two concurrent resets one wins.
    if repo::take_token(conn, &token_hash(token), "password_reset")
        .await?
        .is_none()
    {
        return Err(AccountsError::ResetLinkInvalid);
    }
    let hash = hash_password(new_password.to_owned()).await?;
    repo::set_password(conn, user, &hash).await?;
    repo::delete_auth_sessions_except(conn, user, None).await?;
    Ok(user)
}

/// What the profile page shows.
pub struct Profile {
    pub email: String,
    pub nickname: String,
    pub introduction: String,
    pub phone_number: String,
    pub verified: bool,
    pub has_password: bool,
    pub created_at: OffsetDateTime,
}

pub async fn profile(
    conn: &mut PgConnection,
    keys: &DataKeys,
    user: UserId,
) -> AccountsResult<Profile> {
    let row = repo::user_by_id(conn, user)
        .await?
        .ok_or(AccountsError::NotFound)?;
    let phone_number = match &row.phone_enc {
        Some(blob) => keys.decrypt_str(blob, &phone_aad(user))?,
        None => String::new(),
    };
    Ok(Profile {
        email: row.email,
        nickname: row.nickname,
        introduction: row.introduction,
        phone_number,
        verified: row.email_verified_at.is_some(),
        has_password: row.password_hash.is_some(),
        created_at: row.created_at,
    })
}

pub struct ProfileUpdate<'a> {
    pub nickname: &'a str,
    pub introduction: &'a str,
    pub phone_number: &'a str,
}

pub async fn update_profile(
    conn: &mut PgConnection,
    keys: &DataKeys,
    user: UserId,
    input: ProfileUpdate<'_>,
) -> AccountsResult<()> {
    let mut errors = Invalid::default();
    let nickname = Nickname::parse(input.nickname)
        .map_err(|p| errors.push("nickname", p))
        .ok();
    let introduction = input.introduction.trim();
    if introduction.chars().count() > 500 {
        errors.push("introduction", Problem::IntroductionTooLong);
    }
    let phone = match input.phone_number.trim() {
        "" => None,
        raw => PhoneNumber::parse(raw)
            .map_err(|p| errors.push("phone_number", p))
            .ok(),
    };
    let Some(nickname) = nickname.filter(|_| errors.is_empty()) else {
        return Err(AccountsError::Invalid(errors));
    };
    let phone_enc = phone
        .map(|p| keys.encrypt_str(p.as_str(), &phone_aad(user)))
        .transpose()?;
    repo::update_profile(
        conn,
        user,
        nickname.as_str(),
        introduction,
        phone_enc.as_deref(),
    )
    .await?;
    Ok(())
}

/// Changes the password after checking the current one; ends the other sessions.
pub async fn change_password(
    conn: &mut PgConnection,
    config: &Config,
    user: UserId,
    keep_session: Uuid,
    current: &str,
    new: &str,
) -> AccountsResult<()> {
    let row = repo::user_by_id(conn, user)
        .await?
        .ok_or(AccountsError::NotFound)?;
    let has_password = row.password_hash.is_some();
    if has_password {
        let key = user.to_string();
        reserve(conn, limits(config).password_checks_per_account, &key).await?;
        if !verify_password(current.to_owned(), row.password_hash.clone()).await? {
            return Err(AccountsError::field(
                "current_password",
                Problem::WrongCurrentPassword,
            ));
        }
        limits(config)
            .password_checks_per_account
            .release(conn, &key)
            .await?;
    }
    let email = Email::parse(&row.email).ok();
    check_password(new, email.as_ref()).map_err(|p| AccountsError::field("new_password", p))?;
    let hash = hash_password(new.to_owned()).await?;
    repo::set_password(conn, user, &hash).await?;
    repo::delete_auth_sessions_except(conn, user, Some(keep_session)).await?;
    Ok(())
}

pub struct SessionInfo {
    pub id: Uuid,
    /// The browser's User-Agent (`|device` names it).
    pub user_agent: String,
    pub ip: String,
    pub method: SignInMethod,
    pub last_seen_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub current: bool,
}

pub async fn sessions(
    conn: &mut PgConnection,
    user: UserId,
    current: Uuid,
) -> AccountsResult<Vec<SessionInfo>> {
    Ok(repo::auth_sessions_of(conn, user)
        .await?
        .into_iter()
        .map(|s| SessionInfo {
            current: s.id == current,
            id: s.id,
            user_agent: s.user_agent,
            ip: s.ip,
            method: s.method,
            last_seen_at: s.last_seen_at,
            created_at: s.created_at,
        })
        .collect())
}

/// When `user` last signed in.
pub async fn last_sign_in(
    conn: &mut PgConnection,
    user: UserId,
) -> AccountsResult<Option<OffsetDateTime>> {
    Ok(repo::last_sign_in(conn, user).await?)
}

/// Ends one of the user's own sessions.
pub async fn end_session(
    conn: &mut PgConnection,
    user: UserId,
    session: Uuid,
) -> AccountsResult<()> {
    if repo::delete_auth_session(conn, user, session).await? {
        Ok(())
    } else {
        Err(AccountsError::NotFound)
    }
}

pub async fn end_other_sessions(
    conn: &mut PgConnection,
    user: UserId,
    keep: Uuid,
) -> AccountsResult<u64> {
    Ok(repo::delete_auth_sessions_except(conn, user, Some(keep)).await?)
}

/// Self-deletion after re-entering the password (or, for an account that
/// only signs in with Google, the email address). Takes a plain connection:
/// the guess is counted on its own, the deletion is one transaction.
pub async fn delete_account(
    conn: &mut PgConnection,
    config: &Config,
    user: UserId,
    confirmation: &str,
) -> AccountsResult<()> {
    let row = repo::user_by_id(conn, user)
        .await?
        .ok_or(AccountsError::NotFound)?;
    let key = user.to_string();
    reserve(conn, limits(config).password_checks_per_account, &key).await?;
    let confirmed = match &row.password_hash {
        Some(_) => verify_password(confirmation.to_owned(), row.password_hash.clone()).await?,
        None => confirmation.trim().eq_ignore_ascii_case(&row.email),
    };
    if !confirmed {
        return Err(AccountsError::field(
            "confirmation",
            if row.password_hash.is_some() {
                Problem::WrongPassword
            } else {
                Problem::EmailMismatch
            },
        ));
    }
    limits(config)
        .password_checks_per_account
        .release(conn, &key)
        .await?;
    let mut tx = conn.begin().await?;
    repo::delete_auth_sessions_except(&mut tx, user, None).await?;
    repo::scrub_user(&mut tx, user).await?;
    repo::audit(
        &mut tx,
        Some(user),
        "account.self_delete",
        "user",
        &user.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mail_template_carries_its_subject_on_its_first_line() {
        let rendered = [
            VerifyMail {
                nickname: "n",
                link: "l",
            }
            .render()
            .unwrap(),
            ResetMail {
                nickname: "n",
                link: "l",
            }
            .render()
            .unwrap(),
            SignupExistingMail {
                nickname: "n",
                login_link: "l",
                reset_link: "r",
            }
            .render()
            .unwrap(),
        ];
        for text in rendered {
            let mail = Mail::compose("a@example.com", &text);
            assert!(mail.subject.starts_with("[Weaverse] "), "{text}");
            assert!(mail.text.starts_with("n님"), "{}", mail.text);
        }
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(hash_a, token_hash(&a));
        assert!(
            !hash_a
                .windows(a.len().min(8))
                .any(|w| w == &a.as_bytes()[..8])
        );
    }
}
