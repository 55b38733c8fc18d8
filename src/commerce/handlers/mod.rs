//! Commerce pages, by area. Each handler: extract, authorise, one service
//! call, then a page or a redirect; refusals become a flash on the page the
//! learner goes back to (`errors::outcome`).

pub mod admin;
pub mod cart;
pub mod checkout;
mod errors;

pub use errors::refusal_text;
pub mod orders;
pub mod returns;
