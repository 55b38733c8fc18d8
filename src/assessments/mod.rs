//! Assessments: missions (multiple choice and code), grading, and the
//! sandbox code runs in.

pub mod sandbox;
