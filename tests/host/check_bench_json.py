#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check adict-bench --json output: every line an object with the fields
Documentation/bench.rst promises, with consistent values.

load_checked() is shared with tests/host/bench-peers-smoke.sh (which
imports this file) for the adict-bench-peers output."""
import json
import sys

REQUIRED = {"case": str, "table_bytes": int, "procs": int,
            "ns_per_op": float, "floor_ns_per_op": float, "ratio": float,
            "cpu_per_wall": float}


def load_checked(path, required, tag):
    """The objects of path's non-empty lines; exits with "tag: ..." unless
    each is JSON with the required fields of the required types (an int
    passes for a float), positive times and ratio = ns_per_op / floor."""
    with open(path) as f:
        lines = [l for l in f if l.strip()]
    if not lines:
        sys.exit(f"{tag}: no output")
    objs = []
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            sys.exit(f"{tag}: line {n} is not JSON: {e}")
        for key, typ in required.items():
            if key not in obj:
                sys.exit(f"{tag}: line {n}: no {key!r}")
            if typ is float and isinstance(obj[key], int):
                obj[key] = float(obj[key])
            if not isinstance(obj[key], typ):
                sys.exit(f"{tag}: line {n}: {key!r} is not {typ.__name__}")
        if obj["ns_per_op"] <= 0 or obj["floor_ns_per_op"] <= 0:
            sys.exit(f"{tag}: line {n}: non-positive time")
        want = obj["ns_per_op"] / obj["floor_ns_per_op"]
        if abs(want - obj["ratio"]) > 0.01 * want + 0.001:
            sys.exit(f"{tag}: line {n}: ratio {obj['ratio']} != {want:.3f}")
        objs.append(obj)
    return objs


def main(path):
    objs = load_checked(path, {**REQUIRED, "size": str}, "bench json")
    cases = {(obj["case"], obj["procs"]) for obj in objs}
    for c in ("add", "load", "cas", "insert", "add_batch", "load_batch",
              "floor", "floor_keys", "floor_hash", "floor_hash_dep"):
        if (c, 1) not in cases:
            sys.exit(f"bench json: case {c} with 1 process missing")
    for c in ("add", "add_batch", "floor", "floor_hash_dep"):
        if (c, 2) not in cases:
            sys.exit(f"bench json: {c} with 2 processes missing")
    for obj in objs:
        if obj["case"] == "floor" and abs(obj["ratio"] - 1) > 0.001:
            sys.exit(f"bench json: the floor's ratio is {obj['ratio']}, not 1")
    for obj in objs:
        if not isinstance(obj.get("geometry"), str):
            sys.exit(f"bench json: {obj['case']}: no geometry")
    geoms = {obj["geometry"] for obj in objs}
    if len(geoms) < 5:
        sys.exit(f"bench json: only geometries {sorted(geoms)}")
    if not any(obj["case"] == "flood" for obj in objs):
        sys.exit("bench json: no flood row")
    print(f"bench json: {len(objs)} lines ok")

if __name__ == "__main__":
    main(sys.argv[1])
