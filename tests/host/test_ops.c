// SPDX-License-Identifier: MIT
/*
 * Every libadict operation on the memfd backend, with its edges: key 0, key
 * UINT64_MAX, capacity 1, a full table, a huge capacity, wrapping values,
 * iteration, batches, handles, the header and geometry checks, fork sharing.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "adict.h"
#include "testutil.h"
#include "../selftests/race.h"

static struct adict *mk(__u64 capacity)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD };
	struct adict *t = NULL;
	int ret = adict_create(&t, capacity, &o);

	if (ret) {
		printf("# adict_create(%llu): %s\n", (unsigned long long)capacity,
		       strerror(-ret));
		exit(1);
	}
	return t;
}

static void create_memfd_reports_backend_and_geometry(void)
{
	struct adict_table_info info;
	struct adict *t = mk(1000);

	CHECK_EQ(0, adict_info(t, &info));
	CHECK_EQ(ADICT_BACKEND_MEMFD, info.backend);
	CHECK_EQ(ADICT_BACKEND_MEMFD, adict_backend(t));
	CHECK(!strcmp("memfd", adict_backend_name(adict_backend(t))));
	CHECK_EQ(1000, info.capacity);
	CHECK_EQ(0, info.used);
	CHECK_EQ(ADICT_ACCESS_RDWR, info.access);
	CHECK_EQ(adict_geometry(1000), info.nbuckets);
	CHECK_EQ(ADICT_HEADER_BYTES + info.nbuckets * ADICT_BUCKET_BYTES, info.bytes);
	adict_close(t);
}

static void create_with_bad_arguments_should_fail_with_errno(void)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD };
	struct {
		struct adict_opts o;
		unsigned long tail;
	} big = { .o = o, .tail = 1 };
	struct adict *t = (struct adict *)1;

	CHECK_EQ(-EINVAL, adict_create(NULL, 1, &o));
	CHECK_EQ(-EINVAL, adict_create(&t, 0, &o));
	CHECK(t == NULL);
	CHECK_EQ(-EFBIG, adict_create(&t, ADICT_CAPACITY_MAX + 1, &o));
	CHECK_EQ(-EFBIG, adict_create(&t, UINT64_MAX, &o));
	/* 2^40 keys is ~23 TiB: more than this machine, a clean -ENOMEM. */
	CHECK_EQ(-ENOMEM, adict_create(&t, ADICT_CAPACITY_MAX, &o));
	o.sz = 4;
	CHECK_EQ(-EINVAL, adict_create(&t, 1, &o));
	big.o.sz = sizeof(big);
	CHECK_EQ(-E2BIG, adict_create(&t, 1, &big.o));
	big.tail = 0;
	CHECK_EQ(0, adict_create(&t, 1, &big.o));
	adict_close(t);
	o.sz = sizeof(o);
	o.name = "x";	/* memfd tables cannot be named */
	CHECK_EQ(-EINVAL, adict_create(&t, 1, &o));
	o.name = NULL;
	o.mode = 01000;
	CHECK_EQ(-EINVAL, adict_create(&t, 1, &o));
	o.mode = 0;
	o.backend = 7;
	CHECK_EQ(-EINVAL, adict_create(&t, 1, &o));
	adict_close(NULL);	/* a harmless no-op */
}

static void named_table_without_device_should_be_enodev(void)
{
	struct adict_opts o = { .sz = sizeof(o), .name = "counters" };
	struct adict *t;

	if (access(ADICT_DEVICE_PATH, F_OK) == 0)
		SKIP_TEST(ADICT_DEVICE_PATH " exists: this case needs it absent");
	CHECK_EQ(-ENODEV, adict_create(&t, 10, &o));
	CHECK_EQ(-ENODEV, adict_attach(&t, "counters", 0));
	CHECK_EQ(-ENODEV, adict_unlink("counters"));
	o.name = NULL;
	o.backend = ADICT_BACKEND_DEVICE;
	CHECK_EQ(-ENODEV, adict_create(&t, 10, &o));
	/* auto falls back to memfd for anonymous tables, visibly */
	unsetenv("ADICT_BACKEND");
	CHECK_EQ(0, adict_create(&t, 10, NULL));
	CHECK_EQ(ADICT_BACKEND_MEMFD, adict_backend(t));
	adict_close(t);
	setenv("ADICT_BACKEND", "bogus", 1);
	CHECK_EQ(-EINVAL, adict_create(&t, 10, NULL));
	setenv("ADICT_BACKEND", "memfd", 1);
}

static void key_zero_should_be_einval_everywhere(void)
{
	struct adict *t = mk(10);
	__u64 v = 7, *h;

	CHECK_EQ(-EINVAL, adict_load(t, 0, &v));
	CHECK_EQ(-EINVAL, adict_find(t, 0, &v));
	CHECK_EQ(-EINVAL, adict_store(t, 0, 1));
	CHECK_EQ(-EINVAL, adict_swap(t, 0, 1, &v));
	CHECK_EQ(-EINVAL, adict_add(t, 0, 1, &v));
	CHECK_EQ(-EINVAL, adict_sub(t, 0, 1, &v));
	CHECK_EQ(-EINVAL, adict_and(t, 0, 1, &v));
	CHECK_EQ(-EINVAL, adict_or(t, 0, 1, &v));
	CHECK_EQ(-EINVAL, adict_xor(t, 0, 1, &v));
	CHECK_EQ(-EINVAL, adict_cas(t, 0, 0, 1, &v));
	CHECK_EQ(-EINVAL, adict_insert(t, 0));
	CHECK_EQ(-EINVAL, adict_handle(t, 0, &h));
	CHECK_EQ(-EINVAL, adict_op(t, ADICT_OP_COUNT, 1, 0, 0, &v));
	CHECK_EQ(7, v);	/* nothing written on error */
	CHECK_EQ(0, t->core.kused[0]);
	adict_close(t);
}

