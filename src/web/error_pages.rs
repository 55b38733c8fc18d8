//! Renders errors late, with the request's layout context: an [`ErrorPage`]
//! left by `AppError`, or a bare error status from a layer (404 from the
//! router, 405, 408 timeout, 413 body limit, 500 from a caught panic), becomes
//! a full Korean page, or for htmx a fragment swapped into the page's alert
//! area. 401 becomes a redirect to the login page.

use askama::Template;
use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};

use crate::{
    error::ErrorPage,
    state::AppState,
    web::{
        htmx,
        page::{PageCtx, Viewer},
    },
};

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorTemplate<'a> {
    ctx: PageCtx,
    error: &'a ErrorPage,
}

#[derive(Template)]
#[template(path = "errors/_error.html")]
struct ErrorFragment<'a> {
    error: &'a ErrorPage,
}

pub async fn render(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let mut ctx = PageCtx::from_parts(&parts, state.clone());
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let response = next.run(Request::from_parts(parts, body)).await;

    let page = match response.extensions().get::<ErrorPage>() {
        Some(page) => page.clone(),
        None if is_bare_error(&response) => ErrorPage::for_status(response.status()),
        None => return response,
    };
    if page.login_redirect {
        let to = format!("/login?next={}", encode_component(&path_and_query));
        return htmx::redirect(ctx.htmx, &to);
    }
    let (mut parts, _) = response.into_parts();
    let ctx_htmx = ctx.htmx;
    if !ctx_htmx {
        // The navigation shows who is signed in, on error pages too.
        ctx.set_viewer(parts.extensions.get::<Viewer>());
    }
    let html = if ctx_htmx {
        ErrorFragment { error: &page }.render()
    } else {
        ErrorTemplate { ctx, error: &page }.render()
    };
    let html = match html {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(error = %err, "rendering the error page failed");
            "<!doctype html><html lang=\"ko\"><title>오류</title><p>일시적인 오류가 발생했습니다.</p></html>"
                .to_string()
        }
    };
    let mut rendered = (page.status, Html(html)).into_response();
    // Keep what layers set (Retry-After, Allow, cookies); drop stale body headers.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    for (name, value) in parts.headers.drain().filter_map(|(n, v)| n.map(|n| (n, v))) {
        rendered.headers_mut().append(name, value);
    }
    if ctx_htmx {
        // htmx swaps the message into the page's alert area, whatever the target was.
        let headers = rendered.headers_mut();
        headers.insert("hx-retarget", HeaderValue::from_static("#page-alerts"));
        headers.insert("hx-reswap", HeaderValue::from_static("innerHTML"));
    }
    rendered
}

/// An error status whose body nobody wrote for people: empty, or the plain
/// text a layer or extractor puts there ("length limit exceeded").
pub(crate) fn is_bare_error(response: &Response) -> bool {
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    (status.is_client_error() || status.is_server_error())
        && content_type.is_none_or(|ct| ct.starts_with("text/plain"))
}

fn encode_component(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}
