# SPDX-License-Identifier: MIT
# Helpers for the adictctl shell tests: TAP output, and assertions on the
# exit code, standard output and standard error of one command.
#
#   expect CODE PATTERN DESC CMD...   CMD exits CODE and its stderr (CODE != 0)
#                                     or stdout (CODE 0) matches PATTERN
#                                     (grep -E; "" matches anything)
#   check DESC CMD...                 CMD succeeds (a shell predicate; it
#                                     may read $W/out of the last expect)
#   skip DESC REASON
#   finish                            prints the plan; exit 1 if any failed
#
# The output of the last command is in $W/out and $W/err.

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
B=${B:-$ROOT/build}
A=${ADICTCTL:-$B/adictctl}
# The helper programs of the tests (dumpfmt.py, JSON checks) run under
# Debian's python3, whatever python3 PATH finds first (tests/deps.sh).
DUMPFMT="/usr/bin/python3 $ROOT/tests/host/adictctl/dumpfmt.py"
# adictctl links build/'s libadict.so.0 (LINK=shared, no RUNPATH).
LD_LIBRARY_PATH="$B${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
n=0
failed=0

t_ok() { n=$((n + 1)); echo "ok $n - $1"; }

t_fail() {	# t_fail DESC [OUTFILE ERRFILE]
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	sed 's/^/#   stdout: /' "${2:-$W/out}" 2>/dev/null | head -20
	sed 's/^/#   stderr: /' "${3:-$W/err}" 2>/dev/null | head -20
}

skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

expect() {
	code=$1; pat=$2; desc=$3; shift 3
	"$@" >"$W/out" 2>"$W/err" </dev/null
	rc=$?
	if [ "$rc" -ne "$code" ]; then
		t_fail "$desc (exit $rc, wanted $code)"
		return 1
	fi
	if [ "$code" -eq 0 ]; then f=$W/out; else f=$W/err; fi
	if [ -n "$pat" ] && ! grep -Eq -- "$pat" "$f"; then
		t_fail "$desc (no /$pat/)"
		return 1
	fi
	t_ok "$desc"
}

# Its own output files, so that CMD may inspect $W/out of the last expect.
check() {
	desc=$1; shift
	if "$@" >"$W/check.out" 2>"$W/check.err"; then
		t_ok "$desc"
	else
		t_fail "$desc" "$W/check.out" "$W/check.err"
	fi
}

finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
