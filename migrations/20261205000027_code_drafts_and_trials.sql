-- The code a learner is writing for a code question, saved as they type so
-- a reload (or another device) brings it back instead of the starter code.
CREATE TABLE code_drafts (
    user_id     uuid NOT NULL REFERENCES users (id),
    question_id uuid NOT NULL REFERENCES questions (id),
    code        text NOT NULL CHECK (octet_length(code) <= 65536),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, question_id)
);

-- "실행해 보기": a run of the visible tests only, shown to the learner and
-- never counted towards the mission's score.
ALTER TABLE code_submissions ADD COLUMN trial boolean NOT NULL DEFAULT false;
