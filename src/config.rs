//! Every setting, read from the environment (and an optional `.env`), each with
//! a default that works on a developer's machine. `APP_ENV=production` refuses
//! the defaults that are unsafe outside a laptop.

use std::{env, fmt, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use url::Url;

/// Where the process runs; production turns on the strict checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

impl AppEnv {
    fn parse(raw: &str) -> anyhow::Result<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" | "" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" | "prod" => Ok(Self::Production),
            other => bail!("APP_ENV must be development, test or production, not {other:?}"),
        }
    }
}

impl fmt::Display for AppEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        })
    }
}

/// How many jobs each lane runs at once in one process (`src/jobs/lanes.rs`,
/// `app::lanes`): `JOB_LANES=quick=4,grading=2,video=1,batch=1`, any of them
/// left out keeps its default (grading follows `GRADING_SLOTS`, video
/// `FFMPEG_SLOTS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneSizes {
    /// Mail, image sizes, payment checks, housekeeping, samples.
    pub quick: usize,
    /// Code submissions in the sandbox.
    pub grading: usize,
    /// Transcoding.
    pub video: usize,
    /// Rollups and other long batch work.
    pub batch: usize,
}

impl LaneSizes {
    pub fn defaults(grading_slots: usize, ffmpeg_slots: usize) -> Self {
        Self {
            quick: 4,
            grading: grading_slots,
            video: ffmpeg_slots.max(1),
            batch: 1,
        }
    }

    /// `name=n` pairs over the defaults.
    pub fn parse(raw: &str, defaults: Self) -> anyhow::Result<Self> {
        let mut sizes = defaults;
        for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, n) = pair
                .split_once('=')
                .with_context(|| format!("JOB_LANES: {pair:?} is not name=number"))?;
            let n: usize = n
                .trim()
                .parse()
                .ok()
                .filter(|n| *n <= 256)
                .with_context(|| format!("JOB_LANES: {pair:?} needs a number up to 256"))?;
            match name.trim() {
                "quick" => sizes.quick = n,
                "grading" => sizes.grading = n,
                "video" => sizes.video = n,
                "batch" => sizes.batch = n,
                other => bail!("JOB_LANES: no lane {other:?} (quick, grading, video, batch)"),
            }
        }
        if sizes.quick == 0 {
            bail!("JOB_LANES: the quick lane needs at least one worker");
        }
        Ok(sizes)
    }
}

/// Where and how backups are kept.
#[derive(Clone, Debug)]
pub struct BackupConfig {
    /// `BACKUP_TO`: a folder or `s3://bucket/prefix`; set, the worker backs
    /// up daily.
    pub to: Option<String>,
    /// `BACKUP_KEEP_DAILY`, `BACKUP_KEEP_WEEKLY`: the newest backup of each
    /// of this many days and weeks is kept, the rest deleted.
    pub keep_daily: usize,
    pub keep_weekly: usize,
    /// `PG_BIN_DIR`: where `pg_dump` and `pg_restore` of the server's major
    /// version are (default: on `PATH`).
    pub pg_bin_dir: Option<PathBuf>,
    /// The S3 address and keys for `s3://` destinations (`S3_ENDPOINT`,
    /// `S3_REGION`, `S3_ACCESS_KEY_ID`, ...; the bucket comes from the URL).
    pub s3: Option<crate::infra::storage::S3Settings>,
}

impl BackupConfig {
    fn from_env() -> anyhow::Result<Self> {
        let key = var("S3_ACCESS_KEY_ID").or_else(|| var("AWS_ACCESS_KEY_ID"));
        let secret = var("S3_SECRET_ACCESS_KEY").or_else(|| var("AWS_SECRET_ACCESS_KEY"));
        let s3 = match (key, secret) {
            (Some(access_key_id), Some(secret_access_key)) => {
                Some(crate::infra::storage::S3Settings {
                    bucket: String::new(),
                    endpoint: var("S3_ENDPOINT"),
                    region: var("S3_REGION").unwrap_or_else(|| "ap-northeast-2".into()),
                    access_key_id,
                    secret_access_key,
                    path_style: parse_var("S3_PATH_STYLE", false)?,
                })
            }
            _ => None,
        };
        Ok(Self {
            to: var("BACKUP_TO"),
            keep_daily: parse_var("BACKUP_KEEP_DAILY", 7)?,
            keep_weekly: parse_var("BACKUP_KEEP_WEEKLY", 4)?,
            pg_bin_dir: var("PG_BIN_DIR").map(PathBuf::from),
            s3,
        })
    }

    fn for_tests() -> Self {
        Self {
            to: None,
            keep_daily: 7,
            keep_weekly: 4,
            pg_bin_dir: None,
            s3: None,
        }
    }
}

