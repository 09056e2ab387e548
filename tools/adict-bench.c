// SPDX-License-Identifier: MIT
/*
 * adict-bench: libadict against the floor, in one run.
 *
 * The floor is a random atomic add on a flat u64 array of the same byte
 * footprint as the table, in the same kind of memory (a shared memfd
 * mapping), driven by the same random number generator.  A hash table cannot
 * beat it; the ratio says how close we get.
 *
 * floor_hash is the floor with its address computed as a lookup computes
 * it: the locked add lands on the home bucket of a random table key of the
 * same flat array.  It has the hashing and none of the table (no key load,
 * no compare), so it splits a ratio into what hashing costs and what the
 * lookup adds.
 *
 * Keys: the table is filled to capacity with key(i) = i * ODD + 1, a
 * bijection, so a random existing key costs one RNG step and no key array
 * (which would add its own cache misses).  Each figure is the best of
 * --repeat runs.  ns_per_op is wall-clock time divided by the operations of
 * all processes together (the inverse of aggregate throughput).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "adict.h"
#include "bench-util.h"

#define BATCH		64

enum bcase {
	C_ADD, C_LOAD, C_CAS, C_INSERT, C_ADD_BATCH, C_LOAD_BATCH, C_FLOOR,
	C_FLOOR_HASH,
};
static const char *const case_name[] = {
	"add", "load", "cas", "insert", "add_batch", "load_batch", "floor",
	"floor_hash",
};

static struct {
	long ops;
	int repeat;
	int json;
	int quick;
	unsigned long long large;
} cfg = { .ops = 4000000, .repeat = 3, .large = 256ULL << 20 };

static volatile __u64 sink;

/* One process's share of one case. */
static void run_case(enum bcase c, struct adict *t, __u64 *arr, size_t words,
		     __u64 nkeys, long ops, __u64 seed)
{
	__u64 keys[BATCH], vals[BATCH], v = 0, acc = 0;
	struct adict_core fc;
	long i;
	int j;

	switch (c) {
	case C_FLOOR:
		for (i = 0; i < ops; i++)
			__atomic_fetch_add(&arr[bench_pick(&seed, words)], 1, __ATOMIC_SEQ_CST);
		break;
	case C_FLOOR_HASH:	/* the floor at the home bucket of a random key */
		fc = t->core;	/* the table's seed, the array's buckets */
		fc.nbuckets = words / 8;
		for (i = 0; i < ops; i++)
			__atomic_fetch_add(&arr[8 * adict_home_bucket(&fc,
				bench_key(bench_pick(&seed, nkeys)))], 1, __ATOMIC_SEQ_CST);
		break;
	case C_ADD:
		for (i = 0; i < ops; i++)
			adict_add(t, bench_key(bench_pick(&seed, nkeys)), 1, NULL);
		break;
	case C_LOAD:
		for (i = 0; i < ops; i++) {
			adict_load(t, bench_key(bench_pick(&seed, nkeys)), &v);
			acc += v;
		}
		break;
	case C_CAS:
		for (i = 0; i < ops; i++)
			adict_cas(t, bench_key(bench_pick(&seed, nkeys)), 0, 1, NULL);
		break;
	case C_INSERT:	/* fills the empty table: keys 0 .. ops-1 */
		for (i = 0; i < ops; i++)
			adict_insert(t, bench_key(i));
		break;
	case C_ADD_BATCH:
	case C_LOAD_BATCH:
		for (i = 0; i < ops; i += BATCH) {
			for (j = 0; j < BATCH; j++)
				keys[j] = bench_key(bench_pick(&seed, nkeys));
			if (c == C_ADD_BATCH) {
				adict_add_batch(t, keys, NULL, BATCH, NULL);
			} else {
				adict_load_batch(t, keys, BATCH, vals);
				acc += vals[0];
			}
		}
		break;
	}
	sink = acc;
}

static struct bench_ctl *ctl;

struct case_arg {
	enum bcase c;
	struct adict *t;
	__u64 *arr;
	size_t words;
	__u64 nkeys;
};

/* Untimed, in each worker: fault in every page it will touch. */
static int case_prep(void *arg, int proc)
{
	struct case_arg *a = arg;

	bench_touch(a->t->map, a->t->map_bytes);
	bench_touch(a->arr, a->words * sizeof(__u64));
	return 0;
}

static int case_run(void *arg, int proc, long ops, __u64 seed)
{
	struct case_arg *a = arg;

	run_case(a->c, a->t, a->arr, a->words, a->nkeys, ops, seed);
	return 0;
}

/* ns per op over @procs processes; best of cfg.repeat (insert: once). */
static double measure(enum bcase c, struct adict *t, __u64 *arr, size_t words,
		      __u64 nkeys, int procs)
{
	struct case_arg a = { c, t, arr, words, nkeys };
	struct bench_job j = { .prep = case_prep, .run = case_run, .arg = &a };

	if (c == C_INSERT)	/* fills the empty table: runs once */
		return bench_run(ctl, &j, 1, (long)nkeys, 0x1234567ULL);
	return bench_best(ctl, &j, procs, cfg.ops, cfg.repeat, 0x1234567ULL, 0);
}

