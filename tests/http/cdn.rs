//! Video through a CDN (#22 part 7): the app checks access and signs
//! CloudFront cookies for the video's folder on the master playlist; the CDN
//! (a twin that follows CloudFront's signed-cookie contract) serves every
//! paying viewer the same cached segment and refuses everyone else.

use std::path::Path;

use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{TestApp, cdn::CdnTwin};

const SEGMENT: &[u8] = b"\x47segment bytes of the first four seconds";

/// A ready video on `topic` whose one transcoding run (`r1`) is in `media`.
async fn video_on(app: &TestApp, media: &Path, topic: &str) -> Uuid {
    let id = Uuid::new_v4();
    let run = media.join(format!("videos/{id}/hls/r1"));
    std::fs::create_dir_all(run.join("360p")).unwrap();
    std::fs::write(
        run.join("master.m3u8"),
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n",
    )
    .unwrap();
    std::fs::write(
        run.join("360p/index.m3u8"),
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:4.0,\nseg_000.ts\n#EXT-X-ENDLIST\n",
    )
    .unwrap();
    std::fs::write(run.join("360p/seg_000.ts"), SEGMENT).unwrap();
    sqlx::query(
        "INSERT INTO videos (id, topic_id, state, source_key, source_bytes, duration_ms, width, height, hls_prefix)
         VALUES ($1, $2::uuid, 'ready', 'videos/x/source', 1000, 4000, 640, 360, $3)",
    )
    .bind(id)
    .bind(topic)
    .bind(format!("videos/{id}/hls/r1/"))
    .execute(&app.db)
    .await
    .unwrap();
    id
}