/// Log output shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A secret given in the environment, or generated locally on first run.
#[derive(Clone)]
pub struct SecretSource {
    pub bytes: Vec<u8>,
    pub generated: bool,
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretSource {{ generated: {}, .. }}", self.generated)
    }
}

/// Debian's fonts-nanum.
const DEFAULT_CERTIFICATE_FONT: &str = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf";

#[derive(Clone, Debug)]
pub struct Config {
    pub app_env: AppEnv,
    pub host: String,
    pub port: u16,
    pub public_url: Url,
    pub database_url: String,
    pub database_max_connections: u32,
    pub var_dir: PathBuf,
    pub static_dir: PathBuf,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    /// Key for signing cookies (CSRF, flash). `SESSION_KEY`, hex or base64, >= 32 bytes.
    pub session_key: Option<Vec<u8>>,
    pub session_idle_days: i64,
    /// Job worker loops inside `serve` (0: leave jobs to `weaverse worker`).
    pub job_workers: usize,
    /// How long a dead worker's job stays claimed (`JOB_LEASE_SECS`).
    pub job_lease: Duration,
    /// Workers per job lane in a process that runs jobs (`JOB_LANES`).
    pub job_lanes: LaneSizes,
    /// Backups (`weaverse backup`, the daily job).
    pub backup: BackupConfig,
    /// Bearer token for `/metrics` from outside the private network
    /// (`METRICS_TOKEN`); without it only direct internal callers read it.
    pub metrics_token: Option<String>,
    /// `id:key,...` for personal data at rest (see `infra::crypto`).
    pub data_keys: Option<String>,
    /// `smtp://` or `smtps://` URL; unset: mail goes to files in `var/mail`.
    pub smtp_url: Option<String>,
    /// The sender of every mail.
    pub mail_from: String,
    /// Google sign-in, enabled when both are set.
    pub google_client_id: Option<String>,
    pub google_client_secret: Option<String>,
    /// The OpenID provider's issuer (discovery at `{issuer}/.well-known/openid-configuration`).
    pub google_issuer: String,
    /// Kakao Login (OpenID Connect), enabled when both are set.
    pub kakao_client_id: Option<String>,
    pub kakao_client_secret: Option<String>,
    /// Kakao's issuer (`KAKAO_ISSUER`, `https://kauth.kakao.com`).
    pub kakao_issuer: String,
    /// Naver Login, enabled when both are set.
    pub naver_client_id: Option<String>,
    pub naver_client_secret: Option<String>,
    /// Naver's authorization server (`NAVER_AUTH_BASE`, `https://nid.naver.com`).
    pub naver_auth_base: String,
    /// Naver's profile API (`NAVER_API_BASE`, `https://openapi.naver.com`).
    pub naver_api_base: String,
    /// Read the client address from `X-Forwarded-For` (behind our own proxy only).
    pub trust_proxy: bool,
    /// The built-in test gateway; on by default, refused in production.
    pub demo_payments: bool,
    /// KakaoPay online payments, enabled when the secret key and cid are set.
    pub kakaopay_secret_key: Option<String>,
    pub kakaopay_cid: Option<String>,
    pub kakaopay_api_base: String,
    /// Toss Payments, enabled when both keys are set.
    pub toss_secret_key: Option<String>,
    pub toss_client_key: Option<String>,
    pub toss_api_base: String,
    /// Refund policy: a full refund within this many days of payment ...
    pub refund_full_days: i64,
    /// Limits (`LIMIT_*`): how many of each in its window before a 429.
    pub limits: Limits,
    /// ... while at most this percent of the content was used.
    pub refund_full_max_used_percent: i64,
    /// Storage, upload limits and media processing.
    pub media: MediaConfig,
    /// A video topic is complete when this percent of its seconds were
    /// watched (unique seconds: replays and seeks count once or not at all).
    pub complete_at_percent: u8,
    /// How many sandboxed programs (grading) run at once in a process.
    pub grading_slots: usize,
    /// `false` (`GRADING_ELSEWHERE=true`) when this process only takes
    /// submissions and separate workers grade them: it then does not probe a
    /// sandbox of its own (the workers' probe fails closed).
    pub grades_here: bool,
    /// Where each sandboxed run's folder is made (`SANDBOX_DIR`, default
    /// `VAR_DIR/sandbox`, or one under the temporary folder when a parent
    /// of that bars others): made 0700 and owned by the unprivileged user
    /// programs run as, so its parents must let others pass through.
    pub sandbox_dir: PathBuf,
    /// The font certificates are set in (it must have Hangul).
    pub certificate_font: PathBuf,
    /// The Ed25519 seed (64 hex digits) Open Badges credentials are signed
    /// with; unset in development: one is generated into `var/keys`.
    pub badge_key: Option<String>,
    /// The AI tutor beside the video (`TUTOR_*`).
    pub tutor: TutorConfig,
    /// The JSON API for other programs (`API_*`).
    pub api: ApiConfig,
}

