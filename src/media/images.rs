//! Course covers and profile pictures. An upload is judged by its bytes
//! (JPEG, PNG or WebP), its declared pixel count is checked from the header
//! against what its purpose needs (an avatar far less than a cover) before
//! anything is decoded (a decompression bomb is refused unopened), and a job
//! decodes it within [`DECODE_BUDGET`] whatever it declares: a picture whose
//! full decode would not fit is scaled while decoding (JPEG by its DCT,
//! PNG row by row, 16-bit samples cut to 8), then turned upright, cropped to
//! the page's shape and written as fresh JPEGs, which carry none of the
//! original's metadata (EXIF, GPS).

use std::{io::Cursor, sync::Arc};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage, imageops::FilterType};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{IngestError, Media, Refusal};
use crate::{
    ids::{CourseId, UserId},
    infra::ratelimit::Limit,
    jobs::{self, EnqueueOptions},
};

/// Image uploads one account may make in ten minutes.
const UPLOADS_PER_TEN_MINUTES: Limit = Limit::new("image_uploads", 20, 600);

/// The job that makes an image's sizes.
pub const IMAGE_JOB: &str = "media.image";
/// Largest image upload.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Most pixels an image may declare (a 8000x5000 photo).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Most pixels an avatar may declare (a 12 MP phone photo and more).
pub const MAX_AVATAR_PIXELS: u64 = 16_000_000;
const MAX_SIDE: u32 = 12_000;
/// The most memory one decoded picture may take, whatever it declares.
pub const DECODE_BUDGET: u64 = 48 * 1024 * 1024;

/// What an image is for, and so its shape and sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// 16:9, for cards (480 wide) and course pages (960 wide).
    CourseCover(CourseId),
    /// Square, for the header (48) and lists (96, 192 on dense screens).
    Avatar(UserId),
}

impl Purpose {
    pub fn code(self) -> &'static str {
        match self {
            Self::CourseCover(_) => "course_cover",
            Self::Avatar(_) => "avatar",
        }
    }

    /// The most pixels an upload for this purpose may declare.
    pub fn max_pixels(self) -> u64 {
        match self {
            Self::CourseCover(_) => MAX_PIXELS,
            Self::Avatar(_) => MAX_AVATAR_PIXELS,
        }
    }

    /// The smallest picture the sizes are made from well: twice the largest
    /// size in each direction.
    fn source_wanted(self) -> (u32, u32) {
        let (w, h) = self.sizes().iter().copied().max().unwrap_or((192, 192));
        (w * 2, h * 2)
    }

    /// `(width, height)` of each size made.
    pub fn sizes(self) -> &'static [(u32, u32)] {
        match self {
            Self::CourseCover(_) => COVER_SIZES,
            Self::Avatar(_) => AVATAR_SIZES,
        }
    }
}

/// 16:9, in the widths the pages ask for (`web::routes::COVER_WIDTHS`).
pub const COVER_SIZES: &[(u32, u32)] = &[
    (COVER_WIDTHS[0], COVER_WIDTHS[0] * 9 / 16),
    (COVER_WIDTHS[1], COVER_WIDTHS[1] * 9 / 16),
];
pub const AVATAR_SIZES: &[(u32, u32)] = &[(48, 48), (96, 96), (192, 192)];

use crate::web::routes::COVER_WIDTHS;
pub use crate::web::routes::{cover_srcset, image_url as url};

/// What the upload is, from its bytes and header alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judged {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// Bytes per pixel of the full decode (16-bit samples count twice).
    pub bytes_per_pixel: u8,
}

impl Judged {
    /// The most memory a full decode takes: the decoded pixels, and their
    /// 8-bit RGB copy when they are in another form.
    fn decode_peak(&self) -> u64 {
        let pixels = u64::from(self.width) * u64::from(self.height);
        let copy = if self.bytes_per_pixel == 3 {
            0
        } else {
            pixels * 3
        };
        pixels * u64::from(self.bytes_per_pixel) + copy
    }
}

