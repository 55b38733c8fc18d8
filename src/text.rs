//! Where a person's text becomes ours. Every form field and query value
//! passes [`clean`] on its way in (`web::Form` and `web::Query` call it, and
//! axum's own extractors are banned in `clippy.toml`), so no handler can
//! forget it; names and titles also pass [`single_line`].

use unicode_normalization::UnicodeNormalization;

use crate::error::FieldErrors;

/// The longest value any field may carry (a topic's reading text is the
/// longest we take). Each domain type bounds its own fields far lower.
pub const MAX_FIELD_CHARS: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not UTF-8")]
    Encoding,
    #[error("a control or invisible formatting character")]
    Control,
    #[error("longer than any field may be")]
    TooLong,
}

/// Line breaks become `\n` and the text Unicode NFC. Refused: NUL and the
/// other control characters (tab and line breaks are text), bidirectional
/// embeddings, overrides and isolates (they make text read other than it
/// is stored), byte-order marks, interlinear annotations and noncharacters;
/// and anything longer than [`MAX_FIELD_CHARS`].
pub fn clean(raw: &str) -> Result<String, Refused> {
    if raw.chars().any(forbidden) {
        return Err(Refused::Control);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    let mut count = 0;
    let unified = std::iter::from_fn(|| {
        let c = chars.next()?;
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            return Some('\n');
        }
        Some(c)
    });
    for c in unified.nfc() {
        count += 1;
        if count > MAX_FIELD_CHARS {
            return Err(Refused::TooLong);
        }
        out.push(c);
    }
    Ok(out)
}

fn forbidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{fdd0}'..='\u{fdef}')
        || (c as u32 & 0xfffe) == 0xfffe
}

/// For names and titles, on top of [`clean`]: one line, no tabs, and no
/// zero-width or invisible characters that make two names look alike.
pub fn single_line(s: &str) -> bool {
    !s.chars().any(|c| {
        matches!(c,
            '\n' | '\t' | '\u{ad}' | '\u{34f}' | '\u{180e}' | '\u{200b}'..='\u{200d}'
            | '\u{2060}'..='\u{2064}' | '\u{3164}' | '\u{115f}' | '\u{1160}' | '\u{ffa0}')
    })
}

/// Every field problem of one form, by form field name. `P` is the
/// capability's own word for what is wrong; its handlers give the words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid<P>(pub Vec<(&'static str, P)>);

impl<P> Default for Invalid<P> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<P> Invalid<P> {
    pub fn push(&mut self, field: &'static str, problem: P) {
        self.0.push((field, problem));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn one(field: &'static str, problem: P) -> Self {
        Self(vec![(field, problem)])
    }

    /// The messages by field, each problem put in words by `words`.
    pub fn in_words(self, words: impl Fn(&'static str, P) -> String) -> FieldErrors {
        let mut fields = FieldErrors::new();
        for (field, problem) in self.0 {
            fields.entry(field).or_default().push(words(field, problem));
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_normalised_and_line_breaks_unified() {
        // "한" typed as three jamo becomes one syllable (NFC).
        assert_eq!(clean("\u{1112}\u{1161}\u{11ab}").unwrap(), "한");
        assert_eq!(clean("a\r\nb\rc\nd").unwrap(), "a\nb\nc\nd");
        assert_eq!(clean("탭\t그대로").unwrap(), "탭\t그대로");
    }

    #[test]
    fn control_and_direction_characters_are_refused() {
        for bad in [
            "a\0b",
            "\u{7}",
            "\u{1b}[31m",
            "\u{85}",
            "관리자\u{202e}",
            "\u{2066}x",
            "\u{feff}x",
            "\u{ffff}",
        ] {
            assert_eq!(clean(bad), Err(Refused::Control), "{bad:?}");
        }
        assert_eq!(
            clean(&"가".repeat(MAX_FIELD_CHARS + 1)),
            Err(Refused::TooLong)
        );
        assert!(clean(&"가".repeat(MAX_FIELD_CHARS)).is_ok());
    }

    #[test]
    fn names_are_one_visible_line() {
        assert!(single_line("김민수"));
        assert!(!single_line("김민\u{200b}수"));
        assert!(!single_line("제목\n둘째 줄"));
        assert!(!single_line("\u{3164}"));
    }
}