/// `API_*`: who may call `/api` from a browser, and how often a token may.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Origins whose pages may call the API from a browser (CORS), e.g.
    /// `API_CORS_ORIGINS=https://hr.example.com,https://app.example.com`;
    /// none by default.
    pub cors_origins: Vec<String>,
    /// Requests one token (or, without one, one address) may make per
    /// minute, with bursts up to the same number.
    pub per_minute: u32,
}

impl ApiConfig {
    fn from_env() -> anyhow::Result<Self> {
        let cors_origins = var("API_CORS_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .map(|o| match Url::parse(&o) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.path() == "/" => Ok(o),
                _ => bail!("API_CORS_ORIGINS: {o:?} is not an origin like https://app.example.com"),
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            cors_origins,
            per_minute: parse_var::<u32>("API_RATE_PER_MINUTE", 600)?.clamp(1, 1_000_000),
        })
    }

    fn for_tests() -> Self {
        Self {
            cors_origins: vec!["https://hr.example.com".into()],
            per_minute: 600,
        }
    }
}

/// `TUTOR_*`: which model answers learners' questions (none set: the local
/// retrieval over the course's own text), and what a learner may ask.
#[derive(Clone, Debug)]
pub struct TutorConfig {
    /// An OpenAI-compatible API, e.g. `https://api.openai.com/v1` or a local
    /// vLLM / Ollama / llama.cpp server; unset: retrieval only.
    pub api_base: Option<String>,
    pub api_key: Option<String>,
    pub model: String,
    /// How long to wait for the API to accept the connection.
    pub connect_timeout: Duration,
    /// How long one whole answer may take (retries included).
    pub timeout: Duration,
    /// How many answers are written at once in a process.
    pub slots: usize,
    /// The longest question, in characters.
    pub max_question_chars: usize,
    /// Questions a learner may ask per minute, and per Seoul day.
    pub per_minute: i64,
    pub per_day: i64,
    /// The longest answer asked of the model, in tokens.
    pub max_answer_tokens: u32,
}

impl TutorConfig {
    fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            api_base: var("TUTOR_API_BASE").map(|b| b.trim_end_matches('/').to_owned()),
            api_key: var("TUTOR_API_KEY"),
            model: var("TUTOR_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
            connect_timeout: Duration::from_secs(parse_var("TUTOR_CONNECT_TIMEOUT_SECS", 5)?),
            // An answer still being written after ten minutes counts as cut
            // off (`tutor::repo::conversation`): the timeout stays below it.
            timeout: Duration::from_secs(parse_var::<u64>("TUTOR_TIMEOUT_SECS", 60)?.clamp(1, 540)),
            slots: parse_var::<usize>("TUTOR_SLOTS", 32)?.clamp(1, 1024),
            max_question_chars: parse_var::<usize>("TUTOR_MAX_QUESTION_CHARS", 500)?
                .clamp(20, 2000),
            per_minute: parse_var("TUTOR_PER_MINUTE", 6)?,
            per_day: parse_var("TUTOR_PER_DAY", 100)?,
            max_answer_tokens: parse_var("TUTOR_MAX_ANSWER_TOKENS", 800)?,
        })
    }

    /// Retrieval only, generous limits, short timeouts.
    pub fn for_tests() -> Self {
        Self {
            api_base: None,
            api_key: None,
            model: "weaverse-test".into(),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            slots: 8,
            max_question_chars: 500,
            per_minute: 30,
            per_day: 200,
            max_answer_tokens: 400,
        }
    }
}

/// `MEDIA_*`, `S3_*`: where media lives and what it may cost.
#[derive(Clone, Debug)]
pub struct MediaConfig {
    /// The local storage folder (`MEDIA_DIR`, default `var/media`).
    pub dir: PathBuf,
    /// Set when `S3_BUCKET` is: media goes to S3 instead of `dir`.
    pub s3: Option<crate::infra::storage::S3Settings>,
    /// Largest video upload (`MAX_VIDEO_BYTES`, default 4 GiB).
    pub max_video_bytes: u64,
    /// Longest video (`MAX_VIDEO_SECS`, default 4 hours).
    pub max_video_secs: u64,
    /// How long one upload request may take (`UPLOAD_TIMEOUT_SECS`).
    pub upload_timeout: Duration,
    /// ffmpeg runs at once in this process (`FFMPEG_SLOTS`, default 1):
    /// each takes a core or more and hundreds of MB.
    pub ffmpeg_slots: usize,
    /// Time limit of one transcoding run (`TRANSCODE_LIMIT_SECS`).
    pub transcode_limit: Duration,
    /// x264 preset for transcoding (`TRANSCODE_PRESET`, default veryfast).
    pub preset: String,
    /// `MEDIA_ACCEL_PREFIX` (e.g. `/_media`): behind nginx, answer allowed
    /// requests with `X-Accel-Redirect` to this internal location.
    pub accel_prefix: Option<String>,
    /// How long a presigned S3 address stays valid (`S3_PRESIGN_SECS`).
    pub presign_ttl: Duration,
    /// A CDN in front of the storage (`MEDIA_CDN_BASE` and its key): videos'
    /// renditions and segments are fetched from it with signed cookies.
    pub cdn: Option<crate::infra::storage::cdn::Cdn>,
}

