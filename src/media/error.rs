//! Why media is refused, in domain words; `handlers::refusal` puts each
//! into Korean with a status code.

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
    Captions(super::vtt::CaptionProblem),
    /// Our own tool failed to start: not the uploader's fault.
    #[error("tool failed: {0}")]
    Tool(String),
    #[error("too many uploads being checked")]
    Busy,
    /// The disk that receives or keeps media has no room left.
    #[error("no space left for media")]
    StorageFull,
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
    /// A failed write or copy of an upload: `StorageFull` when the disk is
    /// full, our own failure otherwise.
    pub fn of_io(err: &std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::StorageFull {
            Self::StorageFull
        } else {
            Self::Tool(err.to_string())
        }
    }

    /// `StorageFull` when a disk-full error is anywhere in `err`'s chain.
    pub fn storage_full_in(err: &anyhow::Error) -> Option<Self> {
        err.chain()
            .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
            .any(|io| io.kind() == std::io::ErrorKind::StorageFull)
            .then_some(Self::StorageFull)
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
