//! Catalogue vocabulary: categories, skill levels, price levels, topic kinds.
//! Each has its stored code and its Korean label.

/// Declares a closed set of codes with Korean labels.
macro_rules! labelled {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(&self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label(&self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The label for a stored code (the code itself if unknown).
            pub fn label_of(code: &str) -> &str {
                Self::parse(code).map(|v| v.label()).unwrap_or(code)
            }
        }
    };
}

labelled!(
    /// What a course is about.
    Category {
        Fullstack => ("fullstack", "풀스택"),
        WebBasics => ("web-basics", "웹 기초"),
        Frontend => ("frontend", "프론트엔드"),
        Backend => ("backend", "백엔드"),
        Tools => ("tools", "개발 도구"),
        Devops => ("devops", "배포·운영"),
    }
);

labelled!(
    /// How much a learner should already know.
    SkillLevel {
        Beginner => ("beginner", "입문"),
        Intermediate => ("intermediate", "중급"),
        Advanced => ("advanced", "고급"),
    }
);

labelled!(
    /// Price band, derived from the price by the database.
    PriceLevel {
        Free => ("free", "무료"),
        Low => ("low", "3만 원 미만"),
        Mid => ("mid", "3만~10만 원"),
        High => ("high", "10만 원 이상"),
        Bundle => ("bundle", "나노 디그리 전용"),
    }
);

labelled!(
    /// What a topic holds.
    TopicKind {
        Video => ("video", "영상"),
        Reading => ("reading", "읽기"),
        Mission => ("mission", "미션"),
    }
);

/// Something the catalogue sells and access is granted to: a curriculum
/// (the nano-degree) or a course sold on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Product {
    Curriculum(crate::ids::CurriculumId),
    Course(crate::ids::CourseId),
}

impl Product {
    /// The two nullable columns a product is stored as.
    pub fn columns(&self) -> (Option<uuid::Uuid>, Option<uuid::Uuid>) {
        match self {
            Self::Curriculum(id) => (Some(id.0), None),
            Self::Course(id) => (None, Some(id.0)),
        }
    }

    /// Curriculum ids and course ids, for `= ANY($n)` queries.
    pub fn split(products: &[Product]) -> (Vec<uuid::Uuid>, Vec<uuid::Uuid>) {
        let mut curricula = Vec::new();
        let mut courses = Vec::new();
        for product in products {
            match product {
                Self::Curriculum(id) => curricula.push(id.0),
                Self::Course(id) => courses.push(id.0),
            }
        }
        (curricula, courses)
    }

    /// From the two nullable columns; `None` unless exactly one is set.
    pub fn from_columns(
        curriculum: Option<uuid::Uuid>,
        course: Option<uuid::Uuid>,
    ) -> Option<Self> {
        match (curriculum, course) {
            (Some(id), None) => Some(Self::Curriculum(crate::ids::CurriculumId(id))),
            (None, Some(id)) => Some(Self::Course(crate::ids::CourseId(id))),
            _ => None,
        }
    }
}

/// One piece of the outline a tutor edits. Moving, deleting, restoring and
/// publishing work the same way on each kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    Curriculum(crate::ids::CurriculumId),
    Course(crate::ids::CourseId),
    Lecture(crate::ids::LectureId),
    Topic(crate::ids::TopicId),
}

/// Each kind's id names its piece or listing (so one handler serves every
/// kind).
macro_rules! named_by_id {
    ($kind:ident: $($id:ident => $variant:ident),+) => {$(
        impl From<crate::ids::$id> for $kind {
            fn from(id: crate::ids::$id) -> Self {
                Self::$variant(id)
            }
        }
    )+};
}

named_by_id!(Piece: CurriculumId => Curriculum, CourseId => Course, LectureId => Lecture, TopicId => Topic);
named_by_id!(Listing: CurriculumId => Curriculum, CourseId => Course);

/// What the catalogue lists and a tutor edits as a whole: a course or a
/// curriculum. Every piece of the outline belongs to one (its editor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    Curriculum(crate::ids::CurriculumId),
    Course(crate::ids::CourseId),
}

impl Listing {
    pub fn work(&self) -> crate::catalog::error::Work {
        match self {
            Listing::Curriculum(_) => crate::catalog::error::Work::Curriculum,
            Listing::Course(_) => crate::catalog::error::Work::Course,
        }
    }
}

impl From<Listing> for Piece {
    fn from(listing: Listing) -> Self {
        match listing {
            Listing::Curriculum(id) => Piece::Curriculum(id),
            Listing::Course(id) => Piece::Course(id),
        }
    }
}

/// `95` minutes -> `1시간 35분`
pub fn duration_label(secs: i64) -> String {
    let minutes = (secs + 59) / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}분"),
        (h, 0) => format!("{h}시간"),
        (h, m) => format!("{h}시간 {m}분"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_label(0), "0분");
        assert_eq!(duration_label(61), "2분");
        assert_eq!(duration_label(3600), "1시간");
        assert_eq!(duration_label(95 * 60), "1시간 35분");
    }

    #[test]
    fn codes_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.code()), Some(*c));
        }
        assert_eq!(SkillLevel::label_of("beginner"), "입문");
        assert_eq!(PriceLevel::parse("cheap"), None);
    }
}
