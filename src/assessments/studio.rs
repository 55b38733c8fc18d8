//! The studio's mission editor, as rules: a mission's settings, its
//! questions, their choices and, for code questions, the visible and hidden
//! tests. Only the course's author and admins change them (the catalogue
//! says who). Every change returns the mission's topic, to show its editor
//! again; a refused form is a `MissionError::Refused` with the reason.

use std::collections::HashMap;

use sqlx::{Acquire, PgConnection};
use uuid::Uuid;

use crate::{
    accounts::CurrentUser,
    assessments::{
        model::{MissionKind, Mode, QuestionKind},
        repo::{self, AttemptRules, ChoiceRow, MissionRow, NewQuestion, QuestionRow, TestRow},
        sandbox::Language,
        service::{MissionError, MissionResult, missions_changed},
    },
    catalog::{self, error::CatalogError, model::TopicKind},
    ids::{ChoiceId, CourseId, MissionId, QuestionId, TestId, TopicId},
    text,
};

/// Why the editor refused a form: one reason, said above the editor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A mission on a topic that is not a mission topic.
    NotMissionTopic,
    MissionKind,
    PassPercent,
    MaxAttempts,
    TimeLimit,
    Cooldown,
    QuestionKind,
    Prompt,
    Points,
    Language,
    Mode,
    StarterTooLong,
    ExplanationTooLong,
    CpuSecs,
    MemoryMb,
    /// A choice added to a code question.
    ChoiceOnCode,
    ChoiceBody,
    /// A test added to a multiple-choice question.
    TestOnChoice,
    ExpectedMissing,
    TestTooLong,
}

/// A refusal on the editor of `topic`.
fn on(topic: TopicId) -> impl Fn(Refusal) -> MissionError {
    move |why| MissionError::Refused { topic, why }
}

/// The catalogue's "no" about the topic, as the editor's.
fn from_catalog(err: CatalogError) -> MissionError {
    match err {
        CatalogError::NotFound => MissionError::NotFound,
        CatalogError::NotAuthor(_) => MissionError::NotAuthor,
        CatalogError::Database(err) => MissionError::Db(err),
        other => MissionError::Other(other.into()),
    }
}

/// The topic, when `user` may edit its course.
async fn editable_topic(
    conn: &mut PgConnection,
    user: &CurrentUser,
    topic: TopicId,
) -> MissionResult<catalog::EditableTopic> {
    catalog::studio::topic_for_editing(conn, user, topic)
        .await
        .map_err(from_catalog)
}

/// One question of the editor, with what belongs to it.
pub struct EditorQuestion {
    pub q: QuestionRow,
    pub choices: Vec<ChoiceRow>,
    pub tests: Vec<TestRow>,
}

/// Everything the mission editor shows.
pub struct Editor {
    pub topic: TopicId,
    pub title: String,
    pub course: CourseId,
    pub mission: Option<MissionRow>,
    pub questions: Vec<EditorQuestion>,
}

pub async fn editor(
    conn: &mut PgConnection,
    user: &CurrentUser,
    topic: TopicId,
) -> MissionResult<Editor> {
    let row = editable_topic(conn, user, topic).await?;
    let mission = repo::mission_of_topic(conn, topic).await?;
    let mut questions = Vec::new();
    if let Some(m) = &mission {
        let rows = repo::questions(conn, m.id).await?;
        let ids: Vec<Uuid> = rows.iter().map(|q| q.id).collect();
        let mut choices: HashMap<Uuid, Vec<ChoiceRow>> = HashMap::new();
        for c in repo::choices(conn, &ids).await? {
            choices.entry(c.question_id).or_default().push(c);
        }
        let mut tests: HashMap<Uuid, Vec<TestRow>> = HashMap::new();
        for t in repo::tests(conn, &ids).await? {
            tests.entry(t.question_id).or_default().push(t);
        }
        for q in rows {
            questions.push(EditorQuestion {
                choices: choices.remove(&q.id).unwrap_or_default(),
                tests: tests.remove(&q.id).unwrap_or_default(),
                q,
            });
        }
    }
    Ok(Editor {
        topic,
        title: row.title,
        course: row.course_id,
        mission,
        questions,
    })
}

fn number(raw: &str, range: std::ops::RangeInclusive<i32>) -> Option<i32> {
    raw.trim().parse::<i32>().ok().filter(|n| range.contains(n))
}

