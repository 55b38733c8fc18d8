//! The passages the tutor retrieves from, kept per course: a few caption
//! cues at a time and the paragraphs of the topics' text. A course's
//! passages carry a stamp of what they were made from (each topic's last
//! change, each caption track's id); a question first checks the stamp and
//! makes them again when the course changed, one process at a time.

use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

use crate::{
    catalog::TopicText,
    ids::{CourseId, TopicId},
    media::{CaptionTrack, Media, vtt::Cue},
};

use super::{repo, search};

/// Where a passage comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Caption,
    Reading,
    /// A tutor's published answer to a learner's question.
    Faq,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Caption => "caption",
            Self::Reading => "reading",
            Self::Faq => "faq",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passage {
    pub topic: TopicId,
    pub source: Source,
    pub start_ms: Option<i32>,
    pub body: String,
}

/// A caption passage holds cues up to this long in all...
const CAPTION_SPAN_MS: u64 = 20_000;
/// ... and this many characters.
const PASSAGE_CHARS: usize = 400;

/// Consecutive cues grouped into passages of about 20 s.
pub fn caption_passages(topic: TopicId, cues: &[Cue]) -> Vec<Passage> {
    let mut out = Vec::new();
    let mut start: Option<u64> = None;
    let mut body = String::new();
    for cue in cues {
        let begins = *start.get_or_insert(cue.start_ms);
        if !body.is_empty()
            && (cue.end_ms.saturating_sub(begins) > CAPTION_SPAN_MS
                || body.chars().count() + cue.text.chars().count() > PASSAGE_CHARS)
        {
            out.push(Passage {
                topic,
                source: Source::Caption,
                start_ms: i32::try_from(begins).ok(),
                body: std::mem::take(&mut body),
            });
            start = Some(cue.start_ms);
        }
        if !body.is_empty() {
            body.push(' ');
        }
        body.push_str(cue.text.trim());
    }
    if let (Some(begins), false) = (start, body.is_empty()) {
        out.push(Passage {
            topic,
            source: Source::Caption,
            start_ms: i32::try_from(begins).ok(),
            body,
        });
    }
    out
}

/// A topic's text in paragraphs (short ones joined, long ones cut at a
/// sentence end where there is one).
pub fn reading_passages(topic: TopicId, text: &str) -> Vec<Passage> {
    let mut out = Vec::new();
    let mut body = String::new();
    let push = |body: &mut String, out: &mut Vec<Passage>| {
        let text = body.trim();
        if !text.is_empty() {
            out.push(Passage {
                topic,
                source: Source::Reading,
                start_ms: None,
                body: text.to_owned(),
            });
        }
        body.clear();
    };
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if !body.is_empty() && body.chars().count() + paragraph.chars().count() > PASSAGE_CHARS {
            push(&mut body, &mut out);
        }
        for sentence in sentences(paragraph) {
            if !body.is_empty() && body.chars().count() + sentence.chars().count() > PASSAGE_CHARS {
                push(&mut body, &mut out);
            }
            if !body.is_empty() && !body.ends_with('\n') {
                body.push(' ');
            }
            body.push_str(sentence);
        }
        body.push('\n');
    }
    push(&mut body, &mut out);
    out
}

