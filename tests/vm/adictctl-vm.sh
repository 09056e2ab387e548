#!/bin/sh
# SPDX-License-Identifier: MIT
#
# adictctl against the real device, inside a VM where atomic_dict is loaded.
# Plain POSIX sh plus busybox tools (grep, cmp, wc, sleep); prints TAP.
#
#   sh adictctl-vm.sh [PATH-TO-ADICTCTL]      (default: $ADICTCTL, ./adictctl,
#                                             then adictctl from PATH)
#
# Exercises create, list, info, attach (--owner), get, set, add, cas, dump,
# unlink, load, watch, export --prometheus and usage, with their exit codes; a dump taken
# before unlink and one taken after load must be the same bytes.  Then the
# same on tables of other geometries (format v2): composite keys ("7,9"),
# 32-bit values that wrap, a set filled with insert.

A=${1:-${ADICTCTL:-./adictctl}}
[ -x "$A" ] || A=$(command -v adictctl)
T=${TMPDIR:-/tmp}/adictctl-vm.$$
mkdir -p "$T"
NAME=adictctl_vm_$$
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1))
	echo "not ok $n - $1"
	sed 's/^/#   out: /' "$T/out"; sed 's/^/#   err: /' "$T/err"
}

# t CODE PATTERN DESC CMD...: CMD exits CODE; its stdout (or stderr when
# CODE is not 0) matches the grep -E PATTERN ("" matches anything).
t() {
	code=$1; pat=$2; desc=$3; shift 3
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	f=$T/out
	[ "$code" -ne 0 ] && f=$T/err
	if [ "$rc" -ne "$code" ]; then
		not_ok "$desc (exit $rc, wanted $code)"
	elif [ -n "$pat" ] && ! grep -Eq -- "$pat" "$f"; then
		not_ok "$desc (no /$pat/)"
	else
		ok "$desc"
	fi
}

if [ ! -x "$A" ] || [ ! -e /dev/atomic_dict ]; then
	echo "1..0 # SKIP no adictctl or no /dev/atomic_dict"
	exit 0
fi

t 0 "^ID +NAME" "list runs against the module's /proc listing" "$A" list
t 0 "backend: +device" "create a named table" "$A" create "$NAME" 1000 --mode 0640
t 0 "^[0-9]+ +$NAME +named .* 0640 +1000 .* u64 +u64$" "list shows it, named, mode 0640, u64 -> u64" "$A" list
t 8 "already exists" "create it again: exit 8" "$A" create "$NAME" 10
t 0 "capacity: +1000 keys" "info" "$A" info "$NAME"
t 0 "grant: +load,find$" "info: grant 0 (no --grant) is load,find, as documented" "$A" info "$NAME"
t 0 "default read: load,find" "create --help says the grant default is read" "$A" create --help
t 0 '"capacity": 1000' "info --json" "$A" info --json "$NAME"
t 0 "" "set" "$A" set "$NAME" 1 10
t 0 "^10$" "get reads what set stored" "$A" get "$NAME" 1
t 0 "^15$" "add prints the new value" "$A" add "$NAME" 1 5
t 0 "^12$" "add a negative delta" "$A" add "$NAME" 1 -3
t 0 "^20$" "cas that swaps: exit 0, prints the new value" "$A" cas "$NAME" 1 12 20
t 1 "" "cas that does not swap: exit 1" "$A" cas "$NAME" 1 12 30
"$A" cas "$NAME" 1 12 30 >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -Eq '^20$' "$T/out"; then
	ok "... and prints the value it found"
else
	not_ok "... and prints the value it found (exit $rc, wanted 1 and 20)"
