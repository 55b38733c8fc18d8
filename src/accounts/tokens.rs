//! Personal access tokens: how another program (a script, an HR system, a
//! mobile app) acts as a person on the JSON API. Named by their owner,
//! scoped to reading or to reading and writing, expiring, revocable; the
//! secret is shown once and only its SHA-256 is kept.

use std::{
    sync::{Arc, LazyLock},
    time::Duration,
};

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::{
    accounts::{
        CurrentUser, Role,
        error::{AccountsError, AccountsResult, Invalid, Problem},
        service::{new_token, token_hash},
    },
    ids::{ApiTokenId, UserId},
    infra::cache::Cache,
};

crate::text_enum!(
    /// What a token may do.
    TokenScope {
        Read => "read",
        ReadWrite => "read_write",
    }
);

impl TokenScope {
    pub fn can_write(&self) -> bool {
        *self == Self::ReadWrite
    }
}

/// The lifetimes a token may be given, in days.
pub const LIFETIME_DAYS: [i32; 4] = [7, 30, 90, 365];

/// How many live (neither expired nor revoked) tokens one person may hold.
pub const MAX_LIVE: i64 = 20;

/// A token's name: 1 to 40 characters on one line (inner spaces folded).
const NAME_CHARS: usize = 40;

/// What every secret starts with, so a leaked one is recognisable (secret
/// scanners, logs).
pub const SECRET_PREFIX: &str = "wvs_";

/// A token as its owner sees it in the list (never its secret).
#[derive(Clone, Debug)]
pub struct Token {
    pub id: ApiTokenId,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}

impl Token {
    /// Neither revoked nor past its expiry at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// Who a request with a valid token acts as: the token's owner, as the
/// services know a person (`auth_session` is the token's id: a program's
/// "session" is its token), and what the token may do.
#[derive(Clone, Debug)]
pub struct Caller {
    pub person: CurrentUser,
    pub scope: TokenScope,
    pub token: ApiTokenId,
}

impl Caller {
    pub fn user(&self) -> UserId {
        self.person.id
    }
}

/// A new token's fields as typed.
pub struct NewToken<'a> {
    pub name: &'a str,
    pub scope: Option<TokenScope>,
    pub days: Option<i32>,
}

/// Creates a token for `user`; the secret in the answer is never stored.
/// The count of live tokens and the insert are decided under the owner's
/// lock, so parallel requests cannot pass [`MAX_LIVE`].
pub async fn create(
    conn: &mut PgConnection,
    user: UserId,
    new: NewToken<'_>,
) -> AccountsResult<(Token, String)> {
    let mut invalid = Invalid::default();
    let name = new.name.split_whitespace().collect::<Vec<_>>().join(" ");
    match name.chars().count() {
        0 => invalid.push("name", Problem::TokenNameMissing),
        n if n > NAME_CHARS => invalid.push("name", Problem::TokenNameLength),
        _ if !crate::text::single_line(&name) || name.chars().any(char::is_control) => {
            invalid.push("name", Problem::TokenNameChars)
        }
        _ => {}
    }
    if new.scope.is_none() {
        invalid.push("scope", Problem::TokenScopeNotChosen);
    }
    let days = new.days.filter(|d| LIFETIME_DAYS.contains(d));
    if days.is_none() {
        invalid.push("days", Problem::TokenLifetime);
    }
    let (Some(scope), Some(days)) = (new.scope, days) else {
        return Err(AccountsError::Invalid(invalid));
    };
    if !invalid.is_empty() {
        return Err(AccountsError::Invalid(invalid));
    }
    let mut tx = sqlx::Acquire::begin(conn).await?;
    crate::infra::db::lock(&mut tx, "api_tokens", &user.to_string()).await?;
    let live = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM api_tokens
            WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()"#,
        user.0
    )
    .fetch_one(&mut *tx)
    .await?;
    if live >= MAX_LIVE {
        return Err(AccountsError::field("name", Problem::TooManyTokens));
    }
    let (raw, _) = new_token();
    let secret = format!("{SECRET_PREFIX}{raw}");
    let token = sqlx::query_as!(
        Token,
        r#"INSERT INTO api_tokens (user_id, name, scope, secret_hash, expires_at)
           VALUES ($1, $2, $3, $4, now() + make_interval(days => $5))
           RETURNING id AS "id: ApiTokenId", name, scope AS "scope: TokenScope",
                     created_at, expires_at, revoked_at, last_used_at"#,
        user.0,
        name,
        scope.as_str(),
        token_hash(&secret),
        days,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((token, secret))
}

