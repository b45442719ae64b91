#!/usr/bin/env bash
# The whole test suite against a real MongoDB replica set.
#
# Without MONGO_URL: fetches mongod (scripts/mongo.sh), starts a fresh single-node replica
# set on port 27217 (data in .cache/, wiped each run), runs the checks, and stops it.
# With MONGO_URL: uses that server (it must be a replica set: transactions are required);
# every test creates and drops its own database `test_<uuid>`.
# Builds into ${CARGO_TARGET_DIR:-target} (debug profile; the first build says how long).
#
# The downloads (mongod, the pinned Python tools, newman) run in the background while clippy
# compiles (their log: .cache/prefetch.log); every step prints how long it took, and a table
# of the steps closes the run (CI's limit is 20 minutes for the whole suite, build included).
#
# Steps: cargo fmt --check; cargo clippy -D warnings; scripts/validate.sh (the OpenAPI
# document with openapi-spec-validator, the compose files with the compose-spec schema);
# cargo test; scripts/newman.sh (the Postman "Getting started" flow on a live server, every
# response checked against the document); scripts/schemathesis.sh short (fuzzing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

# step timings: `step NAME` closes the previous step and opens the next one
STEPS=()
STEP=
STEP_AT=$SECONDS
step() {
  local now=$SECONDS
  if [ -n "$STEP" ]; then
    echo "   ($STEP: $((now - STEP_AT)) s)"
    STEPS+=("$(printf '%5d s  %s' $((now - STEP_AT)) "$STEP")")
  fi
  STEP=$1
  STEP_AT=$now
  [ -z "$STEP" ] || echo "== $STEP"
}
summary() {
  local rc=$1
  step ""
  echo "== steps (exit $rc, $SECONDS s in all):"
  printf '%s\n' "${STEPS[@]}"
}

STOP_MONGO=
cleanup() {
  local rc=$?
  [ -z "${PREFETCH_PID:-}" ] || kill "$PREFETCH_PID" 2>/dev/null || true
  if [ "$rc" != 0 ] && [ -n "$STOP_MONGO" ] && [ -f "$DBPATH/mongod.log" ]; then
    # a failed run: what mongod itself reported (errors and fatal assertions), last ones
    echo "== mongod's errors ($DBPATH/mongod.log, last 20):"
    grep -E '"s":"(E|F)"' "$DBPATH/mongod.log" | tail -n 20 | cut -c1-600 || true
    port_open "$MONGO_PORT" || echo "== mongod is not running any more (see the log above)"
  fi
  [ -z "$STOP_MONGO" ] || scripts/mongo.sh stop "$MONGO_PORT" "$DBPATH" || true
  summary "$rc"
  exit "$rc"
}
trap cleanup EXIT

mkdir -p .cache
# A clean checkout (CI) builds everything once: incremental compilation only adds work there.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
# Downloads in the background (network-bound), while the CPU compiles.
prefetch() {
  [ -n "${MONGO_URL:-}" ] || scripts/mongo.sh fetch
  ensure_tools
  ensure_fuzz
  ensure_newman
}
echo "== downloads in the background (log: .cache/prefetch.log): mongod, pinned Python tools, newman"
prefetch >.cache/prefetch.log 2>&1 &
PREFETCH_PID=$!
wait_prefetch() {
  if [ -n "${PREFETCH_PID:-}" ]; then
    if ! wait "$PREFETCH_PID"; then
      echo "the downloads failed:" >&2
      cat .cache/prefetch.log >&2
      exit 1
    fi
    PREFETCH_PID=
  fi
}

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
build_note debug
cargo clippy --all-targets --quiet -- -D warnings


if [ -z "${MONGO_URL:-}" ]; then
  step "build the debug binaries"
  build_note debug
  cargo build $QUIET --bins
  step "wait for the downloads, start MongoDB"
  wait_prefetch
  MONGO_PORT=${VIVEKA_TEST_MONGO_PORT:-27217}
  # a port held by something else (another checkout's test server): take the next free one
  while port_open "$MONGO_PORT" && ! [ -f "$PWD/.cache/mongo-test-$MONGO_PORT/mongod.pid" ]; do
    MONGO_PORT=$((MONGO_PORT + 1))
  done
  DBPATH="$PWD/.cache/mongo-test-$MONGO_PORT"
  scripts/mongo.sh stop "$MONGO_PORT" "$DBPATH" || true
  rm -rf "$DBPATH"
  STOP_MONGO=1
  scripts/mongo.sh start "$MONGO_PORT" "$DBPATH"
  "$TARGET/debug/devdb" init "127.0.0.1:$MONGO_PORT"
  export MONGO_URL="mongodb://127.0.0.1:$MONGO_PORT/?replicaSet=rs0"
else
  step "wait for the downloads"
  wait_prefetch
fi

step "validate: OpenAPI document and docker compose files (scripts/validate.sh)"
scripts/validate.sh
step "cargo test (MongoDB at ${MONGO_URL%%\?*})"
cargo test --lib --tests
step "newman: the Postman \"Getting started\" flow on a live server (scripts/newman.sh)"
scripts/newman.sh
step "schemathesis short (fuzz the live API from its OpenAPI document; long run: scripts/schemathesis.sh long)"
scripts/schemathesis.sh short
