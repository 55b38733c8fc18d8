-- Learning records: what players sent, and what it adds up to.
--
-- `watch_events` is the log (the original ERD's VideoEventData): every event
-- a lesson player sent, with the seconds of playback it was credited.
-- `topic_progress` is that log folded for one learner and topic: the merged
-- intervals of the video watched, the player's cursor, completion. A batch is
-- folded under the row lock of `topic_progress` (taken by its upsert), so two
-- tabs never fold the same batch twice or interleave.
CREATE TABLE watch_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    topic_id    uuid NOT NULL REFERENCES topics (id),
    kind        text NOT NULL
                CHECK (kind IN ('play', 'pause', 'seek', 'heartbeat', 'ended', 'ratechange')),
    position    double precision NOT NULL CHECK (position >= 0),
    duration    double precision NOT NULL CHECK (duration > 0),
    rate        real NOT NULL DEFAULT 1 CHECK (rate BETWEEN 0.5 AND 2),
    -- A seek's starting point, when the player knew it.
    seek_from   double precision CHECK (seek_from >= 0),
    -- Every event of one batch shares it: the fold's clock.
    received_at timestamptz NOT NULL DEFAULT now(),
    -- Seconds of the video this event accounts for, and the real time spent
    -- watching them (study time).
    credited    double precision NOT NULL DEFAULT 0 CHECK (credited >= 0),
    study_secs  double precision NOT NULL DEFAULT 0 CHECK (study_secs >= 0),
    edited_at   timestamptz
);
CREATE INDEX watch_events_learner_idx ON watch_events (user_id, topic_id, id);
CREATE INDEX watch_events_study_idx ON watch_events (user_id, received_at) WHERE study_secs > 0;
CREATE INDEX watch_events_received_idx ON watch_events (received_at DESC, id DESC);

CREATE TABLE topic_progress (
    user_id       uuid NOT NULL REFERENCES users (id),
    topic_id      uuid NOT NULL REFERENCES topics (id),
    -- [[start, end], ...]: sorted, disjoint, in seconds of the video.
    watched       jsonb NOT NULL DEFAULT '[]',
    watched_secs  double precision NOT NULL DEFAULT 0 CHECK (watched_secs >= 0),
    -- The video's length when the last batch was folded (for percentages).
    video_secs    double precision CHECK (video_secs > 0),
    position      double precision NOT NULL DEFAULT 0 CHECK (position >= 0),
    playing       boolean NOT NULL DEFAULT false,
    rate          real NOT NULL DEFAULT 1 CHECK (rate BETWEEN 0.5 AND 2),
    last_batch_at timestamptz,
    completed_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Last opened or watched: "continue learning" goes to the latest.
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, topic_id)
);
CREATE INDEX topic_progress_recent_idx ON topic_progress (user_id, updated_at DESC);
CREATE INDEX topic_progress_topic_idx ON topic_progress (topic_id);

-- Per learner: the playback speed they chose last, and the window that
-- bounds how many batches they may send.
CREATE TABLE learner_watch (
    user_id        uuid PRIMARY KEY REFERENCES users (id),
    playback_rate  real NOT NULL DEFAULT 1 CHECK (playback_rate BETWEEN 0.5 AND 2),
    window_start   timestamptz NOT NULL DEFAULT now(),
    window_batches integer NOT NULL DEFAULT 0
);

-- Notes and bookmarks (a note without text) at a moment of a video; only
-- their learner sees them.
CREATE TABLE notes (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id),
    topic_id   uuid NOT NULL REFERENCES topics (id),
    position   double precision NOT NULL CHECK (position >= 0),
    body       text NOT NULL DEFAULT '' CHECK (char_length(body) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_learner_idx ON notes (user_id, topic_id, position);
