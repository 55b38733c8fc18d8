//! The layout context every page template gets: csrf token, flash messages,
//! navigation, asset URLs. Handlers take it as an extractor.

use std::sync::Arc;

use axum::{extract::FromRequestParts, http::request::Parts};

use crate::{
    accounts::{CurrentUser, Role},
    app::AppState,
    error::AppError,
    web::{
        assets::Assets,
        auth,
        csrf::CsrfToken,
        flash::{Flash, Flashes},
        htmx,
    },
};

/// One entry of the main navigation.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
}

/// The main navigation, by role; capabilities add their entry when they ship.
const NAV: &[NavItem] = &[
    NavItem {
        href: "/",
        label: "홈",
    },
    NavItem {
        href: "/courses",
        label: "강의 목록",
    },
];
const STAFF_NAV: &[NavItem] = &[
    NavItem {
        href: "/",
        label: "홈",
    },
    NavItem {
        href: "/courses",
        label: "강의 목록",
    },
    NavItem {
        href: "/studio",
        label: "스튜디오",
    },
];
const ADMIN_NAV: &[NavItem] = &[
    NavItem {
        href: "/",
        label: "홈",
    },
    NavItem {
        href: "/courses",
        label: "강의 목록",
    },
    NavItem {
        href: "/studio",
        label: "스튜디오",
    },
    NavItem {
        href: "/admin/users",
        label: "회원 관리",
    },
    NavItem {
        href: "/admin/payments",
        label: "결제 관리",
    },
    NavItem {
        href: "/admin/watch",
        label: "시청 기록",
    },
    NavItem {
        href: "/admin/certificates",
        label: "수료증",
    },
    NavItem {
        href: "/admin/jobs",
        label: "작업 관리",
    },
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
    assets: Arc<Assets>,
}

impl PageCtx {
    /// A fresh one-time key for a form that creates a row or moves money
    /// (`infra::once`): each form printed gets its own.
    pub fn form_key(&self) -> String {
        crate::infra::once::new_key()
    }

    /// Builds the context from what the middleware left in the request.
    pub fn from_parts(parts: &Parts, state: &AppState, user: Option<&CurrentUser>) -> Self {
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
            assets: state.assets.clone(),
        };
        ctx.set_user(user);
        ctx
    }

    /// Shows `user` as signed in (navigation and user menu).
    pub fn set_user(&mut self, user: Option<&CurrentUser>) {
        self.nav = match user.map(|u| u.role) {
            Some(Role::Admin) => ADMIN_NAV,
            Some(Role::Tutor) => STAFF_NAV,
            _ => NAV,
        };
        self.user = user.map(|u| UserBadge {
            nickname: u.nickname.clone(),
            role_label: u.role.is_staff().then(|| u.role.label()),
            verified: u.verified,
            avatar: u.avatar.map(|id| {
                (
                    crate::media::images::url(id, 48),
                    crate::media::images::url(id, 96),
                )
            }),
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
        self.assets.url(path)
    }

    pub fn is_active(&self, href: &str) -> bool {
        if href == "/" {
            self.path == "/"
        } else {
            self.path.starts_with(href)
        }
    }
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = auth::resolve(parts, state).await?;
        Ok(Self::from_parts(parts, state, user.as_ref()))
    }
}
