//! Taking missions: attempts with choices shuffled per attempt, choice
//! answers graded on submission, code submissions graded by a job in the
//! sandbox, the best score kept, and the mission's topic completed when it
//! is passed.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, LazyLock},
};

use sqlx::{Acquire, PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    accounts::CurrentUser,
    assessments::{
        grading::{self, TestResult, Verdict},
        model::{MissionKind, Mode, QuestionKind},
        repo::{self, MissionRow, QuestionRow, SubmissionRow},
        sandbox::{Language, Limits, Sandbox},
    },
    catalog::{CatalogCache, error::CatalogError},
    ids::{MissionId, QuestionId, SubmissionId, TopicId, UserId},
    infra::{cache::Cache, ratelimit::Limit},
    jobs::{self, EnqueueOptions},
    learning::{self, Completion, access, mine::Mine},
    web::markdown,
};

/// The grading job's kind.
pub const GRADE_JOB: &str = "assessments.grade";
/// The longest code a learner may submit.
pub const MAX_CODE_BYTES: usize = 64 * 1024;
/// Late answers are taken this long after the time limit (a slow network).
const GRACE: Duration = Duration::seconds(30);

#[derive(Debug, thiserror::Error)]
pub enum MissionError {
    #[error("no such mission")]
    NotFound,
    #[error("not signed in")]
    SignedOut,
    #[error("no access: lapsed {lapsed}")]
    Locked { topic: TopicId, lapsed: bool },
    #[error("no attempt is open")]
    NoOpenAttempt,
    #[error("every attempt is used")]
    AttemptsUsed,
    #[error("the next attempt opens at {until}")]
    CoolingDown { until: OffsetDateTime },
    #[error("time is up")]
    TimeUp,
    #[error("a submission is being graded")]
    OnePending,
    #[error("too many submissions; wait {0} s")]
    TooMany(u64),
    #[error("empty code")]
    CodeEmpty,
    #[error("code too long")]
    CodeTooLong,
    #[error("not a code question of this mission")]
    NotCode,
    #[error("the grader is unavailable: {0}")]
    GraderDown(String),
    /// The studio user is not the course's author (nor an admin).
    #[error("not the author of this mission's course")]
    NotAuthor,
    /// A mission editor form refused, on the editor of `topic`.
    #[error("refused: {why:?}")]
    Refused {
        topic: TopicId,
        why: crate::assessments::studio::Refusal,
    },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type MissionResult<T> = Result<T, MissionError>;

/// The sandbox, probed on first use (a process that never grades never
/// probes), shared by the web process and the grading jobs.
pub struct Grader {
    root: PathBuf,
    slots: usize,
    /// This process runs grading jobs (and so checks its sandbox).
    here: bool,
    sandbox: tokio::sync::OnceCell<Sandbox>,
}

impl Grader {
    pub fn new(root: PathBuf, slots: usize, here: bool) -> Self {
        Self {
            root,
            slots,
            here,
            sandbox: tokio::sync::OnceCell::new(),
        }
    }

    pub async fn sandbox(&self) -> &Sandbox {
        self.sandbox
            .get_or_init(|| Sandbox::probe(&self.root, self.slots))
            .await
    }

    /// `None` when code can be graded here, or when workers elsewhere grade
    /// (their own probe fails closed); otherwise why not (for admins).
    pub async fn unusable(&self) -> Option<String> {
        if !self.here {
            return None;
        }
        self.sandbox().await.unusable().map(str::to_owned)
    }