static void every_operation_should_return_the_documented_value(void)
{
	struct adict *t = mk(100);
	__u64 v = 0, obs = 0;

	CHECK_EQ(-ENOENT, adict_find(t, 5, &v));
	CHECK_EQ(0, adict_load(t, 5, &v));	/* load inserts with 0 */
	CHECK_EQ(0, v);
	CHECK_EQ(0, adict_find(t, 5, &v));
	CHECK_EQ(0, adict_store(t, 5, 40));
	CHECK_EQ(0, adict_add(t, 5, 2, &v));
	CHECK_EQ(40, v);
	CHECK_EQ(0, adict_sub(t, 5, 12, &v));
	CHECK_EQ(42, v);
	CHECK_EQ(0, adict_swap(t, 5, 0xf0, &v));
	CHECK_EQ(30, v);
	CHECK_EQ(0, adict_and(t, 5, 0x3c, &v));
	CHECK_EQ(0xf0, v);
	CHECK_EQ(0, adict_or(t, 5, 0x03, &v));
	CHECK_EQ(0x30, v);
	CHECK_EQ(0, adict_xor(t, 5, 0xff, &v));
	CHECK_EQ(0x33, v);
	CHECK_EQ(0, adict_load(t, 5, &v));
	CHECK_EQ(0xcc, v);
	CHECK_EQ(0, adict_cas(t, 5, 1, 2, &obs));	/* fails: observed 0xcc */
	CHECK_EQ(0xcc, obs);
	CHECK_EQ(1, adict_cas(t, 5, 0xcc, 2, &obs));
	CHECK_EQ(0xcc, obs);
	CHECK_EQ(0, adict_load(t, 5, &v));
	CHECK_EQ(2, v);
	CHECK_EQ(1, adict_insert(t, 6));
	CHECK_EQ(0, adict_insert(t, 6));
	CHECK_EQ(0, adict_insert(t, 5));
	CHECK_EQ(0, adict_add(t, 7, 1, NULL));	/* old may be NULL */
	CHECK_EQ(0, adict_find(t, 7, &v));
	CHECK_EQ(1, v);
	CHECK_EQ(3, t->core.kused[0]);
	adict_close(t);
}

static void key_uint64_max_should_work_like_any_key(void)
{
	struct adict *t = mk(4);
	__u64 v = 0;

	CHECK_EQ(1, adict_insert(t, UINT64_MAX));
	CHECK_EQ(0, adict_add(t, UINT64_MAX, 9, NULL));
	CHECK_EQ(0, adict_find(t, UINT64_MAX, &v));
	CHECK_EQ(9, v);
	CHECK_EQ(-ENOENT, adict_find(t, UINT64_MAX - 1, &v));
	adict_close(t);
}

static void values_should_wrap_modulo_2_64(void)
{
	struct adict *t = mk(4);
	__u64 v = 0;

	CHECK_EQ(0, adict_store(t, 1, UINT64_MAX));
	CHECK_EQ(0, adict_add(t, 1, 1, &v));
	CHECK_EQ(UINT64_MAX, v);
	CHECK_EQ(0, adict_load(t, 1, &v));
	CHECK_EQ(0, v);
	CHECK_EQ(0, adict_sub(t, 1, 1, NULL));
	CHECK_EQ(0, adict_load(t, 1, &v));
	CHECK_EQ(UINT64_MAX, v);
	CHECK_EQ(0, adict_add(t, 1, UINT64_MAX, NULL));	/* adding -1 */
	CHECK_EQ(0, adict_load(t, 1, &v));
	CHECK_EQ(UINT64_MAX - 1, v);
	adict_close(t);
}

static void capacity_one_should_take_one_key_then_enospc(void)
{
	struct adict *t = mk(1);
	__u64 v = 0;

	CHECK_EQ(0, adict_add(t, 77, 5, NULL));
	CHECK_EQ(-ENOSPC, adict_insert(t, 78));
	CHECK_EQ(-ENOSPC, adict_add(t, 78, 1, NULL));
	CHECK_EQ(-ENOENT, adict_find(t, 78, &v));
	CHECK_EQ(0, adict_add(t, 77, 1, &v));	/* the existing key still works */
	CHECK_EQ(5, v);
	CHECK_EQ(1, t->core.kused[0]);
	adict_close(t);
}

