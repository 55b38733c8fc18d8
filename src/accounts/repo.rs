//! Accounts SQL.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    accounts::{
        model::{Email, Role, SignInMethod},
        providers::Provider,
        session,
    },
    ids::UserId,
};

/// A user as stored.
#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    pub role: Role,
    pub introduction: String,
    pub phone_enc: Option<Vec<u8>>,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
    pub scrubbed_at: Option<OffsetDateTime>,
}

pub async fn user_by_id(conn: &mut PgConnection, id: UserId) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id AS "id: UserId", email, nickname, role AS "role: Role", introduction, phone_enc,
                  password_hash, email_verified_at, created_at, deleted_at, scrubbed_at
             FROM users WHERE id = $1"#,
        id.0
    )
    .fetch_optional(conn)
    .await
}

/// A live (not deleted) account by email.
pub async fn live_user_by_email(
    conn: &mut PgConnection,
    email: &Email,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id AS "id: UserId", email, nickname, role AS "role: Role", introduction, phone_enc,
                  password_hash, email_verified_at, created_at, deleted_at, scrubbed_at
             FROM users WHERE email = $1 AND deleted_at IS NULL"#,
        email.as_str()
    )
    .fetch_optional(conn)
    .await
}

/// The account an outside identity is linked to.
pub async fn user_by_identity(
    conn: &mut PgConnection,
    provider: Provider,
    subject: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT u.id AS "id: UserId", u.email, u.nickname, u.role AS "role: Role", u.introduction,
                  u.phone_enc, u.password_hash, u.email_verified_at, u.created_at, u.deleted_at,
                  u.scrubbed_at
             FROM user_identities i JOIN users u ON u.id = i.user_id
            WHERE i.provider = $1 AND i.subject = $2"#,
        provider.as_str(),
        subject
    )
    .fetch_optional(conn)
    .await
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub nickname: &'a str,
    pub role: Role,
    pub verified: bool,
}

/// Inserts an account unless its email is registered already (`None`).
/// One statement, so two sign-ups racing for an address cannot both win and
/// the loser's transaction is not aborted by a unique violation.
pub async fn insert_user_unless_registered(
    conn: &mut PgConnection,
    user: NewUser<'_>,
) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"INSERT INTO users (email, password_hash, nickname, role, email_verified_at)
           VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN now() END)
           ON CONFLICT (email) DO NOTHING
           RETURNING id AS "id: UserId""#,
        user.email,
        user.password_hash,
        user.nickname,
        user.role.as_str(),
        user.verified,
    )
    .fetch_optional(conn)
    .await
}

/// Inserts an admin or turns the account with that email into one.
/// Returns the id and whether a new row was made.
pub async fn upsert_admin(
    conn: &mut PgConnection,
    email: &Email,
    password_hash: &str,
    nickname: &str,
) -> sqlx::Result<(UserId, bool)> {
    let row = sqlx::query!(
        r#"
        INSERT INTO users (email, password_hash, nickname, role, email_verified_at)
        VALUES ($1, $2, $3, 'admin', now())
        ON CONFLICT (email) DO UPDATE
           SET role = 'admin',
               password_hash = EXCLUDED.password_hash,
               deleted_at = NULL,
               email_verified_at = coalesce(users.email_verified_at, now()),
               updated_at = now()
        RETURNING id, (xmax = 0) AS "inserted!"
        "#,
        email.as_str(),
        password_hash,
        nickname,
    )
    .fetch_one(conn)
    .await?;
    session::identities_changed();
    Ok((UserId(row.id), row.inserted))
}

/// What every signed-in request needs about its person.
#[derive(Clone, Debug)]
pub struct SessionUserRow {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    pub role: Role,
    pub verified: bool,
    pub stale: bool,
    pub avatar_image_id: Option<Uuid>,
}

pub async fn set_avatar(
    conn: &mut PgConnection,
    user: UserId,
    image: Option<Uuid>,
) -> sqlx::Result<Option<Uuid>> {
    let before = sqlx::query_scalar!(
        "SELECT avatar_image_id FROM users WHERE id = $1 FOR UPDATE",
        user.0
    )
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    sqlx::query!(
        "UPDATE users SET avatar_image_id = $2 WHERE id = $1",
        user.0,
        image
    )
    .execute(conn)
    .await?;
    session::identities_changed();
    Ok(before)
}

