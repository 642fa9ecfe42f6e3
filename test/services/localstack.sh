#!/usr/bin/env bash
# LocalStack as a host process (no Docker), for the LocalStack suite (`npm run test:localstack`):
#   localstack.sh [up]   install what is missing, then start LocalStack on
#                        127.0.0.1:${RIVET_LOCALSTACK_PORT:-4566} in the background (pid file, log
#                        under $SVC_DIR/localstack/) and wait until /_localstack/health answers.
#                        A port that already answers counts as running.
#   localstack.sh down   stop the LocalStack this script started, with every Lambda process it ran.
#   localstack.sh env    print the environment LocalStack runs with (for docs and debugging).
#
# What it installs, each once, under $TOOLS_DIR (kept between runs):
#   - a Python 3.13 venv (LocalStack needs ≥ 3.13) with localstack-core and the pins it needs;
#   - our LocalStack plugins (test/services/localstack/): DynamoDB served by moto, since the
#     shipped provider downloads Java 21 and DynamoDB Local; and the `rivet_host` Lambda
#     executor, which runs each function as a host Node.js process instead of a container;
#   - Node.js 22 (npm package node-linux-<arch>) for those processes, as Lambda's nodejs22.x.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

LS_VERSION="2026.3.0"
NODE_VERSION="22.23.5"
PORT="${RIVET_LOCALSTACK_PORT:-4566}"
SVC_DIR="${RIVET_TEST_SVC_DIR:-/tmp/rivet-test-svc-$(id -u)}"
TOOLS_DIR="${RIVET_TEST_TOOLS_DIR:-$HOME/.cache/rivet-test-tools}"
LS_DIR="$SVC_DIR/localstack"
PID_FILE="$LS_DIR/localstack.pid"
LOG_FILE="$LS_DIR/localstack.log"
VENV="$TOOLS_DIR/localstack-$LS_VERSION-py3.13"
NODE_DIR="$TOOLS_DIR/node-$NODE_VERSION"
PLUGIN_SRC="$here/localstack"

say() { echo "localstack.sh: $*" >&2; }
answers() { curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/_localstack/health"; }

ls_env() {
  # hypercorn binds only GATEWAY_LISTEN (the default server binds 0.0.0.0); no DNS server, no
  # analytics, no certificate download (nothing outside the registries is reachable).
  cat <<ENV
GATEWAY_LISTEN=127.0.0.1:$PORT
GATEWAY_SERVER=hypercorn
DNS_ADDRESS=0
DISABLE_EVENTS=1
SKIP_SSL_CERT_DOWNLOAD=1
SERVICES=cloudformation,iam,sts,ssm,s3,kms,lambda,stepfunctions,dynamodb,secretsmanager,logs,cloudwatch,events,scheduler,sns,sqs
PROVIDER_OVERRIDE_DYNAMODB=rivet_moto
LAMBDA_RUNTIME_EXECUTOR=rivet_host
RIVET_LS_NODE=$NODE_DIR/bin/node
RIVET_LS_LAMBDA_LOGS=$LS_DIR/lambda
FILESYSTEM_ROOT=$LS_DIR/fs
ENV
}

stop() {
  [ -f "$PID_FILE" ] || return 0
  local pid
  pid="$(cat "$PID_FILE")"
  # setsid made LocalStack a process group leader; its Lambda processes are in that group.
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    # LocalStack's shutdown sometimes hangs on a worker thread.
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
}

case "${1:-up}" in
  down) stop; exit 0 ;;
  env) ls_env; exit 0 ;;
  up) ;;
  *) echo "usage: $0 [up|down|env]" >&2; exit 2 ;;
esac

find_python313() {
  if [ -n "${RIVET_LOCALSTACK_PYTHON:-}" ]; then echo "$RIVET_LOCALSTACK_PYTHON"; return; fi
  local p
  # pyenv's shim for python3.13 exists even when 3.13 is not the selected version, and then
  # fails: so each candidate is asked for its version.
  for p in "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.13*/bin/python3.13 "$(command -v python3.13 || true)"; do
    if [ -n "$p" ] && [ -x "$p" ] && "$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
      echo "$p"
      return
    fi
  done
}

