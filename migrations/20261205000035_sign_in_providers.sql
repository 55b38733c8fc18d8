-- One table of outside sign-in identities (Google, Kakao, Naver) instead of
-- a column per provider. An identity belongs to one account; an account has
-- at most one identity per provider.
CREATE TABLE user_identities (
    provider   text NOT NULL CHECK (provider IN ('google', 'kakao', 'naver')),
    subject    text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    linked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, subject),
    UNIQUE (user_id, provider)
);

INSERT INTO user_identities (provider, subject, user_id, linked_at)
SELECT 'google', google_sub, id, coalesce(updated_at, created_at)
  FROM users WHERE google_sub IS NOT NULL;

DROP INDEX users_google_sub_key;
ALTER TABLE users DROP COLUMN google_sub;

-- A sign-in's state is used once: the callback records it before it asks
-- the provider anything, so a replayed callback is refused by one insert.
CREATE TABLE sign_in_states_used (
    state_hash bytea PRIMARY KEY,
    used_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_states_used_at ON sign_in_states_used (used_at);

ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_method_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_method_check
    CHECK (method IN ('password', 'google', 'kakao', 'naver', 'email_link'));