static void full_table_should_accept_capacity_keys_then_enospc(void)
{
	static const __u64 caps[] = { 2, 3, 64, 191, 192, 1000, 4099, 100000 };
	unsigned int c;

	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		__u64 cap = caps[c], i, v = 0, cnt = 0, seed = cap;
		struct adict *t = mk(cap);
		int bad = 0;

		for (i = 0; i < cap; i++)
			bad |= adict_add(t, tu_rand(&seed) | 1, i, NULL) != 0;
		CHECK_EQ(0, bad);
		CHECK_EQ(cap, t->core.kused[0]);
		for (i = 0; i < 100; i++)
			bad |= adict_insert(t, (tu_rand(&seed) & ~1ULL) | 2) != -ENOSPC;
		CHECK_EQ(0, bad);
		CHECK_EQ(cap, t->core.kused[0]);
		CHECK_EQ(0, adict_recount(t, &cnt));
		CHECK_EQ(cap, cnt);
		/* every key still holds its value: nothing was corrupted */
		seed = cap;
		for (i = 0; i < cap; i++) {
			bad |= adict_find(t, tu_rand(&seed) | 1, &v) != 0;
			bad |= v != i;
		}
		CHECK_EQ(0, bad);
		adict_close(t);
	}
}

/*
 * Load 1/2 (opts.load = ADICT_LOAD_1_2): rows for twice the capacity, the
 * flag in the header and in adict_info(), the same capacity (every key
 * fits, then -ENOSPC), and a second opener (adict_from_fd()) sees the same
 * table.  An unknown load is -EINVAL.
 */
static void load_half_should_double_the_rows_and_keep_the_capacity(void)
{
	static const __u64 caps[] = { 1, 191, 192, 1000, 100000 };
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD,
				.load = ADICT_LOAD_1_2 };
	struct adict_table_info info, uinfo;
	struct adict_table_header h;
	struct adict *t, *u;
	unsigned int c;

	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		__u64 cap = caps[c], i, v = 0, seed = cap;
		int bad = 0;

		t = NULL;
		CHECK_EQ(0, adict_create(&t, cap, &o));
		if (!t)
			return;
		CHECK_EQ(0, adict_info(t, &info));
		CHECK_EQ(ADICT_LOAD_1_2, info.load);
		CHECK_EQ(cap, info.capacity);
		CHECK_EQ(adict_nbuckets(cap, 4, ADICT_TABLE_F_LOAD_HALF),
			 info.nbuckets);
		CHECK((info.nbuckets - 1) * 4 >= 2 * cap);
		memcpy(&h, t->map, sizeof(h));
		CHECK(h.flags & ADICT_TABLE_F_LOAD_HALF);
		CHECK(adict_header_valid(&h, info.bytes));
		for (i = 0; i < cap; i++)
			bad |= adict_add(t, tu_rand(&seed) | 1, i, NULL) != 0;
		CHECK_EQ(0, bad);
		CHECK_EQ(-ENOSPC, adict_insert(t, 2));
		CHECK_EQ(cap, t->core.kused[0]);
		u = NULL;
		CHECK_EQ(0, adict_from_fd(&u, t->fd));
		if (!u) {
			adict_close(t);
			return;
		}
		CHECK_EQ(0, adict_info(u, &uinfo));
		CHECK_EQ(ADICT_LOAD_1_2, uinfo.load);
		CHECK_EQ(info.nbuckets, uinfo.nbuckets);
		seed = cap;
		for (i = 0; i < cap; i++) {
			bad |= adict_find(u, tu_rand(&seed) | 1, &v) != 0;
			bad |= v != i;
		}
		CHECK_EQ(0, bad);
		adict_close(u);
		adict_close(t);
	}
	/* Another geometry takes the load too: u32 -> u32, 8 rows a bucket. */
	o.key32 = 1;
	o.value_bytes = 4;
	t = NULL;
	CHECK_EQ(0, adict_create(&t, 1000, &o));
	if (t) {
		CHECK_EQ(0, adict_info(t, &info));
		CHECK_EQ(adict_nbuckets(1000, 8, ADICT_TABLE_F_LOAD_HALF),
			 info.nbuckets);
		CHECK_EQ(ADICT_LOAD_1_2, info.load);
		adict_close(t);
	}
	/* The default is 3/4, and says so. */
	t = mk(1000);
	CHECK_EQ(0, adict_info(t, &info));
	CHECK_EQ(ADICT_LOAD_3_4, info.load);
	adict_close(t);
	o.key32 = 0;
	o.value_bytes = 0;
	o.load = 2;
	t = (struct adict *)1;
	CHECK_EQ(-EINVAL, adict_create(&t, 10, &o));
	CHECK(t == NULL);
}

static void handle_should_stay_the_value_word_of_its_key(void)
{
	struct adict *t = mk(1000);
	__u64 *h = NULL, *h2 = NULL, i, v = 0;

	CHECK_EQ(1, adict_handle(t, 42, &h));
	for (i = 1; i < 900; i++)
		adict_insert(t, i * 7919);
	CHECK_EQ(0, adict_handle(t, 42, &h2));
	CHECK(h == h2);
	CHECK_EQ(0, adict_v_add(h, 5));
	CHECK_EQ(5, adict_v_swap(h, 8));
	CHECK_EQ(8, adict_v_cas(h, 8, 9));
	CHECK_EQ(9, adict_v_load(h));
	CHECK_EQ(0, adict_load(t, 42, &v));
	CHECK_EQ(9, v);
	adict_close(t);
}

