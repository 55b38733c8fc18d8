-- Refunds: each one a row; the payment keeps the running total.
CREATE TABLE refunds (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    payment_id   uuid NOT NULL REFERENCES payments (id),
    amount_won   bigint NOT NULL CHECK (amount_won > 0),
    reason       text NOT NULL,
    -- Who asked: the learner under the policy, or an admin.
    requested_by uuid REFERENCES users (id),
    by_admin     boolean NOT NULL DEFAULT false,
    -- Sent to the gateway so a retried cancel is not applied twice.
    idempotency_key text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id, created_at);
