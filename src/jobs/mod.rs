//! A durable job queue in PostgreSQL. `serve` runs workers in-process;
//! `weaverse worker` runs them alone, on as many machines as needed, all
//! pulling from the same table.
//!
//! A job is a `kind` and a JSON payload. Enqueue inside the caller's
//! transaction, so the job exists exactly when the change that asked for it
//! commits. Failures retry with exponential backoff up to `max_attempts`,
//! except a [`Permanent`] one, which would repeat: it fails the job at once.

mod lanes;
mod queue;
mod worker;

use std::time::Duration;

pub use lanes::{Lane, LaneQueue, Lanes};
pub use queue::{
    Claimed, EnqueueOptions, JobId, JobRow, JobStatus, KindQueue, Kinds, enqueue, progress_of,
    queues, request_cancel, retry, unfinished, unfinished_of, waiting,
};
pub use worker::{JobCtx, Worker, WorkerConfig};

/// A failure that would come out the same on every try (bad data, a
/// constraint): a handler returns it (as `anyhow::Error`) and the job fails
/// at once instead of retrying.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct Permanent(pub anyhow::Error);

/// Periodic housekeeping: expired sessions, old rate-limit events.
pub const HOUSEKEEPING: &str = "housekeeping";

/// How often periodic jobs come back.
pub const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);
