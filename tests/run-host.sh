#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the host tests: plain, ASan+UBSan and TSan builds, each with a timeout.
# Usage: tests/run-host.sh BUILD_DIR TEST...
# Prints TAP per test binary and ends with "N passed, N failed".
B=$1; shift
pass=0; fail=0; failed=""
TIMEOUT=${ADICT_TEST_TIMEOUT:-300}
export ADICT_BACKEND=memfd
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

run() {
	name=$1; shift
	echo "# ---- $name"
	if timeout -k 5 "$TIMEOUT" "$@"; then
		pass=$((pass + 1))
	else
		echo "# FAILED: $name (exit $?)"
		fail=$((fail + 1)); failed="$failed $name"
	fi
}

[ $# -gt 0 ] || { echo "run-host.sh: no host tests given (tests/host/*.c)"; exit 1; }
for t in "$@"; do
	run "$t" "$B/tests/$t"
	run "asan/$t" "$B/asan/$t"
	# TSan sees threads, not other processes: run the thread cases only.
	case $t in
	test_stress|test_tuple) run "tsan/$t" "$B/tsan/$t" --threads-only ;;
	test_sigkill) ;;	# processes only; covered by the plain and ASan runs
	test_interleave) ;;	# one OS thread, coroutines: nothing for TSan
	*) run "tsan/$t" "$B/tsan/$t" ;;
	esac
done
[ -n "$failed" ] && echo "# failed:$failed"
echo "host: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