/// The live user behind a live auth session, or nothing (ended or deleted).
pub async fn session_user(
    conn: &mut PgConnection,
    auth_session: Uuid,
    user: UserId,
) -> sqlx::Result<Option<SessionUserRow>> {
    sqlx::query_as!(
        SessionUserRow,
        r#"SELECT u.id AS "id: UserId", u.email, u.nickname, u.role AS "role: Role",
                  u.email_verified_at IS NOT NULL AS "verified!",
                  a.last_seen_at < now() - interval '1 minute' AS "stale!",
                  u.avatar_image_id
             FROM auth_sessions a JOIN users u ON u.id = a.user_id
            WHERE a.id = $1 AND a.user_id = $2 AND u.deleted_at IS NULL"#,
        auth_session,
        user.0
    )
    .fetch_optional(conn)
    .await
}

pub async fn touch_auth_session(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE auth_sessions SET last_seen_at = now() WHERE id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_auth_session(
    conn: &mut PgConnection,
    user: UserId,
    method: SignInMethod,
    ip: &str,
    user_agent: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query!(
        "UPDATE users SET last_sign_in_at = now() WHERE id = $1",
        user.0
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar!(
        "INSERT INTO auth_sessions (user_id, method, ip, user_agent) VALUES ($1, $2, $3, left($4, 300)) RETURNING id",
        user.0,
        method.as_str(),
        ip,
        user_agent,
    )
    .fetch_one(conn)
    .await
}

pub async fn last_sign_in(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Option<OffsetDateTime>> {
    Ok(
        sqlx::query_scalar!("SELECT last_sign_in_at FROM users WHERE id = $1", user.0)
            .fetch_optional(conn)
            .await?
            .flatten(),
    )
}

#[derive(Clone, Debug)]
pub struct AuthSessionRow {
    pub id: Uuid,
    pub method: SignInMethod,
    pub ip: String,
    pub user_agent: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
}

pub async fn auth_sessions_of(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<AuthSessionRow>> {
    sqlx::query_as!(
        AuthSessionRow,
        r#"SELECT id, method AS "method: SignInMethod", ip, user_agent, created_at, last_seen_at
             FROM auth_sessions WHERE user_id = $1 ORDER BY last_seen_at DESC"#,
        user.0
    )
    .fetch_all(conn)
    .await
}

pub async fn delete_auth_session(
    conn: &mut PgConnection,
    user: UserId,
    id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "DELETE FROM auth_sessions WHERE id = $1 AND user_id = $2",
        id,
        user.0
    )
    .execute(conn)
    .await?;
    session::identities_changed();
    Ok(done.rows_affected() == 1)
}

/// Ends every session of `user` but `keep`.
pub async fn delete_auth_sessions_except(
    conn: &mut PgConnection,
    user: UserId,
    keep: Option<Uuid>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "DELETE FROM auth_sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2",
        user.0,
        keep
    )
    .execute(conn)
    .await?;
    session::identities_changed();
    Ok(done.rows_affected())
}

pub async fn update_profile(
    conn: &mut PgConnection,
    user: UserId,
    nickname: &str,
    introduction: &str,
    phone_enc: Option<&[u8]>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET nickname = $2, introduction = $3, phone_enc = $4, updated_at = now() WHERE id = $1",
        user.0,
        nickname,
        introduction,
        phone_enc,
    )
    .execute(conn)
    .await?;
    session::identities_changed();
    Ok(())
}

pub async fn set_password(conn: &mut PgConnection, user: UserId, hash: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1",
        user.0,
        hash
    )
    .execute(conn)
    .await?;
    session::identities_changed();
    Ok(())
}

pub async fn mark_verified(conn: &mut PgConnection, user: UserId) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = $1",
        user.0
    )
    .execute(conn)
    .await?;
    session::identities_changed();
    Ok(())
}

