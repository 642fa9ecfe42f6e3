-- MariaDB/MySQL wide table (issue 18): {rows} rows × 17 columns, ~10 KB per row — the MySQL
-- twin of wide.sql. Long texts are hex of random bytes (4 bits of entropy per byte, so they
-- compress about 2:1 like real text, and nothing repeats for the compressor to collapse).
-- bench/harness.mjs replaces {tbl} and {rows} and pipes this to `mariadb`.
CREATE DATABASE IF NOT EXISTS bench;
USE bench; -- the SEQUENCE engine's seq_1_to_N tables live in the current database
DROP TABLE IF EXISTS {tbl};
CREATE TABLE {tbl} (
  id           bigint PRIMARY KEY,
  tenant_id    int NOT NULL,
  ext_id       char(36) NOT NULL,
  title        varchar(200) NOT NULL,
  slug         varchar(100) NOT NULL,
  body         mediumtext NOT NULL,
  summary      mediumtext,
  attributes   json NOT NULL,
  price        decimal(12,2),
  weight       double,
  views        bigint NOT NULL,
  published    tinyint(1) NOT NULL,
  created_at   datetime(6) NOT NULL,
  updated_at   timestamp(6) NOT NULL DEFAULT '2000-01-01 00:00:00',
  published_on date,
  locale       varchar(8) NOT NULL,
  checksum     char(32) NOT NULL
) ENGINE = InnoDB;
INSERT INTO {tbl}
SELECT g,
       g % 500,
       UUID(),
       CONCAT('Item ', g, ' ', MD5(g * 3)),
       CONCAT('item-', g),
       LEFT(CONCAT(HEX(RANDOM_BYTES(1024)), ' ', HEX(RANDOM_BYTES(1024)), ' ', HEX(RANDOM_BYTES(1024)), ' ', HEX(RANDOM_BYTES(1024))), 2000 + (g * 7) % 6000),
       CASE WHEN g % 5 = 0 THEN NULL ELSE LEFT(CONCAT(HEX(RANDOM_BYTES(1024)), ' ', HEX(RANDOM_BYTES(1024)), ' ', HEX(RANDOM_BYTES(1024)), ' ', HEX(RANDOM_BYTES(1024))), 2000 + (g * 13) % 6000) END,
       JSON_OBJECT('color', ELT(1 + g % 4, 'red', 'green', 'blue', 'black'), 'size', g % 50,
                   'tags', JSON_ARRAY(CONCAT('t', g % 17), CONCAT('t', g % 23)), 'rank', g / 3.0),
       CASE WHEN g % 9 = 0 THEN NULL ELSE (g % 100000) / 100.0 END,
       (g % 7919) / 3.0,
       (g * 104729) % 1000000,
       g % 4 <> 0,
       TIMESTAMP '2019-01-01 00:00:00' + INTERVAL g * 13 SECOND,
       TIMESTAMP '2023-01-01 00:00:00' + INTERVAL g * 3 SECOND,
       CASE WHEN g % 6 = 0 THEN NULL ELSE DATE '2019-01-01' + INTERVAL g % 2500 DAY END,
       ELT(1 + g % 4, 'en-GB', 'de-DE', 'fr-FR', 'ja-JP'),
       MD5(CONCAT(g, 'c'))
-- seq is BIGINT UNSIGNED: signed arithmetic needs a signed copy.
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_{rows}) AS s;
ANALYZE TABLE {tbl};
