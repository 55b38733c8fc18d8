//! Catalogue pages and the studio: thin handlers over `service` and `studio`,
//! by area.

mod curricula;
mod errors;
mod pages;
mod studio;

pub use curricula::*;
pub use pages::*;
pub use studio::*;
