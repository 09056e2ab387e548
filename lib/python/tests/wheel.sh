#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The atomic_dict distribution as Python users get it, with Debian's
# python3 and its setuptools, wheel, pip and venv (tests/deps.sh):
#  1. make python-wheel builds the wheel offline;
#  2. pip installs it into a fresh venv; pip lists it, importlib.metadata
#     finds it, its version is atomic_dict.__version__; the original README
#     example and test program run unchanged from there (not the build tree);
#     pip uninstalls it;
#  3. make install-python PREFIX=/usr DESTDIR=... puts it in Debian's
#     /usr/lib/python3/dist-packages (or the interpreter's layout elsewhere),
#     importable with its dist-info, whose METADATA says what the wheel's
#     says; make uninstall-python removes it all.
# Usage: wheel.sh BUILD_DIR [PYTHON]
set -u
B=$(mkdir -p "$1" && cd "$1" && pwd)
PY=${2:-/usr/bin/python3}
T=$B/python-dist-test
HERE=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { name=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$name"; else bad "$name"; sed 's/^/#   /' "$T/out"; fi; }

rm -rf "$T" && mkdir -p "$T"
for m in setuptools wheel pip venv; do
	"$PY" -c "import $m" 2>/dev/null || {
		echo "wheel.sh: $PY lacks $m: install python3-setuptools python3-wheel" \
			"python3-pip python3-venv (tests/deps.sh)" >&2
		echo "python-dist: 0 passed, 1 failed"; exit 1; }
done

check "make python-wheel builds the wheel offline" \
	make -s python-wheel PYTHON="$PY" B="$B"
WHL=$(ls "$B"/python/dist/atomic_dict-*.whl 2>/dev/null | head -n 1)
check "the wheel carries the package, its stub and dist-info" sh -c "
	\"$PY\" -m zipfile -l \"$WHL\" > \"$T/list\" &&
	for f in atomic_dict/__init__.py atomic_dict/_atomic_dict.pyi atomic_dict/capi.py \
		atomic_dict/py.typed atomic_dict-1.0.0.dist-info/METADATA \
		atomic_dict-1.0.0.dist-info/RECORD; do
		grep -q \" *\$f \" \"$T/list\" || { echo \"missing \$f\"; exit 1; }; done &&
	grep -q 'atomic_dict/_atomic_dict\..*\.so ' \"$T/list\""

V=$T/venv
check "a fresh venv installs the wheel with pip, offline" sh -c "
	\"$PY\" -m venv \"$V\" && \"$V/bin/python\" -m pip install -q --no-index --no-deps \"$WHL\""
# Run from an empty directory, so nothing of the build tree is importable.
mkdir -p "$T/cwd"
check "pip lists atomic_dict 1.0.0" sh -c "
	\"$V/bin/python\" -m pip list --disable-pip-version-check 2>/dev/null | grep -Eiq '^atomic[-_]dict +1\.0\.0\$'"
check "importlib.metadata version == __version__ == 1.0.0, imported from the venv" sh -c "
	cd \"$T/cwd\" && \"$V/bin/python\" -c '
import importlib.metadata, sys, atomic_dict
v = importlib.metadata.version(\"atomic_dict\")
assert v == atomic_dict.__version__ == \"1.0.0\", (v, atomic_dict.__version__)
assert atomic_dict.__file__.startswith(sys.prefix), atomic_dict.__file__
print(atomic_dict.__file__)'"
check "the original README example runs unchanged from the venv" sh -c "
	cd \"$T/cwd\" && \"$V/bin/python\" \"$HERE/original/readme_example.py\""
check "the original test program passes unchanged from the venv" sh -c "
	cd \"$T/cwd\" && \"$V/bin/python\" \"$HERE/original/test_atomic_dict.py\" | tail -n 1 | grep -qx 'OK!'"
check "pip uninstalls it" sh -c "
	test -x \"$V/bin/python\" &&
	\"$V/bin/python\" -m pip uninstall -q -y atomic_dict &&
	cd \"$T/cwd\" && ! \"$V/bin/python\" -c 'import atomic_dict' 2>/dev/null &&
	! ls \"$V\"/lib/python3*/site-packages | grep -q atomic_dict"

D=$T/destdir
SITE=$("$PY" -c 'import sysconfig; print("/usr/lib/python3/dist-packages" if "deb_system" in sysconfig.get_scheme_names() else sysconfig.get_path("platlib", "posix_prefix", {"base": "/usr", "platbase": "/usr"}))')
check "make install-python PREFIX=/usr DESTDIR puts it in $SITE" sh -c "
	make -s install-python PYTHON=\"$PY\" B=\"$B\" PREFIX=/usr DESTDIR=\"$D\" &&
	test -f \"$D$SITE/atomic_dict/__init__.py\" &&
	test -f \"$D$SITE/atomic_dict-1.0.0.dist-info/METADATA\" &&
	cd \"$T/cwd\" && PYTHONPATH=\"$D$SITE\" \"$PY\" -c '
import importlib.metadata, atomic_dict
assert importlib.metadata.version(\"atomic_dict\") == \"1.0.0\"
d = atomic_dict.AtomicDict(10); d[1].add(1); assert d[1] == 1'"
check "make install-python's METADATA says what the wheel's says" sh -c "
	\"$PY\" -m zipfile -e \"$WHL\" \"$T/unzipped\" &&
	for f in Name Version Summary License Requires-Python; do
		a=\$(grep \"^\$f: \" \"$T/unzipped/atomic_dict-1.0.0.dist-info/METADATA\") &&
		b=\$(grep \"^\$f: \" \"$D$SITE/atomic_dict-1.0.0.dist-info/METADATA\") &&
		[ \"\$a\" = \"\$b\" ] || { echo \"\$f: wheel '\$a', make install '\$b'\"; exit 1; }; done"
check "make uninstall-python removes every file it installed" sh -c "
	make -s uninstall-python PYTHON=\"$PY\" B=\"$B\" PREFIX=/usr DESTDIR=\"$D\" &&
	test -z \"\$(find \"$D\" -type f)\""

echo "python-dist: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
