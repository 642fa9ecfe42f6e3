-- A CMS-like `content_items` table with the wide table's shape (issue 6): what publishing
-- systems keep — ids, a slug, a title, an HTML body of a few KB, a JSON blob of fields,
-- author/status columns and timestamps. Usage:
-- psql -v rows=300000 -v tbl=bench.content_items_300000 -f content-items.sql
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS :tbl;
CREATE TABLE :tbl (
  id           bigint PRIMARY KEY,
  site_id      integer NOT NULL,
  uuid         uuid NOT NULL,
  content_type text NOT NULL,
  status       text NOT NULL,
  title        text NOT NULL,
  slug         text NOT NULL,
  body_html    text NOT NULL,
  excerpt      text,
  fields       jsonb NOT NULL,
  author_id    integer,
  word_count   integer NOT NULL,
  is_featured  boolean NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  published_at timestamptz,
  revision     bigint NOT NULL
);
INSERT INTO :tbl
SELECT g,
       1 + g % 40,
       md5('ci' || g)::uuid,
       (ARRAY['article','page','recipe','gallery','video'])[1 + g % 5],
       (ARRAY['draft','review','published','published','archived'])[1 + g % 5],
       'How to ' || md5(g::text) || ' in ' || (g % 97) || ' steps',
       'how-to-' || substr(md5(g::text), 1, 12) || '-' || g,
       '<article><h1>' || md5(g::text) || '</h1>' ||
         (SELECT string_agg('<p>' || md5((g * 1000 + i)::text) || ' ' || md5((g * 1000 - i)::text) || ' paragraph text.</p>', '') FROM generate_series(1, 30 + (g % 150)::int) AS i) || '</article>',
       CASE WHEN g % 3 = 0 THEN NULL ELSE left(repeat(md5((g * 5)::text) || ' ', 20), 300) END,
       jsonb_build_object('seo', jsonb_build_object('title', 'T' || g, 'noindex', g % 10 = 0),
                          'hero', 'img/' || md5(g::text) || '.jpg', 'reading_minutes', 1 + g % 20),
       CASE WHEN g % 13 = 0 THEN NULL ELSE g % 2000 END,
       300 + g % 3000,
       g % 50 = 0,
       timestamptz '2018-01-01 00:00:00+00' + g * interval '17 seconds',
       timestamptz '2024-01-01 00:00:00+00' + g * interval '5 seconds',
       CASE WHEN g % 5 IN (2, 3) THEN timestamptz '2018-02-01 00:00:00+00' + g * interval '17 seconds' END,
       g * 3
FROM generate_series(1::bigint, :rows) AS g;
ANALYZE :tbl;
