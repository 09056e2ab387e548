# SPDX-License-Identifier: MIT
#
# VM tests (tests/vm/run.sh); included by the top-level Makefile.
#
#   make check-vm        stock kernel: device kselftests;
#                        debug kernel: KUnit, kselftests, fuzzer, kmemleak
#   make fuzz            debug kernel: a long fuzzer run (ADICT_FUZZ_ITERS)
#
# Knobs (environment): ADICT_CACHE, ADICT_VM_KERNELS, ADICT_VM_TESTS,
# ADICT_SEED, ADICT_FUZZ_ITERS, ADICT_FUZZ_PROCS, V=1.
# Documentation/testing.rst has the details.

.PHONY: check-vm fuzz

check-vm:
	$(Q)tests/vm/run.sh check

fuzz:
	$(Q)tests/vm/run.sh fuzz
