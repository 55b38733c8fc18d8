-- Missions cannot be brute-forced: a limited number of attempts (3 unless the
-- tutor sets otherwise) some minutes apart (10 unless the tutor sets
-- otherwise). Missions made before had unlimited attempts only because that
-- was the default; they get the new one.
ALTER TABLE missions
    ADD COLUMN cooldown_secs integer NOT NULL DEFAULT 600
        CHECK (cooldown_secs BETWEEN 0 AND 604800);
ALTER TABLE missions ALTER COLUMN max_attempts SET DEFAULT 3;
UPDATE missions SET max_attempts = 3 WHERE max_attempts IS NULL;

-- A submission that failed only hidden tests says so, without naming how
-- (a time limit or a wrong answer there would tell what the hidden test does).
ALTER TABLE code_submissions DROP CONSTRAINT code_submissions_verdict_check;
ALTER TABLE code_submissions ADD CONSTRAINT code_submissions_verdict_check
    CHECK (verdict IN ('pending', 'accepted', 'wrong_answer', 'time_limit', 'memory_limit',
                       'runtime_error', 'compile_error', 'hidden_failed'));
