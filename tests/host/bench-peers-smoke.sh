#!/bin/sh
# SPDX-License-Identifier: MIT
# Smoke test of adict-bench-peers: run --quick --json and check that every
# line is a JSON object with the fields Documentation/bench.rst promises,
# that every system measured both table sizes with 1 and 2 processes, and
# that the bench exited 0 (it checks its own totals: lost adds exit 1).
# Redis rows are required when redis-server is installed; BPF rows
# (bpf_hash, bpf_array) are optional (bpf(2) needs root and BPF enabled).
# Usage: tests/host/bench-peers-smoke.sh [BUILD_DIR]
B=${1:-build}
out=$B/bench-peers-smoke.json
err=$B/bench-peers-smoke.err
redis=1
if ! command -v redis-server >/dev/null 2>&1; then
	echo "bench-peers-smoke: redis-server not installed (tests/deps.sh installs it): Redis rows skipped"
	redis=0
fi
timeout -k 5 120 "$B/adict-bench-peers" --quick --json >"$out" 2>"$err"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "bench-peers-smoke: FAIL: adict-bench-peers exited $rc" >&2
	cat "$err" >&2
	exit 1
fi
/usr/bin/python3 - "$out" "$redis" "$(dirname "$0")" <<'PY'
import sys

path, want_redis = sys.argv[1], sys.argv[2] == "1"
sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, sys.argv[3])
from check_bench_json import load_checked

REQUIRED = {"system": str, "case": str, "size": str, "table_bytes": int,
            "capacity": int, "procs": int, "ops": int, "ns_per_op": float,
            "floor_ns_per_op": float, "ratio": float, "cpu_per_wall": float}
objs = load_checked(path, REQUIRED, "bench-peers-smoke: FAIL")
seen, nbytes = set(), {}
for n, obj in enumerate(objs, 1):
    if obj["ops"] <= 0:
        sys.exit(f"bench-peers-smoke: FAIL: line {n}: non-positive ops")
    if obj["system"] not in ("floor", "libadict") and "adict_speedup" not in obj:
        sys.exit(f"bench-peers-smoke: FAIL: line {n}: peer row without adict_speedup")
    # every system of one size has the same footprint
    if nbytes.setdefault(obj["size"], obj["table_bytes"]) != obj["table_bytes"]:
        sys.exit(f"bench-peers-smoke: FAIL: line {n}: table_bytes differ within {obj['size']}")
    seen.add((obj["system"], obj["case"], obj["size"], obj["procs"]))
rows = [("floor", "add"), ("libadict", "add"), ("libadict", "add_batch"),
        ("mutex_shm", "add"), ("spin_shm", "add")]
if want_redis:
    rows += [("redis", "incr"), ("redis", "incr_pipe64")]
for system, case in rows:
    for size in ("small", "large"):
        for procs in (1, 2):
            if (system, case, size, procs) not in seen:
                sys.exit(f"bench-peers-smoke: FAIL: no {system} {case} {size} procs {procs}")
bpf = any(s[0] in ("bpf_hash", "bpf_array") for s in seen)
print(f"bench-peers-smoke: {len(objs)} lines ok; redis {'measured' if want_redis else 'skipped'}; "
      f"bpf {'measured' if bpf else 'skipped'}")
PY
rc=$?
grep '^# skipped' "$err" | sed 's/^/bench-peers-smoke: /'
exit $rc
