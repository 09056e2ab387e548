#!/bin/sh
# SPDX-License-Identifier: MIT
# Build atomic_dict.ko with DKMS from the atomic-dict-dkms package, as
# `apt install atomic-dict-dkms` does on a user's machine, but against a
# kernel build tree given by path (the VM harness's cached, unpacked
# Debian headers: tests/vm/run.sh headers) and with every DKMS tree under
# WORK, so nothing of the host is read or written: no /lib/modules, no
# /var/lib/dkms, no installed linux-headers.
#
#   dkms-build.sh DKMS_DEB KDIR WORK
#
# KDIR is a Debian headers tree, /usr/src/linux-headers-<release> as
# unpacked; the kernel release (the module's vermagic) is the <release> of
# its name, as for the installed package.  The module is signed, as DKMS does
# on Debian, with a throwaway key made in WORK and the headers' own
# scripts/sign-file.  Prints the path of the built atomic_dict.ko
# (decompressed when DKMS compressed it) on the last line of stdout; DKMS's
# log goes to WORK/dkms.log.  Exit status non-zero when anything failed.
#
# One build per package and kernel: WORK/built records the package (its
# SHA-256) and the headers tree the module in WORK was built from, and a
# later call with the same WORK, package and tree prints that module
# without building it again.  Calls with the same WORK wait for each other
# (flock on WORK.lock): make check's check-deb (tests/host/deb/test_deb.sh)
# and its VM tests (tests/vm/run.sh) both ask for the module of each stock
# kernel, at about the same time, and share it.
set -eu
deb=$1 kdir=$2 work=${3%/}
rel=${kdir%/}
rel=${rel##*/linux-headers-}
mkdir -p "$(dirname "$work")"
exec 9>"$work.lock"
flock 9
sum="$(sha256sum "$deb" | cut -d' ' -f1) $(cd "$kdir" && pwd -P)"
if [ -f "$work/atomic_dict.ko" ] && [ "$(cat "$work/built" 2>/dev/null)" = "$sum" ]; then
	echo "dkms-build.sh: $work/atomic_dict.ko: built from this package already" >&2
	echo "$work/atomic_dict.ko"
	exit 0
fi
rm -rf "$work"
mkdir -p "$work/root" "$work/tree"
dpkg-deb -x "$deb" "$work/root"
ver=$(dpkg-deb -f "$deb" Version)
ver=${ver%%-*}
# DKMS takes these from /etc/dkms/framework.conf when set there, else from
# the environment.
sign_file=$kdir/scripts/sign-file
mok_signing_key=$work/mok.key
mok_certificate=$work/mok.pub
export sign_file mok_signing_key mok_certificate
# Kbuild names the sources by the path of DKMS's tree, and a compiler cache
# (make check's ccache) keys on those names: where the cache directory can
# be written, DKMS reaches WORK/tree through a fixed alias,
# $ADICT_CACHE/kbuild/dkms-<release>, a symlink repointed under its lock
# for the length of the build, so that a checkout at any path hits it.
tree=$work/tree
via=${ADICT_CACHE:-/var/cache/adict}/kbuild/dkms-$rel
if mkdir -p "${via%/*}" 2>/dev/null && [ -w "${via%/*}" ]; then
	exec 8>"$via.lock"
	flock 8
	ln -sfn "$work/tree" "$via"
	tree=$via
fi
if ! dkms build -m atomic_dict -v "$ver" -k "$rel" --kernelsourcedir "$kdir" \
	--sourcetree "$work/root/usr/src" --dkmstree "$tree" \
	>"$work/dkms.log" 2>&1; then
	echo "dkms-build.sh: dkms build failed for $rel; last lines of $work/dkms.log:" >&2
	tail -n 20 "$work/dkms.log" >&2
	find "$work/tree" -name make.log -exec tail -n 20 {} \; >&2
	exit 1
fi
ko=$(find "$work/tree/atomic_dict/$ver/$rel" -name 'atomic_dict.ko*' | head -n 1)
[ -n "$ko" ] || { echo "dkms-build.sh: dkms built no atomic_dict.ko for $rel" >&2; exit 1; }
case $ko in
*.xz) xz -dc "$ko" >"$work/atomic_dict.ko" ;;
*.zst) zstd -qdc "$ko" >"$work/atomic_dict.ko" ;;
*.gz) gzip -dc "$ko" >"$work/atomic_dict.ko" ;;
*) cp "$ko" "$work/atomic_dict.ko" ;;
esac
echo "$sum" >"$work/built"
echo "$work/atomic_dict.ko"