fi
t 0 "^0$" "get of an absent key prints 0" "$A" get "$NAME" 99
t 0 "used: +1 keys" "... and does not insert it" "$A" info "$NAME"
t 0 "access: +read-only" "attach --rdonly" "$A" attach "$NAME" --rdonly
t 0 "access: +read-write" "attach (read-write, as root)" "$A" attach "$NAME"
t 0 "access: +read-only" "attach --owner 0: root owns it" "$A" attach "$NAME" --rdonly --owner 0
t 5 "not owned by uid 4242" "attach --owner of another uid: exit 5" "$A" attach "$NAME" --owner 4242
t 0 "^20$" "get --owner 0" "$A" get "$NAME" 1 --owner 0
t 0 "^your tables +[0-9]+ " "usage: the caller's tables against the limit" "$A" usage
t 0 "^all bytes +[0-9]+ +[0-9]+ " "usage: all bytes against max_total_bytes" "$A" usage
t 0 '"max_user_bytes": [1-9]' "usage --json" "$A" usage --json
t 0 "^atomic_dict_value\\{key=\"1\"\\} 20$" "export --prometheus: the key's sample" \
	"$A" export --prometheus "$NAME"
t 0 "^atomic_dict_table_used_keys\\{table=\"$NAME\"\\} 1$" "export --prometheus: used keys" \
	"$A" export --prometheus "$NAME"
printf '1 requests\n' >"$T/map"
t 0 "^app_total\\{what=\"requests\"\\} 20$" "export with a key-to-label map" \
	"$A" export --prometheus "$NAME" --metric app_total --label what --map "$T/map"

# watch sees a key change that another process makes.  No deadline races
# the VM's speed: the adds wait for watch's baseline ("watching ..." on
# stderr), and watch runs until both changes are printed; each wait gives
# up after 120 s (then the case fails).
"$A" watch "$NAME" --interval 0.3 --count 100000 >"$T/watch" 2>"$T/watch.err" &
wpid=$!
# wait_for FILE ERE: poll every 0.1 s, at most 120 s.
wait_for() {
	i=0
	until grep -Eq -- "$2" "$1"; do
		i=$((i + 1))
		[ $i -gt 1200 ] && return 1
		kill -0 $wpid 2>/dev/null || return 1
		sleep 0.1
	done
}
wait_for "$T/watch.err" "^watching "
"$A" add "$NAME" 1 7 >/dev/null
"$A" add "$NAME" 2 1 >/dev/null
wait_for "$T/watch" " 2 +1 +\\+1 .*\\(new\\)"
wait_for "$T/watch" " 1 +27 +\\+7 "
kill $wpid 2>/dev/null
wait $wpid 2>/dev/null
cp "$T/watch" "$T/out"; cp "$T/watch.err" "$T/err"
if grep -Eq " 1 +27 +\\+7 " "$T/watch" && grep -Eq " 2 +1 +\\+1 .*\\(new\\)" "$T/watch"; then
	ok "watch shows a changed key and a new key"
else
	not_ok "watch shows a changed key and a new key"
fi

t 0 "" "dump -o FILE" "$A" dump "$NAME" -o "$T/a.adict"
t 0 "keys: +2" "dump --verify of that dump" "$A" dump --verify "$T/a.adict"
t 0 "" "unlink" "$A" unlink "$NAME"
t 4 "no table named '$NAME'" "info after unlink: exit 4" "$A" info "$NAME"
t 4 "no table named" "unlink again: exit 4" "$A" unlink "$NAME"
t 0 "loaded 2 keys into table '$NAME'" "load restores the table" "$A" load "$T/a.adict"
t 0 "^27$" "... with its values" "$A" get "$NAME" 1
t 0 "mode: +0640" "... and its mode" "$A" info "$NAME"
t 0 "" "dump of the restored table" "$A" dump "$NAME" -o "$T/b.adict"
cp /dev/null "$T/out"; cp /dev/null "$T/err"
if cmp "$T/a.adict" "$T/b.adict" >"$T/err" 2>&1; then
	ok "the restored table dumps to the same bytes"
else
	not_ok "the restored table dumps to the same bytes"
