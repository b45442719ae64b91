"""After newman: count the flow's assertions, and check every response it got against the
schema the OpenAPI document gives for that operation and status (used by scripts/newman.sh).

schemathesis (scripts/schemathesis.sh) checks generated requests; this checks the real
acceptance flow of postman/ ("Getting started"): each response's status must be documented
for its operation, and a JSON body must match the documented schema (openapi-schema-validator,
OpenAPI 3.1 dialect, refs resolved against the document).

Usage: check_responses.py NEWMAN_JSON_REPORT OPENAPI_URL
Prints "newman: F failed of N assertions (R requests)" and one line per mismatch; exits 1 on
any failed assertion, request error, undocumented status or schema mismatch, or when nothing ran.
"""

import json
import re
import sys
import urllib.request

from openapi_schema_validator import OAS31Validator

report_path, doc_url = sys.argv[1], sys.argv[2]
with open(report_path) as f:
    run = json.load(f)["run"]
doc = json.load(urllib.request.urlopen(doc_url, timeout=30))

executions = run.get("executions", [])
assertions = [a for e in executions for a in e.get("assertions", [])]
failed = [(e["item"]["name"], a) for e in executions for a in e.get("assertions", []) if a.get("error")]
request_errors = [(e["item"]["name"], e["requestError"]) for e in executions if e.get("requestError")]
print(f"newman: {len(failed)} failed of {len(assertions)} assertions ({len(executions)} requests)")
problems = []
for name, a in failed:
    problems.append(f"{name}: {a['assertion']}: {a['error'].get('message')}")
for name, err in request_errors:
    problems.append(f"{name}: request error {err}")
if not assertions:
    problems.append("no assertion ran")

# path templates, most literal first (/items/low-stock before /items/{id})
templates = []
for path, item in doc["paths"].items():
    rx = "^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"
    templates.append((path.count("{"), path, re.compile(rx), item))
templates.sort(key=lambda t: t[0])

checked = 0
for e in executions:
    req, resp = e.get("request", {}), e.get("response")
    if not resp:
        continue
    path = "/" + "/".join(req["url"]["path"])
    method = req["method"].lower()
    status = str(resp["code"])
    match = next(((p, item) for _, p, rx, item in templates if rx.match(path) and method in item), None)
    name = e["item"]["name"]
    if match is None:
        problems.append(f"{name}: {method.upper()} {path} is not an operation of the document")
        continue
    tpl, item = match
    responses = item[method].get("responses", {})
    documented = responses.get(status) or responses.get(status[0] + "XX") or responses.get("default")
    if documented is None:
        problems.append(f"{name}: {method.upper()} {tpl} answered {status}, which the document does not list ({', '.join(responses)})")
        continue
    ctype = next((h["value"] for h in resp.get("header", []) if h["key"].lower() == "content-type"), "")
    content = documented.get("content", {})
    if "json" not in ctype:
        continue
    schema = (content.get("application/json") or {}).get("schema")
    if schema is None:
        problems.append(f"{name}: {method.upper()} {tpl} {status} answered JSON but the document gives no JSON schema")
        continue
    body = json.loads(bytes(resp["stream"]["data"]).decode("utf-8"))
    wrapped = dict(schema)
    wrapped["components"] = doc.get("components", {})
    errors = sorted(OAS31Validator(wrapped).iter_errors(body), key=lambda err: list(err.absolute_path))
    for err in errors[:5]:
        where = "/".join(str(p) for p in err.absolute_path) or "(body)"
        problems.append(f"{name}: {method.upper()} {tpl} {status}: {where}: {err.message[:300]}")
    checked += 1

print(f"response schemas: {checked} JSON responses of the flow checked against the document, {len(problems)} problems")
for p in problems:
    print("  -", p)
sys.exit(1 if problems else 0)
