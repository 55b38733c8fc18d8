use askama::Template;

use crate::web::PageCtx;

#[derive(Template)]
#[template(path = "catalog/home.html")]
pub struct HomePage {
    pub ctx: PageCtx,
}
