//! Assessments: missions (multiple choice and code) on mission topics,
//! grading (choices at once, code in the sandbox from a job), the studio's
//! mission editor, and the demo missions.

mod cgroup;
pub mod figures;
mod grading;
pub mod handlers;
pub mod model;
mod repo;
pub mod sandbox;
mod seccomp;
pub mod service;
pub mod studio;

use serde::Deserialize;
use sqlx::PgConnection;

pub use grading::{TestResult, Verdict, judge};
pub use service::{
    GRADE_JOB, Grader, MISSIONS_CHANGED, attempt_in_progress, forget_missions, mission_of_topic,
    mission_score, register,
};

use crate::assessments::model::{MissionKind, QuestionKind};
use crate::ids::TopicId;

/// The demo missions: for each mission topic of the demo nano-degree, its
/// questions (in Korean) and code tasks with visible and hidden tests.
const DEMO: &str = include_str!("demo_missions.json");

#[derive(Deserialize)]
struct DemoMission {
    course: String,
    topic: String,
    kind: String,
    pass_percent: i32,
    time_limit_secs: Option<i32>,
    max_attempts: Option<i32>,
    #[serde(default = "ten_minutes")]
    cooldown_secs: i32,
    questions: Vec<DemoQuestion>,
}

fn ten_minutes() -> i32 {
    600
}

#[derive(Deserialize)]
struct DemoQuestion {
    kind: String,
    prompt: String,
    points: i32,
    #[serde(default)]
    multiple: bool,
    #[serde(default)]
    choices: Vec<DemoChoice>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    starter: String,
    #[serde(default)]
    tests: Vec<DemoTest>,
    #[serde(default)]
    explanation: String,
}

#[derive(Deserialize)]
struct DemoChoice {
    body: String,
    correct: bool,
}

#[derive(Deserialize)]
struct DemoTest {
    visible: bool,
    input: String,
    harness: String,
    expected: String,
}

/// Makes the demo missions that are not there yet (a mission topic that
/// already has a mission is left as it is); returns how many were made.
pub async fn seed_demo(conn: &mut PgConnection) -> anyhow::Result<usize> {
    let missions: Vec<DemoMission> = serde_json::from_str(DEMO)?;
    crate::infra::db::lock(conn, "seed", "missions").await?;
    let mut made = 0;
    for m in missions {
        let Some(topic) = crate::catalog::topic_by_title(conn, &m.course, &m.topic).await? else {
            continue;
        };
        if repo::mission_of_topic(conn, topic).await?.is_some() {
            continue;
        }
        let kind = MissionKind::parse(&m.kind).unwrap_or(MissionKind::Practice);
        let mission = repo::insert_mission(
            conn,
            topic,
            kind,
            m.pass_percent,
            repo::AttemptRules {
                max_attempts: m.max_attempts,
                cooldown_secs: m.cooldown_secs,
                time_limit_secs: m.time_limit_secs,
            },
        )
        .await?;
        for q in m.questions {
            let kind = QuestionKind::parse(&q.kind).unwrap_or(QuestionKind::Choice);
            let language = q.language.as_deref().and_then(sandbox::Language::parse);
            let question = repo::insert_question(
                conn,
                mission,
                &repo::NewQuestion {
                    kind,
                    prompt: &q.prompt,
                    points: q.points,
                    multiple: q.multiple,
                    language,
                    mode: q.mode.as_deref(),
                    starter_code: &q.starter,
                    cpu_secs: 5,
                    memory_mb: 512,
                    explanation: &q.explanation,
                },
            )
            .await?;
            for c in q.choices {
                repo::insert_choice(conn, question, &c.body, c.correct).await?;
            }
            for t in q.tests {
                repo::insert_test(conn, question, t.visible, &t.input, &t.harness, &t.expected)
                    .await?;
            }
        }
        made += 1;
    }
    Ok(made)
}

/// Where a learner stands on one mission.
#[derive(Clone)]
pub struct Standing {
    pub mission: crate::ids::MissionId,
    pub topic: TopicId,
    /// Attempts opened, and how many the mission allows (`None`: no limit).
    pub used: i64,
    pub max_attempts: Option<i32>,
    pub open: bool,
    pub best_score: Option<i32>,
    pub passed: bool,
}

/// A mission's state as the learner's dashboard names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StandingState {
    NotStarted,
    /// Tried, not passed, and may try again (or an attempt is open).
    Trying,
    /// Every attempt used without a pass.
    UsedUp,
    Passed,
}

impl Standing {
    /// Attempts still to open (`None`: no limit).
    pub fn attempts_left(&self) -> Option<i64> {
        self.max_attempts
            .map(|max| (i64::from(max) - self.used).max(0))
    }

    pub fn state(&self) -> StandingState {
        if self.passed {
            StandingState::Passed
        } else if self.used == 0 && self.best_score.is_none() {
            StandingState::NotStarted
        } else if self.attempts_left() == Some(0) && !self.open {
            StandingState::UsedUp
        } else {
            StandingState::Trying
        }
    }
}

/// The learner's standings on the missions of some topics, as read.
struct KeptStandings {
    topics: Vec<TopicId>,
    /// The missions' content generation it was read at (a studio edit may
    /// change a mission's attempts).
    missions: u64,
    standings: Vec<Standing>,
}

/// The learner's standing on each mission on `topics` (topics without a
/// mission have none): one statement, then kept in the learner's entry
/// (`learning::mine`) until their next change or a studio edit.
pub async fn standings(
    conn: &mut sqlx::PgConnection,
    user: crate::ids::UserId,
    topics: &[TopicId],
) -> sqlx::Result<Vec<Standing>> {
    let mine = crate::learning::mine::Mine::of(user).await;
    let missions = service::missions_generation();
    let kept = mine
        .part_or_load(
            uuid::Uuid::nil(),
            |kept: &KeptStandings| kept.missions == missions && kept.topics == topics,
            async {
                let ids: Vec<uuid::Uuid> = topics.iter().map(|t| t.0).collect();
                let standings = repo::standings(conn, user, &ids)
                    .await?
                    .into_iter()
                    .map(|r| Standing {
                        mission: crate::ids::MissionId(r.mission_id),
                        topic: r.topic_id,
                        used: r.used,
                        max_attempts: r.max_attempts,
                        open: r.open,
                        best_score: r.best_score,
                        passed: r.passed_at.is_some(),
                    })
                    .collect();
                Ok::<_, sqlx::Error>(KeptStandings {
                    topics: topics.to_vec(),
                    missions,
                    standings,
                })
            },
        )
        .await?;
    Ok(kept.standings.clone())
}

/// A learner's result on one mission, for the admin's view of them.
pub struct ResultLine {
    pub topic: TopicId,
    pub mission: String,
    pub course: String,
    pub best_score: i32,
    pub passed_at: Option<time::OffsetDateTime>,
    pub attempts: i64,
    pub submissions: i64,
}

/// Every mission `user` has a result on, latest first, with its titles.
pub async fn results_of(
    conn: &mut sqlx::PgConnection,
    user: crate::ids::UserId,
) -> sqlx::Result<Vec<ResultLine>> {
    let rows = repo::learner_results(conn, user).await?;
    let topics: Vec<TopicId> = rows.iter().map(|r| r.topic_id).collect();
    let mut titles = crate::catalog::topic_titles(conn, &topics).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (mission, course) = titles.remove(&r.topic_id).unwrap_or_default();
            ResultLine {
                topic: r.topic_id,
                mission,
                course,
                best_score: r.best_score,
                passed_at: r.passed_at,
                attempts: r.attempts,
                submissions: r.submissions,
            }
        })
        .collect())
}
