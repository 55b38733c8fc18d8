//! The one place account errors get a status and Korean words.

use crate::{
    accounts::{
        Provider,
        error::{AccountsError, Invalid, Problem, SignInProblem},
    },
    error::{AppError, FieldErrors},
    web::form::FormErrors,
};

pub fn message(problem: Problem) -> &'static str {
    match problem {
        Problem::EmailMissing => "이메일 주소를 입력해 주세요.",
        Problem::EmailFormat => "이메일 주소 형식이 올바르지 않습니다.",
        Problem::EmailInUse => "이미 사용 중인 이메일입니다.",
        Problem::NicknameMissing => "닉네임을 입력해 주세요.",
        Problem::NicknameLength => "닉네임은 2자 이상 20자 이하로 입력해 주세요.",
        Problem::NicknameChars => "닉네임에 쓸 수 없는 문자가 있습니다.",
        Problem::PasswordTooShort => "비밀번호는 10자 이상이어야 합니다.",
        Problem::PasswordTooLong => "비밀번호가 너무 깁니다.",
        Problem::PasswordCommon => "너무 흔한 비밀번호입니다. 다른 비밀번호를 사용해 주세요.",
        Problem::PasswordRepeated => "같은 문자만 반복한 비밀번호는 사용할 수 없습니다.",
        Problem::PasswordHasEmailName => "비밀번호에 이메일 아이디를 넣지 마세요.",
        Problem::PhoneFormat => "전화번호 형식이 올바르지 않습니다. 예: 010-1234-5678",
        Problem::PhoneNotKorean => "국내 전화번호만 입력할 수 있습니다.",
        Problem::IntroductionTooLong => "자기소개는 500자 이하로 입력해 주세요.",
        Problem::RoleNotChosen => "역할을 선택해 주세요.",
        Problem::StaffRoleNotChosen => "튜터 또는 관리자를 선택해 주세요.",
        Problem::CannotDemoteSelf => "자기 자신의 관리자 권한은 내려놓을 수 없습니다.",
        Problem::BadLogin => "이메일 또는 비밀번호가 올바르지 않습니다.",
        Problem::WrongCurrentPassword => "현재 비밀번호가 올바르지 않습니다.",
        Problem::WrongPassword => "비밀번호가 올바르지 않습니다.",
        Problem::EmailMismatch => "이메일 주소가 일치하지 않습니다.",
        Problem::LegalNameMissing => "수료증에 들어갈 이름을 입력해 주세요.",
        Problem::LegalNameLength => "이름은 2자 이상 40자 이하로 입력해 주세요.",
        Problem::LegalNameChars => {
            "이름에는 글자, 띄어쓰기, 마침표, 하이픈, 아포스트로피만 쓸 수 있습니다."
        }
        Problem::TermsNotAgreed => "이용약관에 동의해야 가입할 수 있습니다.",
        Problem::PrivacyNotAgreed => "개인정보 수집·이용에 동의해야 가입할 수 있습니다.",
        Problem::TokenNameMissing => "토큰 이름을 입력해 주세요.",
        Problem::TokenNameLength => "토큰 이름은 40자 이하로 입력해 주세요.",
        Problem::TokenNameChars => "토큰 이름에 쓸 수 없는 문자가 있습니다.",
        Problem::TokenScopeNotChosen => "권한을 선택해 주세요.",
        Problem::TokenLifetime => "유효 기간을 목록에서 골라 주세요.",
        Problem::TooManyTokens => {
            "사용 중인 토큰이 너무 많습니다. 쓰지 않는 토큰을 폐기한 뒤 다시 만들어 주세요."
        }
    }
}

impl From<Invalid> for FieldErrors {
    fn from(invalid: Invalid) -> Self {
        invalid.in_words(|_, problem| message(problem).to_string())
    }
}

impl From<Invalid> for FormErrors {
    fn from(invalid: Invalid) -> Self {
        FieldErrors::from(invalid).into()
    }
}

