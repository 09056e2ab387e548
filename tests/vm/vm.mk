# SPDX-License-Identifier: MIT
#
# VM tests (tests/vm/run.sh); included by the top-level Makefile.
#
#   make check-vm        every kernel of tests/vm/kernels: Debian's stock
#                        and PREEMPT_RT images (device kselftests, adictctl,
#                        kbench, libadict stress, Python) and the debug
#                        kernels (KUnit, kselftests, fuzzer, kmemleak)
#   make check-vm KERNELS=6.12-debug     one kernel (or a kind: stock rt debug)
#   make fuzz            debug kernels: a long fuzzer run (ADICT_FUZZ_ITERS)
#
# Knobs (environment): ADICT_CACHE, ADICT_VM_TESTS, ADICT_SEED,
# ADICT_FUZZ_ITERS, ADICT_FUZZ_PROCS, V=1.
# Documentation/testing.rst has the details.

KERNELS ?= $(ADICT_VM_KERNELS)

.PHONY: check-vm fuzz

check-vm:
	$(Q)KERNELS='$(KERNELS)' tests/vm/run.sh check

fuzz:
	$(Q)KERNELS='$(KERNELS)' tests/vm/run.sh fuzz
