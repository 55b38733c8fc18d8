//! Studio rules: who may change what, and what a valid course, lecture,
//! topic or curriculum is. Tutors change their own courses; admins all.

use sqlx::PgConnection;

use crate::{
    accounts::CurrentUser,
    catalog::error::{CatalogError, CatalogResult, Invalid, Missing, Problem, Work},
    catalog::{
        model::{Category, Listing, Piece, SkillLevel, TopicKind},
        repo::{self, CourseDetailRow},
        service::can_edit,
        studio_repo::{self as sr, ListingFields, TopicFields},
    },
    ids::{CourseId, CurriculumId, LectureId, TopicId},
    text,
};

fn title(errors: &mut Invalid, raw: &str) -> String {
    let t = raw.trim();
    let len = t.chars().count();
    if len == 0 {
        errors.push("title", Problem::Missing);
    } else if len > 120 {
        errors.push("title", Problem::TooLong { max: 120 });
    } else if !text::single_line(t) {
        errors.push("title", Problem::NotOneLine);
    }
    t.to_string()
}

fn bounded(errors: &mut Invalid, field: &'static str, raw: &str, max: usize) -> String {
    let t = raw.trim();
    if t.chars().count() > max {
        errors.push(field, Problem::TooLong { max });
    }
    t.to_string()
}

fn one_line(errors: &mut Invalid, field: &'static str, raw: &str, max: usize) -> String {
    let t = bounded(errors, field, raw, max);
    if !text::single_line(&t) {
        errors.push(field, Problem::NotOneLine);
    }
    t
}

/// Keywords and aliases: comma-separated, each trimmed, empty and repeated
/// ones dropped (ignoring case), at most 30 characters each, 300 in all.
fn keywords(errors: &mut Invalid, raw: &str) -> String {
    let line = one_line(errors, "keywords", raw, 300);
    let mut kept: Vec<&str> = Vec::new();
    for word in line.split([',', '，', '、']).map(str::trim) {
        if word.is_empty() || kept.iter().any(|k| k.to_lowercase() == word.to_lowercase()) {
            continue;
        }
        if word.chars().count() > 30 {
            errors.push("keywords", Problem::TooLong { max: 30 });
            break;
        }
        kept.push(word);
    }
    kept.join(", ")
}

fn price(errors: &mut Invalid, field: &'static str, raw: &str, required: bool) -> Option<i64> {
    let digits: String = raw.trim().chars().filter(|c| *c != ',').collect();
    if digits.is_empty() {
        if required {
            errors.push(field, Problem::Missing);
        }
        return None;
    }
    match digits.parse::<i64>() {
        Ok(won) if (0..=100_000_000).contains(&won) => Some(won),
        _ => {
            errors.push(field, Problem::OutOfRange);
            None
        }
    }
}

/// The category and skill level `<select>`s shared by courses and curricula.
fn classification(
    errors: &mut Invalid,
    category: &str,
    skill_level: &str,
) -> (Option<Category>, Option<SkillLevel>) {
    let category = Category::parse(category);
    if category.is_none() {
        errors.push("category", Problem::NotChosen);
    }
    let skill = SkillLevel::parse(skill_level);
    if skill.is_none() {
        errors.push("skill_level", Problem::NotChosen);
    }
    (category, skill)
}

/// The form of a course or a curriculum: the two share every field but the
/// curriculum's access period, and a curriculum must have a price.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ListingForm {
    /// The one-time key of a create form (`infra::once`).
    #[serde(default)]
    pub form_key: Option<uuid::Uuid>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub skill_level: String,
    #[serde(default)]
    pub price_won: String,
    /// Curricula only.
    #[serde(default)]
    pub access_months: String,
    /// Courses only: other names search finds it by, comma-separated.
    #[serde(default)]
    pub keywords: String,
}

impl ListingForm {
    /// A course's own fields as they stand, in the form's terms.
    pub fn of_course(c: &CourseDetailRow) -> Self {
        let shared = Self::shared(
            &c.title,
            &c.summary,
            &c.description,
            c.category,
            c.skill_level,
        );
        Self {
            price_won: c.price_won.map(|p| p.to_string()).unwrap_or_default(),
            keywords: c.keywords.clone(),
            ..shared
        }
    }