    /// Whether this process grades (and its status is its own sandbox's).
    pub fn grades_here(&self) -> bool {
        self.here
    }
}

// ---------- what the mission page shows ----------

pub struct ChoiceView {
    pub id: Uuid,
    pub body: String,
    /// Whether it is a right answer: known only in the review (passed, or
    /// every attempt used).
    pub correct: Option<bool>,
}

#[derive(Clone)]
pub struct VisibleTest {
    /// What the test runs; `None` for a check of the submitted file.
    pub input: Option<String>,
    pub expected: String,
}

pub struct CodeView {
    pub language: Language,
    /// What the editor opens with: the learner's draft, else their last
    /// submission, else the starter code.
    pub starter: String,
    pub visible: Vec<VisibleTest>,
    pub hidden: usize,
    pub latest: Option<SubmissionView>,
}

pub struct QuestionView {
    pub id: Uuid,
    pub number: usize,
    pub kind: QuestionKind,
    /// The prompt as safe HTML.
    pub prompt: String,
    pub points: i32,
    pub multiple: bool,
    pub choices: Vec<ChoiceView>,
    pub code: Option<CodeView>,
    /// The tutor's explanation as safe HTML, in the review only.
    pub explanation: Option<String>,
}

/// A code submission as its learner sees it.
#[derive(Clone)]
pub struct SubmissionView {
    pub id: Uuid,
    pub question: Uuid,
    pub verdict: Verdict,
    pub score: i32,
    pub message: Option<String>,
    /// Visible tests with their input, expected and actual output.
    pub shown: Vec<TestResult>,
    pub hidden_passed: usize,
    pub hidden_total: usize,
    /// A run of the visible tests ("실행해 보기"): not scored.
    pub trial: bool,
}

impl SubmissionView {
    fn of(row: SubmissionRow) -> Self {
        let results = row.results.map(|r| r.0).unwrap_or_default();
        let (shown, hidden): (Vec<TestResult>, Vec<TestResult>) =
            results.into_iter().partition(|r| r.visible);
        Self {
            id: row.id,
            question: row.question_id,
            verdict: row.verdict,
            score: row.score.unwrap_or(0),
            message: row.message,
            hidden_passed: hidden
                .iter()
                .filter(|r| r.verdict == Verdict::Accepted)
                .count(),
            hidden_total: hidden.len(),
            shown,
            trial: row.trial,
        }
    }
}

pub struct AttemptView {
    pub number: i32,
    pub deadline: Option<OffsetDateTime>,
}

pub struct LastAttempt {
    pub number: i32,
    pub score: i32,
    /// Points earned per question: `None` (held back) until no attempt is
    /// left or the mission is passed (before, right/wrong per question
    /// would let attempts be spent finding the key).
    pub earned: Option<HashMap<Uuid, i32>>,
    /// The choices picked per question, revealed with `earned`.
    pub picked: Option<HashMap<Uuid, Vec<Uuid>>>,
}

pub struct MissionView {
    pub id: Uuid,
    pub topic: TopicId,
    pub title: String,
    pub course: crate::ids::CourseId,
    pub course_title: String,
    pub kind: MissionKind,
    pub pass_percent: i32,
    pub max_attempts: Option<i32>,
    pub time_limit_secs: Option<i32>,
    pub questions: Vec<QuestionView>,
    pub open: Option<AttemptView>,
    /// When the next attempt opens, while the cooldown runs.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Every attempt is used.
    pub attempts_used_up: bool,
    /// No attempt is open and one may start now.
    pub may_start: bool,
    /// The open attempt ran past its time (closed when the next starts).
    pub timed_out: bool,
    pub used: i32,
    pub last: Option<LastAttempt>,
    pub best: Option<(i32, bool)>,
}

impl MissionView {
    pub fn has_choices(&self) -> bool {
        self.questions
            .iter()
            .any(|q| q.kind == QuestionKind::Choice)
    }
}

/// The mission, if `user` may take it (its topic's access decides).
async fn allowed(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: Uuid,
) -> MissionResult<(MissionRow, crate::catalog::TopicPlace)> {
    let mission = repo::mission(conn, id)
        .await?
        .ok_or(MissionError::NotFound)?;
    let (place, access) = access::viewer_access(conn, Some(user), mission.topic_id)
        .await?
        .ok_or(MissionError::NotFound)?;
    may_take(access, mission.topic_id)?;
    Ok((mission, place))
}

/// Refuses a learner whose `access` to the mission's `topic` does not let
/// them take it.
fn may_take(access: access::TopicAccess, topic: TopicId) -> MissionResult<()> {
    match access.may_study() {
        true => Ok(()),
        false => Err(MissionError::Locked {
            topic,
            lapsed: access == access::TopicAccess::Lapsed,
        }),
    }
}

/// Whether an attempt started at `started` is over at `now` (its time
/// limit and the grace for a slow network both passed): the one rule the
/// page, a new start and a late submission share.
fn past_time(mission: &MissionRow, started: OffsetDateTime, now: OffsetDateTime) -> bool {
    deadline(mission, started).is_some_and(|d| d + GRACE < now)
}

fn deadline(mission: &MissionRow, started: OffsetDateTime) -> Option<OffsetDateTime> {
    mission
        .time_limit_secs
        .map(|s| started + Duration::seconds(i64::from(s)))
}

/// What every learner of a mission sees alike: the mission, its questions
/// with prompts and explanations rendered from Markdown once, their
/// choices, and their tests as shown (hidden ones only counted). Kept per
/// mission by [`content`].
pub struct MissionContent {
    mission: MissionRow,
    questions: Vec<QuestionContent>,
}

struct QuestionContent {
    row: QuestionRow,
    /// The prompt as safe HTML.
    prompt: String,
    /// The explanation as safe HTML, when there is one.
    explanation: Option<String>,
    choices: Vec<repo::ChoiceRow>,
    visible: Vec<VisibleTest>,
    hidden: usize,
}

/// Missions' content, kept a few seconds: every learner on a mission shares
/// one load and one Markdown rendering. Each studio change in this process
/// ([`missions_changed`], after its commit) drops them; other instances see
/// a change within the TTL.
static MISSIONS: LazyLock<Cache<Option<MissionContent>>> =
    LazyLock::new(|| Cache::new(std::time::Duration::from_secs(5)));

/// Forgets the kept mission content: a mission, question, choice or test
/// changed. Call it after the commit.
pub fn missions_changed() {
    MISSIONS.invalidate();
    crate::infra::changes::announce(MISSIONS_CHANGED);
}

/// Counts the changes to missions' content seen here: what is kept of a
/// learner's standings was read at one.
pub(super) fn missions_generation() -> u64 {
    MISSIONS.generation()
}

/// What other instances hear when a mission changed here.
pub const MISSIONS_CHANGED: &str = "assessments.missions";

/// Drops this instance's kept mission content (another instance changed it).
pub fn forget_missions() {
    MISSIONS.invalidate();
}

/// A mission's content, from the cache or the database (`None`: gone).
async fn content(db: &PgPool, id: Uuid) -> sqlx::Result<Arc<Option<MissionContent>>> {
    MISSIONS
        .get_or_load(&id.to_string(), async {
            let mut conn = db.acquire().await?;
            let Some(mission) = repo::mission(&mut conn, id).await? else {
                return Ok(None);
            };
            let questions = repo::questions(&mut conn, id).await?;
            let ids: Vec<Uuid> = questions.iter().map(|q| q.id).collect();
            let mut choices: HashMap<Uuid, Vec<repo::ChoiceRow>> = HashMap::new();
            for c in repo::choices(&mut conn, &ids).await? {
                choices.entry(c.question_id).or_default().push(c);
            }
            let mut tests: HashMap<Uuid, Vec<repo::TestRow>> = HashMap::new();
            for t in repo::tests(&mut conn, &ids).await? {
                tests.entry(t.question_id).or_default().push(t);
            }
            let questions = questions
                .into_iter()
                .map(|q| {
                    let all = tests.remove(&q.id).unwrap_or_default();
                    let file = q.mode.as_deref() == Some(Mode::File.as_str());
                    QuestionContent {
                        prompt: markdown::render(&q.prompt),
                        explanation: (!q.explanation.is_empty())
                            .then(|| markdown::render(&q.explanation)),
                        choices: choices.remove(&q.id).unwrap_or_default(),
                        hidden: all.iter().filter(|t| !t.visible).count(),
                        visible: all
                            .into_iter()
                            .filter(|t| t.visible)
                            .map(|t| VisibleTest {
                                input: shown_input(file, &t.input, &t.harness),
                                expected: t.expected,
                            })
                            .collect(),
                        row: q,
                    }
                })
                .collect();
            Ok(Some(MissionContent { mission, questions }))
        })
        .await
}

/// A learner's own state on a mission: their attempts, their result and
/// their code. Kept in their entry (`learning::mine`) until their next
/// change; every writer of it here calls `learning::mine::changed`.
struct Taken {
    /// The code questions it was read for (the studio may add or remove one).
    code_questions: Vec<Uuid>,
    /// Latest first.
    attempts: Vec<repo::AttemptRow>,
    /// The best score and whether it passed.
    best: Option<(i32, bool)>,
    /// What each code question's editor opens with: the draft, else the
    /// code last submitted (else, not here, the starter code).
    written: HashMap<Uuid, String>,
    /// Each code question's latest submission.
    latest: HashMap<Uuid, SubmissionView>,
}

impl Taken {
    /// One statement, and one more on a mission with code questions.
    async fn read(
        conn: &mut PgConnection,
        user: UserId,
        mission: Uuid,
        code_questions: &[Uuid],
    ) -> MissionResult<Self> {
        let (attempts, best) = repo::learner_attempts(conn, mission, user).await?;
        let (submissions, drafts) = match code_questions.is_empty() {
            true => Default::default(),
            false => repo::learner_code(conn, user, code_questions).await?,
        };
        let mut written = HashMap::new();
        let mut latest = HashMap::new();
        for s in submissions {
            written.insert(s.question_id, s.code.clone());
            latest.insert(s.question_id, SubmissionView::of(s));
        }
        written.extend(drafts);
        Ok(Self {
            code_questions: code_questions.to_vec(),
            attempts,
            best,
            written,
            latest,
        })
    }
}

/// The mission page for `user`. It writes nothing: an attempt opens with
/// [`start_attempt`], and an open attempt past its time shows as over (it
/// is closed, graded as it stands, when the learner next starts one).
/// The mission, its topic and course come from caches; the learner's own
/// attempts, result, code and drafts ([`Taken`]) are kept in their entry
/// until their next change.
pub async fn mission_page(
    db: &PgPool,
    catalog: &CatalogCache,
    user: &CurrentUser,
    mission: MissionId,
) -> MissionResult<MissionView> {
    let id = mission.0;
    let content = content(db, id).await?;
    let content = content.as_ref().as_ref().ok_or(MissionError::NotFound)?;
    let mission = &content.mission;
    let topic = catalog.topic(db, mission.topic_id).await?;
    let place = &topic.as_ref().as_ref().ok_or(MissionError::NotFound)?.place;
    let course = catalog
        .course(db, place.course)
        .await
        .map_err(|e| match e {
            CatalogError::Database(e) => MissionError::Db(e),
            _ => MissionError::NotFound,
        })?;
    let code_questions: Vec<Uuid> = content
        .questions
        .iter()
        .filter(|q| q.row.kind == QuestionKind::Code)
        .map(|q| q.row.id)
        .collect();
    // Taken before anything of the learner's is read (see `Mine`).
    let mine = Mine::of(user.id).await;
    let mut conn = db.acquire().await?;
    let access = access::viewer_access_at(&mut conn, Some(user), place, &course.sellers)
        .await?
        .ok_or(MissionError::NotFound)?;
    may_take(access, mission.topic_id)?;
    let taken = mine
        .part_or_load(
            id,
            |kept: &Taken| kept.code_questions == code_questions,
            Taken::read(&mut conn, user.id, id, &code_questions),
        )
        .await?;
    drop(conn);
    let attempts = &taken.attempts;
    let best = taken.best;
    let now = OffsetDateTime::now_utc();
    let over = |a: &&repo::AttemptRow| past_time(mission, a.started_at, now);
    let unsubmitted = attempts.iter().find(|a| a.submitted_at.is_none());
    let timed_out = unsubmitted.is_some_and(|a| over(&a));
    let open = unsubmitted.filter(|a| !over(a));
    let last = attempts.iter().find(|a| a.submitted_at.is_some());
    let wait = open
        .is_none()
        .then(|| why_closed(mission, attempts))
        .flatten();
    let may_start = open.is_none() && wait.is_none();
    let attempts_used_up = matches!(wait, Some(MissionError::AttemptsUsed));
    let reveal = attempts_used_up || best.is_some_and(|(_, passed)| passed);
    let seed = open.or(last).map_or(0, |a| a.shuffle_seed);
    let views = content
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let mut slots: Vec<Option<ChoiceView>> = q
                .choices
                .iter()
                .map(|c| {
                    Some(ChoiceView {
                        id: c.id,
                        body: c.body.clone(),
                        correct: reveal.then_some(c.correct),
                    })
                })
                .collect();
            let shuffled = grading::shuffled(slots.len(), seed, q.row.id)
                .into_iter()
                .filter_map(|k| slots.get_mut(k)?.take())
                .collect();
            let code = (q.row.kind == QuestionKind::Code).then(|| CodeView {
                language: q.row.language.unwrap_or(Language::JavaScript),
                starter: taken
                    .written
                    .get(&q.row.id)
                    .unwrap_or(&q.row.starter_code)
                    .clone(),
                hidden: q.hidden,
                visible: q.visible.clone(),
                latest: taken.latest.get(&q.row.id).cloned(),
            });
            QuestionView {
                id: q.row.id,
                number: i + 1,
                kind: q.row.kind,
                prompt: q.prompt.clone(),
                points: q.row.points,
                multiple: q.row.multiple,
                choices: shuffled,
                code,
                explanation: q.explanation.clone().filter(|_| reveal),
            }
        })
        .collect();
    Ok(MissionView {
        id,
        topic: mission.topic_id,
        title: place.title.clone(),
        course: place.course,
        course_title: place.course_title.clone(),
        kind: mission.kind,
        pass_percent: mission.pass_percent,
        max_attempts: mission.max_attempts,
        time_limit_secs: mission.time_limit_secs,
        open: open.map(|a| AttemptView {
            number: a.number,
            deadline: deadline(mission, a.started_at),
        }),
        next_attempt_at: match wait {
            Some(MissionError::CoolingDown { until }) => Some(until),
            _ => None,
        },
        attempts_used_up,
        may_start,
        timed_out,
        used: attempts.iter().filter(|a| a.submitted_at.is_some()).count() as i32,
        last: last.map(|a| LastAttempt {
            number: a.number,
            score: a.score.unwrap_or(0),
            earned: reveal.then(|| {
                a.feedback
                    .as_ref()
                    .map(|f| f.0.iter().copied().collect())
                    .unwrap_or_default()
            }),
            picked: reveal.then(|| a.answers.as_ref().map(|j| j.0.clone()).unwrap_or_default()),
        }),
        best,
        questions: views,
    })
}

