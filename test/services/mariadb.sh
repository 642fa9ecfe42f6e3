#!/usr/bin/env bash
# A private MariaDB server for the MySQL source tests, idempotent:
#   mariadb.sh [up]   install mariadb-server if missing (Debian, as root), initialise a data
#                     directory under $RIVET_TEST_MYSQL_DIR, start it on
#                     127.0.0.1:${RIVET_TEST_MYSQL_PORT:-54330} with its own socket, TLS on
#                     (a throwaway CA in $DIR/tls: ca.pem, server-cert.pem for localhost and
#                     127.0.0.1), user rivet / password rivet, database rivet_test.
#   mariadb.sh down   stop it (data kept).
set -euo pipefail

MY_PORT="${RIVET_TEST_MYSQL_PORT:-54330}"
MY_DIR="${RIVET_TEST_MYSQL_DIR:-/tmp/rivet-test-mariadb-$(id -u)}"
SOCK="$MY_DIR/mariadbd.sock"
PID_FILE="$MY_DIR/mariadbd.pid"
TLS_DIR="$MY_DIR/tls"

find_bin() {
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
      if [ -x "$d/$n" ]; then echo "$d/$n"; return 0; fi
    done
  done
  return 1
}

if [ "${1:-up}" = "down" ]; then
  if [ -f "$PID_FILE" ]; then
    pid="$(cat "$PID_FILE")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  exit 0
fi

if ! find_bin mariadbd >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "mariadb.sh: installing mariadb-server from Debian" >&2
    apt-get update -qq >/dev/null
    # policy-rc.d-less containers may try to start the packaged service; it is not ours and not needed.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
  else
    echo "mariadb.sh: mariadbd not found (install mariadb-server)" >&2
    exit 1
  fi
fi
MARIADBD="$(find_bin mariadbd)"
INSTALL_DB="$(find_bin mariadb-install-db mysql_install_db)"
ADMIN="$(find_bin mariadb-admin mysqladmin)"
CLIENT="$(find_bin mariadb mysql)"

# mariadbd refuses to run as root: as root, run it as the packaged `mysql` user.
RUN_USER="$(id -un)"
if [ "$(id -u)" = "0" ]; then RUN_USER=mysql; fi

mkdir -p "$MY_DIR/data" "$TLS_DIR"

if [ ! -f "$TLS_DIR/server-cert.pem" ]; then
  (
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=rivet test CA" -keyout ca-key.pem -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server-key.pem -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 -extfile server.ext -out server-cert.pem 2>/dev/null
    rm -f server.csr server.ext
  )
fi

cat >"$MY_DIR/my.cnf" <<CONF
[mariadbd]
datadir = $MY_DIR/data
socket = $SOCK
pid-file = $PID_FILE
log-error = $MY_DIR/server.log
port = $MY_PORT
bind-address = 127.0.0.1
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
innodb_buffer_pool_size = 64M
innodb_flush_log_at_trx_commit = 0
sync_binlog = 0
performance_schema = OFF
max_connections = 200
ssl-ca = $TLS_DIR/ca.pem
ssl-cert = $TLS_DIR/server-cert.pem
ssl-key = $TLS_DIR/server-key.pem
CONF

if [ "$(id -u)" = "0" ]; then chown -R "$RUN_USER" "$MY_DIR"; fi

if [ ! -d "$MY_DIR/data/mysql" ]; then
  "$INSTALL_DB" --defaults-file="$MY_DIR/my.cnf" --user="$RUN_USER" --auth-root-authentication-method=normal --skip-test-db >"$MY_DIR/install.log" 2>&1
fi

ping_db() { "$ADMIN" --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1; }

if ! ping_db; then
  nohup "$MARIADBD" --defaults-file="$MY_DIR/my.cnf" --user="$RUN_USER" >/dev/null 2>&1 &
  for _ in $(seq 1 120); do
    if ping_db; then break; fi
    sleep 0.5
  done
  if ! ping_db; then
    echo "mariadb.sh: MariaDB did not start; see $MY_DIR/server.log" >&2
    tail -n 20 "$MY_DIR/server.log" >&2 || true
    exit 1
  fi
fi

"$CLIENT" --no-defaults --socket="$SOCK" -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'rivet'@'%' IDENTIFIED BY 'rivet';
CREATE USER IF NOT EXISTS 'rivet'@'localhost' IDENTIFIED BY 'rivet';
GRANT ALL PRIVILEGES ON *.* TO 'rivet'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'rivet'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS rivet_test CHARACTER SET utf8mb4;
SQL
