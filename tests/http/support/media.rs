//! Test clips made with ffmpeg (cached across tests in the temp folder), an
//! S3-compatible server (s3s-fs, which checks request signatures), and
//! uploads through the studio form.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use reqwest::multipart::{Form, Part};

use super::{Page, TestApp};

/// A clip `secs` long and `height` pixels tall (16:9, with a tone), made
/// once per machine. `faststart: false` leaves the index at the end, so a
/// truncated copy cannot be read.
pub async fn clip(secs: u32, height: u32, faststart: bool) -> PathBuf {
    let dir = std::env::temp_dir().join("weaverse-test-clips");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("clip-{secs}s-{height}p-{faststart}.mp4"));
    if path.exists() {
        return path;
    }
    let width = height * 16 / 9 / 2 * 2;
    let partial = dir.join(format!(".{}.mp4", uuid::Uuid::new_v4().simple()));
    let mut command = tokio::process::Command::new("ffmpeg");
    command
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=s={width}x{height}:r=30:d={secs}"),
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:duration={secs}"),
        ])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ]);
    if faststart {
        command.args(["-movflags", "+faststart"]);
    }
    let status = command.arg(&partial).status().await.expect("ffmpeg");
    assert!(status.success(), "making a test clip");
    std::fs::rename(&partial, &path).unwrap();
    path
}

impl TestApp {
    /// Posts a multipart form as the page's JavaScript does (CSRF header).
    pub async fn post_multipart(&self, path: &str, form: Form) -> Page {
        let token = self.csrf_token().await;
        let response = self
            .client
            .post(self.url(path))
            .header("origin", &self.base)
            .header("x-csrf-token", token)
            .multipart(form)
            .send()
            .await
            .expect("multipart post");
        TestApp::read(response).await
    }

    /// Posts `bytes` as the `video` file of the topic's upload form.
    pub async fn upload_video(&self, topic: &str, name: &str, bytes: Vec<u8>) -> Page {
        let form = Form::new().part("video", Part::bytes(bytes).file_name(name.to_string()));
        self.post_multipart(&format!("/studio/topics/{topic}/video"), form)
            .await
    }

    /// Posts a WebVTT file for the topic's video.
    pub async fn upload_captions(&self, topic: &str, vtt: &str) -> Page {
        let form = Form::new().text("language", "ko").part(
            "captions",
            Part::bytes(vtt.as_bytes().to_vec()).file_name("ko.vtt"),
        );
        self.post_multipart(&format!("/studio/topics/{topic}/captions"), form)
            .await
    }

    /// A video topic of the demo: the first one that is (or is not) a preview.
    pub async fn video_topic(&self, preview: bool) -> String {
        let id: uuid::Uuid = sqlx::query_scalar(
            "SELECT t.id FROM topics t JOIN lectures l ON l.id = t.lecture_id \
             WHERE t.kind = 'video' AND t.is_preview = $1 ORDER BY l.position, t.position LIMIT 1",
        )
        .bind(preview)
        .fetch_one(&self.db)
        .await
        .unwrap();
        id.to_string()
    }

    /// The live video of a topic: id, state and prefix.
    pub async fn video_of(&self, topic: &str) -> Option<(uuid::Uuid, String, Option<String>)> {
        sqlx::query_as(
            "SELECT id, state, hls_prefix FROM videos WHERE topic_id = $1::uuid AND deleted_at IS NULL",
        )
        .bind(topic)
        .fetch_optional(&self.db)
        .await
        .unwrap()
    }

    /// Plays a lesson's video as hls.js does: the master playlist at
    /// `master`, its first rendition's playlist, then that rendition's first
    /// segment, whose response this is.
    pub async fn first_segment(&self, master: &str) -> reqwest::Response {
        let playlist = self.get(master).await;
        assert_eq!(
            playlist.status,
            reqwest::StatusCode::OK,
            "{}",
            playlist.body
        );
        let rendition = playlist
            .body
            .lines()
            .find(|l| l.ends_with(".m3u8"))
            .expect("a rendition")
            .to_owned();
        let base = master.trim_end_matches("master.m3u8");
        let segments = self.get(&format!("{base}{rendition}")).await;
        let segment = segments
            .body
            .lines()
            .find(|l| l.ends_with(".ts"))
            .expect("a segment");
        let dir = rendition.rsplit_once('/').map_or("", |(d, _)| d);
        self.client
            .get(self.url(&format!("{base}{dir}/{segment}")))
            .send()
            .await
            .expect("segment")
    }

    /// A GET with extra headers (ranges, encodings).
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        TestApp::read(request.send().await.expect("get")).await
    }
}

/// s3s-fs on a free port with its own folder, killed when dropped.
pub struct S3Server {
    pub endpoint: String,
    pub root: PathBuf,
    child: std::process::Child,
}

pub const ACCESS_KEY: &str = "weaverse-test";
pub const SECRET_KEY: &str = "weaverse-test-secret-key-0123456789";

impl S3Server {
    pub async fn start(bucket: &str) -> Self {
        let root = std::env::temp_dir().join(format!("weaverse-s3-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join(bucket)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let binary = std::env::var("S3S_FS").unwrap_or_else(|_| "s3s-fs".into());
        let child = std::process::Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{binary} (scripts/system-deps.sh test installs it): {e}"));
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            root,
            child,
        }
    }

    pub fn settings(&self, bucket: &str) -> weaverse::infra::storage::S3Settings {
        weaverse::infra::storage::S3Settings {
            bucket: bucket.into(),
            endpoint: Some(self.endpoint.clone()),
            region: "us-east-1".into(),
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.into(),
            path_style: true,
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Every file under `dir` as a path inside it (none when it does not exist).
pub fn listing(dir: &Path) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect()
}

/// Every file under `dir` (none when it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                pending.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out
}

impl TestApp {
    /// Posts `bytes` as the `image` file of a cover or avatar form.
    pub async fn upload_image(&self, path: &str, bytes: Vec<u8>) -> Page {
        let form = Form::new().part("image", Part::bytes(bytes).file_name("picture.jpg"));
        self.post_multipart(path, form).await
    }

    /// Gives `course` a 1280x720 cover through the studio (sized later by
    /// the image job).
    pub async fn give_cover(&self, course: &str) {
        let cover = picture(image::ImageFormat::Png, 1280, 720);
        let page = self
            .upload_image(&format!("/studio/courses/{course}/cover"), cover)
            .await;
        assert!(page.status.is_redirection(), "{}", page.body);
    }

    /// The raw bytes of a GET.
    pub async fn get_bytes(&self, path: &str) -> (reqwest::StatusCode, Vec<u8>) {
        let response = self.client.get(self.url(path)).send().await.expect("get");
        let status = response.status();
        (status, response.bytes().await.expect("bytes").to_vec())
    }
}

/// A `width` x `height` picture of a gradient, encoded as `format`.
pub fn picture(format: image::ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let mut picture = image::RgbImage::new(width, height);
    for (x, y, p) in picture.enumerate_pixels_mut() {
        *p = image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}