/// Starts an attempt at `id`'s choice questions (the time limit runs from
/// now). One past its time is closed first, graded as it stands; an open
/// one is kept. Refused when every attempt is used or the cooldown runs.
pub async fn start_attempt(
    conn: &mut PgConnection,
    completion: &Completion,
    user: &CurrentUser,
    mission: MissionId,
) -> MissionResult<()> {
    let id = mission.0;
    let (mission, _) = allowed(conn, user, id).await?;
    let questions = repo::questions(conn, id).await?;
    let mut tx = conn.begin().await?;
    if let Some(open) = repo::lock_open_attempt(&mut tx, id, user.id).await? {
        if !past_time(&mission, open.started_at, OffsetDateTime::now_utc()) {
            return Ok(());
        }
        close_unanswered(&mut tx, completion, &mission, &questions, user.id, open.id).await?;
    }
    repo::open_attempt(&mut tx, id, user.id, rand::random(), mission.rules()).await?;
    tx.commit().await?;
    // Closing one past its time may have completed the topic.
    learning::mine::changed(user.id);
    let attempts = repo::attempts(conn, id, user.id).await?;
    if attempts.iter().any(|a| a.submitted_at.is_none()) {
        Ok(())
    } else {
        Err(why_closed(&mission, &attempts).unwrap_or(MissionError::NoOpenAttempt))
    }
}

