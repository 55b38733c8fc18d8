//! The AI tutor beside the video: a learner asks about the lesson at the
//! player's position and the answer streams in, grounded in the course's
//! own captions and text with the lesson's moments cited as `[mm:ss]`.
//! Answers come from any OpenAI-compatible chat API (`TUTOR_API_BASE`) or,
//! with none set, from local retrieval over the course's passages. Hints
//! only, never solutions, on a mission topic or while an attempt is open.
//! Quotas per learner; token use kept per question (ADR 0025).

mod backend;
pub mod handlers;
mod index;
pub mod model;
pub mod prompt;
mod repo;
pub mod search;
pub mod service;
pub mod views;

pub use handlers::is_ask_path;
pub use service::Tutor;
