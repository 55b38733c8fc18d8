//! Asking the tutor: what an answer is grounded in, the learner's turn
//! taken under the quotas, and the answer written in a task of its own
//! (at most `TUTOR_SLOTS` at once) that keeps it whether or not the
//! learner is still there to read it stream in.

use std::sync::Arc;

use sqlx::{PgConnection, PgPool};
use tokio::sync::{Semaphore, mpsc};
use uuid::Uuid;

use crate::{
    catalog::service::CourseView,
    config::TutorConfig,
    ids::{CourseId, TopicId, UserId},
};

use super::{
    backend::{Backend, BackendError, Found, OpenAi, Request, Retrieval, Usage},
    prompt::{self, BackendKind, Grounding, Mode, Quote},
    repo, search,
};

/// The tutor's shared part: who answers, and how many answers at once.
pub struct Tutor {
    backend: Arc<dyn Backend>,
    slots: Arc<Semaphore>,
    pub config: TutorConfig,
    /// Courses whose passages were checked a moment ago.
    indexed: crate::infra::cache::Cache<()>,
}

impl std::fmt::Debug for Tutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tutor")
            .field("backend", &self.backend.kind())
            .finish_non_exhaustive()
    }
}

/// How long a course's passages are taken as current without checking.
const INDEX_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// How many earlier turns of the conversation the model sees.
const HISTORY_TURNS: usize = 4;
/// How many passages of the whole course are retrieved.
const RETRIEVED: i64 = 6;

impl Tutor {
    pub fn new(config: &TutorConfig) -> anyhow::Result<Self> {
        let backend: Arc<dyn Backend> = match &config.api_base {
            Some(base) => Arc::new(OpenAi::new(config, base)?),
            None => Arc::new(Retrieval),
        };
        Ok(Self {
            backend,
            slots: Arc::new(Semaphore::new(config.slots.max(1))),
            config: config.clone(),
            indexed: crate::infra::cache::Cache::new(INDEX_CHECK_EVERY),
        })
    }

    pub fn kind(&self) -> BackendKind {
        self.backend.kind()
    }

    /// Makes the course's passages current (checked at most every few seconds).
    pub async fn index(
        &self,
        db: &PgPool,
        media: &crate::media::Media,
        course: CourseId,
    ) -> anyhow::Result<()> {
        self.indexed
            .get_or_load(&course.to_string(), super::index::ensure(db, media, course))
            .await?;
        Ok(())
    }

    /// Forgets which courses were checked (tests change captions and ask at once).
    pub fn forget_indexes(&self) {
        self.indexed.invalidate();
    }

    /// Writes the answer to `turn` in a task of its own; the receiver gets
    /// it piece by piece, then how it ended. The answer is kept either way.
    pub fn start(&self, db: PgPool, turn: Uuid, request: Request) -> mpsc::Receiver<Progress> {
        let (tx, rx) = mpsc::channel(64);
        let backend = self.backend.clone();
        let slots = self.slots.clone();
        tokio::spawn(async move {
            let permit = slots.acquire_owned().await;
            let (pieces_tx, mut pieces_rx) = mpsc::channel::<String>(64);
            let forward = {
                let tx = tx.clone();
                async move {
                    let mut answer = String::new();
                    while let Some(piece) = pieces_rx.recv().await {
                        answer.push_str(&piece);
                        let _ = tx.send(Progress::Text(piece)).await;
                    }
                    answer
                }
            };
            let write = async {
                let result = backend.answer(&request, &pieces_tx).await;
                drop(pieces_tx);
                result
            };
            let (result, answer) = tokio::join!(write, forward);
            drop(permit);
            let (failure, usage) = match &result {
                Ok(usage) => (None, *usage),
                Err(e) => {
                    tracing::warn!(error = %e, %turn, "the tutor could not answer");
                    (Some(e.code()), Usage::default())
                }
            };
            let kept = async {
                let mut conn = db.acquire().await?;
                repo::finish(
                    &mut conn,
                    turn,
                    &answer,
                    failure,
                    usage.prompt_tokens,
                    usage.completion_tokens,
                )
                .await
            };
            if let Err(e) = kept.await {
                tracing::error!(error = %e, %turn, "keeping a tutor answer");
            }
            let _ = tx
                .send(match result {
                    Ok(_) => Progress::Done,
                    Err(e) => Progress::Failed(e),
                })
                .await;
        });
        rx
    }
}

