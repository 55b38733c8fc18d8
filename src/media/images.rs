//! Course covers and profile pictures. An upload is judged by its bytes
//! (JPEG, PNG or WebP), its declared pixel count is checked from the header
//! before anything is decoded (a decompression bomb is refused unopened),
//! and a job decodes it under allocation limits, turns it upright, crops it
//! to the page's shape and writes each size as a fresh JPEG, which carries
//! none of the original's metadata (EXIF, GPS).

use std::{io::Cursor, sync::Arc};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, imageops::FilterType};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{IngestError, Media, Refusal};
use crate::{
    ids::{CourseId, UserId},
    jobs::{self, EnqueueOptions},
};

/// The job that makes an image's sizes.
pub const IMAGE_JOB: &str = "media.image";
/// Largest image upload.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Most pixels an image may declare (a 8000x5000 photo).
pub const MAX_PIXELS: u64 = 40_000_000;
const MAX_SIDE: u32 = 12_000;

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

    /// `(width, height)` of each size made.
    pub fn sizes(self) -> &'static [(u32, u32)] {
        match self {
            Self::CourseCover(_) => COVER_SIZES,
            Self::Avatar(_) => AVATAR_SIZES,
        }
    }
}

pub const COVER_SIZES: &[(u32, u32)] = &[(480, 270), (960, 540)];
pub const AVATAR_SIZES: &[(u32, u32)] = &[(48, 48), (96, 96), (192, 192)];

/// The address of one size of an image.
pub fn url(image: Uuid, width: u32) -> String {
    format!("/media/images/{image}/{width}.jpg")
}

/// `srcset` of a course cover.
pub fn cover_srcset(image: Uuid) -> String {
    COVER_SIZES
        .iter()
        .map(|(w, _)| format!("{} {w}w", url(image, *w)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the upload is, from its bytes and header alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judged {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
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
    let (width, height) = reader.into_dimensions().map_err(|e| match e {
        image::ImageError::Limits(_) => Refusal::TooManyPixels,
        _ => Refusal::Damaged,
    })?;
    if width < 16 || height < 16 {
        return Err(Refusal::ImageTooSmall);
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels);
    }
    Ok(Judged {
        format,
        width,
        height,
    })
}

fn format_code(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "png",
        ImageFormat::WebP => "webp",
        _ => "jpeg",
    }
}

/// Decodes under limits, upright, then every size as JPEG bytes.
pub fn render(bytes: &[u8], purpose: Purpose) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
    let judged = judge(bytes).map_err(|r| anyhow::anyhow!(r.message()))?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), judged.format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder)?;
    picture.apply_orientation(orientation);
    let picture = DynamicImage::ImageRgb8(picture.to_rgb8());
    let mut out = Vec::new();
    for &(w, h) in purpose.sizes() {
        let sized = picture.resize_to_fill(w, h, FilterType::CatmullRom);
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 82).encode_image(&sized)?;
        out.push((w, jpeg));
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
        let judged = judge(&bytes)?;
        let id = Uuid::new_v4();
        let source_key = format!("images/{id}/source");
        let size = bytes.len() as i64;
        self.storage
            .put_bytes(&source_key, bytes, "application/octet-stream")
            .await?;
        self.record_or_forget(db, &source_key, async |tx| {
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
