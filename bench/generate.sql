-- Benchmark dataset: :rows rows of a mixed, realistic order-line shape (~120 bytes/row of data).
-- Usage: psql -v rows=1000000 -v tbl=bench.orders_1m -f bench/generate.sql
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS :tbl;
CREATE TABLE :tbl (
  id          bigint PRIMARY KEY,
  customer_id integer NOT NULL,
  amount      numeric(12,2) NOT NULL,
  ratio       double precision,
  paid        boolean NOT NULL,
  status      text NOT NULL,
  note        text,
  ordered_on  date NOT NULL,
  created_at  timestamptz NOT NULL,
  ext_id      uuid NOT NULL
);
INSERT INTO :tbl
SELECT g,
       (g * 7919) % 100000,
       ((g * 2654435761::bigint) % 10000000) / 100.0,
       CASE WHEN g % 7 = 0 THEN NULL ELSE g / 13.0 END,
       g % 3 <> 0,
       (ARRAY['placed','paid','shipped','delivered','cancelled'])[1 + g % 5],
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'order note number ' || g || ', handle with care' END,
       date '2020-01-01' + (g % 2000)::int,
       timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second',
       md5(g::text)::uuid
FROM generate_series(1::bigint, :rows) AS g;
ANALYZE :tbl;
