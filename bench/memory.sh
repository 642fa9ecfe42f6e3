#!/usr/bin/env bash
# Peak memory and throughput of `rivet run` (full mode, one part) against the test
# PostgreSQL, for a table of N rows. Appends one line per read method to
# bench/results/memory.md.
#   bash bench/memory.sh 1000000 [parquet|csv] [batch_size] [cursor|copy|both]
# The method is passed to the CLI as RIVET_PG_READ_METHOD; unset (no 4th argument) means
# the source's default.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:?rows}"; format="${2:-parquet}"; batch="${3:-10000}"; method="${4:-}"
case "$method" in
  both) methods=(cursor copy) ;;
  ""|cursor|copy) methods=("$method") ;;
  *) echo "unknown method: $method (cursor, copy or both)" >&2; exit 2 ;;
esac
tbl="bench.orders_${rows}"
bash test/services/up.sh
PG_DIR="${RIVET_TEST_PG_DIR:-/tmp/rivet-test-pg-$(id -u)}"
export PGPASSWORD=rivet
psql_() { psql -h 127.0.0.1 -p "${RIVET_TEST_PG_PORT:-54329}" -U rivet -d rivet_test -qAt "$@"; }
if [ "$(psql_ -c "select count(*) from pg_tables where schemaname='bench' and tablename='orders_${rows}'")" != "1" ]; then
  echo "generating $rows rows…" >&2
  psql_ -v rows="$rows" -v tbl="$tbl" -f bench/generate.sql >/dev/null
fi
npm run --silent build
work="$(mktemp -d)"
cat >"$work/rivet.yaml" <<YAML
source:
  type: postgres
  url: postgresql://rivet:rivet@127.0.0.1:${RIVET_TEST_PG_PORT:-54329}/rivet_test
  tuning: { profile: fast, batch_size: $batch }
exports:
  - name: orders
    table: $tbl
    format: $format
    destination: { type: local, path: $work/out }
YAML
f=bench/results/memory.md
if [ ! -f "$f" ]; then
  cat >"$f" <<HDR
# rivet run — peak memory and throughput (full mode, one part)

Machine: 2 cores, 24 GiB, Node $(node --version), PostgreSQL 15 on the same machine (test/services/up.sh).
Dataset: bench/generate.sql (10 columns: bigint, int, numeric(12,2), float8, bool, text, text, date, timestamptz, uuid).
Command: \`bash bench/memory.sh ROWS FORMAT BATCH [METHOD]\`; peak RSS from /usr/bin/time -v (whole process).
Read: the PostgreSQL read method (cursor = DECLARE … BINARY CURSOR + FETCH, copy = COPY … TO STDOUT (FORMAT binary)); empty = default.

| date | rows | format | batch_size | peak RSS | wall | throughput | output | commit | read |
|---|---|---|---|---|---|---|---|---|---|
HDR
fi
for m in "${methods[@]}"; do
  rm -rf "$work/out"
  RIVET_PG_READ_METHOD="$m" /usr/bin/time -v node dist/cli/main.js run -c "$work/rivet.yaml" 2>"$work/time.txt" >/dev/null || { cat "$work/time.txt"; exit 1; }
  rss_kb=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{print $NF}')
  wall=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}')
  size=$(du -sb "$work/out" | cut -f1)
  secs=$(python3 -c "p='$wall'.split(':'); print(sum(float(x)*60**i for i,x in enumerate(reversed(p))))")
  line="| $(date -u +%F) | $rows | $format | $batch | $((rss_kb/1024)) MB | ${wall} | $(python3 -c "print(round($rows/$secs))") rows/s | $((size/1048576)) MB | $(git rev-parse --short HEAD) | $m |"
  echo "$line"
  echo "$line" >>"$f"
done
rm -rf "$work"
