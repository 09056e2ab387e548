#!/bin/sh
# SPDX-License-Identifier: MIT
# Output files and exit codes: -o never replaces a device, a FIFO or a
# symlink; dumps keep the table's permission bits; every write error is
# exit 10 (stdout included); the text dump loads back; --json errors; the
# restore alias; the completion helper.
. "$(dirname "$0")/lib.sh"

$DUMPFMT write "$W/web.adict" 100 web 600 1=5 42=3 0xffffffffffffffff=7
$DUMPFMT write "$W/shared.adict" 100 shared 640 1=1

# ---- write errors: exit 10, whatever the command, stdout included
if [ -w /dev/full ]; then
	expect 10 "writing standard output: No space left on device" \
		"dump --text > /dev/full" sh -c "'$A' dump -F '$W/web.adict' --text > /dev/full"
	expect 10 "No space left" "info --json > /dev/full" \
		sh -c "'$A' --json info -F '$W/web.adict' > /dev/full"
	expect 10 "No space left" "binary dump > /dev/full: 10, not 7 (table full)" \
		sh -c "'$A' dump -F '$W/web.adict' > /dev/full"
	expect 10 "writing /dev/full: No space left" "dump -o /dev/full writes the device in place" \
		"$A" dump -F "$W/web.adict" -o /dev/full
	check "... and /dev/full is still a character device" test -c /dev/full
	expect 10 "No space left" "export -o /dev/full" \
		"$A" export --prometheus -F "$W/web.adict" -o /dev/full
	check "... still a character device" test -c /dev/full
	expect 10 "No space left" "get > /dev/full" \
		sh -c "'$A' get -F '$W/web.adict' 1 > /dev/full"
else
	skip "write errors to /dev/full" "no writable /dev/full"
fi

# ---- -o and what is already there
expect 0 "" "dump -o /dev/null" "$A" dump -F "$W/web.adict" -o /dev/null
check "/dev/null is still a device" test -c /dev/null
mkfifo "$W/fifo"
cat "$W/fifo" >"$W/from-fifo" &
reader=$!
expect 0 "" "dump -o FIFO writes into the FIFO" "$A" dump -F "$W/web.adict" -o "$W/fifo"
wait $reader
check "... the FIFO is still a FIFO" test -p "$W/fifo"
check "... and the reader got the dump" cmp "$W/from-fifo" "$W/web.adict"
echo keep >"$W/real"
ln -s real "$W/link"
expect 2 "symlink to a regular file" "dump -o SYMLINK-TO-FILE is refused" \
	"$A" dump -F "$W/web.adict" -o "$W/link"
check "... the link is still a link" test -L "$W/link"
check "... and its target untouched" grep -qx keep "$W/real"
ln -s /dev/null "$W/devlink"
expect 0 "" "dump -o SYMLINK-TO-DEVICE writes the device" \
	"$A" dump -F "$W/web.adict" -o "$W/devlink"
check "... the link is still a link" test -L "$W/devlink"

# ---- permission bits: the table's (owner rw added), or --output-mode
mode_of() { stat -c %a "$1"; }
umask 022
expect 0 "" "dump of a 0600 table" "$A" dump -F "$W/web.adict" -o "$W/d600"
check "... is written 0600, not 0644" test "$(mode_of "$W/d600")" = 600
expect 0 "" "dump of a 0640 table" "$A" dump -F "$W/shared.adict" -o "$W/d640"
check "... is written 0640" test "$(mode_of "$W/d640")" = 640
echo old >"$W/d640"
chmod 666 "$W/d640"
expect 0 "" "dump over an existing 0666 file" "$A" dump -F "$W/web.adict" -o "$W/d640"
check "... replaces it with the table's 0600" test "$(mode_of "$W/d640")" = 600
expect 0 "" "dump --output-mode 0644" "$A" dump -F "$W/web.adict" -o "$W/d644" --output-mode 0644
check "... is written 0644" test "$(mode_of "$W/d644")" = 644
expect 0 "" "export -o of a 0600 table" "$A" export --prometheus -F "$W/web.adict" -o "$W/web.prom"
check "... is written 0600" test "$(mode_of "$W/web.prom")" = 600
check "no temporary file is left" sh -c "! ls '$W' | grep -q '\\.tmp\\.'"

# ---- the text dump loads back
expect 0 "^# atomic-dict text dump 2$" "dump --text starts with the format line (text version 2)" \
	"$A" dump -F "$W/web.adict" --text
expect 0 "" "dump --text -o FILE" "$A" dump -F "$W/web.adict" --text -o "$W/web.txt"
check "... the file carries name, capacity, mode, grant and count" sh -c \
	"grep -qx '# name: web' '$W/web.txt' && grep -qx '# capacity: 100' '$W/web.txt' &&
	 grep -qx '# mode: 0600' '$W/web.txt' && grep -qx '# count: 3' '$W/web.txt'"
expect 0 "valid adictctl dump, version 2 \\(text\\)" "dump --verify reads the text dump" \
	"$A" dump --verify "$W/web.txt"
