//! The one place commerce's errors get a status and Korean words.

use axum::response::Response;

use crate::{
    commerce::error::{AddressProblem, CommerceError, CommerceResult},
    error::{AppError, AppResult, FieldErrors},
    labels::{Label, refusal_text},
    web::{PageCtx, dates, flash::Flash},
};

fn address_field(problem: AddressProblem) -> (&'static str, &'static str) {
    match problem {
        AddressProblem::CountryCode => ("country", "목록에서 국가를 골라 주세요."),
        AddressProblem::MainMissing => ("main", "주소를 입력해 주세요."),
        AddressProblem::MainTooLong => ("main", "주소는 200자 이하로 입력해 주세요."),
        AddressProblem::DetailTooLong => ("detail", "상세 주소는 200자 이하로 입력해 주세요."),
        AddressProblem::PostalCode => (
            "postal_code",
            "우편번호를 확인해 주세요. 국내 우편번호는 숫자 5자리입니다.",
        ),
    }
}

/// What a learner reads for a refusal; `None` for errors that are not one
/// (not found, invalid forms, infrastructure).
fn refusal(err: &CommerceError) -> Option<String> {
    Some(match err {
        CommerceError::NotSoldAlone => {
            "이 코스는 나노 디그리에 포함되어 있어 단독으로 구매할 수 없습니다.".into()
        }
        CommerceError::Free => "무료 코스는 구매하지 않아도 됩니다.".into(),
        CommerceError::AlreadyOwned { until } => format!(
            "이미 수강 중인 상품입니다 ({}까지). 만료 30일 전부터 연장할 수 있습니다.",
            dates::date(until)
        ),
        CommerceError::AlreadyInCart => "이미 장바구니에 담긴 상품입니다.".into(),
        CommerceError::CartEmpty => "장바구니가 비어 있습니다.".into(),
        CommerceError::Unavailable { title } => {
            format!("{title}은(는) 지금 구매할 수 없습니다. 장바구니에서 빼 주세요.")
        }
        CommerceError::TotalTooLarge => "금액이 너무 큽니다.".into(),
        CommerceError::OrderClosed => "이미 끝난 주문입니다. 다시 결제해 주세요.".into(),
        CommerceError::WrongGateway => "주문한 결제 수단과 다릅니다.".into(),
        CommerceError::AmountMismatch { .. } => {
            "결제 금액이 주문 금액과 달라 결제를 완료하지 않았습니다.".into()
        }
        CommerceError::StartFailed(_) => {
            "결제를 시작하지 못했습니다. 잠시 후 다시 시도해 주세요.".into()
        }
        CommerceError::PaymentRefused { gateway, message } => {
            format!("{} 결제가 승인되지 않았습니다: {message}", gateway.label())
        }
        CommerceError::PaymentIncomplete(status) => {
            format!(
                "결제가 아직 완료되지 않았습니다 ({status}). 잠시 후 주문 내역을 확인해 주세요."
            )
        }
        CommerceError::RefundRefused(why) => refusal_text(*why).into(),
        CommerceError::RefundAmountOutOfRange { max } => {
            format!("환불 금액은 1원 이상 {max} 이하로 입력해 주세요.")
        }
        CommerceError::RefundFailed(message) => {
            format!("결제 대행사에서 환불을 처리하지 못했습니다: {message}")
        }
        CommerceError::RefundReasonTooLong { max } => {
            format!("환불 사유는 {max}자 이하로 입력해 주세요.")
        }
        CommerceError::NotFound
        | CommerceError::InvalidAddress(_)
        | CommerceError::EmailUnverified
        | CommerceError::AddressMissing
        | CommerceError::RefundPolicyNotAgreed
        | CommerceError::GatewayMissing
        | CommerceError::Database(_)
        | CommerceError::Internal(_) => return None,
    })
}

/// The form's messages, for errors that belong beside a form's fields.
pub fn form_errors(err: &CommerceError) -> Option<FieldErrors> {
    let mut fields = FieldErrors::new();
    match err {
        CommerceError::InvalidAddress(problems) => {
            for problem in problems {
                let (field, message) = address_field(*problem);
                fields.entry(field).or_default().push(message.into());
            }
        }
        CommerceError::AddressMissing => {
            fields.insert("address_id", vec!["청구지 주소를 선택해 주세요.".into()]);
        }
        CommerceError::GatewayMissing => {
            fields.insert("gateway", vec!["결제 수단을 선택해 주세요.".into()]);
        }
        CommerceError::RefundPolicyNotAgreed => {
            fields.insert(
                "agree_refund",
                vec!["환불 규정과 청약 철회 안내에 동의해야 결제할 수 있습니다.".into()],
            );
        }
        _ => return None,
    }
    Some(fields)
}

impl From<CommerceError> for AppError {
    fn from(err: CommerceError) -> Self {
        if let Some(message) = refusal(&err) {
            return AppError::Conflict(message);
        }
        if let Some(fields) = form_errors(&err) {
            return AppError::Validation(fields);
        }
        match err {
            CommerceError::NotFound => AppError::NotFound,
            CommerceError::EmailUnverified => AppError::Forbidden(
                "이메일 인증을 마친 뒤 결제할 수 있습니다. 내 정보에서 인증 메일을 다시 받을 수 있습니다."
                    .into(),
            ),
            CommerceError::Database(err) => err.into(),
            CommerceError::Internal(err) => AppError::Internal(err),
            other => AppError::Internal(anyhow::anyhow!("unmapped commerce error: {other}")),
        }
    }
}

/// The end of every commerce write: success goes to `ok`'s page with its
/// message; a refusal goes back to `back` with the reason as a warning;
/// anything else is an error page.
pub fn outcome<T>(
    ctx: &PageCtx,
    result: CommerceResult<T>,
    back: &str,
    ok: impl FnOnce(T) -> (String, Flash),
) -> AppResult<Response> {
    match result {
        Ok(value) => {
            let (to, flash) = ok(value);
            Ok(ctx.redirect(&to, flash))
        }
        Err(err) => refused(ctx, err, back),
    }
}

/// A refusal goes back to `back` with the reason as a warning; anything
/// else is an error page.
pub fn refused(ctx: &PageCtx, err: CommerceError, back: &str) -> AppResult<Response> {
    match refusal(&err) {
        Some(message) => Ok(ctx.redirect(back, Flash::warning(message))),
        None => Err(err.into()),
    }
}
