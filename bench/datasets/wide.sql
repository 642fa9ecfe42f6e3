-- Wide table (issue 6): :rows rows × 17 columns, ~10 KB per row as text — two long texts
-- (2–8 KB each, not compressible to nothing), jsonb, uuid, timestamps, numbers. Usage:
-- psql -v rows=300000 -v tbl=bench.wide_300000 -f wide.sql
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS :tbl;
CREATE TABLE :tbl (
  id          bigint PRIMARY KEY,
  tenant_id   integer NOT NULL,
  ext_id      uuid NOT NULL,
  title       text NOT NULL,
  slug        text NOT NULL,
  body        text NOT NULL,
  summary     text,
  attributes  jsonb NOT NULL,
  price       numeric(12,2),
  weight      double precision,
  views       bigint NOT NULL,
  published   boolean NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  published_on date,
  locale      text NOT NULL,
  checksum    text NOT NULL
);
-- Long texts are chains of distinct md5 digests: no repetition for the compressor to
-- collapse, and hex (4 bits of entropy per byte) compresses about 2:1, like real text.
INSERT INTO :tbl
SELECT g,
       g % 500,
       md5(g::text)::uuid,
       'Item ' || g || ' ' || md5((g * 3)::text),
       'item-' || g,
       (SELECT string_agg(md5((g * 1000 + i)::text), ' ') FROM generate_series(1, 60 + (g % 180)::int) AS i),
       CASE WHEN g % 5 = 0 THEN NULL ELSE (SELECT string_agg(md5((g * 1000 + 500 + i)::text), ' ') FROM generate_series(1, 60 + ((g * 7) % 180)::int) AS i) END,
       jsonb_build_object('color', (ARRAY['red','green','blue','black'])[1 + g % 4], 'size', g % 50,
                          'tags', jsonb_build_array('t' || (g % 17), 't' || (g % 23)), 'rank', g / 3.0),
       CASE WHEN g % 9 = 0 THEN NULL ELSE (g % 100000) / 100.0 END,
       (g % 7919) / 3.0,
       (g * 104729) % 1000000,
       g % 4 <> 0,
       timestamptz '2019-01-01 00:00:00+00' + g * interval '13 seconds',
       timestamptz '2023-01-01 00:00:00+00' + g * interval '3 seconds',
       CASE WHEN g % 6 = 0 THEN NULL ELSE date '2019-01-01' + (g % 2500)::int END,
       (ARRAY['en-GB','de-DE','fr-FR','ja-JP'])[1 + g % 4],
       md5(g::text || 'c')
FROM generate_series(1::bigint, :rows) AS g;
ANALYZE :tbl;
