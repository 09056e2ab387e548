# SPDX-License-Identifier: MIT
#
# tests/vm/parse.awk: read one VM console log (tests/vm/init.sh markers) and
# print one record per line, tab-separated, for tests/vm/run.sh:
#
#   CASE   <step> <pass|fail|skip> <case name>
#   STEP   <step> <rc> <secs> <planned> <seen>
#          (a step that leaves module references behind gets a failed CASE)
#   SPLAT  <step> <console line>
#   LEAK   <line of the kmemleak report>
#   NOTE   <step> <text>                      (why a step failed)
#   DONE   <0|1>
#
# Usage: awk -v expect="insmod mmap ... kmemleak" -v kunit="atomic_dict_kunit" \
#            -f parse.awk console.log
#
# kselftest steps: "1..N" is the plan, "ok N name" a pass, "ok N # SKIP ..."
# a skip (6.1's harness prints no name with a skip), "not ok N name" a fail.
# The harness prefixes everything else with "# ".  KUnit steps: between
# "@@ADICT KUNIT-SUITE <suite>" markers, test cases are "    ok N name" /
# "    not ok N name" at exactly four spaces (parameters are nested deeper).
# Kernel messages carry a "[ seconds]" stamp; a stamped line that matches the
# splat pattern is a splat wherever it appears (console or dmesg section).

BEGIN {
	FS = "\n"
	step = "boot"
	in_step = 0
	done = 0
	prev_refs = 0
	splat = "(BUG:|WARNING:|KASAN|Oops|possible circular locking|INFO: |" \
		"general protection fault|Kernel panic|kernel BUG|UBSAN:|" \
		"unreferenced object|suspected memory leak|" \
		"Kernel memory leak detector disabled|kmemleak: .*disabled)"
	n = split(kunit, k, " ")
	for (i = 1; i <= n; i++)
		types[k[i]] = "kunit"
}

function out(s) { print s }

function case_result(kind, name) {
	gsub(/\t/, " ", name)
	out("CASE\t" step "\t" kind "\t" name)
	seen++
	if (kind == "fail")
		failed++
}

function end_step(rc, secs,    planned_s) {
	planned_s = (planned == "" ? "-" : planned)
	if (type == "ksft") {
		if (planned == "")
			out("NOTE\t" step "\tno TAP plan (1..N) in the output")
		else if (seen < planned + 0) {
			out("NOTE\t" step "\t" (planned - seen) " of " planned " results missing")
			for (i = seen; i < planned + 0; i++)
				out("CASE\t" step "\tfail\t(missing result " (i + 1) ")")
		}
		if (rc != 0 && rc != 4 && failed == 0) {
			out("NOTE\t" step "\texit status " rc)
			out("CASE\t" step "\tfail\t(exit status " rc ")")
		}
	} else if (type == "kunit") {
		if (suites == 0) {
			out("NOTE\t" step "\tno KUnit suite appeared in debugfs")
			out("CASE\t" step "\tfail\t(no KUnit results)")
		} else if (seen < kplanned) {
			out("NOTE\t" step "\t" (kplanned - seen) " of " kplanned " KUnit results missing")
			for (i = seen; i < kplanned; i++)
				out("CASE\t" step "\tfail\t(missing KUnit result " (i + 1) ")")
		}
		if (rc != 0) {
			out("NOTE\t" step "\tinsmod/rmmod exit status " rc)
			out("CASE\t" step "\tfail\t(insmod/rmmod status " rc ")")
		}
	} else {	# insmod, kmemleak: one check each
		if (type == "kmemleak" && leaks > 0)
			out("NOTE\t" step "\tkmemleak reported " leaks " unreferenced objects")
		if (rc != 0)
			out("NOTE\t" step "\texit status " rc)
		out("CASE\t" step "\t" ((rc == 0 && leaks == 0) ? "pass" : "fail") "\t" step)
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
	in_step = 1
	planned = ""; seen = 0; failed = 0; suites = 0; kplanned = 0
	leaks = 0; in_leak = 0; in_suite = 0
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
	if (refs != "-" && refs + 0 > prev_refs) {
		out("NOTE\t" step "\tleft " (refs - prev_refs) " more references to the module (now " refs ")")
		out("CASE\t" step "\tfail\t(module references leaked: " (refs - prev_refs) ")")
	}
	if (refs != "-")
		prev_refs = refs + 0
	ended[step] = 1
	in_step = 0
	next
}
/^@@ADICT DMESG / { split($0, w, " "); step = w[3]; next }
/^@@ADICT DMESG-END/ { next }
/^@@ADICT KUNIT-SUITE / { suites++; in_suite = 1; next }
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
		if (line ~ /^1\.\.[0-9]+$/ && planned == "") {
			planned = substr(line, 4) + 0
		} else if (line ~ /^not ok [0-9]+/) {
			sub(/^not ok [0-9]+ /, "", line)
			case_result("fail", line)
		} else if (line ~ /^ok [0-9]+/) {
			if (line ~ /# SKIP/) {
				sub(/^ok [0-9]+ # SKIP */, "", line)
				case_result("skip", line)
			} else {
				sub(/^ok [0-9]+ /, "", line)
				case_result("pass", line)
			}
		}
	} else if (type == "kunit" && in_suite) {
		if (line ~ /^not ok [0-9]+ /) {		# the suite as a whole
			sub(/^not ok [0-9]+ (- )?/, "", line)
			case_result("fail", "suite " line)
		} else if (line ~ /^    1\.\.[0-9]+$/)
			kplanned += substr(line, 8) + 0
		else if (line ~ /^    not ok [0-9]+ /) {
			sub(/^    not ok [0-9]+ (- )?/, "", line)
			case_result("fail", line)
		} else if (line ~ /^    ok [0-9]+ /) {
			if (line ~ /# SKIP/) {
				sub(/^    ok [0-9]+ (- )?/, "", line)
				case_result("skip", line)
			} else {
				sub(/^    ok [0-9]+ (- )?/, "", line)
				case_result("pass", line)
			}
		}
	}
}

END {
	# Steps the plan promised that never started or never ended.
	n = split(expect, e, " ")
	for (i = 1; i <= n; i++) {
		if (!(e[i] in ended)) {
			out("NOTE\t" e[i] "\tdid not finish (VM died, hung or timed out)")
			out("CASE\t" e[i] "\tfail\t(step did not finish)")
		}
	}
	out("DONE\t" done)
}