/// The mission's score for `user` now, 0-100, counting `choice_points` for
/// the choice part (or their best attempt's) and their best code results.
async fn score_now(
    conn: &mut PgConnection,
    user: UserId,
    mission: Uuid,
    questions: &[QuestionRow],
    choice_points: Option<i32>,
) -> sqlx::Result<i32> {
    let total: i32 = questions.iter().map(|q| q.points).sum();
    if total == 0 {
        return Ok(0);
    }
    let choice = match choice_points {
        Some(points) => points,
        None => repo::best_choice_points(conn, user, mission).await?,
    };
    let points: HashMap<Uuid, i32> = questions.iter().map(|q| (q.id, q.points)).collect();
    let code: i32 = repo::best_code_scores(conn, user, mission)
        .await?
        .into_iter()
        .map(|(q, best)| points.get(&q).copied().unwrap_or(0) * best)
        .sum();
    Ok(((choice * 100 + code) / total).clamp(0, 100))
}

/// Keeps the best score and completes the mission's topic once it passes.
async fn record(
    conn: &mut PgConnection,
    completion: &Completion,
    mission: &MissionRow,
    user: UserId,
    score: i32,
) -> anyhow::Result<bool> {
    let (_, passed, _) =
        repo::record_result(conn, mission.id, user, score, mission.pass_percent).await?;
    if passed {
        completion.complete(conn, user, mission.topic_id).await?;
    }
    Ok(passed)
}

