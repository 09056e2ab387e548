#!/bin/sh
# SPDX-License-Identifier: MIT
# Tables of every geometry class (format v2) through adictctl, on the memfd
# backend (-F: a dump loaded into a private table): dump version 2 agrees
# byte for byte with the independent writer (dumpfmt.py) and round-trips,
# binary and text, for each class; composite keys ("7,9") in get, with
# every kind of wrong key refused by name; info, dump --verify and --json
# show the geometry; the Prometheus export gives one label per key word;
# and version 1 dumps written by adictctl 1.0.0 (tests/host/adictctl/
# fixtures) still load.  The device commands (create --key, add 7,9 1,
# insert, list) run in the VM: tests/vm/adictctl-vm.sh.
. "$(dirname "$0")/lib.sh"
FIX=$ROOT/tests/host/adictctl/fixtures

# class NAME GEOMETRY... -- PAIRS...: a dump of that class and its checks.
class() {
	c=$1; shift
	g=""
	while [ "$1" != -- ]; do g="$g $1"; shift; done
	shift
	# shellcheck disable=SC2086
	$DUMPFMT write "$W/$c.adict" 50 "$c" 640 $g "$@"
	expect 0 "valid adictctl dump, version 2" "$c: --verify accepts the reference writer's dump" \
		"$A" dump --verify "$W/$c.adict"
	expect 0 "" "$c: dump -F (into a memfd table of that geometry) -o" \
		"$A" dump -F "$W/$c.adict" -o "$W/$c.2.adict"
	check "$c: ... byte-identical" cmp "$W/$c.adict" "$W/$c.2.adict"
	expect 0 "" "$c: dump --text" "$A" dump -F "$W/$c.adict" --text -o "$W/$c.txt"
	expect 0 "" "$c: the text form back to binary" "$A" dump -F "$W/$c.txt" -o "$W/$c.3.adict"
	check "$c: ... byte-identical" cmp "$W/$c.adict" "$W/$c.3.adict"
	check "$c: the reference reader reads adictctl's dump" $DUMPFMT read "$W/$c.2.adict"
}

class default -- 1=5 7=0 0xffffffffffffffff=18446744073709551615
class pair key=u64,u64 -- 7,9=3 7,10=4 1,0xffffffffffffffff=5
class narrow key=u64,u32 value=u32 -- 7,9=3 7,4294967295=4294967295 2,1=0
class small key=u32 value=u32 -- 1=1 4294967295=2 3=3
class set key=u64,u64,u32 value=none -- 1,2,3 1,2,4 9,9,9
class wide key=u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32 value=none -- \
	1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16

# The text form, as written
"$A" dump -F "$W/narrow.adict" --text >"$W/narrow.txt"
check "text header: version 2, key and value lines" sh -c \
	"head -n 1 '$W/narrow.txt' | grep -qx '# atomic-dict text dump 2' &&
	 grep -qx '# key: u64,u32' '$W/narrow.txt' && grep -qx '# value: u32' '$W/narrow.txt'"
check "text pairs: KEY as words joined by commas, in key order" sh -c \
	"grep -v '^#' '$W/narrow.txt' | tr '\n' ' ' | grep -qx '2,1 0 7,9 3 7,4294967295 4294967295 '"
"$A" dump -F "$W/set.adict" --text >"$W/set.txt"
check "a set's text pairs are keys alone" sh -c \
	"grep -v '^#' '$W/set.txt' | tr '\n' ' ' | grep -qx '1,2,3 1,2,4 9,9,9 '"

# Geometry shown
expect 0 "key: +u64,u32" "info -F shows the key's words" "$A" info -F "$W/narrow.adict"
expect 0 "value: +u32" "info -F shows the value's width" "$A" info -F "$W/narrow.adict"
expect 0 "rows: +16 bytes, 4 per 64-byte bucket" "info -F shows the row size" "$A" info -F "$W/narrow.adict"
expect 0 '"key": "u64,u64,u32", "value": "none"' "info --json: key and value" \
	"$A" info --json -F "$W/set.adict"
expect 0 '"row_bytes": 24, "bucket_rows": 2' "info --json: row_bytes and bucket_rows" \
	"$A" info --json -F "$W/set.adict"
expect 0 "key: +u64,u64" "dump --verify shows the geometry" "$A" dump --verify "$W/pair.adict"
expect 0 '"key": "u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32,u32"' \
	"dump --verify --json: 16 u32 words" "$A" dump --json --verify "$W/wide.adict"

