# SPDX-License-Identifier: MIT
#
# atomic-dict: one entry point.
#
#   make               library (static + shared), tools, tests, Python package
#   make check         every test: host tests, sanitizers, VM tests, checkers
#   make check-host    the tests that need no VM
#   make check-vm      device tests, KUnit, fuzzer in qemu (tests/vm/)
#   make bench         adict-bench + peers
#   make demo          the original README's workload on an anonymous table
#   make kmod          the kernel module against Debian's headers
#   make install       PREFIX=/usr/local DESTDIR=  (make uninstall: the same
#                      variables remove it all again)
#   make deb           Debian packages (tools/packaging/debian/)
#
# The distribution's CPPFLAGS, CFLAGS and LDFLAGS are honoured (given on
# the command line or in the environment, as dpkg-buildflags exports them);
# they come after the project's own flags, so they win.  adictctl links
# libadict's shared library; LINK=static links it statically instead.
#
# Build outputs go under build/.  V=1 shows the commands.

# VERSION is the release (packages, dkms, the Python distribution, NEWS).
# libadict's ABI is versioned on its own (Documentation/libadict.rst,
# "Versions"): ABI_MAJOR is the soname, and ABI_MAJOR.ABI_MINOR names the
# newest node of lib/libadict.map; the build stops if they disagree.  A
# release that adds symbols adds a map node and bumps ABI_MINOR; one that
# breaks the ABI bumps ABI_MAJOR (and the Debian package libadictN).
VERSION := 1.0.0
ABI_MAJOR := 0
ABI_MINOR := 2
ABI_VERSION := $(ABI_MAJOR).$(ABI_MINOR)

CC ?= cc
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

B := build
OPT ?= -O2
WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes \
	-Wmissing-prototypes -Werror=implicit-function-declaration
CPPFLAGS_ADICT := -Iuapi -Ilib/include
# Write-intent prefetches (batches): GCC turns __builtin_prefetch(p, 1, ..)
# into PREFETCHW only with -mprfchw; without it the "write" prefetch is a
# plain read prefetch (prefetcht0/prefetchnta), which brings a line shared
# and leaves the locked add to upgrade it.  PREFETCHW (CPUID PRFCHW) is on
# every 64-bit AMD CPU and on Intel's since Broadwell: build with PRFCHW=
# for an older CPU.  check-prefetchw proves the library has it.
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
PRFCHW ?= -mprfchw
endif
CFLAGS_ADICT = -std=gnu11 $(OPT) -g $(WARN) -D_GNU_SOURCE $(CPPFLAGS_ADICT) \
	$(CFLAGS_ADICT_URING) $(PRFCHW) -fvisibility=hidden $(CPPFLAGS) $(CFLAGS)

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

# LIB_CORE_SRCS: what sanitizer builds compile straight into a program.
LIB_CORE_SRCS := lib/adict.c lib/adict-uring.c
LIB_SRCS := $(LIB_CORE_SRCS) lib/ffi.c
# io_uring batches need Debian's liburing-dev; without it they are -EOPNOTSUPP.
HAVE_LIBURING := $(shell test -e /usr/include/liburing.h && echo 1)
ifeq ($(HAVE_LIBURING),1)
CFLAGS_ADICT_URING := -DADICT_HAVE_LIBURING
LIBS_ADICT := -luring
# liburing-dev ships liburing.pc: static users get -luring through it.
PC_REQUIRES_PRIVATE := liburing
endif
LIB_OBJS := $(LIB_SRCS:lib/%.c=$(B)/obj/%.o)
LIB_PIC_OBJS := $(LIB_SRCS:lib/%.c=$(B)/pic/%.o)
HDRS := uapi/linux/atomic_dict.h lib/include/adict.h \
	lib/include/adict/core.h lib/include/adict/atomics.h \
	lib/include/adict/hash.h
