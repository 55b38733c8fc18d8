-- Certificates: issued once per learner and course (or nano-degree) when its
-- rule is met (a unique index decides, so concurrent completions issue one),
-- or by an admin with a reason; revoked with a reason, never deleted.
ALTER TABLE courses ADD COLUMN credits integer NOT NULL DEFAULT 3 CHECK (credits BETWEEN 0 AND 30);

CREATE TABLE certificates (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Unguessable: what the public verification address carries.
    code          text NOT NULL UNIQUE,
    user_id       uuid NOT NULL REFERENCES users (id),
    course_id     uuid REFERENCES courses (id),
    curriculum_id uuid REFERENCES curricula (id),
    -- As they were at issue time.
    learner_name  text NOT NULL,
    title         text NOT NULL,
    study_hours   double precision NOT NULL DEFAULT 0 CHECK (study_hours >= 0),
    score         integer CHECK (score BETWEEN 0 AND 100),
    credits       integer NOT NULL DEFAULT 0 CHECK (credits >= 0),
    issued_at     timestamptz NOT NULL DEFAULT now(),
    -- NULL: issued automatically when the rule was met.
    issued_by     uuid REFERENCES users (id),
    issue_reason  text CHECK (char_length(issue_reason) <= 500),
    status        text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    revoked_at    timestamptz,
    revoked_by    uuid REFERENCES users (id),
    revoke_reason text CHECK (char_length(revoke_reason) <= 500),
    -- The PDF in storage, once made.
    pdf_key       text,
    -- The learner lets anyone download the PDF.
    public        boolean NOT NULL DEFAULT false,
    CHECK ((course_id IS NULL) <> (curriculum_id IS NULL)),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE UNIQUE INDEX certificates_course_key ON certificates (user_id, course_id) WHERE course_id IS NOT NULL;
CREATE UNIQUE INDEX certificates_curriculum_key ON certificates (user_id, curriculum_id) WHERE curriculum_id IS NOT NULL;
CREATE INDEX certificates_issued_idx ON certificates (issued_at DESC);