# Composite keys in get
expect 0 "^3$" "get 7,9" "$A" get -F "$W/narrow.adict" 7,9
expect 0 "^4294967295$" "get 7,4294967295 (the largest u32 word and value)" \
	"$A" get -F "$W/narrow.adict" 7,4294967295
"$A" get -F "$W/narrow.adict" 7,9 8,8 0x2,1 >"$W/out"
check "get of several composite keys: KEY VALUE lines, absent 0" sh -c \
	"tr '\n' ' ' <'$W/out' | grep -qx '7,9 3 8,8 0 2,1 0 '"
expect 0 "^1$" "a set: get prints 1 for a present key" "$A" get -F "$W/set.adict" 1,2,4
expect 0 "^0$" "... and 0 for an absent one" "$A" get -F "$W/set.adict" 1,2,5
expect 0 '"key": \[7, 9\], "value": 3, "present": true' "get --json: a composite key is an array" \
	"$A" get --json -F "$W/narrow.adict" 7,9
expect 0 '"key": \[1, 2, 4\], "present": true' "get --json on a set: no value" \
	"$A" get --json -F "$W/set.adict" 1,2,4
expect 0 '"key": 7, "value": 0' "get --json: a one-word key stays a number" \
	"$A" get --json -F "$W/default.adict" 7
expect 2 "its keys are 2 words \(u64,u32\)" "a key of too few words: exit 2, named" \
	"$A" get -F "$W/narrow.adict" 7
expect 2 "its keys are 2 words \(u64,u32\)" "a key of too many words: exit 2" \
	"$A" get -F "$W/narrow.adict" 7,9,1
expect 2 "a u32 word is above 4294967295" "a u32 word of 2^32: exit 2" \
	"$A" get -F "$W/narrow.adict" 7,4294967296
expect 2 "key word 0 is not allowed" "a word 0: exit 2" "$A" get -F "$W/narrow.adict" 7,0
expect 2 "bad key '7,,9'" "an empty word: exit 2" "$A" get -F "$W/narrow.adict" 7,,9
expect 2 "bad key '7,9,'" "a trailing comma: exit 2" "$A" get -F "$W/narrow.adict" 7,9,
expect 2 "does not fit in 64 bits" "a word of 2^64: exit 2" \
	"$A" get -F "$W/pair.adict" 7,18446744073709551616
expect 2 "more than 16 words" "17 words: exit 2" \
	"$A" get -F "$W/wide.adict" 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17

# Prometheus: one label per key word
"$A" export --prometheus -F "$W/narrow.adict" --no-table-stats >"$W/prom"
check "export: default labels key1, key2 for a two-word key" \
	grep -qx 'atomic_dict_value{key1="7",key2="9"} 3' "$W/prom"
"$A" export --prometheus -F "$W/narrow.adict" --no-table-stats --label tenant,endpoint >"$W/prom"
check "export --label tenant,endpoint names each word" \
	grep -qx 'atomic_dict_value{tenant="2",endpoint="1"} 0' "$W/prom"
check "... one sample per key, three" sh -c "[ \$(grep -vc '^#' '$W/prom') -eq 3 ]"
expect 2 "one label name per key word \(2\)" "export --label with one name for two words: exit 2" \
	"$A" export --prometheus -F "$W/narrow.adict" --label tenant
expect 2 "given twice" "export --label a,a: exit 2" \
	"$A" export --prometheus -F "$W/narrow.adict" --label a,a
expect 2 "bad --label '2b'" "export --label with a bad name: exit 2" \
	"$A" export --prometheus -F "$W/narrow.adict" --label a,2b
"$A" export --prometheus -F "$W/set.adict" --no-table-stats >"$W/prom"
check "a set exports 1 per key, a label per word" \
	grep -qx 'atomic_dict_value{key1="1",key2="2",key3="4"} 1' "$W/prom"
printf '7,9 home\n2,1 login\n' >"$W/map"
"$A" export --prometheus -F "$W/narrow.adict" --no-table-stats --map "$W/map" --label page >"$W/prom"
check "export --map names whole composite keys" sh -c \
	"grep -qx 'atomic_dict_value{page=\"home\"} 3' '$W/prom' &&
	 grep -qx 'atomic_dict_value{page=\"login\"} 0' '$W/prom' && [ \$(grep -vc '^#' '$W/prom') -eq 2 ]"
printf '7 home\n' >"$W/badmap"
expect 2 "not as many words as the table's keys" "a map key of the wrong width: exit 2" \
	"$A" export --prometheus -F "$W/narrow.adict" --map "$W/badmap"

