# Shared by the scripts (sourced, never run): where cargo puts binaries, what the first
# build costs, free ports, pinned Python tool venvs, and a live debug server on a fresh
# database. Expects the caller to have `cd`ed to the repository root and `set -euo pipefail`.

# Binaries are where cargo puts them: CARGO_TARGET_DIR when set (shared machines, IDEs), else
# target/ in this checkout.
TARGET=${CARGO_TARGET_DIR:-target}
PY=${PYTHON:-python3}

# Say what a build is about to do when it is the first one in $TARGET for that profile: a
# cold build compiles about 340 crates and prints nothing useful for minutes otherwise.
# Sets QUIET to --quiet for a warm build and to nothing for a cold one (cargo's progress shows).
#   build_note release|debug; cargo build $QUIET ...
build_note() {
  local profile=$1
  QUIET=--quiet
  if [ ! -x "$TARGET/$profile/viveka" ] && [ ! -d "$TARGET/$profile/deps" ]; then
    case "$profile" in
      release) echo "== first release build into $TARGET/: compiles ~340 crates, roughly 15-20 minutes on 2 cores (later builds: seconds to a minute)" ;;
      *) echo "== first debug build into $TARGET/: compiles ~340 crates, roughly 5-10 minutes on 2 cores (later builds: seconds to a minute)" ;;
    esac
    QUIET=
  fi
}

# true when something on this machine accepts TCP connections on the port
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# a free TCP port on 127.0.0.1
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# pip for a python without ensurepip (Debian's python3 without python3-venv): pinned wheel
PIP_WHEEL_URL=https://files.pythonhosted.org/packages/d4/55/90db48d85f7689ec6f81c0db0622d704306c5284850383c090e6c7195a5c/pip-24.2-py3-none-any.whl
PIP_WHEEL_SHA256=2cd581cf58ab7fcfca4ce8efa6dcacd0de5bf8d0a3eb9ec927e07405f4d9e2a2

# A virtualenv with exactly the pinned, hashed wheels of a requirements file; reinstalled
# only when the file changes.   ensure_venv VENV REQUIREMENTS LABEL
ensure_venv() {
  local venv=$1 reqs=$2 label=$3
  if [ -x "$venv/bin/python" ] && sha256sum --check --status "$venv/.requirements.sha256" 2>/dev/null; then
    return 0
  fi
  echo "== installing $label into $venv (pinned, hashed wheels from PyPI)"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! "$PY" -m venv "$venv" 2>/dev/null; then
    echo "== no ensurepip: bootstrapping pip from its pinned wheel"
    rm -rf "$venv"
    "$PY" -m venv --without-pip "$venv"
    "$venv/bin/python" - "$PIP_WHEEL_URL" "$PIP_WHEEL_SHA256" "$venv/pip-24.2-py3-none-any.whl" <<'PYEOF'
import hashlib, sys, urllib.request
url, sha, out = sys.argv[1:]
data = urllib.request.urlopen(url, timeout=120).read()
if hashlib.sha256(data).hexdigest() != sha:
    sys.exit("pip wheel hash mismatch")
open(out, "wb").write(data)
PYEOF
    "$venv/bin/python" "$venv/pip-24.2-py3-none-any.whl/pip" install --quiet --no-index "$venv/pip-24.2-py3-none-any.whl"
    rm -f "$venv/pip-24.2-py3-none-any.whl"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    --require-hashes --only-binary=:all: -r "$reqs"
  sha256sum "$reqs" >"$venv/.requirements.sha256"
}

# The checking tools (openapi-spec-validator, check-jsonschema with the compose-spec schema),
# pinned with hashes in scripts/tools/requirements.txt, in .cache/tools-venv.
TOOLS_VENV="$PWD/.cache/tools-venv"
ensure_tools() { ensure_venv "$TOOLS_VENV" scripts/tools/requirements.txt "openapi-spec-validator and check-jsonschema"; }

