-- Accounts: profiles, encrypted phone numbers, Google identities, the
-- signed-in sessions a person can list and end, single-use tokens, rate
-- limits and the admin audit log.
ALTER TABLE users
    ADD COLUMN introduction        text NOT NULL DEFAULT '' CHECK (char_length(introduction) <= 1000),
    -- AES-256-GCM under a key id (src/infra/crypto.rs); never plain text.
    ADD COLUMN phone_enc           bytea,
    ADD COLUMN google_sub          text,
    ADD COLUMN password_changed_at timestamptz,
    -- Set when the person deleted the account: personal fields were scrubbed.
    ADD COLUMN scrubbed_at         timestamptz;

CREATE UNIQUE INDEX users_google_sub_key ON users (google_sub) WHERE google_sub IS NOT NULL;
CREATE INDEX users_search_trgm ON users USING gin ((email || ' ' || nickname) gin_trgm_ops);
CREATE INDEX users_created_idx ON users (created_at DESC);

-- One row per signed-in browser. The cookie session holds this id; deleting
-- the row ends that session on its next request.
CREATE TABLE auth_sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id),
    method       text NOT NULL CHECK (method IN ('password', 'google')),
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id, last_seen_at DESC);

-- Mailed single-use tokens; only their SHA-256 is stored.
CREATE TABLE account_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);

CREATE TABLE rate_events (
    bucket text NOT NULL,
    key    text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rate_events_lookup_idx ON rate_events (bucket, key, at DESC);
CREATE INDEX rate_events_at_idx ON rate_events (at);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    actor_id    uuid REFERENCES users (id),
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, at DESC);
