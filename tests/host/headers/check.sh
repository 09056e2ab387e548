#!/bin/sh
# SPDX-License-Identifier: MIT
# The public headers compile without a warning as C99 and C11 with
# -pedantic (gcc and clang) and as C++ with g++ and clang++ (-Wall -Wextra),
# and the program links and runs against libadict: proof that adict.h's
# extern "C" and inline fast path (u64 and composite-key calls) work from
# every one of them.
# Usage: tests/host/headers/check.sh BUILD_DIR   (prints TAP)
B=$1
dir=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$dir/../../.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
n=0
failed=0
LIBS="-L$B -ladict"
LD_LIBRARY_PATH="$B${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH

try() {	# try NAME COMPILER FLAGS...
	name=$1; shift
	n=$((n + 1))
	if ! command -v "$1" >/dev/null; then
		echo "not ok $n - $name: $1 is not installed (make deps installs it)"
		failed=$((failed + 1))
		return
	fi
	# shellcheck disable=SC2086
	# -x none after the source: the archive is not C++ source.
	if "$@" -Werror -I"$ROOT/lib/include" -o "$W/use" "$dir/use.c" -x none $LIBS \
		>"$W/log" 2>&1 && "$W/use" >"$W/out" 2>>"$W/log" &&
	   printf 'memfd 5\ntuple 9\n' | cmp -s - "$W/out"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		cut -c1-200 "$W/log" | sed 's/^/#   /' | head -20
		failed=$((failed + 1))
	fi
}

try "gcc -std=c99 -pedantic" gcc -std=c99 -pedantic -Wall -Wextra
try "gcc -std=c11 -pedantic" gcc -std=c11 -pedantic -Wall -Wextra
try "clang -std=c99 -pedantic" clang -std=c99 -pedantic -Wall -Wextra
try "clang -std=c11 -pedantic" clang -std=c11 -pedantic -Wall -Wextra
try "g++ -std=c++11" g++ -x c++ -std=c++11 -Wall -Wextra
try "g++ -std=c++17" g++ -x c++ -std=c++17 -Wall -Wextra
try "clang++ -std=c++11" clang++ -x c++ -std=c++11 -Wall -Wextra
try "clang++ -std=c++17" clang++ -x c++ -std=c++17 -Wall -Wextra
echo "1..$n"
[ "$failed" -eq 0 ]
