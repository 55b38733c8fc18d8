-- The AI tutor beside the video: a learner's conversations per topic, each
-- question with its answer (streamed in, then kept), the refusals the
-- quotas made, and the passages of a course's captions and readings the
-- tutor retrieves from (kept per course, rebuilt when the course's text,
-- captions or published answers change), and the questions a learner
-- handed on to the course's tutors ("강사에게 질문하기").

CREATE TABLE tutor_conversations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id),
    topic_id   uuid NOT NULL REFERENCES topics (id),
    started_at timestamptz NOT NULL DEFAULT now(),
    -- "새 대화" closes the open one; a closed conversation is not shown again.
    closed_at  timestamptz
);
CREATE UNIQUE INDEX tutor_conversations_open ON tutor_conversations (user_id, topic_id)
    WHERE closed_at IS NULL;

CREATE TABLE tutor_turns (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id uuid NOT NULL REFERENCES tutor_conversations (id),
    -- Kept here too: the quotas count a learner's turns, the tutors' view
    -- lists a topic's questions (without who asked).
    user_id         uuid NOT NULL REFERENCES users (id),
    topic_id        uuid NOT NULL REFERENCES topics (id),
    question        text NOT NULL CHECK (char_length(question) BETWEEN 1 AND 2000),
    -- Where the learner's player was when they asked.
    position_secs   integer NOT NULL DEFAULT 0 CHECK (position_secs >= 0),
    -- 'explain' on a lesson; 'hint' on a mission topic or with an attempt open.
    mode            text NOT NULL CHECK (mode IN ('explain', 'hint')),
    backend         text NOT NULL CHECK (backend IN ('model', 'retrieval')),
    state           text NOT NULL DEFAULT 'answering'
                    CHECK (state IN ('answering', 'answered', 'failed')),
    answer          text NOT NULL DEFAULT '',
    -- Why it failed (a code: 'timeout', 'unavailable', 'refused').
    failure         text,
    prompt_tokens     integer CHECK (prompt_tokens >= 0),
    completion_tokens integer CHECK (completion_tokens >= 0),
    asked_at        timestamptz NOT NULL DEFAULT now(),
    answered_at     timestamptz
);
CREATE INDEX tutor_turns_conversation ON tutor_turns (conversation_id, asked_at);
CREATE INDEX tutor_turns_user ON tutor_turns (user_id, asked_at);
CREATE INDEX tutor_turns_topic ON tutor_turns (topic_id, asked_at);
CREATE INDEX tutor_turns_asked ON tutor_turns (asked_at);

-- A question the quotas refused (the admins' figures count them per day).
CREATE TABLE tutor_refusals (
    id      bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    reason  text NOT NULL CHECK (reason IN ('rate', 'quota')),
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tutor_refusals_at ON tutor_refusals (at);

-- What retrieval searches: a few caption cues or a paragraph of a reading.
-- `terms` is built in Rust (words, and Hangul words as character bigrams,
-- so a particle does not hide a word) and indexed with the 'simple' parser.
CREATE TABLE tutor_passages (
    id        bigserial PRIMARY KEY,
    course_id uuid NOT NULL REFERENCES courses (id),
    topic_id  uuid NOT NULL REFERENCES topics (id),
    source    text NOT NULL CHECK (source IN ('caption', 'reading', 'faq')),
    -- Where a caption passage starts in its video.
    start_ms  integer CHECK (start_ms >= 0),
    body      text NOT NULL,
    terms     tsvector NOT NULL
);
CREATE INDEX tutor_passages_course ON tutor_passages (course_id, topic_id, start_ms);
CREATE INDEX tutor_passages_terms ON tutor_passages USING gin (terms);

-- Which version of a course's text and captions its passages were made from.
CREATE TABLE tutor_indexes (
    course_id uuid PRIMARY KEY REFERENCES courses (id),
    stamp     text NOT NULL,
    built_at  timestamptz NOT NULL DEFAULT now()
);

-- A question handed from a conversation to the course's tutors, with the
-- lesson moment and the AI's answer (both on the turn). A tutor answers once;
-- an answer may be published under the lesson as a FAQ (without who asked),
-- which retrieval then also uses.
CREATE TABLE tutor_handoffs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    turn_id      uuid NOT NULL UNIQUE REFERENCES tutor_turns (id),
    course_id    uuid NOT NULL REFERENCES courses (id),
    topic_id     uuid NOT NULL REFERENCES topics (id),
    user_id      uuid NOT NULL REFERENCES users (id),
    asked_at     timestamptz NOT NULL DEFAULT now(),
    answer       text CHECK (char_length(answer) BETWEEN 1 AND 5000),
    answered_by  uuid REFERENCES users (id),
    answered_at  timestamptz,
    published_at timestamptz,
    CHECK ((answer IS NULL) = (answered_at IS NULL)),
    CHECK (published_at IS NULL OR answered_at IS NOT NULL)
);
CREATE INDEX tutor_handoffs_course ON tutor_handoffs (course_id, asked_at);
CREATE INDEX tutor_handoffs_faq ON tutor_handoffs (topic_id) WHERE published_at IS NOT NULL;
