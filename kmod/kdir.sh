#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel build directory to build the module against: the newest
# installed Debian bookworm headers /usr/src/linux-headers-6.1.0-<N>-amd64.
# With --install, install the newest linux-headers-6.1.0-<N>-amd64 that
# apt-cache offers when none is installed (needs root).
set -e

newest() {
	ls -d /usr/src/linux-headers-6.1.0-*-amd64 2>/dev/null | sort -V | tail -n1
}

kdir=$(newest)
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
		echo "kdir.sh: no 6.1 headers; run as root: apt-get install -y $pkg" >&2
		exit 1
	fi
	echo "kdir.sh: installing $pkg" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg" >&2
	kdir=$(newest)
fi
if [ -z "$kdir" ]; then
	echo "kdir.sh: no /usr/src/linux-headers-6.1.0-*-amd64; set KDIR" >&2
	exit 1
fi
echo "$kdir"
