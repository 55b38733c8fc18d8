//! The layout context every page template gets: csrf token, flash messages,
//! navigation, asset URLs. Handlers take it as an extractor, and answer a
//! POST that did its work with [`PageCtx::redirect`].

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
    response::{IntoResponse, Response},
};
use uuid::Uuid;

use crate::{
    error::AppError,
    state::AppState,
    web::{
        csrf::CsrfToken,
        flash::{Flash, Flashes, SetFlash},
        htmx,
        routes::image_url,
    },
};

/// Who the signed-in visitor is, as the layout shows them. The accounts
/// layer (`accounts::identify`) puts it in the request and the response.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub nickname: String,
    pub standing: Standing,
    pub verified: bool,
    /// The profile picture, when one is set.
    pub avatar: Option<Uuid>,
}

/// Which navigation a visitor gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Learner,
    Tutor,
    Admin,
}

/// One entry of the main navigation.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
}

const fn nav(href: &'static str, label: &'static str) -> NavItem {
    NavItem { href, label }
}

const HOME: NavItem = nav("/", "홈");
const COURSES: NavItem = nav("/courses", "강의 목록");
const STUDIO: NavItem = nav("/studio", "스튜디오");

/// The main navigation, by role; capabilities add their entry when they ship.
const NAV: &[NavItem] = &[HOME, COURSES];
const STAFF_NAV: &[NavItem] = &[HOME, COURSES, STUDIO, nav("/studio/insights", "코스 분석")];
const ADMIN_NAV: &[NavItem] = &[
    HOME,
    COURSES,
    STUDIO,
    nav("/admin", "관리 홈"),
    nav("/admin/reviews", "코스 검토"),
    nav("/admin/users", "회원 관리"),
    nav("/admin/payments", "결제 관리"),
    nav("/admin/watch", "시청 기록"),
    nav("/admin/certificates", "수료증"),
    nav("/admin/tutor", "AI 튜터"),
    nav("/admin/jobs", "작업 관리"),
];

/// What the layout shows of the signed-in person.
pub struct UserBadge {
    pub nickname: String,
    /// Shown beside the nickname for staff; a learner needs no badge.
    pub role_label: Option<&'static str>,
    pub verified: bool,
    /// The profile picture's 48 and 96 pixel addresses.
    pub avatar: Option<(String, String)>,
}

pub struct PageCtx {
    pub csrf_token: String,
    pub flashes: Vec<Flash>,
    /// The request path, to mark the active navigation entry.
    pub path: String,
    /// Whether htmx asked (handlers answer with the fragment alone).
    pub htmx: bool,
    pub nav: &'static [NavItem],
    pub user: Option<UserBadge>,
    /// For asset addresses and the signed flash cookie.
    state: AppState,
}

impl PageCtx {
    /// A fresh one-time key for a form that creates a row or moves money
    /// (`infra::once`): each form printed gets its own.
    pub fn form_key(&self) -> String {
        crate::infra::once::new_key()
    }

    /// Builds the context from what the middleware left in the request.
    pub fn from_parts(parts: &Parts, state: AppState) -> Self {
        let mut ctx = Self {
            csrf_token: parts
                .extensions
                .get::<CsrfToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
            flashes: parts
                .extensions
                .get::<Flashes>()
                .map(|f| f.0.clone())
                .unwrap_or_default(),
            path: parts.uri.path().to_string(),
            htmx: htmx::is_htmx(&parts.headers),
            nav: NAV,
            user: None,
            state,
        };
        ctx.set_viewer(parts.extensions.get::<Viewer>());
        ctx
    }

    /// Shows `viewer` as signed in (navigation and user menu).
    pub fn set_viewer(&mut self, viewer: Option<&Viewer>) {
        self.nav = match viewer.map(|v| v.standing) {
            Some(Standing::Admin) => ADMIN_NAV,
            Some(Standing::Tutor) => STAFF_NAV,
            _ => NAV,
        };
        self.user = viewer.map(|v| UserBadge {
            nickname: v.nickname.clone(),
            role_label: match v.standing {
                Standing::Learner => None,
                Standing::Tutor => Some("튜터"),
                Standing::Admin => Some("관리자"),
            },
            verified: v.verified,
            avatar: v.avatar.map(|id| (image_url(id, 48), image_url(id, 96))),
        });
    }

    /// Whether this page, rendered by [`PageCtx::for_everyone`], is the same
    /// for every visitor: nobody signed in and no flash message waiting.
    pub fn is_shared(&self) -> bool {
        self.user.is_none() && self.flashes.is_empty()
    }

    /// The context of a page every anonymous visitor gets alike: no CSRF
    /// token in it (such pages hold no form that posts).
    pub fn for_everyone(mut self) -> Self {
        self.csrf_token.clear();
        self
    }

    /// Versioned URL of a file under `static/`.
    pub fn asset(&self, path: &str) -> String {
        self.state.assets.url(path)
    }

    /// Sends the browser on to `to` (htmx too), with `flash` shown there:
    /// the answer to a POST that did its work.
    pub fn redirect(&self, to: &str, flash: Flash) -> Response {
        (
            SetFlash::new(&self.state, &[flash]),
            htmx::redirect(self.htmx, to),
        )
            .into_response()
    }

    /// The answer to a repeated submit of a one-time form (`infra::once`):
    /// where the first submit led, or `fallback`, saying nothing was done
    /// twice.
    pub fn repeated(&self, first: Option<&str>, fallback: &str) -> Response {
        self.redirect(
            first.unwrap_or(fallback),
            Flash::info("이미 처리된 요청입니다. 같은 내용을 두 번 처리하지 않았습니다."),
        )
    }

    pub fn is_active(&self, href: &str) -> bool {
        match href {
            // Homes are active only on themselves, not on what lies below.
            "/" | "/admin" => self.path == href,
            // The studio's analysis has its own entry.
            "/studio" => self.path.starts_with(href) && !self.path.starts_with("/studio/insights"),
            _ => self.path.starts_with(href),
        }
    }
}

impl<S> FromRequestParts<S> for PageCtx
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, AppState::from_ref(state)))
    }
}