/// Why no attempt can be opened now (none is open): all are used, or the
/// cooldown since the last one runs; `None` when one may open.
fn why_closed(mission: &MissionRow, attempts: &[repo::AttemptRow]) -> Option<MissionError> {
    let used = attempts.len();
    if mission
        .max_attempts
        .is_some_and(|max| used >= usize::try_from(max).unwrap_or(0))
    {
        return Some(MissionError::AttemptsUsed);
    }
    let last = attempts.iter().filter_map(|a| a.submitted_at).max()?;
    let until = last + Duration::seconds(i64::from(mission.cooldown_secs));
    (until > OffsetDateTime::now_utc()).then_some(MissionError::CoolingDown { until })
}

/// Closes an attempt whose time ran out, with no answers: it counts, and
/// scores what was already graded (code).
async fn close_unanswered(
    conn: &mut PgConnection,
    completion: &Completion,
    mission: &MissionRow,
    questions: &[QuestionRow],
    user: UserId,
    attempt: Uuid,
) -> anyhow::Result<(i32, bool)> {
    close_attempt(conn, completion, mission, questions, user, attempt, &[]).await
}

/// Grades an attempt's choices, closes it and records the score.
async fn close_attempt(
    conn: &mut PgConnection,
    completion: &Completion,
    mission: &MissionRow,
    questions: &[QuestionRow],
    user: UserId,
    attempt: Uuid,
    answers: &[(String, String)],
) -> anyhow::Result<(i32, bool)> {
    let ids: Vec<Uuid> = questions.iter().map(|q| q.id).collect();
    let mut correct: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut owner: HashMap<Uuid, Uuid> = HashMap::new();
    for c in repo::choices(conn, &ids).await? {
        owner.insert(c.id, c.question_id);
        if c.correct {
            correct.entry(c.question_id).or_default().push(c.id);
        }
    }
    let mut picked: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (key, value) in answers {
        let (Some(q), Ok(choice)) = (
            key.strip_prefix("q-").and_then(|q| q.parse::<Uuid>().ok()),
            value.parse::<Uuid>(),
        ) else {
            continue;
        };
        // Only a choice of that very question counts.
        if owner.get(&choice) == Some(&q) {
            picked.entry(q).or_default().push(choice);
        }
    }
    let feedback: Vec<(Uuid, i32)> = questions
        .iter()
        .filter(|q| q.kind == QuestionKind::Choice)
        .map(|q| {
            let got = picked.get(&q.id).map(Vec::as_slice).unwrap_or_default();
            let key = correct.get(&q.id).map(Vec::as_slice).unwrap_or_default();
            (q.id, grading::choice_points(got, key, q.points))
        })
        .collect();
    let choice_points: i32 = feedback.iter().map(|(_, p)| p).sum();
    let score = score_now(conn, user, mission.id, questions, Some(choice_points)).await?;
    let stored = serde_json::to_value(
        picked
            .iter()
            .map(|(q, c)| (q.to_string(), c.clone()))
            .collect::<HashMap<_, _>>(),
    )
    .unwrap_or_default();
    repo::submit_attempt(conn, attempt, &stored, &feedback, choice_points, score).await?;
    let passed = record(conn, completion, mission, user, score).await?;
    Ok((score, passed))
}

/// Submits the open attempt's choice answers (`q-{question}` = choice id);
/// returns the attempt's score and whether the mission is passed (and its
/// certificates checked).
pub async fn submit_choices(
    conn: &mut PgConnection,
    completion: &Completion,
    user: &CurrentUser,
    mission: MissionId,
    answers: &[(String, String)],
) -> MissionResult<(i32, bool)> {
    let id = mission.0;
    let (mission, _) = allowed(conn, user, id).await?;
    let mut tx = conn.begin().await?;
    let Some(open) = repo::lock_open_attempt(&mut tx, id, user.id).await? else {
        let attempts = repo::attempts(&mut tx, id, user.id).await?;
        return Err(why_closed(&mission, &attempts).unwrap_or(MissionError::NoOpenAttempt));
    };
    let questions = repo::questions(&mut tx, id).await?;
    if past_time(&mission, open.started_at, OffsetDateTime::now_utc()) {
        close_unanswered(&mut tx, completion, &mission, &questions, user.id, open.id).await?;
        tx.commit().await?;
        learning::mine::changed(user.id);
        return Err(MissionError::TimeUp);
    }
    let outcome = close_attempt(
        &mut tx, completion, &mission, &questions, user.id, open.id, answers,
    )
    .await?;
    tx.commit().await?;
    learning::mine::changed(user.id);
    Ok(outcome)
}

