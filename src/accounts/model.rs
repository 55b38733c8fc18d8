//! Account values that validate on parse; a refusal says which [`Problem`]
//! (worded for people by the web layer).

use std::{collections::HashSet, fmt, sync::OnceLock};

use crate::accounts::error::Problem;

/// An email address, trimmed and lower-cased, checked for a plausible shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(Problem::EmailMissing);
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(Problem::EmailFormat);
        };
        let valid = !local.is_empty()
            && local.len() <= 64
            && email.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(Self(email))
        } else {
            Err(Problem::EmailFormat)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name: 2 to 20 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nickname(String);

impl Nickname {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let nick = raw.trim();
        let len = nick.chars().count();
        if len == 0 {
            return Err(Problem::NicknameMissing);
        }
        if !(2..=20).contains(&len) {
            return Err(Problem::NicknameLength);
        }
        if nick.chars().any(char::is_control) || !crate::text::single_line(nick) {
            return Err(Problem::NicknameChars);
        }
        Ok(Self(nick.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// The three fields every new account starts with, checked together: each
/// problem goes into `errors` under its field, and a value comes back only
/// where it was fine.
pub fn new_account(
    errors: &mut crate::accounts::error::Invalid,
    email: &str,
    nickname: &str,
    password: &str,
) -> (Option<Email>, Option<Nickname>) {
    let email = Email::parse(email)
        .map_err(|p| errors.push("email", p))
        .ok();
    let nickname = Nickname::parse(nickname)
        .map_err(|p| errors.push("nickname", p))
        .ok();
    if let Err(problem) = check_password(password, email.as_ref()) {
        errors.push("password", problem);
    }
    (email, nickname)
}

/// The password policy: at least 10 characters, not a well-known password,
/// not the email's name, not one repeated character.
pub fn check_password(password: &str, email: Option<&Email>) -> Result<(), Problem> {
    let len = password.chars().count();
    if len < 10 {
        return Err(Problem::PasswordTooShort);
    }
    if password.len() > 1024 {
        return Err(Problem::PasswordTooLong);
    }
    let lower = password.to_lowercase();
    if common_passwords().contains(lower.as_str()) {
        return Err(Problem::PasswordCommon);
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(Problem::PasswordRepeated);
    }
    if let Some(email) = email
        && email.local_part().len() >= 4
        && lower.contains(email.local_part())
    {
        return Err(Problem::PasswordHasEmailName);
    }
    Ok(())
}

/// A Korean phone number, stored as `010-1234-5678` / `02-123-4567`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts spaces, dashes, dots, parentheses and a `+82` prefix.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        const INVALID: Problem = Problem::PhoneFormat;
        let trimmed = raw.trim();
        let mut digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        if trimmed
            .chars()
            .any(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '+')))
        {
            return Err(INVALID);
        }
        if trimmed.starts_with('+') {
            let Some(rest) = digits.strip_prefix("82") else {
                return Err(Problem::PhoneNotKorean);
            };
            digits = format!("0{}", rest.trim_start_matches('0'));
        }
        let formatted = if let Some(rest) = digits.strip_prefix("02") {
            // Seoul: 02-XXX-XXXX or 02-XXXX-XXXX
            match rest.len() {
                7 => format!("02-{}-{}", &rest[..3], &rest[3..]),
                8 => format!("02-{}-{}", &rest[..4], &rest[4..]),
                _ => return Err(INVALID),
            }
        } else if digits.len() >= 10
            && digits.starts_with('0')
            && (digits.starts_with("01")
                || digits.starts_with("070")
                || matches!(&digits[1..2], "3" | "4" | "5" | "6"))
        {
            let (head, rest) = digits.split_at(3);
            if head.starts_with("01")
                && !matches!(head, "010" | "011" | "016" | "017" | "018" | "019")
            {
                return Err(INVALID);
            }
            match rest.len() {
                7 => format!("{head}-{}-{}", &rest[..3], &rest[3..]),
                8 => format!("{head}-{}-{}", &rest[..4], &rest[4..]),
                _ => return Err(INVALID),
            }
        } else {
            return Err(INVALID);
        };
        Ok(Self(formatted))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::text_enum!(
    /// How a browser session was signed in.
    SignInMethod {
        Password => "password",
        Google => "google",
        Kakao => "kakao",
        Naver => "naver",
        EmailLink => "email_link",
    }
);

impl From<crate::accounts::providers::Provider> for SignInMethod {
    fn from(provider: crate::accounts::providers::Provider) -> Self {
        use crate::accounts::providers::Provider;
        match provider {
            Provider::Google => Self::Google,
            Provider::Kakao => Self::Kakao,
            Provider::Naver => Self::Naver,
        }
    }
}

crate::text_enum!(
    /// What a person may do: learn, author courses, run the platform.
    Role {
        Student => "student",
        Tutor => "tutor",
        Admin => "admin",
    }
);

impl Role {
    /// Tutors and admins author courses.
    pub fn is_staff(&self) -> bool {
        matches!(self, Self::Tutor | Self::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Kim@Example.COM ").map(|e| e.to_string()),
            Ok("kim@example.com".to_string())
        );
        for bad in [
            "",
            "kim",
            "@example.com",
            "kim@",
            "kim@example",
            "kim@.com",
            "k im@example.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn nicknames_are_2_to_20_characters() {
        assert!(Nickname::parse("김").is_err());
        assert_eq!(
            Nickname::parse(" 김코딩 ").map(|n| n.as_str().to_string()),
            Ok("김코딩".into())
        );
        assert!(Nickname::parse(&"가".repeat(21)).is_err());
        assert!(Nickname::parse("a\u{7}b").is_err());
    }

    #[test]
    fn password_policy_refuses_short_common_and_lazy_passwords() {
        let email = Email::parse("minsu@example.com").ok();
        assert!(check_password("short", None).is_err());
        assert!(check_password("password123", None).is_err());
        assert!(
            check_password("Qwerty1234", None).is_err(),
            "case does not hide a common one"
        );
        assert!(check_password("aaaaaaaaaaaa", None).is_err());
        assert!(check_password("minsu-is-great", email.as_ref()).is_err());
        assert!(check_password("초록 고래가 노래한다", email.as_ref()).is_ok());
    }

    #[test]
    fn phone_numbers_are_normalised() {
        let ok = |raw: &str| PhoneNumber::parse(raw).map(|p| p.as_str().to_string());
        assert_eq!(ok("01012345678"), Ok("010-1234-5678".into()));
        assert_eq!(ok("010 1234 5678"), Ok("010-1234-5678".into()));
        assert_eq!(ok("+82 10-1234-5678"), Ok("010-1234-5678".into()));
        assert_eq!(ok("+82 (0)10 1234 5678"), Ok("010-1234-5678".into()));
        assert_eq!(ok("011-123-4567"), Ok("011-123-4567".into()));
        assert_eq!(ok("02-123-4567"), Ok("02-123-4567".into()));
        assert_eq!(ok("0212345678"), Ok("02-1234-5678".into()));
        assert_eq!(ok("031-123-4567"), Ok("031-123-4567".into()));
        assert_eq!(ok("070-1234-5678"), Ok("070-1234-5678".into()));
        for bad in [
            "",
            "1234",
            "010-1234",
            "012-1234-5678",
            "+1 415 555 0100",
            "010-abcd-5678",
            "0101234567890",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Tutor.is_staff() && !Role::Student.is_staff());
    }
}

/// A person's legal name as a certificate shows it: trimmed, inner spaces
/// folded, 2 to 40 characters of letters (any script), spaces, `.`, `-`
/// and `'`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegalName(String);

impl LegalName {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let len = name.chars().count();
        if len == 0 {
            return Err(Problem::LegalNameMissing);
        }
        if !(2..=40).contains(&len) {
            return Err(Problem::LegalNameLength);
        }
        if !name
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '.' | '-' | '\''))
        {
            return Err(Problem::LegalNameChars);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
