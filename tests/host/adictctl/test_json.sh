#!/bin/sh
# SPDX-License-Identifier: MIT
# --json output parses (python3 -m json.tool) and carries the right values.
. "$(dirname "$0")/lib.sh"

$DUMPFMT write "$W/a.adict" 100 counters 660 1=5 42=3

json() {	# json DESC PYTHON-ASSERTION CMD...: parses, and the assertion holds
	desc=$1; cond=$2; shift 2
	if ! "$@" >"$W/out" 2>"$W/err"; then t_fail "$desc (command failed)"; return; fi
	if ! /usr/bin/python3 -m json.tool "$W/out" >/dev/null 2>>"$W/err"; then
		t_fail "$desc (not JSON)"; return
	fi
	if /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert $cond, d" \
		"$W/out" 2>>"$W/err"; then t_ok "$desc"; else t_fail "$desc ($cond)"; fi
}

json "info -F" 'd["backend"] == "memfd" and d["capacity"] == 100 and d["used"] == 2' \
	"$A" info --json -F "$W/a.adict"
json "global --json before the command" 'd["used"] == 2' \
	"$A" --json info -F "$W/a.adict"
json "get, one key" 'd == [{"key": 42, "value": 3, "present": True}]' \
	"$A" get --json -F "$W/a.adict" 42
json "get, absent key" 'd[1] == {"key": 7, "value": 0, "present": False}' \
	"$A" get --json -F "$W/a.adict" 1 7
json "dump --verify" 'd["valid"] and d["name"] == "counters" and d["mode"] == "0660" and d["count"] == 2' \
	"$A" dump --json --verify "$W/a.adict"
json "dump --text" 'd["pairs"] == [{"key": 1, "value": 5}, {"key": 42, "value": 3}]' \
	"$A" dump --json --text -F "$W/a.adict"
json "load --backend memfd" 'd["loaded"] == 2 and d["backend"] == "memfd"' \
	"$A" load --json --backend memfd "$W/a.adict"

printf 'id name state uid gid mode capacity used bytes users\n7 "q\\x" named 0 0 0640 10 1 8192 1\n' >"$W/proc"
json "list, with a name that needs escaping" 'd[0]["name"] == chr(34) + "q" + chr(92) + "x" + chr(34) and d[0]["mode"] == "0640"' \
	env ADICTCTL_PROC="$W/proc" "$A" list --json

# watch --json prints one JSON object per interval (JSON lines).
"$A" watch --json -F "$W/a.adict" --interval 0.01 --count 3 >"$W/watch" 2>"$W/err"
check "watch --json --count 3 prints 3 lines" sh -c "[ \$(wc -l < '$W/watch') -eq 3 ]"
check "each watch line is JSON with no changes" /usr/bin/python3 -c "
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert d['changes'] == [] and isinstance(d['time'], int), d
" "$W/watch"
finish
