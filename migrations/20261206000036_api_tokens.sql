-- Personal access tokens for the JSON API (/api/v1). The secret is shown
-- once; only its SHA-256 is kept (it is 32 random bytes, so a fast hash is
-- enough: nothing can be guessed from it). A token reads, or reads and
-- writes, until it expires or its owner revokes it.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
    scope        text NOT NULL CHECK (scope IN ('read', 'read_write')),
    secret_hash  bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL CHECK (expires_at > created_at),
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at DESC);
