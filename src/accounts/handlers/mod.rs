//! Account pages: thin handlers over `service` and `admin`, by area.

use axum::extract::FromRef;

mod admin;
mod errors;

pub use errors::message as problem_text;
mod profile;
mod providers;
mod signin;
mod tokens;

pub use admin::*;
pub use profile::*;
pub use providers::{callback, link_start, sign_in_start, unlink};
pub use signin::*;

/// Redirect targets must stay on this site.
/// Only a path on this site, as a browser would read it: browsers drop tabs
/// and newlines and read `\\` as `/`, so `/\t/host` is `//host`, another
/// site. Anything that is not plainly a same-origin path goes home.
fn safe_next(raw: Option<&str>) -> String {
    let home = || "/".to_string();
    let Some(next) = raw else { return home() };
    if !next.starts_with('/')
        || next
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return home();
    }
    let Ok(base) = url::Url::parse("https://weaverse.invalid/") else {
        return home();
    };
    match base.join(next) {
        Ok(url) if url.origin() == base.origin() => url[url::Position::BeforePath..].to_string(),
        _ => home(),
    }
}

/// Password forms in flight at once (sign-up, login); past this a request
/// is answered 429 at once instead of waiting with its state in memory.
const PASSWORD_FORMS_IN_FLIGHT: usize = 64;

/// The capability's pages, for any router state that holds its parts.
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::state::AppState: FromRef<S>,
    crate::accounts::Providers: FromRef<S>,
{
    use crate::web::routes::At;
    use crate::web::routes::prelude::*;
    use axum::handler::Handler;
    // One budget shared by the forms that hash a password.
    let guard = tower::ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(
            |_: tower::BoxError| async {
                crate::error::AppError::TooManyRequests {
                    retry_after_secs: 5,
                }
            },
        ))
        .layer(tower::load_shed::LoadShedLayer::new())
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            PASSWORD_FORMS_IN_FLIGHT,
        ));
    Router::new()
        .at(
            "/signup",
            get(signup_page).post(signup.layer(guard.clone())),
        )
        .at("/login", get(login_page).post(login.layer(guard)))
        .at("/logout", post(logout))
        .at("/verify-email/{token}", get(verify_email))
        .at(
            "/password-reset",
            get(reset_request_page).post(reset_request),
        )
        .at("/password-reset/{token}", get(reset_form_page).post(reset))
        .at("/auth/{provider}", get(sign_in_start))
        .at("/auth/{provider}/callback", get(callback))
        .at("/me/sign-in-methods/{provider}/link", post(link_start))
        .at("/me/sign-in-methods/{provider}/unlink", post(unlink))
        .at("/me", get(profile).post(update_profile))
        .at("/me/consents", get(consents_page).post(agree))
        .at("/me/legal-name", get(legal_name_page).post(set_legal_name))
        .at("/me/verify-email", post(resend_verification))
        .at("/me/password", get(profile).post(change_password))
        .at("/me/sessions/end-others", post(end_other_sessions))
        .at("/me/sessions/{id}/end", post(end_session))
        .at("/me/delete", get(profile).post(delete_account))
        .at("/me/tokens", get(tokens::list).post(tokens::create))
        .at("/me/tokens/{id}/revoke", post(tokens::revoke))
        .at("/admin/users", get(admin_users).post(admin_create_user))
        .at("/admin/users/{id}", get(admin_user).post(admin_update_user))
        .at("/admin/users/{id}/delete", post(admin_delete_user))
        .at("/admin/users/{id}/restore", post(admin_restore_user))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/me")), "/me");
        assert_eq!(safe_next(Some("/courses?q=a")), "/courses?q=a");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn next_with_a_tab_or_newline_goes_home() {
        // `/%09/host` arrives decoded: a browser drops the tab and reads `//host`.
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/me\r\nSet-Cookie: x=1")), "/");
        assert_eq!(safe_next(Some(" //evil.example")), "/");
        // Encoded characters stay a path on this site.
        assert_eq!(safe_next(Some("/%09/x")), "/%09/x");
        assert_eq!(safe_next(Some("/orders?x=1")), "/orders?x=1");
    }
}
