//! Studio SQL: authoring curricula, courses, lectures and topics.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    catalog::model::{Category, Piece, SkillLevel, TopicKind},
    ids::{CourseId, CurriculumId, LectureId, TopicId, UserId},
};

/// A course's or curriculum's own fields (`access_months` is the
/// curriculum's; a curriculum always has a price).
pub struct ListingFields {
    pub title: String,
    pub summary: String,
    pub description: String,
    pub category: Category,
    pub skill_level: SkillLevel,
    pub price_won: Option<i64>,
    pub access_months: i32,
    /// Courses only.
    pub keywords: String,
}

pub async fn insert_course(
    conn: &mut PgConnection,
    f: &ListingFields,
    author: UserId,
) -> sqlx::Result<CourseId> {
    let slug = format!("course-{}", Uuid::new_v4().simple());
    sqlx::query_scalar!(
        r#"INSERT INTO courses (slug, title, summary, description, category, skill_level, price_won, author_id, keywords)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id AS "id: CourseId""#,
        slug, f.title, f.summary, f.description, f.category.as_str(), f.skill_level.as_str(), f.price_won, author.0,
        f.keywords
    )
    .fetch_one(conn)
    .await
}

pub async fn update_course(
    conn: &mut PgConnection,
    id: CourseId,
    f: &ListingFields,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE courses SET title = $2, summary = $3, description = $4, category = $5, skill_level = $6,
                price_won = $7, keywords = $8, updated_at = now() WHERE id = $1",
        id.0, f.title, f.summary, f.description, f.category.as_str(), f.skill_level.as_str(), f.price_won,
        f.keywords
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The author of a course (None: platform content), locked for the change.
pub async fn lock_course(
    conn: &mut PgConnection,
    id: CourseId,
) -> sqlx::Result<Option<Option<Uuid>>> {
    sqlx::query_scalar!(
        "SELECT author_id FROM courses WHERE id = $1 FOR UPDATE",
        id.0
    )
    .fetch_optional(conn)
    .await
}

pub struct StudioCourseRow {
    pub id: CourseId,
    pub title: String,
    pub deleted: bool,
    pub lecture_count: i64,
    pub updated_at: OffsetDateTime,
}

/// Courses a person may edit: their own, or all for an admin (`author` None).
pub async fn studio_courses(
    conn: &mut PgConnection,
    author: Option<UserId>,
) -> sqlx::Result<Vec<StudioCourseRow>> {
    sqlx::query_as!(
        StudioCourseRow,
        r#"SELECT c.id AS "id: CourseId", c.title, c.deleted_at IS NOT NULL AS "deleted!",
                  (SELECT count(*) FROM lectures l WHERE l.course_id = c.id AND l.deleted_at IS NULL) AS "lecture_count!",
                  c.updated_at
             FROM courses c
            WHERE $1::uuid IS NULL OR c.author_id = $1
            ORDER BY c.deleted_at IS NOT NULL, c.updated_at DESC"#,
        author.map(|a| a.0)
    )
    .fetch_all(conn)
    .await
}

// ---------- lectures ----------

pub async fn insert_lecture(
    conn: &mut PgConnection,
    course: CourseId,
    title: &str,
    description: &str,
) -> sqlx::Result<LectureId> {
    sqlx::query_scalar!(
        r#"INSERT INTO lectures (course_id, title, description, position)
           VALUES ($1, $2, $3, (SELECT coalesce(max(position), 0) + 1 FROM lectures WHERE course_id = $1))
           RETURNING id AS "id: LectureId""#,
        course.0, title, description
    )
    .fetch_one(conn)
    .await
}

pub async fn update_lecture(
    conn: &mut PgConnection,
    id: LectureId,
    title: &str,
    description: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE lectures SET title = $2, description = $3, updated_at = now() WHERE id = $1",
        id.0,
        title,
        description
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn lecture_course(
    conn: &mut PgConnection,
    id: LectureId,
) -> sqlx::Result<Option<CourseId>> {
    sqlx::query_scalar!(
        r#"SELECT course_id AS "c: CourseId" FROM lectures WHERE id = $1"#,
        id.0
    )
    .fetch_optional(conn)
    .await
}

// ---------- topics ----------

pub struct TopicFields<'a> {
    pub title: &'a str,
    pub kind: TopicKind,
    pub body: &'a str,
    pub duration_secs: i32,
    pub is_preview: bool,
}

pub async fn insert_topic(
    conn: &mut PgConnection,
    lecture: LectureId,
    f: &TopicFields<'_>,
) -> sqlx::Result<TopicId> {
    sqlx::query_scalar!(
        r#"INSERT INTO topics (lecture_id, title, kind, body, duration_secs, is_preview, position)
           VALUES ($1, $2, $3, $4, $5, $6, (SELECT coalesce(max(position), 0) + 1 FROM topics WHERE lecture_id = $1))
           RETURNING id AS "id: TopicId""#,
        lecture.0, f.title, f.kind.as_str(), f.body, f.duration_secs, f.is_preview
    )
    .fetch_one(conn)
    .await
}

pub async fn update_topic(
    conn: &mut PgConnection,
    id: TopicId,
    f: &TopicFields<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE topics SET title = $2, kind = $3, body = $4, duration_secs = $5, is_preview = $6, updated_at = now()
          WHERE id = $1",
        id.0, f.title, f.kind.as_str(), f.body, f.duration_secs, f.is_preview
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct TopicRow {
    pub id: TopicId,
    pub lecture_id: LectureId,
    pub course_id: CourseId,
    pub title: String,
    pub kind: TopicKind,
    pub body: String,
    pub duration_secs: i32,
    pub is_preview: bool,
    pub deleted: bool,
}

pub async fn topic(conn: &mut PgConnection, id: TopicId) -> sqlx::Result<Option<TopicRow>> {
    sqlx::query_as!(
        TopicRow,
        r#"SELECT t.id AS "id: TopicId", t.lecture_id AS "lecture_id: LectureId", l.course_id AS "course_id: CourseId",
                  t.title, t.kind AS "kind: TopicKind", t.body, t.duration_secs, t.is_preview, t.deleted_at IS NOT NULL AS "deleted!"
             FROM topics t JOIN lectures l ON l.id = t.lecture_id WHERE t.id = $1"#,
        id.0
    )
    .fetch_optional(conn)
    .await
}

// ---------- curricula ----------

pub struct StudioCurriculumRow {
    pub id: CurriculumId,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub category: Category,
    pub skill_level: SkillLevel,
    pub price_won: i64,
    pub access_months: i32,
    pub author_id: Option<Uuid>,
    pub deleted: bool,
    pub published: bool,
}

pub async fn studio_curricula(
    conn: &mut PgConnection,
    author: Option<UserId>,
) -> sqlx::Result<Vec<StudioCurriculumRow>> {
    sqlx::query_as!(
        StudioCurriculumRow,
        r#"SELECT id AS "id: CurriculumId", title, summary, description, category AS "category: Category",
                  skill_level AS "skill_level: SkillLevel", price_won,
                  access_months, author_id, deleted_at IS NOT NULL AS "deleted!",
                  published_at IS NOT NULL AS "published!"
             FROM curricula WHERE $1::uuid IS NULL OR author_id = $1
            ORDER BY deleted_at IS NOT NULL, created_at"#,
        author.map(|a| a.0)
    )
    .fetch_all(conn)
    .await
}

/// The curriculum, locked (inside a transaction) so that a check and a
/// write of its fields see the same row.
pub async fn curriculum(
    conn: &mut PgConnection,
    id: CurriculumId,
) -> sqlx::Result<Option<StudioCurriculumRow>> {
    sqlx::query_as!(
        StudioCurriculumRow,
        r#"SELECT id AS "id: CurriculumId", title, summary, description, category AS "category: Category",
                  skill_level AS "skill_level: SkillLevel", price_won,
                  access_months, author_id, deleted_at IS NOT NULL AS "deleted!",
                  published_at IS NOT NULL AS "published!"
             FROM curricula WHERE id = $1 FOR UPDATE"#,
        id.0
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert_curriculum(
    conn: &mut PgConnection,
    f: &ListingFields,
    author: UserId,
) -> sqlx::Result<CurriculumId> {
    let slug = format!("curriculum-{}", Uuid::new_v4().simple());
    sqlx::query_scalar!(
        r#"INSERT INTO curricula (slug, title, summary, description, category, skill_level, price_won, access_months, author_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id AS "id: CurriculumId""#,
        slug, f.title, f.summary, f.description, f.category.as_str(), f.skill_level.as_str(), f.price_won, f.access_months, author.0
    )
    .fetch_one(conn)
    .await
}

pub async fn update_curriculum(
    conn: &mut PgConnection,
    id: CurriculumId,
    f: &ListingFields,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE curricula SET title = $2, summary = $3, description = $4, category = $5, skill_level = $6,
                price_won = $7, access_months = $8, updated_at = now() WHERE id = $1",
        id.0, f.title, f.summary, f.description, f.category.as_str(), f.skill_level.as_str(), f.price_won, f.access_months
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct CurriculumCourseRow {
    pub course_id: CourseId,
    pub title: String,
    pub deleted: bool,
}

pub async fn curriculum_courses(
    conn: &mut PgConnection,
    id: CurriculumId,
) -> sqlx::Result<Vec<CurriculumCourseRow>> {
    sqlx::query_as!(
        CurriculumCourseRow,
        r#"SELECT c.id AS "course_id: CourseId", c.title, c.deleted_at IS NOT NULL AS "deleted!"
             FROM curriculum_courses cc JOIN courses c ON c.id = cc.course_id
            WHERE cc.curriculum_id = $1 ORDER BY cc.position"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

pub async fn add_curriculum_course(
    conn: &mut PgConnection,
    id: CurriculumId,
    course: CourseId,
) -> sqlx::Result<()> {
    // The curriculum's row lock orders concurrent additions, so each takes
    // the next free position. The conflict target is the primary key: the
    // deferrable position constraint cannot be one.
    sqlx::query!("SELECT id FROM curricula WHERE id = $1 FOR UPDATE", id.0)
        .fetch_optional(&mut *conn)
        .await?;
    sqlx::query!(
        "INSERT INTO curriculum_courses (curriculum_id, course_id, position)
         VALUES ($1, $2, (SELECT coalesce(max(position), 0) + 1 FROM curriculum_courses WHERE curriculum_id = $1))
         ON CONFLICT (curriculum_id, course_id) DO NOTHING",
        id.0, course.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_curriculum_course(
    conn: &mut PgConnection,
    id: CurriculumId,
    course: CourseId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM curriculum_courses WHERE curriculum_id = $1 AND course_id = $2",
        id.0,
        course.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Swaps a course with its neighbour in the curriculum's order. Run in a
/// transaction: the position constraint is checked at commit.
pub async fn move_curriculum_course(
    conn: &mut PgConnection,
    id: CurriculumId,
    course: CourseId,
    up: bool,
) -> sqlx::Result<bool> {
    sqlx::query!("SET CONSTRAINTS curriculum_courses_position_key DEFERRED")
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query!(
        r#"
        WITH me AS (SELECT course_id, position FROM curriculum_courses WHERE curriculum_id = $1 AND course_id = $2),
             nb AS (SELECT cc.course_id, cc.position FROM curriculum_courses cc, me
                     WHERE cc.curriculum_id = $1 AND cc.course_id <> me.course_id
                       AND CASE WHEN $3 THEN cc.position < me.position ELSE cc.position > me.position END
                     ORDER BY CASE WHEN $3 THEN -cc.position ELSE cc.position END LIMIT 1)
        UPDATE curriculum_courses cc
           SET position = CASE WHEN cc.course_id = me.course_id THEN nb.position ELSE me.position END
          FROM me, nb WHERE cc.curriculum_id = $1 AND cc.course_id IN (me.course_id, nb.course_id)
        "#,
        id.0, course.0, up
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 2)
}

pub struct CourseCompleteness {
    pub has_description: bool,
    pub has_price: bool,
    pub has_content: bool,
    pub has_cover: bool,
}

/// What a course needs before learners may see it.
pub async fn course_completeness(
    conn: &mut PgConnection,
    id: CourseId,
) -> sqlx::Result<CourseCompleteness> {
    sqlx::query_as!(
        CourseCompleteness,
        r#"SELECT btrim(c.description) <> '' AS "has_description!",
                  (c.price_won IS NOT NULL
                   OR EXISTS (SELECT 1 FROM curriculum_courses cc WHERE cc.course_id = c.id)) AS "has_price!",
                  EXISTS (SELECT 1 FROM lectures l JOIN topics t ON t.lecture_id = l.id
                           WHERE l.course_id = c.id AND l.deleted_at IS NULL AND t.deleted_at IS NULL
                             AND l.published_at IS NOT NULL AND t.published_at IS NOT NULL) AS "has_content!",
                  c.cover_image_id IS NOT NULL AS "has_cover!"
             FROM courses c WHERE c.id = $1"#,
        id.0
    )
    .fetch_one(conn)
    .await
}

pub struct CurriculumCompleteness {
    pub has_description: bool,
    pub has_courses: bool,
}

pub async fn curriculum_completeness(
    conn: &mut PgConnection,
    id: CurriculumId,
) -> sqlx::Result<CurriculumCompleteness> {
    sqlx::query_as!(
        CurriculumCompleteness,
        r#"SELECT btrim(cu.description) <> '' AS "has_description!",
                  EXISTS (SELECT 1 FROM curriculum_courses cc JOIN courses c ON c.id = cc.course_id
                           WHERE cc.curriculum_id = cu.id AND c.deleted_at IS NULL
                             AND c.published_at IS NOT NULL) AS "has_courses!"
             FROM curricula cu WHERE cu.id = $1"#,
        id.0
    )
    .fetch_one(conn)
    .await
}

// ---------- the outline's pieces ----------

/// A piece's two marks: deleted (kept, restorable) and published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Deleted,
    Published,
}

/// A piece's table and row id. The statements the outline's kinds share
/// name their table from here (and their parent column from a match), so
/// no name in their text comes from input.
fn row_of(piece: Piece) -> (&'static str, Uuid) {
    match piece {
        Piece::Curriculum(id) => ("curricula", id.0),
        Piece::Course(id) => ("courses", id.0),
        Piece::Lecture(id) => ("lectures", id.0),
        Piece::Topic(id) => ("topics", id.0),
    }
}

/// Sets (keeping the first time) or clears one of a piece's marks.
pub async fn set_mark(
    conn: &mut PgConnection,
    piece: Piece,
    mark: Mark,
    on: bool,
) -> sqlx::Result<()> {
    let (table, id) = row_of(piece);
    // The one statement the four kinds share. $2: which mark; $3: set or
    // clear it. The other mark stays as it is.
    sqlx::query(&format!(
        "UPDATE {table}
            SET deleted_at = CASE WHEN NOT $2 THEN deleted_at WHEN $3 THEN coalesce(deleted_at, now()) END,
                published_at = CASE WHEN $2 THEN published_at WHEN $3 THEN coalesce(published_at, now()) END,
                updated_at = now()
          WHERE id = $1"
    ))
    .bind(id)
    .bind(mark == Mark::Deleted)
    .bind(on)
    .execute(conn)
    .await?;
    Ok(())
}

/// Swaps a lecture (inside its course) or a topic (inside its lecture) with
/// its live neighbour above (`up`) or below; false when there is none.
/// Courses and curricula have no order of their own here.
pub async fn move_piece(conn: &mut PgConnection, piece: Piece, up: bool) -> sqlx::Result<bool> {
    let parent = match piece {
        Piece::Lecture(_) => "course_id",
        Piece::Topic(_) => "lecture_id",
        Piece::Curriculum(_) | Piece::Course(_) => return Ok(false),
    };
    let (table, id) = row_of(piece);
    let swapped = sqlx::query(&format!(
        r#"
        WITH me AS (SELECT id, {parent} AS parent, position FROM {table} WHERE id = $1),
             nb AS (SELECT p.id, p.position FROM {table} p, me
                     WHERE p.{parent} = me.parent AND p.id <> me.id AND p.deleted_at IS NULL
                       AND CASE WHEN $2 THEN p.position < me.position ELSE p.position > me.position END
                     ORDER BY CASE WHEN $2 THEN -p.position ELSE p.position END LIMIT 1)
        UPDATE {table} p SET position = CASE WHEN p.id = me.id THEN nb.position ELSE me.position END,
                             updated_at = now()
          FROM me, nb WHERE p.id IN (me.id, nb.id)
        "#
    ))
    .bind(id)
    .bind(up)
    .execute(conn)
    .await?;
    Ok(swapped.rows_affected() == 2)
}

// ---------- reviews ----------

/// A tutor asks for the course to be made public (a new request replaces
/// a note an admin left).
pub async fn request_review(conn: &mut PgConnection, id: CourseId) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE courses SET review_requested_at = coalesce(review_requested_at, now()),
                review_note = NULL, updated_at = now()
          WHERE id = $1 AND published_at IS NULL",
        id.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends a review: withdrawn or approved (no note), or sent back (a note).
pub async fn end_review(
    conn: &mut PgConnection,
    id: CourseId,
    note: Option<&str>,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "UPDATE courses SET review_requested_at = NULL, review_note = $2, updated_at = now()
          WHERE id = $1 AND (review_requested_at IS NOT NULL OR $2::text IS NULL)",
        id.0,
        note
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// A course waiting for an admin's review.
pub struct ReviewRow {
    pub id: CourseId,
    pub title: String,
    pub author: Option<String>,
    pub requested_at: OffsetDateTime,
}

/// The courses waiting for review, oldest request first.
pub async fn reviews(conn: &mut PgConnection) -> sqlx::Result<Vec<ReviewRow>> {
    sqlx::query_as!(
        ReviewRow,
        r#"SELECT c.id AS "id: CourseId", c.title, u.email AS "author?",
                  c.review_requested_at AS "requested_at!"
             FROM courses c LEFT JOIN users u ON u.id = c.author_id
            WHERE c.review_requested_at IS NOT NULL AND c.published_at IS NULL AND c.deleted_at IS NULL
            ORDER BY c.review_requested_at"#
    )
    .fetch_all(conn)
    .await
}

/// Where a course's review stands: asked when, and an admin's note.
pub async fn review_state(
    conn: &mut PgConnection,
    id: CourseId,
) -> sqlx::Result<(Option<OffsetDateTime>, Option<String>)> {
    let row = sqlx::query!(
        "SELECT review_requested_at, review_note FROM courses WHERE id = $1",
        id.0
    )
    .fetch_one(conn)
    .await?;
    Ok((row.review_requested_at, row.review_note))
}
