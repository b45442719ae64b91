#!/usr/bin/env bash
# Start the API on PORT (default 10000) for the mobile app and Postman.
#
# Without MONGO_URL: fetches mongod (scripts/mongo.sh) and starts a single-node replica set
# on port 27117 with its data kept in .data/mongo (ignored by git); it is stopped when the
# API stops (KEEP_MONGO=1 leaves it running). With MONGO_URL: uses that server.
# Reads .env when present (see .env.example).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi

if [ -z "${MONGO_URL:-}" ]; then
  MONGO_PORT=${VIVEKA_DEV_MONGO_PORT:-27117}
  DBPATH="$PWD/.data/mongo"
  scripts/mongo.sh start "$MONGO_PORT" "$DBPATH"
  if [ "${KEEP_MONGO:-0}" != "1" ]; then trap 'scripts/mongo.sh stop "$MONGO_PORT" "$DBPATH"' EXIT; fi
  cargo build --release --quiet --bin devdb
  target/release/devdb init "127.0.0.1:$MONGO_PORT"
  export MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/?replicaSet=rs0"
fi
export APP_ENV=${APP_ENV:-development}
cargo build --release --bin viveka
target/release/viveka serve
