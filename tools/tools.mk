# SPDX-License-Identifier: MIT
#
# adictctl and the packaging files; included by the top-level Makefile.
#
#   make tools            builds $(B)/adictctl too
#   make install          also installs adictctl (BINDIR), its man pages,
#                         its bash completion (BASHCOMPDIR) and the udev
#                         rule (UDEVRULESDIR)
#   make install-dkms     module sources + dkms.conf under DKMSDIR, and the
#                         modules-load.d entry (MODULESLOADDIR)
#   make check-adictctl   the shell tests in tests/host/adictctl/ (plain and
#                         ASan+UBSan builds of adictctl)
#
# adictctl goes to bin, not sbin: besides root, the members of the device's
# group use it (Documentation/adictctl.rst).

ADICTCTL_SRCS := tools/adictctl.c tools/adictctl-key.c tools/adictctl-dump.c \
	tools/adictctl-view.c tools/adictctl-export.c tools/adictctl-table.c \
	tools/adictctl-dumpfile.c tools/adictctl-util.c
ADICTCTL_DEFS := -DADICTCTL_VERSION='"$(VERSION)"'
UDEVRULESDIR ?= /etc/udev/rules.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
MODULESLOADDIR ?= /etc/modules-load.d
DKMSDIR ?= /usr/src/atomic_dict-$(VERSION)

.PHONY: install-tools uninstall-tools install-dkms uninstall-dkms check-adictctl

tools: $(B)/adictctl

$(B)/adictctl: $(ADICTCTL_SRCS) tools/adictctl.h $(B)/libadict.a $(HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_ADICT) $(ADICTCTL_DEFS) -o $@ $(ADICTCTL_SRCS) $(B)/libadict.a $(LIBS_ADICT)

install: install-tools
uninstall: uninstall-tools

install-tools: $(B)/adictctl
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(B)/adictctl $(DESTDIR)$(BINDIR)/
	install -m 644 tools/packaging/60-atomic-dict.rules $(DESTDIR)$(UDEVRULESDIR)/
	install -m 644 tools/packaging/adictctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/adictctl

uninstall-tools:
	rm -f $(DESTDIR)$(BINDIR)/adictctl $(DESTDIR)$(UDEVRULESDIR)/60-atomic-dict.rules \
		$(DESTDIR)$(BASHCOMPDIR)/adictctl

# The module's sources in the repository's own layout, so that kmod/'s
# include paths work unchanged; dkms builds kmod/ from there.
DKMS_SRCS = $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild $(wildcard kmod/Makefile)
install-dkms:
	@[ -e kmod/Kbuild ] || { echo "install-dkms: kmod/Kbuild is missing" >&2; exit 1; }
	install -d $(DESTDIR)$(DKMSDIR)/kmod $(DESTDIR)$(DKMSDIR)/uapi/linux \
		$(DESTDIR)$(DKMSDIR)/lib/include/adict $(DESTDIR)$(MODULESLOADDIR)
	install -m 644 $(DKMS_SRCS) $(DESTDIR)$(DKMSDIR)/kmod/
	install -m 644 uapi/linux/atomic_dict.h $(DESTDIR)$(DKMSDIR)/uapi/linux/
	install -m 644 lib/include/adict/core.h lib/include/adict/atomics.h \
		lib/include/adict/hash.h $(DESTDIR)$(DKMSDIR)/lib/include/adict/
	sed 's|@VERSION@|$(VERSION)|' tools/packaging/dkms.conf.in > $(DESTDIR)$(DKMSDIR)/dkms.conf
	install -m 644 tools/packaging/modules-load.d/atomic_dict.conf $(DESTDIR)$(MODULESLOADDIR)/
	@echo "now: dkms install atomic_dict/$(VERSION)"

uninstall-dkms:
	rm -rf $(DESTDIR)$(DKMSDIR)
	rm -f $(DESTDIR)$(MODULESLOADDIR)/atomic_dict.conf

# The shell tests run twice: against adictctl, and against an ASan+UBSan
# build of it (the library compiled in), which fails on any memory error.
$(B)/asan/adictctl: $(ADICTCTL_SRCS) tools/adictctl.h $(LIB_SRCS) $(HDRS) lib/adict-internal.h
	$(call msg,CC-ASAN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ADICT) $(ADICTCTL_DEFS) -O1 $(SAN_asan) -o $@ $(ADICTCTL_SRCS) $(LIB_CORE_SRCS) $(LIBS_ADICT)

check-host: check-adictctl
check-adictctl: $(B)/adictctl $(B)/asan/adictctl
	$(Q)tests/host/adictctl/run.sh $(B)
	$(Q)ADICTCTL=$(B)/asan/adictctl ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		tests/host/adictctl/run.sh $(B)
