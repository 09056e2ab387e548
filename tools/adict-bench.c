// SPDX-License-Identifier: MIT
/*
 * adict-bench: libadict against the floor, in one run.
 *
 * The floor is a random atomic add on a flat u64 array of the same byte
 * footprint as the table, in the same kind of memory (a shared memfd
 * mapping), driven by the same random number generator.  A hash table cannot
 * beat it; the ratio says how close we get.
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

#define ODD		0x9e3779b97f4a7c15ULL
#define BATCH		64

enum bcase { C_ADD, C_LOAD, C_CAS, C_INSERT, C_ADD_BATCH, C_LOAD_BATCH, C_FLOOR };
static const char *const case_name[] = {
	"add", "load", "cas", "insert", "add_batch", "load_batch", "floor",
};

static struct {
	long ops;
	int repeat;
	int json;
	int quick;
	unsigned long long large;
} cfg = { .ops = 4000000, .repeat = 3, .large = 256ULL << 20 };

static __u64 key_of(__u64 i)
{
	return i * ODD + 1;
}

static __u64 rng(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static __u64 pick(__u64 *s, __u64 n)
{
	return (__u64)(((unsigned __int128)rng(s) * n) >> 64);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The floor's array: same bytes, same kind of memory as a memfd table. */
static __u64 *floor_map(size_t bytes)
{
	int fd = memfd_create("adict-floor", MFD_CLOEXEC);
	void *p;

	if (fd < 0 || ftruncate(fd, bytes) || posix_fallocate(fd, 0, bytes))
		return NULL;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, bytes);
	return p;
}

static volatile __u64 sink;

/* One process's share of one case. */
static void run_case(enum bcase c, struct adict *t, __u64 *arr, size_t words,
		     __u64 nkeys, long ops, __u64 seed)
{
	__u64 keys[BATCH], vals[BATCH], v = 0, acc = 0;
	long i;
	int j;

	switch (c) {
	case C_FLOOR:
		for (i = 0; i < ops; i++)
			__atomic_fetch_add(&arr[pick(&seed, words)], 1, __ATOMIC_SEQ_CST);
		break;
	case C_ADD:
		for (i = 0; i < ops; i++)
			adict_add(t, key_of(pick(&seed, nkeys)), 1, NULL);
		break;
	case C_LOAD:
		for (i = 0; i < ops; i++) {
			adict_load(t, key_of(pick(&seed, nkeys)), &v);
			acc += v;
		}
		break;
	case C_CAS:
		for (i = 0; i < ops; i++)
			adict_cas(t, key_of(pick(&seed, nkeys)), 0, 1, NULL);
		break;
	case C_INSERT:	/* fills the empty table: keys 0 .. ops-1 */
		for (i = 0; i < ops; i++)
			adict_insert(t, key_of(i));
		break;
	case C_ADD_BATCH:
	case C_LOAD_BATCH:
		for (i = 0; i < ops; i += BATCH) {
			for (j = 0; j < BATCH; j++)
				keys[j] = key_of(pick(&seed, nkeys));
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

/* Shared between the benchmark's processes: a start barrier and times. */
static struct shctl {
	int ready;
	int go;
	double start[2], end[2];
} *shctl;

/* Fault in every page a child will touch, so the timing excludes faults. */
static void warm(const struct adict *t, const __u64 *arr, size_t words)
{
	const volatile char *m = t->map;
	__u64 acc = 0;
	size_t i;

	for (i = 0; i < t->map_bytes; i += 4096)
		acc += m[i];
	for (i = 0; i < words; i += 512)
		acc += ((const volatile __u64 *)arr)[i];
	sink = acc;
}

/* ns per op over @procs processes; best of cfg.repeat. */
static double measure(enum bcase c, struct adict *t, __u64 *arr, size_t words,
		      __u64 nkeys, int procs)
{
	double best = 0;
	int r, p;

	for (r = 0; r < cfg.repeat; r++) {
		long ops = c == C_INSERT ? (long)nkeys : cfg.ops;
		double t0, t1, el;

		if (c == C_INSERT && r)
			break;	/* the keys exist now: insert runs once */
		if (procs == 1) {
			t0 = now_ns();
			run_case(c, t, arr, words, nkeys, ops, 0x1234567ULL + r);
			t1 = now_ns();
		} else {
			memset(shctl, 0, sizeof(*shctl));
			for (p = 0; p < procs; p++) {
				if (fork())
					continue;
				warm(t, arr, words);
				__atomic_fetch_add(&shctl->ready, 1, __ATOMIC_SEQ_CST);
				while (!__atomic_load_n(&shctl->go, __ATOMIC_ACQUIRE))
					;
				shctl->start[p] = now_ns();
				run_case(c, t, arr, words, nkeys, ops,
					 0x1234567ULL * (p + 2) + r);
				shctl->end[p] = now_ns();
				_exit(0);
			}
			while (__atomic_load_n(&shctl->ready, __ATOMIC_SEQ_CST) < procs)
				;
			/* release: pairs with the children's acquire spin */
			__atomic_store_n(&shctl->go, 1, __ATOMIC_RELEASE);
			for (p = 0; p < procs; p++)
				wait(NULL);
			t0 = shctl->start[0];
			t1 = shctl->end[0];
			for (p = 1; p < procs; p++) {
				t0 = shctl->start[p] < t0 ? shctl->start[p] : t0;
				t1 = shctl->end[p] > t1 ? shctl->end[p] : t1;
			}
		}
		el = (t1 - t0) / ((double)ops * procs);
		if (!r || el < best)
			best = el;
	}
	return best;
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

/* Largest capacity whose table fits in @bytes. */
static __u64 capacity_for(unsigned long long bytes)
{
	__u64 buckets = (bytes - ADICT_HEADER_BYTES) / ADICT_BUCKET_BYTES;

	return (buckets - 1) * ADICT_BUCKET_SLOTS * ADICT_LOAD_NUM / ADICT_LOAD_DEN;
}

static int bench_size(const char *label, unsigned long long target)
{
	static const enum bcase cases[] = {
		C_ADD, C_LOAD, C_CAS, C_ADD_BATCH, C_LOAD_BATCH,
	};
	struct adict_opts o = { .sz = sizeof(o) };
	struct adict_table_info info;
	__u64 cap = capacity_for(target);
	double floor_ns;
	struct adict *t;
	unsigned int k;
	size_t bytes;
	__u64 *arr;
	int ret, procs;

	while (adict_map_bytes(adict_geometry(cap)) > target)
		cap -= cap / 64 + 1;
	ret = adict_create(&t, cap, &o);
	if (ret) {
		fprintf(stderr, "adict-bench: create %s table: %s\n", label, strerror(-ret));
		return ret;
	}
	adict_info(t, &info);
	bytes = info.bytes;
	arr = floor_map(bytes);
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
	shctl = mmap(NULL, sizeof(*shctl), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shctl == MAP_FAILED) {
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
