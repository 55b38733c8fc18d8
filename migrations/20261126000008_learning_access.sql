-- Access moves from commerce to learning (src/learning/access.rs owns it).
--
-- One grant row per paid order and product: a learner's access to a product
-- is the union of the live grants, so refunding one order ends exactly what
-- that order paid for. Periods are calendar months in Asia/Seoul (24 months
-- from 2026-11-26 is 2028-11-26), computed by the application.

DROP FUNCTION course_access_until(uuid, uuid);
DROP FUNCTION course_access_lapsed(uuid, uuid);
DROP INDEX enrolments_curriculum_key;
DROP INDEX enrolments_course_key;

-- A grant for one order and one product, at most once.
CREATE UNIQUE INDEX enrolments_order_product_key
    ON enrolments (order_id, coalesce(curriculum_id, course_id)) WHERE order_id IS NOT NULL;
CREATE INDEX enrolments_user_idx ON enrolments (user_id, expires_at DESC);

-- Access periods in calendar months, per curriculum and per course.
ALTER TABLE curricula RENAME COLUMN access_days TO access_months;
UPDATE curricula SET access_months = greatest(1, round(access_months / 30.4375)::int);
ALTER TABLE curricula ALTER COLUMN access_months SET DEFAULT 24;
ALTER TABLE curricula DROP CONSTRAINT IF EXISTS curricula_access_days_check;
ALTER TABLE curricula ADD CONSTRAINT curricula_access_months_check CHECK (access_months BETWEEN 1 AND 120);

ALTER TABLE courses ADD COLUMN access_months integer NOT NULL DEFAULT 24
    CHECK (access_months BETWEEN 1 AND 120);

ALTER TABLE order_items RENAME COLUMN access_days TO access_months;
UPDATE order_items SET access_months = greatest(1, round(access_months / 30.4375)::int);
ALTER TABLE order_items DROP CONSTRAINT IF EXISTS order_items_access_days_check;
ALTER TABLE order_items ADD CONSTRAINT order_items_access_months_check CHECK (access_months BETWEEN 1 AND 120);

-- Refunds are recorded as requested before the gateway is called, and
-- settled after; a crash in between is finished by reconciliation.
ALTER TABLE refunds ADD COLUMN state text NOT NULL DEFAULT 'succeeded'
    CHECK (state IN ('requested', 'succeeded', 'failed'));
ALTER TABLE refunds ADD COLUMN failure_reason text;
ALTER TABLE refunds ADD COLUMN settled_at timestamptz;
UPDATE refunds SET settled_at = created_at;
CREATE INDEX refunds_requested_idx ON refunds (created_at) WHERE state = 'requested';
