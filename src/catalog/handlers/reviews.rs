//! `/admin/reviews`: the courses tutors asked to publish, for an admin to
//! approve (publish) or send back with a note.

use askama::Template;
use axum::response::Response;
use serde::Deserialize;

use crate::labels as filters;
use crate::{
    catalog::{error::CatalogError, studio, studio_repo::ReviewRow},
    error::{AppError, AppResult},
    ids::CourseId,
    web::{self, Form, Path, form::FormErrors},
};

use super::Studio;

#[derive(Template)]
#[template(path = "admin/reviews.html")]
struct ReviewsPage {
    ctx: crate::web::PageCtx,
    reviews: Vec<ReviewRow>,
    /// A send-back refused: which course, and why.
    refused: Option<(CourseId, FormErrors)>,
}

impl ReviewsPage {
    fn error_for(&self, course: &CourseId) -> Option<&str> {
        self.refused
            .as_ref()
            .filter(|(c, _)| c == course)
            .and_then(|(_, e)| e.first("note").or(e.first("publish")))
    }
}

async fn page(s: Studio, refused: Option<(CourseId, FormErrors)>) -> AppResult<Response> {
    let reviews = studio::reviews(&mut *s.state.db.acquire().await?, &s.user).await?;
    let failed = refused.is_some();
    let page = ReviewsPage {
        ctx: s.ctx,
        reviews,
        refused,
    };
    match failed {
        true => web::invalid(&page),
        false => web::render(&page),
    }
}

/// `GET /admin/reviews`: the queue, oldest request first.
pub async fn admin_reviews(s: Studio) -> AppResult<Response> {
    if !s.user.is_admin() {
        return Err(AppError::Forbidden("관리자만 볼 수 있습니다.".into()));
    }
    page(s, None).await
}

/// `POST /admin/reviews/{id}/approve`: publishes the course.
pub async fn admin_approve(s: Studio, Path(id): Path<CourseId>) -> AppResult<Response> {
    let done = s
        .cache
        .write(&s.state.db, async |tx| {
            studio::approve(tx, &s.user, id).await
        })
        .await;
    match done {
        Ok(()) => Ok(s.done("/admin/reviews", "코스를 공개했습니다.")),
        Err(CatalogError::Incomplete(missing)) => {
            let errors = super::errors::missing_fields(&missing).into();
            page(s, Some((id, errors))).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct SendBackForm {
    #[serde(default)]
    note: String,
}

/// `POST /admin/reviews/{id}/return`: back to the tutor, with a note.
pub async fn admin_send_back(
    s: Studio,
    Path(id): Path<CourseId>,
    Form(form): Form<SendBackForm>,
) -> AppResult<Response> {
    let done = s
        .cache
        .write(&s.state.db, async |tx| {
            studio::send_back(tx, &s.user, id, &form.note).await
        })
        .await;
    match done {
        Ok(()) => Ok(s.done("/admin/reviews", "의견과 함께 튜터에게 돌려보냈습니다.")),
        Err(CatalogError::Invalid(invalid)) => page(s, Some((id, invalid.into()))).await,
        Err(other) => Err(other.into()),
    }
}
