#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel build directory `make kmod` builds the module against
# (KDIR= on the make command line overrides all of this):
#
#   1. the running kernel's headers, /lib/modules/$(uname -r)/build;
#   2. the newest installed Debian headers of a supported line (6.12, then
#      6.1): /usr/src/linux-headers-6.12.<N>+deb12-amd64,
#      /usr/src/linux-headers-6.1.0-<N>-amd64 (the -rt ones too);
#   3. headers the VM harness unpacked into its cache,
#      $ADICT_CACHE/image/*/root/usr/src/linux-headers-* (make check-vm);
#   4. with --install (needs root): apt-get install --no-install-recommends
#      the newest linux-headers-6.1.0-<N>-amd64.  Only 6.1's: Debian's 6.12
#      headers depend on the 6.12 image, which would change the host's boot
#      setup.
set -e

newest() {	# the newest of the paths a glob matches, if any
	# shellcheck disable=SC2086
	ls -d $1 2>/dev/null | sort -V | tail -n1
}

kdir=
build=/lib/modules/$(uname -r)/build
[ -f "$build/Makefile" ] && kdir=$build
for g in '/usr/src/linux-headers-6.12.*+deb12-amd64' '/usr/src/linux-headers-6.12.*+deb12-rt-amd64' \
	 '/usr/src/linux-headers-6.1.0-*[0-9]-amd64' '/usr/src/linux-headers-6.1.0-*-rt-amd64' \
	 "${ADICT_CACHE:-/var/cache/adict}/image/*/root/usr/src/linux-headers-*-amd64"; do
	[ -n "$kdir" ] && break
	kdir=$(newest "$g")
done
if [ -z "$kdir" ] && [ "$1" = "--install" ]; then
	offered() {
		apt-cache pkgnames linux-headers-6.1.0- 2>/dev/null |
			grep -E '^linux-headers-6\.1\.0-[0-9]+-amd64$' | sort -V | tail -n1
	}
	pkg=$(offered)
	if [ -z "$pkg" ]; then
		apt-get update >&2
		pkg=$(offered)
	fi
	if [ -z "$pkg" ]; then
		echo "kdir.sh: apt-cache offers no linux-headers-6.1.0-*-amd64" >&2
		exit 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "kdir.sh: no kernel headers; run as root:" \
		     "apt-get install --no-install-recommends $pkg" >&2
		exit 1
	fi
	echo "kdir.sh: installing $pkg" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg" >&2
	kdir=$(newest '/usr/src/linux-headers-6.1.0-*[0-9]-amd64')
fi
if [ -z "$kdir" ]; then
	echo "kdir.sh: no kernel headers found (running kernel, /usr/src, $ADICT_CACHE); set KDIR" >&2
	exit 1
fi
echo "$kdir"