/// Judges an upload for `purpose`: its format, and no more pixels than the
/// purpose may have.
pub fn judge_for(bytes: &[u8], purpose: Purpose) -> Result<Judged, Refusal> {
    let judged = judge(bytes)?;
    if u64::from(judged.width) * u64::from(judged.height) > purpose.max_pixels() {
        return Err(Refusal::TooManyPixels {
            max_pixels: purpose.max_pixels(),
        });
    }
    Ok(judged)
}

pub fn judge(bytes: &[u8]) -> Result<Judged, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::NoFile);
    }
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Refusal::TooLarge {
            max_bytes: MAX_BYTES,
        });
    }
    let format = image::guess_format(bytes).map_err(|_| Refusal::NotImage)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(Refusal::NotImage);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // Only the header is read here; our own bounds follow.
    reader.no_limits();
    let decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => Refusal::TooManyPixels {
            max_pixels: MAX_PIXELS,
        },
        _ => Refusal::Damaged,
    })?;
    let (width, height) = decoder.dimensions();
    let bytes_per_pixel = decoder.color_type().bytes_per_pixel();
    if width < 16 || height < 16 {
        return Err(Refusal::ImageTooSmall);
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels {
            max_pixels: MAX_PIXELS,
        });
    }
    Ok(Judged {
        format,
        width,
        height,
        bytes_per_pixel,
    })
}

fn format_code(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "png",
        ImageFormat::WebP => "webp",
        _ => "jpeg",
    }
}

/// Decodes within [`DECODE_BUDGET`], upright, then every size as JPEG bytes.
pub fn render(bytes: &[u8], purpose: Purpose) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
    let judged = judge_for(bytes, purpose).map_err(|r| anyhow::anyhow!(r.to_string()))?;
    // The orientation comes from the header (EXIF), read without pixels.
    let orientation = ImageReader::with_format(Cursor::new(bytes), judged.format)
        .into_decoder()
        .ok()
        .and_then(|mut d| d.orientation().ok())
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::ImageRgb8(decode_bounded(bytes, judged, purpose)?);
    picture.apply_orientation(orientation);
    let mut out = Vec::new();
    for &(w, h) in purpose.sizes() {
        let sized = picture.resize_to_fill(w, h, FilterType::CatmullRom);
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 82).encode_image(&sized)?;
        out.push((w, jpeg));
    }
    Ok(out)
}

/// The picture as 8-bit RGB, never holding more than [`DECODE_BUDGET`] for
/// its pixels: decoded whole when that fits (then shrunk to what the sizes
/// need), otherwise scaled while decoding, or refused.
fn decode_bounded(bytes: &[u8], judged: Judged, purpose: Purpose) -> anyhow::Result<RgbImage> {
    let (want_w, want_h) = purpose.source_wanted();
    let picture = if judged.decode_peak() <= DECODE_BUDGET {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), judged.format);
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        limits.max_alloc = Some(DECODE_BUDGET);
        reader.limits(limits);
        let decoded = DynamicImage::from_decoder(reader.into_decoder()?)?;
        // A 16-bit picture becomes 8-bit once, and the original is dropped.
        decoded.into_rgb8()
    } else {
        match judged.format {
            ImageFormat::Jpeg => jpeg_scaled(bytes, want_w, want_h)?,
            ImageFormat::Png => png_rows(bytes, want_w, want_h)?,
            _ => anyhow::bail!("a {:?} too large to decode whole", judged.format),
        }
    };
    // Keep no more than twice the largest size: resizing is then cheap.
    let (w, h) = picture.dimensions();
    if w > want_w * 2 && h > want_h * 2 {
        let shrink = f64::max(
            f64::from(want_w) / f64::from(w),
            f64::from(want_h) / f64::from(h),
        );
        let (nw, nh) = (
            ((f64::from(w) * shrink).ceil() as u32).max(want_w),
            ((f64::from(h) * shrink).ceil() as u32).max(want_h),
        );
        return Ok(image::imageops::thumbnail(&picture, nw, nh));
    }
    Ok(picture)
}

