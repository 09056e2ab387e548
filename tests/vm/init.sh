#!/bin/busybox sh
# SPDX-License-Identifier: MIT
#
# /init of the atomic-dict test VM (busybox sh).  tests/vm/run.sh puts this
# file, busybox, the module(s), the static test binaries and a plan into an
# initramfs.  /etc/adict/plan has one step per line:
#
#   <type> <name> <timeout-seconds> [command...]
#
#   ksft      run command; its output is kselftest TAP
#   kunit     insmod /lib/adict/<name>.ko, print each new suite's debugfs
#             results, rmmod it
#   kmemleak  rmmod atomic_dict, then scan twice and print
#             /sys/kernel/debug/kmemleak
#
# Every step is framed by markers the host parses:
#   @@ADICT BEGIN <name>      ... output ...
#   @@ADICT END <name> rc=<exit status> secs=<wall seconds> modrefs=<N|->
#                             (modrefs: atomic_dict's module refcount after
#                             the step; must be 0: nothing may stay open)
#   @@ADICT DMESG <name>      ... kernel messages logged during the step ...
#   @@ADICT DMESG-END <name>
# and the run ends with "@@ADICT DONE" and reboot -f (qemu runs with
# -no-reboot, so that ends it; an oops ends it too, via oops=panic panic=-1).

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm	# POSIX semaphores (Python's multiprocessing)
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mkdir -p /sys/fs/cgroup
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
# nobody must resolve for tools that print names; tests use numeric ids.
echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> /etc/passwd
echo 'root:x:0:' > /etc/group
echo 'nogroup:x:65534:' >> /etc/group

. /etc/adict/env
export ADICT_DEV=/dev/atomic_dict ADICT_KO=/lib/adict/atomic_dict.ko
export ADICT_BIN=/bin ADICT_KIND ADICT_NAME ADICT_SEED

up() { cut -d' ' -f1 /proc/uptime; }
# References to atomic_dict once a step's processes are gone ("-" when the
# module is not loaded).  Releases can be deferred (fput, io_uring ring
# teardown, io-wq workers), so a non-zero count gets up to 60 s to drain:
# polled every 0.1 s, so a clean step costs nothing and a slow VM is not a
# failure.
modrefs() {
	local n i=0
	while :; do
		n=$(awk '$1 == "atomic_dict" { print $3 }' /proc/modules)
		[ -z "$n" ] && { echo -; return; }
		[ "$n" = 0 ] || [ $i -ge 600 ] && { echo "$n"; return; }
		i=$((i + 1))
		sleep 0.1
	done
}
elapsed() { awk -v a="$1" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'; }

echo "@@ADICT BOOT name=$ADICT_NAME kind=$ADICT_KIND kernel=$(uname -r) cpus=$(nproc) seed=$ADICT_SEED"
# What the kernel's watchdogs will report (debug kernels; "-" where absent).
for f in hung_task_timeout_secs softlockup_panic watchdog_thresh; do
	printf '# %s=%s\n' "$f" "$(cat /proc/sys/kernel/$f 2>/dev/null || echo -)"
done
echo "@@ADICT DMESG boot"
dmesg -c
echo "@@ADICT DMESG-END boot"

if [ -e /sys/kernel/debug/kmemleak ]; then
	# Only the kmemleak step scans: no automatic scan (the first comes a
	# minute after boot, then one every 10 minutes) competes with the tests
	# for the guest's CPU or reports a suspect in their middle.  Report
	# only what leaks from here on: forget boot-time suspects.
	echo scan=off > /sys/kernel/debug/kmemleak
	echo scan > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
fi

t0=$(up)
echo "@@ADICT BEGIN insmod"
insmod /lib/adict/atomic_dict.ko
rc=$?
[ $rc = 0 ] && [ ! -c /dev/atomic_dict ] && { echo "# no /dev/atomic_dict after insmod"; rc=1; }
ls -l /dev/atomic_dict 2>&1 | sed 's/^/# /'
echo "@@ADICT END insmod rc=$rc secs=$(elapsed $t0)"
echo "@@ADICT DMESG insmod"
dmesg -c
echo "@@ADICT DMESG-END insmod"

while read -r type name tmo cmd; do
	case $type in ''|'#'*) continue ;; esac
	t0=$(up)
	echo "@@ADICT BEGIN $name"
	case $type in
	ksft)
		timeout -s KILL "$tmo" $cmd < /dev/null 2>&1
		rc=$?
		;;
	kunit)
		ls /sys/kernel/debug/kunit 2>/dev/null > /tmp/kunit.before
		timeout -s KILL "$tmo" insmod "/lib/adict/$name.ko" < /dev/null 2>&1
		rc=$?
		for d in /sys/kernel/debug/kunit/*/; do
			s=$(basename "$d")
			grep -qx "$s" /tmp/kunit.before && continue
			echo "@@ADICT KUNIT-SUITE $s"
			cat "$d/results"
		done
		[ $rc = 0 ] && { rmmod "$name"; rc=$?; }
		;;
	kmemleak)
		# Unload first: whatever the module's exit path forgets to free
		# becomes unreferenced and is reported below.
		rc=0
		if grep -q '^atomic_dict ' /proc/modules; then
			rmmod atomic_dict || { echo "# rmmod atomic_dict failed"; rc=1; }
		fi
		if [ -e /sys/kernel/debug/kmemleak ]; then
			# Objects younger than 5 s are never reported.
			sleep 6
			echo scan > /sys/kernel/debug/kmemleak
			echo scan > /sys/kernel/debug/kmemleak
			echo "@@ADICT KMEMLEAK-REPORT"
			cat /sys/kernel/debug/kmemleak
			echo "@@ADICT KMEMLEAK-REPORT-END"
		else
			echo "# /sys/kernel/debug/kmemleak missing"
			rc=1
		fi
		;;
	*)
		echo "# unknown step type $type"
		rc=1
		;;
	esac
	echo "@@ADICT END $name rc=$rc secs=$(elapsed $t0) modrefs=$(modrefs)"
	echo "@@ADICT DMESG $name"
	dmesg -c
	echo "@@ADICT DMESG-END $name"
done < /etc/adict/plan

echo "@@ADICT DONE"
sync
reboot -f
