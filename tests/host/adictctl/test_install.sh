#!/bin/sh
# SPDX-License-Identifier: MIT
# make install / uninstall into a DESTDIR: the installed tree is complete,
# the pkg-config file leads a compiler to the installed headers and
# library, the installed adictctl runs; uninstall leaves no file behind.
# Also install-dkms / uninstall-dkms.
. "$(dirname "$0")/lib.sh"

D=$W/root
P=/usr/local
MAKE="make -C $ROOT --no-print-directory"
expect 0 "" "make install DESTDIR=..." $MAKE install DESTDIR="$D"

for f in lib/libadict.a lib/libadict.so lib/libadict.so.0 include/adict.h \
	 include/adict/core.h include/adict/atomics.h include/adict/hash.h \
	 include/linux/atomic_dict.h \
	 lib/pkgconfig/libadict.pc bin/adictctl share/man/man8/adictctl.8 \
	 share/man/man7/libadict.7 share/man/man3/adict_create.3; do
	check "installed: $P/$f" test -e "$D$P/$f"
done
check "installed: the udev rule" test -f "$D/etc/udev/rules.d/60-atomic-dict.rules"
check "installed: the bash completion" test -f "$D$P/share/bash-completion/completions/adictctl"
check "the udev rule sets the group and the mode" \
	grep -q 'GROUP="atomic_dict", MODE="0660"' "$D/etc/udev/rules.d/60-atomic-dict.rules"
check "install alone does not load the module at boot" \
	test ! -e "$D/etc/modules-load.d/atomic_dict.conf"

# pkg-config, with the DESTDIR as a sysroot, gives flags that build and run
# a program against the installed copy (shared library).
export PKG_CONFIG_SYSROOT_DIR="$D" PKG_CONFIG_LIBDIR="$D$P/lib/pkgconfig"
check "pkg-config finds libadict" pkg-config --exists libadict
check "pkg-config --cflags points into the installed tree" \
	sh -c "pkg-config --cflags libadict | grep -q -- '-I$D$P/include'"
cat >"$W/t.c" <<'C'
#include <adict.h>
#include <stdio.h>
int main(void)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD };
	struct adict *t;
	__u64 v = 0;

	if (adict_create(&t, 100, &o) || adict_add(t, 7, 5, NULL) ||
	    adict_load(t, 7, &v) || v != 5)
		return 1;
	printf("%s %llu\n", adict_backend_name(adict_backend(t)), v);
	adict_close(t);
	return 0;
}
C
# shellcheck disable=SC2046
check "a program builds with the installed headers and pkg-config flags" \
	cc -o "$W/t" "$W/t.c" $(pkg-config --cflags --libs libadict)
expect 0 "^memfd 5$" "... and runs against the installed shared library" \
	env LD_LIBRARY_PATH="$D$P/lib" "$W/t"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR

expect 0 "^adictctl [0-9]" "the installed adictctl runs" "$D$P/bin/adictctl" --version
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

expect 0 "" "make uninstall DESTDIR=..." $MAKE uninstall DESTDIR="$D"
find "$D" ! -type d >"$W/left"
check "uninstall leaves no file behind" test ! -s "$W/left"
[ -s "$W/left" ] && sed 's/^/#   left: /' "$W/left"

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
	check "uninstall-dkms leaves no file" sh -c "[ -z \"\$(find '$K' ! -type d)\" ]"
else
	skip "install-dkms" "kmod/ has no Kbuild yet"
fi
finish
