//! Signed-in sessions. The cookie session (tower-sessions, PostgreSQL) holds
//! an [`AuthMarker`]; the `auth_sessions` row it names is what makes it valid.
//! Ending a session deletes that row, so a stolen or old cookie stops working
//! on its next request.

use std::{
    sync::{Arc, LazyLock},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

use crate::{
    accounts::{
        model::Role,
        repo::{self, SessionUserRow},
    },
    error::{AppError, AppResult},
    ids::UserId,
    infra::cache::Cache,
    web::client::ClientInfo,
};

const KEY: &str = "auth";

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct AuthMarker {
    sid: Uuid,
    uid: UserId,
}

/// The signed-in person of a request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    pub role: Role,
    pub verified: bool,
    /// The `auth_sessions` row of this browser.
    pub auth_session: Uuid,
    /// The profile picture, when one is set (`media::images`).
    pub avatar: Option<Uuid>,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

fn session_error(err: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {err}"))
}

/// Who a valid session is, kept for a few seconds so a signed-in page costs
/// no database round trip (ADR 0011). Every write to an account or a
/// session in `repo` empties it on this instance; another instance sees an
/// ended session or a changed account within `IDENTITY_TTL`.
const IDENTITY_TTL: Duration = Duration::from_secs(10);
static IDENTITIES: LazyLock<Cache<SessionUserRow>> = LazyLock::new(|| Cache::new(IDENTITY_TTL));

/// An account or a session changed: forget every cached identity. Called
/// after the write, so a load racing it reads the new row (an autocommitted
/// write) or, inside a transaction not yet committed, may keep the old one
/// for at most `IDENTITY_TTL`, the bound other instances have anyway.
pub(crate) fn identities_changed() {
    IDENTITIES.invalidate();
    crate::accounts::tokens::forget_kept();
    crate::infra::changes::announce(IDENTITIES_CHANGED);
}

/// What other instances hear when identities changed here.
pub const IDENTITIES_CHANGED: &str = "accounts.identities";

/// Drops this instance's kept identities (another instance changed one).
pub fn forget_identities() {
    IDENTITIES.invalidate();
    crate::accounts::tokens::forget_kept();
}

/// The person behind this session, if it is signed in and still valid.
pub async fn current_user(db: &PgPool, session: &Session) -> AppResult<Option<CurrentUser>> {
    let Some(marker) = session
        .get::<AuthMarker>(KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let key = marker.sid.to_string();
    let row = match IDENTITIES.get(&key).filter(|row| row.id == marker.uid) {
        Some(row) => row,
        None => {
            let generation = IDENTITIES.generation();
            let mut conn = db.acquire().await?;
            let Some(mut row) = repo::session_user(&mut conn, marker.sid, marker.uid).await? else {
                // Ended elsewhere, or the account is gone: forget the cookie session.
                session.flush().await.map_err(session_error)?;
                return Ok(None);
            };
            if row.stale {
                // At most every few minutes: note the activity, and re-save the
                // cookie session so its idle expiry starts again.
                repo::touch_auth_session(&mut conn, marker.sid).await?;
                session.set_expiry(session.expiry());
                row.stale = false;
            }
            let row = Arc::new(row);
            IDENTITIES.put(key, generation, row.clone());
            row
        }
    };
    Ok(Some(CurrentUser {
        id: row.id,
        email: row.email.clone(),
        nickname: row.nickname.clone(),
        role: row.role,
        verified: row.verified,
        auth_session: marker.sid,
        avatar: row.avatar_image_id,
    }))
}

/// Signs `user` in on this browser: a new session id (no fixation) and a new
/// `auth_sessions` row.
pub async fn sign_in(
    db: &PgPool,
    session: &Session,
    user: UserId,
    method: crate::accounts::model::SignInMethod,
    client: &ClientInfo,
) -> AppResult<()> {
    let mut conn = db.acquire().await?;
    let sid =
        repo::insert_auth_session(&mut conn, user, method, &client.ip, &client.user_agent).await?;
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(KEY, AuthMarker { sid, uid: user })
        .await
        .map_err(session_error)?;
    Ok(())
}

/// Ends this browser's session, here and in the store.
pub async fn sign_out(db: &PgPool, session: &Session) -> AppResult<()> {
    if let Some(marker) = session
        .get::<AuthMarker>(KEY)
        .await
        .map_err(session_error)?
    {
        let mut conn = db.acquire().await?;
        repo::delete_auth_session(&mut conn, marker.uid, marker.sid).await?;
    }
    session.flush().await.map_err(session_error)?;
    Ok(())
}
