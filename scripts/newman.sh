#!/usr/bin/env bash
# Run the Postman "Getting started" flow (postman/viveka.postman_collection.json) with newman
# against a live development server on a fresh database, then check every response of the
# flow against the schema the OpenAPI document gives for its status (part of scripts/test.sh).
#
# newman is pinned by scripts/newman/package-lock.json (integrity hashes) and installed from
# npm with `npm ci` into .cache/newman on first use; needs node >= 16 and npm. The checker
# (openapi-schema-validator) comes from scripts/tools/requirements.txt. Needs MONGO_URL (a
# replica set; scripts/test.sh sets it). Prints "newman: 0 failed of N assertions". Reports:
# .cache/newman-report.json; server log: .cache/newman-server.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${MONGO_URL:-}" ]; then
  echo "newman.sh: set MONGO_URL to a MongoDB replica set (scripts/test.sh does)" >&2
  exit 2
fi
. scripts/lib.sh

ensure_newman
NM=$NEWMAN_DIR
ensure_tools

cleanup() {
  local rc=$?
  stop_live_server
  exit "$rc"
}
trap cleanup EXIT
LOG=.cache/newman-server.log
start_live_server "$LOG" newman
wait_live_server

REPORT=.cache/newman-report.json
rm -f "$REPORT"
rc=0
"$NM/node_modules/.bin/newman" run postman/viveka.postman_collection.json \
  --environment postman/viveka.postman_environment.json --env-var "baseUrl=$BASE" \
  --folder "Getting started" --reporters cli,json --reporter-json-export "$REPORT" \
  --reporter-cli-no-banner --reporter-cli-no-summary --color off --timeout-request 30000 || rc=$?
"$TOOLS_VENV/bin/python" scripts/tools/check_responses.py "$REPORT" "$BASE/api/openapi.json" || rc=1
if grep -q "panicked" "$LOG"; then
  echo "== the server panicked during the run:" >&2
  grep -A5 "panicked" "$LOG" >&2
  rc=1
fi
exit "$rc"
