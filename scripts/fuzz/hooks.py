"""schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

CPython 3.11 keeps the AST constructor's recursion counter per interpreter, not per thread
(python/cpython#106905): when two schemathesis workers build ASTs at the same time (hypothesis
parses the source of its lambdas to describe a strategy), `ast.parse` fails with
"SystemError: AST constructor recursion depth mismatch" and the operation is reported as a
runtime error of the tool, not of the API. Serialise `compile` (which `ast.parse` calls).
"""

import builtins
import threading

_lock = threading.RLock()
_compile = builtins.compile


def _serial_compile(*args, **kwargs):
    with _lock:
        return _compile(*args, **kwargs)


builtins.compile = _serial_compile

# ---------------------------------------------------------------------------------------
# The tenant's own clientId in every JSON body that carries one. The config's
# `body.clientId` override covers the fuzzing and stateful phases; the coverage phase sends
# its bodies as drawn ("clientId": ""), and every one of those answered only the 403 of a
# foreign clientId. The 403 itself is checked by tests/api/isolation.rs.

import json
import os

import schemathesis

_state_file = os.environ.get("FUZZ_STATE")
_client_id = None
if _state_file:
    with open(_state_file) as f:
        _client_id = json.load(f)["clientId"]


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if _client_id is not None and isinstance(case.body, dict) and "clientId" in case.body:
        case.body["clientId"] = _client_id
