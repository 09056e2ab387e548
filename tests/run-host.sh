#!/bin/sh
# SPDX-License-Identifier: MIT
# Run one host test binary of one build, with a timeout.
# Usage: tests/run-host.sh BUILD_DIR BUILD TEST
#   BUILD: tests (plain), asan (ASan+UBSan) or tsan.
# make check-host runs every pair (check-host-BUILD/TEST targets), as many
# at once as make -j allows.  Prints the test's TAP and ends with
# "host BUILD/TEST: passed" or "host BUILD/TEST: FAILED (exit N)".
B=$1 build=$2 t=$3
TIMEOUT=${ADICT_TEST_TIMEOUT:-300}
export ADICT_BACKEND=memfd
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

[ $# -eq 3 ] || { echo "usage: tests/run-host.sh BUILD_DIR tests|asan|tsan TEST" >&2; exit 2; }
set --
case $build/$t in
# TSan sees threads, not other processes: the thread cases only.
tsan/test_stress|tsan/test_tuple) set -- --threads-only ;;
# ASan's run of the exhaustive interleavings: the two-inserter scenarios
# only (the plain build runs them all; ucontext switches under ASan cost
# ten times more, and ASan adds nothing the smaller bound lacks).
asan/test_interleave) set -- --two ;;
tests/*|asan/*|tsan/*) ;;
*) echo "run-host.sh: unknown build '$build'" >&2; exit 2 ;;
esac
echo "# ---- $build/$t"
timeout -k 5 "$TIMEOUT" "$B/$build/$t" "$@"
rc=$?
if [ $rc -eq 0 ]; then
	echo "host $build/$t: passed"
else
	echo "host $build/$t: FAILED (exit $rc)"
fi
exit $rc
