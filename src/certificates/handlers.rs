//! `GET /certificates/{code}` (public verification: HTML with Open Graph
//! tags and an "add to LinkedIn" link, or JSON for `Accept:
//! application/json`), `GET /certificates/{code}.pdf` (the owner, or anyone
//! when the learner made it public), the owner's visibility switch, and
//! `/admin/certificates` (issue by hand, revoke, each with a reason).

use std::sync::Arc;

use crate::{certificates::Keys, media::Media};

use axum::extract::FromRef;

use askama::Template;
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::accounts::{Admin, MaybeUser};
use crate::labels as filters;
use crate::{
    accounts::CurrentUser,
    catalog::model::Product,
    certificates::{self, BadgeVerdict, CertificateRow, IssueError},
    error::{AppError, AppResult},
    state::AppState,
    web::{self, Form, PageCtx, Path, dates::DaysQuery, flash::Flash},
};

#[derive(Template)]
#[template(path = "certificates/public.html")]
struct PublicPage {
    ctx: PageCtx,
    cert: CertificateRow,
    url: String,
    linkedin: String,
    owner: bool,
    /// Weaverse's DID, which signs the badges.
    did: String,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn public_page(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    State(keys): State<Keys>,
    ctx: PageCtx,
    MaybeUser(viewer): MaybeUser,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> AppResult<Response> {
    if let Some(code) = file.strip_suffix(".pdf") {
        return download(&state, &media, &keys, viewer.as_ref(), code).await;
    }
    let cert = certificates::by_code(&mut *state.db.acquire().await?, &file).await?;
    if wants_json(&headers) {
        return Ok(match cert {
            Some(c) => Json(serde_json::json!({
                "code": c.code,
                "status": c.status.as_str(),
                "name": c.name_confirmed.then_some(&c.learner_name),
                "title": c.title,
                "kind": if c.curriculum_id.is_some() { "nanodegree" } else { "course" },
                "issued_at": c.issued_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "issuer": "Weaverse",
            }))
            .into_response(),
            None => (
                StatusCode::NOT_FOUND,
                Json(serde_json::json!({ "error": "없는 수료증 번호입니다." })),
            )
                .into_response(),
        });
    }
    let Some(cert) = cert else {
        return Err(AppError::NotFound);
    };
    let url = format!(
        "{}/certificates/{}",
        state.config.public_origin(),
        cert.code
    );
    let (year, month) = certificates::issued_year_month(cert.issued_at);
    let linkedin = format!(
        "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name={}&organizationName=Weaverse&issueYear={year}&issueMonth={month}&certUrl={}&certId={}",
        enc(&cert.title),
        enc(&url),
        enc(&cert.code)
    );
    let owner = viewer.as_ref().is_some_and(|v| v.id == cert.user_id);
    web::render(&PublicPage {
        ctx,
        cert,
        url,
        linkedin,
        owner,
        did: certificates::badge::did(&state.config.public_origin()),
    })
}

async fn download(
    state: &AppState,
    media: &Media,
    keys: &Keys,
    viewer: Option<&CurrentUser>,
    code: &str,
) -> AppResult<Response> {
    let cert = certificates::by_code(&mut *state.db.acquire().await?, code)
        .await?
        .ok_or(AppError::NotFound)?;
    let owner = viewer.is_some_and(|v| v.id == cert.user_id || v.is_admin());
    if !owner && !cert.public {
        return Err(match viewer {
            None => AppError::Unauthorized,
            Some(_) => AppError::Forbidden(
                "이 수료증 PDF는 본인만 내려받을 수 있습니다. 수료 여부는 이 페이지에서 확인할 수 있습니다."
                    .into(),
            ),
        });
    }
    if !cert.is_valid() {
        return Err(AppError::Conflict(
            "취소된 수료증은 내려받을 수 없습니다.".into(),
        ));
    }
    // The PDF carries the legal name: its learner gives it first.
    if !cert.name_confirmed {
        return match viewer.is_some_and(|v| v.id == cert.user_id) {
            true => Ok(web::htmx::redirect(
                false,
                &format!("/me/legal-name?next=/certificates/{}.pdf", cert.code),
            )),
            false => Err(AppError::NotFound),
        };
    }
    let bytes = certificates::pdf_bytes(state, media, keys, &cert).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"weaverse-{}.pdf\"", cert.code),
            ),
            (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /certificates/{code}/badge`: the certificate as a signed Open
/// Badges 3.0 credential, for wallets and anyone verifying it.
pub async fn badge_json(
    State(state): State<AppState>,
    State(keys): State<Keys>,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let cert = certificates::by_code(&mut conn, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    if !cert.is_valid() {
        return Ok((
            StatusCode::GONE,
            Json(serde_json::json!({ "error": "취소된 수료증입니다.", "status": "revoked" })),
        )
            .into_response());
    }
    // The credential names its holder: it waits for the legal name.
    if !cert.name_confirmed {
        return Ok((
            StatusCode::CONFLICT,
            Json(serde_json::json!({
                "error": "수료자가 수료증에 들어갈 이름을 아직 확인하지 않았습니다.",
                "status": "name_pending",
            })),
        )
            .into_response());
    }
    let credential =
        certificates::open_badge(&mut conn, &keys.badge, &cert, &state.config.public_origin())
            .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/ld+json")],
        Json(credential),
    )
        .into_response())
}

/// `GET /.well-known/did.json`: Weaverse's DID document (`did:web`), which
/// publishes the key badges are signed with.
pub async fn did_document(State(state): State<AppState>, State(keys): State<Keys>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/did+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        Json(certificates::badge::did_document(
            &keys.badge,
            &state.config.public_origin(),
        )),
    )
        .into_response()
}

/// `GET /certificates/status/{list}`: a signed Bitstring Status List of
/// revoked certificates (fresh each minute).
pub async fn status_list_json(
    State(state): State<AppState>,
    State(keys): State<Keys>,
    Path(list): Path<i64>,
) -> AppResult<Response> {
    let list = certificates::status_list(
        &mut *state.db.acquire().await?,
        &keys.badge,
        &state.config.public_origin(),
        list,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vc+ld+json"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        Json(list),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "certificates/verify.html")]
struct VerifyPage {
    ctx: PageCtx,
    did: String,
    /// The text handed in, shown again.
    badge: String,
    verdict: Option<BadgeVerdict>,
}

impl VerifyPage {
    /// The verdict's code (for the page's data attribute and JSON).
    fn code(&self) -> &'static str {
        self.verdict.as_ref().map_or("", verdict_code)
    }

    fn words(&self) -> &'static str {
        self.verdict.as_ref().map_or("", verdict_words)
    }

    fn certificate(&self) -> Option<&CertificateRow> {
        match &self.verdict {
            Some(BadgeVerdict::Valid(c) | BadgeVerdict::Revoked(c)) => Some(c),
            _ => None,
        }
    }

    fn good(&self) -> bool {
        matches!(self.verdict, Some(BadgeVerdict::Valid(_)))
    }
}

fn verdict_code(verdict: &BadgeVerdict) -> &'static str {
    match verdict {
        BadgeVerdict::Valid(_) => "valid",
        BadgeVerdict::Revoked(_) => "revoked",
        BadgeVerdict::NotOurs => "not_ours",
        BadgeVerdict::Altered => "altered",
        BadgeVerdict::Malformed => "malformed",
    }
}

/// The verdict in words, for people.
fn verdict_words(verdict: &BadgeVerdict) -> &'static str {
    match verdict {
        BadgeVerdict::Valid(_) => {
            "Weaverse가 발급한 유효한 수료증입니다. 내용이 발급 때와 같습니다."
        }
        BadgeVerdict::Revoked(_) => "Weaverse가 발급했지만 이후 취소된 수료증입니다.",
        BadgeVerdict::NotOurs => {
            "Weaverse가 서명한 배지가 아닙니다. 다른 키로 서명되었거나 발급자가 Weaverse가 아닙니다."
        }
        BadgeVerdict::Altered => "서명 뒤에 내용이 바뀐 배지입니다. 믿을 수 없습니다.",
        BadgeVerdict::Malformed => {
            "Open Badge 형식(JSON)이 아닙니다. 받은 배지 파일의 내용을 그대로 붙여 넣어 주세요."
        }
    }
}

/// `GET /certificates/verify`: a form to check a badge someone handed over.
pub async fn verify_form(State(state): State<AppState>, ctx: PageCtx) -> AppResult<Response> {
    web::render(&VerifyPage {
        ctx,
        did: certificates::badge::did(&state.config.public_origin()),
        badge: String::new(),
        verdict: None,
    })
}

/// `POST /certificates/verify`: a badge (the form's `badge` field, or a
/// JSON body) in; its verdict out, in words (HTML) or as JSON (for a JSON
/// body or `Accept: application/json`). It changes nothing.
pub async fn verify(
    State(state): State<AppState>,
    State(keys): State<Keys>,
    ctx: PageCtx,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("application/ld+json"));
    let text = if json_body {
        String::from_utf8_lossy(&body).into_owned()
    } else {
        url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "badge")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let origin = state.config.public_origin();
    let verdict =
        certificates::verify_badge(&mut *state.db.acquire().await?, &keys.badge, &origin, &text)
            .await?;
    let status = match verdict {
        BadgeVerdict::Malformed => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    if json_body || wants_json(&headers) {
        let certificate = match &verdict {
            BadgeVerdict::Valid(c) | BadgeVerdict::Revoked(c) => serde_json::json!({
                "code": c.code, "name": c.learner_name, "title": c.title,
                "issued_at": c.issued_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "url": format!("{origin}/certificates/{}", c.code),
            }),
            _ => serde_json::Value::Null,
        };
        return Ok((
            status,
            Json(serde_json::json!({
                "verified": matches!(verdict, BadgeVerdict::Valid(_)),
                "verdict": verdict_code(&verdict),
                "message": verdict_words(&verdict),
                "issuer": certificates::badge::did(&origin),
                "certificate": certificate,
            })),
        )
            .into_response());
    }
    let page = VerifyPage {
        ctx,
        did: certificates::badge::did(&origin),
        badge: text.chars().take(certificates::MAX_BADGE_BYTES).collect(),
        verdict: Some(verdict),
    };
    Ok((status, web::render(&page)?).into_response())
}

#[derive(Deserialize)]
pub struct VisibilityForm {
    #[serde(default)]
    public: Option<String>,
}

pub async fn visibility(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<VisibilityForm>,
) -> AppResult<Response> {
    let public = form.public.is_some();
    if !certificates::set_public(&mut *state.db.acquire().await?, &code, user.id, public).await? {
        return Err(AppError::NotFound);
    }
    let message = if public {
        "이제 누구나 이 수료증 PDF를 내려받을 수 있습니다."
    } else {
        "이제 본인만 이 수료증 PDF를 내려받을 수 있습니다."
    };
    Ok(ctx.redirect("/me/dashboard#certificates", Flash::success(message)))
}

#[derive(Template)]
#[template(path = "admin/certificates.html")]
struct AdminPage {
    ctx: PageCtx,
    certificates: Vec<CertificateRow>,
    /// What may be certified, by title: curricula, then courses.
    products: Vec<(Product, String)>,
    /// The issue form as it was sent (kept when it is refused).
    form: IssueForm,
    error: Option<String>,
    issued: DaysQuery,
}

impl AdminPage {
    /// The list as filtered, as a CSV download.
    fn csv_href(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("from", &self.issued.from);
        q.append_pair("to", &self.issued.to);
        q.append_pair("format", "csv");
        format!("/admin/certificates?{}", q.finish())
    }

    fn curricula(&self) -> impl Iterator<Item = &(Product, String)> {
        self.products
            .iter()
            .filter(|(p, _)| matches!(p, Product::Curriculum(_)))
    }

    fn courses(&self) -> impl Iterator<Item = &(Product, String)> {
        self.products
            .iter()
            .filter(|(p, _)| matches!(p, Product::Course(_)))
    }

    fn chosen(&self, product: &Product) -> bool {
        Product::from_key(&self.form.product) == Some(*product)
    }
}

async fn admin_page(
    state: &AppState,
    ctx: PageCtx,
    form: IssueForm,
    error: Option<String>,
    issued: DaysQuery,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let certificates = certificates::latest(&mut conn, issued.first(), issued.last(), 200).await?;
    let products = crate::catalog::all_products(&mut conn).await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        web::render(&AdminPage {
            ctx,
            certificates,
            products,
            form,
            error,
            issued,
        })?,
    )
        .into_response())
}

/// The admin list's filter: issued on these Seoul days (inclusive).
#[derive(Deserialize, Default, Clone)]
pub struct IssuedQuery {
    #[serde(flatten)]
    issued: DaysQuery,
    #[serde(default)]
    format: String,
}

/// `/admin/certificates?from=&to=` (`&format=csv`: every match).
pub async fn admin_list(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    crate::web::Query(query): crate::web::Query<IssuedQuery>,
) -> AppResult<Response> {
    if query.format == "csv" {
        let rows = certificates::latest(
            &mut *state.db.acquire().await?,
            query.issued.first(),
            query.issued.last(),
            100_000,
        )
        .await?;
        let mut csv = crate::web::csv::Csv::new(
            "certificates",
            &[
                "번호",
                "이름",
                "과정",
                "학점",
                "발급 시각",
                "직접 발급 사유",
                "상태",
                "취소 사유",
            ],
        );
        for c in &rows {
            csv.row([
                c.code.clone(),
                c.learner_name.clone(),
                c.title.clone(),
                c.credits.to_string(),
                crate::web::dates::sheet(&c.issued_at),
                c.issue_reason.clone().unwrap_or_default(),
                crate::labels::Label::label(&c.status).to_owned(),
                c.revoke_reason.clone().unwrap_or_default(),
            ]);
        }
        return Ok(csv.into_response());
    }
    admin_page(&state, ctx, IssueForm::default(), None, query.issued).await
}

#[derive(Deserialize, Default)]
pub struct IssueForm {
    #[serde(default)]
    email: String,
    /// A curriculum or course, as [`Product::key`] names it.
    #[serde(default)]
    product: String,
    #[serde(default)]
    reason: String,
}

fn reason_ok(reason: &str) -> bool {
    let n = reason.trim().chars().count();
    (1..=500).contains(&n)
}

pub async fn admin_issue(
    State(state): State<AppState>,
    ctx: PageCtx,
    Admin(admin): Admin,
    Form(form): Form<IssueForm>,
) -> AppResult<Response> {
    let Some(subject) = Product::from_key(&form.product) else {
        return admin_page(
            &state,
            ctx,
            form,
            Some("발급할 과정을 고르세요.".into()),
            DaysQuery::default(),
        )
        .await;
    };
    if !reason_ok(&form.reason) {
        let error = Some("발급 사유를 1~500자로 입력하세요.".into());
        return admin_page(&state, ctx, form, error, DaysQuery::default()).await;
    }
    let mut conn = state.db.acquire().await?;
    let issued = certificates::issue_by_hand(
        &mut conn,
        admin.id,
        form.email.trim(),
        subject,
        form.reason.trim(),
    )
    .await;
    drop(conn);
    match issued {
        Ok(code) => Ok(ctx.redirect(
            "/admin/certificates",
            Flash::success(format!("수료증 {code}을(를) 발급했습니다.")),
        )),
        Err(IssueError::Db(err)) => Err(err.into()),
        Err(err) => {
            let message = match err {
                IssueError::NoLearner => "그 이메일의 회원이 없습니다. 목록에서 회원을 고르세요.",
                IssueError::NoSubject => "그 과정은 없거나 지워졌습니다.",
                _ => "이 회원은 이미 이 과정의 수료증을 받았습니다(취소된 것 포함).",
            };
            admin_page(
                &state,
                ctx,
                form,
                Some(message.into()),
                DaysQuery::default(),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct LearnerQuery {
    #[serde(default)]
    email: String,
}

/// Members matching what was typed (email or nickname), as `<option>`s.
#[derive(Template)]
#[template(path = "admin/_learner_options.html")]
struct LearnerOptions {
    /// Email and nickname of each.
    learners: Vec<(String, String)>,
}

/// `GET /admin/certificates/learners?email=`: the issue form's suggestions,
/// fetched by htmx as the admin types (two letters or more).
pub async fn learner_options(
    State(state): State<AppState>,
    _admin: Admin,
    crate::web::Query(query): crate::web::Query<LearnerQuery>,
) -> AppResult<Response> {
    let typed: String = query.email.trim().chars().take(100).collect();
    let learners = match typed.chars().count() >= 2 {
        true => {
            let search = crate::accounts::admin::UserSearch {
                q: Some(&typed),
                page: 1,
                size: MAX_SUGGESTIONS as i64,
                ..Default::default()
            };
            let page =
                crate::accounts::admin::search(&mut *state.db.acquire().await?, search).await?;
            page.rows
                .into_iter()
                .take(MAX_SUGGESTIONS)
                .map(|r| (r.email, r.nickname))
                .collect()
        }
        false => Vec::new(),
    };
    web::render(&LearnerOptions { learners })
}

/// At most this many members are suggested.
const MAX_SUGGESTIONS: usize = 10;

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    reason: String,
}

pub async fn admin_revoke(
    State(state): State<AppState>,
    ctx: PageCtx,
    Admin(admin): Admin,
    Path(code): Path<String>,
    Form(form): Form<RevokeForm>,
) -> AppResult<Response> {
    if !reason_ok(&form.reason) {
        let error = Some("취소 사유를 1~500자로 입력하세요.".into());
        return admin_page(
            &state,
            ctx,
            IssueForm::default(),
            error,
            DaysQuery::default(),
        )
        .await;
    }
    let done = certificates::revoke(
        &mut *state.db.acquire().await?,
        &code,
        admin.id,
        form.reason.trim(),
    )
    .await?;
    let flash = if done {
        Flash::success(format!("수료증 {code}을(를) 취소했습니다."))
    } else {
        Flash::warning("유효한 수료증만 취소할 수 있습니다.")
    };
    Ok(ctx.redirect("/admin/certificates", flash))
}

/// The capability's pages, for any router state that holds its parts.
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::state::AppState: FromRef<S>,
    crate::certificates::Keys: FromRef<S>,
    std::sync::Arc<crate::media::Media>: FromRef<S>,
{
    use crate::web::routes::prelude::*;
    Router::new()
        .at("/.well-known/did.json", get(did_document))
        .at("/certificates/verify", get(verify_form).post(verify))
        .at("/certificates/status/{list}", get(status_list_json))
        .at("/certificates/{file}", get(public_page))
        .at("/certificates/{code}/visibility", post(visibility))
        .at("/certificates/{code}/badge", get(badge_json))
        .at("/admin/certificates", get(admin_list).post(admin_issue))
        .at("/admin/certificates/learners", get(learner_options))
        .at("/admin/certificates/{code}/revoke", post(admin_revoke))
}
