//! Template filters for the plumbing's values: money, Seoul dates, clock
//! times. A capability's states become words in `crate::labels`, which
//! re-exports these; views bring both into their templates with
//! `use crate::labels as filters;`, then `{{ price|won }}`,
//! `{{ paid_at|kst_date }}`, `{{ order.status|order_status }}`.

use time::OffsetDateTime;

use crate::{money::Won, web::dates};

/// A value a filter reads through any number of references.
pub trait Value<T: Copy> {
    fn value(&self) -> T;
}

#[macro_export]
macro_rules! value_of {
    ($($t:ty),+) => {$(
        impl $crate::web::filters::Value<$t> for $t {
            fn value(&self) -> $t {
                *self
            }
        }
    )+};
}
crate::value_of!(Won, OffsetDateTime, i64);

impl Value<Won> for i64 {
    fn value(&self) -> Won {
        Won(*self)
    }
}

impl<T: Copy, V: Value<T> + ?Sized> Value<T> for &V {
    fn value(&self) -> T {
        (**self).value()
    }
}

/// `50000` -> `50,000원`
#[askama::filter_fn]
pub fn won<V: Value<Won>>(value: V, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(value.value().to_string())
}

/// A catalogue price: `무료`, `50,000원`, or (`None`) sold only inside the
/// nano-degree.
#[askama::filter_fn]
pub fn price(value: &Option<Won>, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(match value {
        Some(Won(0)) => "무료".into(),
        Some(won) => won.to_string(),
        None => "나노 디그리에 포함".into(),
    })
}

/// A time as its day in Seoul: `2026년 11월 26일`.
#[askama::filter_fn]
pub fn kst_date<V: Value<OffsetDateTime>>(
    value: V,
    _: &dyn askama::Values,
) -> askama::Result<String> {
    Ok(dates::date(&value.value()))
}

/// A time in Seoul to the minute: `2026년 11월 26일 13:05`.
#[askama::filter_fn]
pub fn kst_date_time<V: Value<OffsetDateTime>>(
    value: V,
    _: &dyn askama::Values,
) -> askama::Result<String> {
    Ok(dates::date_time(&value.value()))
}

/// A time of day in Seoul: `13:05`.
#[askama::filter_fn]
pub fn kst_time<V: Value<OffsetDateTime>>(
    value: V,
    _: &dyn askama::Values,
) -> askama::Result<String> {
    let k = value.value().to_offset(dates::KST);
    Ok(format!("{:02}:{:02}", k.hour(), k.minute()))
}

/// Access of so many months, as people say it: `2년`, `18개월`.
#[askama::filter_fn]
pub fn months<V: std::fmt::Display>(value: V, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(months_label(value.to_string().parse().unwrap_or(0)))
}

fn months_label(months: i64) -> String {
    match (months / 12, months % 12) {
        (0, m) => format!("{m}개월"),
        (y, 0) => format!("{y}년"),
        (y, m) => format!("{y}년 {m}개월"),
    }
}

#[askama::filter_fn]
pub fn gateway_operation<'a>(value: &'a str, _: &dyn askama::Values) -> askama::Result<&'a str> {
    Ok(match value {
        "ready" => "결제 준비",
        "approve" | "confirm" => "결제 승인",
        "cancel" => "취소·환불",
        "order" | "lookup" | "payment" => "결제 조회",
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_read_as_years_where_they_can() {
        assert_eq!(months_label(24), "2년");
        assert_eq!(months_label(18), "1년 6개월");
        assert_eq!(months_label(3), "3개월");
        assert_eq!(Value::<Won>::value(&&50_000i64).to_string(), "50,000원");
    }
}

impl Value<f64> for f64 {
    fn value(&self) -> f64 {
        *self
    }
}

/// A moment of a video: `75.4` -> `1:15`, `3725` -> `1:02:05`.
#[askama::filter_fn]
pub fn clock<V: Value<f64>>(value: V, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(clock_text(value.value()))
}

pub fn clock_text(secs: f64) -> String {
    let total = if secs.is_finite() && secs > 0.0 {
        secs.floor() as u64
    } else {
        0
    };
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Study time in words: `0` -> `0분`, `5400` -> `1시간 30분`.
#[askama::filter_fn]
pub fn study<V: Value<f64>>(value: V, _: &dyn askama::Values) -> askama::Result<String> {
    let minutes = (value.value().max(0.0) / 60.0).floor() as u64;
    Ok(match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}분"),
        (h, 0) => format!("{h}시간"),
        (h, m) => format!("{h}시간 {m}분"),
    })
}

#[cfg(test)]
mod clock_tests {
    #[test]
    fn clock_and_study_text() {
        assert_eq!(super::clock_text(75.4), "1:15");
        assert_eq!(super::clock_text(3725.0), "1:02:05");
        assert_eq!(super::clock_text(f64::NAN), "0:00");
    }
}

/// Whole seconds, for `data-` attributes tests read.
#[askama::filter_fn]
pub fn round_secs<V: Value<f64>>(value: V, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(format!("{}", value.value().max(0.0).round() as u64))
}
