//! What an outside identity (Google, Kakao, Naver) may do to accounts here.
//!
//! - Signing in finds the account by the provider's subject. Failing that,
//!   it links to the live account with the same email only when the
//!   provider verified that email; failing that, it makes a new learner.
//! - An account whose email was never proven is taken over by a provider
//!   that proves it: its password, its sessions and its other identities
//!   end, since any of them may belong to whoever typed the address (ADR
//!   0006).
//! - A signed-in person links and unlinks providers on their account page;
//!   the last way in (a password or one identity) cannot be unlinked.

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::{
    accounts::{
        error::{AccountsError, AccountsResult, SignInProblem},
        model::{Email, Nickname, Role},
        providers::{Identity, Provider},
        repo::{self, NewUser},
    },
    ids::UserId,
};

/// The account for this identity; `fallback_nickname` names a new account
/// when neither the provider's name nor the email's local part is a usable
/// nickname.
pub async fn account_for(
    conn: &mut PgConnection,
    identity: &Identity,
    fallback_nickname: &str,
) -> AccountsResult<UserId> {
    let provider = identity.provider;
    let problem = |p| AccountsError::SignIn(provider, p);
    if let Some(user) = repo::user_by_identity(conn, provider, &identity.subject).await? {
        if user.deleted_at.is_some() {
            return Err(AccountsError::AccountClosed);
        }
        return Ok(user.id);
    }
    let email = identity
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or(problem(SignInProblem::NoEmail))?;
    if let Some(existing) = repo::live_user_by_email(conn, &email).await? {
        if !identity.email_verified {
            return Err(problem(SignInProblem::EmailNotLinkable));
        }
        if existing.email_verified_at.is_none() {
            // Someone signed up with this address and never proved it; the
            // provider proves it now and takes the account over.
            repo::clear_password(conn, existing.id).await?;
            repo::delete_auth_sessions_except(conn, existing.id, None).await?;
            let unlinked = repo::delete_identities(conn, existing.id).await?;
            repo::mark_verified(conn, existing.id).await?;
            repo::audit(
                conn,
                Some(existing.id),
                "account.provider_takeover",
                "user",
                &existing.id.to_string(),
                serde_json::json!({
                    "reason": "email never verified",
                    "provider": provider.as_str(),
                    "identities_unlinked": unlinked,
                }),
            )
            .await?;
        }
        if !repo::insert_identity(conn, existing.id, provider, &identity.subject).await? {
            // The account holds another identity of this provider.
            return Err(problem(SignInProblem::EmailNotLinkable));
        }
        return Ok(existing.id);
    }
    let nickname = identity
        .name
        .as_deref()
        .and_then(|n| Nickname::parse(&n.chars().take(20).collect::<String>()).ok())
        .or_else(|| Nickname::parse(&email.local_part().chars().take(20).collect::<String>()).ok())
        .map(|n| n.as_str().to_string())
        .unwrap_or_else(|| fallback_nickname.to_string());
    // An account made with this email since we looked is not taken over
    // here: the person signs in again and the usual linking rules apply.
    let user = repo::insert_user_unless_registered(
        conn,
        NewUser {
            email: email.as_str(),
            password_hash: None,
            nickname: &nickname,
            role: Role::Student,
            verified: identity.email_verified,
        },
    )
    .await?
    .ok_or(problem(SignInProblem::EmailNotLinkable))?;
    if !repo::insert_identity(conn, user, provider, &identity.subject).await? {
        // The same sign-in finished twice at once; the other one won.
        return Err(problem(SignInProblem::Replayed));
    }
    Ok(user)
}

/// Links an identity to a signed-in account. The person proved both, so
/// the emails need not match.
pub async fn link(
    conn: &mut PgConnection,
    user: UserId,
    identity: &Identity,
) -> AccountsResult<()> {
    let provider = identity.provider;
    if repo::insert_identity(conn, user, provider, &identity.subject).await? {
        audited(conn, user, "account.identity_linked", provider).await?;
        return Ok(());
    }
    let (holder, held) = repo::identity_holders(conn, user, provider, &identity.subject).await?;
    match (holder, held) {
        // Linked already: the same answer as a new link.
        (Some(holder), _) if holder == user => Ok(()),
        (Some(_), _) => Err(AccountsError::SignIn(
            provider,
            SignInProblem::LinkedElsewhere,
        )),
        _ => Err(AccountsError::SignIn(
            provider,
            SignInProblem::AlreadyLinked,
        )),
    }
}

/// Unlinks a provider, unless it is the account's last way in. The account
/// row is locked first, so two unlinks at once cannot both leave.
pub async fn unlink(
    conn: &mut PgConnection,
    user: UserId,
    provider: Provider,
) -> AccountsResult<()> {
    let (has_password, linked) = repo::lock_ways_in(conn, user)
        .await?
        .ok_or(AccountsError::NotFound)?;
    if !linked.contains(&provider) {
        return Err(AccountsError::SignIn(provider, SignInProblem::NotLinked));
    }
    if !has_password && linked.len() == 1 {
        return Err(AccountsError::SignIn(provider, SignInProblem::LastWayIn));
    }
    repo::delete_identity(conn, user, provider).await?;
    audited(conn, user, "account.identity_unlinked", provider).await?;
    Ok(())
}

