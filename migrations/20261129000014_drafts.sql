-- Drafts: a curriculum, course, lecture or topic is seen by learners only
-- once published (published_at set). What exists now stays public; what the
-- studio creates from here on starts as a draft.
ALTER TABLE curricula ADD COLUMN published_at timestamptz;
ALTER TABLE courses ADD COLUMN published_at timestamptz;
ALTER TABLE lectures ADD COLUMN published_at timestamptz;
ALTER TABLE topics ADD COLUMN published_at timestamptz;
UPDATE curricula SET published_at = created_at;
UPDATE courses SET published_at = created_at;
UPDATE lectures SET published_at = created_at;
UPDATE topics SET published_at = created_at;
