#!/usr/bin/env bash
# Stops the private PostgreSQL cluster started by up.sh (data kept).
set -euo pipefail
PG_DIR="${RIVET_TEST_PG_DIR:-/tmp/rivet-test-pg-$(id -u)}"
PG_BIN="${RIVET_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR" stop -m fast; else "$PG_BIN/pg_ctl" -D "$PG_DIR" stop -m fast; fi
# Stops the object-store emulators up.sh started from this checkout (by their pid files).
SVC_DIR="${RIVET_TEST_SVC_DIR:-/tmp/rivet-test-svc-$(id -u)}"
for name in moto fake-gcs azurite; do
  if [ -f "$SVC_DIR/$name.pid" ]; then kill "$(cat "$SVC_DIR/$name.pid")" 2>/dev/null || true; rm -f "$SVC_DIR/$name.pid"; fi
done
# Stops the private MariaDB server (data kept).
bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/mariadb.sh" down
# Stops DynamoDB Local (in memory: its tables go with it).
bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/dynamodb.sh" down
