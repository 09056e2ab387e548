# SPDX-License-Identifier: MIT
#
# adict-bench-peers: libadict against the floor, Redis INCR, a mutex map in
# POSIX shared memory and a BPF hash map (Documentation/bench.rst).
# Included by the top-level Makefile.
#
#   make bench-peers         the full run (under ~3 minutes), plot in build/
#   make check-bench-peers   the --quick smoke run, JSON validated
#
# BENCH_PEERS_ARGS passes options, e.g. BENCH_PEERS_ARGS='--large-mb 256'.

.PHONY: bench-peers check-bench-peers

$(B)/adict-bench-peers: tools/adict-bench-peers.c tools/bench-util.h \
		$(B)/libadict.a $(HDRS)
	$(Q)echo '#include <hiredis/hiredis.h>' | $(CC) -E -x c - >/dev/null 2>&1 || \
		{ echo "adict-bench-peers needs hiredis: apt-get install libhiredis-dev (or make deps)" >&2; exit 1; }
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_ADICT) -o $@ $< $(B)/libadict.a $(LIBS_ADICT) -lhiredis -lpthread $(LDFLAGS)

bench-peers: $(B)/adict-bench-peers
	$(Q)$(B)/adict-bench-peers --plot $(B)/bench-peers.svg $(BENCH_PEERS_ARGS)

bench: bench-peers

check-bench-peers: $(B)/adict-bench-peers
	$(Q)tests/host/bench-peers-smoke.sh $(B)

check-host: check-bench-peers
