//! Notes and bookmarks at a moment of a video: a bookmark is a note without
//! text. Only their learner sees them (every query names the learner).

use sqlx::{Acquire, PgConnection};

use crate::{
    ids::{TopicId, UserId},
    learning::repo,
    web::filters::clock_text,
};

/// The longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// The latest moment a note may point at (a day of video).
const MAX_POSITION: f64 = 86_400.0;

pub struct Note {
    pub id: uuid::Uuid,
    pub position: f64,
    pub body: String,
}

impl Note {
    /// `1:15`
    pub fn at(&self) -> String {
        clock_text(self.position)
    }

    /// A whole second, for the player to seek to.
    pub fn seconds(&self) -> u64 {
        self.position.max(0.0).floor() as u64
    }

    pub fn is_bookmark(&self) -> bool {
        self.body.is_empty()
    }
}

/// Why a note was not saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteRefused {
    Position,
    TooLong,
    TooMany,
}

/// How many notes one learner may keep on one topic.
const MAX_NOTES_PER_TOPIC: usize = 200;

pub async fn list(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
) -> sqlx::Result<Vec<Note>> {
    Ok(repo::notes(conn, user, topic)
        .await?
        .into_iter()
        .map(Note::from)
        .collect())
}

impl From<repo::NoteRow> for Note {
    fn from(r: repo::NoteRow) -> Self {
        Self {
            id: r.id,
            position: r.position,
            body: r.body,
        }
    }
}

/// Parses the form's position (seconds, as the player wrote it; empty is the
/// start) and text (already cleaned; trimmed here).
pub fn parse(position: &str, body: &str) -> Result<(f64, String), NoteRefused> {
    let position = match position.trim() {
        "" => 0.0,
        raw => raw.parse::<f64>().map_err(|_| NoteRefused::Position)?,
    };
    if !position.is_finite() || !(0.0..=MAX_POSITION).contains(&position) {
        return Err(NoteRefused::Position);
    }
    let body = body.trim();
    if body.chars().count() > MAX_NOTE_CHARS {
        return Err(NoteRefused::TooLong);
    }
    Ok(((position * 10.0).round() / 10.0, body.to_owned()))
}

/// Saves a note; `Ok(Err(_))` says why it was refused.
pub async fn add(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    position: &str,
    body: &str,
) -> sqlx::Result<Result<(), NoteRefused>> {
    let (position, body) = match parse(position, body) {
        Ok(parsed) => parsed,
        Err(refused) => return Ok(Err(refused)),
    };
    // Counted and written under one lock, so parallel posts cannot pass the
    // limit together.
    let mut tx = conn.begin().await?;
    crate::infra::db::lock(&mut tx, "notes", &format!("{user}:{topic}")).await?;
    if repo::count_notes(&mut tx, user, topic).await? >= MAX_NOTES_PER_TOPIC as i64 {
        return Ok(Err(NoteRefused::TooMany));
    }
    repo::insert_note(&mut tx, user, topic, position, &body).await?;
    tx.commit().await?;
    super::mine::changed(user);
    Ok(Ok(()))
}

/// Deletes one of the learner's notes; `None` when they have no such note.
pub async fn delete(
    conn: &mut PgConnection,
    user: UserId,
    note: uuid::Uuid,
) -> sqlx::Result<Option<TopicId>> {
    let deleted = repo::delete_note(conn, user, note).await?;
    super::mine::changed(user);
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_a_moment_and_bounded_text() {
        assert_eq!(parse("", ""), Ok((0.0, String::new())));
        assert_eq!(
            parse("12.34", " 여기 중요 "),
            Ok((12.3, "여기 중요".into()))
        );
        for bad in ["-1", "abc", "NaN", "inf", "1e9"] {
            assert_eq!(parse(bad, "x"), Err(NoteRefused::Position), "{bad}");
        }
        assert_eq!(parse("1", &"가".repeat(1001)), Err(NoteRefused::TooLong));
    }
}
