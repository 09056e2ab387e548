#!/bin/sh
# SPDX-License-Identifier: MIT
# Every error path of adictctl that the host can reach: no device, bad
# command lines, missing files.  Each asserts the exit code and the message.
. "$(dirname "$0")/lib.sh"

MOD='module not loaded; load it with: modprobe atomic_dict'
$DUMPFMT write "$W/named.adict" 10 counters 640 1=1

# ---- the device is missing: exit 3 and the command that loads the module
if [ -e /dev/atomic_dict ]; then
	skip "no-device messages" "/dev/atomic_dict exists here"
else
	for cmd in "create t 10" "attach t" "attach t --rdonly" "info t" \
		   "get t 1" "set t 1 2" "add t 1 -1" "cas t 1 0 1" "unlink t" \
		   "dump t -o $W/x" "watch t --count 1" "export --prometheus t" \
		   "load $W/named.adict"; do
		# shellcheck disable=SC2086
		expect 3 "$MOD" "no device: $cmd" "$A" $cmd
	done
	expect 3 "$MOD" "no device: --json does not hide the message" \
		"$A" --json info t
fi
expect 3 "$MOD" "list without the /proc listing" \
	env ADICTCTL_PROC="$W/none" "$A" list

# ---- bad command lines: exit 2, a reason and where to look
expect 2 "usage: adictctl" "no command" "$A"
expect 2 "unknown command 'frob'" "unknown command" "$A" frob
expect 2 "unknown option '--frob'" "unknown global option" "$A" --frob info
expect 2 "unknown option '--frob'" "unknown command option" "$A" info t --frob
expect 2 "Try 'adictctl info --help'" "usage errors point to --help" "$A" info t --frob
expect 2 "'--interval' needs a value" "option without its value" "$A" watch t --interval
expect 2 "unknown option '--json=1'" "flag given a value" "$A" info t --json=1
expect 2 "give a table NAME" "info without a table" "$A" info
expect 2 "unexpected argument 'u'" "info with two tables" "$A" info t u
expect 2 "key 0 is not allowed" "key 0" "$A" get t 0
expect 2 "does not fit in 64 bits" "key above 2^64-1" "$A" get t 18446744073709551616
expect 2 "bad key '12x'" "key with junk" "$A" get t 12x
expect 2 "bad key '-1'" "negative key" "$A" set t -1 5
expect 2 "bad VALUE '-5'" "negative value for set" "$A" set t 1 -5
expect 2 "bad DELTA ''" "empty delta" "$A" add t 1 ""
expect 2 "a KEY and EXPECTED and DESIRED" "cas without DESIRED" "$A" cas t 1 0
expect 2 "give at least one KEY" "get without keys" "$A" get t
expect 2 "bad capacity '0'" "capacity 0" "$A" create t 0
expect 2 "bad capacity 'lots'" "capacity not a number" "$A" create t lots
expect 2 "bad --mode '999'" "mode out of range" "$A" create t 10 --mode 999
expect 2 "bad --grant 'load,frob'" "unknown grant" "$A" create t 10 --grant load,frob
expect 2 "bad --load '2/3'" "unknown load" "$A" create t 10 --load 2/3
expect 2 "memfd table is anonymous" "create --backend memfd is refused, with why" \
	"$A" create t 10 --backend memfd
expect 2 "load --backend memfd FILE" "... and what to do instead" \
	"$A" create t 10 --backend memfd
expect 2 "bad table name 'a b'" "name with a space" "$A" info "a b"
expect 2 "bad table name '.hidden'" "name starting with a dot" "$A" info .hidden
expect 2 "too long: at most 63" "name of 64 bytes" \
	"$A" info "$(printf '%064d' 0)"
expect 2 "--rdonly and --mediated" "attach with both accesses" \
	"$A" attach t --rdonly --mediated
expect 2 "bad --interval '0'" "watch interval 0" "$A" watch t --interval 0
expect 2 "bad --count '0'" "watch count 0" "$A" watch t --count 0
expect 2 "choose the format: --prometheus" "export without a format" "$A" export t
expect 2 "bad --metric '1x'" "bad metric name" "$A" export --prometheus t --metric 1x
expect 2 "bad --label '__x'" "reserved label name" "$A" export --prometheus t --label __x
expect 2 "bad --type 'histogram'" "bad metric type" "$A" export --prometheus t --type histogram
expect 2 "--all only makes sense with --map" "--all without --map" \
	"$A" export --prometheus t --all
expect 2 "dump file cannot be changed" "set on a dump file" "$A" set -F "$W/named.adict" 1 2
expect 2 "--verify FILE takes nothing else" "dump --verify with a table" \
	"$A" dump --verify "$W/named.adict" t
expect 2 "no room for JSON" "dump --json of a binary dump to standard output" \
	"$A" dump -F "$W/named.adict" --json
expect 2 "use -o FILE" "export --json to standard output" \
	"$A" export --prometheus -F "$W/named.adict" --json
expect 2 "capacity '1099511627777' out of range" "capacity 2^40+1: exit 2" \
	"$A" create t 1099511627777
expect 2 "capacity '99999999999999999999' out of range" "capacity above 2^64: exit 2 too" \
	"$A" create t 99999999999999999999
expect 2 "bad --output-mode '9'" "bad --output-mode" \
	"$A" dump -F "$W/named.adict" -o "$W/x" --output-mode 9
$DUMPFMT write "$W/two.adict" 10 two 600 1=1 2=2
expect 2 "below the dump's 2 keys" "load into too small a capacity" \
	"$A" load "$W/two.adict" --capacity 1 --backend memfd
expect 2 "bad --capacity '0x0'" "load --capacity 0" \
	"$A" load "$W/two.adict" --capacity 0x0 --backend memfd
expect 2 "a memfd table has no name" "load --backend memfd --name" \
	"$A" load "$W/named.adict" --backend memfd --name x
$DUMPFMT write "$W/anon.adict" 10 "" 0 1=1
expect 2 "anonymous table; give it a name with --name" \
	"load of an anonymous dump without --name" "$A" load "$W/anon.adict"

# ---- files
expect 4 "No such file" "dump --verify of a missing file" "$A" dump --verify "$W/none"
expect 4 "No such file" "-F of a missing file" "$A" info -F "$W/none"
expect 4 "No such file" "export --map of a missing file" \
	"$A" export --prometheus -F "$W/named.adict" --map "$W/none"
mkdir "$W/dir"
expect 2 "is a directory; -o takes a file name" "dump -o onto a directory is refused" \
	"$A" dump -F "$W/named.adict" -o "$W/dir"
expect 4 "No such file" "dump -o into a missing directory" \
	"$A" dump -F "$W/named.adict" -o "$W/no/such/dir"

# ---- help and version succeed
for c in create attach list info get set add cas dump load restore unlink watch export; do
	expect 0 "usage: adictctl $c" "$c --help" "$A" "$c" --help
done
expect 0 "^adictctl [0-9]+\.[0-9]+" "--version" "$A" --version
expect 0 "commands:" "help" "$A" help
finish
