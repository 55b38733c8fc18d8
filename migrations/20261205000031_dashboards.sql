-- The dashboards.

-- A learner's own missions (their dashboard, their admin view): attempts and
-- results are keyed mission first, so reading one learner's across missions
-- scanned the tables.
CREATE INDEX attempts_learner_idx ON attempts (user_id, mission_id);
CREATE INDEX mission_results_learner_idx ON mission_results (user_id);

-- The admin's figures over a date range, and who is online now.
CREATE INDEX auth_sessions_seen_idx ON auth_sessions (last_seen_at);
CREATE INDEX payments_approved_idx ON payments (approved_at);
CREATE INDEX refunds_settled_idx ON refunds (settled_at) WHERE state = 'succeeded';
CREATE INDEX enrolments_created_idx ON enrolments (created_at);

-- Learners online, sampled each minute: the day's peak in Asia/Seoul.
CREATE TABLE online_peaks (
    day     date PRIMARY KEY,
    peak    integer NOT NULL CHECK (peak >= 0),
    peak_at timestamptz NOT NULL
);

-- Figures too costly to count per page view, kept by the rollup job: each
-- course's funnel, each mission's attempts and passes, each video's
-- audience retention. `computed_at` says how fresh they are.
CREATE TABLE course_funnels (
    course_id   uuid PRIMARY KEY REFERENCES courses (id),
    enrolled    integer NOT NULL,
    started     integer NOT NULL,
    half_done   integer NOT NULL,
    completed   integer NOT NULL,
    -- Topics done over topics held, across the enrolled, 0-100.
    avg_percent double precision NOT NULL,
    computed_at timestamptz NOT NULL
);

CREATE TABLE mission_rates (
    mission_id  uuid PRIMARY KEY REFERENCES missions (id),
    attempts    integer NOT NULL,
    submissions integer NOT NULL,
    learners    integer NOT NULL,
    passed      integer NOT NULL,
    computed_at timestamptz NOT NULL
);

CREATE TABLE video_retention (
    topic_id    uuid PRIMARY KEY REFERENCES topics (id),
    -- Learners who opened the video (any watched second).
    viewers     integer NOT NULL,
    video_secs  double precision NOT NULL,
    -- Per second of the video from 0: how many of them watched it, and how
    -- many times it was watched again after a seek back.
    watching    integer[] NOT NULL,
    replays     integer[] NOT NULL DEFAULT '{}',
    computed_at timestamptz NOT NULL
);

-- The queue's figures (waiting, running, failed by kind) without reading
-- every finished job.
CREATE INDEX jobs_unfinished_idx ON jobs (kind, status)
    WHERE status IN ('pending', 'running', 'failed', 'cancelled');

-- Each mission's code submissions, for its rates.
CREATE INDEX code_submissions_question_idx ON code_submissions (question_id);

-- Seeks back within each video, for the replays beside its retention.
CREATE INDEX watch_events_seek_idx ON watch_events (topic_id) WHERE kind = 'seek';
