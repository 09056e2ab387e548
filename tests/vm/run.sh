#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/vm/run.sh [check|fuzz]: the VM harness behind `make check-vm` and
# `make fuzz`.  See Documentation/testing.rst.
#
#   check  stock Debian kernel: every device kselftest;
#          debug kernel (KASAN, lockdep, kmemleak, KUnit): KUnit, every
#          device kselftest again, the fuzzer at CI size, a kmemleak scan.
#   fuzz   debug kernel only: the fuzzer at a long count, then kmemleak.
#
# Environment:
#   ADICT_CACHE        cache root (default /var/cache/adict)
#   ADICT_VM_OUT       per-run build products (default <repo>/build/vm)
#   ADICT_VM_KERNELS   "stock debug" (default), or one of them
#   ADICT_VM_TESTS     only these kselftest binaries, e.g. "mmap ioctl"
#   ADICT_SEED         fuzzer seed (default: time); printed either way
#   ADICT_FUZZ_ITERS   operations per fuzz process (check: 20000, fuzz: 200000)
#   ADICT_FUZZ_PROCS   fuzz processes (default 4)
#   ADICT_VM_TIMEOUT   host-side limit per VM in seconds
#   V=1                stream the VM consoles
#
# Everything downloaded or built from the kernel is cached under
# $ADICT_CACHE, keyed by package version and config:
#   src/<linux-source version>/              extracted source tree
#   debs/                                   apt-get download scratch
#   stock/<abi>-<version>/vmlinuz           Debian's stock kernel
#   debug/<source version>-<config key>/    debug kernel build tree (O=)
# The per-run products (module copies, test binaries, initramfs, console
# logs) go under $ADICT_VM_OUT.
#
# Exit status: 0 when every test passed and no kernel splat was seen.

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/tests/vm
CACHE=${ADICT_CACHE:-/var/cache/adict}
OUT=${ADICT_VM_OUT:-$REPO/build/vm}
MODE=${1:-check}
KINDS=${ADICT_VM_KERNELS:-stock debug}
ONLY=${ADICT_VM_TESTS:-}
SEED=${ADICT_SEED:-$(date +%s)}
FUZZ_PROCS=${ADICT_FUZZ_PROCS:-4}
VM_MEM=${ADICT_VM_MEM:-2G}
case $MODE in
check) FUZZ_ITERS=${ADICT_FUZZ_ITERS:-20000} ;;
fuzz)  FUZZ_ITERS=${ADICT_FUZZ_ITERS:-200000}; KINDS=debug ;;
*) echo "usage: $0 [check|fuzz]" >&2; exit 2 ;;
esac

T_START=$(date +%s.%N)
PH_NAMES=()
PH_SECS=()
FAILS=()		# "kind: step: text" lines for the summary
declare -A NPASS NFAIL NSKIP
TOTAL_PASS=0
TOTAL_FAIL=0
TOTAL_SKIP=0

