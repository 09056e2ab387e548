# SPDX-License-Identifier: MIT
#
# adictctl and the packaging files; included by the top-level Makefile.
#
#   make tools            builds $(B)/adictctl too
#   make install          also installs adictctl (BINDIR), its man pages,
#                         its bash completion (BASHCOMPDIR), the udev
#                         rule (UDEVRULESDIR) and the sysusers.d entry of
#                         its group (SYSUSERSDIR)
#   make install-dkms     module sources + dkms.conf under DKMSDIR, and the
#                         modules-load.d entry (MODULESLOADDIR); without
#                         DESTDIR, also dkms add + dkms install (the module
#                         built and installed for the running kernel)
#   make check-adictctl   the shell tests in tests/host/adictctl/ (plain and
#                         ASan+UBSan builds of adictctl)
#
# adictctl goes to bin, not sbin: besides root, the members of the device's
# group use it (Documentation/adictctl.rst).

ADICTCTL_SRCS := tools/adictctl.c tools/adictctl-key.c tools/adictctl-dump.c \
	tools/adictctl-view.c tools/adictctl-export.c tools/adictctl-table.c \
	tools/adictctl-dumpfile.c tools/adictctl-tuple.c tools/adictctl-util.c
ADICTCTL_DEFS := -DADICTCTL_VERSION='"$(VERSION)"'
UDEVRULESDIR ?= /etc/udev/rules.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MODULESLOADDIR ?= /etc/modules-load.d
DKMSDIR ?= /usr/src/atomic_dict-$(VERSION)

.PHONY: install-tools uninstall-tools install-dkms uninstall-dkms check-adictctl

INSTALL_DIRS_MORE += $(UDEVRULESDIR) $(BASHCOMPDIR) $(SYSUSERSDIR) \
	$(PYTHONDIR)/atomic_dict

tools: $(B)/adictctl

$(B)/adictctl: $(ADICTCTL_SRCS) tools/adictctl.h $(LINK_DEPS) $(HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_ADICT) $(ADICTCTL_DEFS) -o $@ $(ADICTCTL_SRCS) $(LINK_LIBADICT) $(LDFLAGS)

install: install-tools
uninstall: uninstall-tools

install-tools: $(B)/adictctl
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(SYSUSERSDIR)
	install -m 755 $(B)/adictctl $(DESTDIR)$(BINDIR)/
	install -m 644 tools/packaging/60-atomic-dict.rules $(DESTDIR)$(UDEVRULESDIR)/
	install -m 644 tools/packaging/adictctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/adictctl
	install -m 644 tools/packaging/sysusers.d/atomic-dict.conf $(DESTDIR)$(SYSUSERSDIR)/

uninstall-tools:
	rm -f $(DESTDIR)$(BINDIR)/adictctl $(DESTDIR)$(UDEVRULESDIR)/60-atomic-dict.rules \
		$(DESTDIR)$(BASHCOMPDIR)/adictctl $(DESTDIR)$(SYSUSERSDIR)/atomic-dict.conf

