#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/vm/kernel.sh SRC OUT_PARENT FRAGMENT
#
# Build (or reuse) the debug test kernel from an extracted linux-source
# tree SRC (6.1 or 6.12).  FRAGMENT, then FRAGMENT's per-line companion if
# there is one (debug.config, then debug-6.1.config for a 6.1 source: the
# options one line spells differently), are merged into tinyconfig.  The build directory is OUT_PARENT/<source version>-<key>, where
# key is the first 16 hex digits of sha256(fragment + recipe below), so a
# changed fragment or recipe gets a fresh tree and an unchanged one is reused.
# A stamp file marks a finished build; an interrupted build is resumed
# (make is incremental).  One build at a time: the whole step runs under
# flock on OUT_PARENT/.build.lock.
#
# Prints the build directory on stdout as its last line; logs to
# <build dir>/build.log.
set -euo pipefail

SRC=$1
PARENT=$2
FRAG=$3
# Bump when the commands below change in a way that changes the result.
RECIPE="tinyconfig + merge_config.sh -m + olddefconfig; make bzImage modules; v1"

srcver=$(cat "$SRC/.adict-source-version" 2>/dev/null || basename "$SRC")
kline=$(echo "$srcver" | cut -d. -f1,2)
FRAGS=$FRAG
[ -f "${FRAG%.config}-$kline.config" ] && FRAGS="$FRAG ${FRAG%.config}-$kline.config"
# shellcheck disable=SC2086
key=$( { cat $FRAGS; echo "$RECIPE"; } | sha256sum | cut -c1-16)
OUT=$PARENT/$srcver-$key
mkdir -p "$PARENT"

# A finished build is used as it is: .adict-done is written last, so no
# lock is needed to read it (and a cached kernel never waits for a build of
# another one).
if [ -f "$OUT/.adict-done" ] && [ -f "$OUT/arch/x86/boot/bzImage" ]; then
	echo "$OUT"
	exit 0
fi

exec 9>"$PARENT/.build.lock"
if ! flock -n 9; then
	echo "kernel.sh: another debug kernel build is running; waiting for it" >&2
	flock 9
fi

if [ -f "$OUT/.adict-done" ] && [ -f "$OUT/arch/x86/boot/bzImage" ]; then
	echo "$OUT"
	exit 0
fi

mkdir -p "$OUT"
log=$OUT/build.log
echo "kernel.sh: building debug kernel in $OUT (log: $log); about 20 min on 2 cores" >&2
jobs=$(nproc)
# The kernel build is cached whole (its tree, above), so its thousands of
# objects stay out of make check's compiler cache (the Makefile, ccache).
export CCACHE_DISABLE=1
{
	if [ ! -f "$OUT/.adict-configured" ]; then
		make -C "$SRC" O="$OUT" tinyconfig
		# shellcheck disable=SC2086
		"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" $FRAGS
		make -C "$SRC" O="$OUT" olddefconfig
		# Every option the fragment asks for must have survived.
		missing=0
		while IFS= read -r line; do
			case $line in
			CONFIG_*=*)
				if ! grep -qx -- "$line" "$OUT/.config"; then
					echo "kernel.sh: fragment line not in .config: $line"
					missing=1
				fi ;;
			"# CONFIG_"*" is not set")
				opt=${line#\# }; opt=${opt%% *}
				if grep -q "^$opt=" "$OUT/.config"; then
					echo "kernel.sh: fragment wants $opt unset, .config has it set"
					missing=1
				fi ;;
			esac
		done < <(cat $FRAGS)
		[ $missing = 0 ] || exit 1
		cat $FRAGS > "$OUT/adict-fragment.config"
		touch "$OUT/.adict-configured"
	fi
	make -C "$SRC" O="$OUT" -j"$jobs" bzImage modules
} > "$log" 2>&1 || {
	echo "kernel.sh: debug kernel build failed; last lines of $log:" >&2
	tail -n 40 "$log" >&2
	exit 1
}
touch "$OUT/.adict-done"
echo "$OUT"
