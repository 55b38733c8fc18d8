//! Catalogue rules: the roadmap, the catalogue, the course page.

use sqlx::PgConnection;

use crate::{
    accounts::CurrentUser,
    catalog::error::{CatalogError, CatalogResult},
    catalog::{
        model::{Category, PriceLevel, Product, SkillLevel, TopicKind},
        repo::{self, CourseKey},
        seed,
    },
    ids::{CourseId, CurriculumId},
    money::Won,
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
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NotPurchased => "not-purchased",
            Self::Purchased => "purchased",
            Self::InProgress => "in-progress",
            Self::Completed => "completed",
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
    pub skill: SkillLevel,
    pub lecture_count: i64,
    pub topic_count: i64,
    /// Seconds (`|duration` says it).
    pub duration: i64,
    pub cover: Option<Cover>,
}

/// A course's cover image, in the sizes `media::images` makes.
#[derive(Clone, Copy, Debug)]
pub struct Cover(pub uuid::Uuid);

impl Cover {
    pub fn src(&self) -> String {
        crate::web::routes::image_url(self.0, 480)
    }

    pub fn large(&self) -> String {
        crate::web::routes::image_url(self.0, 960)
    }

    pub fn srcset(&self) -> String {
        crate::web::routes::cover_srcset(self.0)
    }
}

pub struct Roadmap {
    pub curriculum_id: CurriculumId,
    pub title: String,
    pub summary: String,
    pub price: Won,
    pub access_months: i32,
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
            skill: c.skill_level,
            lecture_count: c.lecture_count,
            topic_count: c.topic_count,
            duration: c.total_secs,
            cover: c.cover_image_id.map(Cover),
        })
        .collect();
    Ok(Some(Roadmap {
        curriculum_id: curriculum.id,
        title: curriculum.title,
        summary: curriculum.summary,
        price: Won(curriculum.price_won),
        access_months: curriculum.access_months,
        steps,
    }))
}

// ---------- catalogue ----------

pub const PAGE_SIZE: i64 = 12;

/// What `GET /courses` was asked, with unknown filter values dropped.
#[derive(Clone, Debug, Default)]
pub struct CatalogQuery {
    pub q: String,
    pub category: Option<Category>,
    pub skill_level: Option<SkillLevel>,
    pub price_level: Option<PriceLevel>,
    pub page: i64,
}

impl CatalogQuery {
    pub fn is_filtered(&self) -> bool {
        !self.q.trim().is_empty()
            || self.category.is_some()
            || self.skill_level.is_some()
            || self.price_level.is_some()
    }

    /// The chosen filter codes ("" for all), for marking `<option selected>`.
    pub fn category_code(&self) -> &'static str {
        self.category.map_or("", |c| c.as_str())
    }
    pub fn skill_code(&self) -> &'static str {
        self.skill_level.map_or("", |s| s.as_str())
    }
    pub fn price_code(&self) -> &'static str {
        self.price_level.map_or("", |p| p.as_str())
    }

    /// The catalogue URL for `page` with the same filters.
    pub fn href(&self, page: i64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.trim().is_empty() {
            query.append_pair("q", self.q.trim());
        }
        if let Some(c) = self.category {
            query.append_pair("category", c.as_str());
        }
        if let Some(s) = self.skill_level {
            query.append_pair("skill_level", s.as_str());
        }
        if let Some(p) = self.price_level {
            query.append_pair("price_level", p.as_str());
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            "/courses".into()
        } else {
            format!("/courses?{query}")
        }
    }
}

pub struct CourseCard {
    pub id: CourseId,
    pub title: String,
    pub summary: String,
    pub category: Category,
    pub skill: SkillLevel,
    /// `None`: sold only inside its curriculum.
    pub price: Option<Won>,
    pub curriculum_title: Option<String>,
    pub lecture_count: i64,
    /// Seconds (`|duration` says it).
    pub duration: i64,
    pub cover: Option<Cover>,
    /// Its place in the catalogue's order (for a cursor).
    pub key: CourseKey,
}

pub struct CatalogPage {
    pub cards: Vec<CourseCard>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub query: CatalogQuery,
}

/// The words of `q` (at most five, lower-cased), each with its `%word%`
/// pattern, LIKE metacharacters escaped.
fn search_words(q: &str) -> (Vec<String>, Vec<String>) {
    q.split_whitespace()
        .take(5)
        .map(|word| {
            let word = word.to_lowercase();
            let escaped = crate::infra::db::escape_like(&word);
            (format!("%{escaped}%"), word)
        })
        .unzip()
}

