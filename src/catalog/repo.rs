//! Catalogue SQL.

use sqlx::PgConnection;

use crate::{
    catalog::model::{Category, SkillLevel, TopicKind},
    ids::{CourseId, CurriculumId},
};

pub struct CurriculumRow {
    pub id: CurriculumId,
    pub title: String,
    pub summary: String,
    pub price_won: i64,
    pub access_months: i32,
}

pub struct RoadmapCourseRow {
    pub id: CourseId,
    pub position: i32,
    pub title: String,
    pub summary: String,
    pub skill_level: SkillLevel,
    pub lecture_count: i64,
    pub topic_count: i64,
    pub total_secs: i64,
    pub cover_image_id: Option<uuid::Uuid>,
}

/// A live curriculum by slug.
pub async fn curriculum_by_slug(
    conn: &mut PgConnection,
    slug: &str,
) -> sqlx::Result<Option<CurriculumRow>> {
    sqlx::query_as!(
        CurriculumRow,
        r#"SELECT id AS "id: CurriculumId", title, summary, price_won, access_months
             FROM curricula WHERE slug = $1 AND deleted_at IS NULL AND published_at IS NOT NULL"#,
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
        SELECT c.id AS "id: CourseId", cc.position, c.title, c.summary,
               c.skill_level AS "skill_level: SkillLevel",
               (SELECT count(*) FROM lectures l WHERE l.course_id = c.id AND l.deleted_at IS NULL AND l.published_at IS NOT NULL) AS "lecture_count!",
               (SELECT count(*) FROM topics t JOIN lectures l ON l.id = t.lecture_id
                 WHERE l.course_id = c.id AND l.deleted_at IS NULL AND t.deleted_at IS NULL
                   AND l.published_at IS NOT NULL AND t.published_at IS NOT NULL) AS "topic_count!",
               (SELECT coalesce(sum(t.duration_secs), 0) FROM topics t JOIN lectures l ON l.id = t.lecture_id
                 WHERE l.course_id = c.id AND l.deleted_at IS NULL AND t.deleted_at IS NULL
                   AND l.published_at IS NOT NULL AND t.published_at IS NOT NULL)::bigint AS "total_secs!",
               c.cover_image_id
          FROM curriculum_courses cc
          JOIN courses c ON c.id = cc.course_id
         WHERE cc.curriculum_id = $1 AND c.deleted_at IS NULL AND c.published_at IS NOT NULL
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
    /// Per word of the search: a LIKE pattern (on the text, its keywords
    /// and its Hangul initials) and the word itself (for near misses).
    pub patterns: Vec<String>,
    pub words: Vec<String>,
    pub category: Option<&'a str>,
    pub skill_level: Option<&'a str>,
    pub price_level: Option<&'a str>,
    /// Only the courses after this one in the catalogue's order (a cursor).
    pub after: Option<CourseKey>,
}

/// A course's place in the catalogue's order: courses of a published
/// curriculum first, in its order, then the others, newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CourseKey {
    pub unlisted: bool,
    pub position: i32,
    pub created_at: time::OffsetDateTime,
    pub id: CourseId,
}

pub struct CourseCardRow {
    pub id: CourseId,
    pub title: String,
    pub summary: String,
    pub category: Category,
    pub skill_level: SkillLevel,
    pub price_won: Option<i64>,
    pub curriculum_title: Option<String>,
    pub lecture_count: i64,
    pub total_secs: i64,
    pub total: i64,
    pub cover_image_id: Option<uuid::Uuid>,
    pub unlisted: bool,
    pub position: i32,
    pub created_at: time::OffsetDateTime,
}

