#!/bin/sh
# SPDX-License-Identifier: MIT
# list reads the module's /proc listing (ADICTCTL_PROC points it at a copy
# in the format kmod/atomic_dict.c prints).
. "$(dirname "$0")/lib.sh"

cat >"$W/proc" <<'P'
id name state uid gid mode capacity used bytes users
1 counters named 0 0 0660 1000 250 20480 2
2 - anon 1000 1000 0600 10 0 8192 1
3 old unlinked 0 0 0600 10 10 8192 1
P
expect 0 "^ *1 +counters +named +root +root +0660 +1000 +250 +25\.0% +20\.0 KiB +2 +- +-$" \
	"a named table: user and group names, its use, human size" \
	env ADICTCTL_PROC="$W/proc" "$A" list
expect 0 "^ *2 +- +anon " "an anonymous table" env ADICTCTL_PROC="$W/proc" "$A" list
expect 0 "^ *3 +old +unlinked " "an unlinked table still in use" env ADICTCTL_PROC="$W/proc" "$A" list
expect 0 "^ID +NAME +STATE +USER +GROUP +MODE +CAPACITY +USED +USE +SIZE +USERS +KEY +VALUE$" \
	"a header" env ADICTCTL_PROC="$W/proc" "$A" list
expect 0 '"mode": "0660", "key": null, "value": null, "capacity": 1000' \
	"list --json: no geometry (null) where the table cannot be attached, here without the device" \
	env ADICTCTL_PROC="$W/proc" "$A" list --json

# Long names, big numbers and unknown ids widen their columns: every line
# has its fields where the header has its titles.
N=$(printf 'n%062d' 0)
cat >"$W/wide" <<P
id name state uid gid mode capacity used bytes users
1 $N named 0 0 0660 1099511627776 1 17592186044416 2
22 s named 4294967294 4294967294 0600 10 0 8192 1
P
env ADICTCTL_PROC="$W/wide" "$A" list >"$W/out" 2>"$W/err"
check "long names keep the columns aligned" /usr/bin/python3 -c "
import sys
lines = open(sys.argv[1]).read().splitlines()
hdr = lines[0]
ends = [hdr.index(t) + len(t) for t in ('CAPACITY', 'USED', 'USERS')]
starts = [hdr.index(t) for t in ('KEY', 'VALUE')]
for l in lines[1:]:
    for e in ends:
        assert l[e - 1] != ' ' and l[e] == ' ', (l, e)
    for b in starts:
        assert l[b - 1] == ' ' and l[b] != ' ', (l, b)
    assert l == l.rstrip(), l
" "$W/out"
check "a uid without a name shows the number" grep -q " 4294967294 " "$W/out"
check "16 TiB in binary units" grep -q "16.0 TiB" "$W/out"
check "the module's header line is not shown as a table" \
	sh -c "[ \$(grep -c '^id' '$W/out') -eq 0 ]"

printf 'id name state uid gid mode capacity used bytes users\n\n' >"$W/empty"
expect 0 "^ID" "no tables: just the header" env ADICTCTL_PROC="$W/empty" "$A" list
check "... and no rows" sh -c "[ \$(wc -l < '$W/out') -eq 1 ]"
printf '1 counters named 0 0\n' >"$W/short"
expect 9 "short:1: unexpected line" "a line in an unknown format" \
	env ADICTCTL_PROC="$W/short" "$A" list
expect 2 "unexpected argument 'x'" "list takes no table" "$A" list x
finish
