use axum::{extract::State, response::Html};

use crate::{
    app::AppState,
    catalog::{service, views::HomePage},
    error::AppResult,
    web::{self, PageCtx},
};

pub async fn home(State(state): State<AppState>, ctx: PageCtx) -> AppResult<Html<String>> {
    let mut conn = state.db.acquire().await?;
    let roadmap = service::nanodegree_roadmap(&mut conn).await?;
    web::render(&HomePage { ctx, roadmap })
}
