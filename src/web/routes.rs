//! Every route is added with `.at(path, handler)`, which also lists it, so
//! tests can walk the whole router (the hostile-input test does) without
//! being told about a new route. `Router::route` is banned in `clippy.toml`.

use std::{
    collections::BTreeSet,
    sync::{LazyLock, Mutex},
};

use axum::{Router, routing::MethodRouter};

static LISTED: LazyLock<Mutex<BTreeSet<&'static str>>> =
    LazyLock::new(|| Mutex::new(BTreeSet::new()));

pub trait At<S> {
    /// `Router::route`, and the path listed.
    fn at(self, path: &'static str, route: MethodRouter<S>) -> Self;
}

impl<S> At<S> for Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    fn at(self, path: &'static str, route: MethodRouter<S>) -> Self {
        if let Ok(mut listed) = LISTED.lock() {
            listed.insert(path);
        }
        #[allow(clippy::disallowed_methods)]
        self.route(path, route)
    }
}

/// What a capability's `routes()` needs, in one line:
/// `use crate::web::routes::prelude::*;`.
pub mod prelude {
    pub use super::At;
    pub use axum::{
        Router,
        extract::DefaultBodyLimit,
        routing::{get, post},
    };
}

/// Every path added with [`At::at`] by the routers built in this process.
pub fn listed() -> Vec<&'static str> {
    LISTED
        .lock()
        .map(|l| l.iter().copied().collect())
        .unwrap_or_default()
}

/// The address of a picture `media::images` made, `width` pixels wide.
pub fn image_url(image: uuid::Uuid, width: u32) -> String {
    format!("/media/images/{image}/{width}.jpg")
}

/// The widths a course cover is made in (16:9).
pub const COVER_WIDTHS: [u32; 2] = [480, 960];

/// `srcset` of a course cover.
pub fn cover_srcset(image: uuid::Uuid) -> String {
    COVER_WIDTHS
        .iter()
        .map(|w| format!("{} {w}w", image_url(image, *w)))
        .collect::<Vec<_>>()
        .join(", ")
}
