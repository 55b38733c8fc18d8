//! The tutor's Askama structs: the panel (a fragment the lesson page
//! loads), one turn (also sent whole when an answer finishes streaming),
//! the panel's own page, and the tutors' and admins' pages.

use askama::Template;
use time::OffsetDateTime;

use crate::labels as filters;
use crate::{
    ids::{CourseId, TopicId},
    web::PageCtx,
};

use super::{
    model::{BackendKind, Failure, Mode, TurnState},
    prompt::{clock, link_citations},
    repo::{DayRow, FaqRow, HandoffRow, TurnRow},
    service::lesson_path,
};

/// One question and its answer.
#[derive(Template)]
#[template(path = "tutor/_turn.html")]
pub struct TurnView {
    pub id: uuid::Uuid,
    pub question: String,
    /// The player's position when it was asked, `mm:ss`, and its seconds.
    pub at: String,
    pub at_secs: i32,
    pub state: TurnState,
    /// The answer as safe HTML, its `[mm:ss]` linked to the moment.
    pub answer_html: String,
    pub retrieval: bool,
    pub hint: bool,
    /// Why it failed.
    pub failure: Option<Failure>,
    pub lesson: String,
    /// Handed on to the course's tutors; their answer, once given.
    pub handed_off: bool,
    pub tutor_answer: Option<String>,
    /// For the "강사에게 질문하기" form.
    pub csrf_token: String,
}

impl TurnView {
    pub fn of(row: &TurnRow, topic: TopicId, csrf_token: &str) -> Self {
        let lesson = lesson_path(topic);
        let answer = row.answer.trim();
        Self {
            id: row.id,
            question: row.question.clone(),
            at: clock(u64::try_from(row.position_secs).unwrap_or(0)),
            at_secs: row.position_secs,
            state: row.state,
            answer_html: if answer.is_empty() {
                String::new()
            } else {
                crate::web::markdown::render(&link_citations(answer, &lesson))
            },
            retrieval: row.backend == BackendKind::Retrieval,
            hint: row.mode == Mode::Hint,
            failure: row.failure,
            lesson,
            handed_off: row.handed_off,
            tutor_answer: row.tutor_answer.clone(),
            csrf_token: csrf_token.to_owned(),
        }
    }

    fn answering(&self) -> bool {
        self.state == TurnState::Answering
    }

    fn failed(&self) -> bool {
        self.state == TurnState::Failed
    }

    fn timed_out(&self) -> bool {
        self.failure == Some(Failure::Timeout)
    }
}

/// The conversation and the question form.
#[derive(Template)]
#[template(path = "tutor/_panel.html")]
pub struct Panel {
    pub id: TopicId,
    pub turns: Vec<TurnView>,
    /// No model is set: answers are the course's own passages.
    pub retrieval: bool,
    pub csrf_token: String,
    pub max_chars: usize,
    pub error: Option<String>,
    /// The question sent back into the form after a refusal.
    pub draft: String,
    /// The lesson's published questions and their tutors' answers.
    pub faq: std::sync::Arc<Vec<FaqRow>>,
}

impl Panel {
    pub fn refused(self, message: String, draft: &str) -> Self {
        Self {
            error: Some(message),
            draft: draft.to_owned(),
            ..self
        }
    }
}

/// The panel as a page of its own.
#[derive(Template)]
#[template(path = "tutor/page.html")]
pub struct TutorPage {
    pub ctx: PageCtx,
    pub id: TopicId,
    pub title: String,
    pub panel: Panel,
}

pub struct AskedQuestion {
    pub question: String,
    pub at: String,
    pub secs: i32,
    pub asked_at: OffsetDateTime,
}

pub struct TopicQuestions {
    pub id: TopicId,
    pub title: String,
    pub questions: Vec<AskedQuestion>,
}

/// What a course's learners asked, per topic.
#[derive(Template)]
#[template(path = "tutor/questions.html")]
pub struct QuestionsPage {
    pub ctx: PageCtx,
    pub course: CourseId,
    pub title: String,
    pub topics: Vec<TopicQuestions>,
}

/// The tutor per day, for admins.
#[derive(Template)]
#[template(path = "tutor/admin.html")]
pub struct AdminDays {
    pub ctx: PageCtx,
    pub retrieval: bool,
    pub model: String,
    pub days: Vec<DayRow>,
}

/// A question handed on to the course's tutors, in their studio.
pub struct HandoffView {
    pub row: HandoffRow,
    pub course: String,
    pub topic: String,
    pub at: String,
    /// The AI's answer as safe HTML.
    pub ai_answer_html: String,
}

/// The questions learners handed on, for the staff member's courses.
#[derive(Template)]
#[template(path = "tutor/handoffs.html")]
pub struct HandoffsPage {
    pub ctx: PageCtx,
    pub handoffs: Vec<HandoffView>,
    /// A refused answer: which question and why (the text is kept).
    pub error: Option<(uuid::Uuid, String, String)>,
}

impl HandoffsPage {
    fn error_for(&self, id: &uuid::Uuid) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(e, _, _)| e == id)
            .map(|(_, message, _)| message.as_str())
    }

    fn draft_for(&self, id: &uuid::Uuid) -> &str {
        self.error
            .as_ref()
            .filter(|(e, _, _)| e == id)
            .map_or("", |(_, _, draft)| draft.as_str())
    }
}
