//! Account pages: thin handlers over `service` and `admin`, by area.

mod admin;
mod errors;

pub use errors::message as problem_text;
mod profile;
mod signin;

pub use admin::*;
pub use profile::*;
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
