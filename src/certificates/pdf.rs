//! The certificate as a PDF: A4 landscape, the Korean font embedded as a
//! subset of only the glyphs used (printpdf 0.9 embeds whole fonts, and a
//! Korean font is megabytes), the learner's name, the course, the date, the
//! study hours, the verification address and a QR code for it.

use std::collections::BTreeMap;

use printpdf::{
    Color, FontMetrics, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle,
    PdfPage, PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Rgb, TextItem, WindingOrder,
};

/// A loaded font file, checked at start-up.
#[derive(Clone)]
pub struct CertificateFont {
    bytes: std::sync::Arc<Vec<u8>>,
}

impl CertificateFont {
    /// Reads and checks the font (it must have Hangul).
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).map_err(|err| {
            anyhow::anyhow!(
                "the certificate font {} cannot be read ({err}): install fonts-nanum or set CERTIFICATE_FONT",
                path.display()
            )
        })?;
        let face = ttf_parser::Face::parse(&bytes, 0).map_err(|err| {
            anyhow::anyhow!(
                "the certificate font {} is not a font: {err}",
                path.display()
            )
        })?;
        // U+C218, a Hangul syllable every Korean font has.
        if face.glyph_index('\u{C218}').is_none() {
            anyhow::bail!(
                "the certificate font {} has no Korean glyphs",
                path.display()
            );
        }
        Ok(Self {
            bytes: std::sync::Arc::new(bytes),
        })
    }
}

/// What the certificate says.
pub struct Sheet<'a> {
    pub name: &'a str,
    pub title: &'a str,
    /// The issue date as people read it (`web::dates::date`).
    pub date: &'a str,
    pub hours: f64,
    pub code: &'a str,
    pub url: &'a str,
    pub nanodegree: bool,
}

const WIDTH: f32 = 297.0;
const HEIGHT: f32 = 210.0;

/// A text line: its font size and where it starts (mm from the left and
/// from the bottom).
struct Line {
    text: String,
    size: f32,
    x: f32,
    y: f32,
}

fn rgb(r: f32, g: f32, b: f32) -> Color {
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
}

fn point(x: f32, y: f32) -> LinePoint {
    LinePoint {
        p: Point {
            x: Mm(x).into(),
            y: Mm(y).into(),
        },
        bezier: false,
    }
}

fn rect(x: f32, y: f32, w: f32, h: f32) -> PolygonRing {
    PolygonRing {
        points: vec![
            point(x, y),
            point(x + w, y),
            point(x + w, y + h),
            point(x, y + h),
        ],
    }
}

