//! Adapters that several capabilities share: the database, local secrets,
//! (later) storage and mail.

pub mod db;
pub mod keys;