fi
t 8 "--existing" "load onto an existing name: exit 8, says --existing" "$A" load "$T/a.adict"
t 0 "loaded 2 keys" "load --existing" "$A" load "$T/a.adict" --existing
t 0 "loaded 2 keys into table 'copy_$$'" "load --name" "$A" load "$T/a.adict" --name "copy_$$"

# A full table fails fast with exit 7 and says what to do.
t 0 "" "create a table of capacity 2" "$A" create "small_$$" 2
"$A" set "small_$$" 5 1 >/dev/null; "$A" set "small_$$" 6 1 >/dev/null
t 7 "is full" "a third key: exit 7" "$A" set "small_$$" 7 1
t 7 "stored 0 of 2 keys" "load --existing of new keys into a full table: exit 7" \
	"$A" load "$T/a.adict" --name "small_$$" --existing

# A damaged dump is refused before any table is touched.
head -c 150 "$T/a.adict" >"$T/cut.adict"
t 6 "truncated" "a truncated dump: exit 6" "$A" load "$T/cut.adict" --name "cut_$$"
t 4 "no table named" "... and no table was created" "$A" info "cut_$$"

# --load 1/2: twice the rows of keys, shown by info; the default says 3/4.
t 0 "load: +at most 1/2 \\(2044 rows for 1000 keys\\)" "create --load 1/2" \
	"$A" create "half_$$" 1000 --load 1/2
t 0 '"load": "1/2"' "info --json shows the load" "$A" info --json "half_$$"
t 0 "load: +at most 3/4" "a table created without --load is at 3/4" "$A" info "copy_$$"

# Page size: a 1000-key table is all 4 KiB pages; one of 8 MiB gets 2 MiB
# pages where the module gives huge pages (6.12 and later with THP:
# device.rst "Huge pages"), 4 KiB ones elsewhere.
BIGP="4 KiB"
case $(uname -r) in
6.1[2-9]*|6.[2-9][0-9]*|[7-9].*)
	[ -r /sys/kernel/mm/transparent_hugepage/hpage_pmd_size ] && BIGP="2 MiB";;
esac
t 0 "pages: +4 KiB$" "info of a small table: 4 KiB pages" "$A" info "copy_$$"
t 0 "" "create a table of 8 MiB" "$A" create "big_$$" 400000
t 0 "pages: +$BIGP$" "info of it: $BIGP pages on $(uname -r)" "$A" info "big_$$"
t 0 "\"page_bytes\": $(if [ "$BIGP" = "2 MiB" ]; then echo 2097152; else echo 4096; fi)," \
	"info --json gives the page size in bytes" "$A" info --json "big_$$"

# Other geometries: composite keys, u32 values, a set.
WIDE=wide_$$
SET=set_$$
t 0 "key: +u64,u32" "create --key u64,u32 --value u32" \
	"$A" create "$WIDE" 100 --key u64,u32 --value u32
t 0 "value: +u32" "... info shows the value's width" "$A" info "$WIDE"
t 0 "^[0-9]+ +$WIDE +named .* 100 .* u64,u32 +u32$" "list shows the geometry" "$A" list
t 0 "\"name\": \"$WIDE\".*\"key\": \"u64,u32\", \"value\": \"u32\"" "list --json shows the geometry" \
	"$A" list --json
t 0 "^1$" "add 7,9 1" "$A" add "$WIDE" 7,9 1
t 0 "^4294967295$" "add 7,9 -2: u32 values wrap modulo 2^32" "$A" add "$WIDE" 7,9 -2
t 0 "^0$" "add 7,9 1 wraps to 0" "$A" add "$WIDE" 7,9 1
t 0 "" "set 7,10 5" "$A" set "$WIDE" 7,10 5
t 0 "^6$" "cas 7,10 5 6" "$A" cas "$WIDE" 7,10 5 6
t 1 "" "cas 7,10 5 7 does not swap: exit 1" "$A" cas "$WIDE" 7,10 5 7
t 0 "^7,10 6$" "get of two composite keys" "$A" get "$WIDE" 7,9 7,10
t 0 "^0$" "insert 7,10 again: 0, it was present" "$A" insert "$WIDE" 7,10
t 2 "its keys are 2 words \(u64,u32\)" "add with a one-word key: exit 2" "$A" add "$WIDE" 7 1
t 2 "a u32 word is above 4294967295" "a u32 key word of 2^32: exit 2" \
	"$A" add "$WIDE" 7,4294967296 1
