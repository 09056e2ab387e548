# SPDX-License-Identifier: MIT
#
# tests/vm/parse.awk: read one VM console log (tests/vm/init.sh markers) and
# print one record per line, tab-separated, for tests/vm/judge.sh:
#
#   CASE   <step> pass <case name>
#   CASE   <step> fail <case name>
#   CASE   <step> skip <case name> <reason>
#   FAIL   <step> <text>        a failure that is not one case: no or empty
#                               plan, missing results, exit status, leaked
#                               module references, a missing KUnit suite...
#   STEP   <step> <rc> <secs> <planned> <seen>
#   SPLAT  <step> <console line>
#   LEAK   <line of the kmemleak report>
#   DONE   <0|1>                always the last record (1: the VM printed
#                               "@@ADICT DONE"); its absence means this
#                               parser failed
#
# Usage: awk -v expect="insmod mmap ... kmemleak" -v kunit="atomic_dict_kunit" \
#            -v suites="adict_core:9 adict_device:9" -f parse.awk console.log
#
# expect: every step the plan holds (each must end); kunit: the steps that
# are KUnit modules; suites: every KUnit suite they must report, with the
# number of cases its source declares.
#
# kselftest steps: "1..N" is the plan, "ok N name" a pass, "not ok N name" a
# fail, "ok N # SKIP reason" a skip (6.1's harness prints no name with a
# skip: the name is taken from the "#  RUN  <name> ..." line before it).
# 6.1's harness reports a test whose fixture setup called SKIP() as a skip
# even when its body then failed an EXPECT: the failure shows only as the
# "# file:line:test:Expected ..." message.  Such a message in a test that
# is reported as a skip, or in a step without any failed result, is a
# failure here.  The harness prefixes
# everything else with "# ".  KUnit steps: between "@@ADICT KUNIT-SUITE
# <suite>" markers, the suite's plan is "    1..N" and its cases are
# "    ok N name" / "    not ok N name" at exactly four spaces (parameters
# are nested deeper).  Kernel messages carry a "[ seconds]" stamp; a stamped
# line that matches the splat pattern is a splat wherever it appears
# (console or dmesg section).

BEGIN {
	FS = "\n"
	step = "boot"
	in_step = 0
	done = 0
	prev_refs = 0
	splat = "(BUG:|WARNING:|KASAN|Oops|possible circular locking|INFO: |" \
		"general protection fault|Kernel panic|kernel BUG|UBSAN:|" \
		"soft lockup|hung_task|blocked for more than|workqueue lockup|" \
		"rcu_sched self-detected stall|rcu: INFO|" \
		"unreferenced object|suspected memory leak|" \
		"Kernel memory leak detector disabled|kmemleak: .*disabled)"
	n = split(kunit, k, " ")
	for (i = 1; i <= n; i++)
		types[k[i]] = "kunit"
	nsuites = split(suites, s, " ")
	for (i = 1; i <= nsuites; i++) {
		split(s[i], kv, ":")
		want_suite[kv[1]] = kv[2] + 0
	}
}

function out(s) { print s }
function fail(text) { out("FAIL\t" step "\t" text) }

function case_result(kind, name, reason) {
	gsub(/\t/, " ", name)
	gsub(/\t/, " ", reason)
	if (kind == "skip")
		out("CASE\t" step "\tskip\t" name "\t" reason)
	else
		out("CASE\t" step "\t" kind "\t" name)
	seen++
	if (kind == "fail")
		failed++
	if (kind == "skip")
		skipped++
	if (type == "kunit" && suite != "")
		suite_seen[suite]++
	run_name = ""
}

