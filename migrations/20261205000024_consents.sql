-- What a person agreed to, which version of its text, and when: the terms of
-- use and the collection and use of personal information at sign-up, the
-- refund policy and withdrawal rules at checkout (with the order).
CREATE TABLE consents (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id   uuid NOT NULL REFERENCES users (id),
    kind      text NOT NULL CHECK (kind IN ('terms', 'privacy', 'refund_policy')),
    version   text NOT NULL CHECK (char_length(version) BETWEEN 1 AND 40),
    order_id  uuid REFERENCES orders (id),
    agreed_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'refund_policy') = (order_id IS NOT NULL))
);
CREATE INDEX consents_user_idx ON consents (user_id, kind, agreed_at DESC);
CREATE INDEX consents_order_idx ON consents (order_id) WHERE order_id IS NOT NULL;
