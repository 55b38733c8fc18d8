-- Idempotency-Key on the API's POSTs that move money: the first request with
-- a key claims it (one insert decides) and its answer is kept, so the same
-- key gets the same answer. Keys belong to a token; kept a day.
CREATE TABLE api_idempotency (
    token_id     uuid NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    key          text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    -- NULL while the first request is being answered.
    status       smallint,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);