    /// A curriculum's own fields as they stand.
    pub fn of_curriculum(c: &sr::StudioCurriculumRow) -> Self {
        let shared = Self::shared(
            &c.title,
            &c.summary,
            &c.description,
            c.category,
            c.skill_level,
        );
        Self {
            price_won: c.price_won.to_string(),
            access_months: c.access_months.to_string(),
            ..shared
        }
    }

    /// The fields a course and a curriculum share: title, summary and
    /// description, and the classification.
    fn shared(
        title: &str,
        summary: &str,
        description: &str,
        category: Category,
        skill: SkillLevel,
    ) -> Self {
        Self {
            title: title.to_owned(),
            summary: summary.to_owned(),
            description: description.to_owned(),
            category: category.to_string(),
            skill_level: skill.to_string(),
            ..Self::default()
        }
    }

    /// A new curriculum's form: two years of access unless changed.
    pub fn new_curriculum() -> Self {
        Self {
            access_months: "24".into(),
            ..Self::default()
        }
    }
}

fn validate_listing(form: &ListingForm, work: Work) -> CatalogResult<ListingFields> {
    let curriculum = work == Work::Curriculum;
    let mut errors = Invalid::default();
    let title = title(&mut errors, &form.title);
    let summary = one_line(&mut errors, "summary", &form.summary, 300);
    let description = bounded(&mut errors, "description", &form.description, 5000);
    let (category, skill) = classification(&mut errors, &form.category, &form.skill_level);
    let price_won = price(&mut errors, "price_won", &form.price_won, curriculum);
    let keywords = match curriculum {
        true => String::new(),
        false => keywords(&mut errors, &form.keywords),
    };
    let access_months = if curriculum {
        form.access_months
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|m| (1..=120).contains(m))
    } else {
        Some(0)
    };
    if access_months.is_none() {
        errors.push("access_months", Problem::OutOfRange);
    }
    match (category, skill, access_months, errors.is_empty()) {
        (Some(category), Some(skill_level), Some(access_months), true) => Ok(ListingFields {
            title,
            summary,
            description,
            category,
            skill_level,
            price_won,
            access_months,
            keywords,
        }),
        _ => Err(CatalogError::Invalid(errors)),
    }
}

/// A new course or curriculum, written by `user`.
pub async fn create_listing(
    conn: &mut PgConnection,
    user: &CurrentUser,
    work: Work,
    form: &ListingForm,
) -> CatalogResult<Listing> {
    let valid = validate_listing(form, work)?;
    Ok(match work {
        Work::Course => Listing::Course(sr::insert_course(conn, &valid, user.id).await?),
        Work::Curriculum => {
            Listing::Curriculum(sr::insert_curriculum(conn, &valid, user.id).await?)
        }
    })
}

/// Saves a course's or curriculum's own fields.
pub async fn update_listing(
    conn: &mut PgConnection,
    user: &CurrentUser,
    listing: Listing,
    form: &ListingForm,
) -> CatalogResult<()> {
    authorize(conn, user, listing.into()).await?;
    let valid = validate_listing(form, listing.work())?;
    match listing {
        Listing::Course(id) => sr::update_course(conn, id, &valid).await?,
        Listing::Curriculum(id) => sr::update_curriculum(conn, id, &valid).await?,
    }
    Ok(())
}

/// Locks the course and checks `user` may change it.
pub async fn authorize_course(
    conn: &mut PgConnection,
    user: &CurrentUser,
    course: CourseId,
) -> CatalogResult<()> {
    let author = sr::lock_course(conn, course)
        .await?
        .ok_or(CatalogError::NotFound)?;
    if can_edit(Some(user), author) {
        Ok(())
    } else {
        Err(CatalogError::NotAuthor(Work::Course))
    }
}

/// The course with deleted lectures and topics too, for its editor.
pub async fn course_for_editing(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CourseId,
) -> CatalogResult<CourseDetailRow> {
    let row = repo::course_detail(conn, id, true)
        .await?
        .ok_or(CatalogError::NotFound)?;
    if !can_edit(Some(user), row.author_id) {
        return Err(CatalogError::NotAuthor(Work::Course));
    }
    Ok(row)
}

pub async fn my_courses(
    conn: &mut PgConnection,
    user: &CurrentUser,
) -> CatalogResult<Vec<sr::StudioCourseRow>> {
    let author = (!user.is_admin()).then_some(user.id);
    Ok(sr::studio_courses(conn, author).await?)
}

