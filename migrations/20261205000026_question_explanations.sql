-- The tutor's explanation of a question (Markdown), shown with the right
-- answer once the learner passed the mission or used every attempt.
ALTER TABLE questions ADD COLUMN explanation text NOT NULL DEFAULT ''
    CHECK (char_length(explanation) <= 5000);
