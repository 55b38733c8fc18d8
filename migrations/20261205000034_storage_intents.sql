-- A file about to be stored for a row not yet committed (a video's or an
-- image's source). The intent is committed before the file is written and
-- deleted in the transaction that records the row, so a process killed in
-- between leaves an intent; housekeeping removes its file once it is old.
CREATE TABLE storage_intents (
    key        text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);
