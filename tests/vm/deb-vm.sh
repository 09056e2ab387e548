#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The Debian packages inside the VM (tests/vm/run.sh, stock kernels): the
# initramfs holds libadict0, adictctl and python3-atomic-dict unpacked at
# their installed paths (/usr/...), and the atomic_dict.ko that DKMS built
# from atomic-dict-dkms against this kernel's Debian headers
# (tests/host/deb/dkms-build.sh) as /lib/adict/dkms/atomic_dict.ko.
# /etc/adict/deb holds what the host knew: VERSION, the GNU build IDs of the
# DKMS module (DKMS_BUILD_ID) and of the module the other steps use
# (TREE_BUILD_ID).  Plain busybox sh; prints TAP.
#
#   sh deb-vm.sh load      unload the tree's module, load the DKMS one
#   sh deb-vm.sh python    the Python README example, then a named table
#                          shared by the package, fork and adictctl
#   sh deb-vm.sh restore   back to the tree's module for the steps after
#
# The plan runs adictctl-vm.sh on /usr/bin/adictctl between load and python.

. /etc/adict/deb
T=${TMPDIR:-/tmp}/deb-vm.$$
mkdir -p "$T"
n=0
fails=0
LIBDIR=/usr/lib/x86_64-linux-gnu
PY=/usr/bin/python3

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1))
	echo "not ok $n - $1"
	[ -f "$T/out" ] && sed 's/^/#   /' "$T/out" | head -n 30
}
# t DESC CMD...: CMD exits 0 (its output, stdout and stderr, in $T/out)
t() {
	desc=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}

# The GNU build ID of the loaded atomic_dict, in hex: the note's 16-byte
# header (namesz, descsz, type, "GNU\0") and then the ID.
loaded_build_id() {
	od -An -v -tx1 /sys/module/atomic_dict/notes/.note.gnu.build-id 2>/dev/null |
		tr -d ' \n' | cut -c33-
}
is_loaded() { [ "$(loaded_build_id)" = "$1" ]; }

swap_module() {	# swap_module KO BUILD_ID WHAT
	t "rmmod atomic_dict (the module loaded so far)" rmmod atomic_dict
	t "insmod $3" insmod "$1"
	t "/dev/atomic_dict is back" test -c /dev/atomic_dict
	t "the module loaded is $3 (GNU build ID $2)" is_loaded "$2"
}

case $1 in
load)
	echo "1..9"
	# Else the build-ID checks below could not tell the two modules apart.
	t "the DKMS module and the tree's have distinct GNU build IDs" \
		test -n "$DKMS_BUILD_ID" -a -n "$TREE_BUILD_ID" -a "$DKMS_BUILD_ID" != "$TREE_BUILD_ID"
	swap_module /lib/adict/dkms/atomic_dict.ko "$DKMS_BUILD_ID" \
		"the DKMS-built module"
	t "/usr/bin/adictctl is the packaged $VERSION" \
		sh -c "/usr/bin/adictctl --version | grep -qx 'adictctl $VERSION'"
	t "... and loads the packaged $LIBDIR/libadict.so.0" \
		sh -c "LD_TRACE_LOADED_OBJECTS=1 /usr/bin/adictctl | grep -q '$LIBDIR/libadict.so.0 '"
	t "libadict.so.0 is libadict0's file" test -f "$LIBDIR/libadict.so.0"
	t "adictctl reads the module's listing" /usr/bin/adictctl list
	;;
python)
	echo "1..3"
	cd "$T" || exit 1
	t "the Python package is the packaged one" \
		"$PY" -c 'import atomic_dict, sys; sys.exit(not atomic_dict.__file__.startswith("/usr/lib/python3/dist-packages/atomic_dict/"))'
	t "the README example runs on the packaged package and the DKMS module" \
		"$PY" /lib/adict/readme_example.py
	# A named device table from the package, added to by forked children,
	# read back by the package and by adictctl.
	t "a named table: 4 forked children add, the parent and adictctl see 4000" \
		"$PY" - <<'EOF'
import os, subprocess, sys
import atomic_dict
name = "deb_vm_py"
d = atomic_dict.AtomicDict(1000, name=name)
try:
    assert d.info()["backend"] == "device", d.info()
    kids = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            for _ in range(1000):
                d[7].add(1)
            os._exit(0)
        kids.append(pid)
    for pid in kids:
        assert os.waitpid(pid, 0)[1] == 0
    assert d[7].load() == 4000, d[7].load()
    out = subprocess.run(["/usr/bin/adictctl", "get", name, "7"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "4000", out
finally:
    atomic_dict.unlink(name)
print("# 4000 from the package and from adictctl")
EOF
	;;
restore)
	echo "1..4"
	swap_module /lib/adict/atomic_dict.ko "$TREE_BUILD_ID" "the tree's module again"
	;;
*)
	echo "usage: deb-vm.sh load|python|restore" >&2
	exit 2
	;;
esac
rm -rf "$T"
[ "$fails" -eq 0 ]
