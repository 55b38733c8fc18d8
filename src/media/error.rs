//! Why media is refused, in domain words; `handlers` maps each to Korean
//! and a status code.

/// Why an uploaded file is not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no file in the form")]
    NoFile,
    #[error("not a video container we accept")]
    NotVideo,
    #[error("larger than {max_bytes} bytes")]
    TooLarge { max_bytes: u64 },
    #[error("damaged or incomplete")]
    Damaged,
    #[error("no video stream")]
    NoVideoStream,
    #[error("codec {0} not accepted")]
    Codec(String),
    #[error("longer than {max_secs} s")]
    TooLong { max_secs: u64 },
    #[error("frame size out of bounds")]
    Dimensions,
    #[error("upload interrupted")]
    Interrupted,
    #[error("captions: {0}")]
    Captions(String),
    /// Our own tool failed to start: not the uploader's fault.
    #[error("tool failed: {0}")]
    Tool(String),
    #[error("too many uploads being checked")]
    Busy,
    #[error("not a JPEG, PNG or WebP image")]
    NotImage,
    #[error("image smaller than 16 px")]
    ImageTooSmall,
    #[error("image declares more than {max_pixels} pixels")]
    TooManyPixels { max_pixels: u64 },
    #[error("too many image uploads; wait {wait_secs} s")]
    TooManyUploads { wait_secs: u64 },
}

impl Refusal {
    /// What the tutor reads beside the form.
    pub fn message(&self) -> String {
        match self {
            Self::NoFile => "올릴 파일을 골라 주세요.".into(),
            Self::NotVideo => {
                "동영상 파일이 아닙니다. MP4, MOV, WebM, MKV 파일만 올릴 수 있습니다.".into()
            }
            Self::TooLarge { max_bytes } => format!(
                "파일이 너무 큽니다. {}까지 올릴 수 있습니다.",
                human_size(*max_bytes)
            ),
            Self::Damaged => {
                "파일이 손상되었거나 끝까지 올라오지 않았습니다. 원본을 확인해 다시 올려 주세요."
                    .into()
            }
            Self::NoVideoStream => "영상 트랙이 없는 파일입니다.".into(),
            Self::Codec(codec) => format!(
                "지원하지 않는 코덱({codec})입니다. H.264, HEVC, VP9, AV1 영상을 올려 주세요."
            ),
            Self::TooLong { max_secs } => {
                format!(
                    "영상이 너무 깁니다. {}분까지 올릴 수 있습니다.",
                    max_secs / 60
                )
            }
            Self::Dimensions => "영상 크기가 너무 작거나 큽니다 (최대 7680×4320).".into(),
            Self::Interrupted => "업로드가 중간에 끊겼습니다. 다시 올려 주세요.".into(),
            Self::Captions(why) => format!("자막 파일(WebVTT)이 올바르지 않습니다: {why}"),
            Self::Tool(_) => "파일을 확인하지 못했습니다. 잠시 후 다시 시도해 주세요.".into(),
            Self::Busy => "지금은 확인 중인 업로드가 많습니다. 잠시 후 다시 시도해 주세요.".into(),
            Self::NotImage => {
                "이미지 파일이 아닙니다. JPEG, PNG, WebP 이미지만 올릴 수 있습니다.".into()
            }
            Self::ImageTooSmall => {
                "이미지가 너무 작습니다. 가로세로 16픽셀 이상이어야 합니다.".into()
            }
            Self::TooManyPixels { max_pixels } => format!(
                "이미지의 픽셀 수가 너무 많습니다. {}만 픽셀 이하로 줄여 주세요.",
                max_pixels / 10_000
            ),
            Self::TooManyUploads { wait_secs } => format!(
                "이미지를 너무 자주 올렸습니다. {}분 뒤에 다시 올려 주세요.",
                wait_secs.div_ceil(60).max(1)
            ),
        }
    }

    /// The status code of the page that shows it.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotVideo | Self::NotImage => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Tool(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyUploads { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Interrupted | Self::NoFile => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// `4 GB`, `64 MB`.
pub fn human_size(bytes: u64) -> String {
    const GB: u64 = 1024 * 1024 * 1024;
    const MB: u64 = 1024 * 1024;
    if bytes >= GB && bytes.is_multiple_of(GB) {
        format!("{} GB", bytes / GB)
    } else if bytes >= MB {
        format!("{} MB", bytes / MB)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}