/// Links an outside identity to an account, unless that identity or the
/// account's identity of that provider exists already (`false`). One
/// statement, so two links racing cannot both win.
pub async fn insert_identity(
    conn: &mut PgConnection,
    user: UserId,
    provider: Provider,
    subject: &str,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        "INSERT INTO user_identities (provider, subject, user_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        provider.as_str(),
        subject,
        user.0
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Who holds this identity, and which subject of this provider the account
/// holds, if any: what a refused link ran into.
pub async fn identity_holders(
    conn: &mut PgConnection,
    user: UserId,
    provider: Provider,
    subject: &str,
) -> sqlx::Result<(Option<UserId>, Option<String>)> {
    let row = sqlx::query!(
        r#"SELECT (SELECT user_id FROM user_identities WHERE provider = $2 AND subject = $3) AS "holder: UserId",
                  (SELECT subject FROM user_identities WHERE provider = $2 AND user_id = $1) AS "held""#,
        user.0,
        provider.as_str(),
        subject
    )
    .fetch_one(conn)
    .await?;
    Ok((row.holder, row.held))
}

/// An account's linked providers and when each was linked.
pub async fn identities_of(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<(Provider, OffsetDateTime)>> {
    let rows = sqlx::query!(
        r#"SELECT provider AS "provider: Provider", linked_at FROM user_identities
            WHERE user_id = $1 ORDER BY linked_at"#,
        user.0
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.provider, r.linked_at))
        .collect())
}

/// Locks the account's row and counts its ways in: a password, and each
/// linked identity. Unlinks in one account queue behind this lock.
pub async fn lock_ways_in(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Option<(bool, Vec<Provider>)>> {
    let Some(has_password) = sqlx::query_scalar!(
        r#"SELECT password_hash IS NOT NULL AS "has!" FROM users WHERE id = $1 FOR UPDATE"#,
        user.0
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let linked = identities_of(conn, user).await?;
    Ok(Some((
        has_password,
        linked.into_iter().map(|(p, _)| p).collect(),
    )))
}

pub async fn delete_identity(
    conn: &mut PgConnection,
    user: UserId,
    provider: Provider,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query!(
        "DELETE FROM user_identities WHERE user_id = $1 AND provider = $2",
        user.0,
        provider.as_str()
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(deleted > 0)
}

/// Unlinks every outside identity of an account (a takeover, a deletion).
pub async fn delete_identities(conn: &mut PgConnection, user: UserId) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!("DELETE FROM user_identities WHERE user_id = $1", user.0)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Spends a sign-in state: `false` when it was spent before.
pub async fn spend_sign_in_state(conn: &mut PgConnection, state_hash: &[u8]) -> sqlx::Result<bool> {
    let spent = sqlx::query!(
        "INSERT INTO sign_in_states_used (state_hash) VALUES ($1) ON CONFLICT DO NOTHING",
        state_hash
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(spent == 1)
}

pub async fn insert_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
    user: UserId,
    purpose: &str,
    ttl_secs: f64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO account_tokens (token_hash, user_id, purpose, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        token_hash,
        user.0,
        purpose,
        ttl_secs,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A token that is unused and unexpired, without using it.
pub async fn peek_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
    purpose: &str,
) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"SELECT t.user_id AS "user_id: UserId" FROM account_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL
              AND t.expires_at > now() AND u.deleted_at IS NULL"#,
        token_hash,
        purpose
    )
    .fetch_optional(conn)
    .await
}

/// Uses a token once: the first caller gets the user, every later one nothing.
pub async fn take_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
    purpose: &str,
) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"UPDATE account_tokens t SET used_at = now()
             FROM users u
            WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL
              AND t.expires_at > now() AND u.id = t.user_id AND u.deleted_at IS NULL
        RETURNING t.user_id AS "user_id: UserId""#,
        token_hash,
        purpose
    )
    .fetch_optional(conn)
    .await
}

/// Self-deletion: login blocked, personal fields scrubbed, the row kept for
/// the learning and payment records that point at it.
pub async fn scrub_user(conn: &mut PgConnection, user: UserId) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users
            SET deleted_at = now(), scrubbed_at = now(),
                email = 'deleted-' || id || '@deleted.invalid', nickname = '',
                introduction = '', phone_enc = NULL, password_hash = NULL,
                legal_name = NULL,
                updated_at = now()
          WHERE id = $1",
        user.0
    )
    .execute(&mut *conn)
    .await?;
    delete_identities(conn, user).await?;
    session::identities_changed();
    Ok(())
}

// ---- admin ----

#[derive(Clone, Debug)]
pub struct UserListRow {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    pub role: Role,
    pub verified: bool,
    pub created_at: OffsetDateTime,
    pub deleted: bool,
    pub total: i64,
    pub avatar_image_id: Option<Uuid>,
}