/// How an answer is coming along.
#[derive(Debug)]
pub enum Progress {
    Text(String),
    Done,
    Failed(BackendError),
}

/// Where in the course a question is asked.
pub struct Asking<'a> {
    pub user: UserId,
    pub course: &'a CourseView,
    pub topic: TopicId,
    pub topic_title: &'a str,
    pub reading: &'a str,
    pub position_secs: u32,
    /// Retrieval across the whole course (a learner who bought it, its
    /// author); a preview's viewer gets the topic's own passages only.
    pub whole_course: bool,
}

/// The lesson page's path for a topic.
pub fn lesson_path(topic: TopicId) -> String {
    format!("/learn/topics/{topic}")
}

/// What the answer to `question` is grounded in, and the request for it.
pub async fn request(
    conn: &mut PgConnection,
    asking: &Asking<'_>,
    mode: Mode,
    question: &str,
) -> sqlx::Result<Request> {
    let titles: std::collections::HashMap<TopicId, &str> = asking
        .course
        .lectures
        .iter()
        .flat_map(|l| l.topics.iter().map(|t| (t.id, t.title.as_str())))
        .collect();
    let lecture = asking
        .course
        .lectures
        .iter()
        .find(|l| l.topics.iter().any(|t| t.id == asking.topic))
        .map(|l| l.title.clone())
        .unwrap_or_default();
    let position_ms = i32::try_from(u64::from(asking.position_secs) * 1000).unwrap_or(i32::MAX);
    let near = repo::captions_near(conn, asking.topic, position_ms).await?;
    let found = match search::query(question) {
        Some(query) => {
            repo::search(
                conn,
                asking.course.id,
                asking.topic,
                !asking.whole_course,
                &query,
                RETRIEVED,
            )
            .await?
        }
        None => Vec::new(),
    };
    let found: Vec<Found> = found
        .into_iter()
        .map(|row| Found {
            lesson: lesson_path(row.topic_id),
            title: titles
                .get(&row.topic_id)
                .copied()
                .unwrap_or_default()
                .to_owned(),
            at_secs: row.start_ms.map(|ms| u64::try_from(ms / 1000).unwrap_or(0)),
            text: row.body,
            here: row.topic_id == asking.topic,
        })
        .collect();
    let history: Vec<(String, String)> = {
        let turns = repo::conversation(conn, asking.user, asking.topic).await?;
        let answered: Vec<_> = turns
            .into_iter()
            .filter(|t| t.state == "answered" && t.backend == BackendKind::Model.as_str())
            .map(|t| (t.question, t.answer))
            .collect();
        answered[answered.len().saturating_sub(HISTORY_TURNS)..].to_vec()
    };
    let quote = |f: &Found| Quote {
        topic: f.title.clone(),
        at: f.at_secs.map(prompt::clock),
        text: f.text.clone(),
    };
    let grounding = Grounding {
        course: asking.course.title.clone(),
        lecture,
        topic: asking.topic_title.to_owned(),
        reading: asking.reading.to_owned(),
        position: prompt::clock(u64::from(asking.position_secs)),
        captions_near_position: near
            .into_iter()
            .map(|(start, text)| Quote {
                topic: asking.topic_title.to_owned(),
                at: Some(prompt::clock(u64::try_from(start / 1000).unwrap_or(0))),
                text,
            })
            .collect(),
        related_passages: found.iter().map(quote).collect(),
    };
    Ok(Request {
        messages: prompt::messages(mode, &grounding, &history, question),
        found,
    })
}