// ---------- lectures ----------

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct LectureForm {
    /// The one-time key of a create form (`infra::once`).
    #[serde(default)]
    pub form_key: Option<uuid::Uuid>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
}

fn validate_lecture(form: &LectureForm) -> CatalogResult<(String, String)> {
    let mut errors = Invalid::default();
    let t = title(&mut errors, &form.title);
    let d = bounded(&mut errors, "description", &form.description, 1000);
    if errors.is_empty() {
        Ok((t, d))
    } else {
        Err(CatalogError::Invalid(errors))
    }
}

async fn authorize_lecture(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: LectureId,
) -> CatalogResult<CourseId> {
    let course = sr::lecture_course(conn, id)
        .await?
        .ok_or(CatalogError::NotFound)?;
    authorize_course(conn, user, course).await?;
    Ok(course)
}

pub async fn add_lecture(
    conn: &mut PgConnection,
    user: &CurrentUser,
    course: CourseId,
    form: &LectureForm,
) -> CatalogResult<LectureId> {
    authorize_course(conn, user, course).await?;
    let (t, d) = validate_lecture(form)?;
    Ok(sr::insert_lecture(conn, course, &t, &d).await?)
}

pub async fn update_lecture(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: LectureId,
    form: &LectureForm,
) -> CatalogResult<CourseId> {
    let course = authorize_lecture(conn, user, id).await?;
    let (t, d) = validate_lecture(form)?;
    sr::update_lecture(conn, id, &t, &d).await?;
    Ok(course)
}

// ---------- topics ----------

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct TopicForm {
    /// The one-time key of a create form (`infra::once`).
    #[serde(default)]
    pub form_key: Option<uuid::Uuid>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub duration_minutes: String,
    pub is_preview: Option<String>,
}

struct ValidTopic {
    title: String,
    kind: TopicKind,
    body: String,
    duration_secs: i32,
    is_preview: bool,
}

fn validate_topic(form: &TopicForm) -> CatalogResult<ValidTopic> {
    let mut errors = Invalid::default();
    let t = title(&mut errors, &form.title);
    let kind = TopicKind::parse(&form.kind);
    if kind.is_none() {
        errors.push("kind", Problem::NotChosen);
    }
    let body = bounded(&mut errors, "body", &form.body, 20_000);
    let minutes = match form.duration_minutes.trim() {
        "" => Some(0),
        raw => raw.parse::<i32>().ok().filter(|m| (0..=600).contains(m)),
    };
    if minutes.is_none() {
        errors.push("duration_minutes", Problem::OutOfRange);
    }
    match (kind, minutes, errors.is_empty()) {
        (Some(kind), Some(minutes), true) => Ok(ValidTopic {
            title: t,
            kind,
            body,
            duration_secs: minutes * 60,
            is_preview: form.is_preview.is_some(),
        }),
        _ => Err(CatalogError::Invalid(errors)),
    }
}

impl ValidTopic {
    fn fields(&self) -> TopicFields<'_> {
        TopicFields {
            title: &self.title,
            kind: self.kind,
            body: &self.body,
            duration_secs: self.duration_secs,
            is_preview: self.is_preview,
        }
    }
}

pub async fn add_topic(
    conn: &mut PgConnection,
    user: &CurrentUser,
    lecture: LectureId,
    form: &TopicForm,
) -> CatalogResult<CourseId> {
    let course = authorize_lecture(conn, user, lecture).await?;
    let valid = validate_topic(form)?;
    sr::insert_topic(conn, lecture, &valid.fields()).await?;
    Ok(course)
}

pub async fn topic_for_editing(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: TopicId,
) -> CatalogResult<sr::TopicRow> {
    let topic = sr::topic(conn, id).await?.ok_or(CatalogError::NotFound)?;
    authorize_course(conn, user, topic.course_id).await?;
    Ok(topic)
}

/// A video topic `user` may change (its video and captions); any other
/// kind of topic is refused.
pub async fn video_topic_for_editing(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: TopicId,
) -> CatalogResult<sr::TopicRow> {
    let topic = topic_for_editing(conn, user, id).await?;
    match topic.kind {
        crate::catalog::model::TopicKind::Video => Ok(topic),
        _ => Err(CatalogError::NotVideo),
    }
}

