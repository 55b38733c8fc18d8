//! WebVTT captions: checked before they are stored, so the player never
//! meets a file it cannot read.

/// Largest captions file taken.
pub const MAX_BYTES: usize = 1024 * 1024;

/// What is wrong with a captions file (the studio puts it into words).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaptionProblem {
    #[error("larger than 1 MB")]
    TooLarge,
    #[error("not UTF-8 text")]
    NotUtf8,
    #[error("contains a NUL character")]
    Nul,
    #[error("the first line is not WEBVTT")]
    NoHeader,
    #[error("line {0}: the cue ends before it starts")]
    Backwards(usize),
    #[error("line {0}: not a timestamp")]
    BadTime(usize),
    #[error("no cues")]
    NoCues,
    /// Captions sent for a topic that has no video yet.
    #[error("no video to caption")]
    NoVideo,
    /// No known language was chosen.
    #[error("no language")]
    NoLanguage,
}

/// The file as we store it (UTF-8, no BOM, `\n` line ends), or why not.
pub fn validate(raw: &[u8]) -> Result<String, CaptionProblem> {
    if raw.len() > MAX_BYTES {
        return Err(CaptionProblem::TooLarge);
    }
    let text = std::str::from_utf8(raw).map_err(|_| CaptionProblem::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    if text.contains('\0') {
        return Err(CaptionProblem::Nul);
    }
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    if !(first == "WEBVTT" || first.starts_with("WEBVTT ") || first.starts_with("WEBVTT\t")) {
        return Err(CaptionProblem::NoHeader);
    }
    let mut cues = 0;
    for (n, line) in text.lines().enumerate() {
        if !line.contains("-->") {
            continue;
        }
        let mut parts = line.splitn(2, "-->");
        let start = parts.next().map(str::trim).and_then(timestamp);
        let end = parts
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(timestamp);
        match (start, end) {
            (Some(start), Some(end)) if end > start => cues += 1,
            (Some(_), Some(_)) => {
                return Err(CaptionProblem::Backwards(n + 1));
            }
            _ => return Err(CaptionProblem::BadTime(n + 1)),
        }
    }
    if cues == 0 {
        return Err(CaptionProblem::NoCues);
    }
    Ok(text)
}

/// `hh:mm:ss.ttt` or `mm:ss.ttt` in milliseconds.
fn timestamp(raw: &str) -> Option<u64> {
    let (clock, millis) = raw.split_once('.')?;
    if millis.len() != 3 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let numbers: Option<Vec<u64>> = parts
        .iter()
        .map(|p| {
            (p.len() >= 2 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect();
    let numbers = numbers?;
    let (h, m, s) = match numbers.as_slice() {
        [m, s] => (0, *m, *s),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if m > 59 || s > 59 {
        return None;
    }
    Some(((h * 60 + m) * 60 + s) * 1000 + millis.parse::<u64>().ok()?)
}

/// One caption cue: when it shows (milliseconds) and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

/// The cues of a stored (validated) captions file, in order, their text
/// without markup tags (`<i>`, `<v Name>`) on one line.
pub fn cues(text: &str) -> Vec<Cue> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((start, rest)) = line.split_once("-->") else {
            continue;
        };
        let start = timestamp(start.trim());
        let end = rest.split_whitespace().next().and_then(timestamp);
        let (Some(start_ms), Some(end_ms)) = (start, end) else {
            continue;
        };
        let mut words = Vec::new();
        while let Some(next) = lines.peek() {
            if next.trim().is_empty() {
                break;
            }
            words.push(strip_tags(next.trim()));
            lines.next();
        }
        let text = words.join(" ");
        if !text.trim().is_empty() {
            out.push(Cue {
                start_ms,
                end_ms,
                text,
            });
        }
    }
    out
}

fn strip_tags(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_tag = false;
    for c in line.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Captions for a generated clip: one cue per line, `each` seconds long.
pub fn from_lines(lines: &[String], each: u64) -> String {
    let mut out = String::from("WEBVTT\n");
    for (i, line) in lines.iter().enumerate() {
        let (start, end) = (i as u64 * each, (i as u64 + 1) * each);
        out.push_str(&format!(
            "\n{}\n{} --> {}\n{}\n",
            i + 1,
            clock(start),
            clock(end),
            line
        ));
    }
    out
}

fn clock(secs: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.000",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_captions_pass_and_are_tidied() {
        let raw = "\u{feff}WEBVTT\r\n\r\n1\r\n00:00.000 --> 00:04.000\r\n안녕하세요\r\n";
        let text = validate(raw.as_bytes()).unwrap();
        assert!(text.starts_with("WEBVTT\n") && !text.contains('\r'));
        let made = from_lines(&["하나".into(), "둘".into()], 5);
        assert!(validate(made.as_bytes()).is_ok());
        assert!(made.contains("00:00:05.000 --> 00:00:10.000\n둘"));
    }

    #[test]
    fn cues_come_out_in_order_without_markup() {
        let text = "WEBVTT\n\nNOTE a note\n\n1\n00:00:01.000 --> 00:00:04.500 align:start\n<v 강사>변수는 <i>이름표</i>입니다\n두 번째 줄\n\n00:05.000 --> 00:07.000\nA &lt; B\n";
        assert_eq!(
            cues(text),
            vec![
                Cue {
                    start_ms: 1000,
                    end_ms: 4500,
                    text: "변수는 이름표입니다 두 번째 줄".into()
                },
                Cue {
                    start_ms: 5000,
                    end_ms: 7000,
                    text: "A < B".into()
                },
            ]
        );
    }

    #[test]
    fn broken_captions_say_what_is_wrong() {
        assert_eq!(
            validate(b"1\n00:00.000 --> 00:01.000\nx"),
            Err(CaptionProblem::NoHeader)
        );
        assert_eq!(
            validate(b"WEBVTT\n\n00:02.000 --> 00:01.000\nx"),
            Err(CaptionProblem::Backwards(3))
        );
        assert_eq!(
            validate(b"WEBVTT\n\n0:1 --> 0:2\nx"),
            Err(CaptionProblem::BadTime(3))
        );
        assert_eq!(validate(b"WEBVTT\n"), Err(CaptionProblem::NoCues));
        assert_eq!(validate(&[0xff, 0xfe]), Err(CaptionProblem::NotUtf8));
    }
}
