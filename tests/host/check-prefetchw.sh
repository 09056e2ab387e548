#!/bin/sh
# SPDX-License-Identifier: MIT
# make check-prefetchw: the write-intent prefetches are real PREFETCHW
# instructions (x86-64), where Documentation/bench.rst says they are:
#
#   1. adict_add_batch() (lib/adict.c, built with -mprfchw): PREFETCHW and
#      no read prefetch (a read prefetch brings the line shared);
#   2. the inline write operations, as ffi.c exports them (adict_add, _sub,
#      _and, _or, _xor, _swap, _store, _cas, _insert): each has a PREFETCHW
#      of the home bucket; the read operations (adict_load, adict_find)
#      have none (a reader must not take lines exclusive from writers);
#   3. the same inline code compiled WITHOUT -mprfchw, as a user's program
#      may be: adict_add still has PREFETCHW (adict/atomics.h writes the
#      instruction itself), and with -DADICT_NO_PREFETCHW it has none.
#
# Usage: tests/host/check-prefetchw.sh OBJDIR CC CPPFLAGS...
set -u
obj=$1 cc=$2
shift 2
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# count FILE FUNC: "<prefetchw> <read prefetches>" in FUNC's disassembly
count() {
	objdump -d --no-show-raw-insn "$1" |
	awk -v fn="$2" '$0 ~ "^[0-9a-f]+ <" fn ">:$" { f = 1; next }
		/^[0-9a-f]+ <.*>:$/ { f = 0 }
		f && /prefetchw/ { w++ } f && /prefetch(t[0-2]|nta)/ { r++ }
		END { printf "%d %d\n", w, r }'
}

# want FILE FUNC MIN_W MAX_W: MIN_W <= prefetchw <= MAX_W, no read prefetch
want() {
	set -- "$1" "$2" "$3" "$4" $(count "$1" "$2")
	if [ "$5" -lt "$3" ] || [ "$5" -gt "$4" ] || [ "$6" -ne 0 ]; then
		echo "check-prefetchw: $(basename "$1") $2: $5 prefetchw (want $3..$4), $6 read prefetches (want 0)"
		fail=1
	fi
}

want "$obj/adict.o" adict_add_batch 1 99
for f in adict_add adict_sub adict_and adict_or adict_xor adict_swap \
	 adict_store adict_cas adict_insert; do
	want "$obj/ffi.o" $f 1 99
done
for f in adict_load adict_find; do
	want "$obj/ffi.o" $f 0 0
done

cat >"$tmp/user.c" <<'EOC'
#include <adict.h>
int user_add(struct adict *t, __u64 k);
int user_add(struct adict *t, __u64 k) { return adict_add(t, k, 1, 0); }
EOC
"$cc" -std=gnu11 -O2 -D_GNU_SOURCE "$@" -mno-prfchw -c -o "$tmp/user.o" "$tmp/user.c" || fail=1
[ -f "$tmp/user.o" ] && want "$tmp/user.o" user_add 1 99
"$cc" -std=gnu11 -O2 -D_GNU_SOURCE "$@" -DADICT_NO_PREFETCHW -c -o "$tmp/user0.o" "$tmp/user.c" || fail=1
[ -f "$tmp/user0.o" ] && want "$tmp/user0.o" user_add 0 0

[ "$fail" -eq 0 ] && echo "check-prefetchw: adict_add_batch and the inline write ops have PREFETCHW (also without -mprfchw); reads have none"
exit "$fail"
