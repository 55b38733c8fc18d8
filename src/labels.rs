//! Labels: the one module where a capability's states become words for
//! people. Every state enum has a `Label`; templates say it with the one
//! filter `|label` (`{{ job.status|label }}`). Views bring the filters in
//! with `use crate::labels as filters;` (it re-exports the plumbing's
//! filters, `web::filters`). Composition layer: it may name any capability.

pub use crate::web::filters::*;

crate::value_of!(GatewayKind);

use crate::accounts::{Provider, Role, model::SignInMethod, tokens::TokenScope};
use crate::assessments::{Verdict, model::MissionKind, sandbox::Language};
use crate::catalog::{
    model::{Category, PriceLevel, SkillLevel, TopicKind},
    service::StepStatus,
};
use crate::certificates::Status as CertificateStatus;
use crate::commerce::{
    model::{GatewayKind, OrderDates, OrderStatus, RefundState},
    refund::RefundRefusal,
};
use crate::jobs::JobStatus;
use crate::learning::watch::EventKind;
use crate::media::VideoState;

/// A state in words.
pub trait Label {
    fn label(&self) -> &'static str;
}

impl<T: Label + ?Sized> Label for &T {
    fn label(&self) -> &'static str {
        (**self).label()
    }
}

/// `{{ value|label }}`: any state in words.
#[askama::filter_fn]
pub fn label<V: Label>(value: V, _: &dyn askama::Values) -> askama::Result<&'static str> {
    Ok(value.label())
}

/// Declares the words of each state of an enum.
macro_rules! labels {
    ($($ty:ty { $($variant:ident => $words:literal),+ $(,)? })+) => {$(
        impl Label for $ty {
            fn label(&self) -> &'static str {
                match self { $(<$ty>::$variant => $words),+ }
            }
        }
    )+};
}

labels! {
    TokenScope {
        Read => "읽기 전용",
        ReadWrite => "읽기와 쓰기",
    }
    Category {
        Fullstack => "풀스택",
        WebBasics => "웹 기초",
        Frontend => "프론트엔드",
        Backend => "백엔드",
        Tools => "개발 도구",
        Devops => "배포·운영",
    }
    SkillLevel {
        Beginner => "입문",
        Intermediate => "중급",
        Advanced => "고급",
    }
    PriceLevel {
        Free => "무료",
        Low => "3만 원 미만",
        Mid => "3만~10만 원",
        High => "10만 원 이상",
        Bundle => "나노 디그리 전용",
    }
    TopicKind {
        Video => "영상",
        Reading => "읽기",
        Mission => "미션",
    }
    StepStatus {
        NotPurchased => "구매 전",
        Purchased => "수강 가능",
        InProgress => "학습 중",
        Completed => "완료",
    }
    MissionKind {
        Midterm => "중간 미션",
        Final => "기말 미션",
        Practice => "연습 미션",
    }
    Verdict {
        Pending => "채점 중",
        Accepted => "통과",
        WrongAnswer => "틀린 답",
        TimeLimit => "시간 초과",
        MemoryLimit => "메모리 초과",
        RuntimeError => "실행 오류",
        CompileError => "문법 오류",
        HiddenFailed => "숨은 테스트 실패",
    }
    OrderDates {
        Ordered => "주문일",
        Paid => "결제일",
        Refunded => "환불일",
    }
    CertificateStatus {
        Valid => "유효",
        Revoked => "취소됨",
    }
    JobStatus {
        Pending => "대기",
        Running => "실행 중",
        Done => "완료",
        Failed => "실패",
        Cancelled => "취소됨",
    }
    EventKind {
        Play => "재생",
        Pause => "일시정지",
        Seek => "이동",
        Heartbeat => "재생 중",
        Ended => "끝까지 봄",
        RateChange => "속도 변경",
    }
    VideoState {
        Uploaded => "변환 대기",
        Processing => "변환 중",
        Ready => "재생 가능",
        Failed => "변환 실패",
    }
    OrderStatus {
        Pending => "결제 대기",
        Paid => "결제 완료",
        PartiallyRefunded => "부분 환불",
        Refunded => "환불 완료",
        Failed => "결제 실패",
        Cancelled => "취소",
    }
    GatewayKind {
        Demo => "테스트 결제",
        KakaoPay => "카카오페이",
        Toss => "토스페이먼츠",
    }
    RefundState {
        Requested => "처리 중",
        Succeeded => "환불 완료",
        Failed => "실패",
    }
    Language {
        JavaScript => "JavaScript (Node.js)",
        Python => "Python 3",
    }
    SignInMethod {
        Password => "비밀번호",
        Google => "Google",
        Kakao => "카카오",
        Naver => "네이버",
        EmailLink => "인증 메일 링크",
    }
    Provider {
        Google => "Google",
        Kakao => "카카오",
        Naver => "네이버",
    }
    Role {
        Student => "수강생",
        Tutor => "튜터",
        Admin => "관리자",
    }
}