/// An optional number: empty is `None`, anything else must be in `range`.
fn optional(
    raw: &str,
    range: std::ops::RangeInclusive<i32>,
    why: Refusal,
) -> Result<Option<i32>, Refusal> {
    match raw.trim() {
        "" => Ok(None),
        _ => number(raw, range).map(Some).ok_or(why),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct MissionForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub pass_percent: String,
    #[serde(default)]
    pub max_attempts: String,
    #[serde(default)]
    pub cooldown_minutes: String,
    #[serde(default)]
    pub time_limit_minutes: String,
}

fn valid_settings(
    topic_kind: TopicKind,
    form: &MissionForm,
) -> Result<(MissionKind, i32, AttemptRules), Refusal> {
    if topic_kind != TopicKind::Mission {
        return Err(Refusal::NotMissionTopic);
    }
    let kind = MissionKind::parse(&form.kind).ok_or(Refusal::MissionKind)?;
    let pass = number(&form.pass_percent, 1..=100).ok_or(Refusal::PassPercent)?;
    let rules = AttemptRules {
        max_attempts: optional(&form.max_attempts, 1..=100, Refusal::MaxAttempts)?,
        cooldown_secs: optional(&form.cooldown_minutes, 0..=10_080, Refusal::Cooldown)?
            .unwrap_or(10)
            * 60,
        time_limit_secs: optional(&form.time_limit_minutes, 1..=600, Refusal::TimeLimit)?
            .map(|m| m * 60),
    };
    Ok((kind, pass, rules))
}

/// Creates the topic's mission or saves its settings.
pub async fn save_mission(
    conn: &mut PgConnection,
    user: &CurrentUser,
    topic: TopicId,
    form: &MissionForm,
) -> MissionResult<TopicId> {
    let row = editable_topic(conn, user, topic).await?;
    let (kind, pass, rules) = valid_settings(row.kind, form).map_err(on(topic))?;
    let mut tx = conn.begin().await?;
    crate::infra::db::lock(&mut tx, "mission", &topic.to_string()).await?;
    match repo::mission_of_topic(&mut tx, topic).await? {
        Some(m) => repo::update_mission(&mut tx, m.id, kind, pass, rules).await?,
        None => {
            repo::insert_mission(&mut tx, topic, kind, pass, rules).await?;
        }
    }
    tx.commit().await?;
    missions_changed();
    Ok(topic)
}

/// The mission's topic, when `user` may edit it.
async fn mission_topic(
    conn: &mut PgConnection,
    user: &CurrentUser,
    mission: MissionId,
) -> MissionResult<TopicId> {
    let m = repo::mission(conn, mission.0)
        .await?
        .ok_or(MissionError::NotFound)?;
    editable_topic(conn, user, m.topic_id).await?;
    Ok(m.topic_id)
}

/// The question and its mission's topic, when `user` may edit it.
async fn question_topic(
    conn: &mut PgConnection,
    user: &CurrentUser,
    question: QuestionId,
) -> MissionResult<(TopicId, QuestionRow)> {
    let (mission, q) = repo::question(conn, question.0)
        .await?
        .ok_or(MissionError::NotFound)?;
    Ok((mission_topic(conn, user, MissionId(mission)).await?, q))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct QuestionForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub prompt: String,
    #[serde(default)]
    pub points: String,
    #[serde(default)]
    pub multiple: Option<String>,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub starter_code: String,
    #[serde(default)]
    pub cpu_secs: String,
    #[serde(default)]
    pub memory_mb: String,
    /// Markdown, shown with the right answer in the learner's review.
    #[serde(default)]
    pub explanation: String,
}

fn valid_question(form: &QuestionForm, kind: QuestionKind) -> Result<NewQuestion<'_>, Refusal> {
    let prompt = form.prompt.trim();
    if prompt.is_empty() || prompt.chars().count() > 20_000 {
        return Err(Refusal::Prompt);
    }
    let points = number(&form.points, 1..=100).ok_or(Refusal::Points)?;
    let (language, mode) = match kind {
        QuestionKind::Choice => (None, None),
        QuestionKind::Code => (
            Some(Language::parse(&form.language).ok_or(Refusal::Language)?),
            Some(Mode::parse(&form.mode).ok_or(Refusal::Mode)?.as_str()),
        ),
    };
    if form.starter_code.len() > 65_536 {
        return Err(Refusal::StarterTooLong);
    }
    let explanation = form.explanation.trim();
    if explanation.chars().count() > 5_000 {
        return Err(Refusal::ExplanationTooLong);
    }
    Ok(NewQuestion {
        kind,
        prompt,
        points,
        multiple: form.multiple.is_some(),
        language,
        mode,
        starter_code: &form.starter_code,
        cpu_secs: optional(&form.cpu_secs, 1..=30, Refusal::CpuSecs)?.unwrap_or(5),
        memory_mb: optional(&form.memory_mb, 64..=2048, Refusal::MemoryMb)?.unwrap_or(512),
        explanation,
    })
}

