-- Images: course covers and profile pictures. The original is kept; a job
-- makes the sizes pages use (JPEG, metadata gone) and then, in one
-- transaction, retires the subject's earlier image and points the subject at
-- this one (courses.cover_image_id, users.avatar_image_id).
CREATE TABLE images (
    id          uuid PRIMARY KEY,
    purpose     text NOT NULL CHECK (purpose IN ('course_cover', 'avatar')),
    course_id   uuid REFERENCES courses (id),
    user_id     uuid REFERENCES users (id),
    state       text NOT NULL DEFAULT 'uploaded' CHECK (state IN ('uploaded', 'ready', 'failed')),
    source_key  text NOT NULL,
    format      text NOT NULL CHECK (format IN ('jpeg', 'png', 'webp')),
    bytes       bigint NOT NULL CHECK (bytes > 0),
    width       integer NOT NULL CHECK (width > 0),
    height      integer NOT NULL CHECK (height > 0),
    failure     text,
    uploaded_by uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    CHECK ((purpose = 'course_cover') = (course_id IS NOT NULL)),
    CHECK ((purpose = 'avatar') = (user_id IS NOT NULL))
);
CREATE INDEX images_course_idx ON images (course_id, created_at DESC) WHERE course_id IS NOT NULL;
CREATE INDEX images_user_idx ON images (user_id, created_at DESC) WHERE user_id IS NOT NULL;

ALTER TABLE courses ADD COLUMN cover_image_id uuid REFERENCES images (id);
ALTER TABLE users ADD COLUMN avatar_image_id uuid REFERENCES images (id);