function end_step(rc, secs,    planned_s, sn) {
	planned_s = (planned == "" ? "-" : planned)
	if (type == "ksft") {
		if (planned == "")
			fail("no TAP plan (1..N) in the output")
		else if (planned + 0 == 0)
			case_result("skip", "(empty plan)", plan_reason)
		else if (seen < planned + 0)
			fail((planned - seen) " of " planned " results missing")
		else if (seen > planned + 0)
			fail(seen " results for a plan of " planned)
		if (bailed)
			fail("Bail out!")
		if (expected > 0 && failed == 0)
			fail(expected " failed EXPECT/ASSERT messages, no failed result")
		# 4 is kselftest's "skipped": only with a skip to show for it.
		if (rc == 4 && skipped == 0)
			fail("exit status 4 (skip) with no skipped result")
		else if (rc != 0 && rc != 4 && failed == 0)
			fail("exit status " rc)
	} else if (type == "kunit") {
		for (sn in want_suite) {
			if (!(sn in suite_plan))
				fail("KUnit suite " sn " did not report")
			else if (suite_plan[sn] != want_suite[sn])
				fail("KUnit suite " sn " planned " suite_plan[sn] \
				     " cases; its source has " want_suite[sn])
			else if (suite_seen[sn] + 0 != suite_plan[sn])
				fail("KUnit suite " sn ": " suite_seen[sn] + 0 \
				     " of " suite_plan[sn] " results")
		}
		for (sn in suite_plan)
			if (!(sn in want_suite))
				fail("KUnit suite " sn " is not in its source")
		if (nsuites == 0)
			fail("no KUnit suites expected (the source lists none)")
		if (rc != 0)
			fail("insmod/rmmod exit status " rc)
	} else {	# insmod, kmemleak: one check each
		if (type == "kmemleak" && leaks > 0)
			fail("kmemleak reported " leaks " unreferenced objects")
		else if (rc != 0)
			fail("exit status " rc)
		else
			case_result("pass", step, "")
	}
	out("STEP\t" step "\t" rc "\t" secs "\t" planned_s "\t" seen)
}

# The serial console ends lines with CR LF.
{ sub(/\r$/, "") }

/^@@ADICT BEGIN / {
	split($0, w, " ")
	step = w[3]
	type = types[step]
	if (type == "")
		type = (step == "insmod" ? "insmod" : (step == "kmemleak" ? "kmemleak" : "ksft"))
	if (step in began)
		fail("step ran twice")
	began[step] = 1
	in_step = 1
	planned = ""; plan_reason = ""; seen = 0; failed = 0; skipped = 0
	bailed = 0; expected = 0; leaks = 0; in_leak = 0; suite = ""; run_name = ""
	delete status
	next
}
/^@@ADICT END / {
	rc = 1; secs = "?"; refs = "-"
	n = split($0, w, " ")
	for (i = 4; i <= n; i++) {
		if (w[i] ~ /^rc=/) rc = substr(w[i], 4) + 0
		if (w[i] ~ /^secs=/) secs = substr(w[i], 6)
		if (w[i] ~ /^modrefs=/) refs = substr(w[i], 9)
	}
	end_step(rc, secs)
	# Every fd and mapping of a step is gone when it ends: a module
	# reference left over is a leaked file (or a process left behind).
	# Only an increase is this step's doing (a leak stays leaked).
	if (refs != "-" && refs + 0 > prev_refs)
		fail("left " (refs - prev_refs) " more references to the module (now " refs ")")
	if (refs != "-")
		prev_refs = refs + 0
	ended[step] = 1
	in_step = 0
	next
}
/^@@ADICT DMESG / { split($0, w, " "); step = w[3]; next }
/^@@ADICT DMESG-END/ { next }
/^@@ADICT KUNIT-SUITE / {
	split($0, w, " ")
	suite = w[3]
	if (suite in suite_plan)
		fail("KUnit suite " suite " reported twice")
	suite_plan[suite] = -1
	next
}
/^@@ADICT KMEMLEAK-REPORT-END/ { in_leak = 0; next }
/^@@ADICT KMEMLEAK-REPORT/ { in_leak = 1; next }
/^@@ADICT DONE/ { done = 1; next }
/^@@ADICT / { next }