static void iteration_should_return_each_key_once_with_its_value(void)
{
	enum { N = 5000 };
	static unsigned char seen[N + 1];
	__u64 cur = 0, k, v, n = 0;
	struct adict *t = mk(N);
	int bad = 0;

	for (k = 1; k <= N; k++)
		adict_store(t, k, k * 3);
	while (adict_iter_next(t, &cur, &k, &v) == 1) {
		bad |= k < 1 || k > N || v != k * 3 || seen[k];
		if (k >= 1 && k <= N)
			seen[k] = 1;
		n++;
	}
	CHECK_EQ(0, bad);
	CHECK_EQ(N, n);
	CHECK_EQ(0, adict_iter_next(t, &cur, &k, &v));	/* stays at the end */
	adict_close(t);
}

static void batches_should_match_single_operations(void)
{
	enum { N = 3000 };
	static __u64 keys[N], deltas[N], old[N], vals[N];
	struct adict *t = mk(N), *u = mk(N);
	__u64 i, v, seed = 99;
	int bad = 0;

	for (i = 0; i < N; i++) {
		keys[i] = (tu_rand(&seed) % (N / 2)) + 1;	/* repeats */
		deltas[i] = i;
	}
	CHECK_EQ(N, adict_add_batch(t, keys, deltas, N, old));
	for (i = 0; i < N; i++) {
		adict_add(u, keys[i], deltas[i], &v);
		bad |= v != old[i];
	}
	CHECK_EQ(N, adict_load_batch(t, keys, N, vals));
	for (i = 0; i < N; i++) {
		adict_load(u, keys[i], &v);
		bad |= v != vals[i];
	}
	CHECK_EQ(0, bad);
	CHECK_EQ(N, adict_add_batch(t, keys, NULL, N, NULL));	/* +1 each */
	CHECK_EQ(0, adict_load(t, keys[0], &v));
	CHECK(v > vals[0]);
	keys[17] = 0;
	CHECK_EQ(17, adict_add_batch(t, keys, NULL, N, NULL));
	CHECK_EQ(-EINVAL, adict_add_batch(t, keys + 17, NULL, 3, NULL));
	CHECK_EQ(0, adict_add_batch(t, keys, NULL, 0, NULL));
	adict_close(t);
	adict_close(u);
}

/*
 * Batches on a full table: about one key in eight is not in its home bucket
 * there, so pass 1 queues and resumes many probes.  Every element must act
 * exactly once, in order, and a full table must stop the batch at the first
 * new key with nothing after it done.
 */
static void batches_on_a_full_table_should_resume_long_probes(void)
{
	enum { N = 3000 };
	static __u64 keys[N], deltas[N], old[N], vals[N];
	struct adict *t = mk(N);
	__u64 i, j, v, seed = 7, tmp, bad = 0, far = 0;
	unsigned int e;

	for (i = 0; i < N; i++) {
		keys[i] = i * 0x9e3779b97f4a7c15ULL + 1;
		CHECK_EQ(1, adict_insert(t, keys[i]));
	}
	for (i = 0; i < N; i++)		/* the premise: many long probes */
		far += !adict_core_bucket_scan(t->core.kbuckets[
			adict_home_bucket(&t->core, keys[i])].slot, keys[i], &e);
	CHECK(far > N / 20);
	for (i = N - 1; i > 0; i--) {	/* shuffle */
		j = tu_rand(&seed) % (i + 1);
		tmp = keys[i], keys[i] = keys[j], keys[j] = tmp;
	}
	for (i = 0; i < N; i++)
		deltas[i] = i + 1;
	CHECK_EQ(N, adict_add_batch(t, keys, deltas, N, old));
	CHECK_EQ(N, adict_load_batch(t, keys, N, vals));
	for (i = 0; i < N; i++) {
		bad += old[i] != 0 || vals[i] != i + 1;
		adict_load(t, keys[i], &v);
		bad += v != i + 1;
	}
	CHECK_EQ(0, bad);
	/* an absent key at 1234: the table is full */
	keys[1234] = 0xabcdef;
	CHECK_EQ(1234, adict_add_batch(t, keys, NULL, N, NULL));
	for (i = 0; i < N; i++) {
		if (i == 1234)
			continue;
		adict_load(t, keys[i], &v);
		bad += v != i + 1 + (i < 1234);
	}
	CHECK_EQ(0, bad);
	CHECK_EQ(-ENOSPC, adict_add_batch(t, keys + 1234, NULL, 2, NULL));
	CHECK_EQ(-ENOSPC, adict_load_batch(t, keys + 1234, 2, vals));
	CHECK_EQ(-ENOENT, adict_find(t, 0xabcdef, &v));
	adict_close(t);
}

static __u64 used_of(struct adict *t)
{
	struct adict_table_info info;

	CHECK_EQ(0, adict_info(t, &info));
	return info.used;
}

/*
 * adict_add_batch() on @t against the same adds one at a time on @u:
 * the same return value (n, the index of the first failing entry, or
 * -errno when entry 0 fails), the same old[] for every entry applied, and
 * afterwards the same value for every key of @pool and the same `used`.
 */
