-- A tutor's course is reviewed by an admin before it is public: publishing
-- asks for a review; an admin approves (publishes) it or sends it back with
-- a note. Admins publish their own changes directly.
ALTER TABLE courses
    ADD COLUMN review_requested_at timestamptz,
    ADD COLUMN review_note text CHECK (char_length(review_note) <= 500);
CREATE INDEX courses_review_idx ON courses (review_requested_at)
    WHERE review_requested_at IS NOT NULL AND published_at IS NULL AND deleted_at IS NULL;
