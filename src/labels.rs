//! Labels: the one module where a capability's states become words for
//! people, as askama filters. Views bring it into their templates with
//! `use crate::labels as filters;` (it re-exports the plumbing's filters,
//! `web::filters`). Composition layer: it may name any capability.

pub use crate::web::filters::*;

use crate::accounts::Role;
use crate::commerce::{
    model::{GatewayKind, OrderStatus, RefundState},
    refund::RefundRefusal,
};

crate::value_of!(OrderStatus, GatewayKind, RefundState, Role);

#[askama::filter_fn]
pub fn gateway<V: Value<GatewayKind>>(
    value: V,
    _: &dyn askama::Values,
) -> askama::Result<&'static str> {
    Ok(gateway_name(value.value()))
}

/// A gateway call's operation in words (`approve` -> `결제 승인`).

#[askama::filter_fn]
pub fn order_status<V: Value<OrderStatus>>(
    value: V,
    _: &dyn askama::Values,
) -> askama::Result<&'static str> {
    Ok(match value.value() {
        OrderStatus::Pending => "결제 대기",
        OrderStatus::Paid => "결제 완료",
        OrderStatus::PartiallyRefunded => "부분 환불",
        OrderStatus::Refunded => "환불 완료",
        OrderStatus::Failed => "결제 실패",
        OrderStatus::Cancelled => "취소",
    })
}

/// `KR` -> `대한민국`.
#[askama::filter_fn]
pub fn country<'a>(value: &'a str, _: &dyn askama::Values) -> askama::Result<&'a str> {
    Ok(crate::commerce::model::country_name(value))
}

/// A gateway as learners know it.
pub fn gateway_name(kind: GatewayKind) -> &'static str {
    match kind {
        GatewayKind::Demo => "테스트 결제",
        GatewayKind::KakaoPay => "카카오페이",
        GatewayKind::Toss => "토스페이먼츠",
    }
}

#[askama::filter_fn]
pub fn refund_state<V: Value<RefundState>>(
    value: V,
    _: &dyn askama::Values,
) -> askama::Result<&'static str> {
    Ok(match value.value() {
        RefundState::Requested => "처리 중",
        RefundState::Succeeded => "환불 완료",
        RefundState::Failed => "실패",
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

/// A role as people say it.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Student => "수강생",
        Role::Tutor => "튜터",
        Role::Admin => "관리자",
    }
}

#[askama::filter_fn]
pub fn role<V: Value<Role>>(value: V, _: &dyn askama::Values) -> askama::Result<&'static str> {
    Ok(role_name(value.value()))
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
    use super::payment_method_name;

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