pub async fn add_question(
    conn: &mut PgConnection,
    user: &CurrentUser,
    mission: MissionId,
    form: &QuestionForm,
) -> MissionResult<TopicId> {
    let topic = mission_topic(conn, user, mission).await?;
    let question = QuestionKind::parse(&form.kind)
        .ok_or(Refusal::QuestionKind)
        .and_then(|kind| valid_question(form, kind))
        .map_err(on(topic))?;
    let mut tx = conn.begin().await?;
    repo::insert_question(&mut tx, mission.0, &question).await?;
    tx.commit().await?;
    missions_changed();
    Ok(topic)
}

/// Saves a question (its kind stays what it was).
pub async fn update_question(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: QuestionId,
    form: &QuestionForm,
) -> MissionResult<TopicId> {
    let (topic, existing) = question_topic(conn, user, id).await?;
    let question = valid_question(form, existing.kind).map_err(on(topic))?;
    repo::update_question(conn, id.0, &question).await?;
    missions_changed();
    Ok(topic)
}

pub async fn delete_question(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: QuestionId,
) -> MissionResult<TopicId> {
    let (topic, _) = question_topic(conn, user, id).await?;
    repo::delete_question(conn, id.0).await?;
    missions_changed();
    Ok(topic)
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ChoiceForm {
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub correct: Option<String>,
}

pub async fn add_choice(
    conn: &mut PgConnection,
    user: &CurrentUser,
    question: QuestionId,
    form: &ChoiceForm,
) -> MissionResult<TopicId> {
    let (topic, q) = question_topic(conn, user, question).await?;
    let body = form.body.trim();
    let refused = on(topic);
    if q.kind != QuestionKind::Choice {
        return Err(refused(Refusal::ChoiceOnCode));
    }
    if body.is_empty() || body.chars().count() > 2000 || !text::single_line(body) {
        return Err(refused(Refusal::ChoiceBody));
    }
    let mut tx = conn.begin().await?;
    repo::insert_choice(&mut tx, question.0, body, form.correct.is_some()).await?;
    tx.commit().await?;
    missions_changed();
    Ok(topic)
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct TestForm {
    #[serde(default)]
    pub visible: Option<String>,
    #[serde(default)]
    pub input: String,
    #[serde(default)]
    pub harness: String,
    #[serde(default)]
    pub expected: String,
}

pub async fn add_test(
    conn: &mut PgConnection,
    user: &CurrentUser,
    question: QuestionId,
    form: &TestForm,
) -> MissionResult<TopicId> {
    let (topic, q) = question_topic(conn, user, question).await?;
    let refused = on(topic);
    if q.kind != QuestionKind::Code {
        return Err(refused(Refusal::TestOnChoice));
    }
    if form.expected.trim().is_empty() {
        return Err(refused(Refusal::ExpectedMissing));
    }
    let fields = [&form.input, &form.harness, &form.expected];
    if fields.iter().any(|s| s.len() > 65_536) {
        return Err(refused(Refusal::TestTooLong));
    }
    let mut tx = conn.begin().await?;
    let visible = form.visible.is_some();
    repo::insert_test(
        &mut tx,
        question.0,
        visible,
        &form.input,
        &form.harness,
        &form.expected,
    )
    .await?;
    tx.commit().await?;
    missions_changed();
    Ok(topic)
}

/// What a delete button in the editor removes from a question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Choice(ChoiceId),
    Test(TestId),
}

impl From<ChoiceId> for Part {
    fn from(id: ChoiceId) -> Self {
        Self::Choice(id)
    }
}

impl From<TestId> for Part {
    fn from(id: TestId) -> Self {
        Self::Test(id)
    }
}

/// Deletes a choice or a test, once its question's course is the user's to
/// edit.
pub async fn delete_part(
    conn: &mut PgConnection,
    user: &CurrentUser,
    part: Part,
) -> MissionResult<TopicId> {
    let question = match part {
        Part::Choice(id) => repo::choice_question(conn, id.0).await?,
        Part::Test(id) => repo::test_question(conn, id.0).await?,
    }
    .ok_or(MissionError::NotFound)?;
    let (topic, _) = question_topic(conn, user, QuestionId(question)).await?;
    match part {
        Part::Choice(id) => repo::delete_choice(conn, id.0).await?,
        Part::Test(id) => repo::delete_test(conn, id.0).await?,
    }
    missions_changed();
    Ok(topic)
}