static int batch_against_singles(struct adict *t, struct adict *u,
				 const __u64 *keys, const __u64 *deltas,
				 size_t n, const __u64 *pool, size_t npool)
{
	static __u64 old[256];
	__u64 v, w;
	size_t i;
	int want = (int)n, got, rt, ru, bad = 0;

	for (i = 0; i < n; i++)
		old[i] = 0x5a5a5a5a5a5a5a5aULL;	/* poison: untouched after a failure */
	got = adict_add_batch(t, keys, deltas, n, old);
	for (i = 0; i < n; i++) {
		ru = adict_add(u, keys[i], deltas[i], &v);
		if (ru < 0) {
			want = i ? (int)i : ru;
			break;
		}
		bad += old[i] != v;
	}
	for (; i < n; i++)
		bad += old[i] != 0x5a5a5a5a5a5a5a5aULL;
	CHECK_EQ(want, got);
	for (i = 0; i < npool; i++) {
		rt = adict_find(t, pool[i], &v);
		ru = adict_find(u, pool[i], &w);
		bad += rt != ru || (!rt && v != w);
	}
	CHECK_EQ(used_of(u), used_of(t));
	return bad;
}

/*
 * Batches on a small crowded table, where many keys sit outside their home
 * bucket (lib/adict.c, "Batches": those are probed after the rest of their
 * window), against the same adds done one at a time on a second table:
 * duplicates of new keys inside one window, zero keys, and batches that
 * fill the table in the middle of a window must give the same results,
 * stop at the same index with no later entry applied, and leave the same
 * values and `used`.
 */
static void batches_on_a_crowded_table_should_match_singles(void)
{
	/* 189 keys: exactly the 64 buckets (one page) at load 3/4 */
	enum { CAP = 189, POOL = 260, ROUNDS = 400 };
	static __u64 pool[POOL], keys[256], deltas[256];
	struct adict *t = mk(CAP), *u = mk(CAP);
	__u64 i, j, seed = 2026, far = 0, n, v;
	unsigned int e;
	int r, bad = 0;

	/*
	 * The pool: 130 keys whose home bucket in @t is one of buckets 1-16
	 * (64 slots), the rest random.  96 crowded and 69 random keys go in:
	 * at least 96 - 64 of the crowded ones are displaced, and so are the
	 * random keys whose home bucket the overflow had filled.  pool[96..129]
	 * (crowded) and pool[199..] (random) stay out.
	 */
	for (i = 0, v = 1; i < 130; v++)
		if (adict_home_bucket(&t->core, v) <= 16)
			pool[i++] = v;
	for (; i < POOL; i++)
		pool[i] = tu_rand(&seed) | 1ULL << 63;
	for (i = 0; i < CAP - 24; i++) {	/* 24 keys of room */
		j = i < 96 ? i : i + 130 - 96;	/* 96 crowded, 69 random */
		CHECK_EQ(1, adict_insert(t, pool[j]));
		CHECK_EQ(1, adict_insert(u, pool[j]));
		far += !adict_core_bucket_scan(t->core.kbuckets[
			adict_home_bucket(&t->core, pool[j])].slot, pool[j], &e);
	}
	CHECK(far >= 96 - 64);		/* the premise: many displaced keys */

	/* One window: a new key three times, present keys, then key 0. */
	keys[0] = pool[40], deltas[0] = 1;
	keys[1] = pool[96], deltas[1] = 10;		/* new */
	keys[2] = pool[1], deltas[2] = 100;
	keys[3] = pool[96], deltas[3] = 1000;		/* the same new key */
	keys[4] = pool[97], deltas[4] = 7;		/* new */
	keys[5] = pool[96], deltas[5] = 10000;
	keys[6] = pool[97], deltas[6] = 70;
	keys[7] = 0, deltas[7] = 5;
	keys[8] = pool[2], deltas[8] = 3;
	bad += batch_against_singles(t, u, keys, deltas, 9, pool, POOL);
	CHECK_EQ(0, adict_find(t, pool[96], &v));
	CHECK_EQ(11010, v);				/* entries 1, 3 and 5 */
	CHECK_EQ(0, adict_find(t, pool[2], &v));
	CHECK_EQ(0, v);					/* entry 8: not applied */
	CHECK_EQ(CAP - 22, used_of(t));

	/*
	 * Random batches of up to 200 entries over the pool (more keys than
	 * the capacity, so the table fills, in some batch's middle), with
	 * repeats and now and then a zero key.
	 */
	for (r = 0; r < ROUNDS; r++) {
		n = tu_rand(&seed) % 200 + 1;
		for (i = 0; i < n; i++) {
			keys[i] = tu_rand(&seed) % 61 ? pool[tu_rand(&seed) % POOL] : 0;
			deltas[i] = tu_rand(&seed) % 1000;
		}
		bad += batch_against_singles(t, u, keys, deltas, n, pool, POOL);
	}
	CHECK_EQ(CAP, used_of(t));			/* it did fill */
	CHECK_EQ(0, bad);
	adict_close(t);
	adict_close(u);
}

/*
 * The same for adict_load_batch(), which inserts absent keys with value 0
 * (as adict_load()): on a crowded table, a batch that fills it in the
 * middle of a window stops at the first key with no room; entries before
 * it inserted their keys (a duplicate once), entries after it inserted
 * nothing.
 */
