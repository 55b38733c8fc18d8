//! Checking a certificate by its number: what an employer's system asks.

use axum::{extract::State, http::HeaderMap, response::Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    api::{auth::Anyone, json, rfc3339},
    certificates::{self, Status},
    error::{AppError, AppResult},
    state::AppState,
    web::Path,
};

/// A certificate as anyone holding its number may see it.
#[derive(Serialize, ToSchema)]
pub struct Certificate {
    /// `WV-XXXXX-XXXXX-XXXXX-XXXXX`.
    pub code: String,
    pub status: Status,
    /// The learner's legal name; absent while they have not confirmed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub title: String,
    /// `course` or `nanodegree`.
    pub kind: String,
    pub credits: i32,
    /// RFC 3339.
    pub issued_at: String,
    /// RFC 3339, when it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    pub issuer: String,
    /// Its public page, with the PDF and the Open Badge.
    pub url: String,
}

/// Check a certificate by its number.
#[utoipa::path(
    get,
    path = "/api/v1/certificates/{code}",
    tag = "certificates",
    summary = "수료증 확인",
    description = "수료증 번호로 누구나 확인합니다 (토큰 없이도).",
    params(("code" = String, Path, description = "수료증 번호")),
    responses((status = 200, description = "수료증과 그 상태", body = Certificate)),
    security((), ("token" = []))
)]
pub async fn verify(
    State(state): State<AppState>,
    _caller: Anyone,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let code = code.trim().to_ascii_uppercase();
    if !certificates::well_formed(&code) {
        return Err(AppError::NotFound);
    }
    let mut conn = state.db.acquire().await?;
    let cert = certificates::by_code(&mut conn, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let certificate = Certificate {
        url: format!(
            "{}/certificates/{}",
            state.config.public_origin(),
            cert.code
        ),
        code: cert.code,
        status: cert.status,
        name: cert.name_confirmed.then_some(cert.learner_name),
        title: cert.title,
        kind: if cert.curriculum_id.is_some() {
            "nanodegree"
        } else {
            "course"
        }
        .into(),
        credits: cert.credits,
        issued_at: rfc3339(cert.issued_at),
        revoked_at: cert.revoked_at.map(rfc3339),
        issuer: "Weaverse".into(),
    };
    json(&headers, &certificate)
}
