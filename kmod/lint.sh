#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmod/lint.sh [all]: the kernel's own static checkers on the module, with
# the kernel trees of the VM harness's cache ($ADICT_CACHE, default
# /var/cache/adict), fetched there as `make check-vm` fetches them when
# missing (tests/vm/run.sh trees).  `make check-static` (part of `make
# check`, beside the host suites) runs checkpatch and sparse; `make lint`
# (kmod/lint.sh all) adds coccicheck, which is too slow for every run (73
# semantic patches through spatch: well over the 3 minutes make check can
# spare on 2 cores).
#
#   checkpatch  scripts/checkpatch.pl --strict of the newest line's source
#               tree on kmod/ and uapi/: no ERROR, and each WARNING or CHECK
#               must be listed, type and file, in Documentation/testing.rst
#               ("Static checkers") with the reason it stays;
#   sparse      the module built with C=2 (every file through sparse)
#               against the headers of each stock Debian kernel of
#               tests/vm/kernels (6.1 and 6.12): no warning at all;
#   coccicheck  `make coccicheck MODE=report` of that source tree on a copy
#               of kmod/: no finding.
#
# Prints one line per checker and ends with "lint: N passed, N failed".

set -uo pipefail
WHAT=${1:-static}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${ADICT_CACHE:-/var/cache/adict}
DOC=$REPO/Documentation/testing.rst
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; }

if ! KERNELS=stock ADICT_CACHE=$CACHE "$REPO/tests/vm/run.sh" trees > "$TMP/trees" 2> "$TMP/trees.err"; then
	sed 's/^/#   /' "$TMP/trees.err"
	echo "lint: fetching the kernel trees into $CACHE failed (tests/vm/run.sh trees)" >&2
	echo "lint: 0 passed, 1 failed"
	exit 1
fi
SRC=$(awk '$1 == "source" { print $2 }' "$TMP/trees")
echo "# source tree: $SRC"

# A private copy of what the module is built from.
mod=$TMP/kmod
mkdir -p "$mod" && cp "$REPO"/kmod/Kbuild "$REPO"/kmod/*.c "$REPO"/kmod/*.h "$mod/"

# --- checkpatch --------------------------------------------------------------
# Allowed: "- checkpatch ``TYPE`` in ``file``: why" lines of testing.rst.
allowed=$(sed -n 's/^- checkpatch ``\([A-Z_]*\)`` in ``\([^`]*\)``:.*/\1 \2/p' "$DOC")
(cd "$REPO" && "$SRC/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--no-summary -f kmod/*.c kmod/*.h uapi/linux/*.h) > "$TMP/checkpatch" 2>&1
bad=0
while IFS= read -r line; do
	# file:line: LEVEL:TYPE: message
	file=${line%%:*}
	lvl=$(echo "$line" | sed -n 's/^[^:]*:[0-9]*: \([A-Z]*\):\([A-Z_0-9]*\):.*/\1 \2/p')
	[ -n "$lvl" ] || continue
	type=${lvl#* }
	if [ "${lvl%% *}" = ERROR ] || ! grep -qxF "$type $file" <<< "$allowed"; then
		echo "#   $line"
		bad=$((bad + 1))
	fi
done < "$TMP/checkpatch"
if [ $bad = 0 ]; then
	ok "checkpatch --strict: $(grep -c ': \(WARNING\|CHECK\):' "$TMP/checkpatch") findings, all listed in Documentation/testing.rst"
else
	not_ok "checkpatch --strict: $bad findings not listed in Documentation/testing.rst"
fi

# --- sparse C=2 ----------------------------------------------------------------
n=0
for kdir in $(awk '$1 != "source" { print $2 }' "$TMP/trees"); do
	n=$((n + 1))
	# The module and the headers it includes, laid out as in the tree, built
	# through a fixed alias, as tests/vm/run.sh's kmod() builds (kbuild
	# names the sources by that path, and make check's compiler cache keys
	# on it).  A make of its own: under make -j a parent's jobserver does
	# not reach it, and make's warning that says so is not sparse's.
	rm -rf "$TMP/sparse" && mkdir -p "$TMP/sparse/lib" "$CACHE/kbuild" &&
		cp -r "$mod" "$TMP/sparse/kmod" && cp -r "$REPO/uapi" "$TMP/sparse/uapi" &&
		cp -r "$REPO/lib/include" "$TMP/sparse/lib/include"
	# shellcheck disable=SC2016
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL flock "$CACHE/kbuild/sparse.lock" \
		sh -c 'ln -sfn "$1" "$2" && shift 2 && exec "$@"' sh "$TMP/sparse" "$CACHE/kbuild/sparse" \
		make -C "$kdir" M="$CACHE/kbuild/sparse/kmod" C=2 modules > "$TMP/sparse.log" 2>&1
	rc=$?
	if [ $rc = 0 ] && ! grep -E ': (warning|error):' "$TMP/sparse.log" > "$TMP/sparse.bad"; then
		ok "sparse C=2 against ${kdir##*/}: no warning"
	else
		sed 's/^/#   /' "$TMP/sparse.bad" 2>/dev/null
		[ $rc = 0 ] || tail -n 20 "$TMP/sparse.log" | sed 's/^/#   /'
		not_ok "sparse C=2 against ${kdir##*/}"
	fi
done
[ $n -gt 0 ] || not_ok "sparse: tests/vm/kernels lists no stock kernel"

# --- coccicheck -------------------------------------------------------------------
if [ "$WHAT" != all ]; then
	echo "lint: $pass passed, $fail failed"
	[ $fail = 0 ]
	exit
fi
t0=$(date +%s)
rm -rf "$TMP/cocci" && cp -r "$mod" "$TMP/cocci"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$SRC" coccicheck MODE=report M="$TMP/cocci" J="$(nproc)" > "$TMP/cocci.log" 2>&1
rc=$?
grep -E "^$TMP/cocci/[^:]+:[0-9]+:" "$TMP/cocci.log" > "$TMP/cocci.found"
if [ $rc = 0 ] && [ ! -s "$TMP/cocci.found" ]; then
	ok "coccicheck MODE=report: no finding ($(( $(date +%s) - t0 )) s)"
else
	sed "s|^$TMP/cocci/|#   kmod/|" "$TMP/cocci.found"
	[ $rc = 0 ] || grep -iE 'error|failed|not found' "$TMP/cocci.log" | head -n 10 | sed 's/^/#   /'
	not_ok "coccicheck MODE=report (exit $rc)"
fi

echo "lint: $pass passed, $fail failed"
[ $fail = 0 ]
