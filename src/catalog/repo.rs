//! Catalogue SQL.

use sqlx::PgConnection;

use crate::ids::{CourseId, CurriculumId};

pub struct CurriculumRow {
    pub id: CurriculumId,
    pub title: String,
    pub summary: String,
    pub price_won: i64,
    pub access_days: i32,
}

pub struct RoadmapCourseRow {
    pub id: CourseId,
    pub position: i32,
    pub title: String,
    pub summary: String,
    pub skill_level: String,
    pub lecture_count: i64,
    pub topic_count: i64,
    pub total_secs: i64,
}

/// A live curriculum by slug.
pub async fn curriculum_by_slug(
    conn: &mut PgConnection,
    slug: &str,
) -> sqlx::Result<Option<CurriculumRow>> {
    sqlx::query_as!(
        CurriculumRow,
        r#"SELECT id AS "id: CurriculumId", title, summary, price_won, access_days
             FROM curricula WHERE slug = $1 AND deleted_at IS NULL"#,
        slug
    )
    .fetch_optional(conn)
    .await
}

/// The curriculum's live courses in learning order, with their sizes.
pub async fn roadmap_courses(
    conn: &mut PgConnection,
    curriculum: CurriculumId,
) -> sqlx::Result<Vec<RoadmapCourseRow>> {
    sqlx::query_as!(
        RoadmapCourseRow,
        r#"
        SELECT c.id AS "id: CourseId", cc.position, c.title, c.summary, c.skill_level,
               (SELECT count(*) FROM lectures l WHERE l.course_id = c.id AND l.deleted_at IS NULL) AS "lecture_count!",
               (SELECT count(*) FROM topics t JOIN lectures l ON l.id = t.lecture_id
                 WHERE l.course_id = c.id AND l.deleted_at IS NULL AND t.deleted_at IS NULL) AS "topic_count!",
               (SELECT coalesce(sum(t.duration_secs), 0) FROM topics t JOIN lectures l ON l.id = t.lecture_id
                 WHERE l.course_id = c.id AND l.deleted_at IS NULL AND t.deleted_at IS NULL)::bigint AS "total_secs!"
          FROM curriculum_courses cc
          JOIN courses c ON c.id = cc.course_id
         WHERE cc.curriculum_id = $1 AND c.deleted_at IS NULL
         ORDER BY cc.position
        "#,
        curriculum.0
    )
    .fetch_all(conn)
    .await
}
