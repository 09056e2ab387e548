#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The stubs against code and against the runtime, with Debian's mypy:
#  - mypy --strict on code written for the original package: its README
#    example and test program (original/, unchanged) and typing_original.py;
#  - mypy's stubtest: every name, signature and class of the stubs matches
#    what the built extension really has.
# Usage: typecheck.sh PYTHONPATH_OF_THE_BUILT_PACKAGE [PYTHON]
set -u
PKG=$(cd "$1" && pwd)
PY=${2:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0

"$PY" -c 'import mypy' 2>/dev/null || {
	echo "typecheck.sh: $PY has no mypy: install Debian's mypy (tests/deps.sh)" >&2
	echo "python-typing: 0 passed, 1 failed"; exit 1; }
run() {
	name=$1; shift
	if out=$(cd "$PKG" && "$@" 2>&1); then
		pass=$((pass + 1)); echo "ok - $name"
	else
		fail=$((fail + 1)); echo "not ok - $name"; echo "$out" | sed 's/^/#   /'
	fi
}
run "mypy --strict on code written for the original" \
	env MYPYPATH="$PKG" "$PY" -m mypy --strict --no-incremental \
	"$HERE/typing_original.py" "$HERE/original/readme_example.py" \
	"$HERE/original/test_atomic_dict.py"
run "stubtest: the stubs match the built extension" \
	env PYTHONPATH="$PKG" "$PY" -m mypy.stubtest atomic_dict
echo "python-typing: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
