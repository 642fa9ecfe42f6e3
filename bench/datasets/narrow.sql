-- Narrow table (issue 6): :rows rows × 7 columns — bigint, int, numeric(15,4), float8, bool,
-- timestamptz, short text. Usage: psql -v rows=5000000 -v tbl=bench.narrow_5000000 -f narrow.sql
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS :tbl;
CREATE TABLE :tbl (
  id         bigint PRIMARY KEY,
  account_id integer NOT NULL,
  amount     numeric(15,4) NOT NULL,
  score      double precision,
  active     boolean NOT NULL,
  created_at timestamptz NOT NULL,
  code       text NOT NULL
);
INSERT INTO :tbl
SELECT g,
       (g * 7919) % 250000,
       ((g * 2654435761::bigint) % 100000000000) / 10000.0,
       CASE WHEN g % 11 = 0 THEN NULL ELSE (g % 100003) / 7.0 END,
       g % 3 <> 0,
       timestamptz '2021-01-01 00:00:00+00' + g * interval '7 seconds',
       'C-' || to_hex(g * 31)
FROM generate_series(1::bigint, :rows) AS g;
ANALYZE :tbl;
