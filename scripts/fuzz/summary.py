"""Summarise a schemathesis NDJSON report (used by scripts/schemathesis.sh).

Prints the operations, the cases sent (requests that got a response) in all and per
operation (fewest first), the status codes seen, and the operations that never got a 2xx
(generated data that the API always rejected: the fuzzing there stops at validation).

Usage: summary.py REPORT.ndjson
"""

import collections
import json
import sys

per_op = collections.defaultdict(collections.Counter)
with open(sys.argv[1]) as f:
    for line in f:
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        label = recorder["label"]
        if label.split(" ", 1)[0] not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            continue  # a stateful scenario: its requests are counted under their operations
        for interaction in (recorder.get("interactions") or {}).values():
            response = interaction.get("response")
            if response:
                per_op[label][response["status_code"]] += 1

statuses = collections.Counter()
for counts in per_op.values():
    statuses.update(counts)
total = sum(statuses.values())
print(f"summary: {len(per_op)} operations, {total} cases with a response")
fewest = sorted(per_op.items(), key=lambda kv: sum(kv[1].values()))
print("summary: fewest cases: " + ", ".join(f"{op} {sum(c.values())}" for op, c in fewest[:5]))
print("summary: statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
never = [op for op, c in sorted(per_op.items()) if not any(200 <= s < 300 for s in c)]
if never:
    print(f"summary: {len(never)} operations never answered 2xx: " + ", ".join(never))
