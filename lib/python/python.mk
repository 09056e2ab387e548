# SPDX-License-Identifier: MIT
#
# The atomic_dict Python package (lib/python/), included by the top Makefile.
#
#   make python          build/python/atomic_dict/ (PYTHONPATH=build/python)
#   make python-wheel    build/python/dist/atomic_dict-$(PY_VERSION)-*.whl
#   make check-python    unittest suite, mypy --strict, the wheel in a venv
#                        (part of check-host)
#   make bench-python    lib/python/bench.py (part of bench)
#   make install-python  the package and its dist-info into $(PYTHONDIR)
#                        (part of install)
#
# PYTHON picks the interpreter (default: the python3 first on PATH); its own
# headers and extension suffix are used, so the build needs no PyPI package,
# only Debian's python3-dev or a self-built interpreter's include dir.
# libadict's sources are compiled -fPIC into the extension (build/libadict.a
# is not PIC), with its symbols hidden: only PyInit__atomic_dict is exported.
#
# The wheel is built by pip from lib/python/pyproject.toml with setuptools
# and wheel from Debian (python3-pip, python3-setuptools, python3-wheel),
# offline (--no-build-isolation), in a staged tree that carries its own copy
# of libadict's sources.  install-python (lib/python/install.py, standard
# library only) copies the built package and writes its dist-info, as an
# installed wheel has it, so pip and importlib.metadata see the package; it
# goes into PYTHONDIR: under
# PREFIX=/usr with Debian's python3 that is /usr/lib/python3/dist-packages,
# under PREFIX=/usr/local /usr/local/lib/python3.X/dist-packages, and
# PREFIX/lib/python3.X/site-packages otherwise.

# The python3 first on PATH, resolved to its real path once per make: a
# version manager's shim (pyenv) would cost a shell script on every call.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(or $(shell python3 -c 'import sys; print(sys.executable)' 2>/dev/null),python3)
endif
# Debian's own interpreter, for the packaging test (its setuptools and pip).
PYTHON_DEB ?= /usr/bin/python3
PY_INCLUDE := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
PY_EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null)
PYTHONDIR ?= $(shell $(PYTHON) -c 'import sys, sysconfig; p = sys.argv[1]; \
	n = sysconfig.get_scheme_names(); \
	s, b = ("deb_system", p) if p == "/usr" and "deb_system" in n else \
	("posix_local", "/usr") if p == "/usr/local" and "posix_local" in n else ("posix_prefix", p); \
	print(sysconfig.get_path("platlib", s, {"base": b, "platbase": b}))' $(PREFIX) 2>/dev/null)
PY_VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"$$/\1/p' lib/python/src/atomic_dict/__init__.py)

PY_B := $(B)/python
PY_PKG := $(PY_B)/atomic_dict
PY_EXT := $(PY_PKG)/_atomic_dict$(PY_EXT_SUFFIX)
PY_SRCS := $(wildcard lib/python/src/atomic_dict/*.py lib/python/src/atomic_dict/*.pyi) \
	lib/python/src/atomic_dict/py.typed
PY_FILES := $(PY_SRCS:lib/python/src/atomic_dict/%=$(PY_PKG)/%)
# Modules and stubs built before their source was removed or renamed: a
# stale stub would still be read by mypy and stubtest.
PY_STALE := $(filter-out $(PY_FILES),$(wildcard $(PY_PKG)/*.py $(PY_PKG)/*.pyi))
PY_CFLAGS := $(CFLAGS_ADICT) -fPIC -I$(PY_INCLUDE) -DADICT_API=
PY_STAGE := $(PY_B)/wheel-src
PY_DIST := $(PY_B)/dist
# libadict's sources as the staged tree's copy has them (see setup.py).
PY_LIBADICT := lib/adict.c lib/adict-uring.c lib/adict-internal.h \
	lib/include/adict.h lib/include/adict/core.h lib/include/adict/atomics.h \
	lib/include/adict/hash.h lib/include/adict/atomic_dict.h \
	uapi/linux/atomic_dict.h

.PHONY: python python-wheel check-python bench-python install-python uninstall-python

all: python
check-host: check-python
bench: bench-python
# PYTHON_INSTALL=no leaves the package to another installer (Debian's
# pybuild, tools/packaging/debian/rules).
ifneq ($(PYTHON_INSTALL),no)
install: install-python
uninstall: uninstall-python
endif

python: $(PY_EXT) $(PY_FILES)
ifneq ($(PY_VERSION),$(VERSION))
	$(error lib/python/src/atomic_dict/__init__.py has __version__ "$(PY_VERSION)", the release (Makefile VERSION) is $(VERSION))
endif
	$(if $(PY_STALE),$(Q)rm -f $(PY_STALE))

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

python-wheel: $(PY_B)/.python-ok
	$(Q)rm -rf $(PY_STAGE) $(PY_DIST) && mkdir -p $(PY_STAGE)/libadict $(PY_DIST)
	$(Q)cp -r lib/python/pyproject.toml lib/python/setup.py lib/python/_atomic_dict.c \
		lib/python/src $(PY_STAGE)/
	$(Q)for f in $(PY_LIBADICT); do d=$(PY_STAGE)/libadict/$${f#lib/}; \
		mkdir -p $$(dirname $$d) && cp $$f $$d; done
	$(call msg,WHEEL,$(PY_DIST))
	$(Q)$(PYTHON) -m pip wheel -q --no-build-isolation --no-deps --no-index \
		-w $(PY_DIST) $(PY_STAGE) >$(PY_B)/wheel.log 2>&1 || \
		{ cat $(PY_B)/wheel.log >&2; echo "python.mk: pip wheel failed; it needs" \
		"python3-pip, python3-setuptools and python3-wheel (tests/deps.sh)" >&2; exit 1; }

check-python: python
	$(Q)PYTHONPATH=$(PY_B) $(PYTHON) lib/python/tests/run.py
	$(Q)lib/python/tests/typecheck.sh $(PY_B)
	$(Q)lib/python/tests/wheel.sh $(B) $(PYTHON_DEB)

bench-python: python
	$(Q)PYTHONPATH=$(PY_B) $(PYTHON) lib/python/bench.py $(BENCH_PYTHON_ARGS)

install-python: python
	$(PYTHON) lib/python/install.py $(PY_PKG) lib/python/pyproject.toml \
		$(DESTDIR)$(PYTHONDIR) $(PY_VERSION)

uninstall-python:
	rm -rf $(DESTDIR)$(PYTHONDIR)/atomic_dict \
		$(DESTDIR)$(PYTHONDIR)/atomic_dict-$(PY_VERSION).dist-info
