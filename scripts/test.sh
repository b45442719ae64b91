#!/usr/bin/env bash
# The whole test suite against a real MongoDB replica set.
#
# Without MONGO_URL: fetches mongod (scripts/mongo.sh), starts a fresh single-node replica
# set on port 27217 (data in .cache/, wiped each run), runs the checks, and stops it.
# With MONGO_URL: uses that server (it must be a replica set: transactions are required);
# every test creates and drops its own database `test_<uuid>`.
# Builds into ${CARGO_TARGET_DIR:-target} (debug profile; the first build says how long).
#
# Steps: cargo fmt --check; cargo clippy -D warnings; scripts/validate.sh (the OpenAPI
# document with openapi-spec-validator, the compose files with the compose-spec schema);
# cargo test; scripts/newman.sh (the Postman "Getting started" flow on a live server, every
# response checked against the document); scripts/schemathesis.sh short (fuzzing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

if [ -z "${MONGO_URL:-}" ]; then
  MONGO_PORT=${VIVEKA_TEST_MONGO_PORT:-27217}
  # a port held by something else (another checkout's test server): take the next free one
  while port_open "$MONGO_PORT" && ! [ -f "$PWD/.cache/mongo-test-$MONGO_PORT/mongod.pid" ]; do
    MONGO_PORT=$((MONGO_PORT + 1))
  done
  DBPATH="$PWD/.cache/mongo-test-$MONGO_PORT"
  scripts/mongo.sh stop "$MONGO_PORT" "$DBPATH" || true
  rm -rf "$DBPATH"
  trap 'scripts/mongo.sh stop "$MONGO_PORT" "$DBPATH"' EXIT
  scripts/mongo.sh start "$MONGO_PORT" "$DBPATH"
  build_note debug
  cargo build $QUIET --bin devdb
  "$TARGET/debug/devdb" init "127.0.0.1:$MONGO_PORT"
  export MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/?replicaSet=rs0"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
build_note debug
cargo clippy --all-targets --quiet -- -D warnings
echo "== validate: OpenAPI document and docker compose files (scripts/validate.sh)"
scripts/validate.sh
echo "== cargo test (MongoDB at ${MONGO_URL%%\?*})"
cargo test --all-targets
echo "== newman: the Postman \"Getting started\" flow on a live server (scripts/newman.sh)"
scripts/newman.sh
echo "== schemathesis short (fuzz the live API from its OpenAPI document; long run: scripts/schemathesis.sh long)"
scripts/schemathesis.sh short