/// A JPEG decoded at 1/2, 1/4 or 1/8 of its size (the smallest that is
/// still at least `want_w` x `want_h`), its buffers capped at the budget.
fn jpeg_scaled(bytes: &[u8], want_w: u32, want_h: u32) -> anyhow::Result<RgbImage> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(usize::try_from(DECODE_BUDGET)?);
    let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    let (w, h) = decoder.scale(clamp(want_w), clamp(want_h))?;
    let pixels = decoder.decode()?;
    let info = decoder
        .info()
        .ok_or_else(|| anyhow::anyhow!("no JPEG header"))?;
    let (w, h) = (u32::from(w), u32::from(h));
    let rgb: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0]])
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(p[3]);
                let channel = |c: u8| ((u16::from(c) * k) / 255) as u8;
                [channel(p[0]), channel(p[1]), channel(p[2])]
            })
            .collect(),
    };
    RgbImage::from_raw(w, h, rgb)
        .ok_or_else(|| anyhow::anyhow!("JPEG pixels do not match its size"))
}

/// A PNG read row by row (16-bit samples cut to 8, palettes expanded) and
/// shrunk by a whole factor as the rows arrive (each output pixel the mean
/// of a square of input pixels; transparency over white): only a row and
/// the small result are ever held. Interlaced pictures arrive in passes and
/// are refused when too large to decode whole.
fn png_rows(bytes: &[u8], want_w: u32, want_h: u32) -> anyhow::Result<RgbImage> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::STRIP_16 | png::Transformations::EXPAND);
    let mut reader = decoder.read_info()?;
    let info = reader.info();
    if info.interlaced {
        anyhow::bail!("an interlaced PNG too large to decode whole");
    }
    let (width, height) = (info.width, info.height);
    let (color, _) = reader.output_color_type();
    let channels = color.samples();
    let factor = (width / want_w).min(height / want_h).max(1);
    let (out_w, out_h) = (width / factor, height / factor);
    let mut out = RgbImage::new(out_w, out_h);
    let mut sums = vec![0u32; out_w as usize * 3];
    let mut row_index = 0u32;
    while let Some(row) = reader.next_row()? {
        let data = row.data();
        let out_y = row_index / factor;
        row_index += 1;
        if out_y >= out_h {
            continue;
        }
        for x in 0..(out_w * factor) as usize {
            let px = &data[x * channels..(x + 1) * channels];
            let (r, g, b, a) = match channels {
                1 => (px[0], px[0], px[0], 255),
                2 => (px[0], px[0], px[0], px[1]),
                3 => (px[0], px[1], px[2], 255),
                _ => (px[0], px[1], px[2], px[3]),
            };
            let over_white =
                |c: u8| (u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a))) / 255;
            let at = x / factor as usize * 3;
            sums[at] += over_white(r);
            sums[at + 1] += over_white(g);
            sums[at + 2] += over_white(b);
        }
        if row_index.is_multiple_of(factor) {
            let n = factor * factor;
            for (x, pixel) in sums.chunks_exact_mut(3).enumerate() {
                let mean = |s: u32| (s / n).min(255) as u8;
                out.put_pixel(
                    x as u32,
                    out_y,
                    image::Rgb([mean(pixel[0]), mean(pixel[1]), mean(pixel[2])]),
                );
                pixel.fill(0);
            }
        }
    }
    Ok(out)
}

impl Media {
    /// Checks an uploaded image, stores the original and queues its sizes.
    pub async fn ingest_image(
        &self,
        db: &PgPool,
        purpose: Purpose,
        uploaded_by: Option<UserId>,
        bytes: Vec<u8>,
    ) -> Result<Uuid, IngestError> {
        if let Some(user) = uploaded_by {
            let mut conn = db.acquire().await.map_err(anyhow::Error::from)?;
            if let Some(wait_secs) = UPLOADS_PER_TEN_MINUTES
                .reserve(&mut conn, &user.to_string())
                .await
                .map_err(anyhow::Error::from)?
            {
                return Err(Refusal::TooManyUploads { wait_secs }.into());
            }
        }
        let judged = judge_for(&bytes, purpose)?;
        let id = Uuid::new_v4();
        let source_key = format!("images/{id}/source");
        let size = bytes.len() as i64;
        let store = self
            .storage
            .put_bytes(&source_key, bytes, "application/octet-stream");
        self.store_and_record(db, &source_key, store, async |tx| {
            let (course, user) = match purpose {
                Purpose::CourseCover(c) => (Some(c.0), None),
                Purpose::Avatar(u) => (None, Some(u.0)),
            };
            sqlx::query!(
                r#"INSERT INTO images (id, purpose, course_id, user_id, source_key, format, bytes, width, height, uploaded_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
                id,
                purpose.code(),
                course,
                user,
                source_key,
                format_code(judged.format),
                size,
                judged.width as i32,
                judged.height as i32,
                uploaded_by.map(|u| u.0),
            )
            .execute(&mut *tx)
            .await?;
            jobs::enqueue(
                tx,
                IMAGE_JOB,
                json!({ "image": id }),
                EnqueueOptions {
                    max_attempts: Some(3),
                    ..EnqueueOptions::default()
                },
            )
            .await?;
            Ok(())
        })
        .await?;
        Ok(id)
    }

