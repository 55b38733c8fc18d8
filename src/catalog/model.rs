//! Catalogue vocabulary: categories, skill levels, price levels, topic kinds.
//! Each is a `text_enum!` (its stored code); `labels` says them in words.

crate::text_enum!(
    /// What a course is about.
    Category {
        Fullstack => "fullstack",
        WebBasics => "web-basics",
        Frontend => "frontend",
        Backend => "backend",
        Tools => "tools",
        Devops => "devops",
    }
);

crate::text_enum!(
    /// How much a learner should already know.
    SkillLevel {
        Beginner => "beginner",
        Intermediate => "intermediate",
        Advanced => "advanced",
    }
);

crate::text_enum!(
    /// Price band, derived from the price by the database.
    PriceLevel {
        Free => "free",
        Low => "low",
        Mid => "mid",
        High => "high",
        Bundle => "bundle",
    }
);

crate::text_enum!(
    /// What a topic holds.
    TopicKind {
        Video => "video",
        Reading => "reading",
        Mission => "mission",
    }
);

impl TopicKind {
    pub fn is_mission(&self) -> bool {
        *self == Self::Mission
    }
}

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

    /// How a form names it: `curriculum:{id}` or `course:{id}`.
    pub fn key(&self) -> String {
        match self {
            Self::Curriculum(id) => format!("curriculum:{id}"),
            Self::Course(id) => format!("course:{id}"),
        }
    }

    /// From a form's [`Product::key`]; `None` for anything else.
    pub fn from_key(key: &str) -> Option<Self> {
        let (kind, id) = key.trim().split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "curriculum" => Some(Self::Curriculum(crate::ids::CurriculumId(id))),
            "course" => Some(Self::Course(crate::ids::CourseId(id))),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
        }
        assert_eq!(SkillLevel::parse("beginner"), Some(SkillLevel::Beginner));
        assert_eq!(PriceLevel::parse("cheap"), None);
    }
}
