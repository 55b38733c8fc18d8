//! What a visitor meant to do before signing in: the product they clicked
//! "buy" on. Kept in their session (which survives login and the sign-up
//! link in the same browser), and carried out by the cart once they are in.

use serde::{Serialize, de::DeserializeOwned};
use tower_sessions::Session;

use crate::error::{AppError, AppResult};

const WANTED: &str = "wanted_product";

fn session_error(err: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {err}"))
}

/// Remembers what the visitor wants, replacing an earlier wish.
pub async fn remember<T: Serialize>(session: &Session, wanted: &T) -> AppResult<()> {
    session.insert(WANTED, wanted).await.map_err(session_error)
}

/// Whether something waits to be carried out.
pub async fn waiting(session: &Session) -> AppResult<bool> {
    Ok(session
        .get::<serde_json::Value>(WANTED)
        .await
        .map_err(session_error)?
        .is_some())
}

/// Takes what waits, once.
pub async fn take<T: DeserializeOwned>(session: &Session) -> AppResult<Option<T>> {
    session.remove(WANTED).await.map_err(session_error)
}