pub async fn catalogue(conn: &mut PgConnection, query: CatalogQuery) -> CatalogResult<CatalogPage> {
    let page = query.page.max(1);
    let rows = repo::list_courses(
        conn,
        &filter(&query, None),
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok(CatalogPage {
        cards: rows.into_iter().map(CourseCard::from).collect(),
        total,
        page,
        pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
        query,
    })
}

/// Up to `limit` courses matching `query` after `after` in the catalogue's
/// order (a cursor's page), and whether more follow.
pub async fn catalogue_after(
    conn: &mut PgConnection,
    query: &CatalogQuery,
    after: Option<CourseKey>,
    limit: i64,
) -> CatalogResult<(Vec<CourseCard>, bool)> {
    let rows = repo::list_courses(conn, &filter(query, after), limit + 1, 0).await?;
    let more = rows.len() as i64 > limit;
    let cards = rows
        .into_iter()
        .take(limit as usize)
        .map(CourseCard::from)
        .collect();
    Ok((cards, more))
}

fn filter(query: &CatalogQuery, after: Option<CourseKey>) -> repo::CourseFilter<'static> {
    let (patterns, words) = search_words(&query.q);
    repo::CourseFilter {
        patterns,
        words,
        category: query.category.map(|c| c.as_str()),
        skill_level: query.skill_level.map(|s| s.as_str()),
        price_level: query.price_level.map(|p| p.as_str()),
        after,
    }
}

pub use repo::{CurriculumListRow as CurriculumCard, RoadmapCourseRow as CurriculumCourse};

