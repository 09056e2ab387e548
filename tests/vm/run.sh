#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/vm/run.sh [check|fuzz]: the VM harness behind `make check-vm` and
# `make fuzz`.  See Documentation/testing.rst.
#
#   check  every kernel of tests/vm/kernels, ADICT_VM_JOBS VMs at a time:
#          stock and rt (Debian's images): every device kselftest, adictctl,
#          adict-kbench, the libadict stress test, the Python suite; on
#          stock, also the Debian packages (the deb-* steps: the module DKMS
#          built from atomic-dict-dkms for that kernel, the packaged
#          adictctl and Python package; tests/vm/deb-vm.sh);
#          debug (built from linux-source, KASAN, lockdep, kmemleak, UBSAN,
#          watchdogs, KUnit): KUnit, every device kselftest, the fuzzer at
#          CI size, a kmemleak scan.
#   fuzz   the debug kernels only: the fuzzer at a long count, then kmemleak.
#   headers  the stock and rt kernels only: fetch each one's headers into the
#          cache as a check run does, boot nothing, and print one line per
#          kernel, "<name> <headers dir>" (tests/host/deb/test_deb.sh builds
#          the packaged module against them with DKMS).
#   trees  the same, then the source tree of the newest line's debug kernel
#          (the last debug kernel listed), "source <dir>" (kmod/lint.sh:
#          sparse against the headers, checkpatch from the source).
#
# Environment:
#   KERNELS            kernel names or kinds from tests/vm/kernels, e.g.
#                      "6.12-debug" or "stock" (default: all of them);
#                      ADICT_VM_KERNELS is the same
#   ADICT_CACHE        cache root (default /var/cache/adict)
#   ADICT_VM_OUT       per-run build products (default <repo>/build/vm)
#   ADICT_VM_TESTS     only these kselftest binaries, e.g. "mmap ioctl";
#                      the name "deb" selects the deb-* steps
#   ADICT_VM_DEB       a directory of make deb's packages, taken as they
#                      are (default <repo>/build/deb, which this run brings
#                      up to date with make deb, as check-deb does)
#   ADICT_SEED         fuzzer seed (default: time); printed either way
#   ADICT_FUZZ_ITERS   operations per fuzz process (check: 20000, fuzz: 200000)
#   ADICT_FUZZ_PROCS   fuzz processes (default 4)
#   ADICT_VM_TIMEOUT   host-side limit per VM in seconds
#   ADICT_VM_JOBS      VMs booted at once (default 2)
#   V=1                stream the VM consoles
#
# Everything downloaded or built from the kernel is cached under
# $ADICT_CACHE, keyed by package version and config:
#   src/<linux-source version>/              extracted source tree
#   debs/                                   apt-get download scratch
#   image/<abi>_<version>/vmlinuz, config   a Debian kernel image, and
#   image/<abi>_<version>/root/usr/src/...  its headers (+ -common, kbuild)
#   debug/<source version>-<config key>/    debug kernel build tree (O=)
#   apt/                                    apt-cache's package cache
# The per-run products (module copies, test binaries, initramfs, console
# logs) go under $ADICT_VM_OUT.
#
# Exit status: 0 when every kernel passed (tests/vm/judge.sh says what
# that takes).

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/tests/vm
CACHE=${ADICT_CACHE:-/var/cache/adict}
OUT=${ADICT_VM_OUT:-$REPO/build/vm}
MODE=${1:-check}
SELECT=${KERNELS:-${ADICT_VM_KERNELS:-}}
ONLY=${ADICT_VM_TESTS:-}
WANT_DEB=1	# the deb-* steps on stock kernels (ADICT_VM_TESTS: "deb")
DEB_DIR=${ADICT_VM_DEB:-$REPO/build/deb}
SEED=${ADICT_SEED:-$(date +%s)}
FUZZ_PROCS=${ADICT_FUZZ_PROCS:-4}
VM_MEM=${ADICT_VM_MEM:-2G}
case $MODE in
check) FUZZ_ITERS=${ADICT_FUZZ_ITERS:-20000} ;;
fuzz)  FUZZ_ITERS=${ADICT_FUZZ_ITERS:-200000} ;;
headers|trees) FUZZ_ITERS=0 ;;
*) echo "usage: $0 [check|fuzz|headers|trees]" >&2; exit 2 ;;
esac

log() { printf '[vm] %s\n' "$*" >&2; }
# shellcheck source=tests/vm/judge.sh
. "$HERE/judge.sh"

T_START=$(date +%s.%N)
PH_NAMES=()
PH_SECS=()
declare -A K_SECS

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

infra_fail() {	# kernel, what: a failure that is not a test case
	FAILS+=("$1: $2")
	NFAIL[$1]=$(( ${NFAIL[$1]:-0} + 1 ))
	TOTAL_FAIL=$((TOTAL_FAIL + 1))
}

