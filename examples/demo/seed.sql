-- Sample data for `rivet demo`: deterministic, a few realistic shapes and types.
CREATE TABLE customers (
  id          integer PRIMARY KEY,
  external_id uuid NOT NULL,
  name        text NOT NULL,
  email       varchar(200),
  country     char(2) NOT NULL,
  is_active   boolean NOT NULL,
  signup_date date NOT NULL,
  created_at  timestamptz NOT NULL
);

INSERT INTO customers
SELECT g,
       md5('customer' || g)::uuid,
       (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken','Margaret','Niklaus'])[1 + g % 10]
         || ' ' || (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Thompson','Hamilton','Wirth'])[1 + (g / 10) % 10],
       CASE WHEN g % 17 = 0 THEN NULL ELSE 'user' || g || '@example.com' END,
       (ARRAY['US','DE','FR','JP','BR','IN','GB','CA'])[1 + g % 8],
       g % 5 <> 0,
       date '2020-01-01' + (g % 1500),
       timestamptz '2020-01-01 00:00:00+00' + g * interval '37 minutes 13.25 seconds'
FROM generate_series(1, 2000) AS g;

CREATE TABLE orders (
  id          bigint PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers (id),
  amount      numeric(12,2) NOT NULL,
  quantity    smallint NOT NULL,
  discount    double precision,
  status      text NOT NULL,
  ordered_at  timestamptz NOT NULL,
  shipped_on  date,
  note        text,
  attributes  jsonb
);

INSERT INTO orders
SELECT g,
       1 + (g * 7919) % 2000,
       round(((g * 2654435761::bigint) % 100000) / 100.0 + 1, 2),
       1 + g % 9,
       CASE WHEN g % 4 = 0 THEN (g % 30) / 100.0 ELSE NULL END,
       (ARRAY['placed','paid','shipped','delivered','cancelled'])[1 + g % 5],
       timestamptz '2024-01-01 00:00:00+00' + g * interval '9 minutes 7.5 seconds',
       CASE WHEN g % 5 IN (2, 3) THEN date '2024-01-02' + (g / 160) END,
       CASE WHEN g % 11 = 0 THEN 'gift wrap, "fragile"' WHEN g % 13 = 0 THEN 'leave at the door' END,
       jsonb_build_object('channel', (ARRAY['web','app','store'])[1 + g % 3], 'coupon', g % 6 = 0)
FROM generate_series(1, 50000) AS g;
