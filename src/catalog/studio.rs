//! Studio rules: who may change what, and what a valid course, lecture,
//! topic or curriculum is. Tutors change their own courses; admins all.

use sqlx::PgConnection;

use crate::{
    accounts::CurrentUser,
    catalog::{
        model::{Category, SkillLevel, TopicKind},
        repo::{self, CourseDetailRow},
        service::can_edit,
        studio_repo::{self as sr, CourseFields, CurriculumFields, TopicFields},
    },
    error::{AppError, AppResult, FieldErrors},
    ids::{CourseId, CurriculumId, LectureId, TopicId},
};

fn push(errors: &mut FieldErrors, field: &'static str, message: &str) {
    errors.entry(field).or_default().push(message.to_string());
}

fn title(errors: &mut FieldErrors, raw: &str) -> String {
    let t = raw.trim();
    let len = t.chars().count();
    if len == 0 {
        push(errors, "title", "제목을 입력해 주세요.");
    } else if len > 120 {
        push(errors, "title", "제목은 120자 이하로 입력해 주세요.");
    }
    t.to_string()
}

fn bounded(
    errors: &mut FieldErrors,
    field: &'static str,
    raw: &str,
    max: usize,
    label: &str,
) -> String {
    let t = raw.trim();
    if t.chars().count() > max {
        errors
            .entry(field)
            .or_default()
            .push(format!("{label}은(는) {max}자 이하로 입력해 주세요."));
    }
    t.to_string()
}

fn price(errors: &mut FieldErrors, field: &'static str, raw: &str, required: bool) -> Option<i64> {
    let digits: String = raw.trim().chars().filter(|c| *c != ',').collect();
    if digits.is_empty() {
        if required {
            push(errors, field, "가격을 입력해 주세요.");
        }
        return None;
    }
    match digits.parse::<i64>() {
        Ok(won) if (0..=100_000_000).contains(&won) => Some(won),
        _ => {
            push(
                errors,
                field,
                "가격은 0원 이상 1억 원 이하의 숫자로 입력해 주세요.",
            );
            None
        }
    }
}

/// The category and skill level `<select>`s shared by courses and curricula.
fn classification(
    errors: &mut FieldErrors,
    category: &str,
    skill_level: &str,
) -> (Option<Category>, Option<SkillLevel>) {
    let category = Category::parse(category);
    if category.is_none() {
        push(errors, "category", "분류를 선택해 주세요.");
    }
    let skill = SkillLevel::parse(skill_level);
    if skill.is_none() {
        push(errors, "skill_level", "난이도를 선택해 주세요.");
    }
    (category, skill)
}

/// The raw course form.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct CourseForm {
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
}

struct ValidCourse {
    title: String,
    summary: String,
    description: String,
    category: &'static str,
    skill_level: &'static str,
    price_won: Option<i64>,
}

fn validate_course(form: &CourseForm) -> AppResult<ValidCourse> {
    let mut errors = FieldErrors::new();
    let title = title(&mut errors, &form.title);
    let summary = bounded(&mut errors, "summary", &form.summary, 300, "한 줄 소개");
    let description = bounded(&mut errors, "description", &form.description, 5000, "설명");
    let (category, skill) = classification(&mut errors, &form.category, &form.skill_level);
    let price_won = price(&mut errors, "price_won", &form.price_won, false);
    match (category, skill, errors.is_empty()) {
        (Some(c), Some(s), true) => Ok(ValidCourse {
            title,
            summary,
            description,
            category: c.code(),
            skill_level: s.code(),
            price_won,
        }),
        _ => Err(AppError::Validation(errors)),
    }
}

impl ValidCourse {
    fn fields(&self) -> CourseFields<'_> {
        CourseFields {
            title: &self.title,
            summary: &self.summary,
            description: &self.description,
            category: self.category,
            skill_level: self.skill_level,
            price_won: self.price_won,
        }
    }
}

/// Locks the course and checks `user` may change it.
pub async fn authorize_course(
    conn: &mut PgConnection,
    user: &CurrentUser,
    course: CourseId,
) -> AppResult<()> {
    let author = sr::lock_course(conn, course)
        .await?
        .ok_or(AppError::NotFound)?;
    if can_edit(Some(user), author) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "이 코스를 만든 튜터나 관리자만 수정할 수 있습니다.".into(),
        ))
    }
}

pub async fn create_course(
    conn: &mut PgConnection,
    user: &CurrentUser,
    form: &CourseForm,
) -> AppResult<CourseId> {
    let valid = validate_course(form)?;
    Ok(sr::insert_course(conn, &valid.fields(), user.id).await?)
}

pub async fn update_course(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CourseId,
    form: &CourseForm,
) -> AppResult<()> {
    authorize_course(conn, user, id).await?;
    let valid = validate_course(form)?;
    Ok(sr::update_course(conn, id, &valid.fields()).await?)
}