t 2 "holds 32-bit values" "set a value of 2^32: exit 2" "$A" set "$WIDE" 7,9 4294967296
t 2 "holds 32-bit values" "add a delta of 2^32: exit 2" "$A" add "$WIDE" 7,9 4294967296
t 0 "used: +2 keys" "... none of the refused ones inserted a key" "$A" info "$WIDE"
t 0 "^atomic_dict_value\{key1=\"7\",key2=\"10\"\} 6$" "export: a label per key word" \
	"$A" export --prometheus "$WIDE"
t 0 "" "dump a composite table" "$A" dump "$WIDE" -o "$T/w.adict"
t 0 "" "unlink it" "$A" unlink "$WIDE"
t 0 "loaded 2 keys into table '$WIDE'" "load restores it" "$A" load "$T/w.adict"
t 0 "key: +u64,u32" "... with its geometry" "$A" info "$WIDE"
t 0 "^6$" "... and its values" "$A" get "$WIDE" 7,10
"$A" dump "$WIDE" -o "$T/w2.adict" >/dev/null 2>&1
cp /dev/null "$T/out"; cp /dev/null "$T/err"
if cmp "$T/w.adict" "$T/w2.adict" >"$T/err" 2>&1; then
	ok "the restored composite table dumps to the same bytes"
else
	not_ok "the restored composite table dumps to the same bytes"
fi
t 2 "has keys u64 with u64 values" "load --existing into a table of another geometry: exit 2" \
	"$A" load "$T/w.adict" --name "$NAME" --existing
t 0 "value: +none" "create a set: --key u64,u64,u32 --value none" \
	"$A" create "$SET" 10 --key u64,u64,u32 --value none
t 0 "^1$" "insert 1,2,3: 1, new" "$A" insert "$SET" 1,2,3
t 0 "^0$" "insert 1,2,3 again: 0" "$A" insert "$SET" 1,2,3
t 0 "^1$" "get of a present key of a set: 1" "$A" get "$SET" 1,2,3
t 0 "^0$" "get of an absent one: 0" "$A" get "$SET" 1,2,4
t 2 "is a set, with no value" "add on a set: exit 2" "$A" add "$SET" 1,2,3 1
t 0 "^atomic_dict_value\{key1=\"1\",key2=\"2\",key3=\"3\"\} 1$" "export of a set" \
	"$A" export --prometheus "$SET"
t 2 "bad --key 'u32,u64'" "create --key u32,u64: exit 2" "$A" create "bad_$$" 10 --key u32,u64
t 2 "bad --value 'u16'" "create --value u16: exit 2" "$A" create "bad_$$" 10 --value u16
t 2 "a row is at most 64 bytes" "create with a 72-byte row: exit 2" \
	"$A" create "bad_$$" 10 --key u64,u64,u64,u64,u64,u64,u64,u64 --value u64
t 4 "no table named" "... and none was created" "$A" info "bad_$$"

for x in "$NAME" "copy_$$" "small_$$" "half_$$" "big_$$" "$WIDE" "$SET"; do "$A" unlink "$x" >/dev/null 2>&1; done
t 0 "" "list after cleanup" "$A" list
cp "$T/out" "$T/list"
if grep -q "adictctl_vm_$$\|small_$$\|copy_$$\|half_$$\|big_$$\|wide_$$\|set_$$" "$T/list"; then
	not_ok "no test table is left named"
else
	ok "no test table is left named"
fi
rm -rf "$T"
echo "1..$n"
[ "$fails" -eq 0 ]
