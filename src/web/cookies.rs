//! Reading one cookie from a request and writing `Set-Cookie` values with the
//! attributes every Weaverse cookie shares.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

/// The value of cookie `name`, if the request sent it.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for a cookie the page's scripts never read.
pub fn set(
    name: &str,
    value: String,
    max_age: Option<time::Duration>,
    secure: bool,
) -> HeaderValue {
    let mut builder = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax);
    if let Some(age) = max_age {
        builder = builder.max_age(age);
    }
    header_value(&builder.build())
}

/// `Set-Cookie` that removes cookie `name`.
pub fn remove(name: &str, secure: bool) -> HeaderValue {
    set(name, String::new(), Some(time::Duration::ZERO), secure)
}

fn header_value(cookie: &Cookie<'_>) -> HeaderValue {
    // Cookie values we write are base64url and ASCII names: always valid.
    HeaderValue::from_str(&cookie.encoded().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; weaverse_csrf=abc"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(get(&headers, "weaverse_csrf"), Some("abc"));
        assert_eq!(get(&headers, "b"), Some("2"));
        assert_eq!(get(&headers, "c"), None);
    }

    #[test]
    fn set_cookie_is_http_only_lax_and_secure_when_asked() {
        let value = set("n", "v".into(), None, true);
        let text = value.to_str().unwrap_or_default();
        assert!(text.contains("HttpOnly"));
        assert!(text.contains("SameSite=Lax"));
        assert!(text.contains("Secure"));
        assert!(text.contains("Path=/"));
    }
}
