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
        // Dropped now and again by the caller after its commit, when it
        // holds a transaction.
        super::mine::changed(user);
        if newly && let Some(listener) = &self.listener {
            listener.completed(conn, user, topic).await?;
        }
        Ok(newly)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use sqlx::PgPool;

    use super::*;

    /// Counts what it hears, and checks it hears it on the connection that
    /// recorded it (the completion is visible there).
    struct Counting(AtomicUsize);

    impl Listener for Counting {
        fn completed<'a>(
            &'a self,
            conn: &'a mut PgConnection,
            user: UserId,
            topic: TopicId,
        ) -> Heard<'a> {
            Box::pin(async move {
                let done: bool = sqlx::query_scalar(
                    "SELECT completed_at IS NOT NULL FROM topic_progress
                      WHERE user_id = $1 AND topic_id = $2",
                )
                .bind(user.0)
                .bind(topic.0)
                .fetch_one(conn)
                .await?;
                anyhow::ensure!(done, "heard before it was recorded");
                self.0.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
        }
    }

    async fn learner_and_topic(conn: &mut PgConnection) -> (UserId, TopicId) {
        let (user, _) = crate::catalog::seed::testing::seeded_learner(conn).await;
        let topic: uuid::Uuid =
            sqlx::query_scalar("SELECT id FROM topics WHERE kind = 'reading' LIMIT 1")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        (user, TopicId(topic))
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn completing_is_sticky_and_the_listener_hears_it_once(db: PgPool) {
        let mut conn = db.acquire().await.unwrap();
        let (user, topic) = learner_and_topic(&mut conn).await;
        let heard = Arc::new(Counting(AtomicUsize::new(0)));
        let completion = Completion::new(heard.clone());
        // Opening a topic is not completing it.
        crate::learning::progress::opened(&mut conn, user, topic)
            .await
            .unwrap();
        assert_eq!(heard.0.load(Ordering::SeqCst), 0);
        assert!(completion.complete(&mut conn, user, topic).await.unwrap());
        assert!(!completion.complete(&mut conn, user, topic).await.unwrap());
        assert_eq!(heard.0.load(Ordering::SeqCst), 1);
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn a_failing_listener_takes_the_completion_back_with_it(db: PgPool) {
        struct Failing;
        impl Listener for Failing {
            fn completed<'a>(
                &'a self,
                _: &'a mut PgConnection,
                _: UserId,
                _: TopicId,
            ) -> Heard<'a> {
                Box::pin(async { anyhow::bail!("the listener failed") })
            }
        }
        let mut conn = db.acquire().await.unwrap();
        let (user, topic) = learner_and_topic(&mut conn).await;
        let completion = Completion::new(Arc::new(Failing));
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        assert!(completion.complete(&mut tx, user, topic).await.is_err());
        drop(tx);
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM topic_progress WHERE completed_at IS NOT NULL",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert_eq!(done, 0, "recorded and heard in one transaction, or neither");
    }
}