/// Takes a code submission for grading: one pending per learner,
/// `per_minute` a minute, and only when the sandbox can run it.
/// Keeps the code a learner is writing for `question` (a reload brings it
/// back). Only for a code question of a mission they may take.
pub async fn save_draft(
    conn: &mut PgConnection,
    user: &CurrentUser,
    mission: MissionId,
    question: QuestionId,
    code: &str,
) -> MissionResult<()> {
    allowed(conn, user, mission.0).await?;
    if code.len() > MAX_CODE_BYTES {
        return Err(MissionError::CodeTooLong);
    }
    match repo::question(conn, question.0).await? {
        Some((of, q)) if of == mission.0 && q.kind == QuestionKind::Code => {}
        _ => return Err(MissionError::NotCode),
    }
    repo::save_draft(conn, user.id, question.0, code).await?;
    learning::mine::changed(user.id);
    Ok(())
}

/// Code sent for a question: to be graded, or (`trial`) run against the
/// visible tests only, without counting.
pub struct SentCode<'a> {
    pub question: QuestionId,
    pub code: &'a str,
    pub trial: bool,
}

pub async fn submit_code(
    conn: &mut PgConnection,
    grader: &Grader,
    per_minute: i64,
    user: &CurrentUser,
    mission: MissionId,
    sent: SentCode<'_>,
) -> MissionResult<SubmissionId> {
    let SentCode {
        question,
        code,
        trial,
    } = sent;
    let (id, question) = (mission.0, question.0);
    allowed(conn, user, id).await?;
    if code.trim().is_empty() {
        return Err(MissionError::CodeEmpty);
    }
    if code.len() > MAX_CODE_BYTES {
        return Err(MissionError::CodeTooLong);
    }
    match repo::question(conn, question).await? {
        Some((mission, q)) if mission == id && q.kind == QuestionKind::Code => {}
        _ => return Err(MissionError::NotCode),
    }
    if let Some(why) = grader.unusable().await {
        return Err(MissionError::GraderDown(why));
    }
    let limit = Limit::new("code_submissions", per_minute, 60);
    if let Some(wait) = limit.reserve(conn, &user.id.to_string()).await? {
        return Err(MissionError::TooMany(wait));
    }
    let mut tx = conn.begin().await?;
    let submission = repo::insert_submission(&mut tx, question, user.id, code, trial)
        .await?
        .ok_or(MissionError::OnePending)?;
    // What was submitted is the latest code: the editor opens with it.
    repo::save_draft(&mut tx, user.id, question, code).await?;
    let job = jobs::enqueue(
        &mut tx,
        GRADE_JOB,
        serde_json::json!({ "submission": submission }),
        EnqueueOptions {
            max_attempts: Some(3),
            ..EnqueueOptions::default()
        },
    )
    .await?;
    if let Some(job) = job {
        repo::set_submission_job(&mut tx, submission, job.0).await?;
    }
    tx.commit().await?;
    learning::mine::changed(user.id);
    Ok(SubmissionId(submission))
}

/// A learner's own submission.
pub async fn submission(
    conn: &mut PgConnection,
    user: &CurrentUser,
    submission: SubmissionId,
) -> MissionResult<SubmissionView> {
    let id = submission.0;
    let row = repo::submission(conn, id)
        .await?
        .ok_or(MissionError::NotFound)?;
    if row.user_id != user.id {
        return Err(MissionError::NotFound);
    }
    Ok(SubmissionView::of(row))
}

/// What a visible test shows as what it runs: its input, or the call its
/// harness makes; a file check's program is the tutor's, not shown (`None`).
fn shown_input(file: bool, input: &str, harness: &str) -> Option<String> {
    if file {
        None
    } else if input.is_empty() {
        Some(harness.to_owned())
    } else {
        Some(input.to_owned())
    }
}

/// A program's output as a learner sees it and the database keeps it: at
/// most 2,000 characters, invalid UTF-8 replaced, and NUL (which PostgreSQL
/// text cannot hold) shown as the symbol for it.
fn shown_output(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .chars()
        .take(2000)
        .map(|c| if c == '\0' { '\u{2400}' } else { c })
        .collect()
}

