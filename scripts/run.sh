#!/usr/bin/env bash
# Start the API on PORT (default 10000) for the mobile app and Postman.
#
# Checks first that PORT is free (and says which port when it is not). Without MONGO_URL:
# fetches mongod (scripts/mongo.sh) and starts a single-node replica set on port 27117 with
# its data kept in .data/mongo (ignored by git); it is stopped when the API stops
# (KEEP_MONGO=1 leaves it running). With MONGO_URL: uses that server. Reads .env when present
# (see .env.example). Builds into ${CARGO_TARGET_DIR:-target} (release profile; the first
# build takes a while and says so). SIGTERM and SIGINT (Ctrl-C) are passed on to the server,
# which drains its requests and exits; then mongod is stopped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi
. scripts/lib.sh

PORT=${PORT:-10000}
if port_open "$PORT"; then
  echo "run.sh: port $PORT is already in use (another viveka or another program); stop it or run with PORT=<free port>" >&2
  exit 1
fi

build_note release
cargo build --release $QUIET --bin viveka --bin devdb

if [ -z "${MONGO_URL:-}" ]; then
  MONGO_PORT=${VIVEKA_DEV_MONGO_PORT:-27117}
  DBPATH="$PWD/.data/mongo"
  scripts/mongo.sh start "$MONGO_PORT" "$DBPATH"
  if [ "${KEEP_MONGO:-0}" != "1" ]; then trap 'scripts/mongo.sh stop "$MONGO_PORT" "$DBPATH"' EXIT; fi
  "$TARGET/release/devdb" init "127.0.0.1:$MONGO_PORT"
  export MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/?replicaSet=rs0"
fi
export APP_ENV=${APP_ENV:-development} PORT

"$TARGET/release/viveka" serve &
SERVER_PID=$!
forward() { kill -TERM "$SERVER_PID" 2>/dev/null || true; }
trap forward TERM INT HUP
rc=0
# `wait` returns early when a trapped signal arrives: wait again until the server is gone
while kill -0 "$SERVER_PID" 2>/dev/null; do
  rc=0
  wait "$SERVER_PID" || rc=$?
done
exit "$rc"