/// `{{ session.user_agent|device }}`: `Chrome · Android`.
#[askama::filter_fn]
pub fn device(user_agent: &str, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(device_text(user_agent))
}

/// A short description of a browser from its User-Agent.
pub fn device_text(user_agent: &str) -> String {
    let ua = user_agent.to_lowercase();
    let browser = if ua.contains("edg/") {
        "Edge"
    } else if ua.contains("samsungbrowser") {
        "삼성 인터넷"
    } else if ua.contains("whale") {
        "Whale"
    } else if ua.contains("chrome") || ua.contains("chromium") {
        "Chrome"
    } else if ua.contains("firefox") {
        "Firefox"
    } else if ua.contains("safari") {
        "Safari"
    } else if ua.is_empty() {
        "알 수 없는 브라우저"
    } else {
        "기타 브라우저"
    };
    let os = if ua.contains("android") {
        "Android"
    } else if ua.contains("iphone") || ua.contains("ipad") {
        "iOS"
    } else if ua.contains("windows") {
        "Windows"
    } else if ua.contains("mac os") {
        "macOS"
    } else if ua.contains("linux") {
        "Linux"
    } else {
        ""
    };
    if os.is_empty() {
        browser.to_string()
    } else {
        format!("{browser} · {os}")
    }
}

/// `50,000원`: an amount as people read it (the words of money live here).
impl std::fmt::Display for crate::money::Won {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}원", crate::money::thousands(self.0))
    }
}

/// A person's nickname; a self-deleted account keeps none.
#[askama::filter_fn]
pub fn nickname<'a>(value: &'a str, _: &dyn askama::Values) -> askama::Result<&'a str> {
    Ok(if value.is_empty() {
        "탈퇴한 사용자"
    } else {
        value
    })
}

/// `95 * 60` seconds -> `1시간 35분` (minutes rounded up).
#[askama::filter_fn]
pub fn duration<V: Value<i64>>(secs: V, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(duration_text(secs.value()))
}

pub fn duration_text(secs: i64) -> String {
    let minutes = (secs + 59) / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}분"),
        (h, 0) => format!("{h}시간"),
        (h, m) => format!("{h}시간 {m}분"),
    }
}

/// `KR` -> `대한민국`.
#[askama::filter_fn]
pub fn country<'a>(value: &'a str, _: &dyn askama::Values) -> askama::Result<&'a str> {
    Ok(country_name(value))
}

/// The Korean name of a country code (the code itself when unknown).
pub fn country_name(code: &str) -> &str {
    match code {
        "KR" => "대한민국",
        "US" => "미국",
        "JP" => "일본",
        "CN" => "중국",
        "TW" => "대만",
        "HK" => "홍콩",
        "SG" => "싱가포르",
        "VN" => "베트남",
        "TH" => "태국",
        "PH" => "필리핀",
        "ID" => "인도네시아",
        "MY" => "말레이시아",
        "IN" => "인도",
        "AU" => "오스트레일리아",
        "NZ" => "뉴질랜드",
        "CA" => "캐나다",
        "GB" => "영국",
        "DE" => "독일",
        "FR" => "프랑스",
        other => other,
    }
}

/// What choosing a gateway at checkout means.
#[askama::filter_fn]
pub fn gateway_note<V: Value<GatewayKind>>(
    value: V,
    _: &dyn askama::Values,
) -> askama::Result<&'static str> {
    Ok(match value.value() {
        GatewayKind::Demo => "실제 돈이 나가지 않는 시험용 결제입니다.",
        GatewayKind::KakaoPay => "카카오페이 결제 창으로 이동합니다.",
        GatewayKind::Toss => "토스페이먼츠 결제 창이 열립니다.",
    })
}

