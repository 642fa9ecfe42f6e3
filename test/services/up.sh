#!/usr/bin/env bash
# Starts (idempotently) every service the test suite needs on this machine:
#   - a private PostgreSQL 15 cluster on 127.0.0.1:${RIVET_TEST_PG_PORT:-54329}
#     (role rivet / password rivet, database rivet_test), data under $RIVET_TEST_PG_DIR;
#   - pyarrow for Python, the second independent reader of what we write.
# Installs what is missing (Debian postgresql-15, PyPI pyarrow) when it can.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

PG_PORT="${RIVET_TEST_PG_PORT:-54329}"
PG_DIR="${RIVET_TEST_PG_DIR:-/tmp/rivet-test-pg-$(id -u)}"
PG_BIN="${RIVET_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}"

as_pg_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ ! -x "$PG_BIN/initdb" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "up.sh: installing postgresql-15 from Debian" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
  else
    echo "up.sh: PostgreSQL 15 binaries not found at $PG_BIN (set RIVET_TEST_PG_BIN or install postgresql-15)" >&2
    exit 1
  fi
fi

mkdir -p "$PG_DIR"
if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$PG_DIR"; fi

if [ ! -f "$PG_DIR/PG_VERSION" ]; then
  as_pg_owner "$PG_BIN/initdb" -D "$PG_DIR" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$PG_DIR/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 256MB
CONF
fi

if ! as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null
fi

psql_su() { as_pg_owner "$PG_BIN/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$(psql_su -d postgres -c "select 1 from pg_roles where rolname='rivet'")" != "1" ]; then
  psql_su -d postgres -c "create role rivet login superuser password 'rivet'"
fi
if [ "$(psql_su -d postgres -c "select 1 from pg_database where datname='rivet_test'")" != "1" ]; then
  psql_su -d postgres -c "create database rivet_test owner rivet"
fi

if ! python3 -c 'import pyarrow' >/dev/null 2>&1; then
  echo "up.sh: installing pyarrow (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" 2>&1 | grep -v 'Running pip as the' >&2 || true
  python3 -c 'import pyarrow' >/dev/null
fi

echo "up.sh: postgres ready at postgresql://rivet:***@127.0.0.1:$PG_PORT/rivet_test; pyarrow $(python3 -c 'import pyarrow; print(pyarrow.__version__)')" >&2
