# SPDX-License-Identifier: MIT
#
# The atomic_dict Python package (lib/python/), included by the top Makefile.
#
#   make python          build/python/atomic_dict/ (PYTHONPATH=build/python)
#   make check-python    unittest suite (part of check-host)
#   make bench-python    lib/python/bench.py (part of bench)
#   make install-python  into $(PYTHONDIR) (part of install)
#
# PYTHON picks the interpreter (default: the python3 first on PATH); its own
# headers and extension suffix are used, so the build needs no PyPI package,
# only Debian's python3-dev or a self-built interpreter's include dir.
# libadict's sources are compiled -fPIC into the extension (build/libadict.a
# is not PIC), with its symbols hidden: only PyInit__atomic_dict is exported.

PYTHON ?= python3
PY_INCLUDE := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
PY_EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null)
PYTHONDIR ?= $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])' 2>/dev/null)

PY_B := $(B)/python
PY_PKG := $(PY_B)/atomic_dict
PY_EXT := $(PY_PKG)/_atomic_dict$(PY_EXT_SUFFIX)
PY_SRCS := $(wildcard lib/python/src/atomic_dict/*.py lib/python/src/atomic_dict/*.pyi) \
	lib/python/src/atomic_dict/py.typed
PY_FILES := $(PY_SRCS:lib/python/src/atomic_dict/%=$(PY_PKG)/%)
PY_CFLAGS := $(CFLAGS_ADICT) -fPIC -I$(PY_INCLUDE) -DADICT_API= \
	-DATOMIC_DICT_VERSION='"$(VERSION)"'

.PHONY: python check-python bench-python install-python uninstall-python

all: python
check-host: check-python
bench: bench-python
install: install-python
uninstall: uninstall-python

python: $(PY_EXT) $(PY_FILES)

$(PY_B)/.python-ok:
	@test -n "$(PY_EXT_SUFFIX)" || { echo "python.mk: '$(PYTHON)' does not run" >&2; exit 1; }
	@test -f "$(PY_INCLUDE)/Python.h" || { echo "python.mk: no Python.h in '$(PY_INCLUDE)':" \
		"install python3-dev (apt-get install python3-dev) or set PYTHON=" >&2; exit 1; }
	@mkdir -p $(dir $@) && touch $@

$(PY_B)/obj/_atomic_dict.o: lib/python/_atomic_dict.c $(HDRS) $(PY_B)/.python-ok
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PY_CFLAGS) -c -o $@ $<

$(PY_B)/obj/%.o: lib/%.c $(HDRS) lib/adict-internal.h $(PY_B)/.python-ok
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PY_CFLAGS) -c -o $@ $<

$(PY_EXT): $(PY_B)/obj/_atomic_dict.o $(PY_B)/obj/adict.o $(PY_B)/obj/adict-uring.o
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -shared -o $@ $^ $(LIBS_ADICT) $(LDFLAGS)

$(PY_PKG)/%: lib/python/src/atomic_dict/%
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

check-python: python
	$(Q)PYTHONPATH=$(PY_B) $(PYTHON) lib/python/tests/run.py

bench-python: python
	$(Q)PYTHONPATH=$(PY_B) $(PYTHON) lib/python/bench.py $(BENCH_PYTHON_ARGS)

install-python: python
	install -d $(DESTDIR)$(PYTHONDIR)/atomic_dict
	install -m 755 $(PY_EXT) $(DESTDIR)$(PYTHONDIR)/atomic_dict/
	install -m 644 $(PY_FILES) $(DESTDIR)$(PYTHONDIR)/atomic_dict/

uninstall-python:
	rm -rf $(DESTDIR)$(PYTHONDIR)/atomic_dict
