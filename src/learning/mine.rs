//! A learner's own learning state (progress, notes, speed, study time),
//! kept a while in this process as the pages read it: a learner moving
//! between the lesson, the roadmap and the dashboard, or reloading one,
//! costs no statement until something of theirs changes.
//!
//! Every write of a learner's state calls [`changed`] after its commit
//! (watch batches, an opened or completed topic, notes, an admin's
//! correction; assessments after a graded attempt). That drops the
//! learner's entry here and announces it to the other instances, which drop
//! theirs (ADR 0028). A part read while a write was under way is stored in
//! the entry it was read for; the write's [`changed`] after its commit drops
//! that entry, so nothing read before a commit outlives it. The lifetime
//! bounds what a lost notice or a write by hand can leave.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use uuid::Uuid;

use crate::{ids::UserId, infra::cache::Cache};

/// How long a learner's state is kept without a change.
const LIFETIME: Duration = Duration::from_secs(30);

/// How many learners are kept at once (past it the cache starts afresh).
const LEARNERS: usize = 20_000;

/// What other instances hear when a learner's state changed here.
pub const LEARNER_CHANGED: &str = "learning.learner";

/// The parts of one learner's state, each filled by the first page that
/// reads it (learning's own: the lesson, the topics touched, the overview
/// with study time; above it: a mission's attempts, the dashboard's
/// standings, a conversation with the tutor), by type and key: see [`Mine`].
#[derive(Default)]
struct Kept {
    parts: Mutex<HashMap<(TypeId, Uuid), Part>>,
}

type Part = Arc<dyn Any + Send + Sync>;

static KEPT: LazyLock<Cache<Kept>> = LazyLock::new(|| Cache::bounded(LIFETIME, LEARNERS));

/// A learner's entry: learning and each capability above it keep their own
/// parts of the learner's state in it, by type and key, and call
/// [`changed`] after every write of them.
/// Take the entry before reading what is kept in it: a write that commits
/// meanwhile drops the entry, so what the read stores dies with it.
#[derive(Clone)]
pub struct Mine(Arc<Kept>);

impl Mine {
    /// `user`'s entry (an empty one when nothing is kept).
    pub async fn of(user: UserId) -> Self {
        let loaded = KEPT
            .get_or_load(&user.to_string(), async {
                Ok::<_, Infallible>(Kept::default())
            })
            .await;
        match loaded {
            Ok(kept) => Self(kept),
            Err(never) => match never {},
        }
    }

    /// The part of type `T` kept under `key`.
    pub fn part<T: Any + Send + Sync>(&self, key: Uuid) -> Option<Arc<T>> {
        let parts = self.0.parts.lock().ok()?;
        parts
            .get(&(TypeId::of::<T>(), key))?
            .clone()
            .downcast::<T>()
            .ok()
    }

    /// Keeps `part` under `key` until the learner's next change.
    pub fn keep<T: Any + Send + Sync>(&self, key: Uuid, part: Arc<T>) {
        if let Ok(mut parts) = self.0.parts.lock() {
            parts.insert((TypeId::of::<T>(), key), part);
        }
    }

    /// The part kept under `key` when `fresh` accepts it (it was read for
    /// what the caller shows now), else `load`'s, kept.
    pub async fn part_or_load<T, E>(
        &self,
        key: Uuid,
        fresh: impl FnOnce(&T) -> bool,
        load: impl Future<Output = Result<T, E>>,
    ) -> Result<Arc<T>, E>
    where
        T: Any + Send + Sync,
    {
        if let Some(kept) = self.part::<T>(key).filter(|kept| fresh(kept)) {
            return Ok(kept);
        }
        let part = Arc::new(load.await?);
        self.keep(key, part.clone());
        Ok(part)
    }
}

/// Something of `user`'s learning state changed (call after the commit):
/// dropped here and on the other instances.
pub fn changed(user: UserId) {
    KEPT.forget(&user.to_string());
    crate::infra::changes::announce_about(LEARNER_CHANGED, &user.to_string());
}