pub async fn set_course_deleted(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CourseId,
    deleted: bool,
) -> AppResult<()> {
    authorize_course(conn, user, id).await?;
    Ok(sr::set_course_deleted(conn, id, deleted).await?)
}

/// The course with deleted lectures and topics too, for its editor.
pub async fn course_for_editing(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CourseId,
) -> AppResult<CourseDetailRow> {
    let row = repo::course_detail(conn, id, true)
        .await?
        .ok_or(AppError::NotFound)?;
    if !can_edit(Some(user), row.author_id) {
        return Err(AppError::Forbidden(
            "이 코스를 만든 튜터나 관리자만 수정할 수 있습니다.".into(),
        ));
    }
    Ok(row)
}

pub async fn my_courses(
    conn: &mut PgConnection,
    user: &CurrentUser,
) -> AppResult<Vec<sr::StudioCourseRow>> {
    let author = (!user.is_admin()).then_some(user.id);
    Ok(sr::studio_courses(conn, author).await?)
}

// ---------- lectures ----------

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct LectureForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
}

fn validate_lecture(form: &LectureForm) -> AppResult<(String, String)> {
    let mut errors = FieldErrors::new();
    let t = title(&mut errors, &form.title);
    let d = bounded(&mut errors, "description", &form.description, 1000, "설명");
    if errors.is_empty() {
        Ok((t, d))
    } else {
        Err(AppError::Validation(errors))
    }
}

async fn authorize_lecture(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: LectureId,
) -> AppResult<CourseId> {
    let course = sr::lecture_course(conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    authorize_course(conn, user, course).await?;
    Ok(course)
}

pub async fn add_lecture(
    conn: &mut PgConnection,
    user: &CurrentUser,
    course: CourseId,
    form: &LectureForm,
) -> AppResult<LectureId> {
    authorize_course(conn, user, course).await?;
    let (t, d) = validate_lecture(form)?;
    Ok(sr::insert_lecture(conn, course, &t, &d).await?)
}

pub async fn update_lecture(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: LectureId,
    form: &LectureForm,
) -> AppResult<CourseId> {
    let course = authorize_lecture(conn, user, id).await?;
    let (t, d) = validate_lecture(form)?;
    sr::update_lecture(conn, id, &t, &d).await?;
    Ok(course)
}

pub async fn move_lecture(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: LectureId,
    up: bool,
) -> AppResult<CourseId> {
    let course = authorize_lecture(conn, user, id).await?;
    sr::move_lecture(conn, id, up).await?;
    Ok(course)
}

pub async fn set_lecture_deleted(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: LectureId,
    deleted: bool,
) -> AppResult<CourseId> {
    let course = authorize_lecture(conn, user, id).await?;
    sr::set_lecture_deleted(conn, id, deleted).await?;
    Ok(course)
}

// ---------- topics ----------

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct TopicForm {
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
    kind: &'static str,
    body: String,
    duration_secs: i32,
    is_preview: bool,
}

fn validate_topic(form: &TopicForm) -> AppResult<ValidTopic> {
    let mut errors = FieldErrors::new();
    let t = title(&mut errors, &form.title);
    let kind = TopicKind::parse(&form.kind);
    if kind.is_none() {
        push(&mut errors, "kind", "종류를 선택해 주세요.");
    }
    let body = bounded(&mut errors, "body", &form.body, 20_000, "본문");
    let minutes = match form.duration_minutes.trim() {
        "" => Some(0),
        raw => raw.parse::<i32>().ok().filter(|m| (0..=600).contains(m)),
    };
    if minutes.is_none() {
        push(
            &mut errors,
            "duration_minutes",
            "길이는 0~600분 사이의 숫자로 입력해 주세요.",
        );
    }
    match (kind, minutes, errors.is_empty()) {
        (Some(kind), Some(minutes), true) => Ok(ValidTopic {
            title: t,
            kind: kind.code(),
            body,
            duration_secs: minutes * 60,
            is_preview: form.is_preview.is_some(),
        }),
        _ => Err(AppError::Validation(errors)),
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
) -> AppResult<CourseId> {
    let course = authorize_lecture(conn, user, lecture).await?;
    let valid = validate_topic(form)?;
    sr::insert_topic(conn, lecture, &valid.fields()).await?;
    Ok(course)
}

pub async fn topic_for_editing(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: TopicId,
) -> AppResult<sr::TopicRow> {
    let topic = sr::topic(conn, id).await?.ok_or(AppError::NotFound)?;
    authorize_course(conn, user, topic.course_id).await?;
    Ok(topic)
}

pub async fn update_topic(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: TopicId,
    form: &TopicForm,
) -> AppResult<CourseId> {
    let topic = topic_for_editing(conn, user, id).await?;
    let valid = validate_topic(form)?;
    sr::update_topic(conn, id, &valid.fields()).await?;
    Ok(topic.course_id)
}

pub async fn move_topic(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: TopicId,
    up: bool,
) -> AppResult<CourseId> {
    let topic = topic_for_editing(conn, user, id).await?;
    sr::move_topic(conn, id, up).await?;
    Ok(topic.course_id)
}

pub async fn set_topic_deleted(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: TopicId,
    deleted: bool,
) -> AppResult<CourseId> {
    let topic = topic_for_editing(conn, user, id).await?;
    sr::set_topic_deleted(conn, id, deleted).await?;
    Ok(topic.course_id)
}

// ---------- curricula ----------

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct CurriculumForm {
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
    #[serde(default)]
    pub access_months: String,
}

struct ValidCurriculum {
    title: String,
    summary: String,
    description: String,
    category: &'static str,
    skill_level: &'static str,
    price_won: i64,
    access_months: i32,
}

fn validate_curriculum(form: &CurriculumForm) -> AppResult<ValidCurriculum> {
    let mut errors = FieldErrors::new();
    let t = title(&mut errors, &form.title);
    let summary = bounded(&mut errors, "summary", &form.summary, 300, "한 줄 소개");
    let description = bounded(&mut errors, "description", &form.description, 5000, "설명");
    let (category, skill) = classification(&mut errors, &form.category, &form.skill_level);
    let price_won = price(&mut errors, "price_won", &form.price_won, true);
    let access_months = form
        .access_months
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|m| (1..=120).contains(m));
    if access_months.is_none() {
        push(
            &mut errors,
            "access_months",
            "수강 기간은 1~120개월 사이로 입력해 주세요.",
        );
    }
    match (category, skill, price_won, access_months, errors.is_empty()) {
        (Some(c), Some(s), Some(price_won), Some(access_months), true) => Ok(ValidCurriculum {
            title: t,
            summary,
            description,
            category: c.code(),
            skill_level: s.code(),
            price_won,
            access_months,
        }),
        _ => Err(AppError::Validation(errors)),
    }
}

impl ValidCurriculum {
    fn fields(&self) -> CurriculumFields<'_> {
        CurriculumFields {
            title: &self.title,
            summary: &self.summary,
            description: &self.description,
            category: self.category,
            skill_level: self.skill_level,
            price_won: self.price_won,
            access_months: self.access_months,
        }
    }
}

