-- When a person last signed in (their sessions come and go; this stays),
-- for the admin's view of a learner.
ALTER TABLE users ADD COLUMN last_sign_in_at timestamptz;