log() { printf '[vm] %s\n' "$*" >&2; }
die() { log "FATAL: $*"; FAILS+=("setup: $*"); TOTAL_FAIL=$((TOTAL_FAIL + 1)); summary; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# phase NAME CMD...: run CMD, record its wall time under NAME.
phase() {
	local name=$1 t0 rc
	shift
	t0=$(now)
	"$@"
	rc=$?
	PH_NAMES+=("$name")
	PH_SECS+=("$(secs "$t0" "$(now)")")
	return $rc
}

infra_fail() {	# kind, what: a failure that is not a test case
	FAILS+=("$1: $2")
	NFAIL[$1]=$(( ${NFAIL[$1]:-0} + 1 ))
	TOTAL_FAIL=$((TOTAL_FAIL + 1))
}

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
PKGS="qemu-system-x86 busybox-static cpio flex bison bc libelf-dev libssl-dev
linux-source-6.1 dwarves rsync kmod liburing-dev linux-headers-amd64 gcc make
libc6-dev xz-utils util-linux python3 python3-dev"

APT_UPDATED=0
apt_update_once() {
	[ $APT_UPDATED = 1 ] && return 0
	log "apt-get update"
	apt-get update -qq >&2 || return 1
	APT_UPDATED=1
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

ensure_pkgs() {
	local missing=() p
	for p in "$@"; do
		installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		log "missing packages: ${missing[*]} (run as root, or install them)"
		return 1
	fi
	apt_update_once || return 1
	log "apt-get install ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
}

deps() {
	# shellcheck disable=SC2086
	ensure_pkgs $PKGS || return 1
	# The headers the stock module is built against name the stock kernel.
	ABI=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	      grep -o 'linux-headers-[0-9.]*-[0-9]*-amd64' | head -n1)
	ABI=${ABI#linux-headers-}
	[ -n "$ABI" ] || { log "cannot derive the kernel ABI from linux-headers-amd64"; return 1; }
	ensure_pkgs "linux-headers-$ABI" || return 1
	HVER=$(dpkg-query -W -f='${Version}' "linux-headers-$ABI")
	KDIR_STOCK=/usr/src/linux-headers-$ABI
	SVER=$(dpkg-query -W -f='${Version}' linux-source-6.1)
	log "stock kernel $ABI ($HVER); linux-source-6.1 $SVER; cache $CACHE"
}

# ---------------------------------------------------------------------------
# Cached inputs: stock kernel image, source tree, debug kernel
# ---------------------------------------------------------------------------
stock_image() {
	STOCK_DIR=$CACHE/stock/$ABI-$HVER
	STOCK_KERNEL=$STOCK_DIR/vmlinuz
	[ -f "$STOCK_KERNEL" ] && return 0
	local pkg=linux-image-$ABI deb tmp
	mkdir -p "$CACHE/debs" "$CACHE/stock" || return 1
	log "downloading $pkg=$HVER"
	if ! (cd "$CACHE/debs" && apt-get download -qq "$pkg=$HVER" >&2 2>/dev/null); then
		apt_update_once || return 1
		(cd "$CACHE/debs" && apt-get download -qq "$pkg=$HVER" >&2) || return 1
	fi
	deb=$(ls "$CACHE/debs/${pkg}_"*.deb | head -n1)
	tmp=$(mktemp -d "$CACHE/stock/.tmp.XXXXXX") || return 1
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp" "./boot/vmlinuz-$ABI" "./boot/config-$ABI" || return 1
	mv "$tmp/boot/vmlinuz-$ABI" "$tmp/vmlinuz"
	mv "$tmp/boot/config-$ABI" "$tmp/config"
	rmdir "$tmp/boot"
	rm -rf "$STOCK_DIR"
	mv "$tmp" "$STOCK_DIR" && rm -f "$deb"
}

source_tree() {
	SRC=$CACHE/src/$SVER
	KSFT_DIR=$SRC/tools/testing/selftests
	[ -f "$SRC/.adict-source-version" ] && return 0
	local tar=/usr/src/linux-source-6.1.tar.xz tmp
	mkdir -p "$CACHE/src" || return 1
	exec 8>"$CACHE/src/.lock"
	flock 8
	if [ ! -f "$SRC/.adict-source-version" ]; then
		log "extracting $tar (about 15 s)"
		tmp=$(mktemp -d "$CACHE/src/.tmp.XXXXXX") || return 1
		tar -xJf "$tar" -C "$tmp" || return 1
		rm -rf "$SRC"
		mv "$tmp/linux-source-6.1" "$SRC" && rmdir "$tmp"
		echo "$SVER" > "$SRC/.adict-source-version"
	fi
	exec 8>&-
}

debug_kernel() {
	DBG=$("$HERE/kernel.sh" "$SRC" "$CACHE/debug" "$HERE/debug.config" | tail -n1)
	[ -n "$DBG" ] && [ -f "$DBG/arch/x86/boot/bzImage" ] || return 1
	DEBUG_KERNEL=$DBG/arch/x86/boot/bzImage
}

# ---------------------------------------------------------------------------
# Build products of this run
# ---------------------------------------------------------------------------

# A private copy of kmod/ (+ the headers it includes) per kernel, so the two
# builds never share objects and nothing is built inside the repository.
kmod_copy() {
	local d=$OUT/kmod-$1 x
	mkdir -p "$d/lib" || return 1
	for x in kmod uapi lib/include; do
		rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.cmd' \
			--exclude='*.mod' --exclude='*.mod.c' --exclude='.*.d' \
			--exclude=Module.symvers --exclude=modules.order \
			"$REPO/$x/" "$d/$x/" || return 1
	done
	echo "$d/kmod"
}

kmod_stock() {
	local m
	[ -f "$REPO/kmod/Kbuild" ] || [ -f "$REPO/kmod/Makefile" ] ||
		{ log "kmod/ has no Kbuild or Makefile yet"; return 1; }
	m=$(kmod_copy stock) || return 1
	make -C "$KDIR_STOCK" M="$m" modules > "$OUT/kmod-stock.log" 2>&1 ||
		{ tail -n 30 "$OUT/kmod-stock.log" >&2; return 1; }
	KO_STOCK=$m/atomic_dict.ko
	[ -f "$KO_STOCK" ]
}

kmod_debug() {
	local m
	m=$(kmod_copy debug) || return 1
	make -C "$SRC" O="$DBG" M="$m" modules > "$OUT/kmod-debug.log" 2>&1 ||
		{ tail -n 30 "$OUT/kmod-debug.log" >&2; return 1; }
	KO_DEBUG=$m/atomic_dict.ko
	KO_KUNIT=$m/atomic_dict_kunit.ko
	[ -f "$KO_DEBUG" ] || return 1
	[ -f "$KO_KUNIT" ] || log "warning: atomic_dict_kunit.ko was not built"
	return 0
}

# Static builds of the user tools that run in the VM: adictctl (with
# tests/vm/adictctl-vm.sh), adict-kbench (ioctl vs io_uring vs mmap), and
# the host stress test run on device tables (ADICT_TEST_DEVICE=1).
vm_tools() {
	local cc="cc -std=gnu11 -O2 -D_GNU_SOURCE -DADICT_HAVE_LIBURING -I$REPO/uapi -I$REPO/lib/include"
	local lib="$REPO/lib/adict.c $REPO/lib/adict-uring.c"
	$cc -static -o "$OUT/bin/adictctl" "$REPO"/tools/adictctl*.c $lib -luring &&
	$cc -static -I"$REPO/tools" -o "$OUT/bin/adict-kbench" "$REPO/tools/adict-kbench.c" $lib -luring &&
	$cc -static -I"$REPO/tests/host" -o "$OUT/bin/test_stress" "$REPO/tests/host/test_stress.c" $lib -luring -pthread &&
	cp "$HERE/adictctl-vm.sh" "$OUT/bin/adictctl-vm.sh"
}

# The atomic_dict Python package and its tests, for Debian's python3 (the
# interpreter the VM gets): named tables on the device, run in the stock VM.
VM_PY=/usr/bin/python3
vm_python() {
	local d=$OUT/py inc suffix
	inc=$($VM_PY -c 'import sysconfig; print(sysconfig.get_paths()["include"])') &&
	suffix=$($VM_PY -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))') &&
	[ -f "$inc/Python.h" ] || { log "no Python.h for $VM_PY (python3-dev)"; return 1; }
	rm -rf "$d" && mkdir -p "$d/atomic_dict" &&
	cc -std=gnu11 -O2 -D_GNU_SOURCE -DADICT_HAVE_LIBURING -DADICT_API= \
		-DATOMIC_DICT_VERSION="\"$(make -s -C "$REPO" print-version)\"" \
		-fPIC -shared -fvisibility=hidden -I"$REPO/uapi" -I"$REPO/lib/include" \
		-I"$REPO/lib" -I"$inc" -o "$d/atomic_dict/_atomic_dict$suffix" \
		"$REPO/lib/python/_atomic_dict.c" "$REPO/lib/adict.c" \
		"$REPO/lib/adict-uring.c" -luring &&
	cp "$REPO"/lib/python/src/atomic_dict/* "$d/atomic_dict/" &&
	cp -r "$REPO/lib/python/tests" "$d/tests"
}

# copy_libs ROOT FILE...: the shared libraries FILEs load, at their paths.
copy_libs() {
	local root=$1 lib
	shift
	for lib in $(ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(0x/ { print $1 }' | sort -u); do
		mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return 1
	done
}

# python_root ROOT: Debian's python3 with the standard library the tests
# use (about 13 MB; no test suite, Tk, IDLE or build config), and the package.
python_root() {
	local root=$1 exe stdlib
	exe=$(readlink -f "$VM_PY") &&
	stdlib=$($VM_PY -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])') || return 1
	mkdir -p "$root/usr/bin" "$root$stdlib" "$root/lib/adict" &&
	cp "$exe" "$root/usr/bin/python3" &&
	rsync -a --exclude=__pycache__ --exclude=/test --exclude=/idlelib \
		--exclude=/tkinter --exclude=/turtledemo --exclude=/ensurepip \
		--exclude=/lib2to3 --exclude=/pydoc_data --exclude=/distutils \
		--exclude='/config-*' --exclude=/site-packages \
		--exclude=/dist-packages "$stdlib/" "$root$stdlib/" &&
	cp -r "$OUT/py" "$root/lib/adict/py" &&
	copy_libs "$root" "$exe" "$stdlib"/lib-dynload/*.so "$OUT"/py/atomic_dict/*.so
}

selftests() {
	make -s -j"$(nproc)" -C "$REPO/tests/selftests" KSFT_DIR="$KSFT_DIR" OUT="$OUT/bin" \
		> "$OUT/selftests.log" 2>&1 || { cat "$OUT/selftests.log" >&2; return 1; }
	vm_tools >> "$OUT/selftests.log" 2>&1 || { cat "$OUT/selftests.log" >&2; return 1; }
	vm_python >> "$OUT/selftests.log" 2>&1 || { cat "$OUT/selftests.log" >&2; return 1; }
	TESTS=$(make -s -C "$REPO/tests/selftests" KSFT_DIR=. print-tests)
	if [ -n "$ONLY" ]; then
		# In ADICT_VM_TESTS order; a name that is not a listed test but
		# an executable in $OUT/bin (a scratch program) is run too.
		local t keep=""
		for t in $ONLY; do
			case " $TESTS " in
			*" $t "*) keep="$keep $t" ;;
			*) [ -x "$OUT/bin/$t" ] && keep="$keep $t" ||
				log "ADICT_VM_TESTS: no test named $t" ;;
			esac
		done
		TESTS=$keep
	fi
}

# initramfs KIND KO [KUNIT_KO]: write $OUT/initramfs-KIND.cpio and the plan.
initramfs() {
	local kind=$1 ko=$2 kunit=${3:-} root=$OUT/initramfs-$kind t plan steps
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,etc/adict,lib/adict,proc,sys,dev,tmp,run} || return 1
	cp /bin/busybox "$root/bin/busybox"
	cp "$HERE/init.sh" "$root/init"
	cp "$OUT"/bin/* "$root/bin/"
	cp "$ko" "$root/lib/adict/"
	[ -n "$kunit" ] && [ -f "$kunit" ] && cp "$kunit" "$root/lib/adict/"
	plan=$root/etc/adict/plan
	steps="insmod"
	: > "$plan"
	if [ "$kind" = debug ] && [ "$MODE" = check ]; then
		echo "kunit atomic_dict_kunit 300" >> "$plan"
		steps="$steps atomic_dict_kunit"
	fi
	if [ "$MODE" = check ]; then
		for t in $TESTS; do
			[ "$t" = unload ] && continue
			echo "ksft $t 600 /bin/$t" >> "$plan"
			steps="$steps $t"
		done
	fi
	if [ "$kind" = stock ] && [ "$MODE" = check ] && [ -z "$ONLY" ]; then
		echo "ksft adictctl 300 /bin/sh /bin/adictctl-vm.sh /bin/adictctl" >> "$plan"
		echo "ksft kbench 300 /bin/adict-kbench -t" >> "$plan"
		# libadict's device backend under the host stress test's load
		echo "ksft libadict-stress 300 env ADICT_TEST_DEVICE=1 /bin/test_stress" >> "$plan"
		steps="$steps adictctl kbench libadict-stress"
	fi
	if [ "$MODE" = check ] && [ -z "$ONLY" ]; then
		# the Python package against the device (test_device.py runs here)
		echo "ksft python 900 env PYTHONPATH=/lib/adict/py /usr/bin/python3 /lib/adict/py/tests/run.py --tap" >> "$plan"
		steps="$steps python"
		python_root "$root" || return 1
	fi
	if [ "$kind" = debug ]; then
		echo "ksft fuzz $((300 + FUZZ_ITERS / 100)) /bin/fuzz -s $SEED -i $FUZZ_ITERS -p $FUZZ_PROCS" >> "$plan"
		steps="$steps fuzz"
	fi
	if [ "$MODE" = check ] && [[ " $TESTS " == *" unload "* ]]; then
		echo "ksft unload 300 /bin/unload" >> "$plan"
		steps="$steps unload"
	fi
	if [ "$kind" = debug ]; then
		echo "kmemleak kmemleak 600" >> "$plan"
		steps="$steps kmemleak"
	fi
	printf 'ADICT_KIND=%s\nADICT_SEED=%s\n' "$kind" "$SEED" > "$root/etc/adict/env"
	echo "$steps" > "$OUT/steps-$kind"
	(cd "$root" && find . | cpio -o -H newc --quiet) > "$OUT/initramfs-$kind.cpio"
}

# ---------------------------------------------------------------------------
# Running a VM and judging its console
# ---------------------------------------------------------------------------

QPID=
# An interrupted run takes its VM down with it.
on_exit() { [ -n "$QPID" ] && kill "$QPID" 2>/dev/null; }
trap on_exit EXIT
trap 'exit 130' INT TERM

# vm KIND KERNEL TIMEOUT: boot, run the plan, parse the console.
vm() {
	local kind=$1 kernel=$2 tmo=$3 log=$OUT/console-$kind.log rc qpid
	local append="console=ttyS0 panic=-1 oops=panic quiet"
	log "booting the $kind kernel ($kernel); limit ${tmo}s; log $log"
	: > "$log"
	timeout -k 10 "$tmo" qemu-system-x86_64 -accel tcg,thread=multi -smp 2 \
		-m "$VM_MEM" -bios /usr/share/qemu/qboot.rom -nodefaults \
		-nographic -serial stdio -no-reboot \
		-kernel "$kernel" -initrd "$OUT/initramfs-$kind.cpio" \
		-append "$append" < /dev/null > "$log" 2>&1 &
	qpid=$!
	QPID=$qpid
	if [ "${V:-0}" = 1 ]; then
		tail -n +1 -f --pid=$qpid "$log" >&2 &
	else
		tail -n +1 -f --pid=$qpid "$log" 2>/dev/null | awk -v k="$kind" '
			/^@@ADICT END / { printf "[vm]   %-6s %-22s %s %s\n", k, $3, $4, $5; fflush() }
			/^@@ADICT BOOT / { printf "[vm]   %-6s booted: %s\n", k, $0; fflush() }' >&2 &
	fi
	wait $qpid
	rc=$?
	QPID=
	sleep 0.5
	[ $rc = 124 ] && log "$kind VM hit the ${tmo}s limit"
	judge "$kind" "$log"
}

judge() {
	local kind=$1 log=$2 rec step a b c d
	local parsed=$OUT/results-$kind.tsv
	local splats=0 leaks=0 done=0
	awk -v expect="$(cat "$OUT/steps-$kind")" -v kunit="atomic_dict_kunit" \
		-f "$HERE/parse.awk" "$log" > "$parsed"
	NPASS[$kind]=0; NFAIL[$kind]=0; NSKIP[$kind]=0
	while IFS=$'\t' read -r rec step a b c d; do
		case $rec in
		CASE)
			case $a in
			pass) NPASS[$kind]=$(( ${NPASS[$kind]} + 1 )) ;;
			skip) NSKIP[$kind]=$(( ${NSKIP[$kind]} + 1 )) ;;
			*)    NFAIL[$kind]=$(( ${NFAIL[$kind]} + 1 ))
			      FAILS+=("$kind: $step: $b") ;;
			esac ;;
		NOTE)  FAILS+=("$kind: $step: $a") ;;
		SPLAT) splats=$((splats + 1))
		       [ $splats -le 20 ] && FAILS+=("$kind: splat during $step: $a") ;;
		LEAK)  leaks=$((leaks + 1)) ;;
		DONE)  done=$step ;;
		esac
	done < "$parsed"
	# The kernel log must be clean: one check per kernel.
	if [ $splats = 0 ]; then
		NPASS[$kind]=$(( ${NPASS[$kind]} + 1 ))
	else
		NFAIL[$kind]=$(( ${NFAIL[$kind]} + 1 ))
		FAILS+=("$kind: $splats kernel log lines matched BUG/WARNING/KASAN/lockdep/Oops/kmemleak")
	fi
	if [ $leaks != 0 ]; then
		log "kmemleak report ($kind):"
		grep $'^LEAK\t' "$parsed" | cut -f2 | head -n 60 >&2
	fi
	if [ "$done" != 1 ]; then
		FAILS+=("$kind: the VM did not reach the end of its plan")
		log "last 60 console lines ($kind):"
		tail -n 60 "$log" >&2
	fi
	TOTAL_PASS=$((TOTAL_PASS + ${NPASS[$kind]}))
	TOTAL_FAIL=$((TOTAL_FAIL + ${NFAIL[$kind]}))
	TOTAL_SKIP=$((TOTAL_SKIP + ${NSKIP[$kind]}))
	log "$kind: ${NPASS[$kind]} passed, ${NFAIL[$kind]} failed, ${NSKIP[$kind]} skipped"
}

summary() {
	local i k
	echo
	echo "==== atomic-dict VM tests ($MODE, seed $SEED) ===="
	for k in $KINDS; do
		[ -n "${NPASS[$k]:-}${NFAIL[$k]:-}" ] || continue
		printf '%-6s kernel: %d passed, %d failed, %d skipped\n' "$k" \
			"${NPASS[$k]:-0}" "${NFAIL[$k]:-0}" "${NSKIP[$k]:-0}"
	done
	for k in $KINDS; do
		[ -f "$OUT/results-$k.tsv" ] || continue
		echo "slowest steps ($k):"
		awk -F'\t' '$1 == "STEP" { printf "%s\t%s\t%s\n", $4, $2, $3 }' \
			"$OUT/results-$k.tsv" | sort -t$'\t' -k1,1 -rn | head -n 12 |
			awk -F'\t' '{ printf "  %-22s %7ss rc=%s\n", $2, $1, $3 }' 
	done
	if [ ${#FAILS[@]} -gt 0 ]; then
		echo "failures:"
		for i in "${FAILS[@]}"; do echo "  $i"; done
	fi
	echo "timing:"
	for i in "${!PH_NAMES[@]}"; do
		printf '  %-14s %7ss\n' "${PH_NAMES[$i]}" "${PH_SECS[$i]}"
	done
	printf '  %-14s %7ss\n' total "$(secs "$T_START" "$(now)")"
	echo "logs: $OUT/console-*.log"
	echo "$TOTAL_PASS passed, $TOTAL_FAIL failed, $TOTAL_SKIP skipped"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
mkdir -p "$OUT" "$CACHE" || exit 1
rm -f "$OUT"/results-*.tsv "$OUT"/console-*.log "$OUT"/steps-*
log "mode $MODE, kernels: $KINDS, seed $SEED, fuzz ${FUZZ_PROCS}x$FUZZ_ITERS"

phase deps deps || die "package setup failed"
phase source source_tree || die "extracting linux-source-6.1 failed"
phase selftests selftests || die "building the device tests failed"

for kind in $KINDS; do
	case $kind in
	stock)
		if ! phase stock-image stock_image; then
			infra_fail stock "downloading the stock kernel failed"; continue
		fi
		if ! phase kmod-stock kmod_stock; then
			infra_fail stock "building atomic_dict.ko against $KDIR_STOCK failed (log $OUT/kmod-stock.log)"; continue
		fi
		phase initramfs-stock initramfs stock "$KO_STOCK" || { infra_fail stock "initramfs"; continue; }
		phase vm-stock vm stock "$STOCK_KERNEL" "${ADICT_VM_TIMEOUT:-1200}"
		;;
	debug)
		if ! phase debug-kernel debug_kernel; then
			infra_fail debug "building the debug kernel failed"; continue
		fi
		if ! phase kmod-debug kmod_debug; then
			infra_fail debug "building the modules against the debug kernel failed (log $OUT/kmod-debug.log)"; continue
		fi
		phase initramfs-debug initramfs debug "$KO_DEBUG" "$KO_KUNIT" || { infra_fail debug "initramfs"; continue; }
		phase vm-debug vm debug "$DEBUG_KERNEL" \
			"${ADICT_VM_TIMEOUT:-$((1500 + FUZZ_ITERS / 50))}"
		;;
	*)
		die "unknown kernel kind $kind"
		;;
	esac
done

summary
[ "$TOTAL_FAIL" = 0 ] && [ "$TOTAL_PASS" -gt 0 ]
