use askama::Template;

use crate::{catalog::service::Roadmap, web::PageCtx};

#[derive(Template)]
#[template(path = "catalog/home.html")]
pub struct HomePage {
    pub ctx: PageCtx,
    pub roadmap: Option<Roadmap>,
}
