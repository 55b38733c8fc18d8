//! What a person agreed to: which text, which version of it, when. The
//! versions are codes; each version's words live in `templates/legal/`.

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::{
    accounts::repo,
    ids::{OrderId, UserId},
};

crate::text_enum!(
    /// A text a person agrees to: the terms of use and the collection and
    /// use of personal information at sign-up, the refund policy and the
    /// withdrawal rules at checkout.
    ConsentKind {
        Terms => "terms",
        Privacy => "privacy",
        RefundPolicy => "refund_policy",
    }
);

impl ConsentKind {
    /// The version of the text shown today. A new text gets a new version
    /// (and its template); what people agreed to before stays as it was.
    pub fn current_version(self) -> &'static str {
        match self {
            ConsentKind::Terms => "2026-12-05",
            ConsentKind::Privacy => "2026-12-05",
            ConsentKind::RefundPolicy => "2026-12-05",
        }
    }
}

/// The texts a sign-up agrees to.
pub const SIGN_UP: &[ConsentKind] = &[ConsentKind::Terms, ConsentKind::Privacy];

/// One agreement as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Consent {
    pub kind: ConsentKind,
    pub version: String,
    pub order_id: Option<OrderId>,
    pub agreed_at: OffsetDateTime,
}

/// Stores that `user` agreed, now, to the current version of each of
/// `kinds` (with the order they were agreed for, at checkout).
pub async fn record(
    conn: &mut PgConnection,
    user: UserId,
    kinds: &[ConsentKind],
    order: Option<OrderId>,
) -> sqlx::Result<()> {
    let codes: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let versions: Vec<&str> = kinds.iter().map(|k| k.current_version()).collect();
    repo::insert_consents(conn, user, &codes, &versions, order).await
}

/// Everything `user` agreed to, newest first.
pub async fn of_user(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<Consent>> {
    repo::consents(conn, user).await
}

/// The sign-up texts whose current version `user` has not agreed to (a
/// Google sign-up is asked after Google answers; a new text is asked again).
pub async fn missing(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<ConsentKind>> {
    let agreed = of_user(conn, user).await?;
    Ok(SIGN_UP
        .iter()
        .copied()
        .filter(|k| {
            !agreed
                .iter()
                .any(|c| c.kind == *k && c.version == k.current_version())
        })
        .collect())
}
