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

# openssl makes the throwaway TLS certificates (PostgreSQL, MariaDB, the fake TDS server).
command -v openssl >/dev/null || { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null && apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null; } || { echo "up.sh: openssl is missing" >&2; exit 1; }
command -v tmux >/dev/null || { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null && apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null; } || echo "up.sh: tmux is missing (test/e2e/cards-tmux.test.ts drives the cards UI in it)" >&2

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

# TLS for the PostgreSQL TLS tests: a private test CA, a server certificate valid for the
# name `localhost` only (so connecting to 127.0.0.1 is a hostname mismatch under verify-full),
# and an unrelated CA to fail verify-ca with. Turned on by reload, never by restart: plaintext
# connections keep working (pg_hba `host` lines accept both).
PG_TLS_DIR="${RIVET_TEST_PG_TLS_DIR:-$PG_DIR-tls}"
if [ ! -f "$PG_TLS_DIR/server.crt" ] || [ ! -f "$PG_TLS_DIR/wrong-ca.crt" ]; then
  mkdir -p "$PG_TLS_DIR"
  (
    cd "$PG_TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=rivet test CA" -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=unrelated test CA" -keyout wrong-ca.key -out wrong-ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile server.ext -out server.crt 2>/dev/null
  )
  chmod 755 "$PG_TLS_DIR"; chmod 644 "$PG_TLS_DIR"/*.crt; chmod 600 "$PG_TLS_DIR"/*.key
  if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$PG_TLS_DIR/server.key" "$PG_TLS_DIR/server.crt"; fi
fi
if [ "$(psql_su -d postgres -c "show ssl")" != "on" ] || [ "$(psql_su -d postgres -c "show ssl_cert_file")" != "$PG_TLS_DIR/server.crt" ]; then
  psql_su -d postgres -c "alter system set ssl_cert_file = '$PG_TLS_DIR/server.crt'"
  psql_su -d postgres -c "alter system set ssl_key_file = '$PG_TLS_DIR/server.key'"
  psql_su -d postgres -c "alter system set ssl = on"
  psql_su -d postgres -c "select pg_reload_conf()" >/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do [ "$(psql_su -d postgres -c "show ssl")" = "on" ] && break; sleep 0.5; done
  if [ "$(psql_su -d postgres -c "show ssl")" != "on" ]; then
    echo "up.sh: PostgreSQL did not turn TLS on (see $PG_DIR/server.log)" >&2
    exit 1
  fi
fi

if ! python3 -c 'import pyarrow' >/dev/null 2>&1; then
  echo "up.sh: installing pyarrow (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" 2>&1 | grep -v 'Running pip as the' >&2 || true
  python3 -c 'import pyarrow' >/dev/null
fi

echo "up.sh: postgres ready at postgresql://rivet:***@127.0.0.1:$PG_PORT/rivet_test (TLS CA $PG_TLS_DIR/ca.crt); pyarrow $(python3 -c 'import pyarrow; print(pyarrow.__version__)')" >&2

# --- Object-store emulators for the destination conformance suite -------------------------
# moto (S3), fake-gcs-server (GCS) and azurite (Azure Blob), each on a fixed loopback port,
# started in the background with a pid file under $SVC_DIR. A port that already answers is
# taken as the emulator already running (another checkout on this machine may have started
# it), so running this twice starts nothing twice.
S3_PORT="${RIVET_TEST_S3_PORT:-54340}"
GCS_PORT="${RIVET_TEST_GCS_PORT:-54341}"
AZURE_PORT="${RIVET_TEST_AZURE_PORT:-54342}"
SVC_DIR="${RIVET_TEST_SVC_DIR:-/tmp/rivet-test-svc-$(id -u)}"
FAKE_GCS_VERSION="v1.56.1"
TOOLS_DIR="${RIVET_TEST_TOOLS_DIR:-$HOME/.cache/rivet-test-tools}"
mkdir -p "$SVC_DIR" "$TOOLS_DIR"

answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/$2"; }
start_bg() { # name port url-path command...
  local name="$1" port="$2" path="$3"; shift 3
  if answers "$port" "$path"; then return 0; fi
  nohup setsid "$@" >"$SVC_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$SVC_DIR/$name.pid"
  for _ in $(seq 1 120); do
    if answers "$port" "$path"; then return 0; fi
    if ! kill -0 "$(cat "$SVC_DIR/$name.pid")" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "up.sh: $name did not answer on 127.0.0.1:$port; log follows" >&2
  tail -n 20 "$SVC_DIR/$name.log" >&2
  exit 1
}

if ! python3 -c 'import moto.server, flask' >/dev/null 2>&1; then
  echo "up.sh: installing moto[server] (PyPI)" >&2
  python3 -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" 2>&1 | grep -v 'Running pip as the' >&2 || true
fi
start_bg moto "$S3_PORT" "" python3 -m moto.server -H 127.0.0.1 -p "$S3_PORT"

FAKE_GCS="$TOOLS_DIR/fake-gcs-server-$FAKE_GCS_VERSION"
if [ ! -x "$FAKE_GCS" ]; then
  echo "up.sh: building fake-gcs-server $FAKE_GCS_VERSION (Go module proxy)" >&2
  GOBIN="$TOOLS_DIR/gobin-$FAKE_GCS_VERSION" go install "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION"
  mv "$TOOLS_DIR/gobin-$FAKE_GCS_VERSION/fake-gcs-server" "$FAKE_GCS"
fi
start_bg fake-gcs "$GCS_PORT" "storage/v1/b" "$FAKE_GCS" -scheme http -host 127.0.0.1 -port "$GCS_PORT" \
  -backend memory -external-url "http://127.0.0.1:$GCS_PORT" -log-level warn

AZURITE="$here/../../node_modules/.bin/azurite-blob"
if [ ! -x "$AZURITE" ]; then
  echo "up.sh: azurite is missing; run npm install first" >&2
  exit 1
fi
start_bg azurite "$AZURE_PORT" "devstoreaccount1?comp=list" "$AZURITE" --blobHost 127.0.0.1 --blobPort "$AZURE_PORT" \
  --inMemoryPersistence --disableTelemetry --skipApiVersionCheck --loose

echo "up.sh: emulators ready: S3 (moto) 127.0.0.1:$S3_PORT, GCS (fake-gcs-server) 127.0.0.1:$GCS_PORT, Azure (azurite) 127.0.0.1:$AZURE_PORT" >&2

# --- MariaDB for the MySQL source tests (127.0.0.1:54330, rivet/rivet, rivet_test) ---------------
bash "$here/mariadb.sh" up
echo "up.sh: mariadb ready at mysql://rivet:***@127.0.0.1:${RIVET_TEST_MYSQL_PORT:-54330}/rivet_test" >&2

# --- DynamoDB Local for the state-store tests (127.0.0.1:54343, in memory) ----------------------
bash "$here/dynamodb.sh" up
echo "up.sh: dynamodb local ready at http://127.0.0.1:${RIVET_TEST_DYNAMODB_PORT:-54343}" >&2

# --- polars and parquet-java, the format tests' other independent readers ----------------------
bash "$here/parquet-java.sh"
echo "up.sh: readers ready: polars $(python3 -c 'import polars; print(polars.__version__)'), parquet-java (test/readers/parquet-java)" >&2
