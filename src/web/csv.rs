//! Lists as CSV downloads: UTF-8 with a byte-order mark so Excel opens
//! Korean text correctly, RFC 4180 quoting, and cells that a spreadsheet
//! would run as a formula defused.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

/// A CSV document being written, header first.
pub struct Csv {
    name: String,
    body: String,
}

impl Csv {
    /// A document downloaded as `{name}.csv`, with its header row.
    pub fn new(name: &str, header: &[&str]) -> Self {
        let mut csv = Self {
            name: name.to_owned(),
            body: String::from("\u{feff}"),
        };
        csv.row(header.iter().copied());
        csv
    }

    /// Adds a row.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.body.push(',');
            }
            push_cell(&mut self.body, cell.as_ref());
        }
        self.body.push_str("\r\n");
    }

    /// The document as written (with its byte-order mark).
    pub fn text(&self) -> &str {
        &self.body
    }
}

/// One cell: quoted when it holds a comma, quote or line break; a leading
/// `= + - @` (or tab, carriage return) gets a `'` so a spreadsheet shows
/// the text instead of running it. Numbers written by the app (`-3`) are
/// left alone.
fn push_cell(out: &mut String, cell: &str) {
    let formula =
        cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err();
    let quoted = formula || cell.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in cell.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

impl IntoResponse for Csv {
    fn into_response(self) -> Response {
        let disposition = format!("attachment; filename=\"{}.csv\"", self.name);
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            self.body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_text_quotes_and_formulas_come_out_as_excel_reads_them() {
        let mut csv = Csv::new("t", &["이름", "메모"]);
        csv.row(["김, 철수", "그는 \"좋다\"고 했다"]);
        csv.row(["=HYPERLINK(\"x\")", "-3"]);
        csv.row(["줄\n바꿈", "@sum"]);
        assert_eq!(
            csv.text(),
            "\u{feff}이름,메모\r\n\"김, 철수\",\"그는 \"\"좋다\"\"고 했다\"\r\n\"'=HYPERLINK(\"\"x\"\")\",-3\r\n\"줄\n바꿈\",\"'@sum\"\r\n"
        );
    }
}
