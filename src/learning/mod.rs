//! Learning: who may study what and until when (`access`), the lesson page,
//! watch events and what they add up to (`watch`, `progress`: completion,
//! resume, course progress, study time), notes and bookmarks, and the
//! admins' watch history.

pub mod access;
mod completion;
pub mod figures;
pub mod handlers;
pub mod mine;
pub mod notes;
pub mod progress;
mod repo;
pub mod session;
pub mod watch;

pub use completion::{Completion, Heard, Listener};
