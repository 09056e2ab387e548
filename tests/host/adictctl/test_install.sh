#!/bin/sh
# SPDX-License-Identifier: MIT
# make install / uninstall into a DESTDIR: the installed tree is complete,
# the pkg-config file leads a compiler to the installed headers and
# library, the installed adictctl runs; uninstall leaves no file behind.
# Also install-dkms / uninstall-dkms.
. "$(dirname "$0")/lib.sh"

# What this tests is the tree's make install and the adictctl it installs,
# never $ADICTCTL: the suite's second pass, against the ASan build
# (tools/tools.mk), would only repeat the first.
if [ "$A" != "$B/adictctl" ]; then
	skip "make install and uninstall" "they install the tree's build, not $A: the pass against $B/adictctl runs them"
	finish
	exit
fi

D=$W/root
P=/usr/local
MAKE="make -C $ROOT --no-print-directory"
expect 0 "" "make install DESTDIR=..." $MAKE install DESTDIR="$D"

for f in lib/libadict.a lib/libadict.so lib/libadict.so.0 include/adict.h \
	 include/adict/core.h include/adict/atomics.h include/adict/hash.h \
	 include/adict/atomic_dict.h \
	 lib/pkgconfig/libadict.pc bin/adictctl share/man/man8/adictctl.8 \
	 share/man/man7/libadict.7 share/man/man3/adict_create.3; do
	check "installed: $P/$f" test -e "$D$P/$f"
done
check "nothing under linux-libc-dev's include/linux/" test ! -e "$D$P/include/linux"
check "the uapi header is a file, not a symlink" test -f "$D$P/include/adict/atomic_dict.h" -a ! -L "$D$P/include/adict/atomic_dict.h"
check "installed: the licences and NEWS" sh -c "cd '$D$P/share/doc/atomic-dict' && test -f LICENSE -a -f LICENSE.MIT -a -f LICENSE.GPL-2.0 -a -f LICENSE.Linux-syscall-note -a -f NEWS.rst"
check "installed: the udev rule" test -f "$D/etc/udev/rules.d/60-atomic-dict.rules"
check "installed: the bash completion" test -f "$D$P/share/bash-completion/completions/adictctl"
check "the udev rule sets the group and the mode" \
	grep -q 'GROUP="atomic_dict", MODE="0660"' "$D/etc/udev/rules.d/60-atomic-dict.rules"
check "install alone does not load the module at boot" \
	test ! -e "$D/etc/modules-load.d/atomic_dict.conf"

# pkg-config, with the DESTDIR as a sysroot, gives flags that build and run
# a program against the installed copy (shared library).
# The system's own path stays behind it: libadict.pc requires liburing.pc.
export PKG_CONFIG_SYSROOT_DIR="$D" \
	PKG_CONFIG_LIBDIR="$D$P/lib/pkgconfig:$(pkg-config --variable pc_path pkg-config)"
check "pkg-config finds libadict" pkg-config --exists libadict
check "pkg-config --cflags points into the installed tree" \
	sh -c "pkg-config --cflags libadict | grep -q -- '-I$D$P/include'"
if [ -e /usr/include/liburing.h ]; then
	check "the .pc file names liburing in Requires.private" sh -c \
		"pkg-config --print-requires-private libadict | grep -qx liburing"
	check "... so a static link gets -luring" sh -c \
		"pkg-config --static --libs libadict | grep -q -- -luring"
fi
# shellcheck disable=SC2046
check "a program builds with the installed headers and pkg-config flags" \
	cc -o "$W/t" "$ROOT/tests/host/headers/use.c" $(pkg-config --cflags --libs libadict)
expect 0 "^memfd 5$" "... and runs against the installed shared library" \
	env LD_LIBRARY_PATH="$D$P/lib" "$W/t"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR

check "the installed adictctl links the shared libadict" sh -c "readelf -d '$D$P/bin/adictctl' | grep -q 'NEEDED.*libadict.so.0'"
export LD_LIBRARY_PATH="$D$P/lib"
expect 0 "^adictctl $($MAKE -s print-version)\$" "the installed adictctl runs, with the release's version" "$D$P/bin/adictctl" --version
$DUMPFMT write "$W/a.adict" 10 t 600 1=2
expect 0 "valid adictctl dump" "... and verifies a dump" "$D$P/bin/adictctl" dump --verify "$W/a.adict"
if command -v man >/dev/null; then
	expect 0 "adictctl" "man renders the installed adictctl(8)" \
		env MANWIDTH=80 man -l "$D$P/share/man/man8/adictctl.8"
	expect 0 "libadict" "man renders the installed libadict(7)" \
		env MANWIDTH=80 man -l "$D$P/share/man/man7/libadict.7"
else
	skip "man pages render" "no man"
fi

unset LD_LIBRARY_PATH
expect 0 "" "make uninstall DESTDIR=..." $MAKE uninstall DESTDIR="$D"
# DESTDIR did not exist before install, so uninstall removes it too.
find "$D" -mindepth 1 >"$W/left" 2>/dev/null
check "uninstall leaves no file and no directory behind" test ! -s "$W/left"
[ -s "$W/left" ] && sed 's/^/#   left: /' "$W/left"

# Directories that were there before install stay after uninstall.
mkdir -p "$D$P/lib" "$D$P/bin"
touch "$D$P/bin/theirs"
expect 0 "" "make install into a tree that has lib/ and bin/" $MAKE install DESTDIR="$D"
expect 0 "" "... make uninstall" $MAKE uninstall DESTDIR="$D"
check "... keeps the lib/ that was there, empty" test -d "$D$P/lib"
check "... keeps bin/ and the file that was there" test -f "$D$P/bin/theirs"
check "... removes what install created" test ! -e "$D$P/include" -a ! -e "$D$P/share"
rm -rf "$D"

# DKMS: the module's sources in the repository layout, dkms.conf, autoload.
K=$W/dkms
if [ -e "$ROOT/kmod/Kbuild" ]; then
	expect 0 "dkms install atomic_dict/" "make install-dkms DESTDIR=..." \
		$MAKE install-dkms DESTDIR="$K"
	S=$(echo "$K"/usr/src/atomic_dict-*)
	for f in dkms.conf kmod/Kbuild kmod/atomic_dict.c uapi/linux/atomic_dict.h \
		 lib/include/adict/core.h lib/include/adict/atomics.h \
		 lib/include/adict/hash.h; do
		check "dkms tree: $f" test -f "$S/$f"
	done
	# dkms sources dkms.conf with bash (it has arrays).
	check "dkms.conf names the release it was installed from" bash -c \
		". '$S/dkms.conf' && [ \"atomic_dict-\$PACKAGE_VERSION\" = '$(basename "$S")' ] &&
		 [ \"\${BUILT_MODULE_NAME[0]}\" = atomic_dict ] && [ \"\$AUTOINSTALL\" = yes ]"
	check "modules-load.d entry" grep -qx atomic_dict "$K/etc/modules-load.d/atomic_dict.conf"
	expect 0 "" "make uninstall-dkms DESTDIR=..." $MAKE uninstall-dkms DESTDIR="$K"
	check "uninstall-dkms leaves no file and no directory" sh -c "[ -z \"\$(find '$K' -mindepth 1)\" ]"
else
	skip "install-dkms" "kmod/ has no Kbuild yet"
fi
finish