/// Saves a topic's fields. `video_secs` is the length of its ready video,
/// which a video topic's length follows whatever the form says.
pub async fn update_topic(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: TopicId,
    form: &TopicForm,
    video_secs: Option<f64>,
) -> CatalogResult<CourseId> {
    let topic = topic_for_editing(conn, user, id).await?;
    let mut valid = validate_topic(form)?;
    if let (TopicKind::Video, Some(secs)) = (valid.kind, video_secs) {
        valid.duration_secs = secs.ceil() as i32;
    }
    sr::update_topic(conn, id, &valid.fields()).await?;
    Ok(topic.course_id)
}

// ---------- curricula ----------

/// Locks the curriculum (inside a transaction) and checks `user` may
/// change it.
pub async fn authorize_curriculum(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CurriculumId,
) -> CatalogResult<sr::StudioCurriculumRow> {
    let row = sr::curriculum(conn, id)
        .await?
        .ok_or(CatalogError::NotFound)?;
    if can_edit(Some(user), row.author_id) {
        Ok(row)
    } else {
        Err(CatalogError::NotAuthor(Work::Curriculum))
    }
}

pub async fn my_curricula(
    conn: &mut PgConnection,
    user: &CurrentUser,
) -> CatalogResult<Vec<sr::StudioCurriculumRow>> {
    let author = (!user.is_admin()).then_some(user.id);
    Ok(sr::studio_curricula(conn, author).await?)
}

/// What a tutor does to a course in a curriculum's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrange {
    /// Append a course the user may also edit.
    Add,
    Remove,
    Move {
        up: bool,
    },
}

/// Adds, removes or moves a course in a curriculum's order.
pub async fn arrange_curriculum(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CurriculumId,
    course: CourseId,
    arrange: Arrange,
) -> CatalogResult<()> {
    authorize_curriculum(conn, user, id).await?;
    match arrange {
        Arrange::Add => {
            authorize_course(conn, user, course).await?;
            sr::add_curriculum_course(conn, id, course).await?;
        }
        Arrange::Remove => sr::remove_curriculum_course(conn, id, course).await?,
        Arrange::Move { up } => {
            sr::move_curriculum_course(conn, id, course, up).await?;
        }
    }
    Ok(())
}

// ---------- the outline: one editor for its four kinds ----------

/// What a tutor does to a piece of the outline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Swap with the live neighbour above (`true`) or below, inside its
    /// course or lecture.
    Move { up: bool },
    /// Delete (`true`, kept and restorable) or restore.
    Deleted(bool),
    /// Publish (`true`, once complete enough) or take back to a draft.
    Published(bool),
}

/// Locks the course or curriculum the piece belongs to and checks `user`
/// may change it.
async fn authorize(
    conn: &mut PgConnection,
    user: &CurrentUser,
    piece: Piece,
) -> CatalogResult<Listing> {
    let course = match piece {
        Piece::Curriculum(id) => {
            authorize_curriculum(conn, user, id).await?;
            return Ok(Listing::Curriculum(id));
        }
        Piece::Course(id) => id,
        Piece::Lecture(id) => sr::lecture_course(conn, id)
            .await?
            .ok_or(CatalogError::NotFound)?,
        Piece::Topic(id) => {
            sr::topic(conn, id)
                .await?
                .ok_or(CatalogError::NotFound)?
                .course_id
        }
    };
    authorize_course(conn, user, course).await?;
    Ok(Listing::Course(course))
}

/// What a piece lacks before learners may see it: a course its
/// description, price, content and cover; a curriculum its description and
/// a public course; a video topic its ready video (`video_ready`, told by
/// the caller, who may ask media).
async fn missing_for_publishing(
    conn: &mut PgConnection,
    piece: Piece,
    video_ready: bool,
) -> CatalogResult<Vec<Missing>> {
    let wanted = match piece {
        Piece::Course(id) => {
            let c = sr::course_completeness(conn, id).await?;
            [
                (!c.has_description, Missing::Description),
                (!c.has_price, Missing::Price),
                (!c.has_content, Missing::PublishedTopic),
                (!c.has_cover, Missing::Cover),
            ]
            .to_vec()
        }
        Piece::Topic(id) => {
            let topic = sr::topic(conn, id).await?.ok_or(CatalogError::NotFound)?;
            vec![(
                topic.kind == TopicKind::Video && !video_ready,
                Missing::Video,
            )]
        }
        Piece::Curriculum(id) => {
            let c = sr::curriculum_completeness(conn, id).await?;
            [
                (!c.has_description, Missing::Description),
                (!c.has_courses, Missing::PublishedCourse),
            ]
            .to_vec()
        }
        Piece::Lecture(_) => Vec::new(),
    };
    Ok(wanted
        .into_iter()
        .filter_map(|(lacks, what)| lacks.then_some(what))
        .collect())
}

