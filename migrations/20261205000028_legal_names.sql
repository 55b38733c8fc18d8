-- The learner's legal name, asked once before their first certificate (the
-- nickname stays the site's name). A certificate issued before it was given
-- waits for it: its PDF is made only once the name is confirmed.
ALTER TABLE users ADD COLUMN legal_name text CHECK (char_length(legal_name) BETWEEN 1 AND 40);
ALTER TABLE certificates ADD COLUMN name_confirmed boolean NOT NULL DEFAULT true;
