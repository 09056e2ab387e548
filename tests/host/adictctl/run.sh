#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the adictctl shell tests (tests/host/adictctl/test_*.sh), each with a
# timeout.  Usage: tests/host/adictctl/run.sh [BUILD_DIR]
# Prints each test's TAP and ends with "adictctl: N passed, N failed".
dir=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${1:-$dir/../../../build}" && pwd)
export B
TIMEOUT=${ADICT_TEST_TIMEOUT:-300}
pass=0; fail=0; failed=""
for t in "$dir"/test_*.sh; do
	name=$(basename "$t" .sh)
	echo "# ---- adictctl/$name"
	if timeout -k 5 "$TIMEOUT" sh "$t"; then
		pass=$((pass + 1))
	else
		echo "# FAILED: adictctl/$name (exit $?)"
		fail=$((fail + 1)); failed="$failed $name"
	fi
done
[ -n "$failed" ] && echo "# failed:$failed"
echo "adictctl: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
