-- One-time form keys: every form that creates a row or moves money carries
-- one, so a double click or a replay is done once (src/infra/once.rs).
CREATE TABLE form_keys (
    key        uuid PRIMARY KEY,
    -- Where the first submit led, for the repeats.
    location   text CHECK (char_length(location) <= 2000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX form_keys_created_idx ON form_keys (created_at);
