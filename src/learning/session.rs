//! The watch session a lesson page carries: a page id and the moment the
//! server handed the page out, signed for one learner and one topic. It
//! starts the learner's clock for what the page's events may credit (no
//! allowance before the page existed), numbers the page's events (a repeat
//! is stored once), and needs no write on the GET that hands it out.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    ids::{TopicId, UserId},
    web::signing::Signer,
};

const PURPOSE: &str = "watch-session";
/// How long a lesson page's events are taken (a tab left open overnight
/// is reloaded first).
pub const MAX_AGE: Duration = Duration::hours(24);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchSession {
    pub page: Uuid,
    pub issued_at: OffsetDateTime,
}

fn signed_value(user: UserId, topic: TopicId, value: &str) -> String {
    format!("{}|{}|{value}", user.0, topic.0)
}

/// The token of a session that began at `issued_at`.
pub fn token(signer: &Signer, user: UserId, topic: TopicId, session: WatchSession) -> String {
    let millis = session.issued_at.unix_timestamp_nanos() / 1_000_000;
    let value = format!("{}.{millis}", session.page.simple());
    let signature = signer.sign(PURPOSE, signed_value(user, topic, &value).as_bytes());
    format!("{value}.{signature}")
}

/// A new session for the lesson page being handed out now.
pub fn issue(signer: &Signer, user: UserId, topic: TopicId) -> String {
    token(
        signer,
        user,
        topic,
        WatchSession {
            page: Uuid::new_v4(),
            issued_at: OffsetDateTime::now_utc(),
        },
    )
}

/// The session in `token` when it was signed for `user` and `topic`, is
/// not from the future and not older than [`MAX_AGE`] at `now`.
pub fn verify(
    signer: &Signer,
    user: UserId,
    topic: TopicId,
    token: &str,
    now: OffsetDateTime,
) -> Option<WatchSession> {
    let (value, signature) = token.rsplit_once('.')?;
    if !signer.verify(
        PURPOSE,
        signed_value(user, topic, value).as_bytes(),
        signature,
    ) {
        return None;
    }
    let (page, issued) = value.split_once('.')?;
    let millis: i128 = issued.parse().ok()?;
    let issued_at =
        OffsetDateTime::from_unix_timestamp_nanos(millis.checked_mul(1_000_000)?).ok()?;
    if issued_at > now + Duration::seconds(5) || now - issued_at > MAX_AGE {
        return None;
    }
    Some(WatchSession {
        page: page.parse().ok()?,
        issued_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_verifies_for_its_learner_and_topic_within_a_day() {
        let signer = Signer::new(b"0123456789abcdef0123456789abcdef");
        let (user, topic) = (UserId(Uuid::new_v4()), TopicId(Uuid::new_v4()));
        let now = OffsetDateTime::now_utc().replace_millisecond(0).unwrap();
        let session = WatchSession {
            page: Uuid::new_v4(),
            issued_at: now - Duration::minutes(5),
        };
        let t = token(&signer, user, topic, session);
        assert_eq!(verify(&signer, user, topic, &t, now), Some(session));
        let other = UserId(Uuid::new_v4());
        assert_eq!(verify(&signer, other, topic, &t, now), None);
        assert_eq!(
            verify(&signer, user, TopicId(Uuid::new_v4()), &t, now),
            None
        );
        assert_eq!(
            verify(&signer, user, topic, &t, now + Duration::hours(25)),
            None
        );
        // An earlier start, written in by hand, is refused.
        let millis = session.issued_at.unix_timestamp_nanos() / 1_000_000;
        let forged = t.replacen(&millis.to_string(), &(millis - 3_600_000).to_string(), 1);
        assert_eq!(verify(&signer, user, topic, &forged, now), None);
    }
}