/// One page of live courses and the count of all matches (after the
/// filter's `after`, when it has one), in one query.
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
                   c.cover_image_id, cur.position, cur.title AS curriculum_title, count(*) OVER () AS total
              FROM courses c
              LEFT JOIN LATERAL (
                   SELECT cc.position, cu.title FROM curriculum_courses cc
                     JOIN curricula cu ON cu.id = cc.curriculum_id AND cu.deleted_at IS NULL
                                       AND cu.published_at IS NOT NULL
                    WHERE cc.course_id = c.id ORDER BY cc.position LIMIT 1) cur ON true
             WHERE c.deleted_at IS NULL AND c.published_at IS NOT NULL
               AND (SELECT coalesce(bool_and(
                           c.search_text LIKE q.pattern OR c.search_initials LIKE q.pattern
                           OR (char_length(q.word) >= 3 AND word_similarity(q.word, c.search_text) >= 0.5)), true)
                      FROM unnest($1::text[], $7::text[]) AS q(pattern, word))
               AND ($2::text IS NULL OR c.category = $2)
               AND ($3::text IS NULL OR c.skill_level = $3)
               AND ($4::text IS NULL OR c.price_level = $4)
               -- The order below as one ascending row: newer is smaller.
               AND ($8::bool IS NULL
                    OR ((cur.position IS NULL), coalesce(cur.position, 0),
                        extract(epoch FROM $10::timestamptz) - extract(epoch FROM c.created_at), c.id)
                       > ($8, $9::int, 0, $11::uuid))
             ORDER BY (cur.position IS NULL), cur.position, c.created_at DESC, c.id
             LIMIT $5 OFFSET $6)
        -- Sizes only for the rows of this page.
        SELECT p.id AS "id!: CourseId", p.title AS "title!", p.summary AS "summary!",
               p.category AS "category!: Category", p.skill_level AS "skill_level!: SkillLevel", p.price_won,
               p.curriculum_title AS "curriculum_title?",
               (SELECT count(*) FROM lectures l WHERE l.course_id = p.id AND l.deleted_at IS NULL AND l.published_at IS NOT NULL) AS "lecture_count!",
               (SELECT coalesce(sum(t.duration_secs), 0) FROM topics t JOIN lectures l ON l.id = t.lecture_id
                 WHERE l.course_id = p.id AND l.deleted_at IS NULL AND t.deleted_at IS NULL
                   AND l.published_at IS NOT NULL AND t.published_at IS NOT NULL)::bigint AS "total_secs!",
               p.total AS "total!", p.cover_image_id AS "cover_image_id?",
               (p.position IS NULL) AS "unlisted!", coalesce(p.position, 0) AS "position!",
               p.created_at AS "created_at!"
          FROM page p
         ORDER BY (p.position IS NULL), p.position, p.created_at DESC, p.id
        "#,
        &filter.patterns,
        filter.category,
        filter.skill_level,
        filter.price_level,
        limit,
        offset,
        &filter.words,
        filter.after.map(|k| k.unlisted),
        filter.after.map(|k| k.position),
        filter.after.map(|k| k.created_at),
        filter.after.map(|k| k.id.0),
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct TopicJson {
    pub id: crate::ids::TopicId,
    pub title: String,
    pub kind: TopicKind,
    pub duration_secs: i64,
    pub is_preview: bool,
    pub deleted: bool,
    pub published: bool,
}

#[derive(Debug, serde::Deserialize)]
pub struct LectureJson {
    pub id: crate::ids::LectureId,
    pub title: String,
    pub description: String,
    pub deleted: bool,
    pub published: bool,
    pub topics: Vec<TopicJson>,
}

pub struct CourseDetailRow {
    pub id: CourseId,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub category: Category,
    pub skill_level: SkillLevel,
    pub price_won: Option<i64>,
    pub keywords: String,
    pub author_id: Option<uuid::Uuid>,
    pub cover_image_id: Option<uuid::Uuid>,
    pub deleted: bool,
    pub published: bool,
    pub curriculum_id: Option<CurriculumId>,
    pub curriculum_title: Option<String>,
    pub curriculum_price_won: Option<i64>,
    pub curriculum_access_months: Option<i32>,
    pub position: Option<i32>,
    pub lectures: sqlx::types::Json<Vec<LectureJson>>,
    /// Every curriculum that holds the course (each grants access to it).
    pub curricula: Vec<uuid::Uuid>,
}