# ---------------------------------------------------------------------------
# The kernel list (tests/vm/kernels)
# ---------------------------------------------------------------------------
ALL_NAMES=()
declare -A K_KIND K_PKG
while read -r n k p; do
	case $n in ''|'#'*) continue ;; esac
	ALL_NAMES+=("$n"); K_KIND[$n]=$k; K_PKG[$n]=$p
done < "$HERE/kernels"
[ ${#ALL_NAMES[@]} -gt 0 ] || { echo "tests/vm/kernels lists no kernel" >&2; exit 1; }
NAMES=()
for n in "${ALL_NAMES[@]}"; do
	want=0
	if [ -z "$SELECT" ]; then
		want=1
	else
		for w in $SELECT; do
			[ "$w" = "$n" ] || [ "$w" = "${K_KIND[$n]}" ] && want=1
		done
	fi
	[ "$MODE" = fuzz ] && [ "${K_KIND[$n]}" != debug ] && want=0
	[ "$MODE" = headers ] || [ "$MODE" = trees ] &&
		[ "${K_KIND[$n]}" = debug ] && want=0
	[ $want = 1 ] && NAMES+=("$n")
done
for w in $SELECT; do
	case " ${ALL_NAMES[*]} stock rt debug " in
	*" $w "*) ;;
	*) echo "KERNELS: no kernel or kind named '$w' in tests/vm/kernels (${ALL_NAMES[*]})" >&2; exit 2 ;;
	esac
