//! argon2id hashing (OWASP parameters: 19 MiB, 2 iterations, 1 lane), off the
//! async threads, on a fixed pool of one thread per core with a short queue.
//!
//! Each hash holds 19 MiB while it runs. Unbounded, 150 parallel logins took
//! a release build from 40 MB to 477 MB RSS, and the allocator kept it: every
//! new blocking thread got its own malloc arena holding its 19 MiB. A fixed
//! pool bounds both how many hashes run and how many arenas ever hold one;
//! a full queue answers [`Busy`] at once (a 429 page asking to retry).

use std::sync::{LazyLock, Mutex, OnceLock, mpsc};

use anyhow::Context;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};

fn hasher() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

fn verify_blocking(password: &str, hash: &str) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
    Ok(hasher()?
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// A hash of nothing in particular, verified against when the account does
/// not exist, so a wrong email costs as much time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("weaverse timing equaliser").unwrap_or_default())
}

/// Every hashing thread is busy and the queue is full: try again shortly.
#[derive(Debug, thiserror::Error)]
#[error("password hashing is busy")]
pub struct Busy;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes waiting beyond the ones running; past this, [`Busy`].
const QUEUE: usize = 32;

static POOL: LazyLock<mpsc::SyncSender<Job>> = LazyLock::new(|| {
    let (sender, receiver) = mpsc::sync_channel::<Job>(QUEUE);
    let receiver = std::sync::Arc::new(Mutex::new(receiver));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    for i in 0..threads {
        let receiver = receiver.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                loop {
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "could not start a password hashing thread");
        }
    }
    sender
});

/// Runs `work` on the hashing pool.
async fn on_pool<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    POOL.try_send(job).map_err(|_| anyhow::Error::new(Busy))?;
    result.await.context("hashing task")?
}

pub async fn hash_password(password: String) -> anyhow::Result<String> {
    on_pool(move || hash_blocking(&password)).await
}

/// Verifies against `hash`, or against the dummy hash when there is none
/// (always false then), taking the same time either way.
pub async fn verify_password(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    on_pool(move || match hash {
        Some(hash) => verify_blocking(&password, &hash),
        None => verify_blocking(&password, dummy_hash()).map(|_| false),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery".into())
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("wrong horse battery".into(), Some(hash))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("weaverse timing equaliser".into(), None)
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn a_full_hashing_queue_answers_busy_instead_of_piling_up() {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..(QUEUE + 40) {
            set.spawn(verify_password("guess".into(), None));
        }
        let mut busy = 0;
        while let Some(done) = set.join_next().await {
            if let Err(err) = done.expect("task") {
                assert!(err.is::<Busy>(), "{err}");
                busy += 1;
            }
        }
        assert!(
            busy >= 8,
            "only the running and queued hashes are taken: {busy} busy"
        );
    }
}
