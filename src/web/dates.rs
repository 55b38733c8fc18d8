//! Times are stored in UTC and shown in Asia/Seoul (UTC+9, no daylight saving).

use time::{Date, OffsetDateTime, UtcOffset};

pub const KST: UtcOffset = time::macros::offset!(+9);

/// `2026년 11월 26일`
pub fn date(t: &OffsetDateTime) -> String {
    let k = t.to_offset(KST);
    format!("{}년 {}월 {}일", k.year(), u8::from(k.month()), k.day())
}

/// `2026년 11월 26일 13:05`
pub fn date_time(t: &OffsetDateTime) -> String {
    let k = t.to_offset(KST);
    format!("{} {:02}:{:02}", date(t), k.hour(), k.minute())
}

/// `2026-11-26 13:05:09` in Seoul time: what a spreadsheet reads as a date.
pub fn sheet(t: &OffsetDateTime) -> String {
    let k = t.to_offset(KST);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        k.year(),
        u8::from(k.month()),
        k.day(),
        k.hour(),
        k.minute(),
        k.second()
    )
}

/// A day as a form's date field sends it (`2026-12-05`).
pub fn parse_day(raw: &str) -> Option<Date> {
    Date::parse(
        raw.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// `from=` and `to=` of a list's filter: Seoul days, kept as typed so the
/// form shows them again. A list's query flattens it in.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct DaysQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl DaysQuery {
    /// The first day asked for, if it reads as one.
    pub fn first(&self) -> Option<Date> {
        parse_day(&self.from)
    }

    /// The last day asked for (inclusive), if it reads as one.
    pub fn last(&self) -> Option<Date> {
        parse_day(&self.to)
    }
}

/// Today in Seoul.
pub fn today() -> Date {
    OffsetDateTime::now_utc().to_offset(KST).date()
}

/// Midnight of a Seoul calendar day.
pub fn day_start(day: Date) -> OffsetDateTime {
    day.midnight().assume_offset(KST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_evening_is_the_next_day_in_seoul() {
        let t = time::macros::datetime!(2026-11-25 16:05 UTC);
        assert_eq!(date(&t), "2026년 11월 26일");
        assert_eq!(date_time(&t), "2026년 11월 26일 01:05");
        assert_eq!(sheet(&t), "2026-11-26 01:05:00");
        assert_eq!(
            day_start(time::macros::date!(2026 - 11 - 26)),
            time::macros::datetime!(2026-11-25 15:00 UTC)
        );
    }
}
