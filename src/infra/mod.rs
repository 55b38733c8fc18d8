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
