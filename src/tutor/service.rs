//! Asking the tutor: what an answer is grounded in, the learner's turn
//! taken under the quotas, and the answer written in a task of its own
//! (at most `TUTOR_SLOTS` at once) that keeps it whether or not the
//! learner is still there to read it stream in.

use std::sync::Arc;

use sqlx::{PgConnection, PgPool};
use tokio::sync::{Semaphore, mpsc};
use uuid::Uuid;

use crate::{
    catalog::{LessonTopic, model::TopicKind, service::CourseView},
    config::TutorConfig,
    ids::{CourseId, TopicId, UserId},
    learning::mine::Mine,
};

use super::{
    backend::{Backend, BackendError, Found, OpenAi, Request, Retrieval, Usage},
    model::{BackendKind, Failure, Mode, TurnState},
    prompt::{self, Grounding, Quote},
    repo::{self, NewTurn, Over},
    search,
};

/// The tutor's shared part: who answers, and how many answers at once.
pub struct Tutor {
    backend: Arc<dyn Backend>,
    slots: Arc<Semaphore>,
    pub config: TutorConfig,
    /// Courses whose passages were checked a moment ago.
    indexed: crate::infra::cache::Cache<()>,
    /// Each lesson's published answers (its FAQ), the same for every
    /// learner: the panel reads only the learner's own conversation.
    faq: crate::infra::cache::Cache<Vec<repo::FaqRow>>,
}

/// What other instances hear when a published answer changed here.
pub const FAQ_CHANGED: &str = "tutor.faq";
/// How long another instance may show a lesson's FAQ from before a change
/// whose notice it missed.
const FAQ_TTL: std::time::Duration = std::time::Duration::from_secs(5);

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
            faq: crate::infra::cache::Cache::new(FAQ_TTL),
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

    /// The published answers under `topic` of `course`, kept.
    pub async fn faq(
        &self,
        db: &PgPool,
        course: CourseId,
        topic: TopicId,
    ) -> sqlx::Result<Arc<Vec<repo::FaqRow>>> {
        self.faq
            .get_or_load(&topic.to_string(), async {
                repo::faq(&mut *db.acquire().await?, course, Some(topic)).await
            })
            .await
    }

    /// A published answer changed (after its commit): passages and FAQ are
    /// read again, here and on the other instances.
    pub fn faq_changed(&self) {
        self.forget_faq();
        crate::infra::changes::announce(FAQ_CHANGED);
    }

    /// Another instance changed a published answer.
    pub fn forget_faq(&self) {
        self.forget_indexes();
        self.faq.invalidate();
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
                    (Some(e.failure()), Usage::default())
                }
            };
            for (kind, n) in [
                ("prompt", usage.prompt_tokens),
                ("completion", usage.completion_tokens),
            ] {
                let n = u64::try_from(n.unwrap_or(0)).unwrap_or(0);
                metrics::counter!("weaverse_tutor_tokens_total", "kind" => kind).increment(n);
            }
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

/// A question at a moment of a lesson the learner may study.
pub struct Question<'a> {
    pub user: UserId,
    pub course: &'a CourseView,
    pub id: TopicId,
    pub topic: &'a LessonTopic,
    /// Retrieval across the whole course (a learner who bought it, its
    /// author); a preview's viewer gets the topic's own passages only.
    pub whole_course: bool,
    pub text: &'a str,
    pub position_secs: u32,
}

/// Why a question was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AskRefused {
    Empty,
    TooLong {
        max: usize,
    },
    /// The per-minute limit: seconds until a question frees.
    TooOften {
        wait_secs: u64,
    },
    DailyQuota {
        per_day: i64,
    },
}