impl MediaConfig {
    fn from_env(var_dir: &std::path::Path) -> anyhow::Result<Self> {
        let s3 = match var("S3_BUCKET") {
            None => None,
            Some(bucket) => Some(crate::infra::storage::S3Settings {
                bucket,
                endpoint: var("S3_ENDPOINT"),
                region: var("S3_REGION").unwrap_or_else(|| "ap-northeast-2".into()),
                access_key_id: var("S3_ACCESS_KEY_ID")
                    .or_else(|| var("AWS_ACCESS_KEY_ID"))
                    .context("S3_BUCKET is set: S3_ACCESS_KEY_ID is needed too")?,
                secret_access_key: var("S3_SECRET_ACCESS_KEY")
                    .or_else(|| var("AWS_SECRET_ACCESS_KEY"))
                    .context("S3_BUCKET is set: S3_SECRET_ACCESS_KEY is needed too")?,
                path_style: parse_var("S3_PATH_STYLE", false)?,
            }),
        };
        Ok(Self {
            dir: var("MEDIA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| var_dir.join("media")),
            s3,
            max_video_bytes: parse_var("MAX_VIDEO_BYTES", 4 * 1024 * 1024 * 1024)?,
            max_video_secs: parse_var("MAX_VIDEO_SECS", 4 * 3600)?,
            upload_timeout: Duration::from_secs(parse_var("UPLOAD_TIMEOUT_SECS", 3 * 3600)?),
            ffmpeg_slots: parse_var("FFMPEG_SLOTS", 1)?,
            transcode_limit: Duration::from_secs(parse_var("TRANSCODE_LIMIT_SECS", 4 * 3600)?),
            preset: var("TRANSCODE_PRESET").unwrap_or_else(|| "veryfast".into()),
            accel_prefix: var("MEDIA_ACCEL_PREFIX").map(|p| p.trim_end_matches('/').to_string()),
            presign_ttl: Duration::from_secs(parse_var("S3_PRESIGN_SECS", 300)?),
            cdn: cdn_from_env()?,
        })
    }

    /// Where browsers fetch media from besides us: the bucket's origin with
    /// S3 (presigned redirects land there) and the CDN's.
    pub fn delivery_origins(&self) -> Vec<String> {
        self.bucket_origin()
            .into_iter()
            .chain(self.cdn.as_ref().map(|cdn| cdn.origin()))
            .collect()
    }

    fn bucket_origin(&self) -> Option<String> {
        let s3 = self.s3.as_ref()?;
        let Some(endpoint) = &s3.endpoint else {
            return Some(format!(
                "https://{}.s3.{}.amazonaws.com",
                s3.bucket, s3.region
            ));
        };
        let url = Url::parse(endpoint).ok()?;
        let origin = url.origin().ascii_serialization();
        if s3.path_style {
            return Some(origin);
        }
        let host = url.host_str()?;
        Some(origin.replacen(host, &format!("{}.{host}", s3.bucket), 1))
    }

    /// Local storage under `var_dir`, small limits: for tests.
    pub fn for_tests(var_dir: &std::path::Path) -> Self {
        Self {
            dir: var_dir.join("media"),
            s3: None,
            max_video_bytes: 64 * 1024 * 1024,
            max_video_secs: 600,
            upload_timeout: Duration::from_secs(120),
            ffmpeg_slots: 1,
            transcode_limit: Duration::from_secs(300),
            preset: "veryfast".into(),
            accel_prefix: None,
            presign_ttl: Duration::from_secs(60),
            cdn: None,
        }
    }
}

/// Reads one variable; empty counts as unset.
/// `MEDIA_CDN_BASE` with `MEDIA_CDN_KEY_ID` and `MEDIA_CDN_KEY_FILE` (all or
/// none), `MEDIA_CDN_COOKIE_DOMAIN` and `MEDIA_CDN_SECS` (default 2 hours).
fn cdn_from_env() -> anyhow::Result<Option<crate::infra::storage::cdn::Cdn>> {
    let Some(base) = var("MEDIA_CDN_BASE") else {
        return Ok(None);
    };
    let base = Url::parse(base.trim()).context("MEDIA_CDN_BASE must be an address")?;
    let key_id =
        var("MEDIA_CDN_KEY_ID").context("MEDIA_CDN_BASE is set: MEDIA_CDN_KEY_ID is needed too")?;
    let key_file = var("MEDIA_CDN_KEY_FILE")
        .context("MEDIA_CDN_BASE is set: MEDIA_CDN_KEY_FILE is needed too")?;
    let pem = std::fs::read(&key_file)
        .with_context(|| format!("reading MEDIA_CDN_KEY_FILE {key_file}"))?;
    crate::infra::storage::cdn::Cdn::new(
        base,
        key_id.trim().to_owned(),
        &pem,
        var("MEDIA_CDN_COOKIE_DOMAIN").map(|d| d.trim().to_owned()),
        Duration::from_secs(parse_var("MEDIA_CDN_SECS", 2 * 3600)?),
    )
    .map(Some)
}

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={raw:?} is not valid: {e}")),
    }
}