/// The non-preview video topics of the demo, in course order.
async fn paid_video_topics(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT t.id::text FROM topics t JOIN lectures l ON l.id = t.lecture_id \
         WHERE t.kind = 'video' AND NOT t.is_preview ORDER BY l.position, t.position LIMIT 2",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// `name=value` of each `Set-Cookie`, and the whole headers.
fn set_cookies(page: &crate::support::Page) -> Vec<String> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_header(set_cookies: &[String]) -> String {
    set_cookies
        .iter()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn get(url: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_cdn_serves_paying_viewers_one_cached_copy_and_refuses_the_rest(db: PgPool) {
    let media = std::env::temp_dir().join(format!("weaverse-cdn-{}", Uuid::new_v4()));
    let twin = CdnTwin::start(media.clone()).await;
    let settings = twin.settings();
    let app = TestApp::spawn_with(db, |config| {
        config.media.dir = media.clone();
        config.media.cdn = Some(settings.clone());
    })
    .await;
    twin.allow(&app.base);
    app.seed().await;
    let topics = paid_video_topics(&app).await;
    let video = video_on(&app, &media, &topics[0]).await;
    let other = video_on(&app, &media, &topics[1]).await;
    let master = format!("/media/videos/{video}/master.m3u8");
    let folder = format!("{}/videos/{video}/hls/r1/", twin.base);
    let segment = format!("{folder}360p/seg_000.ts");

    // The page lets the player fetch from the CDN.
    let csp = app
        .get("/")
        .await
        .header("content-security-policy")
        .to_owned();
    assert!(
        csp.contains(&format!("connect-src 'self' {}", twin.base)),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("media-src 'self' blob: {}", twin.base)),
        "{csp}"
    );

    // A paying learner's master playlist points at the CDN and signs the
    // video's folder there.
    app.verified_learner("first@example.com").await;
    app.buy_nanodegree().await;
    let page = app.get(&master).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.header("cache-control"), "private, no-store");
    assert!(
        page.body.contains(&format!("\n{folder}360p/index.m3u8\n")),
        "{}",
        page.body
    );
    let cookies = set_cookies(&page);
    let names: Vec<&str> = cookies
        .iter()
        .map(|c| c.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "CloudFront-Policy",
            "CloudFront-Signature",
            "CloudFront-Key-Pair-Id",
            "CloudFront-Hash-Algorithm"
        ]
    );
    for cookie in &cookies {
        assert!(
            cookie.contains(&format!("Path=/videos/{video}/hls/r1/")),
            "{cookie}"
        );
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        // No expiry: the cookies go with the browser session, as CloudFront advises.
        assert!(
            !cookie.contains("Expires") && !cookie.contains("Max-Age"),
            "{cookie}"
        );
    }

    // The learner's browser sends them to the CDN (same host, any port, the
    // folder's path), as hls.js does with credentials from the lesson page.
    let rendition = app
        .client
        .get(format!("{folder}360p/index.m3u8"))
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(rendition.status(), StatusCode::OK);
    assert_eq!(
        rendition.headers()["access-control-allow-origin"],
        app.base.as_str()
    );
    assert_eq!(
        rendition.headers()["access-control-allow-credentials"],
        "true"
    );
    let first = app.client.get(&segment).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["x-cache"], "Miss from cloudfront");
    assert_eq!(first.bytes().await.unwrap(), SEGMENT);

    // Another paying learner gets the same cached copy: the origin is asked once.
    let second_learner = app.another_browser();
    second_learner.verified_learner("second@example.com").await;
    second_learner.buy_nanodegree().await;
    assert_eq!(second_learner.get(&master).await.status, StatusCode::OK);
    let second = second_learner.client.get(&segment).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(second.headers()["x-cache"], "Hit from cloudfront");
    assert_eq!(second.bytes().await.unwrap(), SEGMENT);
    assert_eq!(
        twin.origin_fetches(&format!("/videos/{video}/hls/r1/360p/seg_000.ts")),
        1
    );

    // Refused: no cookies, a learner who did not buy (no cookies are signed).
    let (status, body) = get(&segment, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("<Code>MissingKey</Code>"), "{body}");
    let not_bought = app.another_browser();
    not_bought.verified_learner("browser@example.com").await;
    let page = not_bought.get(&master).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(set_cookies(&page).is_empty());
    assert_eq!(
        not_bought
            .client
            .get(&segment)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    // One video's cookies do not open another's folder.
    let signed = cookie_header(&cookies);
    let (status, body) = get(
        &format!("{}/videos/{other}/hls/r1/360p/seg_000.ts", twin.base),
        Some(&signed),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert_eq!(get(&segment, Some(&signed)).await.0, StatusCode::OK);

    // A policy edited to last longer no longer matches its signature.
    let policy = cookies[0]
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("CloudFront-Policy=");
    let text =
        String::from_utf8(weaverse::infra::storage::cdn::from_cloudfront_base64(policy).unwrap())
            .unwrap();
    let end: i64 = text
        .split("\"AWS:EpochTime\":")
        .nth(1)
        .unwrap()
        .trim_end_matches("}}}]}")
        .parse()
        .unwrap();
    let longer = text.replace(&end.to_string(), &(end + 365 * 86_400).to_string());
    let forged = signed.replace(
        policy,
        &weaverse::infra::storage::cdn::cloudfront_base64(longer.as_bytes()),
    );
    assert_ne!(forged, signed);
    assert_eq!(get(&segment, Some(&forged)).await.0, StatusCode::FORBIDDEN);

    // Cookies signed three hours ago (two-hour policies) have run out.
    let prefix = format!("videos/{video}/hls/r1/");
    let stale = settings
        .sign(
            &prefix,
            time::OffsetDateTime::now_utc() - time::Duration::hours(3),
        )
        .unwrap();
    let stale = stale
        .pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    assert_eq!(get(&segment, Some(&stale)).await.0, StatusCode::FORBIDDEN);

    let _ = std::fs::remove_dir_all(&media);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn without_a_cdn_the_app_serves_the_renditions_itself(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let media = app.state.app.config.media.dir.clone();
    let topics = paid_video_topics(&app).await;
    let video = video_on(&app, &media, &topics[0]).await;
    app.verified_learner("first@example.com").await;
    app.buy_nanodegree().await;
    let page = app.get(&format!("/media/videos/{video}/master.m3u8")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("\n360p/index.m3u8\n"), "{}", page.body);
    assert!(set_cookies(&page).is_empty());
    let segment = app
        .get_with(&format!("/media/videos/{video}/360p/seg_000.ts"), &[])
        .await;
    assert_eq!(segment.status, StatusCode::OK);
    assert_eq!(segment.body.as_bytes(), SEGMENT);
}
