# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/vm/judge.sh: the verdict of one VM console log.  Sourced by
# tests/vm/run.sh (each run) and tests/vm/selftest.sh (check-host: fixed
# console logs that must fail).
#
#   judge NAME KIND LOG STEPS SUITES
#
# NAME, KIND: the kernel (tests/vm/kernels); LOG: its console log; STEPS:
# every step of its plan; SUITES: "suite:cases ..." the KUnit step must
# report.  Adds to NPASS[NAME], NFAIL[NAME], NSKIP[NAME], the TOTAL_*
# counters, FAILS (one line per failure) and ALLOWED (one line per allowed
# skip); writes $OUT/results-NAME.tsv.  Uses $PARSE (default parse.awk
# beside this file) and $SKIPS (default tests/vm/skips).
#
# A kernel fails on: any failed case or FAIL record of parse.awk; parse.awk
# exiting non-zero or not ending with its DONE record; a skip that no line
# of $SKIPS allows for this kernel; a step of the plan without a single
# pass (unless $SKIPS allows its empty plan); any kernel splat; a kmemleak
# report; a VM that did not reach the end of its plan.  The clean kernel
# log counts as one pass only when the console was parsed to its end.

JUDGE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PARSE=${PARSE:-$JUDGE_DIR/parse.awk}
SKIPS=${SKIPS:-$JUDGE_DIR/skips}
declare -A NPASS NFAIL NSKIP
FAILS=()
ALLOWED=()
TOTAL_PASS=${TOTAL_PASS:-0}
TOTAL_FAIL=${TOTAL_FAIL:-0}
TOTAL_SKIP=${TOTAL_SKIP:-0}

# skip_rule NAME KIND STEP CASE: print the reason when $SKIPS allows it.
skip_rule() {
	awk -v name="$1" -v kind="$2" -v step="$3" -v case_="$4" '
		/^[ \t]*(#|$)/ { next }
		{
			n = split($1, k, ",")
			hit = 0
			for (i = 1; i <= n; i++)
				if (k[i] == "*" || k[i] == name || k[i] == kind)
					hit = 1
			if (!hit || $2 != step || $3 != case_)
				next
			r = $0
			for (i = 1; i <= 3; i++)
				sub(/^[ \t]*[^ \t]+[ \t]+/, "", r)
			print r
			found = 1
			exit
		}
		END { exit !found }' "$SKIPS"
}

judge() {
	local name=$1 kind=$2 log=$3 steps=$4 suites=$5
	local parsed=$OUT/results-$name.tsv rec step a b c why s prc
	local splats=0 leaks=0 done=-1
	local -A passes=() empty_ok=()
	awk -v expect="$steps" -v kunit="atomic_dict_kunit" -v suites="$suites" \
		-f "$PARSE" "$log" > "$parsed"
	prc=$?
	NPASS[$name]=0; NFAIL[$name]=0; NSKIP[$name]=0
	jfail() {
		NFAIL[$name]=$(( ${NFAIL[$name]} + 1 ))
		FAILS+=("$name: $1")
	}
	while IFS=$'\t' read -r rec step a b c; do
		case $rec in
		CASE)
			case $a in
			pass) NPASS[$name]=$(( ${NPASS[$name]} + 1 ))
			      passes[$step]=1 ;;
			skip) if why=$(skip_rule "$name" "$kind" "$step" "$b"); then
				NSKIP[$name]=$(( ${NSKIP[$name]} + 1 ))
				ALLOWED+=("$name: $step: $b ($why)")
				[ "$b" = "(empty plan)" ] && empty_ok[$step]=1
			      else
				jfail "$step: skipped, and tests/vm/skips does not allow it: $b${c:+ ($c)}"
			      fi ;;
			*)    jfail "$step: $b" ;;
			esac ;;
		FAIL)  jfail "$step: $a" ;;
		SPLAT) splats=$((splats + 1))
		       [ $splats -le 20 ] && FAILS+=("$name: splat during $step: $a") ;;
		LEAK)  leaks=$((leaks + 1)) ;;
		DONE)  done=$step ;;
		esac
	done < "$parsed"
	if [ "$prc" != 0 ] || [ "$(tail -n1 "$parsed" | cut -f1)" != DONE ]; then
		jfail "parse.awk failed (exit $prc) or stopped early: the log was not judged"
		done=-1
	fi
	# Every step of the plan must pass something.
	for s in $steps; do
		[ -n "${passes[$s]:-}" ] || [ -n "${empty_ok[$s]:-}" ] ||
			jfail "$s: no passing result"
	done
	if [ $splats != 0 ]; then
		jfail "$splats kernel log lines matched BUG/WARNING/KASAN/lockdep/Oops/UBSAN/watchdog/kmemleak"
	elif [ "$done" = 1 ]; then
		# The kernel log was clean from boot to the end of the plan.
		NPASS[$name]=$(( ${NPASS[$name]} + 1 ))
	fi
	if [ $leaks != 0 ]; then
		log "kmemleak report ($name):"
		grep $'^LEAK\t' "$parsed" | cut -f2 | head -n 60 >&2
	fi
	if [ "$done" != 1 ]; then
		jfail "the VM did not reach the end of its plan"
		log "last 60 console lines ($name):"
		tail -n 60 "$log" >&2
	fi
	TOTAL_PASS=$((TOTAL_PASS + ${NPASS[$name]}))
	TOTAL_FAIL=$((TOTAL_FAIL + ${NFAIL[$name]}))
	TOTAL_SKIP=$((TOTAL_SKIP + ${NSKIP[$name]}))
	unset -f jfail
}

# kunit_suites FILE: "suite:cases ..." for every kunit_suite in a KUnit
# source file: its .name and the number of KUNIT_CASE* entries of the case
# array its .test_cases names.
kunit_suites() {
	awk '
		/^static struct kunit_case [A-Za-z0-9_]+\[\] *= *\{/ {
			arr = $4; sub(/\[\].*/, "", arr); ncase[arr] = 0; in_arr = 1; next
		}
		in_arr && /KUNIT_CASE/ { ncase[arr]++ }
		in_arr && /^\};/ { in_arr = 0 }
		/^static struct kunit_suite [A-Za-z0-9_]+ *= *\{/ { in_suite = 1; sname = ""; scases = ""; next }
		in_suite && /\.name *=/ { sname = $0; sub(/^[^"]*"/, "", sname); sub(/".*/, "", sname) }
		in_suite && /\.test_cases *=/ { scases = $0; sub(/.*= */, "", scases); sub(/[ ,].*/, "", scases) }
		in_suite && /^\};/ {
			in_suite = 0
			printf "%s%s:%d", sep, sname, ncase[scases]; sep = " "
		}
		END { print "" }' "$1"
}
