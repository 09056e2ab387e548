#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian packages that `make deb` built (BUILD_DIR/deb): what each one
# holds, that they are lintian-clean (tools/packaging/debian/*lintian-
# overrides say why for the rest), that their binaries carry the
# distribution's hardening, and that, unpacked into a throwaway root, they
# work: adictctl and a C program against the packaged libadict, the Python
# example against the packaged module, and DKMS building the packaged
# module sources against Debian's 6.1 and 6.12 headers (from the VM
# harness's cache; tests/vm/run.sh loads those modules in the VM).
# Usage: tests/host/deb/test_deb.sh BUILD_DIR   (prints TAP)
B=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
D=$B/deb
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
R=$W/root
VERSION=$(make -s -C "$ROOT" --no-print-directory print-version)
ABI=$(make -s -C "$ROOT" --no-print-directory print-abi-version)
ARCH=$(dpkg --print-architecture)
TRIPLET=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() {	# check DESC CMD...
	desc=$1; shift
	if "$@" >"$W/out" 2>&1; then ok "$desc"; else
		fail "$desc"; cut -c1-200 "$W/out" | head -20 | sed 's/^/#   /'; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

deb() { echo "$D/$1_${VERSION}_$2.deb"; }
has() {	# has PACKAGE ARCH PATH...: the package holds every PATH
	p=$1 a=$2; shift 2
	dpkg-deb -c "$(deb "$p" "$a")" | awk '{ print $6 }' | sed 's|^\./|/|' >"$W/list"
	for f in "$@"; do grep -qx "$f" "$W/list" || { echo "$p lacks $f"; return 1; }; done
}

for p in libadict0 libadict-dev adictctl python3-atomic-dict; do
	check "built: $p" test -f "$(deb $p "$ARCH")"
done
check "built: atomic-dict-dkms" test -f "$(deb atomic-dict-dkms all)"

check "libadict0: the shared library under the multiarch dir" has libadict0 "$ARCH" \
	/usr/lib/$TRIPLET/libadict.so.$ABI /usr/lib/$TRIPLET/libadict.so.0 \
	/usr/share/doc/libadict0/copyright
check "libadict0: its soname is libadict.so.0" sh -c \
	"dpkg-deb --fsys-tarfile '$(deb libadict0 "$ARCH")' | tar -xOf - ./usr/lib/$TRIPLET/libadict.so.$ABI >'$W/so' &&
	 readelf -d '$W/so' | grep -q 'SONAME.*\\[libadict.so.0\\]'"
check "libadict0: a symbols file, with the node of ABI $ABI" sh -c \
	"dpkg-deb --ctrl-tarfile '$(deb libadict0 "$ARCH")' | tar -xOf - ./symbols | grep -q 'LIBADICT_$ABI'"
check "libadict-dev: headers, static library, .pc, man pages" has libadict-dev "$ARCH" \
	/usr/include/adict.h /usr/include/adict/atomic_dict.h /usr/include/adict/core.h \
	/usr/include/adict/atomics.h /usr/include/adict/hash.h /usr/lib/$TRIPLET/libadict.a /usr/lib/$TRIPLET/libadict.so \
	/usr/lib/$TRIPLET/pkgconfig/libadict.pc /usr/share/man/man3/adict_create.3.gz \
	/usr/share/man/man7/libadict.7.gz
check "libadict-dev: nothing in linux-libc-dev's /usr/include/linux" sh -c \
	"! dpkg-deb -c '$(deb libadict-dev "$ARCH")' | grep -q '/usr/include/linux'"
check "adictctl: tool, man page, completion, udev rule, sysusers.d group" has adictctl "$ARCH" \
	/usr/bin/adictctl /usr/share/man/man8/adictctl.8.gz \
	/usr/share/bash-completion/completions/adictctl \
	/usr/lib/udev/rules.d/60-atomic-dict.rules /usr/lib/sysusers.d/atomic-dict.conf
check "adictctl: its postinst creates the group" sh -c \
	"dpkg-deb --ctrl-tarfile '$(deb adictctl "$ARCH")' | tar -xOf - ./postinst | grep -q 'groupadd --system atomic_dict'"
check "atomic-dict-dkms: sources, dkms.conf, modules-load.d, atomic_dict(4)" has atomic-dict-dkms all \
	/usr/src/atomic_dict-$VERSION/dkms.conf /usr/src/atomic_dict-$VERSION/kmod/atomic_dict.c \
	/usr/src/atomic_dict-$VERSION/uapi/linux/atomic_dict.h \
	/usr/lib/modules-load.d/atomic_dict.conf /usr/share/man/man4/atomic_dict.4.gz
check "atomic-dict-dkms: depends on dkms" sh -c \
	"dpkg-deb -f '$(deb atomic-dict-dkms all)' Depends | grep -q dkms"
check "python3-atomic-dict: the package and its extension" sh -c \
	"dpkg-deb -c '$(deb python3-atomic-dict "$ARCH")' | grep -q 'dist-packages/atomic_dict/_atomic_dict.*\\.so$' &&
	 dpkg-deb -c '$(deb python3-atomic-dict "$ARCH")' | grep -q 'dist-packages/atomic_dict/__init__.py$'"

# ---- lintian: errors and warnings fail; overrides carry their reasons
if command -v lintian >/dev/null; then
	# Built without DEBEMAIL, the Maintainer is the .invalid placeholder
	# (tools/tools.mk, DEB_MAINTAINER): only the tags about that address
	# are allowed then.
	allow=
	if dpkg-deb -f "$(deb adictctl "$ARCH")" Maintainer | grep -q '@invalid>$'; then
		allow="--suppress-tags bogus-mail-host,bogus-mail-host-in-debian-changelog"
		echo "# lintian: Maintainer is the placeholder (set DEBEMAIL): bogus-mail-host allowed"
	fi
	# shellcheck disable=SC2086
	lintian --fail-on error,warning --tag-display-limit 0 $allow "$D"/*.changes >"$W/lintian" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then ok "lintian: no error, no warning"; else
		fail "lintian: no error, no warning (exit $rc)"; sed 's/^/#   /' "$W/lintian" | head -30; fi
	sed -n 's/^\([IP]\): /# lintian \1: /p' "$W/lintian" | head -20
else
	fail "lintian is not installed (make deps installs it)"
fi

# ---- unpacked into a throwaway root
for f in "$D"/*.deb; do
	case $f in *-dbgsym_*) continue ;; esac
	dpkg-deb -x "$f" "$R"
done
L=$R/usr/lib/$TRIPLET
export LD_LIBRARY_PATH="$L"
check "adictctl from the packages links the packaged libadict.so.0" sh -c \
	"ldd '$R/usr/bin/adictctl' | grep -q '$L/libadict.so.0'"
check "adictctl from the packages runs: version $VERSION" sh -c \
	"'$R/usr/bin/adictctl' --version | grep -qx 'adictctl $VERSION'"
/usr/bin/python3 "$ROOT/tests/host/adictctl/dumpfmt.py" write "$W/t.adict" 10 t 600 1=2 7=3
check "... dumps a dump's table as text, which loads back" sh -c \
	"'$R/usr/bin/adictctl' dump -F '$W/t.adict' --text -o '$W/t.txt' &&
	 '$R/usr/bin/adictctl' load --backend memfd '$W/t.txt' | grep -q '2 keys restore'"
# shellcheck disable=SC2046
check "a C program builds with libadict-dev's pkg-config and runs on libadict0" sh -c \
	"PKG_CONFIG_SYSROOT_DIR='$R' PKG_CONFIG_LIBDIR='$L/pkgconfig:$(pkg-config --variable pc_path pkg-config)' \
	 cc -o '$W/t' '$ROOT/tests/host/headers/use.c' \$(PKG_CONFIG_SYSROOT_DIR='$R' PKG_CONFIG_LIBDIR='$L/pkgconfig:$(pkg-config --variable pc_path pkg-config)' pkg-config --cflags --libs libadict) &&
	 '$W/t' | grep -qx 'memfd 5'"
check "the Python example runs on the packaged module" sh -c \
	"cd '$W' && PYTHONPATH='$R/usr/lib/python3/dist-packages' timeout 120 /usr/bin/python3 '$ROOT/lib/python/tests/original/readme_example.py' &&
	 PYTHONPATH='$R/usr/lib/python3/dist-packages' /usr/bin/python3 -c 'import atomic_dict, sys; sys.exit(not atomic_dict.__file__.startswith(\"$R/\"))'"

# ---- hardening of the packaged binaries (dpkg-buildflags hardening=+all)
if command -v hardening-check >/dev/null; then
	# Control-flow protection is not among bookworm's dpkg-buildflags.
	check "hardening-check adictctl: PIE, stack protector, FORTIFY, RELRO, BIND_NOW" \
		hardening-check --nocfprotection "$R/usr/bin/adictctl"
	check "hardening-check libadict.so.0: stack protector, RELRO, BIND_NOW" \
		hardening-check --nocfprotection --nopie --nofortify "$L/libadict.so.$ABI"
else
	fail "hardening-check is not installed (devscripts; make deps installs it)"
fi
check "readelf: adictctl is PIE with full RELRO" sh -c \
	"readelf -h '$R/usr/bin/adictctl' | grep -q 'DYN' &&
	 readelf -l '$R/usr/bin/adictctl' | grep -q GNU_RELRO &&
	 readelf -d '$R/usr/bin/adictctl' | grep -q 'FLAGS.*BIND_NOW'"
check "adictctl calls the fortified libc functions" sh -c \
	"readelf --dyn-syms -W '$R/usr/bin/adictctl' | grep -q '__[a-z]*_chk'"

# ---- DKMS builds the packaged sources against each kernel line's headers
# The stock 6.1 and 6.12 headers come from the VM harness's cache, fetched
# there with apt-get download when missing (tests/vm/run.sh headers): no
# kernel package is installed on the host, and none there is used.  The
# builds go to BUILD_DIR/deb/dkms/<release>, where the VM tests of the same
# make check load them: whichever asks first builds, the other waits and
# checks the same module (dkms-build.sh).
command -v dkms >/dev/null || fail "dkms is not installed (make deps installs it)"
if ! KERNELS="6.1 6.12" "$ROOT/tests/vm/run.sh" headers >"$W/kdirs" 2>"$W/out"; then
	fail "the 6.1 and 6.12 headers are in the cache (tests/vm/run.sh headers)"
	sed 's/^/#   /' "$W/out" | head -20
fi
for line in 6.1 6.12; do
	k=$(awk -v l="$line" '$1 == l { print $2 }' "$W/kdirs")
	if [ -z "$k" ] || ! command -v dkms >/dev/null; then
		fail "DKMS build against the $line headers: no headers or no dkms"
		continue
	fi
	kver=${k##*/linux-headers-}
	if ko=$("$ROOT/tests/host/deb/dkms-build.sh" "$(deb atomic-dict-dkms all)" "$k" \
		"$D/dkms/$kver" 2>"$W/out" | tail -n 1) && [ -f "$ko" ]; then
		if modinfo -F vermagic "$ko" | grep -q "^$kver " &&
		   [ "$(modinfo -F license "$ko")" = GPL ] &&
		   [ "$(modinfo -F signer "$ko")" = "DKMS module signing key" ]; then
			ok "DKMS builds and signs atomic_dict.ko for $kver from the package"
		else
			fail "DKMS builds and signs atomic_dict.ko for $kver from the package (wrong vermagic, licence or signer)"
			modinfo "$ko" | sed 's/^/#   /' | head -20
		fi
	else
		fail "DKMS builds atomic_dict.ko for $kver from the package"
		sed 's/^/#   /' "$W/out" | tail -30
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