/// The files, the harness handed over apart (never in a file the program
/// can read) and the limits of one test run of `code`.
fn test_files(
    q: &QuestionRow,
    code: &str,
    harness: &str,
) -> (
    Language,
    Vec<(&'static str, String)>,
    Option<String>,
    Limits,
) {
    let language = q.language.unwrap_or(Language::JavaScript);
    let mode = q
        .mode
        .as_deref()
        .and_then(Mode::parse)
        .unwrap_or(Mode::Program);
    let base = Limits::default_for(language);
    let limits = Limits {
        cpu_secs: u64::try_from(q.cpu_secs).unwrap_or(5),
        wall: std::time::Duration::from_secs(u64::try_from(q.cpu_secs).unwrap_or(5) * 2 + 2),
        // Node cannot start below its default.
        memory_mb: u64::try_from(q.memory_mb)
            .unwrap_or(512)
            .max(base.memory_mb),
        ..base
    };
    let (files, harness) = match mode {
        Mode::Program => (
            vec![(language.main_file(), code.to_owned())],
            Some(harness.to_owned()),
        ),
        Mode::File => (
            vec![
                (language.main_file(), harness.to_owned()),
                ("answer.txt", code.to_owned()),
            ],
            None,
        ),
    };
    (language, files, harness, limits)
}

/// The grading job: runs every test of the submission's question in the
/// sandbox, records the verdict once, and rescores the mission.
pub async fn grade(
    db: &PgPool,
    grader: &Grader,
    completion: &Completion,
    id: Uuid,
) -> anyhow::Result<()> {
    let mut conn = db.acquire().await?;
    let Some(sub) = repo::submission(&mut conn, id).await? else {
        return Ok(());
    };
    if !sub.verdict.is_pending() {
        return Ok(());
    }
    let Some((mission_id, question)) = repo::question(&mut conn, sub.question_id).await? else {
        return Ok(());
    };
    // A trial runs the visible tests only.
    let tests: Vec<repo::TestRow> = repo::tests(&mut conn, &[question.id])
        .await?
        .into_iter()
        .filter(|t| t.visible || !sub.trial)
        .collect();
    let mode = question
        .mode
        .as_deref()
        .and_then(Mode::parse)
        .unwrap_or(Mode::Program);
    drop(conn);
    let sandbox = grader.sandbox().await;
    let mut results = Vec::with_capacity(tests.len());
    for test in &tests {
        // A program that ran out of time would again: the tests after it
        // count as out of time without holding a grading slot for another
        // wall clock each (a sleeping program held one 36 s).
        if results
            .last()
            .is_some_and(|r: &TestResult| r.verdict == Verdict::TimeLimit)
        {
            results.push(TestResult {
                visible: test.visible,
                verdict: Verdict::TimeLimit,
                input: test
                    .visible
                    .then(|| shown_input(mode == Mode::File, &test.input, &test.harness))
                    .flatten(),
                expected: test.visible.then(|| test.expected.clone()),
                got: None,
                error: None,
                line: None,
            });
            continue;
        }
        let (language, files, harness, limits) = test_files(&question, &sub.code, &test.harness);
        let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
        let run = sandbox
            .run_with_harness(
                language,
                &borrowed,
                harness.as_deref().map(str::as_bytes),
                test.input.as_bytes(),
                limits,
            )
            .await?;
        let verdict = grading::judge(&run, &test.expected);
        let crashed = test.visible
            && mode == Mode::Program
            && matches!(verdict, Verdict::RuntimeError | Verdict::CompileError);
        let (error, line) = match crashed {
            true => grading::crash(&run.stderr_text(), language.main_file()),
            false => (None, None),
        };
        results.push(TestResult {
            visible: test.visible,
            verdict,
            input: test
                .visible
                .then(|| shown_input(mode == Mode::File, &test.input, &test.harness))
                .flatten(),
            expected: test.visible.then(|| test.expected.clone()),
            got: test.visible.then(|| shown_output(&run.stdout)),
            error,
            line,
        });
        // A program that does not parse fails every test the same way.
        if verdict == Verdict::CompileError {
            break;
        }
    }
    let (verdict, score) = grading::overall(&results);
    metrics::counter!("weaverse_grading_runs_total", "verdict" => verdict.as_str()).increment(1);
    let message = (verdict == Verdict::CompileError).then(|| COMPILE_ERROR.to_owned());
    let mut conn = db.acquire().await?;
    let mut tx = conn.begin().await?;
    let graded = repo::grade_submission(&mut tx, id, verdict, score, &results, message.as_deref())
        .await
        .map_err(|err| match err {
            // The database refused these values: it would again.
            sqlx::Error::Database(_) => jobs::Permanent(err.into()).into(),
            err => anyhow::Error::from(err),
        })?
        .is_some();
    if graded
        && !sub.trial
        && let Some(mission) = repo::mission(&mut tx, mission_id).await?
    {
        let questions = repo::questions(&mut tx, mission_id).await?;
        let now = score_now(&mut tx, sub.user_id, mission_id, &questions, None).await?;
        record(&mut tx, completion, &mission, sub.user_id, now).await?;
    }
    tx.commit().await?;
    learning::mine::changed(sub.user_id);
    Ok(())
}

/// A submission's note (`submissions.message`): codes, put into words by
/// the page (`labels::submission_note`).
pub const COMPILE_ERROR: &str = "compile_error";
pub const GRADER_FAILED: &str = "grader_failed";

/// When grading gave up (the sandbox failed every try): the submission is
/// closed with the reason, so the learner may submit again.
pub async fn grading_failed(db: &PgPool, id: Uuid, reason: &str) -> anyhow::Result<()> {
    tracing::error!(%id, %reason, "grading gave up");
    let mut conn = db.acquire().await?;
    repo::grade_submission(
        &mut conn,
        id,
        Verdict::RuntimeError,
        0,
        &[],
        Some(GRADER_FAILED),
    )
    .await?
    .inspect(|user| learning::mine::changed(*user));
    Ok(())
}

/// The average of the learner's best scores on the missions of `topics`
/// (`None` when there are none), for certificates.
pub async fn mission_score(
    conn: &mut PgConnection,
    user: UserId,
    topics: &[TopicId],
) -> sqlx::Result<Option<i32>> {
    let ids: Vec<Uuid> = topics.iter().map(|t| t.0).collect();
    let scores = repo::best_scores_on(conn, user, &ids).await?;
    Ok((!scores.is_empty()).then(|| scores.iter().sum::<i32>() / scores.len() as i32))
}

/// The mission of a mission topic, for the lesson page's link.
pub async fn mission_of_topic(
    conn: &mut PgConnection,
    topic: TopicId,
) -> sqlx::Result<Option<Uuid>> {
    Ok(repo::mission_of_topic(conn, topic).await?.map(|m| m.id))
}

/// Whether `user` has an attempt in progress (started in the last three
/// hours, not submitted) on a mission of any of `topics`.
pub async fn attempt_in_progress(
    conn: &mut PgConnection,
    user: crate::ids::UserId,
    topics: &[TopicId],
) -> sqlx::Result<bool> {
    let ids: Vec<Uuid> = topics.iter().map(|t| t.0).collect();
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM attempts a JOIN missions m ON m.id = a.mission_id
                   WHERE a.user_id = $1 AND a.submitted_at IS NULL AND m.topic_id = ANY($2)
                     AND a.started_at > now() - interval '3 hours') AS "open!""#,
        user.0,
        &ids
    )
    .fetch_one(conn)
    .await
}

