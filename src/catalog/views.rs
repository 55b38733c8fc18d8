use askama::Template;

use crate::labels as filters;
use crate::learning::progress::{CourseProgress, LastTopic};

use crate::{
    catalog::{
        model::{Category, PriceLevel, SkillLevel, TopicKind},
        repo::CourseDetailRow,
        service::{CatalogPage, CourseView, Roadmap, StepStatus},
        studio::ListingForm,
        studio_repo::{CurriculumCourseRow, StudioCourseRow, StudioCurriculumRow, TopicRow},
    },
    web::{PageCtx, form::FormErrors},
};

#[derive(Template)]
#[template(path = "catalog/home.html")]
pub struct HomePage {
    pub ctx: PageCtx,
    pub roadmap: std::sync::Arc<Option<Roadmap>>,
    /// The viewer may study the nano-degree now.
    pub purchased: bool,
    /// The viewer's progress per course.
    pub progress: std::collections::HashMap<crate::ids::CourseId, CourseProgress>,
    /// Where "continue learning" goes.
    pub continue_at: Option<LastTopic>,
}

impl HomePage {
    /// Where the viewer stands with a step.
    pub fn status(&self, course: &crate::ids::CourseId) -> StepStatus {
        let progress = self.progress.get(course).copied().unwrap_or_default();
        match (self.purchased, progress) {
            (false, _) => StepStatus::NotPurchased,
            (true, p) if p.finished() => StepStatus::Completed,
            (true, p) if p.started() => StepStatus::InProgress,
            (true, _) => StepStatus::Purchased,
        }
    }

    /// The viewer's progress in a course, 0-100.
    pub fn percent(&self, course: &crate::ids::CourseId) -> i64 {
        self.progress.get(course).map_or(0, |p| p.percent)
    }
}

/// The filter options shown as `<select>`s.
pub struct Options;

impl Options {
    pub fn categories(&self) -> &'static [Category] {
        Category::ALL
    }
    pub fn skill_levels(&self) -> &'static [SkillLevel] {
        SkillLevel::ALL
    }
    pub fn price_levels(&self) -> &'static [PriceLevel] {
        PriceLevel::ALL
    }
    pub fn topic_kinds(&self) -> &'static [TopicKind] {
        TopicKind::ALL
    }
}

#[derive(Template)]
#[template(path = "catalog/courses.html")]
pub struct CoursesPage {
    pub ctx: PageCtx,
    pub list: CourseList,
    pub options: Options,
}

#[derive(Template)]
#[template(path = "catalog/_course_list.html")]
pub struct CourseList {
    pub catalog: std::sync::Arc<CatalogPage>,
}

impl CourseList {
    pub fn href(&self, page: &i64) -> String {
        self.catalog.query.href(*page)
    }
}

#[derive(Template)]
#[template(path = "catalog/course.html")]
pub struct CoursePage {
    pub ctx: PageCtx,
    /// The part every visitor sees alike (from the catalogue cache).
    pub course: std::sync::Arc<CourseView>,
    pub can_edit: bool,
    /// The viewer's access to it.
    pub access: crate::learning::access::Access,
    /// The learner's progress per topic they touched: done, share done.
    pub progress: std::collections::HashMap<crate::ids::TopicId, (bool, f64)>,
}

impl CoursePage {
    pub fn access_lapsed(&self) -> bool {
        self.access == crate::learning::access::Access::Lapsed
    }

    /// The lectures this viewer sees, numbered: learners see published
    /// ones, the author and admins drafts too (marked).
    pub fn lectures(&self) -> Vec<(usize, &crate::catalog::service::LectureView)> {
        self.course
            .lectures
            .iter()
            .filter(|l| l.published || self.can_edit)
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .collect()
    }

    pub fn shows(&self, topic: &crate::catalog::service::TopicView) -> bool {
        topic.published || self.can_edit
    }

    pub fn done(&self, topic: &crate::catalog::service::TopicView) -> bool {
        self.progress.get(&topic.id).is_some_and(|(done, _)| *done)
    }

    /// 1-99: how much of a started, unfinished topic the learner has seen.
    pub fn started(&self, topic: &crate::catalog::service::TopicView) -> Option<i64> {
        match self.progress.get(&topic.id) {
            Some((false, share)) if *share > 0.0 => {
                Some(((share * 100.0).floor() as i64).clamp(1, 99))
            }
            _ => None,
        }
    }

    /// Of a lecture's published topics: how many are done, of how many.
    pub fn lecture_done(&self, lecture: &crate::catalog::service::LectureView) -> (usize, usize) {
        let topics = lecture.topics.iter().filter(|t| t.published);
        let total = topics.clone().count();
        (topics.filter(|t| self.done(t)).count(), total)
    }