pub async fn authorize_curriculum(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CurriculumId,
) -> AppResult<sr::StudioCurriculumRow> {
    let row = sr::curriculum(conn, id).await?.ok_or(AppError::NotFound)?;
    if can_edit(Some(user), row.author_id) {
        Ok(row)
    } else {
        Err(AppError::Forbidden(
            "이 커리큘럼을 만든 튜터나 관리자만 수정할 수 있습니다.".into(),
        ))
    }
}

pub async fn my_curricula(
    conn: &mut PgConnection,
    user: &CurrentUser,
) -> AppResult<Vec<sr::StudioCurriculumRow>> {
    let author = (!user.is_admin()).then_some(user.id);
    Ok(sr::studio_curricula(conn, author).await?)
}

pub async fn create_curriculum(
    conn: &mut PgConnection,
    user: &CurrentUser,
    form: &CurriculumForm,
) -> AppResult<CurriculumId> {
    let valid = validate_curriculum(form)?;
    Ok(sr::insert_curriculum(conn, &valid.fields(), user.id).await?)
}

pub async fn update_curriculum(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CurriculumId,
    form: &CurriculumForm,
) -> AppResult<()> {
    authorize_curriculum(conn, user, id).await?;
    let valid = validate_curriculum(form)?;
    Ok(sr::update_curriculum(conn, id, &valid.fields()).await?)
}

pub async fn set_curriculum_deleted(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CurriculumId,
    deleted: bool,
) -> AppResult<()> {
    authorize_curriculum(conn, user, id).await?;
    Ok(sr::set_curriculum_deleted(conn, id, deleted).await?)
}

/// Adds a course the user may also edit to the curriculum's order.
pub async fn add_curriculum_course(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CurriculumId,
    course: CourseId,
) -> AppResult<()> {
    authorize_curriculum(conn, user, id).await?;
    authorize_course(conn, user, course).await?;
    Ok(sr::add_curriculum_course(conn, id, course).await?)
}

pub async fn remove_curriculum_course(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CurriculumId,
    course: CourseId,
) -> AppResult<()> {
    authorize_curriculum(conn, user, id).await?;
    Ok(sr::remove_curriculum_course(conn, id, course).await?)
}

pub async fn move_curriculum_course(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: CurriculumId,
    course: CourseId,
    up: bool,
) -> AppResult<()> {
    authorize_curriculum(conn, user, id).await?;
    sr::move_curriculum_course(conn, id, course, up).await?;
    Ok(())
}