static void human_bytes(char *buf, size_t n, unsigned long long b)
{
	if (b >= 1ULL << 20)
		snprintf(buf, n, "%llu MiB", b >> 20);
	else
		snprintf(buf, n, "%llu KiB", b >> 10);
}

static void report(const char *label, enum bcase c, unsigned long long bytes,
		   int procs, double ns, double floor_ns)
{
	char hb[32];

	if (cfg.json) {
		printf("{\"case\":\"%s\",\"size\":\"%s\",\"table_bytes\":%llu,"
		       "\"procs\":%d,\"ns_per_op\":%.3f,\"floor_ns_per_op\":%.3f,"
		       "\"ratio\":%.3f}\n", case_name[c], label, bytes, procs, ns,
		       floor_ns, ns / floor_ns);
	} else {
		human_bytes(hb, sizeof(hb), bytes);
		printf("%-11s %-5s %10s %5d %10.2f %12.2f %8.2fx\n", case_name[c],
		       label, hb, procs, ns, floor_ns, ns / floor_ns);
	}
	fflush(stdout);
}

static int bench_size(const char *label, unsigned long long target)
{
	static const enum bcase cases[] = {
		C_FLOOR_HASH, C_ADD, C_LOAD, C_CAS, C_ADD_BATCH, C_LOAD_BATCH,
	};
	struct adict_opts o = { .sz = sizeof(o) };
	struct adict_table_info info;
	__u64 cap = bench_capacity_for(target);
	double floor_ns;
	struct adict *t;
	unsigned int k;
	size_t bytes;
	__u64 *arr;
	int ret, procs;

	ret = adict_create(&t, cap, &o);
	if (ret) {
		fprintf(stderr, "adict-bench: create %s table: %s\n", label, strerror(-ret));
		return ret;
	}
	adict_info(t, &info);
	bytes = info.bytes;
	arr = bench_shared_map(bytes);
	if (!arr) {
		fprintf(stderr, "adict-bench: floor array: %s\n", strerror(errno));
		adict_close(t);
		return -ENOMEM;
	}
	if (!cfg.json)
		printf("# %s: %s backend, capacity %llu keys (filled to capacity), %llu bytes\n",
		       label, adict_backend_name(info.backend),
		       (unsigned long long)cap, (unsigned long long)bytes);

	/* insert: fill the empty table to capacity, once. */
	floor_ns = measure(C_FLOOR, t, arr, bytes / 8, cap, 1);
	report(label, C_INSERT, bytes, 1,
	       measure(C_INSERT, t, arr, bytes / 8, cap, 1), floor_ns);

	/* the rest: random existing keys of the full table */
	for (procs = 1; procs <= 2; procs++) {
		floor_ns = measure(C_FLOOR, t, arr, bytes / 8, cap, procs);
		for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
			report(label, cases[k], bytes, procs,
			       measure(cases[k], t, arr, bytes / 8, cap, procs),
			       floor_ns);
	}
	munmap(arr, bytes);
	adict_close(t);
	return 0;
}

static void usage(void)
{
	printf("usage: adict-bench [--json] [--quick] [--ops N] [--repeat N] [--large-mb N]\n"
	       "Measures add, load, cas, insert and batches on random keys against\n"
	       "the floor (random atomic add on a flat array of the same bytes).\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "ops", required_argument, NULL, 'o' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "large-mb", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	long l2, l3;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "jqo:r:l:h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': cfg.json = 1; break;
		case 'q': cfg.quick = 1; break;
		case 'o': cfg.ops = atol(optarg); break;
		case 'r': cfg.repeat = atoi(optarg); break;
		case 'l': cfg.large = strtoull(optarg, NULL, 0) << 20; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (cfg.ops < BATCH || cfg.repeat < 1 || cfg.large < (1ULL << 20)) {
		usage();
		return 2;
	}
	if (cfg.quick) {	/* a smoke run for the tests: tiny and fast */
		cfg.ops = 20000;
		cfg.repeat = 1;
		cfg.large = 4ULL << 20;
	}
	ctl = bench_ctl_create();
	if (!ctl) {
		perror("adict-bench: mmap");
		return 1;
	}
	/* Virtual machines report odd cache sizes: keep them plausible. */
	l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
	l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
	if (l2 <= 0 || l2 > (4L << 20))
		l2 = 1L << 20;
	if (l3 <= 0 || l3 > (64L << 20))
		l3 = 32L << 20;
	if (!cfg.json)
		printf("# adict-bench: L2 %ld KiB, LLC %ld KiB; best of %d; ns/op is wall time / ops of all processes\n"
		       "%-11s %-5s %10s %5s %10s %12s %9s\n", l2 >> 10, l3 >> 10,
		       cfg.repeat, "case", "size", "table", "procs", "ns/op",
		       "floor ns/op", "ratio");
	ret |= bench_size("l2", (unsigned long long)l2 / 2);
	ret |= bench_size("llc", (unsigned long long)l3 / 2);
	ret |= bench_size("large", cfg.large);
	return ret ? 1 : 0;
}