/// Moves, deletes, restores, publishes or drafts one piece of the outline;
/// returns the course or curriculum it belongs to. `video_ready`: a topic's
/// video can be watched (publishing a video topic needs it). A tutor's
/// course is not published but put in the admins' review queue
/// ([`approve`]); an admin publishes directly.
pub async fn edit(
    conn: &mut PgConnection,
    user: &CurrentUser,
    piece: Piece,
    edit: Edit,
    video_ready: bool,
) -> CatalogResult<Listing> {
    let listing = authorize(conn, user, piece).await?;
    match edit {
        Edit::Move { .. } if matches!(piece, Piece::Curriculum(_) | Piece::Course(_)) => {
            // Courses move inside a curriculum's order, not on their own.
            return Err(CatalogError::NotFound);
        }
        Edit::Move { up } => {
            if !sr::move_piece(conn, piece, up).await? {
                // Already first or last (or a kind with no order of its own):
                // nothing moves, and that is no error.
                tracing::debug!(?piece, up, "nothing to swap with");
            }
        }
        Edit::Deleted(on) => sr::set_mark(conn, piece, sr::Mark::Deleted, on).await?,
        Edit::Published(on) => {
            let missing = if on {
                missing_for_publishing(conn, piece, video_ready).await?
            } else {
                Vec::new()
            };
            if !missing.is_empty() {
                return Err(CatalogError::Incomplete(missing));
            }
            match piece {
                Piece::Course(id) if on && !user.is_admin() => sr::request_review(conn, id).await?,
                Piece::Course(id) => {
                    sr::set_mark(conn, piece, sr::Mark::Published, on).await?;
                    // Published, or taken back: no review is pending.
                    sr::end_review(conn, id, None).await?;
                }
                _ => sr::set_mark(conn, piece, sr::Mark::Published, on).await?,
            }
        }
    }
    Ok(listing)
}

// ---------- reviews ----------

/// The courses waiting for an admin's review.
pub async fn reviews(
    conn: &mut PgConnection,
    user: &CurrentUser,
) -> CatalogResult<Vec<sr::ReviewRow>> {
    if !user.is_admin() {
        return Err(CatalogError::NotAuthor(Work::Course));
    }
    Ok(sr::reviews(conn).await?)
}

/// An admin publishes a course waiting for review (what publishing needs
/// is checked again).
pub async fn approve(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CourseId,
) -> CatalogResult<()> {
    if !user.is_admin() {
        return Err(CatalogError::NotAuthor(Work::Course));
    }
    authorize_course(conn, user, id).await?;
    let missing = missing_for_publishing(conn, Piece::Course(id), true).await?;
    if !missing.is_empty() {
        return Err(CatalogError::Incomplete(missing));
    }
    sr::set_mark(conn, Piece::Course(id), sr::Mark::Published, true).await?;
    sr::end_review(conn, id, None).await?;
    Ok(())
}

/// An admin sends a course back to its tutor with a note (1-500
/// characters, one paragraph).
pub async fn send_back(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CourseId,
    note: &str,
) -> CatalogResult<()> {
    if !user.is_admin() {
        return Err(CatalogError::NotAuthor(Work::Course));
    }
    authorize_course(conn, user, id).await?;
    let mut errors = Invalid::default();
    let note = bounded(&mut errors, "note", note, 500);
    if note.is_empty() {
        errors.push("note", Problem::Missing);
    }
    if !errors.is_empty() {
        return Err(CatalogError::Invalid(errors));
    }
    if !sr::end_review(conn, id, Some(&note)).await? {
        return Err(CatalogError::NotFound);
    }
    Ok(())
}