static void load_batch_should_stop_where_the_table_fills(void)
{
	enum { CAP = 189 };	/* 64 buckets at load 3/4 */
	static __u64 keys[100], vals[100];
	struct adict *t = mk(CAP);
	__u64 i, v, seed = 5;

	for (i = 0; i < CAP - 3; i++)
		CHECK_EQ(1, adict_insert(t, tu_rand(&seed) | 1));
	CHECK_EQ(0, adict_add(t, 77, 5, NULL));	/* key 77 = 5: CAP - 2 keys */
	for (i = 0; i < 100; i++)
		vals[i] = 0xdead;
	keys[0] = 77;
	keys[1] = 1000;		/* new: CAP - 1 keys */
	keys[2] = 1000;		/* the same again */
	keys[3] = 77;
	keys[4] = 1002;		/* new: CAP keys, the table is full */
	keys[5] = 1000;
	keys[6] = 1003;		/* new: no room; the batch stops here */
	keys[7] = 1004;
	keys[8] = 77;
	CHECK_EQ(6, adict_load_batch(t, keys, 9, vals));
	CHECK_EQ(5, vals[0]);
	CHECK_EQ(0, vals[1]);
	CHECK_EQ(0, vals[2]);
	CHECK_EQ(5, vals[3]);
	CHECK_EQ(0, vals[4]);
	CHECK_EQ(0, vals[5]);
	CHECK_EQ(0xdead, vals[6]);
	CHECK_EQ(0xdead, vals[7]);
	CHECK_EQ(0xdead, vals[8]);
	CHECK_EQ(CAP, used_of(t));
	CHECK_EQ(0, adict_find(t, 1000, &v));
	CHECK_EQ(-ENOENT, adict_find(t, 1003, &v));
	CHECK_EQ(-ENOENT, adict_find(t, 1004, &v));
	CHECK_EQ(-ENOSPC, adict_load_batch(t, keys + 6, 3, vals));
	adict_close(t);
}

/*
 * The bucket compare (SSE2 on x86-64; the portable scan in the TSan build
 * and in the kernel) must match whole keys only: not a value word equal to
 * the key, not a key that shares only its low or high 32 bits.
 */
static void bucket_scan_should_match_whole_keys_and_name_empty_slots(void)
{
	const __u64 k = 0x0123456789abcdefULL;
	struct adict *t = mk(100);
	struct adict_slot *s = t->core.kbuckets[1].slot;
	struct adict_bucket saved = t->core.kbuckets[1];
	unsigned int m, e;
	int j;

	for (j = 0; j < ADICT_BUCKET_SLOTS; j++) {
		s[0].key = k ^ (1ULL << 40);	/* same low half */
		s[1].key = k ^ 1;		/* same high half */
		s[2].key = 0;
		s[3].key = k << 1;
		s[0].value = s[1].value = s[2].value = s[3].value = k;
		CHECK_EQ(0, adict_core_bucket_scan(s, k, &e));
		CHECK_EQ(1U << 2, e);
		s[j].key = k;
		m = adict_core_bucket_scan(s, k, &e);
		CHECK(m != 0);
		CHECK_EQ(j == 2 ? 0 : 1U << 2, e);
		if (m)
			CHECK_EQ(j, adict_core_match_slot(m));
		s[(j + 2) % ADICT_BUCKET_SLOTS].key = k;	/* two: the first wins */
		m = adict_core_bucket_scan(s, k, &e);
		CHECK(m != 0);
		CHECK_EQ(j == 0 || j == 2 ? 0 : 1U << 2, e);	/* slot 2 */
		if (m)
			CHECK_EQ(j < 2 ? j : (j + 2) % ADICT_BUCKET_SLOTS,
				 adict_core_match_slot(m));
	}
	CHECK_EQ(0, adict_core_bucket_scan(s, 0x42, &e));
	CHECK_EQ(1U << 2, e);	/* the last pass left slot 2 empty */
	/* empty slots (key word 0; a value alone does not fill a slot) */
	s[0].key = s[2].key = 0;
	s[1].key = 0x42;
	s[3].key = 1ULL << 32;		/* a zero low half is not empty */
	CHECK_EQ(1U << 1, adict_core_bucket_scan(s, 0x42, &e));
	CHECK_EQ(1U << 0 | 1U << 2, e);
	t->core.kbuckets[1] = saved;
	adict_close(t);
}

static void geometry_should_keep_load_at_most_three_quarters(void)
{
	__u64 cap, bad = 0;

	for (cap = 1; cap < 20000; cap += (cap < 300 ? 1 : 97)) {
		__u64 nb = adict_geometry(cap), slots = (nb - 1) * ADICT_BUCKET_SLOTS;

		bad |= nb % ADICT_BUCKETS_PER_PAGE != 0;
		bad |= slots * 3 < cap * 4;	/* load <= 3/4 */
		bad |= slots <= cap;
		/* memory: 16 bytes a slot (control bucket included) + 1 page */
		bad |= adict_map_bytes(nb) != ADICT_HEADER_BYTES + nb * 4 * ADICT_SLOT_BYTES;
	}
	CHECK_EQ(0, bad);
	CHECK_EQ(0, adict_geometry(0));
	CHECK_EQ(0, adict_geometry(ADICT_CAPACITY_MAX + 1));
	CHECK(adict_geometry(ADICT_CAPACITY_MAX) != 0);
}

