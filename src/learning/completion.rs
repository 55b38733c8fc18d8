//! Completing a topic: a reading the learner marked read, a video watched
//! far enough, a mission passed. Each goes through [`Completion::complete`],
//! which records it (completion is sticky) and, when this made the topic
//! complete, tells the listener `app.rs` plugged in (certificates). Learning
//! knows nothing of who listens.

use std::{future::Future, pin::Pin, sync::Arc};

use sqlx::PgConnection;

use crate::{
    ids::{TopicId, UserId},
    learning::repo,
};

/// What a listener's answer is.
pub type Heard<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

/// Hears that `user` has just completed `topic`, on the connection (or in
/// the transaction) that recorded it.
pub trait Listener: Send + Sync + 'static {
    fn completed<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        user: UserId,
        topic: TopicId,
    ) -> Heard<'a>;
}

/// The completion path, with whoever listens.
#[derive(Clone)]
pub struct Completion {
    listener: Option<Arc<dyn Listener>>,
}

impl Completion {
    pub fn new(listener: Arc<dyn Listener>) -> Self {
        Self {
            listener: Some(listener),
        }
    }

    /// Nobody listens (tools that only record).
    pub fn unheard() -> Self {
        Self { listener: None }
    }

    /// Records that `user` completed `topic`; `true` when this made it
    /// complete, and then the listener has heard it. Safe to call again.
    pub async fn complete(
        &self,
        conn: &mut PgConnection,
        user: UserId,
        topic: TopicId,
    ) -> anyhow::Result<bool> {
        let newly = repo::open_topic(conn, user, topic, true).await?;
        if newly && let Some(listener) = &self.listener {
            listener.completed(conn, user, topic).await?;
        }
        Ok(newly)
    }
}
