//! Curriculum -> course -> lecture -> topic: the home roadmap, the catalogue,
//! course pages, and the studio where tutors and admins author them.

pub mod cache;
pub mod error;
pub mod handlers;
pub mod model;
mod repo;
pub mod seed;
pub mod service;
pub mod studio;
mod studio_repo;
mod views;

use sqlx::PgConnection;

use crate::ids::{CourseId, TopicId};

pub use cache::CatalogCache;
use model::Product;
pub use repo::CourseKey;
pub use studio_repo::TopicRow as EditableTopic;

/// What grants access to `course`: the course itself and every curriculum
/// that holds it.
pub async fn products_granting(
    conn: &mut PgConnection,
    course: CourseId,
) -> sqlx::Result<Vec<Product>> {
    let curricula = repo::curricula_of_course(conn, course).await?;
    Ok(std::iter::once(Product::Course(course))
        .chain(curricula.into_iter().map(Product::Curriculum))
        .collect())
}

/// Where a topic sits, for access checks.
#[derive(Clone, Debug)]
pub struct TopicPlace {
    pub course: CourseId,
    /// A free preview anyone may watch.
    pub is_preview: bool,
    /// The course's author (a tutor), who may see everything in it.
    pub author: Option<uuid::Uuid>,
    pub title: String,
    pub course_title: String,
    /// The topic, its lecture and its course are all published.
    pub published: bool,
}

impl TopicPlace {
    /// Whether `viewer` authors this topic's course (or is an admin).
    pub fn authored_by(&self, viewer: Option<&crate::accounts::CurrentUser>) -> bool {
        service::can_edit(viewer, self.author)
    }
}

/// The course of a live topic; `None` when it (or its course) is gone.
pub async fn topic_place(
    conn: &mut PgConnection,
    topic: TopicId,
) -> sqlx::Result<Option<TopicPlace>> {
    Ok(repo::topic_place(conn, topic).await?.map(|r| TopicPlace {
        course: r.course_id,
        is_preview: r.is_preview,
        author: r.author_id,
        title: r.title,
        course_title: r.course_title,
        published: r.published,
    }))
}

/// A topic as every viewer of its lesson page sees it: where it sits, its kind and
/// its text (kept by [`CatalogCache::topic`](cache::CatalogCache::topic)).
#[derive(Clone, Debug)]
pub struct LessonTopic {
    pub place: TopicPlace,
    pub kind: model::TopicKind,
    pub body: String,
}

/// A live topic's view; `None` when it (or its course) is gone.
pub async fn lesson_topic(
    conn: &mut PgConnection,
    topic: TopicId,
) -> sqlx::Result<Option<LessonTopic>> {
    let Some(place) = topic_place(conn, topic).await? else {
        return Ok(None);
    };
    Ok(topic_text(conn, topic)
        .await?
        .map(|(kind, body)| LessonTopic { place, kind, body }))
}

/// Points `course` at cover image `image` (or none); returns the one
/// before. Catalogue pages show it from their next load.
pub async fn set_cover(
    conn: &mut PgConnection,
    course: CourseId,
    image: Option<uuid::Uuid>,
) -> sqlx::Result<Option<uuid::Uuid>> {
    let before = sqlx::query_scalar!(
        "SELECT cover_image_id FROM courses WHERE id = $1 FOR UPDATE",
        course.0
    )
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    sqlx::query!(
        "UPDATE courses SET cover_image_id = $2 WHERE id = $1",
        course.0,
        image
    )
    .execute(conn)
    .await?;
    Ok(before)
}

/// What a topic says: its kind and body text (a reading, a mission brief).
pub async fn topic_text(
    conn: &mut PgConnection,
    topic: TopicId,
) -> sqlx::Result<Option<(model::TopicKind, String)>> {
    repo::topic_text(conn, topic).await
}

/// What the catalogue asks for a product now.
#[derive(Clone, Debug)]
pub struct Offer {
    pub product: Product,
    pub title: String,
    /// `None` when it is not sold on its own (a course inside a curriculum).
    pub price: Option<crate::money::Won>,
    /// How long a purchase gives access.
    pub access_months: i32,
}

/// Price, title and access period of each live product among `products`
/// (unknown or deleted ones are left out).
pub async fn offers(conn: &mut PgConnection, products: &[Product]) -> sqlx::Result<Vec<Offer>> {
    let (curricula, courses) = Product::split(products);
    Ok(repo::offers(conn, &curricula, &courses)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(Offer {
                product: Product::from_columns(r.curriculum_id, r.course_id)?,
                title: r.title,
                price: r.price_won.map(crate::money::Won),
                access_months: r.access_months,
            })
        })
        .collect())
}

