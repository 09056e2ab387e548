#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/vm/selftest.sh: the VM harness's own test, run by `make check-host`.
# Feeds each console log of tests/vm/selftest/*.log to tests/vm/judge.sh
# (parse.awk and the verdict) and requires the verdict its header names:
#
#   # verdict: pass|fail
#   # kind: stock|rt|debug
#   # steps: <the plan's steps>
#   # suites: <suite:cases ...>
#   # <what the log shows>
#
# "pass" means no failure and at least one pass; "fail" means at least one
# failure.  Then: a broken parser fails a clean log; tests/vm/skips and
# tests/vm/kernels parse; the KUnit suites are found in the module's source;
# and, when the cache holds a kselftest harness, a real fixture that calls
# SKIP() in its setup and then fails an EXPECT is judged a failure.
# Prints TAP and "harness: N passed, N failed".

set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${ADICT_CACHE:-/var/cache/adict}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
log() { :; }
# shellcheck source=tests/vm/judge.sh
SKIPS=${SKIPS:-$HERE/selftest/skips}
. "$HERE/judge.sh"
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
field() { sed -n "s/^# $1: *//p" "$2" | head -n1; }

# verdict LOG KIND STEPS SUITES: "pass" or "fail", judged in a subshell.
verdict() {
	(
		judge x "$2" "$1" "$3" "$4" 2>/dev/null
		if [ "${NFAIL[x]}" = 0 ] && [ "${NPASS[x]}" -gt 0 ]; then
			echo pass
		else
			echo fail
		fi
		[ "${NFAIL[x]}" = 0 ] || printf '#   %s\n' "${FAILS[@]}" >&2
	)
}

for f in "$HERE"/selftest/*.log; do
	want=$(field verdict "$f")
	desc=$(sed -n '5s/^# //p' "$f")
	got=$(verdict "$f" "$(field kind "$f")" "$(field steps "$f")" "$(field suites "$f")" 2>"$OUT/why")
	if [ "$got" = "$want" ]; then
		ok "$(basename "$f" .log): $want: $desc"
	else
		not_ok "$(basename "$f" .log): wanted $want, got $got: $desc"
		cat "$OUT/why"
	fi
done

got=$(PARSE=$OUT/missing.awk verdict "$HERE/selftest/good.log" stock "insmod mmap python" "" 2>/dev/null)
[ "$got" = fail ] && ok "a parser that fails makes a clean log fail" ||
	not_ok "a parser that fails leaves a clean log passing"
printf 'BEGIN { print "DONE\\t1"; exit }\n' > "$OUT/empty.awk"
got=$(PARSE=$OUT/empty.awk verdict "$HERE/selftest/good.log" stock "insmod mmap python" "" 2>/dev/null)
[ "$got" = fail ] && ok "a parser that reports nothing makes the run fail" ||
	not_ok "a parser that reports nothing leaves the run passing"

bad=$(awk '!/^[ \t]*(#|$)/ && NF < 4' "$HERE/skips")
[ -z "$bad" ] && ok "tests/vm/skips: every line has kernels, step, case and reason" ||
	not_ok "tests/vm/skips: lines without a reason: $bad"
names=$(awk '!/^[ \t]*(#|$)/ { print $1 }' "$HERE/kernels")
bad=$(awk '!/^[ \t]*(#|$)/ { print $1 }' "$HERE/skips" | tr ',' '\n' |
	grep -vxF -e '*' -e stock -e rt -e debug $(printf -- '-e %s ' $names))
[ -z "$bad" ] && ok "tests/vm/skips names only kernels of tests/vm/kernels" ||
	not_ok "tests/vm/skips names unknown kernels: $bad"
bad=$(awk '!/^[ \t]*(#|$)/ && (NF != 3 || $2 !~ /^(stock|rt|debug)$/)' "$HERE/kernels")
[ -z "$bad" ] && ok "tests/vm/kernels: name, kind, package on every line" ||
	not_ok "tests/vm/kernels: bad lines: $bad"

suites=$(kunit_suites "$REPO/kmod/atomic_dict_kunit.c")
if [ "$(echo "$suites" | wc -w)" -ge 2 ] && ! echo " $suites" | grep -q ':0\b'; then
	ok "KUnit suites with their case counts in the source: $suites"
else
	not_ok "KUnit suites not found in kmod/atomic_dict_kunit.c: '$suites'"
fi

ksft=$(ls -d "$CACHE"/src/*/tools/testing/selftests 2>/dev/null | sort -V | head -n1)
if [ -n "$ksft" ] && [ -f "$ksft/kselftest_harness.h" ]; then
	if cc -std=gnu11 -O1 -D_GNU_SOURCE -I"$ksft" -o "$OUT/skip_then_fail" \
		"$HERE/selftest/skip_then_fail.c" 2>"$OUT/cc.log"; then
		{
			echo "@@ADICT BEGIN insmod"
			echo "@@ADICT END insmod rc=0 secs=0"
			echo "@@ADICT BEGIN probe"
			"$OUT/skip_then_fail" 2>&1
			echo "@@ADICT END probe rc=$? secs=0 modrefs=0"
			echo "@@ADICT DONE"
		} > "$OUT/probe.log"
		got=$(verdict "$OUT/probe.log" stock "insmod probe" "" 2>/dev/null)
		[ "$got" = fail ] && ok "SKIP() in FIXTURE_SETUP, then a failed EXPECT ($ksft): fail" ||
			{ not_ok "SKIP() in FIXTURE_SETUP, then a failed EXPECT passes"; sed 's/^/#   /' "$OUT/probe.log"; }
	else
		not_ok "skip_then_fail.c does not build against $ksft"
		sed 's/^/#   /' "$OUT/cc.log"
	fi
else
	echo "# no kselftest harness cached under $CACHE/src yet: the compiled skip-then-fail check runs after the first make check-vm"
fi

echo "1..$n"
echo "harness: $((n - fails)) passed, $fails failed"
[ $fails = 0 ]