    /// The image job: sizes written first, then one transaction retires
    /// the subject's earlier image and points the subject at this one.
    pub async fn make_image_sizes(
        &self,
        db: &PgPool,
        catalog: &Arc<crate::catalog::CatalogCache>,
        id: Uuid,
    ) -> anyhow::Result<()> {
        let Some(row) = sqlx::query!(
            r#"SELECT purpose, course_id, user_id, source_key FROM images
                WHERE id = $1 AND deleted_at IS NULL AND state = 'uploaded'"#,
            id
        )
        .fetch_optional(db)
        .await?
        else {
            return Ok(());
        };
        let purpose = match (row.purpose.as_str(), row.course_id, row.user_id) {
            ("course_cover", Some(c), _) => Purpose::CourseCover(CourseId(c)),
            ("avatar", _, Some(u)) => Purpose::Avatar(UserId(u)),
            _ => anyhow::bail!("image {id} has no subject"),
        };
        let bytes = self
            .storage
            .get_bytes(&row.source_key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("image {id}: original missing"))?;
        let sizes = {
            let _slot = self.images.acquire().await?;
            tokio::task::spawn_blocking(move || render(&bytes, purpose)).await??
        };
        for (width, jpeg) in sizes {
            self.storage
                .put_bytes(&format!("images/{id}/{width}.jpg"), jpeg, "image/jpeg")
                .await?;
        }
        match purpose {
            // Catalogue pages cached in this process see the new cover at once.
            Purpose::CourseCover(_) => {
                catalog
                    .write(db, async |tx| Ok(adopt(tx, id, purpose).await?))
                    .await?
            }
            Purpose::Avatar(_) => {
                let mut tx = db.begin().await?;
                adopt(&mut tx, id, purpose).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}

/// Makes `id` its subject's image (retiring the one before).
async fn adopt(conn: &mut PgConnection, id: Uuid, purpose: Purpose) -> sqlx::Result<()> {
    let retired = match purpose {
        Purpose::CourseCover(course) => crate::catalog::set_cover(conn, course, Some(id)).await?,
        Purpose::Avatar(user) => crate::accounts::set_avatar(conn, user, Some(id)).await?,
    };
    if let Some(old) = retired.filter(|old| *old != id) {
        sqlx::query!(
            "UPDATE images SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL",
            old
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!("UPDATE images SET state = 'ready' WHERE id = $1", id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes a subject's image (soft: the row and files stay, nothing shows).
pub async fn remove(conn: &mut PgConnection, purpose: Purpose) -> sqlx::Result<bool> {
    let retired = match purpose {
        Purpose::CourseCover(course) => crate::catalog::set_cover(conn, course, None).await?,
        Purpose::Avatar(user) => crate::accounts::set_avatar(conn, user, None).await?,
    };
    if let Some(old) = retired {
        sqlx::query!(
            "UPDATE images SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL",
            old
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(retired.is_some())
}

/// Whether a cover for `course` is still being made (uploaded, no sizes yet).
pub async fn cover_pending(conn: &mut PgConnection, course: CourseId) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!(
        "SELECT true FROM images WHERE course_id = $1 AND state = 'uploaded' AND deleted_at IS NULL LIMIT 1",
        course.0
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// The live, ready image `id`, if any (for delivery).
pub async fn live(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!(
        "SELECT true FROM images WHERE id = $1 AND deleted_at IS NULL AND state = 'ready'",
        id
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// Records why an image job gave up.
pub async fn mark_failed(db: &PgPool, id: Uuid, reason: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE images SET state = 'failed', failure = left($2, 500) WHERE id = $1 AND state = 'uploaded'",
        id,
        reason
    )
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = DynamicImage::new_rgb8(width, height);
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn images_are_judged_by_bytes_and_declared_pixels() {
        let good = judge(&png(64, 32)).unwrap();
        assert_eq!(
            (good.format, good.width, good.height),
            (ImageFormat::Png, 64, 32)
        );
        assert_eq!(judge(b"GIF89a\x10\x00\x10\x00"), Err(Refusal::NotImage));
        assert_eq!(
            judge(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            Err(Refusal::NotImage)
        );
        // Declared decompression bombs: tests/http/images.rs.
        assert_eq!(judge(&png(8, 8)), Err(Refusal::ImageTooSmall));
    }

    /// A `width` x `height` PNG of 16-bit RGB, all black, written row by
    /// row (the test itself never holds the picture): a few hundred KB that
    /// decode to `width * height * 6` bytes.
    fn png16_bomb(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, width, height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Sixteen);
            encoder.set_compression(png::Compression::Fast);
            let mut writer = encoder.write_header().unwrap();
            let mut stream = writer.stream_writer().unwrap();
            let row = vec![0u8; width as usize * 6];
            for _ in 0..height {
                std::io::Write::write_all(&mut stream, &row).unwrap();
            }
            stream.finish().unwrap();
        }
        out
    }

    /// This process's resident memory now and at its peak, in bytes.
    fn memory() -> (u64, u64) {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap()
                * 1024
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    #[test]
    fn a_sixteen_bit_bomb_decodes_in_bounded_memory_and_is_no_avatar() {
        // The review's upload: a 6000x6000 16-bit PNG (216 MB decoded).
        let bomb = png16_bomb(6000, 6000);
        assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());
        let (before, _) = memory();
        let sizes = render(&bomb, Purpose::CourseCover(CourseId(Uuid::nil()))).unwrap();
        let (_, peak) = memory();
        assert!(
            peak.saturating_sub(before) < 64 * 1024 * 1024,
            "decoding took {} MB",
            (peak - before) >> 20
        );
        let big = image::load_from_memory(&sizes[1].1).unwrap();
        assert_eq!((big.width(), big.height()), (960, 540));
        // 36 million pixels is far more than an avatar may have.
        assert_eq!(
            judge_for(&bomb, Purpose::Avatar(UserId(Uuid::nil()))).err(),
            Some(Refusal::TooManyPixels {
                max_pixels: MAX_AVATAR_PIXELS
            })
        );
    }

    #[test]
    fn large_pictures_are_scaled_while_decoding() {
        // A JPEG at 1/8 of its size, at least what was asked for.
        let photo = DynamicImage::new_rgb8(1600, 1200);
        let mut jpeg = Cursor::new(Vec::new());
        photo.write_to(&mut jpeg, ImageFormat::Jpeg).unwrap();
        let scaled = jpeg_scaled(&jpeg.into_inner(), 200, 150).unwrap();
        assert_eq!(scaled.dimensions(), (200, 150));
        // A PNG shrunk row by row by a whole factor; transparency is white.
        let clear = DynamicImage::new_rgba8(400, 300);
        let mut png = Cursor::new(Vec::new());
        clear.write_to(&mut png, ImageFormat::Png).unwrap();
        let shrunk = png_rows(&png.into_inner(), 100, 50).unwrap();
        assert_eq!(shrunk.dimensions(), (100, 75));
        assert_eq!(shrunk.get_pixel(10, 10).0, [255, 255, 255]);
    }

    #[test]
    fn sizes_are_cropped_to_shape_and_reencoded() {
        let sizes = render(
            &png(1000, 1000),
            Purpose::CourseCover(CourseId(Uuid::nil())),
        )
        .unwrap();
        let widths: Vec<u32> = sizes.iter().map(|(w, _)| *w).collect();
        assert_eq!(widths, [480, 960]);
        let big = image::load_from_memory(&sizes[1].1).unwrap();
        assert_eq!((big.width(), big.height()), (960, 540));
        assert_eq!(image::guess_format(&sizes[0].1).unwrap(), ImageFormat::Jpeg);
    }
}
