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
 * Geometries: every row above is the default geometry (one u64 key word, a
 * u64 value; "geometry":"u64->u64" in the JSON).  Then, at the L2 size, one
 * "add" row (a "find" row for a set) per other geometry class through
 * adict_tuple_*(), each against the floor of its own table's bytes.
 *
 * flood: 200,000 keys crafted against v1's public, unseeded hash (fmix64,
 * inverted: every key's v1 home bucket is bucket 1) are inserted into an
 * empty seeded table of 400,000 keys and then as many absent crafted keys
 * are looked up; the same work on random keys is its "floor", so the ratio
 * is what the crafted keys cost over random ones (the target is <= 1.5x).
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
		printf("{\"case\":\"%s\",\"geometry\":\"u64->u64\","
		       "\"size\":\"%s\",\"table_bytes\":%llu,"
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

/* ---- other geometries ---------------------------------------------------- */

struct geom_case {
	const char *name;	/* as in the JSON "geometry" field */
	unsigned int k64, k32, vb;
};

static const struct geom_case geom_cases[] = {
	{ "u64->u32", 1, 0, 4 },
	{ "u64", 1, 0, 0 },			/* a set */
	{ "u32->u32", 0, 1, 4 },
	{ "u64,u64->u64", 2, 0, 8 },
	{ "u64,u32->u32", 1, 1, 4 },
	{ "u64,u64,u32->u64", 2, 1, 8 },
	{ "u32,u32,u32", 0, 3, 0 },		/* a set */
	{ "u64x7->u64", 7, 0, 8 },		/* 64-byte rows */
};

/* Packed key number @i of @t's geometry: distinct for distinct i. */
static void geom_key(const struct adict *t, __u64 i, __u64 *key)
{
	unsigned int w, n = adict_key_words(t), k64 = t->core.layout.key64;
	__u64 k = bench_key(i);

	for (w = 0; w < n; w++) {
		__u64 x = w == n - 1 ? i + 1 : k + w;

		key[w] = w < k64 ? (x ? x : 1) : ((__u32)x ? (__u32)x : 1);
	}
}

struct geom_arg {
	struct adict *t;
	__u64 nkeys;
};

static int geom_prep(void *arg, int proc)
{
	struct geom_arg *a = arg;

	bench_touch(a->t->map, a->t->map_bytes);
	return 0;
}

static int geom_run(void *arg, int proc, long ops, __u64 seed)
{
	struct geom_arg *a = arg;
	__u64 key[ADICT_KEY_WORDS_MAX], v, acc = 0;
	bool set = !a->t->core.layout.value_bytes;
	long i;

	for (i = 0; i < ops; i++) {
		geom_key(a->t, bench_pick(&seed, a->nkeys), key);
		if (set) {
			adict_tuple_find(a->t, key, &v);
			acc += v;
		} else {
			adict_tuple_add(a->t, key, 1, NULL);
		}
	}
	sink = acc;
	return 0;
}

/* The floor of @bytes, one process. */
static double floor_of(struct adict *t, size_t bytes, __u64 **arrp)
{
	__u64 *arr = bench_shared_map(bytes);

	*arrp = arr;
	if (!arr)
		return 0;
	return measure(C_FLOOR, t, arr, bytes / 8, 1, 1);
}

static int bench_geometries(const char *label, unsigned long long target)
{
	unsigned int g;
	int ret = 0;

	for (g = 0; g < sizeof(geom_cases) / sizeof(geom_cases[0]); g++) {
		const struct geom_case *gc = &geom_cases[g];
		struct adict_opts o = { .sz = sizeof(o), .key64 = gc->k64,
					.key32 = gc->k32, .value_bytes = gc->vb };
		__u64 key[ADICT_KEY_WORDS_MAX], cap, i, *arr;
		struct adict_table_info info;
		struct geom_arg a;
		struct bench_job j = { .prep = geom_prep, .run = geom_run, .arg = &a };
		double ns, floor_ns;
		struct adict *t;

		/* the capacity whose table is about @target bytes */
		cap = (target - ADICT_HEADER_BYTES) / ADICT_BUCKET_BYTES *
		      (64 / ((gc->k64 * 8 + gc->k32 * 4 + gc->vb + 7) & ~7U)) * 3 / 4;
		if (cap < 64)
			cap = 64;
		ret = adict_create(&t, cap, &o);
		if (ret) {
			fprintf(stderr, "adict-bench: create %s table: %s\n",
				gc->name, strerror(-ret));
			return ret;
		}
		adict_info(t, &info);
		for (i = 0; i < cap; i++) {
			geom_key(t, i, key);
			adict_tuple_insert(t, key);
		}
		a = (struct geom_arg){ t, cap };
		floor_ns = floor_of(t, info.bytes, &arr);
		if (!arr) {
			adict_close(t);
			return -ENOMEM;
		}
		ns = bench_best(ctl, &j, 1, cfg.ops, cfg.repeat, 0x1234567ULL, 0);
		if (cfg.json)
			printf("{\"case\":\"%s\",\"geometry\":\"%s\",\"size\":\"%s\","
			       "\"table_bytes\":%llu,\"procs\":1,\"ns_per_op\":%.3f,"
			       "\"floor_ns_per_op\":%.3f,\"ratio\":%.3f}\n",
			       gc->vb ? "add" : "find", gc->name, label,
			       (unsigned long long)info.bytes, ns, floor_ns,
			       ns / floor_ns);
		else
			printf("%-11s %-5s %10llu %5d %10.2f %12.2f %8.2fx  %s\n",
			       gc->vb ? "add" : "find", label,
			       (unsigned long long)info.bytes, 1, ns, floor_ns,
			       ns / floor_ns, gc->name);
		fflush(stdout);
		munmap(arr, info.bytes);
		adict_close(t);
	}
	return 0;
}

/* ---- flood ---------------------------------------------------------------- */

#define FLOOD_KEYS	200000

/* The inverse of x * m modulo 2^64, m odd (Newton's iteration). */
static __u64 inv_mul(__u64 m)
{
	__u64 x = m;	/* correct to 3 bits */
	int i;

	for (i = 0; i < 5; i++)
		x *= 2 - m * x;
	return x;
}

/*
 * The key whose v1 hash (murmur3's fmix64) is @h: fmix64 inverted.  Each
 * x ^= x >> 33 is its own inverse (33 >= 32).
 */
static __u64 fmix64_inverse(__u64 h)
{
	h ^= h >> 33;
	h *= inv_mul(0xc4ceb9fe1a85ec53ULL);
	h ^= h >> 33;
	h *= inv_mul(0xff51afd7ed558ccdULL);
	h ^= h >> 33;
	return h;
}

/*
 * Insert FLOOD_KEYS keys into an empty table of 2 * FLOOD_KEYS, then look
 * up FLOOD_KEYS absent ones; ns per operation.  @crafted: keys whose v1 home
 * is bucket 1 (hash values 1, 2, ...: all below 2^64 / (nbuckets - 1));
 * else random keys.
 */
static double flood_run(int crafted, __u64 *bytes)
{
	struct adict_opts o = { .sz = sizeof(o) };
	struct adict_table_info info;
	__u64 i, v, s = 0x9e3779b97f4a7c15ULL, k;
	struct timespec t0, t1;
	struct adict *t;

	if (adict_create(&t, 2 * FLOOD_KEYS, &o))
		return 0;
	adict_info(t, &info);
	*bytes = info.bytes;
	bench_touch(t->map, t->map_bytes);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 1; i <= 2 * FLOOD_KEYS; i++) {
		if (crafted) {
			k = fmix64_inverse(i);
		} else {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			k = s;
		}
		if (i <= FLOOD_KEYS)
			adict_insert(t, k);
		else
			adict_find(t, k, &v);	/* absent: -ENOENT */
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	adict_close(t);
	return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
	       (2.0 * FLOOD_KEYS);
}

static int bench_flood(void)
{
	double best_f = 0, best_r = 0, f, r;
	__u64 bytes = 0;
	int i;

	for (i = 0; i < cfg.repeat; i++) {	/* best of, interleaved */
		f = flood_run(1, &bytes);
		r = flood_run(0, &bytes);
		if (f <= 0 || r <= 0)
			return -ENOMEM;
		if (!best_f || f < best_f)
			best_f = f;
		if (!best_r || r < best_r)
			best_r = r;
	}
	if (cfg.json)
		printf("{\"case\":\"flood\",\"geometry\":\"u64->u64\",\"size\":\"flood\","
		       "\"table_bytes\":%llu,\"procs\":1,\"ns_per_op\":%.3f,"
		       "\"floor_ns_per_op\":%.3f,\"ratio\":%.3f}\n",
		       (unsigned long long)bytes, best_f, best_r, best_f / best_r);
	else
		printf("%-11s %-5s %10llu %5d %10.2f %12.2f %8.2fx  (random keys as floor)\n",
		       "flood", "flood", (unsigned long long)bytes, 1, best_f,
		       best_r, best_f / best_r);
	fflush(stdout);
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
	ret |= bench_geometries("l2", (unsigned long long)l2 / 2);
	ret |= bench_flood();
	return ret ? 1 : 0;
}