/// The audit line for a link or an unlink of `provider` on `user`.
async fn audited(
    conn: &mut PgConnection,
    user: UserId,
    action: &str,
    provider: Provider,
) -> sqlx::Result<()> {
    repo::audit(
        conn,
        Some(user),
        action,
        "user",
        &user.to_string(),
        serde_json::json!({ "provider": provider.as_str() }),
    )
    .await
}

/// One line of the account page's "ways to sign in".
#[derive(Clone, Debug)]
pub struct Linked {
    pub provider: Provider,
    pub linked_at: OffsetDateTime,
}

pub async fn linked(conn: &mut PgConnection, user: UserId) -> AccountsResult<Vec<Linked>> {
    Ok(repo::identities_of(conn, user)
        .await?
        .into_iter()
        .map(|(provider, linked_at)| Linked {
            provider,
            linked_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(provider: Provider, subject: &str, email: &str, verified: bool) -> Identity {
        Identity {
            provider,
            subject: subject.into(),
            email: Some(email.into()),
            email_verified: verified,
            name: None,
        }
    }

    /// The sign-in refusal a result carries, if it is one.
    fn refusal<T>(result: AccountsResult<T>) -> Option<(Provider, SignInProblem)> {
        match result {
            Err(AccountsError::SignIn(provider, problem)) => Some((provider, problem)),
            _ => None,
        }
    }

    async fn password_account(conn: &mut PgConnection, email: &str, verified: bool) -> UserId {
        repo::insert_user_unless_registered(
            conn,
            NewUser {
                email,
                password_hash: Some("not-a-real-hash"),
                nickname: "학습자",
                role: Role::Student,
                verified,
            },
        )
        .await
        .unwrap()
        .unwrap()
    }

    /// Whether `user` has a password, and the providers linked to it.
    async fn ways_in(conn: &mut PgConnection, user: UserId) -> (bool, Vec<Provider>) {
        repo::lock_ways_in(conn, user).await.unwrap().unwrap()
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn only_a_verified_email_links_and_a_takeover_ends_the_other_identities(
        db: sqlx::PgPool,
    ) {
        let mut conn = db.acquire().await.unwrap();
        let proven = password_account(&mut conn, "proven@example.com", true).await;
        // Unverified at the provider: refused, nothing linked.
        let naver = identity(Provider::Naver, "n-1", "proven@example.com", false);
        let refused = account_for(&mut conn, &naver, "학습자").await;
        assert_eq!(
            refusal(refused),
            Some((Provider::Naver, SignInProblem::EmailNotLinkable))
        );
        // Verified: linked to the proven account, its password kept.
        let kakao = identity(Provider::Kakao, "k-1", "proven@example.com", true);
        assert_eq!(
            account_for(&mut conn, &kakao, "학습자").await.unwrap(),
            proven
        );
        let (has_password, linked) = ways_in(&mut conn, proven).await;
        assert!(has_password);
        assert_eq!(linked, [Provider::Kakao]);

        // An address nobody proved, holding a Naver identity, is taken over
        // by a provider that proves it: password and Naver both end.
        let naver = identity(Provider::Naver, "n-2", "unproven@example.com", false);
        let unproven = account_for(&mut conn, &naver, "학습자").await.unwrap();
        let google = identity(Provider::Google, "g-2", "unproven@example.com", true);
        assert_eq!(
            account_for(&mut conn, &google, "학습자").await.unwrap(),
            unproven
        );
        let (has_password, linked) = ways_in(&mut conn, unproven).await;
        assert!(!has_password);
        assert_eq!(linked, [Provider::Google]);
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn the_last_way_in_cannot_be_unlinked(db: sqlx::PgPool) {
        let mut conn = db.acquire().await.unwrap();
        let kakao = identity(Provider::Kakao, "k-9", "only@example.com", true);
        let user = account_for(&mut conn, &kakao, "학습자").await.unwrap();
        let last = unlink(&mut conn, user, Provider::Kakao).await;
        assert_eq!(
            refusal(last),
            Some((Provider::Kakao, SignInProblem::LastWayIn))
        );
        let naver = identity(Provider::Naver, "n-9", "x@naver.com", false);
        link(&mut conn, user, &naver).await.unwrap();
        // The same identity again is the same answer; another account's is refused.
        link(&mut conn, user, &naver).await.unwrap();
        let other = password_account(&mut conn, "other@example.com", true).await;
        let taken = link(&mut conn, other, &naver).await;
        assert_eq!(
            refusal(taken),
            Some((Provider::Naver, SignInProblem::LinkedElsewhere))
        );
        unlink(&mut conn, user, Provider::Kakao).await.unwrap();
        assert_eq!(linked(&mut conn, user).await.unwrap().len(), 1);
        let not_linked = unlink(&mut conn, user, Provider::Kakao).await;
        assert_eq!(
            refusal(not_linked),
            Some((Provider::Kakao, SignInProblem::NotLinked))
        );
    }
}
