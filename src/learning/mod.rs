//! Learning: who may study what and until when (`access`), and, as the
//! player lands, watch events, progress, resume and study time.

pub mod access;
mod repo;
