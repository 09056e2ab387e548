#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check adict-bench --json output: every line an object with the fields
Documentation/bench.rst promises, with consistent values."""
import json
import sys

REQUIRED = {"case": str, "table_bytes": int, "procs": int,
            "ns_per_op": float, "floor_ns_per_op": float, "ratio": float}

def main(path):
    cases = set()
    with open(path) as f:
        lines = [l for l in f if l.strip()]
    if not lines:
        sys.exit("bench json: no output")
    for n, line in enumerate(lines, 1):
        obj = json.loads(line)
        for key, typ in REQUIRED.items():
            if key not in obj:
                sys.exit(f"bench json line {n}: no {key!r}")
            if typ is float and isinstance(obj[key], int):
                obj[key] = float(obj[key])
            if not isinstance(obj[key], typ):
                sys.exit(f"bench json line {n}: {key!r} is not {typ.__name__}")
        if obj["ns_per_op"] <= 0 or obj["floor_ns_per_op"] <= 0:
            sys.exit(f"bench json line {n}: non-positive time")
        want = obj["ns_per_op"] / obj["floor_ns_per_op"]
        if abs(want - obj["ratio"]) > 0.01 * want + 0.001:
            sys.exit(f"bench json line {n}: ratio {obj['ratio']} != {want:.3f}")
        cases.add((obj["case"], obj["procs"]))
    for c in ("add", "load", "cas", "insert", "add_batch", "load_batch"):
        if (c, 1) not in cases:
            sys.exit(f"bench json: case {c} with 1 process missing")
    if ("add", 2) not in cases:
        sys.exit("bench json: add with 2 processes missing")
    print(f"bench json: {len(lines)} lines ok")

if __name__ == "__main__":
    main(sys.argv[1])
