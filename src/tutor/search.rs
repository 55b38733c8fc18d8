//! Search terms that work for Korean: PostgreSQL's `simple` parser keeps
//! "변수를" whole, so a question about "변수" would not find it. Each
//! Hangul word is indexed and asked as its character bigrams instead, and
//! other words lower-cased; both sides go through [`terms`].

/// Question words that say nothing about the lesson (as bigrams).
const QUIET: &[&str] = &[
    "무엇", "엇인", "인가", "가요", "어떻", "떻게", "하나", "나요", "뭔가", "뭐예", "예요", "이에",
    "에요", "입니", "니다", "있나", "는데", "알려", "려주", "주세", "세요", "궁금", "금해", "해요",
    "뭐가", "왜요", "인지", "건가",
];

fn is_hangul(c: char) -> bool {
    ('\u{ac00}'..='\u{d7a3}').contains(&c) || ('\u{3131}'..='\u{318e}').contains(&c)
}

/// The search terms of `text`, in order, with repeats. A short Hangul
/// run right after a Latin word is its particle ("map은", "API를",
/// "typeof로") and says nothing: it is left out.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<char> = word.chars().collect();
        let mut start = 0;
        let mut after_latin = false;
        while start < chars.len() {
            let hangul = is_hangul(chars[start]);
            let mut end = start;
            while end < chars.len() && is_hangul(chars[end]) == hangul {
                end += 1;
            }
            let run = &chars[start..end];
            if hangul {
                if !(after_latin && run.len() <= 2) {
                    if run.len() == 1 {
                        out.push(run[0].to_string());
                    } else {
                        out.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
                    }
                }
            } else if run.len() > 1 || run.iter().all(|c| c.is_ascii_digit()) {
                out.push(run.iter().collect::<String>().to_lowercase());
            }
            after_latin = !hangul;
            start = end;
        }
    }
    out
}

/// The terms of a passage, as the text PostgreSQL makes its `tsvector` of.
pub fn document(text: &str) -> String {
    terms(text).join(" ")
}

/// A `to_tsquery('simple', ..)` that matches any of the question's terms
/// (`None` when it has none). Terms are letters and digits only, so no
/// operator can come from the question.
pub fn query(question: &str) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    let picked: Vec<String> = terms(question)
        .into_iter()
        .filter(|t| !QUIET.contains(&t.as_str()))
        .filter(|t| seen.insert(t.clone()))
        .take(40)
        .collect();
    (!picked.is_empty()).then(|| picked.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_words_become_bigrams_so_particles_do_not_hide_them() {
        assert_eq!(terms("변수를 선언"), vec!["변수", "수를", "선언"]);
        assert!(terms("변수는 무엇인가요?").contains(&"변수".to_string()));
        assert_eq!(terms("let과 const, x"), vec!["let", "const"]);
        assert_eq!(
            terms("typeof는 map으로 API를"),
            vec!["typeof", "map", "api"]
        );
        assert_eq!(terms("HTML5 태그 값"), vec!["html5", "태그", "값"]);
    }

    #[test]
    fn a_query_is_plain_terms_joined_by_or_and_skips_question_words() {
        assert_eq!(query("변수는 무엇인가요?").as_deref(), Some("변수 | 수는"));
        assert_eq!(
            query("'); DROP TABLE x; -- & | !").as_deref(),
            Some("drop | table")
        );
        assert_eq!(query("?? !!"), None);
    }
}