/// A paragraph's sentences (ends: `. `, `? `, `! `, line breaks).
fn sentences(paragraph: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut begin = 0;
    let bytes = paragraph.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let ends = matches!(b, b'.' | b'?' | b'!') && bytes.get(i + 1).is_some_and(|n| *n == b' ')
            || *b == b'\n';
        if ends {
            let s = paragraph[begin..=i].trim();
            if !s.is_empty() {
                out.push(s);
            }
            begin = i + 1;
        }
    }
    let s = paragraph[begin..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

/// What a course's passages are made from, as one short string.
pub fn stamp(texts: &[TopicText], tracks: &[CaptionTrack], faq: &[repo::FaqRow]) -> String {
    let mut hash = Sha256::new();
    for t in texts {
        hash.update(t.id.0.as_bytes());
        hash.update(t.updated_at.unix_timestamp_nanos().to_le_bytes());
    }
    hash.update(b"|");
    for c in tracks {
        hash.update(c.topic.0.as_bytes());
        hash.update(c.id.as_bytes());
    }
    hash.update(b"|");
    for f in faq {
        hash.update(f.id.as_bytes());
        hash.update(f.published_at.unix_timestamp_nanos().to_le_bytes());
    }
    hex::encode(&hash.finalize()[..16])
}

/// Makes `course`'s passages again when what they are made from changed.
pub async fn ensure(db: &PgPool, media: &Media, course: CourseId) -> anyhow::Result<()> {
    let mut conn = db.acquire().await?;
    let texts = crate::catalog::course_texts(&mut conn, course).await?;
    let ids: Vec<TopicId> = texts.iter().map(|t| t.id).collect();
    let tracks = crate::media::caption_tracks(&mut conn, &ids).await?;
    let faq = repo::faq(&mut conn, course, None).await?;
    let stamp = stamp(&texts, &tracks, &faq);
    if repo::index_stamp(&mut conn, course).await?.as_deref() == Some(stamp.as_str()) {
        return Ok(());
    }
    drop(conn);
    let mut passages = passages(media, &texts, &tracks).await?;
    passages.extend(faq.iter().map(|f| {
        Passage {
            topic: f.topic_id,
            source: Source::Faq,
            start_ms: None,
            body: format!("{} {}", f.question, f.answer)
                .chars()
                .take(PASSAGE_CHARS * 2)
                .collect(),
        }
    }));
    let mut tx = db.begin().await?;
    crate::infra::db::lock(&mut tx, "tutor-index", &course.to_string()).await?;
    // Someone else may have made them while this read the captions.
    if repo::index_stamp(&mut tx, course).await?.as_deref() != Some(stamp.as_str()) {
        replace(&mut tx, course, &passages, &stamp).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn passages(
    media: &Media,
    texts: &[TopicText],
    tracks: &[CaptionTrack],
) -> anyhow::Result<Vec<Passage>> {
    let mut out = Vec::new();
    // Every kind's text: a reading, a video's notes, a mission's brief.
    for text in texts {
        out.extend(reading_passages(text.id, &text.body));
    }
    for track in tracks {
        if let Some(cues) = media.caption_cues(track).await? {
            out.extend(caption_passages(track.topic, &cues));
        }
    }
    Ok(out)
}

async fn replace(
    conn: &mut PgConnection,
    course: CourseId,
    passages: &[Passage],
    stamp: &str,
) -> sqlx::Result<()> {
    let documents: Vec<String> = passages.iter().map(|p| search::document(&p.body)).collect();
    repo::replace_passages(conn, course, passages, &documents, stamp).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(start: u64, end: u64, text: &str) -> Cue {
        Cue {
            start_ms: start * 1000,
            end_ms: end * 1000,
            text: text.into(),
        }
    }

    #[test]
    fn cues_are_grouped_into_twenty_second_passages_that_start_where_they_start() {
        let topic = TopicId(uuid::Uuid::nil());
        let cues = [
            cue(0, 6, "하나"),
            cue(6, 12, "둘"),
            cue(12, 18, "셋"),
            cue(18, 24, "넷"),
            cue(24, 30, "다섯"),
        ];
        let passages = caption_passages(topic, &cues);
        assert_eq!(passages.len(), 2);
        assert_eq!(passages[0].body, "하나 둘 셋");
        assert_eq!(passages[0].start_ms, Some(0));
        assert_eq!(passages[1].body, "넷 다섯");
        assert_eq!(passages[1].start_ms, Some(18_000));
        assert!(caption_passages(topic, &[]).is_empty());
    }

    #[test]
    fn readings_are_cut_into_paragraph_passages_of_bounded_length() {
        let topic = TopicId(uuid::Uuid::nil());
        let long = "변수는 값을 담는 이름표입니다. ".repeat(40);
        let text = format!("짧은 문단.\n\n또 짧은 문단.\n\n{long}");
        let passages = reading_passages(topic, &text);
        assert!(passages.len() >= 3, "{passages:?}");
        assert!(
            passages[0].body.starts_with("짧은 문단.\n또 짧은 문단."),
            "{passages:?}"
        );
        assert!(
            passages
                .iter()
                .all(|p| p.body.chars().count() <= PASSAGE_CHARS)
        );
        assert!(reading_passages(topic, "  \n\n ").is_empty());
    }
}