fn sign_in(provider: Provider, problem: SignInProblem) -> AppError {
    use crate::labels::Label;
    let name = provider.label();
    match problem {
        SignInProblem::Expired => {
            AppError::BadRequest("로그인 시간이 지났습니다. 다시 시도해 주세요.".into())
        }
        SignInProblem::StateMismatch | SignInProblem::Replayed => AppError::BadRequest(
            "로그인 요청이 일치하지 않거나 이미 사용되었습니다. 처음부터 다시 시도해 주세요."
                .into(),
        ),
        SignInProblem::Exchange => {
            AppError::BadRequest(format!("{name} 로그인에 실패했습니다. 다시 시도해 주세요."))
        }
        SignInProblem::Unverified => AppError::BadRequest(format!(
            "{name} 로그인 정보를 확인할 수 없습니다. 다시 시도해 주세요."
        )),
        SignInProblem::NoEmail => AppError::BadRequest(format!(
            "{name} 계정의 이메일 주소를 받을 수 없습니다. 이메일 제공에 동의하고 다시 시도해 주세요."
        )),
        SignInProblem::EmailNotLinkable => AppError::Conflict(format!(
            "같은 이메일로 가입된 계정이 있습니다. {name}에서 인증된 이메일만 연결할 수 있으니 그 계정으로 로그인한 뒤 내 정보에서 {name} 계정을 연결해 주세요."
        )),
        SignInProblem::LinkedElsewhere => AppError::Conflict(format!(
            "이 {name} 계정은 이미 다른 Weaverse 계정에 연결되어 있습니다."
        )),
        SignInProblem::AlreadyLinked => AppError::Conflict(format!(
            "이미 다른 {name} 계정이 연결되어 있습니다. 먼저 연결을 해제해 주세요."
        )),
        SignInProblem::LinkForAnotherAccount => AppError::Forbidden(
            "연결을 시작한 계정과 지금 로그인한 계정이 다릅니다. 다시 시도해 주세요.".into(),
        ),
        SignInProblem::NotLinked => AppError::Conflict(format!("연결된 {name} 계정이 없습니다.")),
        SignInProblem::LastWayIn => AppError::Conflict(format!(
            "{name} 연결을 해제하면 로그인할 방법이 없습니다. 먼저 비밀번호를 만들거나 다른 로그인 방법을 연결해 주세요."
        )),
    }
}

impl From<AccountsError> for AppError {
    fn from(err: AccountsError) -> Self {
        match err {
            AccountsError::NotFound => AppError::NotFound,
            AccountsError::Invalid(invalid) => AppError::Validation(invalid.into()),
            AccountsError::AlreadyVerified => {
                AppError::Conflict("이미 인증된 이메일입니다.".into())
            }
            AccountsError::ResetLinkInvalid => AppError::Conflict(
                "재설정 링크가 만료되었거나 이미 사용되었습니다. 다시 요청해 주세요.".into(),
            ),
            AccountsError::CannotDeleteSelf => {
                AppError::Conflict("자기 자신의 계정은 여기서 삭제할 수 없습니다.".into())
            }
            AccountsError::CannotRestoreSelfDeleted => {
                AppError::Conflict("회원이 직접 탈퇴한 계정은 복구할 수 없습니다.".into())
            }
            AccountsError::AccountClosed => {
                AppError::Forbidden("탈퇴했거나 이용이 중지된 계정입니다.".into())
            }
            AccountsError::SignIn(provider, problem) => sign_in(provider, problem),
            AccountsError::TooManyRequests { retry_after_secs } => {
                AppError::TooManyRequests { retry_after_secs }
            }
            AccountsError::Database(err) => err.into(),
            // Every hashing thread busy: a calm "try again in a moment".
            AccountsError::Internal(err) if err.is::<crate::accounts::password::Busy>() => {
                AppError::TooManyRequests {
                    retry_after_secs: 5,
                }
            }
            AccountsError::Internal(err) => AppError::Internal(err),
        }
    }
}