# What `make install` puts under INCDIR: adict.h, and adict/ with the uapi
# header beside libadict's own (lib/include/adict/atomic_dict.h is a
# symlink to uapi/linux/atomic_dict.h), never in linux-libc-dev's linux/.
INSTALL_HDRS := lib/include/adict/core.h lib/include/adict/atomics.h \
	lib/include/adict/hash.h lib/include/adict/atomic_dict.h

SONAME := libadict.so.$(ABI_MAJOR)
SHLIB := $(B)/libadict.so.$(ABI_VERSION)

HOST_TESTS := $(patsubst tests/host/%.c,%,$(wildcard tests/host/*.c))
TOOLS := adict-bench adict-demo adict-kbench

.PHONY: all lib tools tests check check-host check-bench-smoke check-prefetchw bench demo \
	install uninstall clean kmod check-vm check-vm-harness deps print-version \
	print-abi-version check-headers

all: lib tools tests

lib: $(B)/libadict.a $(SHLIB) $(B)/libadict.so $(B)/libadict.pc

$(B)/obj/%.o: lib/%.c $(HDRS) lib/adict-internal.h Makefile
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ADICT) -c -o $@ $<

$(B)/pic/%.o: lib/%.c $(HDRS) lib/adict-internal.h Makefile
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ADICT) -fPIC -DADICT_SHLIB -c -o $@ $<

$(B)/libadict.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The newest node of the version map must be this ABI version, or the
# build stops.
MAP_NEWEST = $(shell sed -n 's/^\(LIBADICT_[0-9.]*\) .*/\1/p' lib/libadict.map | tail -n 1)
$(SHLIB): $(LIB_PIC_OBJS) lib/libadict.map
	$(Q)[ "$(MAP_NEWEST)" = "LIBADICT_$(ABI_VERSION)" ] || \
		{ echo "lib/libadict.map: newest node $(MAP_NEWEST), ABI is LIBADICT_$(ABI_VERSION)" >&2; exit 1; }
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libadict.map \
		-Wl,--no-undefined -o $@ $(LIB_PIC_OBJS) $(LIBS_ADICT) $(LDFLAGS)

$(B)/libadict.so: $(SHLIB)
	$(Q)ln -sf libadict.so.$(ABI_VERSION) $(B)/$(SONAME) && ln -sf $(SONAME) $@

# libdir/includedir relative to ${prefix} when under it, so that
# pkg-config --define-prefix can relocate the installed file.
PC_SED = -e 's|@PREFIX@|$(PREFIX)|' \
	-e 's|@LIBDIR@|$(patsubst $(PREFIX)%,$${prefix}%,$(LIBDIR))|' \
	-e 's|@INCDIR@|$(patsubst $(PREFIX)%,$${prefix}%,$(INCDIR))|' \
	-e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES_PRIVATE@|$(PC_REQUIRES_PRIVATE)|' \
	-e 's|@LIBS_PRIVATE@|$(if $(PC_REQUIRES_PRIVATE),,$(LIBS_ADICT))|'
$(B)/libadict.pc: lib/libadict.pc.in Makefile
	$(Q)sed $(PC_SED) $< > $@

# ---- tools -----------------------------------------------------------------
# How programs of the tree link libadict: LINK=shared (default) or static.
# The in-tree binaries have no RUNPATH; the recipes below find build/'s
# libadict.so.0 through LD_LIBRARY_PATH.
LINK ?= shared
LINK_LIBADICT_shared = -L$(B) -ladict
LINK_LIBADICT_static = $(B)/libadict.a $(LIBS_ADICT)
LINK_LIBADICT = $(LINK_LIBADICT_$(LINK))
LINK_DEPS_shared = $(B)/libadict.so
LINK_DEPS_static = $(B)/libadict.a
LINK_DEPS = $(LINK_DEPS_$(LINK))
export LD_LIBRARY_PATH := $(abspath $(B))$(if $(LD_LIBRARY_PATH),:$(LD_LIBRARY_PATH))

tools: $(TOOLS:%=$(B)/%)

$(B)/adict-%: tools/adict-%.c $(B)/libadict.a $(HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_ADICT) -o $@ $< $(B)/libadict.a $(LIBS_ADICT) -lpthread -lm $(LDFLAGS)

# ---- host tests ------------------------------------------------------------
tests: $(HOST_TESTS:%=$(B)/tests/%)

$(B)/tests/%: tests/host/%.c tests/host/testutil.h tests/selftests/race.h $(B)/libadict.a $(HDRS)
	$(call msg,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ADICT) -Itests/host -o $@ $< $(B)/libadict.a $(LIBS_ADICT) -lpthread $(LDFLAGS)

# Sanitizer builds: every source compiled once per sanitizer into
# $(B)/obj-asan/ or $(B)/obj-tsan/ (its path kept: obj-asan/lib/adict.o),
# and each test linked from its own object and the library's.
SAN_asan := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_tsan := -fsanitize=thread
SAN_DEPS := $(HDRS) lib/adict-internal.h tests/host/testutil.h tests/selftests/race.h Makefile
SAN_LIB_OBJS = $(LIB_CORE_SRCS:%.c=$(B)/obj-$(1)/%.o)
$(B)/obj-asan/%.o: %.c $(SAN_DEPS)
	$(call msg,CC-ASAN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ADICT) -O1 $(SAN_asan) $(CFLAGS_OBJ) -Itests/host -c -o $@ $<
$(B)/obj-tsan/%.o: %.c $(SAN_DEPS)
	$(call msg,CC-TSAN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ADICT) -O1 $(SAN_tsan) $(CFLAGS_OBJ) -Itests/host -c -o $@ $<
.PRECIOUS: $(B)/obj-asan/%.o $(B)/obj-tsan/%.o
$(B)/asan/%: $(B)/obj-asan/tests/host/%.o $(call SAN_LIB_OBJS,asan)
	$(call msg,LD-ASAN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_asan) -o $@ $^ $(LIBS_ADICT) -lpthread
$(B)/tsan/%: $(B)/obj-tsan/tests/host/%.o $(call SAN_LIB_OBJS,tsan)
	$(call msg,LD-TSAN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_tsan) -o $@ $^ $(LIBS_ADICT) -lpthread

# Every host test binary in each build, one make target each, so that
# make -j runs them side by side: check-host-plain-TEST, check-host-asan-TEST
# (ASan+UBSan) and check-host-tsan-TEST (tests/run-host.sh).  TSan sees
# threads, not other processes: test_sigkill (processes only) and
# test_interleave (one OS thread, coroutines) have no TSan run.
HOST_RUNS := $(HOST_TESTS:%=plain-%) $(HOST_TESTS:%=asan-%) \
	$(filter-out tsan-test_sigkill tsan-test_interleave,$(HOST_TESTS:%=tsan-%))
check-host: all check-bench-smoke check-vm-harness check-headers \
	$(HOST_RUNS:%=check-host-%)
check-host-plain-%: $(B)/tests/%
	$(Q)tests/run-host.sh $(B) tests $*
check-host-asan-%: $(B)/asan/%
	$(Q)tests/run-host.sh $(B) asan $*
check-host-tsan-%: $(B)/tsan/%
	$(Q)tests/run-host.sh $(B) tsan $*

# The VM harness's verdicts on fixed console logs (tests/vm/selftest.sh).
check-vm-harness:
	$(Q)tests/vm/selftest.sh

# The public headers as C99/C11 -pedantic and C++ (g++, clang++), no warning.
check-headers: lib
	$(Q)tests/host/headers/check.sh $(B)

# `make check` installs what it needs first (Debian packages).  Then the
# The VM tests run in the background, their progress lines ([vm] ...) on
# stderr as they come and their summary in $(B)/check-vm.log, printed at
# the end; meanwhile the host suites and the static checkers (which fetch
# the kernel trees they read into the VM tests' cache, or find them there)
# run CHECK_JOBS at a time, each one's output kept together (-Otarget).
# A TCG guest keeps about one core busy: on 2 cores the two halves overlap.
CHECK_JOBS ?= 2
check: deps
	$(Q)mkdir -p $(B) || exit 1; t0=$$(date +%s); \
	{ $(MAKE) --no-print-directory check-vm; vm=$$?; \
	  echo "check-vm: exit $$vm, done after $$(( $$(date +%s) - t0 ))s"; \
	  [ $$vm = 0 ]; } > $(B)/check-vm.log & bg=$$!; \
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) -Otarget check-host check-static; host=$$?; \
	echo "check-host and check-static: exit $$host, done after $$(( $$(date +%s) - t0 ))s"; \
	wait $$bg; bgrc=$$?; cat $(B)/check-vm.log; \
	echo "check: check-host and check-static $$([ $$host = 0 ] && echo passed || echo FAILED)," \
		"check-vm $$([ $$bgrc = 0 ] && echo passed || echo FAILED)," \
		"$$(( $$(date +%s) - t0 ))s"; \
	[ $$host = 0 ] && [ $$bgrc = 0 ]

deps:
	$(Q)tests/deps.sh

# The test runs compile through Debian's ccache (tests/deps.sh installs it):
# its cc and gcc links (/usr/lib/ccache) come first on PATH, so this
# Makefile's builds, kbuild's module builds, the Debian package build and
# the Python extension's all go through it.  The cache lives beside the
# kernels, outside the tree ($(ADICT_CACHE)/ccache); paths under the tree
# are hashed relative to it and the working directory is not hashed, so a
# fresh clone elsewhere hits what the last run compiled (kbuild names a
# module's sources by its M= path, so the test runs build modules through
# fixed aliases, $(ADICT_CACHE)/kbuild/<name>).  A hit gives the compiler's
# object and prints its warnings again, as the compile did.  Used only where
# the cache directory can be written (root, as make check runs);
# ADICT_CCACHE=0 compiles without it.  Documentation/testing.rst, "Compiler
# cache".
ADICT_CACHE ?= /var/cache/adict
ADICT_CCACHE ?= 1
CCACHE_OK := $(if $(filter 1,$(ADICT_CCACHE)),$(shell d=$(ADICT_CACHE); \
	while [ ! -e "$$d" ]; do d=$$(dirname "$$d"); done; [ -w "$$d" ] && echo 1))
ifeq ($(CCACHE_OK),1)
TEST_GOALS := check check-host check-static check-vm check-deb check-python
$(TEST_GOALS): export PATH := /usr/lib/ccache:$(PATH)
$(TEST_GOALS): export CCACHE_DIR := $(ADICT_CACHE)/ccache
$(TEST_GOALS): export CCACHE_BASEDIR := $(CURDIR)
$(TEST_GOALS): export CCACHE_NOHASHDIR := 1
endif

# ---- bench and demo ---------------------------------------------------------
bench: $(B)/adict-bench
	$(Q)$(B)/adict-bench $(BENCH_ARGS)

# The write prefetches of adict_add_batch() must be PREFETCHW, not a read
# prefetch (x86-64 builds with -mprfchw; Documentation/bench.rst).
check-prefetchw: $(B)/libadict.a
	$(Q)if [ -n "$(PRFCHW)" ]; then \
		objdump -d --no-show-raw-insn $(B)/obj/adict.o | \
		awk '/^[0-9a-f]+ <adict_add_batch>:/ { f = 1; next } /^[0-9a-f]+ <.*>:/ { f = 0 } \
		     f && /prefetchw/ { w++ } f && /prefetch(t[0-2]|nta)/ { r++ } \
		     END { if (!w || r) { printf "check-prefetchw: adict_add_batch has %d prefetchw, %d read prefetches\n", w, r; exit 1 } \
			   printf "check-prefetchw: adict_add_batch: %d prefetchw, no read prefetch\n", w }'; \
	else echo "check-prefetchw: PRFCHW is empty (not x86-64, or disabled): skipped"; fi

check-host: check-prefetchw

# A smoke run of the benchmark itself, so check-host proves it works.
check-bench-smoke: $(B)/adict-bench
	$(Q)$(B)/adict-bench --quick --json > $(B)/bench-smoke.json && \
		/usr/bin/python3 tests/host/check_bench_json.py $(B)/bench-smoke.json

demo: all
	$(Q)$(B)/adict-demo

# ---- install ---------------------------------------------------------------
# Every directory that install may create; install-record notes in
# $(DIRLIST) those (and their parents) that do not exist yet, before any
# install step runs, and uninstall removes exactly those once empty.
# The sub-makefiles add theirs to INSTALL_DIRS_MORE.
DOCDIR ?= $(PREFIX)/share/doc/atomic-dict
DIRLIST = $(DESTDIR)$(DOCDIR)/installed-dirs
INSTALL_DIRS = $(INCDIR)/adict $(LIBDIR)/pkgconfig $(MANDIR)/man3 \
	$(MANDIR)/man4 $(MANDIR)/man7 $(MANDIR)/man8 $(DOCDIR) $(BINDIR) \
	$(INSTALL_DIRS_MORE)
MAN_PAGES := $(wildcard Documentation/man/*.[3478])
LICENSE_FILES := LICENSE LICENSE.MIT LICENSE.GPL-2.0 LICENSE.Linux-syscall-note

.PHONY: install-record
install-record:
	$(Q)tools/packaging/install-dirs.sh record $(DIRLIST) $(INSTALL_DIRS:%=$(DESTDIR)%)

# With `make install`, every install step runs after install-record.  A
# step run alone (make install-python) records nothing and leaves no list.
install: install-record
ifneq ($(filter install,$(MAKECMDGOALS)),)
install-tools install-python: install-record
endif

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)/adict \
		$(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(MANDIR)/man4 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)
	install -m 644 $(B)/libadict.a $(DESTDIR)$(LIBDIR)/
	install -m 644 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libadict.so.$(ABI_VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libadict.so
	install -m 644 lib/include/adict.h $(DESTDIR)$(INCDIR)/
	install -m 644 $(INSTALL_HDRS) $(DESTDIR)$(INCDIR)/adict/
	sed $(PC_SED) lib/libadict.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libadict.pc
	install -m 755 $(B)/adict-bench $(DESTDIR)$(BINDIR)/
	install -m 644 $(LICENSE_FILES) Documentation/NEWS.rst $(DESTDIR)$(DOCDIR)/
	for f in $(MAN_PAGES); do \
		s=$${f##*.}; \
		if [ -L "$$f" ]; then cp -P "$$f" $(DESTDIR)$(MANDIR)/man$$s/; \
		else install -m 644 "$$f" $(DESTDIR)$(MANDIR)/man$$s/; fi; \
	done

# The sub-makefiles' uninstall steps (uninstall-tools, ...) are
# prerequisites, so the directories are empty when this recipe runs.
uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libadict.a $(DESTDIR)$(LIBDIR)/libadict.so \
		$(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libadict.so.$(ABI_VERSION) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/libadict.pc $(DESTDIR)$(INCDIR)/adict.h \
		$(INSTALL_HDRS:lib/include/adict/%=$(DESTDIR)$(INCDIR)/adict/%) \
		$(DESTDIR)$(BINDIR)/adict-bench \
		$(LICENSE_FILES:%=$(DESTDIR)$(DOCDIR)/%) $(DESTDIR)$(DOCDIR)/NEWS.rst
	for f in $(MAN_PAGES); do \
		rm -f $(DESTDIR)$(MANDIR)/man$${f##*.}/$${f##*/}; done
	$(Q)tools/packaging/install-dirs.sh remove $(DIRLIST)

clean:
	rm -rf $(B)

print-version:
	@echo $(VERSION)

print-abi-version:
	@echo $(ABI_VERSION)

# Sub-makefiles of the other parts (each owns its targets).  Plain include:
# a missing one stops make instead of dropping its targets silently.
include kmod/kmod.mk
include tests/vm/vm.mk
include lib/python/python.mk
include tools/tools.mk
include tools/bench.mk
