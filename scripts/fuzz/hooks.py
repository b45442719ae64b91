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