/// Titles of products, for lists of what a learner holds.
pub async fn titles(
    conn: &mut PgConnection,
    products: &[Product],
) -> sqlx::Result<std::collections::HashMap<Product, String>> {
    let (curricula, courses) = Product::split(products);
    Ok(repo::titles(conn, &curricula, &courses)
        .await?
        .into_iter()
        .filter_map(|(cu, co, title)| Some((Product::from_columns(cu, co)?, title)))
        .collect())
}

/// Every live curriculum and course with its title (curricula first, each
/// by title): what an admin picks from.
pub async fn all_products(conn: &mut PgConnection) -> sqlx::Result<Vec<(Product, String)>> {
    Ok(repo::all_titles(conn)
        .await?
        .into_iter()
        .filter_map(|(cu, co, title)| Some((Product::from_columns(cu, co)?, title)))
        .collect())
}

/// The live, published topics of each of `courses` (what progress counts).
pub async fn published_topics(
    conn: &mut PgConnection,
    courses: &[CourseId],
) -> sqlx::Result<Vec<(CourseId, TopicId)>> {
    let ids: Vec<uuid::Uuid> = courses.iter().map(|c| c.0).collect();
    repo::published_topics(conn, &ids).await
}

/// Sets a topic's length to its video's (when the video is ready), rounded
/// up to the second. Call it inside a [`CatalogCache::write`].
pub async fn set_topic_length(
    conn: &mut PgConnection,
    topic: crate::ids::TopicId,
    secs: f64,
) -> sqlx::Result<()> {
    repo::set_topic_length(conn, topic, secs.ceil() as i32).await
}

/// The courses `products` hold, in roadmap order: a course itself, a
/// curriculum its courses.
pub async fn courses_of(
    conn: &mut PgConnection,
    products: &[Product],
) -> sqlx::Result<Vec<CourseId>> {
    let (curricula, courses) = Product::split(products);
    repo::courses_of(conn, &curricula, &courses).await
}

/// `(title, course title)` of each of `topics`, for lists in other
/// capabilities.
pub async fn topic_titles(
    conn: &mut PgConnection,
    topics: &[TopicId],
) -> sqlx::Result<std::collections::HashMap<TopicId, (String, String)>> {
    let ids: Vec<uuid::Uuid> = topics.iter().map(|t| t.0).collect();
    Ok(repo::topic_titles(conn, &ids)
        .await?
        .into_iter()
        .map(|(id, title, course)| (id, (title, course)))
        .collect())
}

/// Topics whose title contains `part` (for admin filters).
pub async fn topics_titled(conn: &mut PgConnection, part: &str) -> sqlx::Result<Vec<TopicId>> {
    repo::topics_titled(conn, part, 500).await
}

/// The topic titled `title` in the course with slug `course` (the demo
/// seed finds its mission topics this way).
pub async fn topic_by_title(
    conn: &mut PgConnection,
    course: &str,
    title: &str,
) -> sqlx::Result<Option<TopicId>> {
    sqlx::query_scalar!(
        r#"SELECT t.id AS "id: TopicId" FROM topics t JOIN lectures l ON l.id = t.lecture_id
             JOIN courses c ON c.id = l.course_id
            WHERE c.slug = $1 AND t.title = $2 AND t.deleted_at IS NULL
            ORDER BY t.created_at LIMIT 1"#,
        course,
        title
    )
    .fetch_optional(conn)
    .await
}

/// Credits (학점) of each of `courses`.
pub async fn credits_of(
    conn: &mut PgConnection,
    courses: &[CourseId],
) -> sqlx::Result<std::collections::HashMap<CourseId, i32>> {
    let ids: Vec<uuid::Uuid> = courses.iter().map(|c| c.0).collect();
    Ok(sqlx::query!(
        r#"SELECT id AS "id: CourseId", credits FROM courses WHERE id = ANY($1)"#,
        &ids
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.credits))
    .collect())
}

/// What one of a course's live, published topics says, for readers of the
/// lessons' text (the tutor's index).
#[derive(Clone, Debug)]
pub struct TopicText {
    pub id: TopicId,
    pub title: String,
    pub kind: model::TopicKind,
    pub body: String,
    /// When its text last changed (a new stamp means read it again).
    pub updated_at: time::OffsetDateTime,
}

/// The live, published topics of `course` with their text, in course order.
pub async fn course_texts(
    conn: &mut PgConnection,
    course: CourseId,
) -> sqlx::Result<Vec<TopicText>> {
    sqlx::query_as!(
        TopicText,
        r#"SELECT t.id AS "id: TopicId", t.title, t.kind AS "kind: model::TopicKind", t.body,
                  greatest(t.updated_at, t.published_at) AS "updated_at!"
             FROM topics t JOIN lectures l ON l.id = t.lecture_id
            WHERE l.course_id = $1 AND t.deleted_at IS NULL AND l.deleted_at IS NULL
              AND t.published_at IS NOT NULL AND l.published_at IS NOT NULL
            ORDER BY l.position, t.position"#,
        course.0
    )
    .fetch_all(conn)
    .await
}
