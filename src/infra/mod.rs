//! Adapters that several capabilities share: the database, local secrets,
//! encryption of personal data, mail, rate limits, media storage.

pub mod cache;
pub mod changes;
pub mod crypto;
pub mod db;
pub mod keys;
pub mod mail;
pub mod once;
pub mod ratelimit;
pub mod sealed;
pub mod session_cache;
pub mod storage;

/// Test hook: with `WEAVERSE_CRASH_AT={name}` outside production the process
/// dies here, as a power cut or `kill -9` would: no destructor, no clean-up
/// (the kill-at-the-worst-moment tests).
pub fn crash_point(name: &str) {
    if std::env::var("APP_ENV").as_deref() != Ok("production")
        && std::env::var("WEAVERSE_CRASH_AT").as_deref() == Ok(name)
    {
        tracing::error!(point = name, "crash point reached: aborting");
        std::process::abort();
    }
}
