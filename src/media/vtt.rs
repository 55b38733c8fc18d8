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
