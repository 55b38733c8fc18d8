-- Missions: a course's midterm and final (topics of kind 'mission') with
-- multiple-choice and code questions, graded on the server; code runs in
-- the sandbox from a job.
CREATE TABLE missions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    topic_id        uuid NOT NULL UNIQUE REFERENCES topics (id),
    kind            text NOT NULL CHECK (kind IN ('midterm', 'final', 'practice')),
    pass_percent    integer NOT NULL DEFAULT 60 CHECK (pass_percent BETWEEN 1 AND 100),
    -- NULL: as many attempts as the learner likes.
    max_attempts    integer CHECK (max_attempts > 0),
    time_limit_secs integer CHECK (time_limit_secs > 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE questions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mission_id    uuid NOT NULL REFERENCES missions (id),
    position      integer NOT NULL CHECK (position > 0),
    kind          text NOT NULL CHECK (kind IN ('choice', 'code')),
    -- Markdown, rendered without raw HTML.
    prompt        text NOT NULL CHECK (char_length(prompt) BETWEEN 1 AND 20000),
    points        integer NOT NULL DEFAULT 1 CHECK (points BETWEEN 1 AND 100),
    -- Choice questions: more than one correct choice, all to be picked.
    multiple      boolean NOT NULL DEFAULT false,
    -- Code questions.
    language      text CHECK (language IN ('javascript', 'python')),
    -- 'program': the submission is the program (each test's harness is
    -- appended, its input is stdin); 'file': the submission is saved as
    -- answer.txt and each test's harness is the program that checks it.
    mode          text CHECK (mode IN ('program', 'file')),
    starter_code  text NOT NULL DEFAULT '',
    cpu_secs      integer NOT NULL DEFAULT 5 CHECK (cpu_secs BETWEEN 1 AND 30),
    memory_mb     integer NOT NULL DEFAULT 512 CHECK (memory_mb BETWEEN 64 AND 2048),
    deleted_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'code') = (language IS NOT NULL AND mode IS NOT NULL))
);
CREATE INDEX questions_mission_idx ON questions (mission_id, position) WHERE deleted_at IS NULL;

CREATE TABLE choices (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    question_id uuid NOT NULL REFERENCES questions (id),
    position    integer NOT NULL CHECK (position > 0),
    body        text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2000),
    correct     boolean NOT NULL DEFAULT false
);
CREATE INDEX choices_question_idx ON choices (question_id, position);

CREATE TABLE code_tests (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    question_id uuid NOT NULL REFERENCES questions (id),
    position    integer NOT NULL CHECK (position > 0),
    -- Visible tests are shown with their input and expected output; hidden
    -- ones never reach the browser.
    visible     boolean NOT NULL DEFAULT false,
    input       text NOT NULL DEFAULT '',
    harness     text NOT NULL DEFAULT '',
    expected    text NOT NULL
);
CREATE INDEX code_tests_question_idx ON code_tests (question_id, position);

-- One sitting of a mission: choices are shuffled per attempt (the order is
-- kept here), answers and score are kept when it is submitted.
CREATE TABLE attempts (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mission_id   uuid NOT NULL REFERENCES missions (id),
    user_id      uuid NOT NULL REFERENCES users (id),
    number       integer NOT NULL CHECK (number > 0),
    shuffle_seed bigint NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    answers      jsonb,
    -- Per question: points earned.
    feedback     jsonb,
    -- Points earned on the choice questions, and the mission's score (0-100)
    -- when this attempt was submitted.
    choice_points integer CHECK (choice_points >= 0),
    score        integer CHECK (score BETWEEN 0 AND 100),
    UNIQUE (mission_id, user_id, number)
);
-- At most one open attempt per learner and mission.
CREATE UNIQUE INDEX attempts_open_key ON attempts (mission_id, user_id) WHERE submitted_at IS NULL;

CREATE TABLE code_submissions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    question_id uuid NOT NULL REFERENCES questions (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    code        text NOT NULL CHECK (octet_length(code) <= 65536),
    verdict     text NOT NULL DEFAULT 'pending' CHECK (verdict IN ('pending', 'accepted',
                'wrong_answer', 'time_limit', 'memory_limit', 'runtime_error', 'compile_error')),
    score       integer CHECK (score BETWEEN 0 AND 100),
    -- Per test: {visible, verdict, input?, expected?, got?}; hidden tests
    -- carry no input or output.
    results     jsonb,
    message     text,
    job_id      bigint REFERENCES jobs (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    graded_at   timestamptz
);
CREATE INDEX code_submissions_learner_idx ON code_submissions (user_id, question_id, created_at DESC);
-- One pending submission per learner at a time.
CREATE UNIQUE INDEX code_submissions_pending_key ON code_submissions (user_id) WHERE verdict = 'pending';

-- Per learner and mission: the best score so far and when it passed.
CREATE TABLE mission_results (
    mission_id  uuid NOT NULL REFERENCES missions (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    best_score  integer NOT NULL CHECK (best_score BETWEEN 0 AND 100),
    passed_at   timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mission_id, user_id)
);
