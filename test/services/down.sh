#!/usr/bin/env bash
# Stops the private PostgreSQL cluster started by up.sh (data kept).
set -euo pipefail
PG_DIR="${RIVET_TEST_PG_DIR:-/tmp/rivet-test-pg-$(id -u)}"
PG_BIN="${RIVET_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR" stop -m fast; else "$PG_BIN/pg_ctl" -D "$PG_DIR" stop -m fast; fi
