-- A short order number people can read and say (20261129-000123): the
-- Seoul date it was placed and a running number. The UUID stays the key.
CREATE SEQUENCE order_numbers;

CREATE FUNCTION next_order_number() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT to_char(now() AT TIME ZONE 'Asia/Seoul', 'YYYYMMDD') || '-'
           || lpad(n::text, greatest(6, length(n::text)), '0')
      FROM nextval('order_numbers') AS n
$$;

ALTER TABLE orders ADD COLUMN number text;
WITH numbered AS (
    SELECT id, created_at, row_number() OVER (ORDER BY created_at, id) AS n FROM orders
)
UPDATE orders o
   SET number = to_char(numbered.created_at AT TIME ZONE 'Asia/Seoul', 'YYYYMMDD') || '-'
                || lpad(numbered.n::text, greatest(6, length(numbered.n::text)), '0')
  FROM numbered WHERE numbered.id = o.id;
SELECT setval('order_numbers', (SELECT count(*) FROM orders) + 1, false);
ALTER TABLE orders ALTER COLUMN number SET DEFAULT next_order_number();
ALTER TABLE orders ALTER COLUMN number SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE (number);