static void geometry_with_load_half_should_keep_load_at_most_one_half(void)
{
	static const unsigned int rows[] = { 1, 2, 4, 8, 16 };
	__u64 cap, bad = 0;
	unsigned int r;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		for (cap = 1; cap < 20000; cap += (cap < 300 ? 1 : 97)) {
			__u64 nb = adict_nbuckets(cap, rows[r],
						  ADICT_TABLE_F_LOAD_HALF);
			__u64 n = (nb - 1) * rows[r];

			bad |= nb % ADICT_BUCKETS_PER_PAGE != 0;
			bad |= n < 2 * cap;	/* load <= 1/2 */
			/* never more than one bucket and a page of slack */
			bad |= n >= 2 * cap + rows[r] + ADICT_BUCKETS_PER_PAGE * rows[r];
			/* at least the rows of load 3/4 */
			bad |= nb < adict_nbuckets(cap, rows[r], 0);
			/* only the load flag counts */
			bad |= nb != adict_nbuckets(cap, rows[r],
						    ADICT_TABLE_F_LOAD_HALF |
						    ADICT_TABLE_F_NAMED |
						    ADICT_TABLE_F_DEVICE);
		}
	}
	CHECK_EQ(0, bad);
	CHECK_EQ(0, adict_nbuckets(0, 4, ADICT_TABLE_F_LOAD_HALF));
	CHECK_EQ(0, adict_nbuckets(ADICT_CAPACITY_MAX + 1, 4,
				   ADICT_TABLE_F_LOAD_HALF));
	CHECK(adict_nbuckets(ADICT_CAPACITY_MAX, 1, ADICT_TABLE_F_LOAD_HALF));
}

static void header_validation_should_reject_every_corruption(void)
{
	static const __u64 seed[2] = { 1, 2 };
	struct adict_table_header h, bad;
	struct adict_layout l;
	unsigned int i;

	CHECK(adict_layout_init(&l, 1, 0, 8));
	CHECK(adict_header_init(&h, 12345, 0, &l, seed));
	CHECK(adict_header_valid(&h, h.map_bytes));
	CHECK(!adict_header_valid(&h, h.map_bytes - 1));
	/* flip each byte of the header in turn; nothing else is accepted */
	for (i = 0; i < sizeof(h); i++) {
		bad = h;
		((unsigned char *)&bad)[i] ^= 0x40;
		if (i >= offsetof(struct adict_table_header, flags) &&
		    i < offsetof(struct adict_table_header, flags) + 4)
			continue;	/* flags are informational */
		if (i >= offsetof(struct adict_table_header, seed) &&
		    i < offsetof(struct adict_table_header, seed) + 16)
			continue;	/* any seed is a seed */
		/* another capacity with the same geometry is a valid header */
		if (i >= offsetof(struct adict_table_header, capacity) &&
		    i < offsetof(struct adict_table_header, capacity) + 8 &&
		    adict_geometry(bad.capacity) == h.nbuckets)
			continue;
		if (adict_header_valid(&bad, ~0ULL)) {
			printf("#   accepted corruption at byte %u\n", i);
			tu_failed_now = 1;
		}
	}
	/*
	 * The load flag is not informational: it sizes the table, so a header
	 * whose flag disagrees with its bucket count is refused either way.
	 */
	bad = h;
	bad.flags |= ADICT_TABLE_F_LOAD_HALF;
	CHECK(!adict_header_valid(&bad, ~0ULL));
	CHECK(adict_header_init(&h, 12345, ADICT_TABLE_F_LOAD_HALF, &l, seed));
	CHECK(adict_header_valid(&h, h.map_bytes));
	bad = h;
	bad.flags &= ~ADICT_TABLE_F_LOAD_HALF;
	CHECK(!adict_header_valid(&bad, ~0ULL));
}

static void header_page_should_be_read_only_and_memfd_sealed(void)
{
	struct adict *t = mk(10);
	int status;
	pid_t pid;

	CHECK(ftruncate(t->fd, 0) < 0);
	CHECK_EQ(EPERM, errno);
	pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		((volatile __u64 *)t->map)[0] = 0;	/* must fault */
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	adict_close(t);
}

static void kernel_paths_on_memfd_should_be_eopnotsupp(void)
{
	struct adict_batch_op op = { .key = 1, .op = ADICT_OP_ADD, .arg1 = 1 };
	struct adict_batch_kop kop = { .op = ADICT_OP_ADD, .arg1 = 1,
				       .key = { 1 } };
	struct adict_uring *u = (struct adict_uring *)1;
	struct adict *t = mk(10);
	__u64 r = 7, v = 0;

	CHECK_EQ(-EOPNOTSUPP, adict_uring_init(t, 8, &u));
	CHECK(u == NULL);
	CHECK_EQ(-EOPNOTSUPP, adict_kbatch(t, &op, 1));
	CHECK(!strcmp("none", adict_kbatch_path(t)));
	CHECK_EQ(-EOPNOTSUPP, adict_kernel_op(t, ADICT_OP_ADD, 1, 1, 0, &r));
	CHECK_EQ(7, r);
	CHECK_EQ(-EINVAL, adict_kbatch(t, &op, 0));
	CHECK_EQ(-EINVAL, adict_kbatch(t, &op, ADICT_BATCH_MAX + 1));
	CHECK_EQ(-EOPNOTSUPP, adict_tuple_kbatch(t, &kop, 1));
	CHECK_EQ(-EINVAL, adict_tuple_kbatch(t, &kop, 0));
	CHECK_EQ(-EINVAL, adict_tuple_kbatch(t, NULL, 1));
	CHECK_EQ(-EINVAL, adict_tuple_kbatch(NULL, &kop, 1));
	CHECK_EQ(-ENOENT, adict_find(t, 1, &v));	/* nothing ran */
	adict_uring_exit(NULL);	/* a harmless no-op */
	adict_close(t);
}

