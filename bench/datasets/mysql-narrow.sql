-- MariaDB/MySQL narrow table (issue 18): {rows} rows × 7 columns — bigint, int, decimal(15,4),
-- double, tinyint(1), datetime(6), varchar — the MySQL twin of narrow.sql. bench/harness.mjs
-- replaces {tbl} and {rows} and pipes this to `mariadb`. Rows come from MariaDB's SEQUENCE
-- engine (seq_1_to_N), so generating needs no client-side loop.
CREATE DATABASE IF NOT EXISTS bench;
USE bench; -- the SEQUENCE engine's seq_1_to_N tables live in the current database
DROP TABLE IF EXISTS {tbl};
CREATE TABLE {tbl} (
  id         bigint PRIMARY KEY,
  account_id int NOT NULL,
  amount     decimal(15,4) NOT NULL,
  score      double,
  active     tinyint(1) NOT NULL,
  created_at datetime(6) NOT NULL,
  code       varchar(32) NOT NULL
) ENGINE = InnoDB;
-- Negative amounts and microseconds so decimal signs and datetime(6) fractions are on the wire.
INSERT INTO {tbl}
SELECT g,
       (g * 7919) % 250000,
       (((g * 2654435761) % 100000000000) - 50000000000) / 10000.0,
       CASE WHEN g % 11 = 0 THEN NULL ELSE (g % 100003) / 7.0 END,
       g % 3 <> 0,
       TIMESTAMP '2021-01-01 00:00:00' + INTERVAL g * 7 SECOND + INTERVAL (g * 37) % 1000000 MICROSECOND,
       CONCAT('C-', LOWER(HEX(g * 31)))
-- seq is BIGINT UNSIGNED: signed arithmetic needs a signed copy.
FROM (SELECT CAST(seq AS SIGNED) AS g FROM seq_1_to_{rows}) AS s;
ANALYZE TABLE {tbl};