# schemathesis, pinned with hashes in scripts/fuzz/requirements.txt, in .cache/schemathesis-venv.
FUZZ_VENV="$PWD/.cache/schemathesis-venv"
ensure_fuzz() { ensure_venv "$FUZZ_VENV" scripts/fuzz/requirements.txt schemathesis; }

# newman, pinned by scripts/newman/package-lock.json (integrity hashes), installed with
# `npm ci` into .cache/newman; reinstalled only when the lock file changes. Needs node >= 16.
NEWMAN_DIR=.cache/newman
ensure_newman() {
  if ! cmp -s scripts/newman/package-lock.json "$NEWMAN_DIR/package-lock.json" || ! [ -x "$NEWMAN_DIR/node_modules/.bin/newman" ]; then
    echo "== installing newman into $NEWMAN_DIR (npm ci, pinned by scripts/newman/package-lock.json)"
    rm -rf "$NEWMAN_DIR"
    mkdir -p "$NEWMAN_DIR"
    cp scripts/newman/package.json scripts/newman/package-lock.json "$NEWMAN_DIR/"
    (cd "$NEWMAN_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
  fi
}

# Build the debug server and start it on a free port against a fresh database of MONGO_URL
# (development mode: mock OTP on, rate limits out of the way). Sets WORK (a scratch dir with
# copies of the binaries), BASE, SERVER_PID, LIVE_DB. Stop it with stop_live_server.
#   start_live_server LOGFILE DBPREFIX
start_live_server() {
  local log=$1 prefix=$2
  : "${MONGO_URL:?set MONGO_URL to a MongoDB replica set (scripts/test.sh does)}"
  case "$TARGET" in
    /*) case "$TARGET" in "$PWD"/*) ;; *)
      # A target dir shared by several checkouts: cargo may call this checkout's crate fresh
      # when another checkout built it later than our last edit (same unit hash). Make it
      # rebuild from these sources.
      [ -n "${FUZZ_NO_TOUCH:-}" ] || touch src/lib.rs src/main.rs src/bin/devdb.rs ;;
    esac ;;
  esac
  build_note debug
  cargo build $QUIET --bin viveka --bin devdb
  WORK=$(mktemp -d)
  # copies: a shared CARGO_TARGET_DIR may be rebuilt from another checkout during the run
  cp "$TARGET/debug/viveka" "$TARGET/debug/devdb" "$WORK/"
  local port; port=$(free_port)
  LIVE_DB="${prefix}_$("$PY" -c 'import uuid; print(uuid.uuid4().hex)')"
  mkdir -p "$(dirname "$log")"
  echo "== server on 127.0.0.1:$port, database $LIVE_DB (log: $log)"
  APP_ENV=development PORT="$port" MONGO_URL="$MONGO_URL" MONGO_DB_NAME="$LIVE_DB" \
    JWT_SECRET=live-test-secret-0123456789abcdef0123456789abcdef OTP_PROVIDER=console \
    OTP_SEND_LIMIT_PER_PHONE=1000000 OTP_SEND_LIMIT_PER_IP=1000000 OTP_FAILED_VERIFY_LIMIT_PER_DAY=1000000 \
    REGISTER_LIMIT_PER_PHONE=1000000 REGISTER_LIMIT_PER_IP=1000000 \
    RUST_LOG=${FUZZ_RUST_LOG:-warn} LOG_FORMAT=text \
    "$WORK/viveka" serve >"$log" 2>&1 &
  SERVER_PID=$!
  BASE="http://127.0.0.1:$port"
}

# wait (at most 60 s) until the live server answers /api/health
wait_live_server() {
  for _ in $(seq 1 600); do
    if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/api/health", timeout=2)' "$BASE" 2>/dev/null; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited; see its log" >&2; return 1; }
    sleep 0.1
  done
  echo "the server at $BASE did not become healthy" >&2
  return 1
}

stop_live_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
  if [ -n "${WORK:-}" ]; then
    [ -z "${LIVE_DB:-}" ] || "$WORK/devdb" drop-db "$MONGO_URL" "$LIVE_DB" || true
    rm -rf "$WORK"
    WORK=
  fi
}
