use axum::response::Html;

use crate::{
    catalog::views::HomePage,
    error::AppResult,
    web::{self, PageCtx},
};

pub async fn home(ctx: PageCtx) -> AppResult<Html<String>> {
    web::render(&HomePage { ctx })
}