# --- Python venv with localstack-core -------------------------------------------------------
# Each unpinned companion breaks start-up with the versions PyPI serves today.
REQS=("localstack-core[runtime]==$LS_VERSION" "cbor2<6" "pyopenssl<26" "cryptography<47" "service_identity")
if [ "$(cat "$VENV/.rivet-reqs" 2>/dev/null || true)" != "${REQS[*]}" ]; then
  PY="$(find_python313)"
  if [ -z "$PY" ]; then
    say "Python 3.13 not found (LocalStack $LS_VERSION needs it; pyenv's 3.13 on these machines, or set RIVET_LOCALSTACK_PYTHON)"
    exit 1
  fi
  say "installing localstack-core $LS_VERSION into $VENV ($("$PY" --version))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${REQS[@]}"
  echo "${REQS[*]}" >"$VENV/.rivet-reqs"
fi

# --- our plugins, reinstalled whenever their source changes ---------------------------------
plugin_hash="$(cd "$PLUGIN_SRC" && find . -type f \( -name '*.py' -o -name '*.mjs' -o -name '*.toml' \) -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
if [ "$(cat "$VENV/.rivet-plugin" 2>/dev/null || true)" != "$plugin_hash" ]; then
  say "installing rivet's LocalStack plugins"
  build="$(mktemp -d)"
  # Built from a copy: pip leaves build/ and *.egg-info next to the sources it builds.
  cp -r "$PLUGIN_SRC/." "$build/"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall "$build"
  rm -rf "$build"
  echo "$plugin_hash" >"$VENV/.rivet-plugin"
fi

# --- Node.js 22 for the functions -----------------------------------------------------------
if [ ! -x "$NODE_DIR/bin/node" ]; then
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) say "no Node.js package for $(uname -m)"; exit 1 ;; esac
  say "installing Node.js $NODE_VERSION (npm package node-linux-$arch)"
  tmp="$(mktemp -d)"
  npm install --silent --no-audit --no-fund --no-save --prefix "$tmp" "node-linux-$arch@$NODE_VERSION" >/dev/null
  rm -rf "$NODE_DIR"
  mkdir -p "$(dirname "$NODE_DIR")"
  mv "$tmp/node_modules/node-linux-$arch" "$NODE_DIR"
  rm -rf "$tmp"
fi

# A LocalStack this script started with other plugins or another config is restarted; one
# started by someone else (no pid file) is used as it is.
started_with="$plugin_hash $(ls_env | sha256sum | cut -c1-16)"
if answers; then
  if [ ! -f "$PID_FILE" ] || [ "$(cat "$LS_DIR/started-with" 2>/dev/null || true)" = "$started_with" ]; then exit 0; fi
  say "restarting: its plugins or settings changed"
fi

# --- start ----------------------------------------------------------------------------------
stop
rm -rf "$LS_DIR"
mkdir -p "$LS_DIR/fs" "$LS_DIR/tmp" "$LS_DIR/lambda"
# shellcheck disable=SC2046 # one VAR=value word per line
nohup setsid env $(ls_env | tr '\n' ' ') "$VENV/bin/python" -m localstack.runtime.main >"$LOG_FILE" 2>&1 </dev/null &
echo $! >"$PID_FILE"
echo "$started_with" >"$LS_DIR/started-with"
for _ in $(seq 1 240); do
  if answers; then
    say "ready at http://127.0.0.1:$PORT (log $LOG_FILE)"
    exit 0
  fi
  if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then break; fi
  sleep 0.5
done
say "LocalStack did not answer on 127.0.0.1:$PORT; log follows"
tail -n 40 "$LOG_FILE" >&2
stop
exit 1
