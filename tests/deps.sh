#!/bin/sh
# SPDX-License-Identifier: MIT
# Install every Debian package the build, the tests and the benchmarks use.
# Idempotent: installs only what is missing.  Needs root (or sudo) and
# Debian 12's package archive.
set -e
PKGS="make gcc libc6-dev pkg-config python3 python3-dev liburing-dev
python3-pip python3-setuptools python3-wheel python3-venv mypy
libhiredis-dev redis-server sparse ccache gnuplot-nox libbpf-dev bpftool
qemu-system-x86 busybox-static cpio flex bison bc libelf-dev libssl-dev
dwarves rsync kmod xz-utils coccinelle ocaml-nox
g++ clang debhelper dh-dkms dkms dh-python lintian devscripts"
# No kernel package is installed on the host (its boot setup is left
# alone): the VM kernels, their headers and sources go into the cache
# (tests/vm/run.sh: apt-get download, dpkg-deb -x), and
# tests/host/deb/test_deb.sh builds the packaged module through DKMS
# against the cached 6.1 and 6.12 headers (tests/vm/run.sh headers).
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