/// Decodes a key given as hex or standard/url-safe base64.
pub fn decode_key(name: &str, raw: &str) -> anyhow::Result<Vec<u8>> {
    use base64::Engine;
    let raw = raw.trim();
    let bytes = hex::decode(raw)
        .ok()
        .or_else(|| base64::engine::general_purpose::STANDARD.decode(raw).ok())
        .or_else(|| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(raw)
                .ok()
        })
        .with_context(|| format!("{name} must be hex or base64"))?;
    if bytes.len() < 32 {
        bail!("{name} must hold at least 32 bytes (64 hex characters)");
    }
    Ok(bytes)
}

impl Config {
    /// Reads `.env` (if present) and then the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let config = Self::read_env()?;
        config.check_production()?;
        Ok(config)
    }

    /// The settings of a grading worker (`weaverse grade`): read like the
    /// others, but without production's demand for the session, data, badge
    /// and payment keys, which a grader must not hold.
    pub fn for_grading_from_env() -> anyhow::Result<Self> {
        Self::read_env()
    }

    fn read_env() -> anyhow::Result<Self> {
        // A missing .env is normal; a malformed one is worth stopping for.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(e).context("reading .env"),
        }
        let app_env = AppEnv::parse(&var("APP_ENV").unwrap_or_default())?;
        let host = var("HOST").unwrap_or_else(|| "127.0.0.1".into());
        let port: u16 = parse_var("PORT", 8000)?;
        let public_url = match var("PUBLIC_URL") {
            Some(raw) => Url::parse(raw.trim()).with_context(|| format!("PUBLIC_URL={raw:?}"))?,
            None => {
                let shown = if host == "0.0.0.0" {
                    "127.0.0.1"
                } else {
                    &host
                };
                Url::parse(&format!("http://{shown}:{port}")).context("HOST/PORT")?
            }
        };
        let session_key = var("SESSION_KEY")
            .map(|raw| decode_key("SESSION_KEY", &raw))
            .transpose()?;
        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("LOG_FORMAT must be text or json, not {other:?}"),
        };
        let var_dir = PathBuf::from(var("VAR_DIR").unwrap_or_else(|| "var".into()));
        let media = MediaConfig::from_env(&var_dir)?;
        let grading_slots = parse_var::<usize>("GRADING_SLOTS", 2)?.clamp(1, 64);
        let job_lanes = LaneSizes::parse(
            &var("JOB_LANES").unwrap_or_default(),
            LaneSizes::defaults(grading_slots, media.ffmpeg_slots),
        )?;
        let metrics_token = var("METRICS_TOKEN").map(|t| t.trim().to_owned());
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            bail!("METRICS_TOKEN must be at least 16 characters");
        }
        let config = Self {
            app_env,
            host,
            port,
            public_url,
            database_url: var("DATABASE_URL")
                .unwrap_or_else(|| "postgres://localhost/weaverse".into()),
            database_max_connections: parse_var("DATABASE_MAX_CONNECTIONS", 10)?,
            var_dir: var_dir.clone(),
            static_dir: PathBuf::from(var("STATIC_DIR").unwrap_or_else(|| "static".into())),
            log_filter: var("RUST_LOG").unwrap_or_else(|| "info,tower_http=warn,sqlx=warn".into()),
            log_format,
            request_timeout: Duration::from_secs(parse_var("REQUEST_TIMEOUT_SECS", 30)?),
            max_body_bytes: parse_var("MAX_BODY_BYTES", 2 * 1024 * 1024)?,
            session_key,
            session_idle_days: parse_var("SESSION_IDLE_DAYS", 14)?,
            job_workers: parse_var("JOB_WORKERS", 2)?,
            job_lease: Duration::from_secs(parse_var::<u64>("JOB_LEASE_SECS", 60)?.max(3)),
            job_lanes,
            metrics_token,
            backup: BackupConfig::from_env()?,
            data_keys: var("DATA_KEYS"),
            smtp_url: var("SMTP_URL"),
            mail_from: var("MAIL_FROM").unwrap_or_else(|| "Weaverse <no-reply@weaverse.kr>".into()),
            google_client_id: var("GOOGLE_CLIENT_ID"),
            google_client_secret: var("GOOGLE_CLIENT_SECRET"),
            google_issuer: var("GOOGLE_ISSUER")
                .unwrap_or_else(|| "https://accounts.google.com".into()),
            kakao_client_id: var("KAKAO_CLIENT_ID"),
            kakao_client_secret: var("KAKAO_CLIENT_SECRET"),
            kakao_issuer: var("KAKAO_ISSUER").unwrap_or_else(|| "https://kauth.kakao.com".into()),
            naver_client_id: var("NAVER_CLIENT_ID"),
            naver_client_secret: var("NAVER_CLIENT_SECRET"),
            naver_auth_base: var("NAVER_AUTH_BASE")
                .unwrap_or_else(|| "https://nid.naver.com".into()),
            naver_api_base: var("NAVER_API_BASE")
                .unwrap_or_else(|| "https://openapi.naver.com".into()),
            trust_proxy: parse_var("TRUST_PROXY", false)?,
            demo_payments: parse_var("DEMO_PAYMENTS", app_env != AppEnv::Production)?,
            kakaopay_secret_key: var("KAKAOPAY_SECRET_KEY"),
            kakaopay_cid: var("KAKAOPAY_CID"),
            kakaopay_api_base: var("KAKAOPAY_API_BASE")
                .unwrap_or_else(|| "https://open-api.kakaopay.com".into()),
            toss_secret_key: var("TOSS_SECRET_KEY"),
            toss_client_key: var("TOSS_CLIENT_KEY"),
            toss_api_base: var("TOSS_API_BASE")
                .unwrap_or_else(|| "https://api.tosspayments.com".into()),
            refund_full_days: parse_var("REFUND_FULL_DAYS", 7)?,
            limits: Limits {
                login_failures_per_account: parse_var("LIMIT_LOGIN_FAILURES_PER_ACCOUNT", 5)?,
                login_failures_per_ip: parse_var("LIMIT_LOGIN_FAILURES_PER_IP", 100)?,
                signups_per_ip: parse_var("LIMIT_SIGNUPS_PER_IP", 60)?,
                verify_mails_per_account: parse_var("LIMIT_VERIFY_MAILS_PER_ACCOUNT", 3)?,
                reset_mails_per_account: parse_var("LIMIT_RESET_MAILS_PER_ACCOUNT", 3)?,
                reset_mails_per_ip: parse_var("LIMIT_RESET_MAILS_PER_IP", 60)?,
                password_checks_per_account: parse_var("LIMIT_PASSWORD_CHECKS_PER_ACCOUNT", 5)?,
                watch_batches_per_learner: parse_var("LIMIT_WATCH_BATCHES_PER_LEARNER", 60)?,
                code_submissions_per_learner: parse_var("LIMIT_CODE_SUBMISSIONS_PER_LEARNER", 10)?,
            },
            refund_full_max_used_percent: parse_var("REFUND_FULL_MAX_USED_PERCENT", 10)?,
            media,
            complete_at_percent: parse_var::<u8>("COMPLETE_AT_PERCENT", 90)?.clamp(1, 100),
            grading_slots,
            grades_here: !parse_var("GRADING_ELSEWHERE", false)?,
            sandbox_dir: var("SANDBOX_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| default_sandbox_dir(&var_dir)),
            badge_key: var("BADGE_SIGNING_KEY"),
            certificate_font: var("CERTIFICATE_FONT")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CERTIFICATE_FONT)),
            tutor: TutorConfig::from_env()?,
            api: ApiConfig::from_env()?,
        };
        Ok(config)
    }

    /// The settings a test run uses: nothing read from the environment.
    pub fn for_tests(
        database_url: &str,
        static_dir: PathBuf,
        var_dir: PathBuf,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            app_env: AppEnv::Test,
            host: "127.0.0.1".into(),
            port: 0,
            public_url: Url::parse("http://127.0.0.1")?,
            database_url: database_url.into(),
            database_max_connections: 5,
            static_dir,
            log_filter: "warn".into(),
            log_format: LogFormat::Text,
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 2 * 1024 * 1024,
            session_key: Some(vec![7; 32]),
            session_idle_days: 14,
            job_workers: 0,
            job_lease: Duration::from_secs(60),
            job_lanes: LaneSizes::defaults(2, 1),
            metrics_token: None,
            backup: BackupConfig::for_tests(),
            data_keys: Some(format!("test1:{}", hex::encode([9u8; 32]))),
            smtp_url: None,
            mail_from: "Weaverse <no-reply@weaverse.kr>".into(),
            google_client_id: None,
            google_client_secret: None,
            google_issuer: "https://accounts.google.com".into(),
            kakao_client_id: None,
            kakao_client_secret: None,
            kakao_issuer: "https://kauth.kakao.com".into(),
            naver_client_id: None,
            naver_client_secret: None,
            naver_auth_base: "https://nid.naver.com".into(),
            naver_api_base: "https://openapi.naver.com".into(),
            trust_proxy: false,
            demo_payments: true,
            kakaopay_secret_key: None,
            kakaopay_cid: None,
            kakaopay_api_base: "https://open-api.kakaopay.com".into(),
            toss_secret_key: None,
            toss_client_key: None,
            toss_api_base: "https://api.tosspayments.com".into(),
            refund_full_days: 7,
            limits: Limits::default(),
            refund_full_max_used_percent: 10,
            media: MediaConfig::for_tests(&var_dir),
            complete_at_percent: 90,
            grading_slots: 2,
            grades_here: true,
            sandbox_dir: var_dir.join("sandbox"),
            certificate_font: PathBuf::from(DEFAULT_CERTIFICATE_FONT),
            badge_key: Some(hex::encode([5u8; 32])),
            tutor: TutorConfig::for_tests(),
            api: ApiConfig::for_tests(),
            var_dir,
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }

    /// Cookies carry `Secure` whenever the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// `scheme://host[:port]` of the public address, as browsers send in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// Production must not run on development defaults.
    fn check_production(&self) -> anyhow::Result<()> {
        if !self.is_production() {
            return Ok(());
        }
        let mut problems = Vec::new();
        if self.session_key.is_none() {
            problems.push("SESSION_KEY must be set (64 hex characters or more)".to_string());
        }
        if self.public_url.scheme() != "https" {
            problems.push(format!("PUBLIC_URL must be https, not {}", self.public_url));
        }
        if self.data_keys.is_none() {
            problems.push("DATA_KEYS must be set (id:key pairs for personal data)".to_string());
        }
        if self.badge_key.is_none() {
            problems.push(
                "BADGE_SIGNING_KEY must be set (64 hex digits: certificates' Open Badges are signed with it)"
                    .to_string(),
            );
        }
        if self.demo_payments {
            problems.push("DEMO_PAYMENTS must be off: the demo gateway takes no money".to_string());
        }
        if self.kakaopay_cid.as_deref() == Some("TC0ONETIME") {
            problems.push("KAKAOPAY_CID is KakaoPay's test merchant code TC0ONETIME".to_string());
        }
        if self
            .kakaopay_secret_key
            .as_deref()
            .is_some_and(|k| k.starts_with("DEV"))
        {
            problems.push("KAKAOPAY_SECRET_KEY is a development (DEV) key".to_string());
        }
        if self
            .toss_secret_key
            .as_deref()
            .is_some_and(|k| k.starts_with("test_"))
            || self
                .toss_client_key
                .as_deref()
                .is_some_and(|k| k.starts_with("test_"))
        {
            problems.push("TOSS_SECRET_KEY/TOSS_CLIENT_KEY are test keys (test_...)".to_string());
        }
        if var("DATABASE_URL").is_none() {
            problems.push("DATABASE_URL must be set".to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!(
                "APP_ENV=production refuses to start:\n  - {}",
                problems.join("\n  - ")
            )
        }
    }
}

