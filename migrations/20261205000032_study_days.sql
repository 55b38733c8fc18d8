-- A learner's study time per Seoul day, kept as watch events change.
--
-- The dashboard summed every one of the learner's watch events on each view:
-- a heartbeat every 10 s makes some 20,000 events in 55 hours of watching,
-- and that learner's dashboard statement took 15 ms instead of 0.16 ms. The
-- days are kept here by a trigger on `watch_events`, in the statement that
-- changes them (the player's batches, an admin's correction and the replay
-- it causes, SQL by hand), so no write path can forget them.

CREATE TABLE study_days (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day     date NOT NULL,
    secs    double precision NOT NULL,
    PRIMARY KEY (user_id, day)
);

-- One statement's rows at a time (transition tables), grouped by learner and
-- day: a batch of events, or a bulk fill, is one upsert per day touched.
CREATE FUNCTION study_days_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO study_days AS s (user_id, day, secs)
        SELECT user_id, (received_at AT TIME ZONE 'Asia/Seoul')::date, sum(study_secs)
          FROM new_rows
         WHERE study_secs > 0
         GROUP BY 1, 2
        ON CONFLICT (user_id, day) DO UPDATE SET secs = s.secs + EXCLUDED.secs;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE study_days s
           SET secs = greatest(s.secs - o.secs, 0)
          FROM (SELECT user_id, (received_at AT TIME ZONE 'Asia/Seoul')::date AS day,
                       sum(study_secs) AS secs
                  FROM old_rows
                 WHERE study_secs > 0
                 GROUP BY 1, 2) o
         WHERE s.user_id = o.user_id AND s.day = o.day;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER study_days_insert AFTER INSERT ON watch_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION study_days_apply();
CREATE TRIGGER study_days_update AFTER UPDATE ON watch_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION study_days_apply();
CREATE TRIGGER study_days_delete AFTER DELETE ON watch_events
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION study_days_apply();

INSERT INTO study_days (user_id, day, secs)
SELECT user_id, (received_at AT TIME ZONE 'Asia/Seoul')::date, sum(study_secs)
  FROM watch_events
 WHERE study_secs > 0
 GROUP BY 1, 2;
