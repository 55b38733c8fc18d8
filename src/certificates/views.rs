//! What a certificate says to people: the words of its PDF and of its Open
//! Badge, beside the pages in `handlers`. The PDF and badge code lays these
//! out and signs them; it holds no words of its own.

use crate::certificates::{CertificateRow, pdf::Sheet};

/// The lines of a certificate's PDF, top to bottom.
pub struct SheetWords {
    pub heading: &'static str,
    pub statement: String,
    pub facts: String,
    pub code: String,
    pub issuer: &'static str,
}

/// Study time in hours and minutes ("12시간 30분", "3시간"); under an hour
/// it is not worth printing.
pub fn study_time(hours: f64) -> Option<String> {
    let minutes = (hours * 60.0).round() as i64;
    if minutes < 60 {
        return None;
    }
    Some(match minutes % 60 {
        0 => format!("{}시간", minutes / 60),
        m => format!("{}시간 {m}분", minutes / 60),
    })
}

pub fn sheet_words(sheet: &Sheet<'_>) -> SheetWords {
    SheetWords {
        heading: if sheet.nanodegree {
            "나노 디그리 수료증"
        } else {
            "코스 수료증"
        },
        statement: format!(
            "위 사람은 「{}」 과정을 마쳤기에 이 증서를 드립니다.",
            sheet.title
        ),
        facts: match study_time(sheet.hours) {
            Some(time) => format!("학습 시간 {time} · 발급일 {}", sheet.date),
            None => format!("발급일 {}", sheet.date),
        },
        code: format!("확인 번호 {}", sheet.code),
        issuer: "Weaverse 웹 개발 교육",
    }
}

/// The words of a certificate's Open Badge credential.
pub struct BadgeWords {
    pub name: String,
    pub description: String,
    pub criteria: &'static str,
    pub evidence: String,
}

pub fn badge_words(cert: &CertificateRow) -> BadgeWords {
    BadgeWords {
        name: format!("{} 수료증", cert.title),
        description: format!(
            "Weaverse 웹 개발 교육의 「{}」 과정을 마쳤습니다.",
            cert.title
        ),
        criteria: "과정의 모든 토픽을 마치고 미션을 통과했습니다.",
        evidence: format!("확인 번호 {}", cert.code),
    }
}

#[cfg(test)]
mod tests {
    use super::study_time;

    #[test]
    fn study_time_reads_in_hours_and_minutes_and_not_under_an_hour() {
        assert_eq!(study_time(0.0), None);
        assert_eq!(study_time(0.99), None);
        assert_eq!(study_time(1.0).as_deref(), Some("1시간"));
        assert_eq!(study_time(12.5).as_deref(), Some("12시간 30분"));
        assert_eq!(study_time(2.0 + 7.0 / 60.0).as_deref(), Some("2시간 7분"));
    }
}