/// Drops this instance's kept state of one learner (`None`: of everyone),
/// changed on another instance.
pub fn forget_learner(user: Option<&str>) {
    match user {
        Some(user) => KEPT.forget(user),
        None => KEPT.invalidate(),
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{PgConnection, PgPool};

    use super::*;
    use crate::ids::TopicId;
    use crate::learning::{Completion, notes, progress};

    async fn reading(conn: &mut PgConnection) -> TopicId {
        TopicId(
            sqlx::query_scalar("SELECT id FROM topics WHERE kind = 'reading' ORDER BY id LIMIT 1")
                .fetch_one(conn)
                .await
                .unwrap(),
        )
    }

    /// The lesson's progress, notes and the topics touched, as pages read them.
    async fn seen(conn: &mut PgConnection, user: UserId, topic: TopicId) -> (bool, usize, usize) {
        let lesson = progress::lesson_state(conn, user, topic, &[topic])
            .await
            .unwrap();
        let touched = progress::topics_shown(conn, user, &[topic]).await.unwrap();
        (lesson.topic.completed, lesson.notes.len(), touched.len())
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn what_a_learner_writes_is_read_again_and_nothing_else_is(db: PgPool) {
        let mut conn = db.acquire().await.unwrap();
        let (user, _) = crate::catalog::seed::testing::seeded_learner(&mut conn).await;
        let topic = reading(&mut conn).await;

        // Opening the lesson marks it opened (a write: read again next
        // time); the second read is kept.
        assert_eq!(seen(&mut conn, user, topic).await, (false, 0, 1));
        assert_eq!(seen(&mut conn, user, topic).await, (false, 0, 1));
        // Kept: a note written by hand, past every writer, is not seen...
        sqlx::query(
            "INSERT INTO notes (user_id, topic_id, position, body) VALUES ($1, $2, 0, 'x')",
        )
        .bind(user.0)
        .bind(topic.0)
        .execute(&mut *conn)
        .await
        .unwrap();
        assert_eq!(seen(&mut conn, user, topic).await, (false, 0, 1));
        // ...until one of the learner's writes: a note through the service,
        assert!(
            notes::add(&mut conn, user, topic, "3", "다시 보기")
                .await
                .unwrap()
                .is_ok()
        );
        assert_eq!(seen(&mut conn, user, topic).await, (false, 2, 1));
        // a completion,
        assert!(
            Completion::unheard()
                .complete(&mut conn, user, topic)
                .await
                .unwrap()
        );
        assert_eq!(seen(&mut conn, user, topic).await, (true, 2, 1));
        // a note deleted,
        let note: uuid::Uuid =
            sqlx::query_scalar("SELECT id FROM notes WHERE user_id = $1 AND body = 'x'")
                .bind(user.0)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        notes::delete(&mut conn, user, note).await.unwrap();
        assert_eq!(seen(&mut conn, user, topic).await, (true, 1, 1));
        // or another instance's notice.
        sqlx::query("DELETE FROM notes WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *conn)
            .await
            .unwrap();
        assert_eq!(seen(&mut conn, user, topic).await, (true, 1, 1));
        forget_learner(Some(&user.to_string()));
        assert_eq!(seen(&mut conn, user, topic).await, (true, 0, 1));
    }

    #[tokio::test]
    async fn a_higher_capabilitys_parts_are_kept_by_type_and_key_until_the_learners_change() {
        struct Attempts(u32);
        struct Chart(&'static str);
        let user = UserId(Uuid::new_v4());
        let (one, two) = (Uuid::new_v4(), Uuid::new_v4());
        let mine = Mine::of(user).await;
        let loads = std::sync::atomic::AtomicU32::new(0);
        let load = |n| {
            let loads = &loads;
            async move {
                loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok::<_, Infallible>(Attempts(n))
            }
        };
        let read = mine.part_or_load(one, |_| true, load(1)).await.unwrap();
        assert_eq!(read.0, 1);
        // Kept: not loaded again, under its own key and type only.
        let again = Mine::of(user).await;
        let read = again.part_or_load(one, |_| true, load(9)).await.unwrap();
        assert_eq!(
            (read.0, loads.load(std::sync::atomic::Ordering::Relaxed)),
            (1, 1)
        );
        assert!(again.part::<Attempts>(two).is_none());
        assert!(again.part::<Chart>(one).is_none());
        again.keep(one, Arc::new(Chart("weeks")));
        assert_eq!(again.part::<Chart>(one).unwrap().0, "weeks");
        // Read for something else than the page shows now: loaded again.
        let read = again
            .part_or_load(one, |a: &Attempts| a.0 == 2, load(2))
            .await
            .unwrap();
        assert_eq!(read.0, 2);
        // The learner's change drops every part, and a read that took the
        // entry before it stores into the dropped one.
        changed(user);
        mine.keep(one, Arc::new(Attempts(1)));
        let after = Mine::of(user).await;
        assert!(after.part::<Attempts>(one).is_none());
        assert!(after.part::<Chart>(one).is_none());
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn a_read_that_raced_a_write_is_not_kept_past_its_commit(db: PgPool) {
        let mut conn = db.acquire().await.unwrap();
        let (user, _) = crate::catalog::seed::testing::seeded_learner(&mut conn).await;
        let topic = reading(&mut conn).await;
        // A page takes the learner's entry, then the write commits and
        // drops it, then the page stores what it read before the commit.
        let entry = Mine::of(user).await;
        let before = progress::Touched(Default::default());
        Completion::unheard()
            .complete(&mut conn, user, topic)
            .await
            .unwrap();
        entry.keep(Uuid::nil(), Arc::new(before));
        assert!(
            Mine::of(user)
                .await
                .part::<progress::Touched>(Uuid::nil())
                .is_none(),
            "stored in a dropped entry"
        );
        let touched = progress::topics_shown(&mut conn, user, &[topic])
            .await
            .unwrap();
        assert_eq!(touched.get(&topic), Some(&(true, 1.0)));
    }
}
