# SPDX-License-Identifier: GPL-2.0
#
# Included by the top-level Makefile.  Targets:
#
#   make kmod         build $(KMOD_OUT)/atomic_dict.ko (default build/kmod/)
#                     against KDIR (default: kmod/kdir.sh picks the running
#                     kernel's headers, else the newest installed 6.12 or
#                     6.1 headers, else those make check-vm cached, else it
#                     installs 6.1's with apt-get --no-install-recommends).
#                     Against a KUnit kernel tree atomic_dict_kunit.ko too.
#   make kmod-check   the same with W=1 and sparse (C=1), from scratch, in
#                     build/kmod-check/; fails on any warning at all (the
#                     Debian headers themselves give none).
#   make check-static checkpatch --strict, sparse C=2 (kmod/lint.sh)
#   make lint         the same and coccicheck MODE=report
#   make kmod-clean
#
#   make kmod KDIR=/lib/modules/$(uname -r)/build KMOD_OUT=build/kmod-local
#
# Kbuild runs in a directory of symlinks to kmod/ (the output dir), so
# the source tree stays clean and several kernels can be built side by side.

KMOD_OUT ?= $(B)/kmod
KMOD_SRCS := kmod/Kbuild kmod/atomic_dict.c kmod/atomic_dict_internal.h \
	kmod/atomic_dict_kunit.c
KMOD_DEPS := $(KMOD_SRCS) uapi/linux/atomic_dict.h lib/include/adict/core.h \
	lib/include/adict/atomics.h lib/include/adict/hash.h

# $(1): output dir, $(2): extra kbuild arguments
define kmod_build
	$(Q)kdir='$(KDIR)'; \
	if [ -z "$$kdir" ]; then kdir=$$(sh kmod/kdir.sh --install) || exit 1; fi; \
	mkdir -p $(1) && \
	for f in $(KMOD_SRCS); do ln -sf $(CURDIR)/$$f $(1)/; done && \
	echo "  KMOD     $(1) against $$kdir" && \
	$(MAKE) -C "$$kdir" M=$(abspath $(1)) ADICT_ROOT=$(CURDIR) $(2) modules
endef

kmod: $(KMOD_DEPS)
	$(call kmod_build,$(KMOD_OUT),)

kmod-check: $(KMOD_DEPS)
	$(Q)rm -rf $(B)/kmod-check
	$(call kmod_build,$(B)/kmod-check,W=1 C=1) > $(B)/kmod-check.log 2>&1; \
		rc=$$?; cat $(B)/kmod-check.log; \
		if [ $$rc -ne 0 ]; then echo "kmod-check: build failed" >&2; exit 1; fi; \
		if grep -E ': (warning|error):' $(B)/kmod-check.log >/dev/null; then \
			echo "kmod-check: warnings (W=1 or sparse)" >&2; exit 1; fi; \
		echo "kmod-check: clean (W=1, sparse)"

# checkpatch --strict and sparse C=2 with the kernel trees that make
# check-vm caches (kmod/lint.sh; part of make check); make lint adds
# coccicheck (too slow for every run).
check-static:
	$(Q)kmod/lint.sh static

lint:
	$(Q)kmod/lint.sh all

kmod-clean:
	rm -rf $(KMOD_OUT) $(B)/kmod-check $(B)/kmod-check.log

.PHONY: kmod kmod-check kmod-clean check-static lint