{
	line = $0
	if (line ~ /\[ *[0-9]+\.[0-9]+\]/ && line ~ splat) {
		gsub(/\t/, " ", line)
		out("SPLAT\t" step "\t" line)
	}
	if (in_leak) {
		if (line ~ /unreferenced object/)
			leaks++
		if (line != "")
			out("LEAK\t" line)
		next
	}
	if (!in_step)
		next
	if (type == "ksft") {
		if (line ~ /^1\.\.[0-9]+( |$)/) {
			if (planned != "") {
				fail("a second TAP plan: " line)
				next
			}
			planned = line
			sub(/^1\.\./, "", planned)
			sub(/ .*/, "", planned)
			planned += 0
			plan_reason = line
			sub(/^1\.\.[0-9]+ *(# *(SKIP|skip)? *)?/, "", plan_reason)
		} else if (line ~ /^Bail out!/) {
			bailed = 1
		} else if (line ~ /^#  RUN +[^ ]+ \.\.\.$/) {
			run_name = line
			sub(/^#  RUN +/, "", run_name)
			sub(/ \.\.\.$/, "", run_name)
		} else if (line ~ /^# [^ ]+:[0-9]+:[^ ]+:Expected /) {
			# An EXPECT/ASSERT failed, whatever the result line says.
			expected++
			if (run_name != "")
				status[run_name] = "FAIL"
		} else if (line ~ /^# +(OK|FAIL) +[^ ]+$/) {
			split(line, w, " ")
			if (status[w[3]] != "FAIL")
				status[w[3]] = w[2]
		} else if (line ~ /^not ok [0-9]+/) {
			sub(/^not ok [0-9]+ (- )?/, "", line)
			case_result("fail", line, "")
		} else if (line ~ /^ok [0-9]+/) {
			if (line ~ /# (SKIP|skip)/) {
				name = line
				reason = line
				sub(/^[^#]*# (SKIP|skip) */, "", reason)
				sub(/^ok [0-9]+ (- )?/, "", name)
				sub(/ *# (SKIP|skip).*/, "", name)
				if (name == "" && run_name != "")
					name = run_name
				if (name == "") {	# "ok N # SKIP name: why"
					name = reason
					sub(/[: ].*/, "", name)
				}
				if (status[name] == "FAIL")
					case_result("fail", name " (failed, then reported as a skip)", "")
				else
					case_result("skip", name, reason)
			} else {
				sub(/^ok [0-9]+ (- )?/, "", line)
				case_result("pass", line, "")
			}
		}
	} else if (type == "kunit" && suite != "") {
		if (line ~ /^not ok [0-9]+ /) {		# the suite as a whole
			sub(/^not ok [0-9]+ (- )?/, "", line)
			fail("KUnit suite " line " not ok")
		} else if (line ~ /^    1\.\.[0-9]+$/) {
			if (suite_plan[suite] >= 0)
				fail("KUnit suite " suite ": a second plan")
			else
				suite_plan[suite] = substr(line, 8) + 0
		} else if (line ~ /^    not ok [0-9]+ /) {
			sub(/^    not ok [0-9]+ (- )?/, "", line)
			case_result("fail", line, "")
		} else if (line ~ /^    ok [0-9]+ /) {
			sub(/^    ok [0-9]+ (- )?/, "", line)
			if (line ~ / # (SKIP|skip)/) {
				reason = line
				sub(/^.* # (SKIP|skip) */, "", reason)
				sub(/ # (SKIP|skip).*/, "", line)
				case_result("skip", line, reason)
			} else
				case_result("pass", line, "")
		}
	}
}

END {
	# Steps the plan promised that never started or never ended, and
	# steps that ran without being in the plan.
	n = split(expect, e, " ")
	for (i = 1; i <= n; i++) {
		want[e[i]] = 1
		if (!(e[i] in ended)) {
			step = e[i]
			fail("did not finish (VM died, hung or timed out)")
		}
	}
	for (x in began)
		if (!(x in want)) {
			step = x
			fail("ran but is not in the plan")
		}
	out("DONE\t" done)
}
