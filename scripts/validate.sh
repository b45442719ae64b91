#!/usr/bin/env bash
# Static checks of what a newcomer uses first (part of scripts/test.sh):
#   1. the OpenAPI document (`viveka openapi`, the same document as /api/openapi.json) is
#      valid OpenAPI 3.1, by openapi-spec-validator;
#   2. docker-compose.yml and docker-compose.dev.yml are valid compose files (the compose-spec
#      JSON schema shipped with check-jsonschema) and follow the rules of
#      scripts/tools/check_compose.py (no Docker engine runs here: nothing is started).
# The tools are pinned with hashes in scripts/tools/requirements.txt and installed into
# .cache/tools-venv on first use. No database needed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh
ensure_tools

build_note debug
cargo build $QUIET --bin viveka
mkdir -p .cache
"$TARGET/debug/viveka" openapi >.cache/openapi.json
ops=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for p in d["paths"].values() for m in p if m in ("get","put","post","delete","patch")))' .cache/openapi.json)
echo "== openapi-spec-validator: /api/openapi.json ($ops operations)"
"$TOOLS_VENV/bin/openapi-spec-validator" .cache/openapi.json

echo "== docker compose files (schema: compose-spec; no Docker engine here, nothing is started)"
"$TOOLS_VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml docker-compose.dev.yml
"$TOOLS_VENV/bin/python" scripts/tools/check_compose.py
