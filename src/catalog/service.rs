//! Catalogue rules: what the roadmap shows.

use sqlx::PgConnection;

use crate::{
    catalog::{
        model::{SkillLevel, Won, duration_label},
        repo, seed,
    },
    ids::{CourseId, CurriculumId},
};

/// Where a viewer stands with a roadmap course.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    NotPurchased,
    Purchased,
    InProgress,
    Completed,
}

impl StepStatus {
    /// The `data-status` value (the URL contract's vocabulary).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotPurchased => "not-purchased",
            Self::Purchased => "purchased",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::NotPurchased => "구매 전",
            Self::Purchased => "수강 가능",
            Self::InProgress => "학습 중",
            Self::Completed => "완료",
        }
    }

    /// A glyph beside the label, so colour is never the only signal.
    pub fn icon(&self) -> &'static str {
        match self {
            Self::NotPurchased => "○",
            Self::Purchased => "▶",
            Self::InProgress => "◐",
            Self::Completed => "✔",
        }
    }
}

pub struct RoadmapStep {
    pub course_id: CourseId,
    pub position: i32,
    pub title: String,
    pub summary: String,
    pub skill_label: &'static str,
    pub lecture_count: i64,
    pub topic_count: i64,
    pub duration: String,
    pub status: StepStatus,
}

pub struct Roadmap {
    pub curriculum_id: CurriculumId,
    pub title: String,
    pub summary: String,
    pub price: String,
    pub access_years: i32,
    pub steps: Vec<RoadmapStep>,
}

/// The nano-degree roadmap, or `None` before it is seeded.
pub async fn nanodegree_roadmap(conn: &mut PgConnection) -> sqlx::Result<Option<Roadmap>> {
    let Some(curriculum) = repo::curriculum_by_slug(conn, seed::nanodegree_slug()).await? else {
        return Ok(None);
    };
    let courses = repo::roadmap_courses(conn, curriculum.id).await?;
    let steps = courses
        .into_iter()
        .map(|c| RoadmapStep {
            course_id: c.id,
            position: c.position,
            title: c.title,
            summary: c.summary,
            skill_label: SkillLevel::parse(&c.skill_level).map_or("", |s| s.label()),
            lecture_count: c.lecture_count,
            topic_count: c.topic_count,
            duration: duration_label(c.total_secs),
            // Enrolment and progress decide this once those capabilities exist.
            status: StepStatus::NotPurchased,
        })
        .collect();
    Ok(Some(Roadmap {
        curriculum_id: curriculum.id,
        title: curriculum.title,
        summary: curriculum.summary,
        price: Won(curriculum.price_won).display(),
        access_years: curriculum.access_days / 365,
        steps,
    }))
}
