-- Media: one video per topic (uploaded -> processing -> ready | failed), its
-- captions, and what the job queue needs for long media work.

-- Jobs: a page-readable percentage, cancelling, and a 'cancelled' end state.
ALTER TABLE jobs ADD COLUMN progress smallint CHECK (progress BETWEEN 0 AND 100);
ALTER TABLE jobs ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled'));
CREATE INDEX jobs_admin_idx ON jobs (created_at DESC) WHERE status IN ('pending', 'running', 'failed', 'cancelled');

CREATE TABLE videos (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    topic_id      uuid NOT NULL REFERENCES topics (id),
    state         text NOT NULL DEFAULT 'uploaded'
                  CHECK (state IN ('uploaded', 'processing', 'ready', 'failed')),
    -- Why it failed, in words a tutor can act on.
    failure       text,
    -- The uploaded original in storage.
    source_key    text NOT NULL,
    source_bytes  bigint NOT NULL CHECK (source_bytes > 0),
    original_name text NOT NULL DEFAULT '',
    duration_ms   integer CHECK (duration_ms > 0),
    width         integer,
    height        integer,
    -- Set only in the statement that makes the video ready: the storage folder
    -- of one complete transcoding run (master.m3u8, renditions, poster.jpg).
    hls_prefix    text,
    renditions    text[] NOT NULL DEFAULT '{}',
    -- The transcoding job; how far it is lives there (jobs.progress).
    job_id        bigint REFERENCES jobs (id),
    uploaded_by   uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    CHECK (state <> 'ready' OR hls_prefix IS NOT NULL)
);
-- One live video per topic; a new upload retires the old one.
CREATE UNIQUE INDEX videos_topic_live ON videos (topic_id) WHERE deleted_at IS NULL;

CREATE TABLE captions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    video_id    uuid NOT NULL REFERENCES videos (id),
    language    text NOT NULL CHECK (language ~ '^[a-z]{2}(-[A-Z]{2})?$'),
    label       text NOT NULL CHECK (char_length(label) BETWEEN 1 AND 40),
    storage_key text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE UNIQUE INDEX captions_video_language_live ON captions (video_id, language) WHERE deleted_at IS NULL;
