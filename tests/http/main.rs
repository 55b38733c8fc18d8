//! HTTP tests: each test gets a fresh migrated PostgreSQL database
//! (`#[sqlx::test]`) and the real router on a random port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod accounts;
mod api;
mod api_platform;
mod backup;
mod catalog;
mod cdn;
mod certificates;
mod cli;
mod commerce;
mod dashboards;
mod faults;
mod google;
mod hostile;
mod images;
mod instances;
mod jobs;
mod kakaopay;
mod lanes;
mod learner_pages;
mod learning;
mod media;
mod missions;
mod ops;
mod sandbox;
mod shell;
mod sign_in;
mod toss;
mod tutor;