expect 0 "" "watch -F on a composite table" "$A" watch -F "$W/narrow.adict" --interval 0.01 --count 1

# Damage particular to version 2
bad() {
	src=$1; how=$2; pat=$3
	$DUMPFMT corrupt "$W/$src.adict" "$W/bad-$src-$how" "$how"
	expect 6 "$pat" "refused: $src, $how" "$A" dump --verify "$W/bad-$src-$how"
}
bad narrow version3 "format version 3; this adictctl reads versions 1 and 2"
bad narrow geometry "not a valid row geometry"
bad narrow last-word0 "pair 0: a key word 0"
bad narrow unsorted "pair 1: keys out of order or repeated"
bad set repeated "pair 1: keys out of order or repeated"
bad set half-pairs "truncated: 148 bytes, the header promises 196"
printf '# atomic-dict text dump 2\n# name: t\n# capacity: 9\n# mode: 0600\n# grant: 0\n# key: u64,u32\n# value: u32\n# count: 1\n7 1\n' >"$W/t1.txt"
expect 6 "t1.txt:9: bad key: not as many words" "text: a key of the wrong width, with its line" \
	"$A" dump --verify "$W/t1.txt"
printf '# atomic-dict text dump 2\n# name: t\n# capacity: 9\n# mode: 0600\n# grant: 0\n# key: u64,u32\n# value: u32\n# count: 1\n7,1 4294967296\n' >"$W/t2.txt"
expect 6 "bad value: a decimal or 0x number below 2\^32" "text: a u32 value of 2^32" \
	"$A" dump --verify "$W/t2.txt"
printf '# atomic-dict text dump 2\n# name: t\n# capacity: 9\n# mode: 0600\n# grant: 0\n# key: u32,u64\n# value: u32\n# count: 0\n' >"$W/t3.txt"
expect 6 "bad key: u64 and u32 words, u64 first" "text: u32 words before u64 ones" \
	"$A" dump --verify "$W/t3.txt"
printf '# atomic-dict text dump 3\n' >"$W/t4.txt"
expect 6 "text dump version unknown" "text: an unknown version" "$A" dump --verify "$W/t4.txt"
printf '# atomic-dict text dump 2\n# name: t\n# capacity: 9\n# mode: 0600\n# grant: 0\n# key: u64\n# value: none\n# count: 1\n7 1\n' >"$W/t5.txt"
expect 6 "the table is a set, with no value" "text: a value in a set" "$A" dump --verify "$W/t5.txt"

# Version 1 dumps: fixtures written by adictctl 1.0.0 (before format v2)
expect 0 "valid adictctl dump, version 1 \(binary\)" "v1 fixture: --verify reads version 1" \
	"$A" dump --verify "$FIX/v1-counters.adict"
expect 0 "key: +u64" "v1 fixture: one u64 key word" "$A" dump --verify "$FIX/v1-counters.adict"
expect 0 "4 keys restore" "v1 fixture: load --backend memfd restores its 4 keys" \
	"$A" load --backend memfd "$FIX/v1-counters.adict"
expect 0 "^3$" "v1 fixture: get -F reads its values" "$A" get -F "$FIX/v1-counters.adict" 42
"$A" dump -F "$FIX/v1-counters.adict" -o "$W/from-v1.adict" 2>/dev/null
check "v1 fixture: dump -F writes it as version 2, the same pairs" sh -c \
	"$DUMPFMT read '$W/from-v1.adict' | tail -n +2 >'$W/a' &&
	 $DUMPFMT read '$FIX/v1-counters.adict' | tail -n +2 >'$W/b' && cmp '$W/a' '$W/b' &&
	 $DUMPFMT read '$W/from-v1.adict' | head -n 1 | grep -q 'key64=1 key32=0 value_bytes=8'"
expect 0 "valid adictctl dump, version 1 \(text\)" "v1 text fixture: --verify reads it" \
	"$A" dump --verify "$FIX/v1-counters.txt"
"$A" dump -F "$FIX/v1-counters.txt" -o "$W/from-v1-text.adict" 2>/dev/null
check "v1 text fixture: the same table as the v1 binary fixture" \
	cmp "$W/from-v1.adict" "$W/from-v1-text.adict"
$DUMPFMT write1 "$W/v1.adict" 10 t 600 1=2
$DUMPFMT corrupt "$W/v1.adict" "$W/v1-reserved" reserved
expect 6 "reserved fields set" "a version 1 dump with a reserved field set is refused" \
	"$A" dump --verify "$W/v1-reserved"
finish
