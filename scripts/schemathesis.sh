#!/usr/bin/env bash
# Fuzz the live API from its own OpenAPI document with schemathesis (pinned, from PyPI).
#
#   scripts/schemathesis.sh short   # a few cases per operation (~1-2 min; part of scripts/test.sh)
#                                   # REPRODUCIBLE: derandomised generation and one worker, so the
#                                   # same commit always sends the same cases (same verdict)
#   scripts/schemathesis.sh long    # at least 100 generated cases per operation, RANDOMISED
#                                   # (a new seed each run, printed; replay it with FUZZ_SEED)
#
# Needs MONGO_URL (a replica set; scripts/test.sh sets it). Builds the debug server, starts it
# on a free port against a fresh database, registers a tenant through the API (development
# mock OTP), creates a little data, and runs schemathesis against /api/openapi.json with the
# tenant's token and its own clientId in every clientId parameter. Checks: no 5xx, and every
# response's status, content type and body as the document says. Exits non-zero on any failure.
# The server and its database are removed at the end; reports (JUnit, NDJSON events) stay in
# .cache/schemathesis-report, the server log in .cache/schemathesis-server.log.
#
# Only python3 (3.11) is needed: the tool goes into a virtualenv under .cache/, installed with
# --require-hashes from scripts/fuzz/requirements.txt. Environment knobs:
#   FUZZ_MAX_EXAMPLES  cases per operation (default: short 8, long 100)
#   FUZZ_SEED          seed of the long run (default random; printed to replay a run). The short run
#                      is derandomised (--generation-deterministic) and takes no seed
#   FUZZ_WORKERS       concurrent workers (default: short 1, long 2)
#   FUZZ_ARGS          more schemathesis arguments (e.g. --include-path-regex /dashboard/)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MODE=${1:-short}
case "$MODE" in
  # short: the CI gate, deterministic (derandomised generation: hypothesis derives every case
  # from the operation itself, no seed; one worker, so no interleaving of the stateful phase
  # either); the same commit always sends the same cases
  short) EXAMPLES=${FUZZ_MAX_EXAMPLES:-8} SEED= WORKERS=${FUZZ_WORKERS:-1} DETERMINISTIC=1 ;;
  # long: explores, a new random seed each run unless FUZZ_SEED is given
  long) EXAMPLES=${FUZZ_MAX_EXAMPLES:-100} SEED=${FUZZ_SEED:-$RANDOM$RANDOM} WORKERS=${FUZZ_WORKERS:-2} DETERMINISTIC= ;;
  *) echo "usage: $0 [short|long]" >&2; exit 2 ;;
esac
if [ -z "${MONGO_URL:-}" ]; then
  echo "schemathesis.sh: set MONGO_URL to a MongoDB replica set (scripts/test.sh does)" >&2
  exit 2
fi

. scripts/lib.sh
ensure_fuzz
VENV=$FUZZ_VENV

LOG=".cache/schemathesis-server.log"
cleanup() {
  local rc=$?
  stop_live_server
  exit "$rc"
}
trap cleanup EXIT
start_live_server "$LOG" fuzz

# Register the tenants, create data, and write the schemathesis config (ids as dictionaries).
"$VENV/bin/python" scripts/fuzz/seed.py seed "$BASE" "$WORK"

ARGS=(--max-examples "$EXAMPLES" --workers "$WORKERS" --no-color
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance
  --report junit,ndjson --report-dir .cache/schemathesis-report)
# deterministic generation implies no example database; the random run disables it explicitly
if [ -n "$DETERMINISTIC" ]; then ARGS+=(--generation-deterministic); else ARGS+=(--seed "$SEED" --generation-database none); fi
# extra schemathesis arguments, e.g. FUZZ_ARGS='--include-path-regex /dashboard/'
read -r -a EXTRA <<<"${FUZZ_ARGS:-}"
ARGS+=("${EXTRA[@]}")

if [ -n "$DETERMINISTIC" ]; then
  echo "== schemathesis $MODE: $EXAMPLES cases per operation, deterministic (the same cases every run), $WORKERS worker(s)"
else
  echo "== schemathesis $MODE: $EXAMPLES cases per operation, seed $SEED, $WORKERS worker(s); replay: FUZZ_SEED=$SEED scripts/schemathesis.sh $MODE"
fi
rm -rf .cache/schemathesis-report
start=$(date +%s)
rc=0
FUZZ_STATE="$WORK/state.json" SCHEMATHESIS_HOOKS=scripts/fuzz/hooks.py "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$BASE/api/openapi.json" "${ARGS[@]}" || rc=$?
echo "== schemathesis finished in $(($(date +%s) - start)) s (exit $rc)"
# with FUZZ_ARGS the logout operation may have been filtered out: check tenant A only
report=$(ls -t .cache/schemathesis-report/ndjson-*.ndjson 2>/dev/null | head -1)
if [ -n "$report" ]; then "$VENV/bin/python" scripts/fuzz/summary.py "$report" || true; fi
"$VENV/bin/python" scripts/fuzz/seed.py check "$BASE" "$WORK" ${FUZZ_ARGS:+--no-logout} || rc=1
if grep -q "panicked" "$LOG"; then
  echo "== the server panicked during the run:" >&2
  grep -A5 "panicked" "$LOG" >&2
  rc=1
fi
exit "$rc"
