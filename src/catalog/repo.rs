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

// ---------- catalogue ----------

/// Filters of `GET /courses`; `patterns` are `%word%` LIKE patterns (lower-case).
pub struct CourseFilter<'a> {
    pub patterns: Vec<String>,
    pub category: Option<&'a str>,
    pub skill_level: Option<&'a str>,
    pub price_level: Option<&'a str>,
}

pub struct CourseCardRow {
    pub id: CourseId,
    pub title: String,
    pub summary: String,
    pub category: String,
    pub skill_level: String,
    pub price_won: Option<i64>,
    pub curriculum_title: Option<String>,
    pub lecture_count: i64,
    pub total_secs: i64,
    pub total: i64,
}

/// One page of live courses and the count of all matches, in one query.
pub async fn list_courses(
    conn: &mut PgConnection,
    filter: &CourseFilter<'_>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<CourseCardRow>> {
    sqlx::query_as!(
        CourseCardRow,
        r#"
        WITH page AS (
            SELECT c.id, c.title, c.summary, c.category, c.skill_level, c.price_won, c.created_at,
                   cur.position, cur.title AS curriculum_title, count(*) OVER () AS total
              FROM courses c
              LEFT JOIN LATERAL (
                   SELECT cc.position, cu.title FROM curriculum_courses cc
                     JOIN curricula cu ON cu.id = cc.curriculum_id AND cu.deleted_at IS NULL
                    WHERE cc.course_id = c.id ORDER BY cc.position LIMIT 1) cur ON true
             WHERE c.deleted_at IS NULL
               AND c.search_text LIKE ALL ($1::text[])
               AND ($2::text IS NULL OR c.category = $2)
               AND ($3::text IS NULL OR c.skill_level = $3)
               AND ($4::text IS NULL OR c.price_level = $4)
             ORDER BY (cur.position IS NULL), cur.position, c.created_at DESC, c.id
             LIMIT $5 OFFSET $6)
        -- Sizes only for the rows of this page.
        SELECT p.id AS "id!: CourseId", p.title AS "title!", p.summary AS "summary!",
               p.category AS "category!", p.skill_level AS "skill_level!", p.price_won,
               p.curriculum_title AS "curriculum_title?",
               (SELECT count(*) FROM lectures l WHERE l.course_id = p.id AND l.deleted_at IS NULL) AS "lecture_count!",
               (SELECT coalesce(sum(t.duration_secs), 0) FROM topics t JOIN lectures l ON l.id = t.lecture_id
                 WHERE l.course_id = p.id AND l.deleted_at IS NULL AND t.deleted_at IS NULL)::bigint AS "total_secs!",
               p.total AS "total!"
          FROM page p
         ORDER BY (p.position IS NULL), p.position, p.created_at DESC, p.id
        "#,
        &filter.patterns,
        filter.category,
        filter.skill_level,
        filter.price_level,
        limit,
        offset,
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct TopicJson {
    pub id: crate::ids::TopicId,
    pub title: String,
    pub kind: String,
    pub duration_secs: i64,
    pub is_preview: bool,
    pub deleted: bool,
}

#[derive(Debug, serde::Deserialize)]
pub struct LectureJson {
    pub id: crate::ids::LectureId,
    pub title: String,
    pub description: String,
    pub deleted: bool,
    pub topics: Vec<TopicJson>,
}

pub struct CourseDetailRow {
    pub id: CourseId,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub category: String,
    pub skill_level: String,
    pub price_won: Option<i64>,
    pub author_id: Option<uuid::Uuid>,
    pub deleted: bool,
    pub curriculum_id: Option<CurriculumId>,
    pub curriculum_title: Option<String>,
    pub curriculum_price_won: Option<i64>,
    pub curriculum_access_days: Option<i32>,
    pub position: Option<i32>,
    pub lectures: sqlx::types::Json<Vec<LectureJson>>,
    /// The viewer's access (commerce's SQL functions), when a viewer is given.
    pub access_until: Option<time::OffsetDateTime>,
    pub access_lapsed: bool,
}

/// A course with its curriculum, lectures and topics in order, in one query.
/// `with_deleted` includes soft-deleted lectures and topics (the studio).
pub async fn course_detail(
    conn: &mut PgConnection,
    id: CourseId,
    with_deleted: bool,
    viewer: Option<crate::ids::UserId>,
) -> sqlx::Result<Option<CourseDetailRow>> {
    sqlx::query_as!(
        CourseDetailRow,
        r#"
        SELECT c.id AS "id: CourseId", c.title, c.summary, c.description, c.category, c.skill_level,
               c.price_won, c.author_id, c.deleted_at IS NOT NULL AS "deleted!",
               cur.id AS "curriculum_id?: CurriculumId", cur.title AS "curriculum_title?",
               cur.price_won AS "curriculum_price_won?", cur.access_days AS "curriculum_access_days?",
               cur.position AS "position?",
               coalesce((
                 SELECT json_agg(json_build_object(
                          'id', l.id, 'title', l.title, 'description', l.description,
                          'deleted', l.deleted_at IS NOT NULL,
                          'topics', coalesce((
                             SELECT json_agg(json_build_object(
                                      'id', t.id, 'title', t.title, 'kind', t.kind,
                                      'duration_secs', t.duration_secs, 'is_preview', t.is_preview,
                                      'deleted', t.deleted_at IS NOT NULL)
                                    ORDER BY t.position, t.created_at)
                               FROM topics t
                              WHERE t.lecture_id = l.id AND ($2 OR t.deleted_at IS NULL)), '[]'::json))
                        ORDER BY l.position, l.created_at)
                   FROM lectures l WHERE l.course_id = c.id AND ($2 OR l.deleted_at IS NULL)), '[]'::json)
                 AS "lectures!: sqlx::types::Json<Vec<LectureJson>>",
               CASE WHEN $3::uuid IS NULL THEN NULL ELSE course_access_until($3, c.id) END AS access_until,
               CASE WHEN $3::uuid IS NULL THEN false ELSE course_access_lapsed($3, c.id) END AS "access_lapsed!"
          FROM courses c
          LEFT JOIN LATERAL (
               SELECT cu.id, cu.title, cu.price_won, cu.access_days, cc.position
                 FROM curriculum_courses cc
                 JOIN curricula cu ON cu.id = cc.curriculum_id AND cu.deleted_at IS NULL
                WHERE cc.course_id = c.id ORDER BY cc.position LIMIT 1) cur ON true
         WHERE c.id = $1
        "#,
        id.0,
        with_deleted,
        viewer.map(|v| v.0),
    )
    .fetch_optional(conn)
    .await
}