done
[ ${#NAMES[@]} -gt 0 ] || { echo "KERNELS='$SELECT' selects no kernel for $MODE" >&2; exit 2; }
# The kselftest harness comes from the first debug kernel's source.
KSFT_PKG=
for n in "${ALL_NAMES[@]}"; do
	[ "${K_KIND[$n]}" = debug ] && { KSFT_PKG=${K_PKG[$n]}; break; }
done
[ -n "$KSFT_PKG" ] || { echo "tests/vm/kernels has no debug kernel (its source gives the kselftest harness)" >&2; exit 1; }
# checkpatch comes from the newest line's source: the last debug kernel's.
LINT_PKG=
for n in "${ALL_NAMES[@]}"; do
	[ "${K_KIND[$n]}" = debug ] && LINT_PKG=${K_PKG[$n]}
done

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
PKGS="qemu-system-x86 busybox-static cpio flex bison bc libelf-dev libssl-dev
dwarves rsync kmod liburing-dev gcc make libc6-dev xz-utils util-linux python3
python3-dev dkms"

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
	ensure_pkgs $PKGS
}

# apt_cache ARGS...: apt-cache with its binary package cache kept in
# $CACHE/apt.  Debian's container images turn that cache off
# (Dir::Cache::pkgcache ""), and each apt-cache call then parses every
# package list again: about 1 s of CPU, against 0.1 s with the cache.
# apt rebuilds the file itself whenever a list is newer than it.
apt_cache() {
	mkdir -p "$CACHE/apt" &&
	apt-cache -o Dir::Cache::pkgcache="$CACHE/apt/pkgcache.bin" \
		-o Dir::Cache::srcpkgcache="$CACHE/apt/srcpkgcache.bin" "$@"
}

# newest_pkg REGEX: the newest package name apt-cache knows that matches.
newest_pkg() {
	local re=$1 prefix p
	prefix=${re%%[\\[]*}
	p=$(apt_cache pkgnames "$prefix" 2>/dev/null | grep -E "^($re)\$" | sort -V | tail -n1)
	if [ -z "$p" ]; then
		apt_update_once >/dev/null 2>&1 || return 1
		p=$(apt_cache pkgnames "$prefix" 2>/dev/null | grep -E "^($re)\$" | sort -V | tail -n1)
	fi
	[ -n "$p" ] && echo "$p"
}

# candidate PKG: the version apt would install.
candidate() {
	apt_cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

# download DIR PKG=VER...: apt-get download into DIR (run in a subshell).
download() {
	local dir=$1
	shift
	mkdir -p "$dir" || return 1
	(cd "$dir" && apt-get download -qq "$@" >&2 2>/dev/null) && return 0
	apt_update_once || return 1
	(cd "$dir" && apt-get download -qq "$@" >&2)
}

# ---------------------------------------------------------------------------
# Cached inputs: Debian images + headers, source trees, debug kernels
# ---------------------------------------------------------------------------

# image_unpack DEBS TMP PKG ABI: vmlinuz and config from the image package,
# the headers packages unpacked under TMP/root.
image_unpack() {
	local d=$1 tmp=$2 pkg=$3 abi=$4 x
	mkdir -p "$tmp/root" || return 1
	dpkg-deb --fsys-tarfile "$d/${pkg}_"*.deb |
		tar -x -C "$tmp" "./boot/vmlinuz-$abi" "./boot/config-$abi" || return 1
	mv "$tmp/boot/vmlinuz-$abi" "$tmp/vmlinuz" &&
	mv "$tmp/boot/config-$abi" "$tmp/config" &&
	rmdir "$tmp/boot" || return 1
	for x in "$d"/linux-headers-*.deb "$d"/linux-kbuild-*.deb; do
		dpkg-deb -x "$x" "$tmp/root" || return 1
	done
	rm -rf "$tmp/root/lib/modules"	# build/source links to /usr/src
}

# image NAME: sets IMG_KERNEL, IMG_KDIR, IMG_DESC for a stock or rt kernel:
# the newest image package of its line, with the headers to build against.
image() {
	local n=$1 pkg ver abi dir hdr deps tmp x p rc=1
	pkg=$(newest_pkg "${K_PKG[$n]}") ||
		{ log "$n: apt-cache knows no package matching ${K_PKG[$n]}"; return 1; }
	ver=$(candidate "$pkg")
	[ -n "$ver" ] || { log "$n: no candidate version of $pkg"; return 1; }
	abi=${pkg#linux-image-}
	hdr=linux-headers-$abi
	dir=$CACHE/image/${abi}_$ver
	IMG_KERNEL=$dir/vmlinuz
	IMG_KDIR=$dir/root/usr/src/$hdr
	IMG_DESC="$pkg $ver"
	[ -f "$dir/.adict-complete" ] && return 0
	mkdir -p "$CACHE/image" || return 1
	exec 7>"$CACHE/image/.lock"
	flock 7
	if [ -f "$dir/.adict-complete" ]; then
		exec 7>&-
		return 0
	fi
	# The headers, their arch-independent -common part and the kbuild
	# scripts: what apt would install with them, less the image itself.
	deps=$(apt_cache depends "$hdr=$ver" 2>/dev/null |
	       awk '$1 == "Depends:" && $2 ~ /^linux-(headers|kbuild)-/ { print $2 }')
	p="$pkg=$ver $hdr=$ver"
	for x in $deps; do p="$p $x=$ver"; done
	log "$n: downloading $p"
	tmp=$(mktemp -d "$CACHE/image/.tmp.XXXXXX") || { exec 7>&-; return 1; }
	# shellcheck disable=SC2086
	if [ -z "$deps" ]; then
		log "$n: cannot read the dependencies of $hdr=$ver"
	elif download "$tmp/debs" $p && image_unpack "$tmp/debs" "$tmp" "$pkg" "$abi"; then
		# The headers' Makefile includes the -common tree by its
		# absolute /usr/src path; every other link is relative.
		sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" \
			"$tmp/root/usr/src/$hdr/Makefile" &&
		rm -rf "$tmp/debs" "$dir" && mv "$tmp" "$dir" &&
		touch "$dir/.adict-complete" && rc=0
	fi
	rm -rf "$tmp"
	exec 7>&-
	return $rc
}

# source_tree PKG: sets SRC (and SRC_VER) to the extracted linux-source PKG
# at its candidate version.
source_tree() {
	local pkg=$1 ver tar tmp d
	ver=$(candidate "$pkg")
	[ -n "$ver" ] || { apt_update_once; ver=$(candidate "$pkg"); }
	[ -n "$ver" ] || { log "no candidate version of $pkg"; return 1; }
	SRC=$CACHE/src/$ver
	SRC_VER=$ver
	[ -f "$SRC/.adict-source-version" ] && return 0
	mkdir -p "$CACHE/src" || return 1
	exec 8>"$CACHE/src/.lock"
	flock 8
	if [ ! -f "$SRC/.adict-source-version" ]; then
		tmp=$(mktemp -d "$CACHE/src/.tmp.XXXXXX") || return 1
		tar=/usr/src/$pkg.tar.xz
		if [ "$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)" = "$ver" ] && [ -f "$tar" ]; then
			log "extracting $tar (about 15 s)"
			tar -xJf "$tar" -C "$tmp" || { rm -rf "$tmp"; exec 8>&-; return 1; }
		else
			d=$CACHE/debs/$pkg
			log "downloading and extracting $pkg $ver (about 30 s)"
			rm -rf "$d"
			download "$d" "$pkg=$ver" &&
			dpkg-deb --fsys-tarfile "$d/${pkg}_"*.deb |
				tar -xO "./usr/src/$pkg.tar.xz" | xz -dc | tar -x -C "$tmp" ||
				{ rm -rf "$tmp" "$d"; exec 8>&-; return 1; }
			rm -rf "$d"
		fi
		rm -rf "$SRC"
		mv "$tmp/$pkg" "$SRC" && rmdir "$tmp" &&
		echo "$ver" > "$SRC/.adict-source-version" || { exec 8>&-; return 1; }
	fi
	exec 8>&-
}

debug_kernel() {	# sets DBG, DEBUG_KERNEL from $SRC
	DBG=$("$HERE/kernel.sh" "$SRC" "$CACHE/debug" "$HERE/debug.config" | tail -n1)
	[ -n "$DBG" ] && [ -f "$DBG/arch/x86/boot/bzImage" ] || return 1
	DEBUG_KERNEL=$DBG/arch/x86/boot/bzImage
}

# ---------------------------------------------------------------------------
# Build products of this run
# ---------------------------------------------------------------------------

# A private copy of kmod/ (+ the headers it includes) per kernel, so the
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

# kmod NAME ARGS...: build the module(s) for kernel NAME with make ARGS;
# sets KO, KO_KUNIT.  Kbuild names the sources by the M= path as given, and
# the compiler cache (the Makefile: ccache) keys on those names, so the
# build runs in this run's copy through a fixed alias, $CACHE/kbuild/NAME,
# a symlink repointed under its lock for the length of the build: a
# checkout at any path then hits the objects a checkout elsewhere cached.
kmod() {
	local n=$1 m alias=$CACHE/kbuild/$1
	shift
	m=$(kmod_copy "$n") && mkdir -p "$CACHE/kbuild" || return 1
	# shellcheck disable=SC2016
	flock "$alias.lock" sh -c 'ln -sfn "$1" "$2" && shift 2 && exec "$@"' sh \
		"${m%/kmod}" "$alias" make "$@" M="$alias/kmod" modules > "$OUT/kmod-$n.log" 2>&1 ||
		{ tail -n 30 "$OUT/kmod-$n.log" >&2; return 1; }
	if grep -E ': (warning|error):' "$OUT/kmod-$n.log" >&2; then
		log "$n: the module build warned (log $OUT/kmod-$n.log)"
		return 1
	fi
	KO=$m/atomic_dict.ko
	KO_KUNIT=$m/atomic_dict_kunit.ko
	[ -f "$KO" ]
}

# compile DIR "FLAGS" SRC...: each SRC compiled alone to DIR/<name>.o (a
# compile per file, so that make check's compiler cache keeps each one:
# the Makefile, ccache); prints the objects.
compile() {
	local dir=$1 flags=$2 src obj
	shift 2
	mkdir -p "$dir" || return 1
	for src in "$@"; do
		obj=$dir/$(basename "${src%.c}").o
		# shellcheck disable=SC2086
		cc $flags -c -o "$obj" "$src" || return 1
		echo "$obj"
	done
}

# Static builds of the user tools that run in the VM: adictctl (with
# tests/vm/adictctl-vm.sh), adict-kbench (ioctl vs io_uring vs mmap), and
# the host stress test run on device tables (ADICT_TEST_DEVICE=1), all on
# one build of the library.
vm_tools() {
	local flags="-std=gnu11 -O2 -D_GNU_SOURCE -DADICT_HAVE_LIBURING -I$REPO/uapi -I$REPO/lib/include"
	local o=$OUT/obj-tools lib ctl kbench stress
	lib=$(compile "$o/lib" "$flags" "$REPO/lib/adict.c" "$REPO/lib/adict-uring.c") &&
	ctl=$(compile "$o/adictctl" "$flags" "$REPO"/tools/adictctl*.c) &&
	kbench=$(compile "$o" "$flags -I$REPO/tools" "$REPO/tools/adict-kbench.c") &&
	stress=$(compile "$o" "$flags -I$REPO/tests/host" "$REPO/tests/host/test_stress.c") || return 1
	# shellcheck disable=SC2086
	cc -static -o "$OUT/bin/adictctl" $ctl $lib -luring &&
	cc -static -o "$OUT/bin/adict-kbench" $kbench $lib -luring &&
	cc -static -o "$OUT/bin/test_stress" $stress $lib -luring -pthread &&
	cp "$HERE/adictctl-vm.sh" "$OUT/bin/adictctl-vm.sh"
}

# The atomic_dict Python package and its tests, for Debian's python3 (the
# interpreter the VM gets): named tables on the device.
VM_PY=/usr/bin/python3
vm_python() {
	local d=$OUT/py inc suffix flags objs
	inc=$($VM_PY -c 'import sysconfig; print(sysconfig.get_paths()["include"])') &&
	suffix=$($VM_PY -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))') &&
	[ -f "$inc/Python.h" ] || { log "no Python.h for $VM_PY (python3-dev)"; return 1; }
	flags="-std=gnu11 -O2 -D_GNU_SOURCE -DADICT_HAVE_LIBURING -DADICT_API=
		-DATOMIC_DICT_VERSION=\"$(make -s -C "$REPO" print-version)\"
		-fPIC -fvisibility=hidden -I$REPO/uapi -I$REPO/lib/include -I$REPO/lib -I$inc"
	# shellcheck disable=SC2086
	rm -rf "$d" && mkdir -p "$d/atomic_dict" &&
	objs=$(compile "$OUT/obj-py" "$flags" "$REPO/lib/python/_atomic_dict.c" \
		"$REPO/lib/adict.c" "$REPO/lib/adict-uring.c") &&
	cc -shared -o "$d/atomic_dict/_atomic_dict$suffix" $objs -luring &&
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

# The Debian packages of make deb: sets DEB_VERSION.  In the default
# directory make deb remakes them when a tracked file is newer than the
# last build, one build at a time (tools/tools.mk), so that check-deb and
# these steps share them; ADICT_VM_DEB's are taken as they are.
DEB_PKGS="libadict0 adictctl python3-atomic-dict"
deb_inputs() {
	local p a
	DEB_VERSION=$(make -s -C "$REPO" --no-print-directory print-version) || return 1
	if [ "$DEB_DIR" = "$REPO/build/deb" ]; then
		log "make deb (up to date, or about 90 s to build; log $OUT/deb.log)"
		make -C "$REPO" deb > "$OUT/deb.log" 2>&1 || { tail -n 30 "$OUT/deb.log" >&2; return 1; }
	fi
	for p in $DEB_PKGS atomic-dict-dkms; do
		a=amd64; [ "$p" = atomic-dict-dkms ] && a=all
		[ -f "$DEB_DIR/${p}_${DEB_VERSION}_$a.deb" ] ||
			{ log "$DEB_DIR holds no ${p}_${DEB_VERSION}_$a.deb"; return 1; }
	done
	log "packages: $DEB_DIR/*_${DEB_VERSION}_*.deb, built $(date -u -r "$DEB_DIR/adictctl_${DEB_VERSION}_amd64.deb" '+%F %T UTC')"
}

# deb_module NAME: the module DKMS builds from atomic-dict-dkms against
# kernel NAME's cached headers ($IMG_KDIR); sets DKMS_KO and DKMS_LOG.  In
# the default package directory the build is the one check-deb checks
# (build/deb/dkms/<release>; dkms-build.sh builds once per package and
# kernel, whoever asks first).
deb_module() {
	local w=$OUT/dkms-$1 rel=${IMG_KDIR%/}
	[ "$DEB_DIR" = "$REPO/build/deb" ] && w=$DEB_DIR/dkms/${rel##*/linux-headers-}
	DKMS_LOG=$w/dkms.log
	DKMS_KO=$("$REPO/tests/host/deb/dkms-build.sh" \
		"$DEB_DIR/atomic-dict-dkms_${DEB_VERSION}_all.deb" "$IMG_KDIR" "$w" | tail -n 1) &&
	[ -f "$DKMS_KO" ]
}

build_id() {	# the GNU build ID of an ELF file, in hex
	readelf -n "$1" | awk '$1 == "Build" && $2 == "ID:" { print $3; exit }'
}

# deb_root ROOT: the packages unpacked at their installed paths, the shared
# libraries they load, the DKMS module, the README example and
# /etc/adict/deb (tests/vm/deb-vm.sh).
deb_root() {
	local root=$1 p lib
	for p in $DEB_PKGS; do
		dpkg-deb -x "$DEB_DIR/${p}_${DEB_VERSION}_amd64.deb" "$root" || return 1
	done
	rm -rf "$root/usr/share/doc" "$root/usr/share/man"
	# What the packaged binaries load from the host (libc, liburing),
	# not what the packages bring (libadict.so.0).
	for lib in $(LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu ldd "$root/usr/bin/adictctl" \
			"$root"/usr/lib/python3/dist-packages/atomic_dict/*.so 2>/dev/null |
		     awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(0x/ { print $1 }' |
		     grep -v "^$root/" | sort -u); do
		mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return 1
	done
	mkdir -p "$root/lib/adict/dkms" &&
	cp "$DKMS_KO" "$root/lib/adict/dkms/atomic_dict.ko" &&
	cp "$REPO/lib/python/tests/original/readme_example.py" "$root/lib/adict/" &&
	cp "$HERE/deb-vm.sh" "$root/bin/deb-vm.sh" &&
	printf 'VERSION=%s\nDKMS_BUILD_ID=%s\nTREE_BUILD_ID=%s\n' "$DEB_VERSION" \
		"$(build_id "$DKMS_KO")" "$(build_id "$KO")" > "$root/etc/adict/deb"
}

selftests() {
	local t keep=""
	make -s -j"$(nproc)" -C "$REPO/tests/selftests" KSFT_DIR="$KSFT_DIR" OUT="$OUT/bin" \
		> "$OUT/selftests.log" 2>&1 || { cat "$OUT/selftests.log" >&2; return 1; }
	vm_tools >> "$OUT/selftests.log" 2>&1 || { cat "$OUT/selftests.log" >&2; return 1; }
	vm_python >> "$OUT/selftests.log" 2>&1 || { cat "$OUT/selftests.log" >&2; return 1; }
	TESTS=$(make -s -C "$REPO/tests/selftests" KSFT_DIR=. print-tests) ||
		{ log "tests/selftests: print-tests failed"; return 1; }
	[ -n "$TESTS" ] || { log "tests/selftests: print-tests lists no test"; return 1; }
	if [ -n "$ONLY" ]; then
		# In ADICT_VM_TESTS order; a name that is not a listed test but
		# an executable in $OUT/bin (a scratch program) is run too.
		# "deb" is the deb-* steps.
		WANT_DEB=0
		for t in $ONLY; do
			case " $TESTS " in
			*" $t "*) keep="$keep $t" ;;
			*) [ "$t" = deb ] && { WANT_DEB=1; continue; }
			   if [ -x "$OUT/bin/$t" ]; then keep="$keep $t"; else
				log "ADICT_VM_TESTS: no test named $t"; return 1; fi ;;
			esac
		done
		TESTS=$keep
	fi
}

# initramfs NAME KIND KO [KUNIT_KO]: write $OUT/initramfs-NAME.cpio and the
# plan; the plan's steps go to $OUT/steps-NAME.
initramfs() {
	local n=$1 kind=$2 ko=$3 kunit=${4:-} root=$OUT/initramfs-$1 t plan steps
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,etc/adict,lib/adict,proc,sys,dev,tmp,run} || return 1
	cp /bin/busybox "$root/bin/busybox"
	cp "$HERE/init.sh" "$root/init"
	cp "$OUT"/bin/* "$root/bin/"
	cp "$ko" "$root/lib/adict/"
	plan=$root/etc/adict/plan
	steps="insmod"
	: > "$plan"
	if [ "$kind" = debug ] && [ "$MODE" = check ]; then
		[ -f "$kunit" ] || { log "$n: atomic_dict_kunit.ko was not built"; return 1; }
		cp "$kunit" "$root/lib/adict/"
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
	if [ "$kind" != debug ] && [ "$MODE" = check ] && [ -z "$ONLY" ]; then
		echo "ksft adictctl 300 /bin/sh /bin/adictctl-vm.sh /bin/adictctl" >> "$plan"
		# A quarter of the default operations per row (bench.rst)
		echo "ksft kbench 300 /bin/adict-kbench -t -o 50000" >> "$plan"
		# libadict's device backend under the host stress test's load
		echo "ksft libadict-stress 300 env ADICT_TEST_DEVICE=1 /bin/test_stress" >> "$plan"
		steps="$steps adictctl kbench libadict-stress"
	fi
	# The Python package against the device (test_device.py runs here),
	# on Debian's kernels: the debug kernels are tinyconfig without
	# sockets, which multiprocessing's fd passing needs.
	if [ "$kind" != debug ] && [ "$MODE" = check ] && [ -z "$ONLY" ]; then
		echo "ksft python 900 env PYTHONPATH=/lib/adict/py /usr/bin/python3 /lib/adict/py/tests/run.py --tap" >> "$plan"
		steps="$steps python"
		python_root "$root" || return 1
	fi
	# The Debian packages: the DKMS-built module replaces the tree's for
	# the packaged adictctl and Python package, then the tree's returns.
	if [ "$kind" = stock ] && [ "$MODE" = check ] && [ $WANT_DEB = 1 ]; then
		[ -n "$ONLY" ] && { python_root "$root" || return 1; }
		deb_root "$root" || return 1
		{
			echo "ksft deb-load 120 /bin/sh /bin/deb-vm.sh load"
			echo "ksft deb-adictctl 300 /bin/sh /bin/adictctl-vm.sh /usr/bin/adictctl"
			echo "ksft deb-python 600 /bin/sh /bin/deb-vm.sh python"
			echo "ksft deb-restore 120 /bin/sh /bin/deb-vm.sh restore"
		} >> "$plan"
		steps="$steps deb-load deb-adictctl deb-python deb-restore"
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
	printf 'ADICT_KIND=%s\nADICT_NAME=%s\nADICT_SEED=%s\n' "$kind" "$n" "$SEED" > "$root/etc/adict/env"
	echo "$steps" > "$OUT/steps-$n"
	(cd "$root" && find . | cpio -o -H newc --quiet) > "$OUT/initramfs-$n.cpio"
}

# ---------------------------------------------------------------------------
# Running a VM and judging its console
# ---------------------------------------------------------------------------

# The VMs of a run: up to $JOBS boot at once (ADICT_VM_JOBS, default 2: a
# TCG guest keeps about one host core busy, so two share the 2-core
# machine).  Each VM's qemu runs in the background; its exit status goes to
# $OUT/qemu-rc-NAME, and the main shell judges its console once it ends.
JOBS=${ADICT_VM_JOBS:-2}
case $JOBS in ''|*[!0-9]*|0) echo "ADICT_VM_JOBS=$JOBS: want a count >= 1" >&2; exit 2 ;; esac
declare -A VM_PID=() VM_ARGS=() VM_T0=()
# An interrupted run takes its VMs down with it.
on_exit() {
	local n
	for n in "${!VM_PID[@]}"; do kill "${VM_PID[$n]}" 2>/dev/null; done
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# vm_start NAME KIND KERNEL TIMEOUT SUITES: boot it in the background.
vm_start() {
	local n=$1 kernel=$3 tmo=$4 log=$OUT/console-$1.log
	local append="console=ttyS0 panic=-1 oops=panic quiet"
	log "$n: booting $kernel; limit ${tmo}s; log $log"
	: > "$log"
	rm -f "$OUT/qemu-rc-$n"
	(
		timeout -k 10 "$tmo" qemu-system-x86_64 -accel tcg,thread=multi -smp 2 \
			-m "$VM_MEM" -bios /usr/share/qemu/qboot.rom -nodefaults \
			-nographic -serial stdio -no-reboot \
			-kernel "$kernel" -initrd "$OUT/initramfs-$n.cpio" \
			-append "$append" < /dev/null > "$log" 2>&1 &
		qp=$!
		# on_exit's TERM: timeout passes it on to qemu
		trap 'kill $qp 2>/dev/null; exit 143' TERM
		wait $qp
		echo $? > "$OUT/qemu-rc-$n"
	) &
	VM_PID[$n]=$!
	VM_ARGS[$n]="$2|$tmo|$5"
	VM_T0[$n]=$(now)
	if [ "${V:-0}" = 1 ]; then
		tail -n +1 -f --pid="${VM_PID[$n]}" "$log" >&2 &
	else
		tail -n +1 -f --pid="${VM_PID[$n]}" "$log" 2>/dev/null | awk -v k="$n" '
			/^@@ADICT END / { printf "[vm]   %-10s %-22s %s %s\n", k, $3, $4, $5; fflush() }
			/^@@ADICT BOOT / { printf "[vm]   %-10s booted: %s\n", k, $0; fflush() }' >&2 &
	fi
}

# vm_finish NAME: wait for its qemu, then judge its console.
vm_finish() {
	local n=$1 kind tmo suites rc
	IFS='|' read -r kind tmo suites <<< "${VM_ARGS[$n]}"
	wait "${VM_PID[$n]}"
	unset "VM_PID[$n]"
	rc=$(cat "$OUT/qemu-rc-$n" 2>/dev/null || echo 1)
	sleep 0.5	# the console's tail
	[ "$rc" = 124 ] && log "$n: the VM hit the ${tmo}s limit"
	judge "$n" "$kind" "$OUT/console-$n.log" "$(cat "$OUT/steps-$n")" "$suites"
	log "$n: ${NPASS[$n]} passed, ${NFAIL[$n]} failed, ${NSKIP[$n]} skipped"
	PH_NAMES+=("$n:vm")
	PH_SECS+=("$(secs "${VM_T0[$n]}" "$(now)")")
	K_SECS[$n]=$(secs "${K_T0[$n]}" "$(now)")
}

# vm_reap [ALL]: judge every VM that has ended; with ALL, wait for them all.
# Otherwise, while $JOBS VMs run, wait for one of them to end.
vm_reap() {
	local n done
	while :; do
		done=0
		for n in "${!VM_PID[@]}"; do
			if [ -f "$OUT/qemu-rc-$n" ] || ! kill -0 "${VM_PID[$n]}" 2>/dev/null; then
				vm_finish "$n"
				done=1
			fi
		done
		[ ${#VM_PID[@]} = 0 ] && return
		[ -z "${1:-}" ] && [ ${#VM_PID[@]} -lt "$JOBS" ] && return
		[ $done = 1 ] && continue
		sleep 1
	done
}

summary() {
	local i n
	echo
	echo "==== atomic-dict VM tests ($MODE, seed $SEED) ===="
	for n in "${NAMES[@]}"; do
		[ -f "$OUT/results-$n.tsv" ] || continue
		echo "slowest steps ($n):"
		awk -F'\t' '$1 == "STEP" { printf "%s\t%s\t%s\n", $4, $2, $3 }' \
			"$OUT/results-$n.tsv" | sort -t$'\t' -k1,1 -rn | head -n 8 |
			awk -F'\t' '{ printf "  %-22s %7ss rc=%s\n", $2, $1, $3 }'
	done
	echo "timing:"
	for i in "${!PH_NAMES[@]}"; do
		printf '  %-22s %7ss\n' "${PH_NAMES[$i]}" "${PH_SECS[$i]}"
	done
	printf '  %-22s %7ss\n' total "$(secs "$T_START" "$(now)")"
	echo "logs: $OUT/console-*.log"
	if [ ${#ALLOWED[@]} -gt 0 ]; then
		echo "skips allowed by tests/vm/skips:"
		for i in "${ALLOWED[@]}"; do echo "  $i"; done
	fi
	if [ ${#FAILS[@]} -gt 0 ]; then
		echo "failures:"
		for i in "${FAILS[@]}"; do echo "  $i"; done
	fi
	for n in "${NAMES[@]}"; do
		if [ -z "${NPASS[$n]:-}${NFAIL[$n]:-}" ]; then
			echo "[vm] $n: did not run"
			continue
		fi
		printf '[vm] %s: %d passed, %d failed, %d skipped (allowed); %ss\n' "$n" \
			"${NPASS[$n]:-0}" "${NFAIL[$n]:-0}" "${NSKIP[$n]:-0}" "${K_SECS[$n]:-?}"
	done
	echo "$TOTAL_PASS passed, $TOTAL_FAIL failed, $TOTAL_SKIP skipped"
}

# run_kernel NAME: fetch or build it, build the module, boot, judge.
run_kernel() {
	local n=$1 kind=${K_KIND[$1]} kernel tmo suites=""
	case $kind in
	stock|rt)
		if ! phase "$n:image" image "$n"; then
			infra_fail "$n" "fetching the kernel image and headers failed"; return
		fi
		log "$n: $IMG_DESC"
		if ! phase "$n:kmod" kmod "$n" -C "$IMG_KDIR"; then
			infra_fail "$n" "building atomic_dict.ko against $IMG_KDIR failed (log $OUT/kmod-$n.log)"; return
		fi
		if [ "$kind" = stock ] && [ "$MODE" = check ] && [ $WANT_DEB = 1 ] &&
		   ! phase "$n:dkms" deb_module "$n"; then
			infra_fail "$n" "DKMS building atomic_dict.ko from atomic-dict-dkms against $IMG_KDIR failed (log $DKMS_LOG)"; return
		fi
		kernel=$IMG_KERNEL
		tmo=${ADICT_VM_TIMEOUT:-1200}
		;;
	debug)
		if ! phase "$n:source" source_tree "${K_PKG[$n]}"; then
			infra_fail "$n" "fetching ${K_PKG[$n]} failed"; return
		fi
		if ! phase "$n:kernel" debug_kernel; then
			infra_fail "$n" "building the debug kernel from ${K_PKG[$n]} $SRC_VER failed"; return
		fi
		log "$n: ${K_PKG[$n]} $SRC_VER, $DBG"
		if ! phase "$n:kmod" kmod "$n" -C "$SRC" O="$DBG"; then
			infra_fail "$n" "building the modules against the debug kernel failed (log $OUT/kmod-$n.log)"; return
		fi
		kernel=$DEBUG_KERNEL
		tmo=${ADICT_VM_TIMEOUT:-$((1500 + FUZZ_ITERS / 50))}
		[ "$MODE" = check ] && suites=$(kunit_suites "$REPO/kmod/atomic_dict_kunit.c")
		;;
	*)
		infra_fail "$n" "unknown kind $kind in tests/vm/kernels"; return
		;;
	esac
	phase "$n:initramfs" initramfs "$n" "$kind" "$KO" "$KO_KUNIT" ||
		{ infra_fail "$n" "initramfs"; return; }
	vm_reap	# a free slot
	vm_start "$n" "$kind" "$kernel" "$tmo" "$suites"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
if [ "$MODE" = headers ] || [ "$MODE" = trees ]; then
	mkdir -p "$CACHE" || exit 1
	for n in "${NAMES[@]}"; do
		image "$n" || { log "$n: fetching the kernel image and headers failed"; exit 1; }
		printf '%s %s\n' "$n" "$IMG_KDIR"
	done
	if [ "$MODE" = trees ]; then
		source_tree "$LINT_PKG" || { log "fetching $LINT_PKG failed"; exit 1; }
		printf 'source %s\n' "$SRC"
	fi
	exit 0
fi
mkdir -p "$OUT" "$CACHE" || exit 1
rm -f "$OUT"/results-*.tsv "$OUT"/console-*.log "$OUT"/steps-*
log "mode $MODE, kernels: ${NAMES[*]}, seed $SEED, fuzz ${FUZZ_PROCS}x$FUZZ_ITERS"

phase deps deps || die "package setup failed"
phase ksft-source source_tree "$KSFT_PKG" || die "fetching $KSFT_PKG (kselftest harness) failed"
KSFT_DIR=$SRC/tools/testing/selftests
phase selftests selftests || die "building the device tests failed"
if [ "$MODE" = check ] && [ $WANT_DEB = 1 ]; then
	for n in "${NAMES[@]}"; do
		[ "${K_KIND[$n]}" = stock ] || continue
		phase deb deb_inputs || die "the Debian packages (make deb) failed"
		break
	done
fi

# The kernels are prepared (fetched or built, module, initramfs) one after
# the other, in the main shell, while earlier VMs run.  The debug kernels go
# first: they run longest.  The summary keeps the order of tests/vm/kernels.
declare -A K_T0
ORDER=()
for n in "${NAMES[@]}"; do [ "${K_KIND[$n]}" = debug ] && ORDER+=("$n"); done
for n in "${NAMES[@]}"; do [ "${K_KIND[$n]}" = debug ] || ORDER+=("$n"); done
for n in "${ORDER[@]}"; do
	K_T0[$n]=$(now)
	run_kernel "$n"
	[ -n "${VM_PID[$n]:-}" ] || K_SECS[$n]=$(secs "${K_T0[$n]}" "$(now)")
done
vm_reap all

summary
ok=1
[ "$TOTAL_FAIL" = 0 ] || ok=0
for n in "${NAMES[@]}"; do
	[ "${NPASS[$n]:-0}" -gt 0 ] || ok=0
done
[ $ok = 1 ]
