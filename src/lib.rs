//! Weaverse: a server-rendered video-education platform for a paid web
//! development nano-degree. See `../shared/ARCHITECTURE.md` and `docs/adr/`.

pub mod accounts;
pub mod api;
pub mod app;
pub mod assessments;
pub mod catalog;
pub mod certificates;
pub mod commerce;
pub mod config;
pub mod dashboards;
pub mod error;
pub mod ids;
pub mod infra;
pub mod jobs;
pub mod labels;
pub mod learning;
pub mod media;
pub mod money;
pub mod ops;
pub mod state;
pub mod telemetry;
pub mod text;
pub mod tutor;
pub mod web;
