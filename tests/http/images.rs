//! Course covers and profile pictures: judged by content, bombs refused
//! unopened, metadata gone, sizes for srcset, replace and delete.

use image::ImageFormat;
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::{TestApp, count, media::picture};

/// A JPEG carrying an EXIF block with a GPS position and a camera name.
fn jpeg_with_gps() -> Vec<u8> {
    let plain = picture(ImageFormat::Jpeg, 1600, 1200);
    let mut exif = b"Exif\0\0MM\0*\0\0\0\x08\0\0".to_vec();
    exif.extend_from_slice(
        b"GPSLatitude 37.5665 N GPSLongitude 126.9780 E CameraOwner WeaverseTester",
    );
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A PNG whose header claims `side` x `side` pixels and nothing else.
fn bomb(side: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut crc = flate2::Crc::new();
    crc.update(&ihdr);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    for chunk in [&b"IDAT"[..], &b"IEND"[..]] {
        let mut crc = flate2::Crc::new();
        crc.update(chunk);
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    out
}

async fn course_id(app: &TestApp) -> String {
    let id: uuid::Uuid = sqlx::query_scalar(
        "SELECT c.id FROM courses c JOIN curriculum_courses cc ON cc.course_id = c.id ORDER BY cc.position LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    id.to_string()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_cover_is_cropped_stripped_and_shown_with_srcset_then_replaced_and_removed(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.login_as_admin().await;
    let course = course_id(&app).await;
    let with_gps = jpeg_with_gps();
    assert!(with_gps.windows(11).any(|w| w == b"GPSLatitude"));
    let page = app
        .upload_image(&format!("/studio/courses/{course}/cover"), with_gps)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    app.run_jobs().await;

    let visitor = app.another_browser();
    let page = visitor.get(&format!("/courses/{course}")).await;
    let src = page
        .attr("img[data-cover]", "src")
        .expect("cover on the course page");
    let srcset = page.attr("img[data-cover]", "srcset").unwrap();
    assert!(
        srcset.contains(" 480w") && srcset.contains(" 960w"),
        "{srcset}"
    );
    assert_eq!(
        page.attr("img[data-cover]", "width").as_deref(),
        Some("960")
    );
    assert_eq!(
        page.attr("img[data-cover]", "height").as_deref(),
        Some("540")
    );
    let (status, bytes) = visitor.get_bytes(&src).await;
    assert_eq!(status, StatusCode::OK);
    let shown = image::load_from_memory(&bytes).unwrap();
    assert_eq!((shown.width(), shown.height()), (960, 540));
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "metadata stripped");
    assert!(!bytes.windows(11).any(|w| w == b"GPSLatitude"));
    let small = visitor.get(&src.replace("960.jpg", "480.jpg")).await;
    assert!(small.header("cache-control").contains("immutable"));
    for path in ["/", "/courses"] {
        let page = visitor.get(path).await;
        assert_eq!(
            page.attr("img[data-cover]", "loading").as_deref(),
            Some("lazy"),
            "{path}"
        );
    }

    // Replacing: the new one shows, the old one is gone.
    let page = app
        .upload_image(
            &format!("/studio/courses/{course}/cover"),
            picture(ImageFormat::WebP, 800, 450),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    app.run_jobs().await;
    let page = visitor.get(&format!("/courses/{course}")).await;
    let newer = page.attr("img[data-cover]", "src").unwrap();
    assert_ne!(newer, src);
    assert_eq!(visitor.get(&src).await.status, StatusCode::NOT_FOUND);

    let page = app
        .post_form(&format!("/studio/courses/{course}/cover/delete"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = visitor.get(&format!("/courses/{course}")).await;
    assert!(page.attr("img[data-cover]", "src").is_none());
    assert_eq!(visitor.get(&newer).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM images WHERE deleted_at IS NOT NULL"
        )
        .await,
        2
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn wrong_images_are_refused_with_reasons_and_nothing_is_kept(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.login_as_admin().await;
    let course = course_id(&app).await;
    let path = format!("/studio/courses/{course}/cover");
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (
            b"GIF89a\x10\x00\x10\x00\x00\x00\x00".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "이미지 파일이 아닙니다",
        ),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "이미지 파일이 아닙니다",
        ),
        (
            bomb(100_000),
            StatusCode::UNPROCESSABLE_ENTITY,
            "픽셀 수가 너무 많습니다",
        ),
        (
            bomb(7_000),
            StatusCode::UNPROCESSABLE_ENTITY,
            "픽셀 수가 너무 많습니다",
        ),
        (
            picture(ImageFormat::Png, 10, 10),
            StatusCode::UNPROCESSABLE_ENTITY,
            "너무 작습니다",
        ),
        (
            b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "손상",
        ),
        (Vec::new(), StatusCode::BAD_REQUEST, "파일을 골라"),
    ];
    for (bytes, status, words) in cases {
        let page = app.upload_image(&path, bytes).await;
        assert_eq!(page.status, status, "{words}: {}", page.body);
        let message = page.text("[data-error-for=image]").unwrap_or_default();
        assert!(message.contains(words), "{message}");
    }
    // Larger than 10 MB: refused before it is read.
    let page = app.upload_image(&path, vec![0xFF; 12 * 1024 * 1024]).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(count(&app.db, "SELECT count(*) FROM images").await, 0);
    assert!(crate::support::media::files_under(&app.var_dir.join("media")).is_empty());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_profile_picture_shows_in_the_header(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("learner@example.com").await;
    let page = app
        .upload_image("/me/avatar", picture(ImageFormat::Png, 300, 200))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    app.run_jobs().await;
    let page = app.get("/me").await;
    let src = page
        .attr("img[data-avatar]", "src")
        .expect("avatar in the header");
    let (status, bytes) = app.get_bytes(&src).await;
    assert_eq!(status, StatusCode::OK);
    let shown = image::load_from_memory(&bytes).unwrap();
    assert_eq!((shown.width(), shown.height()), (48, 48));
    // Admins see it in the user list.
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let list = admin.get("/admin/users").await;
    assert_eq!(
        list.attr(
            "[data-user-email='learner@example.com'] img[data-avatar]",
            "src"
        ),
        Some(src.clone())
    );
    let page = app.post_form("/me/avatar/delete", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        app.get("/me")
            .await
            .attr("img[data-avatar]", "src")
            .is_none()
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_avatar_declaring_a_cover_s_pixels_is_refused_and_uploads_are_rate_limited(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("learner@example.com").await;
    // 5000 x 4000 is a fine cover but four times what an avatar needs.
    let page = app.upload_image("/me/avatar", bomb(4500)).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = page.text("[data-error-for=image]").unwrap_or_default();
    assert!(message.contains("1600만 픽셀"), "{message}");
    // Twenty uploads in ten minutes; the next waits.
    for _ in 0..19 {
        let page = app
            .upload_image("/me/avatar", picture(ImageFormat::Png, 64, 64))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let page = app
        .upload_image("/me/avatar", picture(ImageFormat::Png, 64, 64))
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    let message = page.text("[data-error-for=image]").unwrap_or_default();
    assert!(message.contains("너무 자주"), "{message}");
    assert_eq!(count(&app.db, "SELECT count(*) FROM images").await, 19);
}
