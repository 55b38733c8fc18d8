-- Commerce: billing addresses, cart, orders, payments, gateway call log,
-- enrolments (access to a curriculum or a course for a period).
CREATE TABLE billing_addresses (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id),
    country     text NOT NULL DEFAULT 'KR' CHECK (country ~ '^[A-Z]{2}$'),
    -- AES-256-GCM JSON {main, detail, postal_code} (src/infra/crypto.rs).
    address_enc bytea NOT NULL,
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX billing_addresses_user_idx ON billing_addresses (user_id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX billing_addresses_one_default ON billing_addresses (user_id)
    WHERE is_default AND deleted_at IS NULL;

-- Digital goods: one of each product per cart.
CREATE TABLE cart_items (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id),
    curriculum_id uuid REFERENCES curricula (id),
    course_id     uuid REFERENCES courses (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((curriculum_id IS NULL) <> (course_id IS NULL))
);
CREATE UNIQUE INDEX cart_items_curriculum_key ON cart_items (user_id, curriculum_id) WHERE curriculum_id IS NOT NULL;
CREATE UNIQUE INDEX cart_items_course_key ON cart_items (user_id, course_id) WHERE course_id IS NOT NULL;

CREATE TABLE orders (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              uuid NOT NULL REFERENCES users (id),
    status               text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'paid', 'partially_refunded', 'refunded', 'failed', 'cancelled')),
    gateway              text NOT NULL CHECK (gateway IN ('demo', 'kakaopay', 'toss')),
    total_won            bigint NOT NULL CHECK (total_won > 0),
    billing_address_id   uuid REFERENCES billing_addresses (id),
    -- The address as it was when ordering, encrypted like the address itself.
    billing_snapshot_enc bytea,
    -- The gateway's id for the pending payment (KakaoPay tid, ...).
    gateway_ref          text,
    failure_reason       text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    paid_at              timestamptz
);
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC);
CREATE INDEX orders_status_idx ON orders (status, created_at DESC);

-- Prices as they were when ordering.
CREATE TABLE order_items (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id      uuid NOT NULL REFERENCES orders (id),
    curriculum_id uuid REFERENCES curricula (id),
    course_id     uuid REFERENCES courses (id),
    title         text NOT NULL,
    price_won     bigint NOT NULL CHECK (price_won >= 0),
    access_days   integer NOT NULL CHECK (access_days > 0),
    CHECK ((curriculum_id IS NULL) <> (course_id IS NULL))
);
CREATE INDEX order_items_order_idx ON order_items (order_id);

-- At most one payment per order, and one per gateway transaction.
CREATE TABLE payments (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id       uuid NOT NULL UNIQUE REFERENCES orders (id),
    gateway        text NOT NULL,
    gateway_tx_id  text NOT NULL,
    method         text NOT NULL,
    amount_won     bigint NOT NULL CHECK (amount_won > 0),
    refunded_won   bigint NOT NULL DEFAULT 0 CHECK (refunded_won >= 0 AND refunded_won <= amount_won),
    approved_at    timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX payments_gateway_tx_key ON payments (gateway, gateway_tx_id);

-- Every call to a payment gateway: what we sent, what came back, how long.
CREATE TABLE gateway_calls (
    id          bigserial PRIMARY KEY,
    order_id    uuid REFERENCES orders (id),
    gateway     text NOT NULL,
    operation   text NOT NULL,
    request     jsonb NOT NULL DEFAULT '{}'::jsonb,
    response    jsonb,
    http_status integer,
    duration_ms integer NOT NULL DEFAULT 0,
    error       text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gateway_calls_order_idx ON gateway_calls (order_id, at);

-- Access: one row per person and product; renewals extend it.
CREATE TABLE enrolments (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id),
    curriculum_id uuid REFERENCES curricula (id),
    course_id     uuid REFERENCES courses (id),
    starts_at     timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    -- Set by a refund: access ends at once.
    ended_at      timestamptz,
    order_id      uuid REFERENCES orders (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((curriculum_id IS NULL) <> (course_id IS NULL)),
    CHECK (expires_at > starts_at)
);
CREATE UNIQUE INDEX enrolments_curriculum_key ON enrolments (user_id, curriculum_id) WHERE curriculum_id IS NOT NULL;
CREATE UNIQUE INDEX enrolments_course_key ON enrolments (user_id, course_id) WHERE course_id IS NOT NULL;

-- Access to a course, directly or through a curriculum that holds it. Owned
-- by commerce; other capabilities call these instead of reading enrolments.
CREATE FUNCTION course_access_until(p_user uuid, p_course uuid) RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT max(e.expires_at) FROM enrolments e
     WHERE e.user_id = p_user AND e.ended_at IS NULL AND e.expires_at > now()
       AND (e.course_id = p_course
            OR e.curriculum_id IN (SELECT curriculum_id FROM curriculum_courses WHERE course_id = p_course))
$$;

CREATE FUNCTION course_access_lapsed(p_user uuid, p_course uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(bool_or(e.ended_at IS NOT NULL OR e.expires_at <= now()), false) FROM enrolments e
     WHERE e.user_id = p_user
       AND (e.course_id = p_course
            OR e.curriculum_id IN (SELECT curriculum_id FROM curriculum_courses WHERE course_id = p_course))
$$;