/// Registers the grading job (at most `slots` at once, like the sandbox).
pub fn register(
    worker: &mut jobs::Worker,
    db: PgPool,
    grader: Arc<Grader>,
    completion: Completion,
) {
    let (run_db, run_grader) = (db.clone(), grader.clone());
    worker.register(GRADE_JOB, move |payload| {
        let (db, grader, completion) = (run_db.clone(), run_grader.clone(), completion.clone());
        async move {
            let id: Uuid = serde_json::from_value(payload["submission"].clone())?;
            grade(&db, &grader, &completion, id).await
        }
    });
    worker.on_give_up(GRADE_JOB, move |payload, reason| {
        let db = db.clone();
        async move {
            let id: Uuid = serde_json::from_value(payload["submission"].clone())?;
            grading_failed(&db, id, &reason).await
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_with_nul_and_broken_utf8_is_kept_as_text_the_database_takes() {
        assert_eq!(shown_output(b"a\0b\xff\n"), "a\u{2400}b\u{fffd}\n");
        assert_eq!(shown_output(&[b'x'; 5000]).chars().count(), 2000);
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn a_choice_mission_scores_its_points_and_the_best_score_is_the_missions(db: PgPool) {
        use crate::catalog::model::Product;
        let mut conn = db.acquire().await.unwrap();
        let (user, curriculum) = crate::catalog::seed::testing::seeded_learner(&mut conn).await;
        crate::assessments::seed_demo(&mut conn).await.unwrap();
        let order = crate::catalog::seed::testing::paid_order(&mut conn, user).await;
        access::grant(&mut conn, user, order, Product::Curriculum(curriculum), 24)
            .await
            .unwrap();
        let learner = CurrentUser {
            id: user,
            email: "l@example.com".into(),
            nickname: "learner".into(),
            role: crate::accounts::Role::Student,
            verified: true,
            auth_session: Uuid::new_v4(),
            avatar: None,
        };
        // A mission of choice questions only, and its right answers.
        let (mission, topic): (Uuid, Uuid) = sqlx::query_as(
            "SELECT m.id, m.topic_id FROM missions m
              WHERE NOT EXISTS (SELECT 1 FROM questions q WHERE q.mission_id = m.id AND q.kind = 'code')
              ORDER BY m.topic_id LIMIT 1",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        let right: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT q.id, c.id FROM questions q JOIN choices c ON c.question_id = q.id
              WHERE q.mission_id = $1 AND q.deleted_at IS NULL AND c.correct",
        )
        .bind(mission)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let completion = Completion::unheard();
        // Before any attempt there is no score.
        assert_eq!(
            mission_score(&mut conn, user, &[TopicId(topic)])
                .await
                .unwrap(),
            None
        );
        start_attempt(&mut conn, &completion, &learner, MissionId(mission))
            .await
            .unwrap();
        let answers: Vec<(String, String)> = right
            .iter()
            .map(|(q, c)| (format!("q-{q}"), c.to_string()))
            .collect();
        let (score, passed) = submit_choices(
            &mut conn,
            &completion,
            &learner,
            MissionId(mission),
            &answers,
        )
        .await
        .unwrap();
        assert_eq!((score, passed), (100, true));
        assert_eq!(
            mission_score(&mut conn, user, &[TopicId(topic)])
                .await
                .unwrap(),
            Some(100)
        );
        // The attempt is closed: answering again is refused, not re-scored.
        assert!(matches!(
            submit_choices(
                &mut conn,
                &completion,
                &learner,
                MissionId(mission),
                &answers
            )
            .await,
            Err(MissionError::NoOpenAttempt | MissionError::CoolingDown { .. })
        ));
    }
}