/// A course with its curriculum, lectures and topics in order, in one query.
/// `with_deleted` includes soft-deleted lectures and topics (the studio).
pub async fn course_detail(
    conn: &mut PgConnection,
    id: CourseId,
    with_deleted: bool,
) -> sqlx::Result<Option<CourseDetailRow>> {
    sqlx::query_as!(
        CourseDetailRow,
        r#"
        SELECT c.id AS "id: CourseId", c.title, c.summary, c.description,
               c.category AS "category: Category", c.skill_level AS "skill_level: SkillLevel",
               c.price_won, c.keywords, c.author_id, c.cover_image_id, c.deleted_at IS NOT NULL AS "deleted!",
               c.published_at IS NOT NULL AS "published!",
               cur.id AS "curriculum_id?: CurriculumId", cur.title AS "curriculum_title?",
               cur.price_won AS "curriculum_price_won?", cur.access_months AS "curriculum_access_months?",
               cur.position AS "position?",
               coalesce((
                 SELECT json_agg(json_build_object(
                          'id', l.id, 'title', l.title, 'description', l.description,
                          'deleted', l.deleted_at IS NOT NULL,
                          'published', l.published_at IS NOT NULL,
                          'topics', coalesce((
                             SELECT json_agg(json_build_object(
                                      'id', t.id, 'title', t.title, 'kind', t.kind,
                                      'duration_secs', t.duration_secs, 'is_preview', t.is_preview,
                                      'deleted', t.deleted_at IS NOT NULL,
                                      'published', t.published_at IS NOT NULL)
                                    ORDER BY t.position, t.created_at)
                               FROM topics t
                              WHERE t.lecture_id = l.id AND ($2 OR t.deleted_at IS NULL)), '[]'::json))
                        ORDER BY l.position, l.created_at)
                   FROM lectures l WHERE l.course_id = c.id AND ($2 OR l.deleted_at IS NULL)), '[]'::json)
                 AS "lectures!: sqlx::types::Json<Vec<LectureJson>>",
               array(SELECT cc.curriculum_id FROM curriculum_courses cc WHERE cc.course_id = c.id) AS "curricula!"
          FROM courses c
          LEFT JOIN LATERAL (
               SELECT cu.id, cu.title, cu.price_won, cu.access_months, cc.position
                 FROM curriculum_courses cc
                 JOIN curricula cu ON cu.id = cc.curriculum_id AND cu.deleted_at IS NULL
                                   AND cu.published_at IS NOT NULL
                WHERE cc.course_id = c.id ORDER BY cc.position LIMIT 1) cur ON true
         WHERE c.id = $1
        "#,
        id.0,
        with_deleted,
    )
    .fetch_optional(conn)
    .await
}

/// The curricula that hold a course (deleted ones too: what was bought
/// through them still counts).
pub async fn curricula_of_course(
    conn: &mut PgConnection,
    course: CourseId,
) -> sqlx::Result<Vec<CurriculumId>> {
    sqlx::query_scalar!(
        r#"SELECT curriculum_id AS "id: CurriculumId" FROM curriculum_courses WHERE course_id = $1"#,
        course.0
    )
    .fetch_all(conn)
    .await
}

pub struct TopicPlaceRow {
    pub course_id: CourseId,
    pub is_preview: bool,
    pub author_id: Option<uuid::Uuid>,
    pub title: String,
    pub course_title: String,
    pub published: bool,
}

/// The course of a live topic (its lecture and course live too).
pub async fn topic_place(
    conn: &mut PgConnection,
    topic: crate::ids::TopicId,
) -> sqlx::Result<Option<TopicPlaceRow>> {
    sqlx::query_as!(
        TopicPlaceRow,
        r#"SELECT c.id AS "course_id: CourseId", t.is_preview, c.author_id, t.title,
                  c.title AS course_title,
                  (t.published_at IS NOT NULL AND l.published_at IS NOT NULL
                   AND c.published_at IS NOT NULL) AS "published!"
             FROM topics t JOIN lectures l ON l.id = t.lecture_id JOIN courses c ON c.id = l.course_id
            WHERE t.id = $1 AND t.deleted_at IS NULL AND l.deleted_at IS NULL AND c.deleted_at IS NULL"#,
        topic.0
    )
    .fetch_optional(conn)
    .await
}