/// Makes the PDF (CPU work: call it from a blocking task).
pub fn render(font: &CertificateFont, sheet: &Sheet<'_>) -> anyhow::Result<Vec<u8>> {
    let face = ttf_parser::Face::parse(&font.bytes, 0)?;
    let words = super::views::sheet_words(sheet);
    let center = |text: &str, size: f32, y: f32, widths: &dyn Fn(&str) -> f32| Line {
        x: (WIDTH - widths(text) * size * 0.352_778) / 2.0,
        text: text.to_owned(),
        size,
        y,
    };
    let units = f32::from(face.units_per_em());
    let width_of = |text: &str| -> f32 {
        text.chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(0.5, |a| f32::from(a) / units)
            })
            .sum()
    };
    let lines = vec![
        center("WEAVERSE", 14.0, 172.0, &width_of),
        center(words.heading, 30.0, 150.0, &width_of),
        center(sheet.name, 34.0, 122.0, &width_of),
        center(&words.statement, 14.0, 104.0, &width_of),
        center(&words.facts, 12.0, 92.0, &width_of),
        Line {
            text: words.code.clone(),
            size: 10.0,
            x: 30.0,
            y: 36.0,
        },
        Line {
            text: sheet.url.to_owned(),
            size: 9.0,
            x: 30.0,
            y: 29.0,
        },
        Line {
            text: words.issuer.to_owned(),
            size: 11.0,
            x: 30.0,
            y: 48.0,
        },
    ];
    // Only the glyphs used, renumbered: the embedded font stays small.
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut map = BTreeMap::new();
    let mut widths = BTreeMap::new();
    for c in lines.iter().flat_map(|l| l.text.chars()) {
        if let Some(g) = face.glyph_index(c) {
            let new = remapper.remap(g.0);
            map.insert(u32::from(c), new);
            widths.insert(new, face.glyph_hor_advance(g).unwrap_or(0));
        }
    }
    let subset = subsetter::subset(&font.bytes, 0, &remapper)
        .map_err(|err| anyhow::anyhow!("subsetting the certificate font: {err:?}"))?;
    let parsed = ParsedFont::with_glyph_data(
        subset,
        0,
        Some("WeaverseCertificate".into()),
        map,
        widths,
        face.units_per_em(),
        FontMetrics {
            ascent: face.ascender(),
            descent: face.descender(),
        },
    );
    let mut doc = PdfDocument::new(&format!("{} - {}", words.heading, sheet.name));
    let font_id = doc.add_font(&parsed);

    let mut ops = vec![
        // A frame in the brand colour.
        Op::SetFillColor {
            col: rgb(0.231, 0.357, 0.859),
        },
        Op::DrawPolygon {
            polygon: Polygon {
                rings: vec![
                    rect(10.0, 10.0, WIDTH - 20.0, 3.0),
                    rect(10.0, HEIGHT - 13.0, WIDTH - 20.0, 3.0),
                    rect(10.0, 10.0, 3.0, HEIGHT - 20.0),
                    rect(WIDTH - 13.0, 10.0, 3.0, HEIGHT - 20.0),
                ],
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        },
        Op::SetFillColor {
            col: rgb(0.0, 0.0, 0.0),
        },
    ];
    // The QR code of the verification address, bottom right.
    let qr = qrcode::QrCode::new(sheet.url.as_bytes())?;
    let modules = qr.width();
    let cell = 38.0 / modules as f32;
    let (left, top) = (WIDTH - 30.0 - 38.0, 70.0);
    // One rectangle per run of dark modules in a row keeps the page small.
    let colors = qr.to_colors();
    let mut rings = Vec::new();
    for (row, line) in colors.chunks(modules).enumerate() {
        let mut col = 0;
        while col < line.len() {
            if line[col] != qrcode::Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < line.len() && line[col] == qrcode::Color::Dark {
                col += 1;
            }
            rings.push(rect(
                left + start as f32 * cell,
                top - (row as f32 + 1.0) * cell,
                (col - start) as f32 * cell,
                cell,
            ));
        }
    }
    ops.push(Op::DrawPolygon {
        polygon: Polygon {
            rings,
            mode: PaintMode::Fill,
            winding_order: WindingOrder::NonZero,
        },
    });
    for line in &lines {
        ops.extend([
            Op::StartTextSection,
            Op::SetTextCursor {
                pos: Point {
                    x: Mm(line.x).into(),
                    y: Mm(line.y).into(),
                },
            },
            Op::SetFont {
                font: PdfFontHandle::External(font_id.clone()),
                size: Pt(line.size),
            },
            Op::ShowText {
                items: vec![TextItem::Text(line.text.clone())],
            },
            Op::EndTextSection,
        ]);
    }
    let page = PdfPage::new(Mm(WIDTH), Mm(HEIGHT), ops);
    let raw = doc
        .with_pages(vec![page])
        .save(&PdfSaveOptions::default(), &mut Vec::new());
    // printpdf leaves the font and the page uncompressed: deflate them.
    let mut pdf = lopdf::Document::load_mem(&raw)?;
    pdf.compress();
    let mut out = Vec::with_capacity(raw.len() / 2);
    pdf.save_to(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_one_small_page_with_its_font_cut_to_the_glyphs_used() {
        let font = CertificateFont::load(std::path::Path::new(
            "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
        ))
        .unwrap();
        let pdf = render(
            &font,
            &Sheet {
                name: "김위버",
                title: "웹 개발 나노 디그리",
                date: "2026년 11월 30일",
                hours: 42.5,
                code: "WV-ABCDE-FGHJK-MNPQR-STUVW",
                url: "https://weaverse.kr/certificates/WV-ABCDE-FGHJK-MNPQR-STUVW",
                nanodegree: true,
            },
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert!(pdf.len() < 100 * 1024, "{} bytes", pdf.len());
        std::fs::write(
            std::env::temp_dir().join("weaverse-certificate-sample.pdf"),
            &pdf,
        )
        .unwrap();
    }

    #[test]
    fn a_font_without_hangul_or_no_font_is_refused_with_the_reason() {
        let missing = CertificateFont::load(std::path::Path::new("/nonexistent.ttf"));
        assert!(missing.err().unwrap().to_string().contains("fonts-nanum"));
        let latin = CertificateFont::load(std::path::Path::new(
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        ));
        if std::path::Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists() {
            assert!(
                latin
                    .err()
                    .unwrap()
                    .to_string()
                    .contains("no Korean glyphs")
            );
        }
    }
}
