//! What can go wrong in the catalogue and the studio, in domain words. No
//! Korean and no status codes here: `handlers/errors.rs` maps each to both.

/// What is wrong with one form field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Missing,
    TooLong {
        max: usize,
    },
    /// A number outside what the field allows.
    OutOfRange,
    /// A `<select>` left on nothing, or on a value it does not offer.
    NotChosen,
    /// A line break, tab or invisible character in a one-line field.
    NotOneLine,
}

/// Every field problem of one form, by form field name.
pub type Invalid = crate::text::Invalid<Problem>;

/// What a tutor may change only if they wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    Course,
    Curriculum,
}

/// What a course or curriculum lacks before it may be published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    Description,
    Price,
    PublishedTopic,
    PublishedCourse,
    /// A course's cover image.
    Cover,
    /// A video topic's ready video.
    Video,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Publishing refused: what is missing.
    #[error("incomplete: {0:?}")]
    Incomplete(Vec<Missing>),
    #[error("not found")]
    NotFound,
    /// The studio user is not the author (nor an admin).
    #[error("not the author of this {0:?}")]
    NotAuthor(Work),
    #[error("invalid form: {0:?}")]
    Invalid(Invalid),
    /// Video work (an upload, captions) on a topic that is not a video.
    #[error("not a video topic")]
    NotVideo,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub type CatalogResult<T> = Result<T, CatalogError>;
