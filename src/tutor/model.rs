//! The tutor's states and kinds, each stored as its code in one place.

crate::text_enum!(
    /// How the tutor answers: explains a lesson, or only hints where the
    /// learner is being assessed.
    Mode {
        Explain => "explain",
        Hint => "hint",
    }
);

crate::text_enum!(
    /// Who wrote an answer.
    BackendKind {
        Model => "model",
        Retrieval => "retrieval",
    }
);

crate::text_enum!(
    /// Where an answer is.
    TurnState {
        Answering => "answering",
        Answered => "answered",
        Failed => "failed",
    }
);

crate::text_enum!(
    /// Why an answer failed: it took longer than allowed; the API was
    /// busy or failing after the retries (or answered nothing); it refused
    /// the request itself (a bad key or model); the process writing it
    /// stopped.
    Failure {
        Timeout => "timeout",
        Unavailable => "unavailable",
        Refused => "refused",
        Interrupted => "interrupted",
    }
);
