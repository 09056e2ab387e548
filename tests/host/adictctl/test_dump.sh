#!/bin/sh
# SPDX-License-Identifier: MIT
# Dump files: an independent writer (dumpfmt.py, written from
# Documentation/dump-format.rst) and adictctl agree byte for byte; a dump
# loaded into a memfd table and dumped again is the same file; every kind
# of damage is refused with exit 6 and a message that names it.
. "$(dirname "$0")/lib.sh"

check "dumpfmt.py's CRC-64/XZ gives the catalogue check value" $DUMPFMT crccheck

$DUMPFMT write "$W/a.adict" 100 counters 660 1=5 7=0 42=3 \
	0xffffffffffffffff=18446744073709551615
expect 0 "valid adictctl dump, version 2" "--verify accepts the reference writer's dump (version 2)" \
	"$A" dump --verify "$W/a.adict"
expect 0 "keys: +4" "--verify counts the keys" "$A" dump --verify "$W/a.adict"

# Round trip through a memfd table: load the dump, dump the table again.
expect 0 "" "dump -F (load into memfd, dump again) -o FILE" \
	"$A" dump -F "$W/a.adict" -o "$W/b.adict"
check "the re-dump is byte-identical" cmp "$W/a.adict" "$W/b.adict"
check "no temporary file is left beside it" \
	sh -c "[ \$(ls '$W' | grep -c tmp) -eq 0 ]"
"$A" dump -F "$W/a.adict" >"$W/c.adict"
check "dump to standard output is the same bytes" cmp "$W/a.adict" "$W/c.adict"
check "the reference reader accepts adictctl's dump" $DUMPFMT read "$W/b.adict"
expect 0 "^1 5$" "dump --text prints KEY VALUE lines" "$A" dump -F "$W/a.adict" --text
check "dump --text lists all four pairs in key order" sh -c \
	"'$A' dump -F '$W/a.adict' --text | grep -v '^#' | awk '{print \$1}' | tr '\n' ' ' |
	 grep -qx '1 7 42 18446744073709551615 '"
expect 0 "^3$" "get -F reads a value" "$A" get -F "$W/a.adict" 42
expect 0 "^99 0$" "get -F: an absent key reads 0" "$A" get -F "$W/a.adict" 42 99
expect 0 "backend: +memfd" "info -F shows the memfd backend" "$A" info -F "$W/a.adict"
expect 0 "used: +4 keys" "info -F counts the keys" "$A" info -F "$W/a.adict"
expect 0 "load: +at most 3/4 \\(252 rows for 100 keys\\)" "info -F shows the load" "$A" info -F "$W/a.adict"
expect 0 "4 keys restore into a table of capacity 100" \
	"load --backend memfd checks that the dump restores" \
	"$A" load --backend memfd "$W/a.adict"
expect 0 "capacity 5000" "load --backend memfd --capacity grows the table" \
	"$A" load --backend memfd --capacity 5000 "$W/a.adict"
expect 0 "valid adictctl dump" "a dump read from standard input" \
	sh -c "'$A' dump --verify - < '$W/a.adict'"

# An empty table and a larger one survive the round trip too.
$DUMPFMT write "$W/empty.adict" 1 "" 0
expect 0 "" "an empty anonymous dump round-trips" "$A" dump -F "$W/empty.adict" -o "$W/empty2.adict"
check "... byte-identical" cmp "$W/empty.adict" "$W/empty2.adict"
# shellcheck disable=SC2046
$DUMPFMT write "$W/big.adict" 4000 big 600 $(/usr/bin/python3 -c '
import random
r = random.Random(7)
keys = set()
while len(keys) < 3000:
    keys.add(r.getrandbits(64) or 1)
print(" ".join("%d=%d" % (k, r.getrandbits(64)) for k in keys))')
expect 0 "" "3000 keys in a table of 4000 round-trip" "$A" dump -F "$W/big.adict" -o "$W/big2.adict"
check "... byte-identical" cmp "$W/big.adict" "$W/big2.adict"
expect 0 "keys: +3000" "... with all 3000 keys" "$A" dump --verify "$W/big2.adict"

# Damage of every kind: exit 6, and the message says which.
bad() {
	how=$1; pat=$2
	$DUMPFMT corrupt "$W/a.adict" "$W/bad-$how" "$how"
	expect 6 "$pat" "refused: $how" "$A" dump --verify "$W/bad-$how"
}
bad empty "truncated: 0 bytes"
bad short-header "truncated: 100 bytes, shorter than the 128-byte dump header"
bad no-trailer "truncated: 192 bytes, the header promises 200"
bad half-pairs "truncated: 160 bytes, the header promises 200"
bad trailing "1 bytes of unexpected data after the checksum"
bad magic "not an adictctl dump"
bad version3 "format version 3; this adictctl reads versions 1 and 2"
bad header-bit "header checksum mismatch"
bad pair-bit "checksum mismatch: the file is corrupt"
bad trailer-bit "checksum mismatch: the file is corrupt"
bad unsorted "pair 1: keys out of order or repeated"
bad repeated "pair 1: keys out of order or repeated"
bad key0 "pair 0: key 0"
bad over-capacity "more pairs than capacity"
expect 6 "truncated" "load refuses a truncated file before touching a table" \
	"$A" load "$W/bad-half-pairs"
expect 6 "checksum mismatch" "-F refuses a corrupt file" "$A" info -F "$W/bad-pair-bit"
expect 6 "not an adictctl dump" "load --backend memfd refuses a non-dump" \
	"$A" load --backend memfd "$W/bad-magic"
finish