/// Every token of `user`, newest first.
pub async fn list(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<Token>> {
    sqlx::query_as!(
        Token,
        r#"SELECT id AS "id: ApiTokenId", name, scope AS "scope: TokenScope",
                  created_at, expires_at, revoked_at, last_used_at
             FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id"#,
        user.0
    )
    .fetch_all(conn)
    .await
}

/// Revokes one of `user`'s tokens from now on. Someone else's token, or
/// one that does not exist, is `NotFound`; revoking twice keeps the first
/// time.
pub async fn revoke(conn: &mut PgConnection, user: UserId, id: ApiTokenId) -> AccountsResult<()> {
    let found = sqlx::query_scalar!(
        r#"UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
            WHERE id = $1 AND user_id = $2 RETURNING id"#,
        id.0,
        user.0
    )
    .fetch_optional(conn)
    .await?;
    // At once here, within KEPT_TTL elsewhere.
    crate::accounts::session::identities_changed();
    found.map(|_| ()).ok_or(AccountsError::NotFound)
}

/// How long a token's owner is kept in this process after a lookup. Every
/// write to an account or a token here drops them at once (with the kept
/// identities, `session::identities_changed`); another instance sees a
/// revoked token or a changed account within this time.
const KEPT_TTL: Duration = Duration::from_secs(10);

/// Looked-up tokens by the hex of their hash: the caller, and when the
/// token expires (checked on every use).
static KEPT: LazyLock<Cache<(Caller, OffsetDateTime)>> =
    LazyLock::new(|| Cache::bounded(KEPT_TTL, 10_000));

/// Drops the kept tokens (an account or a token changed, here or on
/// another instance).
pub(crate) fn forget_kept() {
    KEPT.invalidate();
}

/// Who `secret` acts as: a live token of an account that is not deleted.
/// Kept a few seconds ([`KEPT_TTL`]); a lookup is one statement, which
/// also notes when the token was last used (at most once a minute, so a
/// busy program does not write on every request).
pub async fn authenticate(db: &sqlx::PgPool, secret: &str) -> sqlx::Result<Option<Caller>> {
    if !secret.starts_with(SECRET_PREFIX) || secret.len() > 100 {
        return Ok(None);
    }
    let hash = token_hash(secret);
    let key = hex::encode(&hash);
    let now = OffsetDateTime::now_utc();
    if let Some(kept) = KEPT.get(&key) {
        return Ok((kept.1 > now).then(|| kept.0.clone()));
    }
    let generation = KEPT.generation();
    // A connection only on a miss: taking one back costs a round trip.
    let mut conn = db.acquire().await?;
    let found = sqlx::query!(
        r#"WITH found AS (
               SELECT t.id, t.user_id, t.scope, t.last_used_at, t.expires_at, u.role, u.email,
                      u.nickname, u.email_verified_at IS NOT NULL AS verified, u.avatar_image_id
                 FROM api_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.secret_hash = $1 AND t.revoked_at IS NULL
                  AND t.expires_at > now() AND u.deleted_at IS NULL),
           noted AS (
               UPDATE api_tokens SET last_used_at = now()
                WHERE id = (SELECT id FROM found
                             WHERE last_used_at IS NULL
                                OR last_used_at < now() - interval '1 minute'))
           SELECT user_id AS "user: UserId", role AS "role: Role", email, nickname,
                  verified AS "verified!", avatar_image_id, expires_at,
                  scope AS "scope: TokenScope", id AS "token: ApiTokenId"
             FROM found"#,
        hash
    )
    .fetch_optional(&mut *conn)
    .await?;
    drop(conn);
    let Some(r) = found else {
        return Ok(None);
    };
    let caller = Caller {
        person: CurrentUser {
            id: r.user,
            email: r.email,
            nickname: r.nickname,
            role: r.role,
            verified: r.verified,
            auth_session: r.token.0,
            avatar: r.avatar_image_id,
        },
        scope: r.scope,
        token: r.token,
    };
    KEPT.put(key, generation, Arc::new((caller.clone(), r.expires_at)));
    Ok(Some(caller))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_only_read_write_writes() {
        for scope in TokenScope::ALL {
            assert_eq!(TokenScope::parse(scope.as_str()), Some(*scope));
        }
        assert!(TokenScope::ReadWrite.can_write() && !TokenScope::Read.can_write());
        assert_eq!(TokenScope::parse("admin"), None);
    }

    async fn person(conn: &mut PgConnection, email: &str) -> UserId {
        UserId(
            sqlx::query_scalar(
                "INSERT INTO users (email, nickname) VALUES ($1, 'api') RETURNING id",
            )
            .bind(email)
            .fetch_one(conn)
            .await
            .unwrap(),
        )
    }

    fn new(name: &str, scope: TokenScope, days: i32) -> NewToken<'_> {
        NewToken {
            name,
            scope: Some(scope),
            days: Some(days),
        }
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn a_token_acts_as_its_owner_until_revoked_expired_or_the_account_deleted(
        db: sqlx::PgPool,
    ) {
        let mut conn = db.acquire().await.unwrap();
        let user = person(&mut conn, "owner@example.com").await;
        let (token, secret) = create(&mut conn, user, new("  HR   sync ", TokenScope::Read, 30))
            .await
            .unwrap();
        assert_eq!(token.name, "HR sync");
        assert!(secret.starts_with(SECRET_PREFIX) && secret.len() > 40);
        let days = (token.expires_at - token.created_at).whole_days();
        assert_eq!(days, 30);
        let caller = authenticate(&db, &secret).await.unwrap().unwrap();
        assert_eq!(
            (caller.user(), caller.scope, caller.token),
            (user, TokenScope::Read, token.id)
        );
        assert_eq!(caller.person.role, Role::Student);
        assert_eq!(caller.person.email, "owner@example.com");
        // Its use is noted; the secret itself is nowhere in the table.
        let listed = list(&mut conn, user).await.unwrap();
        assert!(listed[0].last_used_at.is_some());
        let (plain, hashed): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE secret_hash = convert_to($1, 'UTF8')),
                    count(*) FILTER (WHERE secret_hash = sha256(convert_to($1, 'UTF8')))
               FROM api_tokens",
        )
        .bind(&secret)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert_eq!((plain, hashed), (0, 1));
        // A wrong secret, or one without the prefix, is no one.
        assert!(
            authenticate(&db, &format!("{secret}x"))
                .await
                .unwrap()
                .is_none()
        );
        assert!(authenticate(&db, "Bearer").await.unwrap().is_none());

        // Someone else cannot revoke it; its owner can, once and for good.
        let other = person(&mut conn, "other@example.com").await;
        assert!(matches!(
            revoke(&mut conn, other, token.id).await,
            Err(AccountsError::NotFound)
        ));
        revoke(&mut conn, user, token.id).await.unwrap();
        revoke(&mut conn, user, token.id).await.unwrap();
        assert!(authenticate(&db, &secret).await.unwrap().is_none());

        // Expired: its end is behind the database's clock.
        let (expiring, secret) = create(&mut conn, user, new("nightly", TokenScope::ReadWrite, 7))
            .await
            .unwrap();
        assert!(authenticate(&db, &secret).await.unwrap().is_some());
        sqlx::query(
            "UPDATE api_tokens SET created_at = now() - interval '8 days',
                    expires_at = now() - interval '1 second' WHERE id = $1",
        )
        .bind(expiring.id.0)
        .execute(&mut *conn)
        .await
        .unwrap();
        // The kept lookup holds the token's real end, checked on each use;
        // this test moves the end instead of the clock, so it drops it.
        forget_kept();
        assert!(authenticate(&db, &secret).await.unwrap().is_none());

        // A deleted account's tokens stop with it.
        let (_, secret) = create(&mut conn, user, new("app", TokenScope::Read, 90))
            .await
            .unwrap();
        assert!(authenticate(&db, &secret).await.unwrap().is_some());
        crate::accounts::admin::set_deleted(&mut conn, other, user, true)
            .await
            .unwrap();
        assert!(authenticate(&db, &secret).await.unwrap().is_none());
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn a_kept_token_still_ends_at_its_expiry_and_at_once_when_revoked(db: sqlx::PgPool) {
        let mut conn = db.acquire().await.unwrap();
        let user = person(&mut conn, "kept@example.com").await;
        let (token, secret) = create(&mut conn, user, new("kept", TokenScope::Read, 7))
            .await
            .unwrap();
        assert!(authenticate(&db, &secret).await.unwrap().is_some());
        // Kept: the next lookup asks nothing of the database.
        sqlx::query("DELETE FROM api_tokens")
            .execute(&mut *conn)
            .await
            .unwrap();
        assert!(authenticate(&db, &secret).await.unwrap().is_some());
        // A kept token past its end is refused without asking.
        let hash = hex::encode(token_hash(&secret));
        let (caller, _) = KEPT.get(&hash).unwrap().as_ref().clone();
        KEPT.put(
            hash,
            KEPT.generation(),
            Arc::new((
                caller,
                OffsetDateTime::now_utc() - time::Duration::seconds(1),
            )),
        );
        assert!(authenticate(&db, &secret).await.unwrap().is_none());
        // Revoking drops what this instance kept.
        let (token2, secret2) = create(&mut conn, user, new("kept 2", TokenScope::Read, 7))
            .await
            .unwrap();
        assert!(authenticate(&db, &secret2).await.unwrap().is_some());
        revoke(&mut conn, user, token2.id).await.unwrap();
        assert!(authenticate(&db, &secret2).await.unwrap().is_none());
        assert_ne!(token.id, token2.id);
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn a_token_needs_a_name_a_scope_and_an_offered_lifetime_and_live_ones_are_bounded(
        db: sqlx::PgPool,
    ) {
        let mut conn = db.acquire().await.unwrap();
        let user = person(&mut conn, "many@example.com").await;
        let problems = |r: AccountsResult<(Token, String)>| match r {
            Err(AccountsError::Invalid(invalid)) => invalid.0,
            other => panic!("expected a refusal, got {:?}", other.map(|(t, _)| t)),
        };
        assert_eq!(
            problems(create(&mut conn, user, new("   ", TokenScope::Read, 7)).await),
            vec![("name", Problem::TokenNameMissing)]
        );
        assert_eq!(
            problems(create(&mut conn, user, new(&"가".repeat(41), TokenScope::Read, 7)).await),
            vec![("name", Problem::TokenNameLength)]
        );
        assert_eq!(
            problems(create(&mut conn, user, new("a\u{200b}b", TokenScope::Read, 7)).await),
            vec![("name", Problem::TokenNameChars)]
        );
        assert_eq!(
            problems(create(&mut conn, user, new("ok", TokenScope::Read, 8)).await),
            vec![("days", Problem::TokenLifetime)]
        );
        let unscoped = NewToken {
            name: "ok",
            scope: None,
            days: Some(7),
        };
        assert_eq!(
            problems(create(&mut conn, user, unscoped).await),
            vec![("scope", Problem::TokenScopeNotChosen)]
        );
        assert!(list(&mut conn, user).await.unwrap().is_empty());

        for i in 0..MAX_LIVE {
            create(&mut conn, user, new(&format!("t{i}"), TokenScope::Read, 7))
                .await
                .unwrap();
        }
        assert_eq!(
            problems(create(&mut conn, user, new("one more", TokenScope::Read, 7)).await),
            vec![("name", Problem::TooManyTokens)]
        );
        // A revoked one frees its place.
        let first = list(&mut conn, user).await.unwrap()[0].id;
        revoke(&mut conn, user, first).await.unwrap();
        create(&mut conn, user, new("one more", TokenScope::Read, 7))
            .await
            .unwrap();
    }
}