/// The first parent of `path` that users other than its owner may not pass
/// through (no `x` for others), if any: the sandbox's user (`nobody`) could
/// not reach `path`. Parents that do not exist yet are not counted.
pub fn barring_parent(path: &std::path::Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    path.ancestors().skip(1).find_map(|dir| {
        let mode = std::fs::metadata(dir).ok()?.permissions().mode();
        (mode & 0o001 == 0).then(|| dir.to_path_buf())
    })
}

/// `VAR_DIR/sandbox`, where the sandbox user (`nobody`) can pass through
/// every parent folder; otherwise (a checkout in a private home folder) a
/// folder of this checkout's own under the system's temporary folder, which
/// the sandbox makes 0700 for `nobody` all the same.
fn default_sandbox_dir(var_dir: &std::path::Path) -> PathBuf {
    let wanted = std::path::absolute(var_dir)
        .unwrap_or_else(|_| var_dir.to_path_buf())
        .join("sandbox");
    if barring_parent(&wanted).is_none() {
        return wanted;
    }
    use sha2::Digest;
    let tag = hex::encode(&sha2::Sha256::digest(wanted.as_os_str().as_encoded_bytes())[..6]);
    std::env::temp_dir().join(format!("weaverse-sandbox-{tag}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn job_lanes_take_named_sizes_over_their_defaults() {
        use super::LaneSizes;
        let defaults = LaneSizes::defaults(3, 2);
        assert_eq!(
            defaults,
            LaneSizes {
                quick: 4,
                grading: 3,
                video: 2,
                batch: 1
            }
        );
        let sizes = LaneSizes::parse(" video=1, quick=8 ", defaults).unwrap();
        assert_eq!((sizes.quick, sizes.grading, sizes.video), (8, 3, 1));
        assert_eq!(LaneSizes::parse("", defaults).unwrap(), defaults);
        for bad in ["slow=2", "quick", "quick=x", "quick=0", "video=9999"] {
            assert!(LaneSizes::parse(bad, defaults).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sandbox_folder_is_under_var_unless_a_parent_bars_the_sandbox_user() {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::temp_dir().join(format!("cfg-{}", uuid::Uuid::new_v4().simple()));
        let open = base.join("open");
        let private = base.join("private");
        std::fs::create_dir_all(&open).unwrap();
        std::fs::create_dir_all(&private).unwrap();
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(
            super::default_sandbox_dir(&open.join("var")),
            open.join("var").join("sandbox")
        );
        let fallback = super::default_sandbox_dir(&private.join("var"));
        assert!(
            fallback.starts_with(std::env::temp_dir())
                && fallback.to_string_lossy().contains("weaverse-sandbox-"),
            "{fallback:?}"
        );
        std::fs::remove_dir_all(base).unwrap();
    }

    use super::*;

    #[test]
    fn app_env_parses_known_names_and_refuses_others() {
        assert_eq!(AppEnv::parse("production").ok(), Some(AppEnv::Production));
        assert_eq!(AppEnv::parse("").ok(), Some(AppEnv::Development));
        assert!(AppEnv::parse("staging").is_err());
    }

    #[test]
    fn keys_decode_from_hex_or_base64_and_must_be_long_enough() {
        let hex_key = "ab".repeat(32);
        assert_eq!(decode_key("K", &hex_key).map(|k| k.len()).ok(), Some(32));
        let b64 = "q".repeat(44);
        assert!(decode_key("K", &b64).is_ok());
        assert!(decode_key("K", "abcd").is_err());
        assert!(decode_key("K", "not a key!").is_err());
    }

    #[test]
    fn production_refuses_http_public_url_and_missing_secrets() {
        let Ok(mut config) = Config::for_tests(
            "postgres://localhost/x",
            PathBuf::from("static"),
            PathBuf::from("var"),
        ) else {
            unreachable!("test config builds")
        };
        config.app_env = AppEnv::Production;
        config.session_key = None;
        config.data_keys = None;
        let err = config.check_production().err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("SESSION_KEY"), "{err}");
        assert!(err.contains("PUBLIC_URL must be https"), "{err}");
        assert!(err.contains("DATA_KEYS"), "{err}");

        config.kakaopay_cid = Some("TC0ONETIME".into());
        config.kakaopay_secret_key = Some("DEV1234".into());
        let err = config
            .check_production()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("TC0ONETIME"), "{err}");
        assert!(err.contains("development (DEV) key"), "{err}");
        config.toss_secret_key = Some("test_sk_abc".into());
        let err = config
            .check_production()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("test keys"), "{err}");
    }
}

/// How many of each attempt a window allows (`LIMIT_*` settings). The
/// defaults let a classroom of 40 behind one address sign up and sign in on
/// its first day while a script is still stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Failed logins per email, per 15 minutes.
    pub login_failures_per_account: i64,
    /// Failed logins per client address, per 15 minutes.
    pub login_failures_per_ip: i64,
    /// Sign-ups per client address, per hour.
    pub signups_per_ip: i64,
    /// Verification mails per account, per hour.
    pub verify_mails_per_account: i64,
    /// Password-reset mails per email, per hour.
    pub reset_mails_per_account: i64,
    /// Password-reset mails per client address, per hour.
    pub reset_mails_per_ip: i64,
    /// Current-password checks from a signed-in session, per 15 minutes.
    pub password_checks_per_account: i64,
    /// Watch-event batches per learner, per minute (a player sends about
    /// six).
    pub watch_batches_per_learner: i64,
    /// Code submissions per learner, per minute.
    pub code_submissions_per_learner: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            login_failures_per_account: 5,
            login_failures_per_ip: 100,
            signups_per_ip: 60,
            verify_mails_per_account: 3,
            reset_mails_per_account: 3,
            reset_mails_per_ip: 60,
            password_checks_per_account: 5,
            watch_batches_per_learner: 60,
            code_submissions_per_learner: 10,
        }
    }
}