pub async fn topic_text(
    conn: &mut PgConnection,
    topic: crate::ids::TopicId,
) -> sqlx::Result<Option<(TopicKind, String)>> {
    Ok(sqlx::query!(
        r#"SELECT kind AS "kind: TopicKind", body FROM topics WHERE id = $1 AND deleted_at IS NULL"#,
        topic.0
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.kind, r.body)))
}

pub struct OfferRow {
    pub curriculum_id: Option<uuid::Uuid>,
    pub course_id: Option<uuid::Uuid>,
    pub title: String,
    pub price_won: Option<i64>,
    pub access_months: i32,
}

/// Live curricula and courses among these ids, with price and period.
pub async fn offers(
    conn: &mut PgConnection,
    curricula: &[uuid::Uuid],
    courses: &[uuid::Uuid],
) -> sqlx::Result<Vec<OfferRow>> {
    sqlx::query_as!(
        OfferRow,
        r#"SELECT id AS "curriculum_id?", NULL::uuid AS "course_id?", title AS "title!",
                  price_won AS "price_won?", access_months AS "access_months!"
             FROM curricula WHERE id = ANY($1) AND deleted_at IS NULL AND published_at IS NOT NULL
           UNION ALL
           SELECT NULL::uuid, id, title, price_won, access_months
             FROM courses WHERE id = ANY($2) AND deleted_at IS NULL AND published_at IS NOT NULL"#,
        curricula,
        courses
    )
    .fetch_all(conn)
    .await
}

/// Titles of curricula and courses, deleted ones included.
pub async fn titles(
    conn: &mut PgConnection,
    curricula: &[uuid::Uuid],
    courses: &[uuid::Uuid],
) -> sqlx::Result<Vec<(Option<uuid::Uuid>, Option<uuid::Uuid>, String)>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "curriculum_id?", NULL::uuid AS "course_id?", title AS "title!" FROM curricula WHERE id = ANY($1)
           UNION ALL
           SELECT NULL::uuid, id, title FROM courses WHERE id = ANY($2)"#,
        curricula,
        courses
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.curriculum_id, r.course_id, r.title))
        .collect())
}

/// Every live curriculum and course with its title: curricula first, each
/// by title.
pub async fn all_titles(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<(Option<uuid::Uuid>, Option<uuid::Uuid>, String)>> {
    let rows = sqlx::query!(
        r#"SELECT curriculum_id AS "curriculum_id?", course_id AS "course_id?", title AS "title!"
             FROM (SELECT id AS curriculum_id, NULL::uuid AS course_id, title, 0 AS kind
                     FROM curricula WHERE deleted_at IS NULL
                   UNION ALL
                   SELECT NULL::uuid, id, title, 1 FROM courses WHERE deleted_at IS NULL) p
            ORDER BY kind, title"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.curriculum_id, r.course_id, r.title))
        .collect())
}

/// The live, published topics of `courses` (in live, published lectures).
pub async fn published_topics(
    conn: &mut PgConnection,
    courses: &[uuid::Uuid],
) -> sqlx::Result<Vec<(CourseId, crate::ids::TopicId)>> {
    Ok(sqlx::query!(
        r#"SELECT l.course_id AS "course: CourseId", t.id AS "topic: crate::ids::TopicId"
             FROM topics t JOIN lectures l ON l.id = t.lecture_id
            WHERE l.course_id = ANY($1) AND t.deleted_at IS NULL AND l.deleted_at IS NULL
              AND t.published_at IS NOT NULL AND l.published_at IS NOT NULL
            ORDER BY array_position($1, l.course_id), l.position, t.position"#,
        courses
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.course, r.topic))
    .collect())
}

/// The courses products hold: a course itself, a curriculum its courses.
pub async fn courses_of(
    conn: &mut PgConnection,
    curricula: &[uuid::Uuid],
    courses: &[uuid::Uuid],
) -> sqlx::Result<Vec<CourseId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id!: CourseId" FROM (
             SELECT unnest($2::uuid[]) AS id, 0 AS position
             UNION ALL SELECT course_id, position FROM curriculum_courses WHERE curriculum_id = ANY($1)) c
            GROUP BY id ORDER BY min(position), id"#,
        curricula,
        courses
    )
    .fetch_all(conn)
    .await
}