/// Up to `limit` published curricula matching `query` (its words, category,
/// skill and price levels), newest first after `after`, and whether more
/// follow.
pub async fn curricula_after(
    conn: &mut PgConnection,
    query: &CatalogQuery,
    after: Option<(time::OffsetDateTime, CurriculumId)>,
    limit: i64,
) -> CatalogResult<(Vec<CurriculumCard>, bool)> {
    let (patterns, _) = search_words(&query.q);
    let filter = repo::CurriculumFilter {
        patterns,
        category: query.category.map(|c| c.as_str()),
        skill_level: query.skill_level.map(|s| s.as_str()),
        price_level: query.price_level.map(|p| p.as_str()),
        after,
    };
    let mut rows = repo::list_curricula(conn, &filter, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// A curriculum and its published courses in learning order. A draft is
/// seen only by its editors (as [`CourseView::visible_to`]).
pub async fn curriculum(
    conn: &mut PgConnection,
    viewer: Option<&CurrentUser>,
    id: CurriculumId,
) -> CatalogResult<(CurriculumCard, Vec<CurriculumCourse>)> {
    let row = repo::curriculum(conn, id)
        .await?
        .filter(|r| r.published || can_edit(viewer, r.author_id))
        .ok_or(CatalogError::NotFound)?;
    let courses = repo::roadmap_courses(conn, id).await?;
    Ok((row, courses))
}

impl From<repo::CourseCardRow> for CourseCard {
    fn from(r: repo::CourseCardRow) -> Self {
        Self {
            key: CourseKey {
                unlisted: r.unlisted,
                position: r.position,
                created_at: r.created_at,
                id: r.id,
            },
            id: r.id,
            title: r.title,
            summary: r.summary,
            category: r.category,
            skill: r.skill_level,
            price: r.price_won.map(Won),
            curriculum_title: r.curriculum_title,
            lecture_count: r.lecture_count,
            duration: r.total_secs,
            cover: r.cover_image_id.map(Cover),
        }
    }
}

// ---------- course page ----------

pub struct TopicView {
    pub id: crate::ids::TopicId,
    pub title: String,
    pub kind: TopicKind,
    /// Seconds (`|duration` says it).
    pub duration: i64,
    pub is_preview: bool,
    pub published: bool,
}

pub struct LectureView {
    pub title: String,
    pub description: String,
    pub published: bool,
    pub topics: Vec<TopicView>,
}

pub struct CurriculumRef {
    pub id: CurriculumId,
    pub title: String,
    pub price: Won,
    pub access_months: i32,
    pub position: i32,
}

pub struct CourseView {
    pub id: CourseId,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub category: Category,
    pub skill: SkillLevel,
    /// Its own price, when it is sold alone.
    pub own_price: Option<Won>,
    pub curriculum: Option<CurriculumRef>,
    pub lectures: Vec<LectureView>,
    pub topic_count: usize,
    /// Seconds (`|duration` says it).
    pub duration: i64,
    pub cover: Option<Cover>,
    pub deleted: bool,
    /// A draft is seen only by its author and admins.
    pub published: bool,
    /// Who wrote it (with `deleted`, decides who may still see it).
    pub author_id: Option<uuid::Uuid>,
    /// What grants access to it: the course itself and every curriculum
    /// holding it (for `learning::access`).
    pub sellers: Vec<Product>,
    /// Who teaches it (none: the platform's own content). Cached with the
    /// rest: a tutor's new introduction shows within the cache's TTL.
    pub tutor: Option<crate::accounts::PublicProfile>,
}

/// May `viewer` change the course written by `author`?
pub fn can_edit(viewer: Option<&CurrentUser>, author: Option<uuid::Uuid>) -> bool {
    viewer.is_some_and(|v| v.is_admin() || (v.role.is_staff() && author == Some(v.id.0)))
}

/// The course page as every visitor sees it (cached by the caller); who
/// may see a deleted course is [`CourseView::visible_to`].
pub async fn course_page(conn: &mut PgConnection, id: CourseId) -> CatalogResult<CourseView> {
    let row = repo::course_detail(conn, id, false)
        .await?
        .ok_or(CatalogError::NotFound)?;
    let mut total_secs = 0;
    let mut topic_count = 0;
    let lectures = row
        .lectures
        .0
        .into_iter()
        .map(|l| LectureView {
            title: l.title,
            description: l.description,
            published: l.published,
            topics: l
                .topics
                .into_iter()
                .map(|t| {
                    // What learners see counts; drafts show only to authors.
                    if l.published && t.published {
                        total_secs += t.duration_secs;
                        topic_count += 1;
                    }
                    TopicView {
                        id: t.id,
                        title: t.title,
                        kind: t.kind,
                        duration: t.duration_secs,
                        is_preview: t.is_preview,
                        published: t.published,
                    }
                })
                .collect(),
        })
        .collect();
    let curriculum = match (row.curriculum_id, row.curriculum_title) {
        (Some(id), Some(title)) => Some(CurriculumRef {
            id,
            title,
            price: Won(row.curriculum_price_won.unwrap_or(0)),
            access_months: row.curriculum_access_months.unwrap_or(24),
            position: row.position.unwrap_or(0),
        }),
        _ => None,
    };
    let tutor = match row.author_id {
        Some(author) => crate::accounts::public_profile(conn, crate::ids::UserId(author)).await?,
        None => None,
    };
    Ok(CourseView {
        tutor,
        id: row.id,
        title: row.title,
        summary: row.summary,
        description: row.description,
        category: row.category,
        skill: row.skill_level,
        own_price: row.price_won.map(Won),
        curriculum,
        lectures,
        topic_count,
        duration: total_secs,
        cover: row.cover_image_id.map(Cover),
        deleted: row.deleted,
        published: row.published,
        author_id: row.author_id,
        sellers: std::iter::once(Product::Course(row.id))
            .chain(
                row.curricula
                    .into_iter()
                    .map(|c| Product::Curriculum(CurriculumId(c))),
            )
            .collect(),
    })
}

impl CourseView {
    /// A deleted course is shown to its author and admins only.
    pub fn visible_to(&self, viewer: Option<&CurrentUser>) -> bool {
        (!self.deleted && self.published) || can_edit(viewer, self.author_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_become_escaped_like_patterns() {
        let (patterns, words) = search_words("  자바스크립트   DOM ");
        assert_eq!(patterns, vec!["%자바스크립트%", "%dom%"]);
        assert_eq!(words, vec!["자바스크립트", "dom"]);
        assert_eq!(search_words("100%_off").0, vec!["%100\\%\\_off%"]);
        assert!(search_words("   ").0.is_empty());
    }

    #[test]
    fn catalogue_links_keep_the_filters() {
        let query = CatalogQuery {
            q: "배포".into(),
            category: Some(Category::Devops),
            skill_level: None,
            price_level: Some(PriceLevel::Bundle),
            page: 1,
        };
        assert_eq!(
            query.href(2),
            "/courses?q=%EB%B0%B0%ED%8F%AC&category=devops&price_level=bundle&page=2"
        );
        assert_eq!(CatalogQuery::default().href(1), "/courses");
    }
}
