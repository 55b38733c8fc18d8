-- The catalogue: curriculum -> course -> lecture -> topic.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- price_level is derived from the price, so the two can never disagree.
CREATE FUNCTION price_level_of(price_won bigint) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
        WHEN price_won = 0 THEN 'free'
        WHEN price_won < 30000 THEN 'low'
        WHEN price_won < 100000 THEN 'mid'
        ELSE 'high'
    END
$$;

CREATE TABLE curricula (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug         text NOT NULL,
    title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 120),
    summary      text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    category     text NOT NULL,
    skill_level  text NOT NULL CHECK (skill_level IN ('beginner', 'intermediate', 'advanced')),
    price_won    bigint NOT NULL CHECK (price_won >= 0),
    price_level  text GENERATED ALWAYS AS (price_level_of(price_won)) STORED,
    access_days  integer NOT NULL DEFAULT 730 CHECK (access_days > 0),
    author_id    uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);
CREATE UNIQUE INDEX curricula_slug_key ON curricula (slug);

CREATE TABLE courses (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug         text NOT NULL,
    title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 120),
    summary      text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    category     text NOT NULL,
    skill_level  text NOT NULL CHECK (skill_level IN ('beginner', 'intermediate', 'advanced')),
    -- NULL: sold only as part of a curriculum.
    price_won    bigint CHECK (price_won >= 0),
    price_level  text GENERATED ALWAYS AS (coalesce(price_level_of(price_won), 'bundle')) STORED,
    author_id    uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    search_text  text GENERATED ALWAYS AS (lower(title || ' ' || summary || ' ' || description)) STORED
);
CREATE UNIQUE INDEX courses_slug_key ON courses (slug);
CREATE INDEX courses_search_trgm ON courses USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX courses_filters_idx ON courses (category, skill_level, price_level) WHERE deleted_at IS NULL;
CREATE INDEX courses_created_idx ON courses (created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX courses_author_idx ON courses (author_id);

-- A course's place in a curriculum's learning order.
CREATE TABLE curriculum_courses (
    curriculum_id uuid NOT NULL REFERENCES curricula (id),
    course_id     uuid NOT NULL REFERENCES courses (id),
    position      integer NOT NULL CHECK (position > 0),
    PRIMARY KEY (curriculum_id, course_id),
    CONSTRAINT curriculum_courses_position_key UNIQUE (curriculum_id, position) DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX curriculum_courses_course_idx ON curriculum_courses (course_id);

CREATE TABLE lectures (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id   uuid NOT NULL REFERENCES courses (id),
    title       text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '',
    position    integer NOT NULL CHECK (position > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX lectures_course_idx ON lectures (course_id, position);

CREATE TABLE topics (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    lecture_id    uuid NOT NULL REFERENCES lectures (id),
    title         text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 120),
    kind          text NOT NULL CHECK (kind IN ('video', 'reading', 'mission')),
    body          text NOT NULL DEFAULT '',
    duration_secs integer NOT NULL DEFAULT 0 CHECK (duration_secs >= 0),
    is_preview    boolean NOT NULL DEFAULT false,
    position      integer NOT NULL CHECK (position > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);
CREATE INDEX topics_lecture_idx ON topics (lecture_id, position);