impl Tutor {
    /// Takes the question (the quotas decide first, before any work for
    /// it) and starts its answer: the new turn and the answer as it comes.
    pub async fn ask(
        &self,
        db: &PgPool,
        media: &crate::media::Media,
        question: &Question<'_>,
    ) -> anyhow::Result<Result<(Uuid, mpsc::Receiver<Progress>), AskRefused>> {
        let text = question.text.trim();
        if text.is_empty() {
            return Ok(Err(AskRefused::Empty));
        }
        let max = self.config.max_question_chars;
        if text.chars().count() > max {
            return Ok(Err(AskRefused::TooLong { max }));
        }
        let mut conn = db.acquire().await?;
        let topics: Vec<TopicId> = question
            .course
            .lectures
            .iter()
            .flat_map(|l| l.topics.iter().map(|t| t.id))
            .collect();
        let mode = if question.topic.kind == TopicKind::Mission
            || crate::assessments::attempt_in_progress(&mut conn, question.user, &topics).await?
        {
            Mode::Hint
        } else {
            Mode::Explain
        };
        let taken = repo::take_turn(
            &mut conn,
            &NewTurn {
                user: question.user,
                topic: question.id,
                question: text,
                position_secs: i32::try_from(question.position_secs).unwrap_or(0),
                mode,
                backend: self.kind(),
            },
            self.config.per_minute,
            self.config.per_day,
            crate::web::dates::day_start(crate::web::dates::today()),
        )
        .await?;
        let turn = match taken {
            Ok(turn) => {
                crate::learning::mine::changed(question.user);
                turn
            }
            Err(Over::Rate(wait_secs)) => return Ok(Err(AskRefused::TooOften { wait_secs })),
            Err(Over::Quota) => {
                return Ok(Err(AskRefused::DailyQuota {
                    per_day: self.config.per_day,
                }));
            }
        };
        let asking = Asking {
            user: question.user,
            course: question.course,
            topic: question.id,
            topic_title: &question.topic.place.title,
            reading: &question.topic.body,
            position_secs: question.position_secs,
            whole_course: question.whole_course,
        };
        // The index may need a connection of its own: none is held meanwhile.
        drop(conn);
        let prepared = async {
            self.index(db, media, question.course.id).await?;
            let mut conn = db.acquire().await?;
            anyhow::Ok(request(&mut conn, &asking, mode, text).await?)
        };
        match prepared.await {
            Ok(request) => Ok(Ok((turn, self.start(db.clone(), turn, request)))),
            Err(e) => {
                // The turn is taken: it shows as failed, not as writing.
                let mut conn = db.acquire().await?;
                repo::finish(&mut conn, turn, "", Some(Failure::Unavailable), None, None).await?;
                Err(e)
            }
        }
    }
}

/// The learner's open conversation on `topic`, oldest first, kept in their
/// entry (`learning::mine`) until their next change: a question taken, the
/// conversation closed ("새 대화"), a question handed on, a tutor's answer
/// to it. One with an answer still being written is read each time (it
/// shows as cut off after ten minutes), so an answer's end needs no notice.
pub async fn conversation(
    db: &PgPool,
    user: UserId,
    topic: TopicId,
) -> sqlx::Result<Arc<Vec<repo::TurnRow>>> {
    let mine = Mine::of(user).await;
    if let Some(kept) = mine.part::<Vec<repo::TurnRow>>(topic.0) {
        return Ok(kept);
    }
    let turns = Arc::new(repo::conversation(&mut *db.acquire().await?, user, topic).await?);
    if !turns.iter().any(|t| t.state == TurnState::Answering) {
        mine.keep(topic.0, turns.clone());
    }
    Ok(turns)
}

/// How an answer is coming along.
#[derive(Debug)]
pub enum Progress {
    Text(String),
    Done,
    Failed(BackendError),
}

/// Where in the course a question is asked.
struct Asking<'a> {
    user: UserId,
    course: &'a CourseView,
    topic: TopicId,
    topic_title: &'a str,
    reading: &'a str,
    position_secs: u32,
    whole_course: bool,
}

/// The lesson page's path for a topic.
pub fn lesson_path(topic: TopicId) -> String {
    format!("/learn/topics/{topic}")
}

/// What the answer to `question` is grounded in, and the request for it.
async fn request(
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
            .filter(|t| t.state == TurnState::Answered && t.backend == BackendKind::Model)
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
