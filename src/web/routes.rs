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

/// Every path added with [`At::at`] by the routers built in this process.
pub fn listed() -> Vec<&'static str> {
    LISTED
        .lock()
        .map(|l| l.iter().copied().collect())
        .unwrap_or_default()
}
