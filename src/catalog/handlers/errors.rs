//! The one place catalogue and studio errors get a status and Korean words.

use crate::{
    catalog::error::{CatalogError, Invalid, Missing, Problem, Work},
    error::{AppError, FieldErrors},
    web::form::FormErrors,
};

/// The Korean message for one field's problem.
fn message(field: &str, problem: Problem) -> String {
    let label = match field {
        "title" => "제목",
        "summary" => "한 줄 소개",
        "description" => "설명",
        "body" => "본문",
        _ => "입력",
    };
    match (field, problem) {
        ("title", Problem::Missing) => "제목을 입력해 주세요.".into(),
        ("title", Problem::TooLong { max }) => format!("제목은 {max}자 이하로 입력해 주세요."),
        (_, Problem::TooLong { max }) => format!("{label}은(는) {max}자 이하로 입력해 주세요."),
        ("price_won", Problem::Missing) => "가격을 입력해 주세요.".into(),
        ("price_won", _) => "가격은 0원 이상 1억 원 이하의 숫자로 입력해 주세요.".into(),
        ("category", _) => "분류를 선택해 주세요.".into(),
        ("skill_level", _) => "난이도를 선택해 주세요.".into(),
        ("kind", _) => "종류를 선택해 주세요.".into(),
        ("duration_minutes", _) => "길이는 0~600분 사이의 숫자로 입력해 주세요.".into(),
        ("access_months", _) => "수강 기간은 1~120개월 사이로 입력해 주세요.".into(),
        (_, Problem::Missing) => format!("{label}을(를) 입력해 주세요."),
        (_, Problem::NotChosen) => "항목을 선택해 주세요.".into(),
        (_, Problem::NotOneLine) => {
            format!("{label}에는 줄바꿈이나 보이지 않는 문자를 쓸 수 없습니다.")
        }
        (_, Problem::OutOfRange) => "값을 확인해 주세요.".into(),
    }
}

impl From<Invalid> for FieldErrors {
    fn from(invalid: Invalid) -> Self {
        invalid.in_words(message)
    }
}

impl From<Invalid> for FormErrors {
    fn from(invalid: Invalid) -> Self {
        FieldErrors::from(invalid).into()
    }
}

/// What publishing needs, in words, one line each, under the `publish`
/// field the editors show above their publish button.
pub fn missing_fields(missing: &[Missing]) -> FieldErrors {
    let messages = missing
        .iter()
        .map(|m| {
            match m {
                Missing::Description => "설명을 입력해 주세요.",
                Missing::Price => "가격을 정하거나 커리큘럼에 넣어 주세요.",
                Missing::PublishedTopic => "공개된 토픽이 하나 이상 있는 공개 강의가 필요합니다.",
                Missing::PublishedCourse => "공개된 코스를 하나 이상 넣어 주세요.",
                Missing::Cover => "표지 이미지를 올려 주세요.",
                Missing::Video => "영상을 올리고 변환이 끝난 뒤에 공개할 수 있습니다.",
            }
            .to_string()
        })
        .collect();
    FieldErrors::from([("publish", messages)])
}

impl From<CatalogError> for AppError {
    fn from(err: CatalogError) -> Self {
        match err {
            CatalogError::NotFound => AppError::NotFound,
            CatalogError::NotAuthor(Work::Course) => {
                AppError::Forbidden("이 코스를 만든 튜터나 관리자만 수정할 수 있습니다.".into())
            }
            CatalogError::NotAuthor(Work::Curriculum) => {
                AppError::Forbidden("이 커리큘럼을 만든 튜터나 관리자만 수정할 수 있습니다.".into())
            }
            CatalogError::Invalid(invalid) => AppError::Validation(invalid.into()),
            CatalogError::NotVideo => AppError::Conflict(
                "영상 토픽에만 영상을 올릴 수 있습니다. 토픽의 종류를 확인해 주세요.".into(),
            ),
            CatalogError::Incomplete(missing) => AppError::Validation(missing_fields(&missing)),
            CatalogError::Database(err) => err.into(),
        }
    }
}