    /// Where "학습 계속하기" goes: the first published topic not done.
    pub fn next_topic(&self) -> Option<crate::ids::TopicId> {
        let mut topics = self
            .course
            .lectures
            .iter()
            .filter(|l| l.published)
            .flat_map(|l| l.topics.iter().filter(|t| t.published));
        topics
            .clone()
            .find(|t| !self.done(t))
            .or_else(|| topics.next())
            .map(|t| t.id)
    }

    /// The tutor's picture, small and large.
    pub fn tutor_avatar(&self) -> Option<(String, String)> {
        let id = self.course.tutor.as_ref()?.avatar?;
        Some((
            crate::web::routes::image_url(id, 96),
            crate::web::routes::image_url(id, 192),
        ))
    }
}

// ---------- studio ----------

#[derive(Template)]
#[template(path = "studio/index.html")]
pub struct StudioIndex {
    pub ctx: PageCtx,
    pub courses: Vec<StudioCourseRow>,
    pub curricula: Vec<StudioCurriculumRow>,
}

#[derive(Template)]
#[template(path = "studio/course_new.html")]
pub struct StudioNewCourse {
    pub ctx: PageCtx,
    pub values: ListingForm,
    pub errors: FormErrors,
    pub options: Options,
}

#[derive(Template)]
#[template(path = "studio/course.html")]
pub struct StudioCourse {
    pub ctx: PageCtx,
    pub values: ListingForm,
    pub errors: FormErrors,
    pub options: Options,
    pub outline: Outline,
    pub deleted: bool,
    /// When its tutor asked for the review still pending.
    pub review_requested_at: Option<time::OffsetDateTime>,
    /// What an admin said sending it back.
    pub review_note: Option<String>,
    /// The viewer publishes directly (an admin) rather than asking.
    pub publishes: bool,
}

/// The lectures and topics of a course, with their edit controls: what an
/// htmx reorder or inline edit swaps.
#[derive(Template)]
#[template(path = "studio/_outline.html")]
pub struct Outline {
    pub course: CourseDetailRow,
    pub csrf_token: String,
    pub options: Options,
    /// The inline form that was refused, and why.
    pub failed: Option<OutlineErrors>,
    /// What an htmx change did, for the page to announce.
    pub notice: Option<String>,
    /// Why a change was refused (a video topic published without a video).
    pub refusal: Option<String>,
}

/// Which inline form failed (`new-lecture`, `lecture-{id}`, `topic-{lecture id}`).
pub struct OutlineErrors {
    pub form: String,
    pub errors: FormErrors,
}

impl Outline {
    /// A fresh one-time key for each create form printed (`infra::once`).
    fn form_key(&self) -> String {
        crate::infra::once::new_key()
    }

    fn error(&self, form: &str, field: &str) -> Option<&str> {
        self.failed
            .as_ref()
            .filter(|f| f.form == form)
            .and_then(|f| f.errors.first(field))
    }
    pub fn new_lecture_error(&self, field: &str) -> Option<&str> {
        self.error("new-lecture", field)
    }
    pub fn lecture_error(&self, lecture: &crate::ids::LectureId, field: &str) -> Option<&str> {
        self.error(&format!("lecture-{lecture}"), field)
    }
    pub fn topic_error(&self, lecture: &crate::ids::LectureId, field: &str) -> Option<&str> {
        self.error(&format!("topic-{lecture}"), field)
    }
    pub fn minutes(&self, secs: &i64) -> i64 {
        (secs + 59) / 60
    }
}

#[derive(Template)]
#[template(path = "studio/topic.html")]
pub struct StudioTopic {
    pub ctx: PageCtx,
    pub topic: TopicRow,
    pub errors: FormErrors,
    pub options: Options,
    /// The topic's video box (upload, transcoding state, captions).
    pub media: crate::media::views::StudioPanel,
}

impl StudioTopic {
    pub fn minutes(&self) -> i32 {
        (self.topic.duration_secs + 59) / 60
    }

    /// A video topic with a ready video: its length is the video's.
    pub fn length_from_video(&self) -> bool {
        self.topic.kind == crate::catalog::model::TopicKind::Video
            && self
                .media
                .video
                .as_ref()
                .is_some_and(|v| v.state.is_ready())
    }
}

#[derive(Template)]
#[template(path = "studio/curriculum.html")]
pub struct StudioCurriculum {
    pub ctx: PageCtx,
    /// None while creating.
    pub id: Option<crate::ids::CurriculumId>,
    pub deleted: bool,
    pub published: bool,
    pub values: ListingForm,
    pub errors: FormErrors,
    pub options: Options,
    pub courses: Vec<CurriculumCourseRow>,
    pub addable: Vec<StudioCourseRow>,
}

/// Which listing the shared fields partial (`studio/_listing_fields.html`)
/// is in: a curriculum has an access period and a required price.
macro_rules! listing_page {
    ($($page:ident => $curriculum:literal),+) => {$(
        impl $page {
            pub fn is_curriculum(&self) -> bool {
                $curriculum
            }
        }
    )+};
}

listing_page!(StudioNewCourse => false, StudioCourse => false, StudioCurriculum => true);
