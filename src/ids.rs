//! Typed ids, so a `UserId` can never be passed where a `CourseId` is wanted.

/// Declares a `Uuid` newtype id that sqlx stores as `uuid`.
macro_rules! uuid_id {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, sqlx::Type)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    )+};
}

uuid_id!(
    /// A person's account.
    UserId,
    /// A curriculum (the nano-degree is one).
    CurriculumId,
    /// A course.
    CourseId,
    /// A lecture inside a course.
    LectureId,
    /// A topic inside a lecture: a video, a reading or a mission.
    TopicId,
);