/// Titles of topics with their course's title.
pub async fn topic_titles(
    conn: &mut PgConnection,
    topics: &[uuid::Uuid],
) -> sqlx::Result<Vec<(crate::ids::TopicId, String, String)>> {
    Ok(sqlx::query!(
        r#"SELECT t.id AS "id: crate::ids::TopicId", t.title, c.title AS course_title
             FROM topics t JOIN lectures l ON l.id = t.lecture_id JOIN courses c ON c.id = l.course_id
            WHERE t.id = ANY($1)"#,
        topics
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.title, r.course_title))
    .collect())
}

/// Topics whose title contains `part` (at most `limit`).
pub async fn topics_titled(
    conn: &mut PgConnection,
    part: &str,
    limit: i64,
) -> sqlx::Result<Vec<crate::ids::TopicId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: crate::ids::TopicId" FROM topics
            WHERE title ILIKE '%' || $1 || '%' ORDER BY created_at LIMIT $2"#,
        part,
        limit
    )
    .fetch_all(conn)
    .await
}

pub async fn set_topic_length(
    conn: &mut PgConnection,
    topic: crate::ids::TopicId,
    secs: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE topics SET duration_secs = $2, updated_at = now() WHERE id = $1 AND duration_secs <> $2",
        topic.0,
        secs
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------- curricula ----------

/// A curriculum as a list shows it.
pub struct CurriculumListRow {
    pub id: CurriculumId,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub category: Category,
    pub skill_level: SkillLevel,
    pub price_won: i64,
    pub access_months: i32,
    pub created_at: time::OffsetDateTime,
    pub author_id: Option<uuid::Uuid>,
    pub published: bool,
}

/// Filters of the curricula's list (see [`CourseFilter`]).
pub struct CurriculumFilter<'a> {
    pub patterns: Vec<String>,
    pub category: Option<&'a str>,
    pub skill_level: Option<&'a str>,
    pub price_level: Option<&'a str>,
    /// Only those after this one, newest first (a cursor).
    pub after: Option<(time::OffsetDateTime, CurriculumId)>,
}

/// Published, live curricula, newest first, matching every filter.
pub async fn list_curricula(
    conn: &mut PgConnection,
    f: &CurriculumFilter<'_>,
    limit: i64,
) -> sqlx::Result<Vec<CurriculumListRow>> {
    let (after_at, after_id) = f.after.map(|(at, id)| (at, id.0)).unzip();
    sqlx::query_as!(
        CurriculumListRow,
        r#"SELECT id AS "id: CurriculumId", title, summary, description,
                  category AS "category: Category", skill_level AS "skill_level: SkillLevel",
                  price_won, access_months, created_at, author_id,
                  published_at IS NOT NULL AS "published!"
             FROM curricula
            WHERE deleted_at IS NULL AND published_at IS NOT NULL
              AND ($1::text IS NULL OR category = $1)
              AND ($2::text IS NULL OR skill_level = $2)
              AND ($3::text IS NULL OR price_level = $3)
              AND lower(title || ' ' || summary) LIKE ALL ($4::text[])
              AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6::uuid))
            ORDER BY created_at DESC, id DESC
            LIMIT $7"#,
        f.category,
        f.skill_level,
        f.price_level,
        &f.patterns,
        after_at,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await
}

/// One live curriculum, published or not (the caller decides who sees a
/// draft).
pub async fn curriculum(
    conn: &mut PgConnection,
    id: CurriculumId,
) -> sqlx::Result<Option<CurriculumListRow>> {
    sqlx::query_as!(
        CurriculumListRow,
        r#"SELECT id AS "id: CurriculumId", title, summary, description,
                  category AS "category: Category", skill_level AS "skill_level: SkillLevel",
                  price_won, access_months, created_at, author_id,
                  published_at IS NOT NULL AS "published!"
             FROM curricula WHERE id = $1 AND deleted_at IS NULL"#,
        id.0
    )
    .fetch_optional(conn)
    .await
}