impl UserListRow {
    /// The profile picture's 48-pixel address.
    pub fn avatar(&self) -> Option<String> {
        self.avatar_image_id
            .map(|id| crate::web::routes::image_url(id, 48))
    }
}

/// Which people the admin's list shows.
pub struct UserFilter<'a> {
    /// A `LIKE` pattern over email and nickname.
    pub pattern: Option<&'a str>,
    pub role: Option<Role>,
    pub include_deleted: bool,
    /// Signed up in `[joined_from, joined_before)`.
    pub joined_from: Option<OffsetDateTime>,
    pub joined_before: Option<OffsetDateTime>,
    /// With a session active in the last five minutes.
    pub online: bool,
    /// After this one in the list's order (a cursor).
    pub after: Option<(OffsetDateTime, UserId)>,
}

pub async fn search_users(
    conn: &mut PgConnection,
    filter: &UserFilter<'_>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<UserListRow>> {
    sqlx::query_as!(
        UserListRow,
        r#"SELECT id AS "id: UserId", email, nickname, role AS "role: Role",
                  email_verified_at IS NOT NULL AS "verified!", created_at,
                  deleted_at IS NOT NULL AS "deleted!", count(*) OVER () AS "total!",
                  avatar_image_id
             FROM users
            WHERE ($1::text IS NULL OR (email || ' ' || nickname) ILIKE $1)
              AND ($2::text IS NULL OR role = $2)
              AND ($3 OR deleted_at IS NULL)
              AND ($6::timestamptz IS NULL OR created_at >= $6)
              AND ($7::timestamptz IS NULL OR created_at < $7)
              AND (NOT $8 OR EXISTS (SELECT 1 FROM auth_sessions s WHERE s.user_id = users.id
                                        AND s.last_seen_at > now() - interval '5 minutes'))
              AND ($9::timestamptz IS NULL OR created_at < $9 OR (created_at = $9 AND id > $10))
            ORDER BY created_at DESC, id
            LIMIT $4 OFFSET $5"#,
        filter.pattern,
        filter.role.map(|r| r.as_str()),
        filter.include_deleted,
        limit,
        offset,
        filter.joined_from,
        filter.joined_before,
        filter.online,
        filter.after.map(|(at, _)| at),
        filter.after.map(|(_, id)| id.0),
    )
    .fetch_all(conn)
    .await
}

pub async fn admin_update_user(
    conn: &mut PgConnection,
    user: UserId,
    nickname: &str,
    role: Role,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE users SET nickname = $2, role = $3, updated_at = now() WHERE id = $1",
        user.0,
        nickname,
        role.as_str()
    )
    .execute(conn)
    .await?;
    session::identities_changed();
    Ok(done.rows_affected() == 1)
}

pub async fn set_deleted(
    conn: &mut PgConnection,
    user: UserId,
    deleted: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE users SET deleted_at = CASE WHEN $2 THEN coalesce(deleted_at, now()) END, updated_at = now()
          WHERE id = $1 AND scrubbed_at IS NULL",
        user.0,
        deleted
    )
    .execute(conn)
    .await?;
    session::identities_changed();
    Ok(done.rows_affected() == 1)
}

pub async fn audit(
    conn: &mut PgConnection,
    actor: Option<UserId>,
    action: &str,
    target_type: &str,
    target_id: &str,
    details: serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO audit_log (actor_id, action, target_type, target_id, details) VALUES ($1, $2, $3, $4, $5)",
        actor.map(|a| a.0),
        action,
        target_type,
        target_id,
        details
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct AuditRow {
    pub action: String,
    pub actor_email: Option<String>,
    pub details: serde_json::Value,
    pub at: OffsetDateTime,
}

pub async fn audit_for(
    conn: &mut PgConnection,
    target_type: &str,
    target_id: &str,
) -> sqlx::Result<Vec<AuditRow>> {
    sqlx::query_as!(
        AuditRow,
        r#"SELECT a.action, u.email AS "actor_email?", a.details, a.at
             FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
            WHERE a.target_type = $1 AND a.target_id = $2
            ORDER BY a.at DESC LIMIT 50"#,
        target_type,
        target_id
    )
    .fetch_all(conn)
    .await
}

/// Email addresses of these users (deleted ones included).
pub async fn emails_of(
    conn: &mut PgConnection,
    users: &[Uuid],
) -> sqlx::Result<Vec<(UserId, String)>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id: UserId", email FROM users WHERE id = ANY($1)"#,
        users
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.email)).collect())
}