expect 0 "" "a text dump turned into a binary one (dump -F TEXT -o BIN)" \
	"$A" dump -F "$W/web.txt" -o "$W/web2.adict"
check "... is byte-identical to the original binary dump" cmp "$W/web.adict" "$W/web2.adict"
expect 0 "3 keys restore" "load --backend memfd reads a text dump" \
	"$A" load --backend memfd "$W/web.txt"
printf '# atomic-dict text dump 1\n# name: h\n# capacity: 10\n# mode: 0600\n# grant: 0\n# count: 2\n# a comment\n9 1\n\n0x3 2\n' >"$W/hand.txt"
expect 0 "^3 2$" "a hand-written text dump: comments, blank lines, any order, hex" \
	"$A" dump -F "$W/hand.txt" --text
head -n 10 "$W/web.txt" >"$W/cut.txt"
expect 6 "truncated: 2 pairs, the header promises 3" "a truncated text dump is refused" \
	"$A" dump --verify "$W/cut.txt"
sed 's/^42 /1 /' "$W/web.txt" >"$W/dup.txt"
expect 6 "key 1 appears twice" "a repeated key is refused" "$A" dump --verify "$W/dup.txt"
sed 's/^42 3$/42 x/' "$W/web.txt" >"$W/junk.txt"
expect 6 "junk.txt:10: bad value" "a bad value is refused with its line" \
	"$A" dump --verify "$W/junk.txt"
grep -v '^# count' "$W/web.txt" >"$W/nocount.txt"
expect 6 "needs all of name, capacity, mode, grant, key, value and count" "a header without count" \
	"$A" dump --verify "$W/nocount.txt"

# ---- one name for a dump, whichever command reads it
expect 0 "^name: +web$" "info -F shows the dump's table name" "$A" info -F "$W/web.adict"
expect 0 "^name: +web$" "dump --verify shows the same" "$A" dump --verify "$W/web.adict"

# ---- restore is load
expect 0 "3 keys restore into a table of capacity 100" "restore --backend memfd" \
	"$A" restore --backend memfd "$W/web.adict"

# ---- --json errors: one JSON object on stderr, the exit code in it
"$A" --json info -F "$W/none" >"$W/out" 2>"$W/err"
rc=$?
check "--json error: exit 4" test "$rc" -eq 4
check "... stdout empty" test ! -s "$W/out"
check "... stderr is one JSON object with code, name and message" /usr/bin/python3 -c "
import json, sys
d = json.loads(open(sys.argv[1]).read())['error']
assert d['exit_code'] == 4 and d['exit_name'] == 'noent' and d['command'] == 'info', d
assert 'No such file' in d['message'], d
" "$W/err"
"$A" get --json -F "$W/web.adict" 0 >"$W/out" 2>"$W/err"
check "--json usage error: JSON with exit_code 2" /usr/bin/python3 -c "
import json, sys
d = json.loads(open(sys.argv[1]).read())['error']
assert d['exit_code'] == 2 and 'key 0' in d['message'], d
" "$W/err"
"$A" --json frob >"$W/out" 2>"$W/err"
check "--json unknown command: JSON too" /usr/bin/python3 -c "
import json, sys
d = json.loads(open(sys.argv[1]).read())['error']
assert d['exit_code'] == 2 and 'frob' in d['message'], d
" "$W/err"
expect 0 "" "export -o FILE --json" \
	"$A" export --prometheus -F "$W/web.adict" -o "$W/j.prom" --json
check "... describes what was written" /usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['samples'] == 3 and d['table'] == 'web' and d['file'].endswith('j.prom'), d
" "$W/out"
expect 0 "" "dump -o FILE --json" "$A" dump -F "$W/web.adict" -o "$W/j.adict" --json
check "... describes what was written" /usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['count'] == 3 and d['name'] == 'web' and d['format'] == 'binary', d
" "$W/out"

# ---- the completion helper and script
expect 0 "^restore$" "__complete lists the commands" "$A" __complete
expect 0 "^--output-mode=$" "__complete dump lists dump's options" "$A" __complete dump
expect 0 "^--json$" "... and the common ones" "$A" __complete dump
C=$ROOT/tools/packaging/adictctl.bash-completion
if command -v bash >/dev/null; then
	check "the bash completion completes commands" bash -c "
		. '$C'; PATH='$(dirname "$A")':\$PATH
		COMP_WORDS=(adictctl res); COMP_CWORD=1; _adictctl
		[ \"\${COMPREPLY[*]}\" = restore ]"
	check "... and a command's options" bash -c "
		. '$C'; PATH='$(dirname "$A")':\$PATH
		COMP_WORDS=(adictctl dump --ver); COMP_CWORD=2; _adictctl
		[ \"\${COMPREPLY[*]}\" = --verify= ] || [ \"\${COMPREPLY[*]}\" = --verify ]"
else
	skip "bash completion" "no bash"
fi
finish