# The module's sources in the repository's own layout, so that kmod/'s
# include paths work unchanged; dkms builds kmod/ from there.
DKMS_SRCS = $(wildcard kmod/*.c kmod/*.h) kmod/Kbuild $(wildcard kmod/Makefile)
DIRLIST_DKMS = $(DESTDIR)$(DOCDIR)/installed-dirs-dkms
install-dkms:
	$(Q)tools/packaging/install-dirs.sh record $(DIRLIST_DKMS) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(DKMSDIR) $(DESTDIR)$(MODULESLOADDIR)
	@[ -e kmod/Kbuild ] || { echo "install-dkms: kmod/Kbuild is missing" >&2; exit 1; }
	install -d $(DESTDIR)$(DKMSDIR)/kmod $(DESTDIR)$(DKMSDIR)/uapi/linux \
		$(DESTDIR)$(DKMSDIR)/lib/include/adict $(DESTDIR)$(MODULESLOADDIR)
	install -m 644 $(DKMS_SRCS) $(DESTDIR)$(DKMSDIR)/kmod/
	install -m 644 uapi/linux/atomic_dict.h $(DESTDIR)$(DKMSDIR)/uapi/linux/
	install -m 644 lib/include/adict/core.h lib/include/adict/atomics.h \
		lib/include/adict/hash.h $(DESTDIR)$(DKMSDIR)/lib/include/adict/
	sed 's|@VERSION@|$(VERSION)|' tools/packaging/dkms.conf.in > $(DESTDIR)$(DKMSDIR)/dkms.conf
	install -m 644 tools/packaging/modules-load.d/atomic_dict.conf $(DESTDIR)$(MODULESLOADDIR)/
	@if [ -z "$(DESTDIR)" ] && command -v dkms >/dev/null; then \
		dkms status -m atomic_dict -v $(VERSION) | grep -q . || \
			dkms add -m atomic_dict -v $(VERSION) && \
		dkms install -m atomic_dict -v $(VERSION); \
	else \
		echo "now: dkms install atomic_dict/$(VERSION)"; \
	fi

uninstall-dkms:
	@if [ -z "$(DESTDIR)" ] && command -v dkms >/dev/null && \
	    dkms status -m atomic_dict -v $(VERSION) | grep -q .; then \
		dkms remove -m atomic_dict -v $(VERSION) --all; fi
	rm -rf $(DESTDIR)$(DKMSDIR)
	rm -f $(DESTDIR)$(MODULESLOADDIR)/atomic_dict.conf
	$(Q)tools/packaging/install-dirs.sh remove $(DIRLIST_DKMS)

# The shell tests run twice: against adictctl, and against an ASan+UBSan
# build of it (the library compiled in), which fails on any memory error
# (test_install.sh, which tests make install rather than $ADICTCTL, runs
# in the first pass only).
$(ADICTCTL_SRCS:%.c=$(B)/obj-asan/%.o): CFLAGS_OBJ = $(ADICTCTL_DEFS)
$(ADICTCTL_SRCS:%.c=$(B)/obj-asan/%.o): tools/adictctl.h
$(B)/asan/adictctl: $(ADICTCTL_SRCS:%.c=$(B)/obj-asan/%.o) $(call SAN_LIB_OBJS,asan)
	$(call msg,LD-ASAN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_asan) -o $@ $^ $(LIBS_ADICT) $(LDFLAGS)

check-host: check-adictctl
check-adictctl: $(B)/adictctl $(B)/asan/adictctl
	$(Q)tests/host/adictctl/run.sh $(B)
	$(Q)ADICTCTL=$(B)/asan/adictctl ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		tests/host/adictctl/run.sh $(B)

# ---- Debian packages ----------------------------------------------------------
# make deb: the tracked files of this tree (uncommitted edits included) as a
# native source package with tools/packaging/debian/ as debian/, built with
# dpkg-buildpackage into $(DEB_DIR): libadict0, libadict-dev, adictctl,
# atomic-dict-dkms, python3-atomic-dict.  Documentation/packaging.rst.
# The build sees the system's PATH only, as a Debian build daemon's does:
# pybuild must find Debian's python3, not one that PATH puts first (with
# CCACHE_DIR set, as make check sets it, ccache's compiler links first).
DEB_DIR := $(B)/deb
DEB_SRC := $(DEB_DIR)/atomic-dict-$(VERSION)
DEB_DATE = $(shell git log -1 --format=%cD 2>/dev/null || date -R)
# Who builds the packages maintains them: DEBFULLNAME and DEBEMAIL, as for
# dch.  Without them, a placeholder in the reserved .invalid domain, which
# lintian reports (tests/host/deb/test_deb.sh says so and allows only that).
DEB_MAINTAINER ?= $(if $(DEBEMAIL),$(or $(DEBFULLNAME),atomic-dict) <$(DEBEMAIL)>,The atomic-dict authors <atomic-dict@invalid>)

# The packages are remade only when a tracked file is newer than the last
# build ($(DEB_STAMP)), and one build at a time (flock on $(DEB_LOCK)): make
# check's VM tests install the same packages that check-deb tests, and
# either may ask for them first.
DEB_STAMP := $(DEB_DIR)/.built
DEB_LOCK := $(B)/.deb.lock
DEB_INPUTS := $(wildcard $(filter-out $(B)/%,$(shell git ls-files 2>/dev/null)))

.PHONY: deb check-deb
deb:
	$(Q)mkdir -p $(B) && flock $(DEB_LOCK) $(MAKE) --no-print-directory $(DEB_STAMP)
	@ls $(DEB_DIR)/*.deb

$(DEB_STAMP): $(DEB_INPUTS)
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	git ls-files -z | tar --null -T - -cf - | tar -xf - -C $(DEB_SRC)
	cp -a tools/packaging/debian $(DEB_SRC)/debian
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@DATE@|$(DEB_DATE)|' \
		-e 's|@MAINTAINER@|$(DEB_MAINTAINER)|' \
		tools/packaging/debian/changelog.in > $(DEB_SRC)/debian/changelog
	sed -i 's|@MAINTAINER@|$(DEB_MAINTAINER)|' $(DEB_SRC)/debian/control
	rm $(DEB_SRC)/debian/changelog.in
	cd $(DEB_SRC) && env -u LD_LIBRARY_PATH -u MAKEFLAGS -u MAKELEVEL \
		PATH=$(if $(CCACHE_DIR),/usr/lib/ccache:)/usr/sbin:/usr/bin:/sbin:/bin \
		dpkg-buildpackage -us -uc -b -j2 > ../build.log 2>&1 || \
		{ tail -40 ../build.log; exit 1; }
	touch $@

check-host: check-deb
check-deb: deb
	$(Q)tests/host/deb/test_deb.sh $(B)
