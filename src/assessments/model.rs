//! Mission and question kinds.

crate::text_enum!(
    /// Where a mission sits in its course.
    MissionKind {
        Midterm => "midterm",
        Final => "final",
        Practice => "practice",
    }
);

crate::text_enum!(
    /// What a question asks for.
    QuestionKind {
        Choice => "choice",
        Code => "code",
    }
);

crate::text_enum!(
    /// How a code question runs a submission: as the program (each test's
    /// harness appended, its input as stdin), or as a file (`answer.txt`)
    /// that each test's harness program checks.
    Mode {
        Program => "program",
        File => "file",
    }
);
