-- People: learners, tutors and admins. Soft delete keeps the row.
CREATE TABLE users (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    password_hash     text,
    nickname          text NOT NULL CHECK (char_length(nickname) BETWEEN 1 AND 30),
    role              text NOT NULL DEFAULT 'student' CHECK (role IN ('student', 'tutor', 'admin')),
    email_verified_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz
);

CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_role_idx ON users (role) WHERE deleted_at IS NULL;
