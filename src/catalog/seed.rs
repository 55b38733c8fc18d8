//! The demo nano-degree: one curriculum, 7 courses, their lectures and topics,
//! from `nanodegree.json`. Seeding is idempotent: when the curriculum exists,
//! nothing changes.

use serde::Deserialize;
use sqlx::PgConnection;

use crate::ids::CurriculumId;

const NANODEGREE: &str = include_str!("nanodegree.json");

#[derive(Deserialize)]
struct CurriculumSeed {
    slug: String,
    title: String,
    summary: String,
    description: String,
    category: String,
    skill_level: String,
    price_won: i64,
    access_months: i32,
    courses: Vec<CourseSeed>,
}

#[derive(Deserialize)]
struct CourseSeed {
    slug: String,
    title: String,
    summary: String,
    description: String,
    category: String,
    skill_level: String,
    #[serde(default)]
    price_won: Option<i64>,
    /// Other names search finds the course by.
    #[serde(default)]
    keywords: String,
    lectures: Vec<LectureSeed>,
}

#[derive(Deserialize)]
struct LectureSeed {
    title: String,
    description: String,
    topics: Vec<TopicSeed>,
}

#[derive(Deserialize)]
struct TopicSeed {
    title: String,
    kind: String,
    duration_secs: i32,
    #[serde(default)]
    body: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    Created(CurriculumId),
    AlreadyThere(CurriculumId),
}

/// The slug of the demo nano-degree.
pub fn nanodegree_slug() -> &'static str {
    "web-dev-nanodegree"
}

/// Loads the demo nano-degree unless it is there. Run it in a transaction.
pub async fn seed_nanodegree(conn: &mut PgConnection) -> anyhow::Result<SeedOutcome> {
    let seed: CurriculumSeed = serde_json::from_str(NANODEGREE)?;
    // Serialise concurrent seeders (two instances starting at once).
    crate::infra::db::lock(conn, "seed", &seed.slug).await?;
    if let Some(id) = sqlx::query_scalar!("SELECT id FROM curricula WHERE slug = $1", seed.slug)
        .fetch_optional(&mut *conn)
        .await?
    {
        return Ok(SeedOutcome::AlreadyThere(CurriculumId(id)));
    }
    let curriculum_id = sqlx::query_scalar!(
        r#"INSERT INTO curricula (slug, title, summary, description, category, skill_level, price_won, access_months, published_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) RETURNING id"#,
        seed.slug,
        seed.title,
        seed.summary,
        seed.description,
        seed.category,
        seed.skill_level,
        seed.price_won,
        seed.access_months,
    )
    .fetch_one(&mut *conn)
    .await?;

    for (course_pos, course) in (1i32..).zip(&seed.courses) {
        let course_id = sqlx::query_scalar!(
            r#"INSERT INTO courses (slug, title, summary, description, category, skill_level, price_won, keywords, published_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) RETURNING id"#,
            course.slug,
            course.title,
            course.summary,
            course.description,
            course.category,
            course.skill_level,
            course.price_won,
            course.keywords,
        )
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query!(
            "INSERT INTO curriculum_courses (curriculum_id, course_id, position) VALUES ($1, $2, $3)",
            curriculum_id,
            course_id,
            course_pos,
        )
        .execute(&mut *conn)
        .await?;
        for (lecture_pos, lecture) in (1i32..).zip(&course.lectures) {
            let lecture_id = sqlx::query_scalar!(
                "INSERT INTO lectures (course_id, title, description, position, published_at) VALUES ($1, $2, $3, $4, now()) RETURNING id",
                course_id,
                lecture.title,
                lecture.description,
                lecture_pos,
            )
            .fetch_one(&mut *conn)
            .await?;
            for (topic_pos, topic) in (1i32..).zip(&lecture.topics) {
                sqlx::query!(
                    r#"INSERT INTO topics (lecture_id, title, kind, body, duration_secs, is_preview, position, published_at)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, now())"#,
                    lecture_id,
                    topic.title,
                    topic.kind,
                    topic.body,
                    topic.duration_secs,
                    // The first lecture of every course is free to watch.
                    lecture_pos == 1,
                    topic_pos,
                )
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(SeedOutcome::Created(CurriculumId(curriculum_id)))
}

/// A video topic of the demo nano-degree, for the media seed.
#[derive(Clone, Debug)]
pub struct DemoVideoTopic {
    pub topic: crate::ids::TopicId,
    pub title: String,
    pub course_title: String,
}

/// The demo's video topics in the order their clips are made: the first
/// course's free previews first (what a visitor opens first), then the rest
/// in learning order.
pub async fn demo_video_topics(conn: &mut PgConnection) -> sqlx::Result<Vec<DemoVideoTopic>> {
    sqlx::query_as!(
        DemoVideoTopic,
        r#"SELECT t.id AS "topic: crate::ids::TopicId", t.title, c.title AS course_title
             FROM curricula cu
             JOIN curriculum_courses cc ON cc.curriculum_id = cu.id
             JOIN courses c ON c.id = cc.course_id AND c.deleted_at IS NULL
             JOIN lectures l ON l.course_id = c.id AND l.deleted_at IS NULL
             JOIN topics t ON t.lecture_id = l.id AND t.deleted_at IS NULL
            WHERE cu.slug = $1 AND t.kind = 'video'
            ORDER BY NOT (cc.position = 1 AND t.is_preview), cc.position, l.position, t.position"#,
        nanodegree_slug()
    )
    .fetch_all(conn)
    .await
}

/// The demo's courses without a cover, in learning order.
pub async fn demo_courses_without_cover(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<(crate::ids::CourseId, String)>> {
    Ok(sqlx::query!(
        r#"SELECT c.id AS "id: crate::ids::CourseId", c.title
             FROM curricula cu
             JOIN curriculum_courses cc ON cc.curriculum_id = cu.id
             JOIN courses c ON c.id = cc.course_id AND c.deleted_at IS NULL
            WHERE cu.slug = $1 AND c.cover_image_id IS NULL
            ORDER BY cc.position"#,
        nanodegree_slug()
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.title))
    .collect())
}

/// What the `#[sqlx::test]`s beside the services start from.
#[cfg(test)]
pub(crate) mod testing {
    use sqlx::PgConnection;

    use crate::ids::{CurriculumId, OrderId, UserId};

    /// The demo nano-degree seeded and a learner (`l@example.com`) who has
    /// bought nothing yet.
    pub async fn seeded_learner(conn: &mut PgConnection) -> (UserId, CurriculumId) {
        let curriculum = match super::seed_nanodegree(conn).await.unwrap() {
            super::SeedOutcome::Created(id) | super::SeedOutcome::AlreadyThere(id) => id,
        };
        let user: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO users (email, nickname, role) VALUES ('l@example.com', 'learner', 'student')
             RETURNING id",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        (UserId(user), curriculum)
    }

    /// A paid demo order of 50,000 won for `user` (what a purchase leaves
    /// before access is granted).
    pub async fn paid_order(conn: &mut PgConnection, user: UserId) -> OrderId {
        let order: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO orders (user_id, status, gateway, total_won, paid_at)
             VALUES ($1, 'paid', 'demo', 50000, now()) RETURNING id",
        )
        .bind(user.0)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        OrderId(order)
    }
}