/* Four forked children, started together and overlapping (race.h). */
static void fork_children_should_share_the_table(void)
{
	struct adict *t = mk(1000);
	struct race *race = race_new(4);
	int i, status, bad = 0;
	__u64 v = 0;

	CHECK(race != NULL);
	if (!race)
		return;
	for (i = 0; i < 4; i++) {
		if (fork() == 0) {
			__u64 k;

			if (!race_wait_go(race))
				_exit(3);
			for (k = 1; k <= 500; k++) {
				if (adict_add(t, k, 1, NULL))
					_exit(1);
				if (k == 1 && !race_arrive(race))
					_exit(3);
			}
			_exit(0);
		}
	}
	race_go(race);
	for (i = 0; i < 4; i++) {
		wait(&status);
		bad |= !WIFEXITED(status) || WEXITSTATUS(status);
	}
	CHECK_EQ(0, bad);
	for (v = 1; v <= 500; v++) {
		__u64 x = 0;

		adict_find(t, v, &x);
		bad |= x != 4;
	}
	CHECK_EQ(0, bad);
	CHECK_EQ(500, t->core.kused[0]);
	race_free(race);
	adict_close(t);
}

static void from_fd_should_open_the_same_table_or_fail_with_errno(void)
{
	struct adict *t = mk(100), *u = (struct adict *)1;
	int pfd[2], mfd, fd;
	__u64 v = 0;

	CHECK_EQ(0, adict_store(t, 5, 55));
	/* The same table through a second fd: updates meet. */
	CHECK_EQ(0, adict_from_fd(&u, t->fd));
	CHECK(u != NULL && u->fd != t->fd);
	CHECK_EQ(ADICT_BACKEND_MEMFD, adict_backend(u));
	CHECK_EQ(t->core.capacity, u->core.capacity);
	CHECK_EQ(0, adict_add(u, 5, 1, &v));
	CHECK_EQ(55, v);
	CHECK_EQ(0, adict_add(t, 6, 2, NULL));
	CHECK_EQ(0, adict_find(u, 6, &v));
	CHECK_EQ(2, v);
	adict_close(u);
	CHECK_EQ(0, adict_find(t, 5, &v));	/* t's fd survived u's close */
	CHECK_EQ(56, v);

	CHECK_EQ(-EINVAL, adict_from_fd(NULL, t->fd));
	u = (struct adict *)1;
	CHECK_EQ(-EBADF, adict_from_fd(&u, -1));
	CHECK(u == NULL);
	fd = dup(t->fd);
	close(fd);
	CHECK_EQ(-EBADF, adict_from_fd(&u, fd));
	/* Neither a memfd nor the device. */
	CHECK_EQ(0, pipe(pfd));
	CHECK_EQ(-EINVAL, adict_from_fd(&u, pfd[0]));
	close(pfd[0]);
	close(pfd[1]);
	/* A memfd someone could shrink under the mapping. */
	mfd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK(mfd >= 0);
	CHECK_EQ(0, ftruncate(mfd, 1 << 16));
	CHECK_EQ(-EINVAL, adict_from_fd(&u, mfd));
	/* Sealed, but no table in it. */
	CHECK_EQ(0, fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW));
	CHECK_EQ(-EBADMSG, adict_from_fd(&u, mfd));
	CHECK(u == NULL);
	close(mfd);
	adict_close(t);
}

int main(void)
{
	setenv("ADICT_BACKEND", "memfd", 1);
	RUN(create_memfd_reports_backend_and_geometry);
	RUN(create_with_bad_arguments_should_fail_with_errno);
	RUN(named_table_without_device_should_be_enodev);
	RUN(key_zero_should_be_einval_everywhere);
	RUN(every_operation_should_return_the_documented_value);
	RUN(key_uint64_max_should_work_like_any_key);
	RUN(values_should_wrap_modulo_2_64);
	RUN(capacity_one_should_take_one_key_then_enospc);
	RUN(full_table_should_accept_capacity_keys_then_enospc);
	RUN(load_half_should_double_the_rows_and_keep_the_capacity);
	RUN(handle_should_stay_the_value_word_of_its_key);
	RUN(iteration_should_return_each_key_once_with_its_value);
	RUN(batches_should_match_single_operations);
	RUN(batches_on_a_full_table_should_resume_long_probes);
	RUN(batches_on_a_crowded_table_should_match_singles);
	RUN(load_batch_should_stop_where_the_table_fills);
	RUN(bucket_scan_should_match_whole_keys_and_name_empty_slots);
	RUN(geometry_should_keep_load_at_most_three_quarters);
	RUN(geometry_with_load_half_should_keep_load_at_most_one_half);
	RUN(header_validation_should_reject_every_corruption);
	RUN(header_page_should_be_read_only_and_memfd_sealed);
	RUN(kernel_paths_on_memfd_should_be_eopnotsupp);
	RUN(fork_children_should_share_the_table);
	RUN(from_fd_should_open_the_same_table_or_fail_with_errno);
	return tu_done();
}