/// Why a refund cannot be made, for the learner.
pub fn refusal_text(why: RefundRefusal) -> &'static str {
    match why {
        RefundRefusal::AlreadyRefunded => "이미 환불된 결제입니다.",
        RefundRefusal::PastHalfThePeriod => "수강 기간의 절반이 지나 환불할 수 없습니다.",
        RefundRefusal::NothingLeft => "환불할 금액이 없습니다.",
    }
}

/// A refused watch event in words (the player's reply, the admin's event
/// editor and the API all say it so).
pub fn watch_refusal_text(refused: crate::learning::watch::Refusal) -> &'static str {
    use crate::learning::watch::Refusal::*;
    match refused {
        Empty => "보낸 기록이 없습니다.",
        TooMany => "한 번에 보낼 수 있는 기록 수를 넘었습니다.",
        Kind(_) => "알 수 없는 기록 종류가 있습니다.",
        Position(_) => "재생 위치가 영상 길이를 벗어났습니다.",
        Duration(_) => "영상 길이가 맞지 않습니다.",
        Rate(_) => "재생 속도는 0.5배에서 2배 사이여야 합니다.",
        Sequence(_) => "기록 번호가 올바르지 않습니다.",
    }
}

/// A code submission's note (`assessments::service::COMPILE_ERROR`, ...).
#[askama::filter_fn]
pub fn submission_note<'a>(value: &'a str, _: &dyn askama::Values) -> askama::Result<&'a str> {
    use crate::assessments::service::{COMPILE_ERROR, GRADER_FAILED};
    Ok(match value {
        COMPILE_ERROR => "코드에 문법 오류가 있습니다.",
        GRADER_FAILED => {
            "채점기가 이 제출을 실행하지 못했습니다. 관리자에게 알렸습니다. 다시 제출해 주세요."
        }
        other => other,
    })
}

/// A payment's method code (`demo`, `kakaopay:CARD`, `toss:카드`) in words.
#[askama::filter_fn]
pub fn payment_method(value: &str, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(payment_method_name(value))
}

pub fn payment_method_name(code: &str) -> String {
    let (gateway, method) = code.split_once(':').unwrap_or((code, ""));
    match (gateway, method) {
        ("demo", _) => "테스트 결제".into(),
        ("kakaopay", "CARD") => "카카오페이 (카드)".into(),
        ("kakaopay", "MONEY") => "카카오페이 (머니)".into(),
        ("kakaopay", _) => "카카오페이".into(),
        ("toss", "") => "토스페이먼츠".into(),
        ("toss", method) => format!("토스페이먼츠 ({method})"),
        _ => code.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::{device_text, duration_text, payment_method_name};

    #[test]
    fn amounts_and_countries_read_as_people_say_them() {
        assert_eq!(crate::money::Won(50_000).to_string(), "50,000원");
        assert_eq!(super::country_name("KR"), "대한민국");
        assert_eq!(super::country_name("ZZ"), "ZZ");
    }

    #[test]
    fn a_scrubbed_account_is_named_for_what_it_was() {
        use askama::Template;
        #[derive(Template)]
        #[template(source = "{{ name|nickname }}", ext = "txt")]
        struct Name<'a> {
            name: &'a str,
        }
        mod filters {
            pub use crate::labels::*;
        }
        assert_eq!(Name { name: "" }.render().unwrap(), "탈퇴한 사용자");
        assert_eq!(Name { name: "민지" }.render().unwrap(), "민지");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(0), "0분");
        assert_eq!(duration_text(61), "2분");
        assert_eq!(duration_text(3600), "1시간");
        assert_eq!(duration_text(95 * 60), "1시간 35분");
    }

    #[test]
    fn devices_are_named_for_people() {
        assert_eq!(
            device_text(
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
            ),
            "Chrome · Android"
        );
        assert_eq!(
            device_text(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1"
            ),
            "Safari · iOS"
        );
        assert_eq!(device_text(""), "알 수 없는 브라우저");
    }

    #[test]
    fn payment_method_codes_read_as_people_know_them() {
        assert_eq!(payment_method_name("demo"), "테스트 결제");
        assert_eq!(payment_method_name("kakaopay:CARD"), "카카오페이 (카드)");
        assert_eq!(payment_method_name("kakaopay"), "카카오페이");
        assert_eq!(
            payment_method_name("toss:간편결제"),
            "토스페이먼츠 (간편결제)"
        );
        assert_eq!(payment_method_name("toss"), "토스페이먼츠");
    }
}