/// Nicknames of these users.
pub async fn nicknames_of(
    conn: &mut PgConnection,
    users: &[Uuid],
) -> sqlx::Result<Vec<(UserId, String)>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id: UserId", nickname FROM users WHERE id = ANY($1)"#,
        users
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.nickname)).collect())
}

/// Deletes sign-in sessions idle longer than `idle_days` and mailed tokens a
/// day past their expiry.
pub async fn prune(conn: &mut PgConnection, idle_days: i64) -> sqlx::Result<(u64, u64)> {
    let sessions = sqlx::query!(
        "DELETE FROM auth_sessions WHERE last_seen_at < now() - make_interval(days => $1::int)",
        i32::try_from(idle_days).unwrap_or(i32::MAX)
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let tokens =
        sqlx::query!("DELETE FROM account_tokens WHERE expires_at < now() - interval '1 day'")
            .execute(&mut *conn)
            .await?
            .rows_affected();
    // A spent state outlives the flow that carried it (ten minutes).
    sqlx::query!("DELETE FROM sign_in_states_used WHERE used_at < now() - interval '1 day'")
        .execute(conn)
        .await?;
    Ok((sessions, tokens))
}

/// Removes the password: the account signs in another way (Google) only.
pub async fn clear_password(conn: &mut PgConnection, user: UserId) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET password_hash = NULL, password_changed_at = now(), updated_at = now() WHERE id = $1",
        user.0
    )
    .execute(conn)
    .await?;
    session::identities_changed();
    Ok(())
}

pub async fn users_matching(
    conn: &mut PgConnection,
    part: &str,
    limit: i64,
) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users WHERE email ILIKE '%' || $1 || '%' ORDER BY created_at LIMIT $2"#,
        part,
        limit
    )
    .fetch_all(conn)
    .await
}

pub async fn name_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT nickname FROM users WHERE id = $1", user.0)
        .fetch_optional(conn)
        .await
}

pub async fn user_by_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users WHERE lower(email) = lower($1) AND deleted_at IS NULL"#,
        email.trim()
    )
    .fetch_optional(conn)
    .await
}

/// Stores one agreement per code (with its version), now.
pub async fn insert_consents(
    conn: &mut PgConnection,
    user: UserId,
    kinds: &[&str],
    versions: &[&str],
    order: Option<crate::ids::OrderId>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO consents (user_id, kind, version, order_id)
         SELECT $1, kind, version, $4 FROM unnest($2::text[], $3::text[]) AS c(kind, version)",
        user.0,
        kinds as &[&str],
        versions as &[&str],
        order.map(|o| o.0),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Everything `user` agreed to, newest first.
pub async fn consents(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<crate::accounts::consent::Consent>> {
    use crate::accounts::consent::{Consent, ConsentKind};
    use crate::ids::OrderId;
    sqlx::query_as!(
        Consent,
        r#"SELECT kind AS "kind: ConsentKind", version, order_id AS "order_id: OrderId", agreed_at
             FROM consents WHERE user_id = $1 ORDER BY agreed_at DESC, id DESC"#,
        user.0
    )
    .fetch_all(conn)
    .await
}

/// A live account's nickname, introduction and picture.
pub async fn public_profile(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Option<crate::accounts::PublicProfile>> {
    sqlx::query_as!(
        crate::accounts::PublicProfile,
        "SELECT nickname, introduction, avatar_image_id AS avatar FROM users
          WHERE id = $1 AND deleted_at IS NULL",
        user.0
    )
    .fetch_optional(conn)
    .await
}

pub async fn legal_name_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Option<String>> {
    Ok(
        sqlx::query_scalar!("SELECT legal_name FROM users WHERE id = $1", user.0)
            .fetch_optional(conn)
            .await?
            .flatten(),
    )
}

pub async fn set_legal_name(conn: &mut PgConnection, user: UserId, name: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET legal_name = $2, updated_at = now() WHERE id = $1",
        user.0,
        name
    )
    .execute(conn)
    .await?;
    Ok(())
}
