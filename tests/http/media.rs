//! Media: uploads checked and refused with reasons, HLS transcoding, the
//! studio's live state, captions, delivery only to allowed viewers, S3.

use std::time::Duration;

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::{
    TestApp, count,
    media::{S3Server, clip, files_under},
};

async fn studio(db: PgPool) -> TestApp {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.login_as_admin().await;
    app
}

/// Uploads a 4-second 720p clip to `topic` and runs the transcoding job.
async fn ready_video(app: &TestApp, topic: &str) -> (uuid::Uuid, String) {
    let bytes = std::fs::read(clip(4, 720, true).await).unwrap();
    let page = app.upload_video(topic, "lesson.mp4", bytes).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    app.run_jobs().await;
    let (id, state, prefix) = app.video_of(topic).await.expect("video");
    assert_eq!(state, "ready");
    (id, prefix.expect("prefix"))
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_upload_becomes_adaptive_hls_with_a_poster_and_captions(db: PgPool) {
    let app = studio(db).await;
    let topic = app.video_topic(false).await;
    let bytes = std::fs::read(clip(4, 720, true).await).unwrap();
    let page = app.upload_video(&topic, "1강 소개.mp4", bytes).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

    // Before the job runs the studio shows it queued and keeps asking.
    let page = app.get(&format!("/studio/topics/{topic}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.attr(".video-state", "data-state").as_deref(),
        Some("uploaded")
    );
    let poll = page.attr("#video-panel", "hx-get").expect("polling");
    assert!(page.body.contains("1강 소개.mp4"));

    app.run_jobs().await;
    let (id, state, prefix) = app.video_of(&topic).await.unwrap();
    assert_eq!(state, "ready");
    let prefix = prefix.unwrap();
    let fragment = app.get_htmx(&poll).await;
    assert_eq!(
        fragment.attr(".video-state", "data-state").as_deref(),
        Some("ready")
    );
    assert!(
        fragment.attr("#video-panel", "hx-get").is_none(),
        "polling stops"
    );
    assert!(
        fragment
            .text("#video-panel")
            .unwrap()
            .contains("360p, 720p")
    );
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM jobs WHERE kind = 'media.transcode' AND status = 'done' AND progress = 100").await,
        1
    );
    // The outline lists the topic as long as its video (4 s), and a studio
    // save keeps that length whatever the form's minutes say.
    let length = async || -> i32 {
        sqlx::query_scalar("SELECT duration_secs FROM topics WHERE id = $1::uuid")
            .bind(&topic)
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(length().await, 4);
    let editor = app.get(&format!("/studio/topics/{topic}")).await;
    let title = editor.attr("#f-title", "value").unwrap();
    let saved = app
        .post_form(
            &format!("/studio/topics/{topic}"),
            &[
                ("title", title.as_str()),
                ("kind", "video"),
                ("duration_minutes", "9"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(length().await, 4);
    // The lesson page offers the renditions as a quality menu.
    let lesson = app.get(&format!("/learn/topics/{topic}")).await;
    assert!(
        lesson
            .text("#player-quality")
            .unwrap_or_default()
            .contains("720p"),
        "{}",
        lesson.body
    );

    // A master playlist with two renditions, each a playlist of 4 s segments.
    let master = app.get(&format!("/media/videos/{id}/master.m3u8")).await;
    assert_eq!(master.status, StatusCode::OK);
    assert_eq!(
        master.header("content-type"),
        "application/vnd.apple.mpegurl"
    );
    assert!(master.body.starts_with("#EXTM3U"));
    for rendition in ["360p/index.m3u8", "720p/index.m3u8"] {
        assert!(master.body.contains(rendition), "{}", master.body);
        let playlist = app.get(&format!("/media/videos/{id}/{rendition}")).await;
        assert!(
            playlist.body.contains("#EXT-X-TARGETDURATION:4"),
            "{}",
            playlist.body
        );
        assert!(playlist.body.contains("seg_000.ts"));
        assert!(playlist.body.contains("#EXT-X-ENDLIST"));
    }
    assert!(master.body.contains("RESOLUTION=1280x720"));
    let poster = app.get(&format!("/media/videos/{id}/poster.jpg")).await;
    assert_eq!(poster.status, StatusCode::OK);
    assert_eq!(poster.header("content-type"), "image/jpeg");
    let stored = files_under(&app.var_dir.join("media").join(prefix.trim_end_matches('/')));
    assert!(
        stored
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "ts"))
            .count()
            >= 2
    );
    assert!(
        files_under(&app.var_dir.join("tmp/media")).is_empty(),
        "no work files left"
    );

    // Captions: refused with the reason, then taken and offered by the player.
    let page = app
        .upload_captions(&topic, "1\n00:00.000 --> 00:01.000\n안녕")
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text("[data-error-for=video]")
            .unwrap()
            .contains("WEBVTT")
    );
    let page = app
        .upload_captions(&topic, "WEBVTT\n\n00:00.000 --> 00:02.000\n안녕하세요\n")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let lesson = app.get(&format!("/learn/topics/{topic}")).await;
    assert_eq!(lesson.status, StatusCode::OK);
    assert_eq!(
        lesson.attr("#player", "data-hls-src"),
        Some(format!("/media/videos/{id}/master.m3u8"))
    );
    let track = lesson.attr("#player track", "src").unwrap();
    let vtt = app.get(&track).await;
    assert_eq!(vtt.status, StatusCode::OK);
    assert!(vtt.body.contains("안녕하세요"));

    // The studio previews the video with its captions as learners get them.
    let studio = app.get(&format!("/studio/topics/{topic}")).await;
    assert_eq!(
        studio.attr("video[data-preview-src]", "data-preview-src"),
        Some(format!("/media/videos/{id}/master.m3u8"))
    );
    assert_eq!(
        studio.attr("video[data-preview-src] track", "src"),
        Some(track.clone())
    );
    // Uploading the same language replaces the track; deleting takes it off.
    let page = app
        .upload_captions(&topic, "WEBVTT\n\n00:00.000 --> 00:02.000\n반갑습니다\n")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let vtt = app.get(&track).await;
    assert!(vtt.body.contains("반갑습니다") && !vtt.body.contains("안녕하세요"));
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM captions WHERE deleted_at IS NULL"
        )
        .await,
        1
    );
    let deleted = app
        .post_form(&format!("/studio/topics/{topic}/captions/ko/delete"), &[])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let lesson = app.get(&format!("/learn/topics/{topic}")).await;
    assert!(lesson.attr("#player track", "src").is_none());
    assert_eq!(app.get(&track).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post_form(&format!("/studio/topics/{topic}/captions/ko/delete"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn every_refused_upload_says_why_and_leaves_nothing_behind(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.media.max_video_bytes = 2 * 1024 * 1024).await;
    app.seed().await;
    app.login_as_admin().await;
    let topic = app.video_topic(false).await;
    let clip_bytes = std::fs::read(clip(4, 360, true).await).unwrap();
    let late_index = std::fs::read(clip(4, 360, false).await).unwrap();
    assert!(clip_bytes.len() < 2 * 1024 * 1024, "{}", clip_bytes.len());
    // The HLS-in-AVI trick: a playlist that would make a careless ffmpeg read
    // a local file, in a container we never hand to a demuxer.
    let mut avi = b"RIFF\x00\x10\x00\x00AVI LIST".to_vec();
    avi.extend_from_slice(b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nconcat:file:///etc/passwd\n#EXT-X-ENDLIST\n");
    let playlist = b"#EXTM3U\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n".to_vec();
    let mut mp4_box_then_garbage = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2".to_vec();
    mp4_box_then_garbage.extend(std::iter::repeat_n(0x5a, 4096));
    let audio_only = {
        let path = std::env::temp_dir().join(format!("tone-{}.m4a", uuid::Uuid::new_v4()));
        let ok = tokio::process::Command::new("ffmpeg")
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                "sine=duration=2",
                "-c:a",
                "aac",
            ])
            .arg(&path)
            .status()
            .await
            .unwrap();
        assert!(ok.success());
        let bytes = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(path);
        bytes
    };
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "notes.txt",
            "이건 영상이 아닙니다".as_bytes().to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "동영상 파일이 아닙니다",
        ),
        (
            "lesson.avi",
            avi,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "동영상 파일이 아닙니다",
        ),
        (
            "lesson.mp4",
            playlist,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "동영상 파일이 아닙니다",
        ),
        (
            "broken.mp4",
            mp4_box_then_garbage,
            StatusCode::UNPROCESSABLE_ENTITY,
            "손상",
        ),
        (
            "cut.mp4",
            late_index[..late_index.len() / 2].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "손상",
        ),
        (
            "tone.m4a",
            audio_only,
            StatusCode::UNPROCESSABLE_ENTITY,
            "영상 트랙이 없는",
        ),
        (
            "huge.mp4",
            vec![0u8; 3 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "2 MB",
        ),
        (
            "empty.mp4",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "파일을 골라",
        ),
    ];
    for (name, bytes, status, words) in cases {
        let page = app.upload_video(&topic, name, bytes).await;
        assert_eq!(page.status, status, "{name}: {}", page.body);
        if status != StatusCode::PAYLOAD_TOO_LARGE || page.text("[data-error-for=video]").is_some()
        {
            let message = page.text("[data-error-for=video]").unwrap_or_default();
            assert!(message.contains(words), "{name}: {message}");
        }
    }
    assert_eq!(count(&app.db, "SELECT count(*) FROM videos").await, 0);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM jobs WHERE kind = 'media.transcode'"
        )
        .await,
        0
    );
    assert!(files_under(&app.var_dir.join("media")).is_empty());
    assert!(files_under(&app.var_dir.join("tmp/media")).is_empty());

    // A learner cannot upload at all; the good clip still goes in.
    let learner = app.another_browser();
    learner.signed_up("learner@example.com").await;
    let page = learner
        .upload_video(&topic, "x.mp4", clip_bytes.clone())
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = app.upload_video(&topic, "ok.mp4", clip_bytes).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn video_files_reach_only_viewers_allowed_to_watch(db: PgPool) {
    let app = studio(db).await;
    let topic = app.video_topic(false).await;
    let (id, _) = ready_video(&app, &topic).await;
    let segment = format!("/media/videos/{id}/360p/seg_000.ts");
    let master = format!("/media/videos/{id}/master.m3u8");

    // The course's staff (an admin here) may watch; ranges are honoured.
    let part = app.get_with(&segment, &[("range", "bytes=0-187")]).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert!(part.header("content-range").starts_with("bytes 0-187/"));
    assert_eq!(part.header("content-type"), "video/mp2t");
    assert!(part.header("cache-control").contains("private"));

    let visitor = app.another_browser();
    assert_eq!(visitor.get(&master).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(visitor.get(&segment).await.status, StatusCode::UNAUTHORIZED);
    let lesson = visitor.get(&format!("/learn/topics/{topic}")).await;
    assert_eq!(lesson.status, StatusCode::SEE_OTHER, "to the login page");

    let learner = app.another_browser();
    learner.verified_learner("learner@example.com").await;
    assert_eq!(learner.get(&master).await.status, StatusCode::FORBIDDEN);
    let lesson = learner.get(&format!("/learn/topics/{topic}")).await;
    assert_eq!(lesson.status, StatusCode::FORBIDDEN);
    assert!(lesson.attr("#player", "data-hls-src").is_none());

    learner.buy_nanodegree().await;
    assert_eq!(learner.get(&master).await.status, StatusCode::OK);
    assert_eq!(learner.get(&segment).await.status, StatusCode::OK);
    assert_eq!(
        learner.get(&format!("/learn/topics/{topic}")).await.status,
        StatusCode::OK
    );

    // A free preview is open to anyone.
    sqlx::query("UPDATE topics SET is_preview = true WHERE id = $1::uuid")
        .bind(&topic)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(visitor.get(&segment).await.status, StatusCode::OK);
    sqlx::query("UPDATE topics SET is_preview = false WHERE id = $1::uuid")
        .bind(&topic)
        .execute(&app.db)
        .await
        .unwrap();

    // Expiry ends access at once.
    let learner_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'learner@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    sqlx::query("UPDATE enrolments SET starts_at = now() - interval '3 years', expires_at = now() - interval '1 day'")
        .execute(&app.db)
        .await
        .unwrap();
    weaverse::learning::access::forget(weaverse::ids::UserId(learner_id));
    assert_eq!(learner.get(&segment).await.status, StatusCode::FORBIDDEN);
    let lesson = learner.get(&format!("/learn/topics/{topic}")).await;
    assert_eq!(lesson.status, StatusCode::FORBIDDEN);
    assert!(lesson.body.contains("수강 기간이 끝났습니다"));

    // A refund ends it too (a second learner who bought and refunded).
    let refunder = app.another_browser();
    refunder.verified_learner("refund@example.com").await;
    refunder.buy_nanodegree().await;
    assert_eq!(refunder.get(&segment).await.status, StatusCode::OK);
    let payment: uuid::Uuid = sqlx::query_scalar(
        "SELECT p.id FROM payments p JOIN orders o ON o.id = p.order_id JOIN users u ON u.id = o.user_id WHERE u.email = 'refund@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let page = refunder
        .post_form(
            &format!("/payments/{payment}/refund"),
            &[("reason", "환불")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(refunder.get(&segment).await.status, StatusCode::FORBIDDEN);

    // Paths that climb out or name nothing are 404s, not files.
    for bad in [
        "../source.mp4",
        "360p/../../source.mp4",
        "nothing.ts",
        "captions/xx.vtt",
    ] {
        let page = app.get(&format!("/media/videos/{id}/{bad}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_killed_workers_transcoding_runs_again_and_only_a_whole_run_is_served(db: PgPool) {
    let app = studio(db.clone()).await;
    let topic = app.video_topic(false).await;
    let bytes = std::fs::read(clip(30, 720, true).await).unwrap();
    let page = app.upload_video(&topic, "long.mp4", bytes).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

    // A real worker process, killed (SIGKILL) while ffmpeg is working.
    let mut worker = std::process::Command::new(env!("CARGO_BIN_EXE_weaverse"))
        .arg("worker")
        .env("DATABASE_URL", crate::cli::database_url(&db))
        .env("VAR_DIR", &app.var_dir)
        .env("JOB_LEASE_SECS", "3")
        .env("DATA_KEYS", format!("test1:{}", hex::encode([9u8; 32])))
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let mut progressed = false;
    for _ in 0..600 {
        let progress: i16 = sqlx::query_scalar(
            "SELECT coalesce(j.progress, 0::smallint) FROM videos v JOIN jobs j ON j.id = v.job_id \
             WHERE v.topic_id = $1::uuid AND v.deleted_at IS NULL",
        )
        .bind(&topic)
        .fetch_one(&app.db)
        .await
        .unwrap();
        if progress > 0 {
            progressed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    assert!(progressed, "the worker never started transcoding");
    let (video, state, prefix) = app.video_of(&topic).await.unwrap();
    assert_eq!(state, "processing");
    assert!(prefix.is_none(), "nothing half-made is pointed at");
    // The studio shows the job's own percentage.
    let saved: i16 = sqlx::query_scalar(
        "SELECT j.progress FROM videos v JOIN jobs j ON j.id = v.job_id WHERE v.id = $1",
    )
    .bind(video)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let panel = app
        .get_htmx(&format!("/studio/videos/{video}/status"))
        .await;
    assert_eq!(panel.text(".video-progress"), Some(format!("{saved}%")));

    // Its claim runs out; the next worker takes the job and finishes it.
    tokio::time::sleep(Duration::from_secs(4)).await;
    app.run_jobs().await;
    let (id, state, prefix) = app.video_of(&topic).await.unwrap();
    assert_eq!(state, "ready");
    let runs = std::fs::read_dir(app.var_dir.join(format!("media/videos/{id}/hls")))
        .unwrap()
        .count();
    assert_eq!(runs, 1, "only the finished run is kept");
    assert!(prefix.unwrap().starts_with(&format!("videos/{id}/hls/")));
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM jobs WHERE kind = 'media.transcode' AND status = 'done' AND attempts = 2").await,
        1
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn s3_storage_round_trips_and_refuses_tampered_addresses(_db: PgPool) {
    use weaverse::infra::storage::{Delivery, S3, Storage};
    let server = S3Server::start("weaverse-media").await;
    let s3 = S3::new(&server.settings("weaverse-media"));
    s3.ensure_bucket().await.unwrap();
    s3.put_bytes(
        "videos/a/hls/r1/master.m3u8",
        b"#EXTM3U\n".to_vec(),
        "application/vnd.apple.mpegurl",
    )
    .await
    .unwrap();
    let file = clip(4, 360, true).await;
    s3.put_file("videos/a/source.mp4", &file, "video/mp4")
        .await
        .unwrap();
    assert_eq!(
        s3.get_bytes("videos/a/hls/r1/master.m3u8")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"#EXTM3U\n"[..])
    );
    assert_eq!(s3.get_bytes("videos/a/none").await.unwrap(), None);
    let size = std::fs::metadata(&file).unwrap().len();
    assert_eq!(s3.size("videos/a/source.mp4").await.unwrap(), Some(size));
    assert_eq!(s3.size("videos/a/none").await.unwrap(), None);
    let copy = std::env::temp_dir().join(format!("s3-copy-{}.mp4", uuid::Uuid::new_v4()));
    s3.get_to_file("videos/a/source.mp4", &copy).await.unwrap();
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&file).unwrap());
    let _ = std::fs::remove_file(copy);
    assert_eq!(
        s3.list("videos/a/").await.unwrap(),
        ["videos/a/hls/r1/master.m3u8", "videos/a/source.mp4"]
    );

    let Delivery::Redirect(url) = s3
        .deliver("videos/a/source.mp4", Duration::from_secs(60))
        .await
        .unwrap()
    else {
        panic!("S3 delivers by signed address");
    };
    let client = reqwest::Client::new();
    let fetched = client.get(&url).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.bytes().await.unwrap().len() as u64, size);
    // Another key under the same signature, or a changed signature: refused.
    let other_key = url.replace("videos/a/source.mp4", "videos/a/hls/r1/master.m3u8");
    assert_eq!(
        client.get(&other_key).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let mut tampered = url.clone();
    let at = tampered.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let flipped = if &tampered[at..at + 1] == "0" {
        "1"
    } else {
        "0"
    };
    tampered.replace_range(at..at + 1, flipped);
    assert_eq!(
        client.get(&tampered).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let unsigned = url.split('?').next().unwrap();
    assert_eq!(
        client.get(unsigned).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    s3.delete("videos/a/source.mp4").await.unwrap();
    assert_eq!(s3.size("videos/a/source.mp4").await.unwrap(), None);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn with_s3_the_app_proxies_playlists_and_signs_each_segment(db: PgPool) {
    let server = S3Server::start("weaverse-app").await;
    let settings = server.settings("weaverse-app");
    let app = TestApp::spawn_with(db, |c| c.media.s3 = Some(settings)).await;
    app.seed().await;
    app.login_as_admin().await;
    let topic = app.video_topic(false).await;
    let (id, _) = ready_video(&app, &topic).await;
    assert!(
        files_under(&app.var_dir.join("media")).is_empty(),
        "nothing on local disk"
    );
    let master = app.get(&format!("/media/videos/{id}/master.m3u8")).await;
    assert_eq!(master.status, StatusCode::OK);
    assert!(master.body.contains("720p/index.m3u8"));
    let segment = app
        .get(&format!("/media/videos/{id}/720p/seg_000.ts"))
        .await;
    assert_eq!(segment.status, StatusCode::TEMPORARY_REDIRECT);
    let signed = segment.header("location").to_string();
    assert!(signed.starts_with(&server.endpoint) && signed.contains("X-Amz-Signature="));
    let fetched = reqwest::get(&signed).await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    let visitor = app.another_browser();
    assert_eq!(
        visitor
            .get(&format!("/media/videos/{id}/720p/seg_000.ts"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_upload_cut_off_half_way_leaves_nothing_behind(db: PgPool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = studio(db).await;
    let topic = app.video_topic(false).await;
    let token = app.csrf_token().await;
    let cookies = {
        use reqwest::cookie::CookieStore;
        app.jar
            .cookies(&app.base.parse().unwrap())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    let clip = std::fs::read(clip(4, 720, true).await).unwrap();
    let boundary = "weaverseboundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"cut.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
    );
    let declared = head.len() + clip.len() + boundary.len() + 8;
    let port = app.base.rsplit(':').next().unwrap();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap()))
        .await
        .unwrap();
    let request = format!(
        "POST /studio/topics/{topic}/video HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {}\r\nCookie: {cookies}\r\nX-CSRF-Token: {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n",
        app.base
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&clip[..clip.len() / 2]).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The browser goes away mid-file.
    drop(stream);
    let mut left = Vec::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = files_under(&app.var_dir.join("tmp/media"));
        if left.is_empty() {
            break;
        }
    }
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(count(&app.db, "SELECT count(*) FROM videos").await, 0);
    assert!(files_under(&app.var_dir.join("media")).is_empty());
    // The server is fine and takes the next upload.
    let mut probe = tokio::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap()))
        .await
        .unwrap();
    probe
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = String::new();
    probe.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn behind_nginx_allowed_requests_become_x_accel_redirects(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.media.accel_prefix = Some("/_media".into())).await;
    app.seed().await;
    app.login_as_admin().await;
    let topic = app.video_topic(false).await;
    let (id, prefix) = ready_video(&app, &topic).await;
    let page = app
        .get(&format!("/media/videos/{id}/720p/seg_000.ts"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("x-accel-redirect"),
        format!("/_media/{prefix}720p/seg_000.ts")
    );
    assert_eq!(page.header("content-type"), "video/mp2t");
    assert!(page.body.is_empty());
    let visitor = app.another_browser();
    let page = visitor
        .get(&format!("/media/videos/{id}/720p/seg_000.ts"))
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.headers.get("x-accel-redirect").is_none());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_upload_without_a_declared_length_is_stopped_at_the_limit_with_its_size(db: PgPool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(db, |c| c.media.max_video_bytes = 2 * 1024 * 1024).await;
    app.seed().await;
    app.login_as_admin().await;
    let topic = app.video_topic(false).await;
    let token = app.csrf_token().await;
    let cookies = {
        use reqwest::cookie::CookieStore;
        app.jar
            .cookies(&app.base.parse().unwrap())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let boundary = "weaverseboundary";
    // Chunked: no Content-Length, so only counting the bytes can stop it.
    let head = format!(
        "POST /studio/topics/{topic}/video HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {}\r\nCookie: {cookies}\r\nX-CSRF-Token: {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"big.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
    );
    let mut body = part.into_bytes();
    body.extend(std::iter::repeat_n(0u8, 3 * 1024 * 1024));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    for chunk in body.chunks(64 * 1024) {
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    assert!(
        answer.contains("2 MB까지 올릴 수 있습니다"),
        "the page says the limit"
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM videos").await, 0);
    assert!(files_under(&app.var_dir.join("tmp/media")).is_empty());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_video_goes_only_to_a_video_topic(db: PgPool) {
    let app = studio(db).await;
    let reading: String = sqlx::query_scalar(
        "SELECT id::text FROM topics WHERE kind = 'reading' ORDER BY position LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let bytes = std::fs::read(clip(4, 360, true).await).unwrap();
    let page = app.upload_video(&reading, "lesson.mp4", bytes).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    assert!(page.body.contains("영상 토픽에만"), "{}", page.body);
    assert_eq!(count(&app.db, "SELECT count(*) FROM videos").await, 0);
    let captions = app
        .upload_captions(&reading, "WEBVTT\n\n00:00.000 --> 00:01.000\n안녕하세요\n")
        .await;
    assert_eq!(captions.status, StatusCode::CONFLICT);
}
