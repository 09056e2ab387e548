// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for atomic_dict: the shared probe core (adict/core.h) compiled
 * into the kernel, on kernel buffers, and the module's own functions
 * (exported with EXPORT_SYMBOL_IF_KUNIT, so atomic_dict.ko must be loaded
 * first; it is, since this module imports its symbols).
 *
 * 6.1 has no kunit_vm_mmap(), so the ioctl OP path is tested through
 * adict_op_args_run() on a kernel-allocated struct adict_op_args: all of
 * the handler but the copy_struct_from_user()/put_user() around it, which
 * the VM selftests cover.
 *
 * Built only against a kernel with CONFIG_KUNIT (kmod/Kbuild); Debian's
 * stock kernel has none.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "atomic_dict_internal.h"

/* ------------------------------------------------------------------------ */
/* A table in a kernel buffer, for the core tests                           */
/* ------------------------------------------------------------------------ */

struct ktable {
	struct adict_table_header h;
	void *mem;
	struct adict_core c;
};

/* A fixed seed: the tests below need reproducible home buckets. */
static const u64 test_seed[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };

/* adict_header_init() for the default geometry, with test_seed. */
static bool header_init(struct adict_table_header *h, u64 capacity, u32 flags)
{
	struct adict_layout l;

	return adict_layout_init(&l, 1, 0, 8) &&
	       adict_header_init(h, capacity, flags, &l, test_seed);
}

static void ktable_init(struct kunit *test, struct ktable *kt, u64 capacity)
{
	KUNIT_ASSERT_TRUE(test, header_init(&kt->h, capacity, 0));
	kt->mem = vzalloc(kt->h.map_bytes);
	KUNIT_ASSERT_NOT_NULL(test, kt->mem);
	memcpy(kt->mem, &kt->h, sizeof(kt->h));
	adict_core_init(&kt->c, &kt->h, (char *)kt->mem + ADICT_HEADER_BYTES);
}

static void ktable_fini(struct ktable *kt)
{
	vfree(kt->mem);
}

/* Is @p a value word inside the slot area (buckets 1..nbuckets-1)? */
static bool in_slot_area(const struct adict_core *c, const u64 *p)
{
	return (const void *)p >= (const void *)&c->kbuckets[1] &&
	       (const void *)p < (const void *)&c->kbuckets[c->nbuckets];
}

/* The n-th key (from 1 up) whose home bucket is @home. */
static u64 key_with_home(const struct adict_core *c, u64 home, unsigned int n)
{
	u64 k;

	for (k = 1; ; k++)
		if (adict_home_bucket(c, k) == home && !--n)
			return k;
}

/* ------------------------------------------------------------------------ */
/* core                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * The kernel hashes with the C AES rounds, userspace with AESENC where the
 * CPU has it: both must give format.rst's hash.  These are the answers of
 * tests/host/test_tuple.c (hash_should_give_the_known_answers), checked
 * there against the instruction; seed bytes 00..0f.
 */
static void hash_test_should_give_the_known_answers(struct kunit *test)
{
	struct adict_core c = { 0 };
	u64 seed[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	u64 k2[2] = { 1, 2 }, k3[3] = { 1, 2, 3 };

	adict_hash_key_init(&c.hk, seed);
	KUNIT_EXPECT_FALSE(test, c.hk.hw_aes);
	KUNIT_ASSERT_TRUE(test, adict_layout_init(&c.layout, 1, 0, 8));
	KUNIT_EXPECT_EQ(test, adict_hash(&c, 1), 0x20e513200f84a2bbULL);
	KUNIT_EXPECT_EQ(test, adict_hash(&c, 0xdeadbeef), 0x6d8f373eb8b02e82ULL);
	KUNIT_ASSERT_TRUE(test, adict_layout_init(&c.layout, 2, 0, 8));
	KUNIT_EXPECT_EQ(test, adict_khash(&c, k2), 0xc82b506893d9cdf0ULL);
	KUNIT_ASSERT_TRUE(test, adict_layout_init(&c.layout, 3, 0, 8));
	KUNIT_EXPECT_EQ(test, adict_khash(&c, k3), 0x8294b6c0dcf24eceULL);
}

static void core_test_insert_into_empty_should_publish_key(struct kunit *test)
{
	struct ktable kt;
	u64 *v;
	u64 home;

	ktable_init(test, &kt, 100);
	home = adict_home_bucket(&kt.c, 42);

	KUNIT_EXPECT_EQ(test, adict_core_lookup(&kt.c, 42, true, &v), 1);
	/* After: the key sits in slot 0 of its home bucket, value 0, used 1. */
	KUNIT_EXPECT_EQ(test, kt.c.kbuckets[home].slot[0].key, 42ULL);
	KUNIT_EXPECT_PTR_EQ(test, v, &kt.c.kbuckets[home].slot[0].value);
	KUNIT_EXPECT_EQ(test, *v, 0ULL);
	KUNIT_EXPECT_EQ(test, *kt.c.kused, 1ULL);
	KUNIT_EXPECT_EQ(test, adict_core_count(&kt.c), 1ULL);
	ktable_fini(&kt);
}

static void core_test_second_insert_should_find_same_slot(struct kunit *test)
{
	struct ktable kt;
	u64 *v1, *v2;
	u64 r;

	ktable_init(test, &kt, 100);
	KUNIT_EXPECT_EQ(test, adict_core_lookup(&kt.c, 7, true, &v1), 1);
	KUNIT_EXPECT_EQ(test, adict_core_lookup(&kt.c, 7, true, &v2), 0);
	KUNIT_EXPECT_PTR_EQ(test, v1, v2);
	KUNIT_EXPECT_EQ(test, *kt.c.kused, 1ULL);	/* counted once */
	KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_INSERT, 7, 0, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, r, 0ULL);
	ktable_fini(&kt);
}

static void core_test_colliding_keys_should_spill_and_wrap(struct kunit *test)
{
	struct ktable kt;
	u64 keys[ADICT_BUCKET_SLOTS + 2];
	u64 nb, last, *v;
	unsigned int i;

	ktable_init(test, &kt, 100);
	nb = kt.c.nbuckets;
	last = nb - 1;
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		keys[i] = key_with_home(&kt.c, last, i + 1);

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		KUNIT_EXPECT_EQ(test, adict_core_lookup(&kt.c, keys[i], true, &v), 1);

	/* The last bucket holds the first four, in order ... */
	for (i = 0; i < ADICT_BUCKET_SLOTS; i++)
		KUNIT_EXPECT_EQ(test, kt.c.kbuckets[last].slot[i].key, keys[i]);
	/* ... and the probe wraps to bucket 1 (bucket 0 is control). */
	KUNIT_EXPECT_EQ(test, kt.c.kbuckets[1].slot[0].key, keys[4]);
	KUNIT_EXPECT_EQ(test, kt.c.kbuckets[1].slot[1].key, keys[5]);
	KUNIT_EXPECT_EQ(test, kt.c.kbuckets[0].slot[1].key, 0ULL);

	/* Every one is found again at the same place. */
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		KUNIT_EXPECT_EQ(test, adict_core_lookup(&kt.c, keys[i], false, &v), 0);
		KUNIT_EXPECT_EQ(test, *(v - 1), keys[i]);
	}
	ktable_fini(&kt);
}

static void core_test_full_table_should_fail_enospc_and_keep_keys(struct kunit *test)
{
	struct ktable kt;
	u64 i, r;

	ktable_init(test, &kt, 10);
	for (i = 1; i <= 10; i++)
		KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_ADD, i * 977, i, 0, &r), 0);

	KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_ADD, 5, 1, 0, &r), -ENOSPC);
	KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_INSERT, 6, 0, 0, &r), -ENOSPC);

	/* Nothing corrupted: same keys, same values, used exact. */
	KUNIT_EXPECT_EQ(test, *kt.c.kused, 10ULL);
	KUNIT_EXPECT_EQ(test, adict_core_count(&kt.c), 10ULL);
	for (i = 1; i <= 10; i++) {
		KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_FIND, i * 977, 0, 0, &r), 0);
		KUNIT_EXPECT_EQ(test, r, i);
	}
	/* Existing keys still take updates. */
	KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_ADD, 977, 1, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, r, 1ULL);
	ktable_fini(&kt);
}

static void core_test_key_zero_and_max_should_be_rejected_and_stored(struct kunit *test)
{
	struct ktable kt;
	u64 r;

	ktable_init(test, &kt, 100);
	KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_ADD, 0, 1, 0, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, *kt.c.kused, 0ULL);
	KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_STORE, U64_MAX, 5, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_FIND, U64_MAX, 0, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, r, 5ULL);
	KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_COUNT, 1, 0, 0, &r), -EINVAL);
	ktable_fini(&kt);
}

static void core_test_garbage_table_should_stay_bounded(struct kunit *test)
{
	struct ktable kt;
	unsigned int i;
	u64 *v;
	int ret;

	ktable_init(test, &kt, 1000);
	/* Random bits in every key, value and the used word. */
	get_random_bytes(kt.c.kbuckets, kt.h.data_bytes);
	for (i = 0; i < 200; i++) {
		u64 key = get_random_u64() | 1;

		v = NULL;
		ret = adict_core_lookup(&kt.c, key, i & 1, &v);
		KUNIT_EXPECT_TRUE(test, ret == 0 || ret == 1 || ret == -ENOENT ||
				  ret == -ENOSPC);
		if (ret >= 0)
			KUNIT_EXPECT_TRUE(test, in_slot_area(&kt.c, v));
	}
	/* A key that is there is still found, in range. */
	if (kt.c.kbuckets[3].slot[2].key) {
		ret = adict_core_lookup(&kt.c, kt.c.kbuckets[3].slot[2].key,
					false, &v);
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_TRUE(test, in_slot_area(&kt.c, v));
	}
	ktable_fini(&kt);
}

#define CONC_THREADS	4
#define CONC_SHARED	400
#define CONC_OWN	300
#define CONC_MEET_SECS	30

/*
 * The racing threads start together and provably overlap: @go releases
 * them all at once (complete_all), and no thread makes its second operation
 * before every thread has made its first (@arrived counts first operations
 * and never goes down).  So each thread's operations interleave with every
 * other's.  A thread that waited CONC_MEET_SECS without meeting the others
 * goes on and reports it (@met false): the test fails, it does not hang.
 */
struct conc_shared {
	struct completion go;
	atomic_t arrived;
};

struct conc_arg {
	struct adict_core *c;
	struct conc_shared *s;
	unsigned int idx;
	int errors;
	bool met;
	struct completion done;
};

static int conc_thread(void *data)
{
	struct conc_arg *a = data;
	unsigned long deadline;
	unsigned int i;
	u64 r;

	wait_for_completion(&a->s->go);
	for (i = 0; i < CONC_SHARED + CONC_OWN; i++) {
		/* Shared keys interleaved with this thread's own keys. */
		u64 key = i < CONC_SHARED ? 1000 + i :
			  100000 * (a->idx + 1) + i;

		if (adict_core_op(a->c, ADICT_OP_ADD, key, 1, 0, &r))
			a->errors++;
		if (i == 0) {
			atomic_inc(&a->s->arrived);
			deadline = jiffies + CONC_MEET_SECS * HZ;
			while (atomic_read(&a->s->arrived) < CONC_THREADS &&
			       time_before(jiffies, deadline))
				usleep_range(500, 1000);
			a->met = atomic_read(&a->s->arrived) == CONC_THREADS;
		}
		if (!(i & 31))
			cond_resched();
	}
	complete(&a->done);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void core_test_concurrent_inserts_should_publish_each_key_once(struct kunit *test)
{
	const u64 want = CONC_SHARED + CONC_THREADS * CONC_OWN;
	struct conc_shared shared;
	struct conc_arg *args;
	struct ktable kt;
	u64 *keys, n = 0, b, r;
	unsigned int i, j;

	ktable_init(test, &kt, want + 100);
	args = kunit_kcalloc(test, CONC_THREADS, sizeof(*args), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, args);
	init_completion(&shared.go);
	atomic_set(&shared.arrived, 0);
	for (i = 0; i < CONC_THREADS; i++) {
		struct task_struct *tsk;

		args[i].c = &kt.c;
		args[i].s = &shared;
		args[i].idx = i;
		init_completion(&args[i].done);
		tsk = kthread_run(conc_thread, &args[i], "adict_kunit/%u", i);
		if (IS_ERR(tsk)) {
			/* release and reap the ones already started */
			complete_all(&shared.go);
			while (i--)
				wait_for_completion(&args[i].done);
			ktable_fini(&kt);
			KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(tsk));
			return;
		}
	}
	complete_all(&shared.go);
	for (i = 0; i < CONC_THREADS; i++) {
		wait_for_completion(&args[i].done);
		KUNIT_EXPECT_EQ(test, args[i].errors, 0);
		KUNIT_EXPECT_TRUE_MSG(test, args[i].met,
				      "thread %u did not overlap the others", i);
	}

	/* Each key exactly once, used exact, shared counters exact. */
	keys = kunit_kcalloc(test, kt.c.nbuckets * ADICT_BUCKET_SLOTS,
			     sizeof(*keys), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, keys);
	for (b = 1; b < kt.c.nbuckets; b++)
		for (j = 0; j < ADICT_BUCKET_SLOTS; j++)
			if (kt.c.kbuckets[b].slot[j].key)
				keys[n++] = kt.c.kbuckets[b].slot[j].key;
	KUNIT_EXPECT_EQ(test, n, want);
	KUNIT_EXPECT_EQ(test, *kt.c.kused, want);
	sort(keys, n, sizeof(*keys), cmp_u64, NULL);
	for (r = 1; r < n; r++)
		KUNIT_EXPECT_NE(test, keys[r - 1], keys[r]);
	for (i = 0; i < CONC_SHARED; i++) {
		KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_FIND, 1000 + i, 0, 0, &r), 0);
		KUNIT_EXPECT_EQ(test, r, (u64)CONC_THREADS);
	}
	ktable_fini(&kt);
}

/* ------------------------------------------------------------------------ */
/* header                                                                   */
/* ------------------------------------------------------------------------ */

static void header_test_init_should_be_valid(struct kunit *test)
{
	static const u64 caps[] = { 1, 2, 3, 47, 48, 1000, 1 << 20,
				    ADICT_CAPACITY_MAX };
	struct adict_table_header h;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		KUNIT_ASSERT_TRUE(test, header_init(&h, caps[i], 0));
		KUNIT_EXPECT_TRUE(test, adict_header_valid(&h, h.map_bytes));
		KUNIT_EXPECT_EQ(test, h.map_bytes % PAGE_SIZE, 0ULL);
		/* Load stays at most 3/4 of the slots of buckets 1.. */
		KUNIT_EXPECT_LE(test, caps[i] * 4,
				(h.nbuckets - 1) * ADICT_BUCKET_SLOTS * 3);
	}
	KUNIT_EXPECT_FALSE(test, header_init(&h, 0, 0));
	KUNIT_EXPECT_FALSE(test, header_init(&h, ADICT_CAPACITY_MAX + 1, 0));
}

static void header_test_load_half_should_double_rows_and_stay_valid(struct kunit *test)
{
	static const u64 caps[] = { 1, 2, 3, 47, 48, 1000, 1 << 20,
				    ADICT_CAPACITY_MAX };
	struct adict_table_header h, q;
	unsigned int i, differ = 0;

	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		KUNIT_ASSERT_TRUE(test, header_init(&h, caps[i],
						    ADICT_TABLE_F_LOAD_HALF));
		KUNIT_EXPECT_TRUE(test, adict_header_valid(&h, h.map_bytes));
		/* Load stays at most 1/2 of the slots of buckets 1.. */
		KUNIT_EXPECT_LE(test, caps[i] * 2,
				(h.nbuckets - 1) * ADICT_BUCKET_SLOTS);
		KUNIT_ASSERT_TRUE(test, header_init(&q, caps[i], 0));
		KUNIT_EXPECT_GE(test, h.nbuckets, q.nbuckets);
		/*
		 * The flag sizes the table: where the two loads give different
		 * bucket counts, clearing it makes a bad header.  (Small
		 * capacities round up to the same first page of buckets at
		 * either load: 1, 2, 3, 47, 48 here.)
		 */
		h.flags = 0;
		if (h.nbuckets != q.nbuckets) {
			differ++;
			KUNIT_EXPECT_FALSE(test, adict_header_valid(&h, h.map_bytes));
		} else {
			KUNIT_EXPECT_TRUE(test, adict_header_valid(&h, h.map_bytes));
		}
	}
	/* 1000, 2^20 and 2^40 keys do differ. */
	KUNIT_EXPECT_EQ(test, differ, 3U);
}

/* A load-1/2 table takes its capacity, then refuses a new key. */
static void core_test_load_half_table_should_take_capacity_then_enospc(struct kunit *test)
{
	struct ktable kt;
	u64 i, r;

	KUNIT_ASSERT_TRUE(test, header_init(&kt.h, 1000, ADICT_TABLE_F_LOAD_HALF));
	kt.mem = vzalloc(kt.h.map_bytes);
	KUNIT_ASSERT_NOT_NULL(test, kt.mem);
	memcpy(kt.mem, &kt.h, sizeof(kt.h));
	adict_core_init(&kt.c, &kt.h, (char *)kt.mem + ADICT_HEADER_BYTES);
	for (i = 1; i <= 1000; i++)
		KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_ADD, i * 977,
						    i, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_INSERT, 3, 0, 0, &r),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, adict_core_count(&kt.c), 1000ULL);
	for (i = 1; i <= 1000; i++) {
		KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_FIND, i * 977,
						    0, 0, &r), 0);
		KUNIT_EXPECT_EQ(test, r, i);
	}
	ktable_fini(&kt);
}

static void header_test_single_field_corruption_should_be_rejected(struct kunit *test)
{
	struct adict_table_header good, h;
	unsigned int i;

	KUNIT_ASSERT_TRUE(test, header_init(&good, 1000, ADICT_TABLE_F_DEVICE));

#define CORRUPT(field, val) do {					\
		h = good;						\
		h.field = (val);					\
		KUNIT_EXPECT_FALSE_MSG(test, adict_header_valid(&h, h.map_bytes), \
				       "field %s", #field);		\
	} while (0)
	CORRUPT(magic, good.magic ^ 1);
	CORRUPT(version, 1);
	CORRUPT(hash, 1);
	CORRUPT(header_bytes, 8192);
	CORRUPT(row_bytes, 8);
	CORRUPT(bucket_rows, 8);
	/*
	 * Another valid geometry with the same bucket count (a u32 value
	 * instead of a u64 one) is a self-consistent header: only geometries
	 * that are invalid or change the size are caught.
	 */
	CORRUPT(key64, 2);
	CORRUPT(key64, 9);
	CORRUPT(key32, 1);
	CORRUPT(key32, 17);
	CORRUPT(value_bytes, 2);
	CORRUPT(reserved0, 1);
	/* A capacity in the same geometry is self-consistent: change it a lot. */
	CORRUPT(capacity, good.capacity * 4);
	CORRUPT(capacity, 0);
	CORRUPT(nbuckets, good.nbuckets + 64);
	CORRUPT(nbuckets, good.nbuckets - 1);
	CORRUPT(data_offset, 0);
	CORRUPT(data_bytes, good.data_bytes + 64);
	CORRUPT(map_bytes, good.map_bytes - 4096);
	for (i = 0; i < ARRAY_SIZE(good.reserved); i++)
		CORRUPT(reserved[i], 1);
#undef CORRUPT
	/* Less memory behind it than the header claims. */
	KUNIT_EXPECT_FALSE(test, adict_header_valid(&good, good.map_bytes - 1));
	/* Flags other than the load are informational: any value is accepted. */
	h = good;
	h.flags = ~0U & ~ADICT_TABLE_F_LOAD_HALF;
	KUNIT_EXPECT_TRUE(test, adict_header_valid(&h, h.map_bytes));
	/* The load flag sizes the table: this one has the rows of 3/4. */
	h = good;
	h.flags |= ADICT_TABLE_F_LOAD_HALF;
	KUNIT_EXPECT_FALSE(test, adict_header_valid(&h, h.map_bytes));
}

/* ------------------------------------------------------------------------ */
/* format v2: every geometry class, composite keys                          */
/* ------------------------------------------------------------------------ */

struct geom {
	u32 k64, k32, vb;
};

static const struct geom v2_geoms[] = {
	{ 1, 0, 8 }, { 1, 0, 4 }, { 1, 0, 0 }, { 0, 1, 4 }, { 2, 0, 8 },
	{ 1, 1, 4 }, { 2, 1, 0 }, { 0, 3, 8 }, { 7, 0, 8 }, { 0, 16, 0 },
};

static void gtable_init(struct kunit *test, struct ktable *kt, u64 capacity,
			const struct geom *g)
{
	struct adict_layout l;

	KUNIT_ASSERT_TRUE(test, adict_layout_init(&l, g->k64, g->k32, g->vb));
	KUNIT_ASSERT_TRUE(test, adict_header_init(&kt->h, capacity, 0, &l,
						  test_seed));
	kt->mem = vzalloc(kt->h.map_bytes);
	KUNIT_ASSERT_NOT_NULL(test, kt->mem);
	memcpy(kt->mem, &kt->h, sizeof(kt->h));
	KUNIT_ASSERT_TRUE(test, adict_header_valid(&kt->h, kt->h.map_bytes));
	adict_core_init(&kt->c, &kt->h, (char *)kt->mem + ADICT_HEADER_BYTES);
}

/* Packed key number @i (from 1): every word non-zero, the last one i. */
static void gkey(const struct adict_core *c, u64 i, u64 *key)
{
	u32 w, n = c->layout.key64 + c->layout.key32;

	for (w = 0; w < n; w++) {
		u64 x = w == n - 1 ? i : i * 0x9e3779b97f4a7c15ULL + w + 1;

		key[w] = w < c->layout.key64 ? (x | 1) : ((u32)x | 1);
	}
	key[n - 1] = i;
}

/* Is @p inside the row area (buckets 1..nbuckets-1)? */
static bool in_row_area(const struct adict_core *c, const void *p)
{
	return p >= (const void *)&c->kbuckets[1] &&
	       p < (const void *)&c->kbuckets[c->nbuckets];
}

static void v2_test_every_geometry_should_insert_once_and_find(struct kunit *test)
{
	u64 key[ADICT_KEY_WORDS_MAX], r, i;
	unsigned int g;

	for (g = 0; g < ARRAY_SIZE(v2_geoms); g++) {
		struct ktable kt;
		int bad = 0;

		gtable_init(test, &kt, 300, &v2_geoms[g]);
		for (i = 1; i <= 300; i++) {
			gkey(&kt.c, i, key);
			bad |= adict_core_kop(&kt.c, ADICT_OP_INSERT, key, 0, 0, &r) || r != 1;
			bad |= adict_core_kop(&kt.c, ADICT_OP_INSERT, key, 0, 0, &r) || r != 0;
			if (kt.c.layout.value_bytes)
				bad |= adict_core_kop(&kt.c, ADICT_OP_ADD, key, i, 0, &r) != 0;
		}
		gkey(&kt.c, 301, key);
		bad |= adict_core_kop(&kt.c, ADICT_OP_INSERT, key, 0, 0, &r) != -ENOSPC;
		for (i = 1; i <= 300; i++) {
			gkey(&kt.c, i, key);
			bad |= adict_core_kop(&kt.c, ADICT_OP_FIND, key, 0, 0, &r) != 0;
			bad |= r != (kt.c.layout.value_bytes ? i : 0);
		}
		KUNIT_EXPECT_EQ_MSG(test, bad, 0, "geometry %u,%u,%u",
				    v2_geoms[g].k64, v2_geoms[g].k32, v2_geoms[g].vb);
		KUNIT_EXPECT_EQ(test, adict_core_count(&kt.c), 300ULL);
		KUNIT_EXPECT_EQ(test, *kt.c.kused, 300ULL);
		ktable_fini(&kt);
	}
}

static void v2_test_bad_keys_should_be_einval(struct kunit *test)
{
	static const struct geom g = { 2, 1, 4 };
	u64 key[3] = { 1, 2, 3 }, r;
	struct ktable kt;

	gtable_init(test, &kt, 10, &g);
	key[1] = 0;
	KUNIT_EXPECT_EQ(test, adict_core_kop(&kt.c, ADICT_OP_ADD, key, 1, 0, &r), -EINVAL);
	key[1] = 2;
	key[2] = 1ULL << 32;
	KUNIT_EXPECT_EQ(test, adict_core_kop(&kt.c, ADICT_OP_ADD, key, 1, 0, &r), -EINVAL);
	/* the one-word entry point refuses a composite table */
	KUNIT_EXPECT_EQ(test, adict_core_op(&kt.c, ADICT_OP_ADD, 1, 1, 0, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_core_count(&kt.c), 0ULL);
	ktable_fini(&kt);
}

static void v2_test_garbage_rows_should_stay_bounded(struct kunit *test)
{
	u64 key[ADICT_KEY_WORDS_MAX];
	unsigned int g, i;
	void *v;
	int ret;

	for (g = 0; g < ARRAY_SIZE(v2_geoms); g++) {
		struct ktable kt;

		gtable_init(test, &kt, 1000, &v2_geoms[g]);
		/* random key words, values and used word; our geometry copy */
		get_random_bytes(kt.c.kbuckets, kt.h.data_bytes);
		for (i = 0; i < 100; i++) {
			gkey(&kt.c, get_random_u32() | 1, key);
			v = NULL;
			ret = adict_core_klookup(&kt.c, key, i & 1, &v);
			KUNIT_EXPECT_TRUE(test, ret == 0 || ret == 1 ||
					  ret == -ENOENT || ret == -ENOSPC);
			/* the row (a set's "value" is the end of its row) */
			if (ret >= 0) {
				char *row = (char *)v - kt.c.layout.value_offset;

				KUNIT_EXPECT_TRUE(test, in_row_area(&kt.c, row));
			}
		}
		KUNIT_EXPECT_LE(test, adict_core_count(&kt.c),
				(kt.c.nbuckets - 1) * kt.c.layout.rows);
		ktable_fini(&kt);
	}
}

#define V2_THREADS	4
#define V2_KEYS		499	/* prime: each stride is a permutation */

struct v2_arg {
	struct adict_core *c;
	unsigned int idx;
	int errors, news;
	struct completion done;
};

static int v2_thread(void *data)
{
	struct v2_arg *a = data;
	u64 key[ADICT_KEY_WORDS_MAX], r;
	unsigned int i;

	for (i = 0; i < V2_KEYS; i++) {
		/* every thread inserts every key, each in its own order */
		gkey(a->c, (i * (2 * a->idx + 1) + 37 * a->idx) % V2_KEYS + 1, key);
		if (adict_core_kop(a->c, ADICT_OP_INSERT, key, 0, 0, &r))
			a->errors++;
		a->news += r == 1;
		if (adict_core_kop(a->c, ADICT_OP_ADD, key, 1, 0, &r))
			a->errors++;
		if (!(i & 31))
			cond_resched();
	}
	complete(&a->done);
	return 0;
}

static void v2_race(struct kunit *test, const struct geom *g)
{
	u64 key[ADICT_KEY_WORDS_MAX], r, i;
	struct v2_arg *args;
	struct ktable kt;
	int news = 0, bad = 0;
	unsigned int t;

	gtable_init(test, &kt, V2_KEYS + 10, g);
	args = kunit_kcalloc(test, V2_THREADS, sizeof(*args), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, args);
	for (t = 0; t < V2_THREADS; t++) {
		struct task_struct *tsk;

		args[t].c = &kt.c;
		args[t].idx = t;
		init_completion(&args[t].done);
		tsk = kthread_run(v2_thread, &args[t], "adict_kunit_v2/%u", t);
		KUNIT_ASSERT_FALSE(test, IS_ERR(tsk));
	}
	for (t = 0; t < V2_THREADS; t++) {
		wait_for_completion(&args[t].done);
		KUNIT_EXPECT_EQ(test, args[t].errors, 0);
		news += args[t].news;
	}
	/* each key new exactly once, in exactly one row, with exact totals */
	KUNIT_EXPECT_EQ(test, news, V2_KEYS);
	KUNIT_EXPECT_EQ(test, adict_core_count(&kt.c), (u64)V2_KEYS);
	KUNIT_EXPECT_EQ(test, *kt.c.kused, (u64)V2_KEYS);
	for (i = 1; i <= V2_KEYS; i++) {
		gkey(&kt.c, i, key);
		bad |= adict_core_kop(&kt.c, ADICT_OP_FIND, key, 0, 0, &r) || r != V2_THREADS;
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
	ktable_fini(&kt);
}

static void v2_test_kthreads_racing_on_two_word_keys_should_insert_each_once(struct kunit *test)
{
	static const struct geom g = { 2, 0, 8 };

	v2_race(test, &g);
}

static void v2_test_kthreads_racing_on_three_word_keys_should_insert_each_once(struct kunit *test)
{
	static const struct geom g = { 1, 2, 4 };

	v2_race(test, &g);
}

static struct kunit_case adict_core_cases[] = {
	KUNIT_CASE(hash_test_should_give_the_known_answers),
	KUNIT_CASE(core_test_insert_into_empty_should_publish_key),
	KUNIT_CASE(core_test_second_insert_should_find_same_slot),
	KUNIT_CASE(core_test_colliding_keys_should_spill_and_wrap),
	KUNIT_CASE(core_test_full_table_should_fail_enospc_and_keep_keys),
	KUNIT_CASE(core_test_key_zero_and_max_should_be_rejected_and_stored),
	KUNIT_CASE(core_test_garbage_table_should_stay_bounded),
	KUNIT_CASE(v2_test_every_geometry_should_insert_once_and_find),
	KUNIT_CASE(v2_test_bad_keys_should_be_einval),
	KUNIT_CASE(v2_test_garbage_rows_should_stay_bounded),
	KUNIT_CASE(v2_test_kthreads_racing_on_two_word_keys_should_insert_each_once),
	KUNIT_CASE(v2_test_kthreads_racing_on_three_word_keys_should_insert_each_once),
	KUNIT_CASE(core_test_concurrent_inserts_should_publish_each_key_once),
	KUNIT_CASE(header_test_init_should_be_valid),
	KUNIT_CASE(header_test_load_half_should_double_rows_and_stay_valid),
	KUNIT_CASE(core_test_load_half_table_should_take_capacity_then_enospc),
	KUNIT_CASE(header_test_single_field_corruption_should_be_rejected),
	{}
};

static struct kunit_suite adict_core_suite = {
	.name = "adict_core",
	.test_cases = adict_core_cases,
};

/* ------------------------------------------------------------------------ */
/* The module's functions                                                   */
/* ------------------------------------------------------------------------ */

static void table_test_create_kernel_should_write_valid_header(struct kunit *test)
{
	struct adict_table_header h;
	struct adict_table *t;

	t = adict_table_create_kernel(1000);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	memcpy(&h, t->kaddr, sizeof(h));
	KUNIT_EXPECT_TRUE(test, adict_header_valid(&h, t->bytes));
	KUNIT_EXPECT_EQ(test, h.flags, (u32)ADICT_TABLE_F_DEVICE);
	KUNIT_EXPECT_EQ(test, t->npages, (unsigned long)(t->bytes >> PAGE_SHIFT));
	KUNIT_EXPECT_EQ(test, t->core.nbuckets, h.nbuckets);
	KUNIT_EXPECT_PTR_EQ(test, (void *)t->core.kbuckets,
			    (void *)((char *)t->kaddr + ADICT_HEADER_BYTES));
	/* The pages start zeroed: no key anywhere. */
	KUNIT_EXPECT_EQ(test, adict_core_count(&t->core), 0ULL);
	adict_table_destroy_kernel(t);
}

/*
 * About 8.5 MiB: four whole 2 MiB pieces.  Where the module uses huge pages
 * (ADICT_HUGE, 6.12) they are compound pages of the PMD order, from the
 * start of the table (a fresh VM has the memory); elsewhere none.  Either
 * way the kernel's ops through its vmap() of them work on every piece.
 */
static void table_test_large_table_should_get_huge_pages_where_mapped_by_pmd(struct kunit *test)
{
	struct adict_table *t = adict_table_create_kernel(400000);
	unsigned long i;
	u64 k, r;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
#ifdef ADICT_HUGE
	KUNIT_EXPECT_GE(test, t->huge_npages, 4 * ADICT_HUGE_NR);
#else
	KUNIT_EXPECT_EQ(test, t->huge_npages, 0UL);
#endif
	KUNIT_EXPECT_EQ(test, t->huge_npages % ADICT_HUGE_NR, 0UL);
	KUNIT_EXPECT_LE(test, t->huge_npages, t->npages);
	for (i = 0; i < t->huge_npages; i += ADICT_HUGE_NR) {
		KUNIT_EXPECT_TRUE(test, PageHead(t->pages[i]));
		KUNIT_EXPECT_EQ(test, compound_order(t->pages[i]),
				(unsigned int)ADICT_HUGE_ORDER);
		KUNIT_EXPECT_PTR_EQ(test, t->pages[i + ADICT_HUGE_NR - 1],
				    t->pages[i] + ADICT_HUGE_NR - 1);
	}
	for (k = 1; k <= 100000; k++)
		KUNIT_ASSERT_EQ(test, adict_table_op(t, ADICT_ACCESS_RDWR, ADICT_OP_ADD,
						     k * 0x9e3779b97f4a7c15ULL, k, 0, &r), 0);
	for (k = 1; k <= 100000; k++) {
		KUNIT_ASSERT_EQ(test, adict_table_op(t, ADICT_ACCESS_RDWR, ADICT_OP_FIND,
						     k * 0x9e3779b97f4a7c15ULL, 0, 0, &r), 0);
		KUNIT_ASSERT_EQ(test, r, k);
	}
	KUNIT_EXPECT_EQ(test, adict_core_count(&t->core), 100000ULL);
	adict_table_destroy_kernel(t);
}

static void table_test_absurd_capacity_should_fail_cleanly(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, PTR_ERR(adict_table_create_kernel(0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(adict_table_create_kernel(U64_MAX)), -EFBIG);
	KUNIT_EXPECT_EQ(test, PTR_ERR(adict_table_create_kernel(ADICT_CAPACITY_MAX + 1)), -EFBIG);
	/* Valid for the format, but above max_table_bytes (1 GiB). */
	KUNIT_EXPECT_EQ(test, PTR_ERR(adict_table_create_kernel(ADICT_CAPACITY_MAX)), -EFBIG);
}

static void op_test_rdonly_load_of_absent_key_should_not_insert(struct kunit *test)
{
	struct adict_table *t = adict_table_create_kernel(100);
	u64 r = 77;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_RDONLY, ADICT_OP_LOAD, 5, 0, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, r, 0ULL);
	KUNIT_EXPECT_EQ(test, *t->core.kused, 0ULL);
	KUNIT_EXPECT_EQ(test, adict_core_count(&t->core), 0ULL);
	/* The same LOAD read-write inserts the key. */
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_RDWR, ADICT_OP_LOAD, 5, 0, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, *t->core.kused, 1ULL);
	adict_table_destroy_kernel(t);
}

static void op_test_rdonly_write_ops_should_be_eperm(struct kunit *test)
{
	struct adict_table *t = adict_table_create_kernel(100);
	u32 op;
	u64 r;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	for (op = 0; op < ADICT_OP_COUNT; op++) {
		int want = adict_op_writes(op) ? -EPERM :
			   op == ADICT_OP_FIND ? -ENOENT : 0;

		KUNIT_EXPECT_EQ_MSG(test, adict_table_op(t, ADICT_ACCESS_RDONLY, op, 9, 1, 2, &r),
				    want, "op %u", op);
	}
	KUNIT_EXPECT_EQ(test, adict_core_count(&t->core), 0ULL);
	adict_table_destroy_kernel(t);
}

static void op_test_mediated_should_allow_only_granted_ops(struct kunit *test)
{
	struct adict_table *t = adict_table_create_kernel(100);
	u64 r;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	t->grant = ADICT_OP_BIT(ADICT_OP_ADD) | ADICT_OP_BIT(ADICT_OP_CAS);
	/* Without INSERT granted, key 9 must exist first. */
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_MEDIATED, ADICT_OP_ADD, 9, 4, 0, &r), -ENOENT);
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_RDWR, ADICT_OP_INSERT, 9, 0, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_MEDIATED, ADICT_OP_ADD, 9, 4, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_MEDIATED, ADICT_OP_CAS, 9, 4, 6, &r), 0);
	KUNIT_EXPECT_EQ(test, r, 4ULL);
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_MEDIATED, ADICT_OP_STORE, 9, 1, 0, &r), -EPERM);
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_MEDIATED, ADICT_OP_LOAD, 9, 0, 0, &r), -EPERM);
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_MEDIATED, ADICT_OP_INSERT, 10, 0, 0, &r), -EPERM);
	/* Unknown op and key 0 are -EINVAL before any permission check. */
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_MEDIATED, 99, 9, 0, 0, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_MEDIATED, ADICT_OP_ADD, 0, 1, 0, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_RDWR, ADICT_OP_LOAD, 9, 0, 0, &r), 0);
	KUNIT_EXPECT_EQ(test, r, 6ULL);
	adict_table_destroy_kernel(t);
}

/* What adict_table_op() must do for one (access, grant, op, presence). */
static int op_expect(u32 access, u32 grant, u32 op, bool present,
		     bool *inserts)
{
	bool allowed, may_insert;

	switch (access) {
	case ADICT_ACCESS_RDWR:
		allowed = true;
		may_insert = true;
		break;
	case ADICT_ACCESS_RDONLY:
		allowed = !adict_op_writes(op);
		may_insert = false;
		break;
	default:
		allowed = grant & ADICT_OP_BIT(op);
		may_insert = grant & ADICT_OP_BIT(ADICT_OP_INSERT);
		break;
	}
	*inserts = false;
	if (!allowed)
		return -EPERM;
	if (present)
		return 0;
	if (op == ADICT_OP_FIND)
		return -ENOENT;
	if (!may_insert)
		return op == ADICT_OP_LOAD ? 0 : -ENOENT;
	*inserts = true;
	return 0;
}

/*
 * Every op against every access and every grant of one op, alone and with
 * INSERT, on a present and on an absent key: the status, whether a key was
 * published (used and the slot count), and the result of LOAD/INSERT.
 */
static void op_test_each_op_against_each_grant_should_insert_only_if_allowed(struct kunit *test)
{
	static const u32 accesses[] = { ADICT_ACCESS_RDWR, ADICT_ACCESS_RDONLY,
					ADICT_ACCESS_MEDIATED };
	struct adict_table *t = adict_table_create_kernel(20000);
	u32 a, g, op, grant;
	u64 key = 1000, used, r;
	bool present, inserts;
	int want, ret;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	/* Key 1 is present, with value 5. */
	KUNIT_ASSERT_EQ(test, adict_table_op(t, ADICT_ACCESS_RDWR, ADICT_OP_STORE, 1, 5, 0, &r), 0);
	for (a = 0; a < ARRAY_SIZE(accesses); a++) {
		/* g: 0 .. OP_COUNT-1 one op, OP_COUNT.. that op + INSERT, then READ, ALL */
		for (g = 0; g < 2 * ADICT_OP_COUNT + 2; g++) {
			if (g < ADICT_OP_COUNT)
				grant = ADICT_OP_BIT(g);
			else if (g < 2 * ADICT_OP_COUNT)
				grant = ADICT_OP_BIT(g - ADICT_OP_COUNT) |
					ADICT_OP_BIT(ADICT_OP_INSERT);
			else if (g == 2 * ADICT_OP_COUNT)
				grant = ADICT_GRANT_READ;
			else
				grant = ADICT_GRANT_ALL;
			t->grant = grant;
			for (op = 0; op < ADICT_OP_COUNT; op++) {
				for (present = false; ; present = true) {
					u64 k = present ? 1 : ++key;

					/* CAS 5 -> 5 and AND ~0 keep key 1 at 5 */
					u64 a1 = op == ADICT_OP_AND ? ~0ULL :
						 op == ADICT_OP_CAS || op == ADICT_OP_STORE ||
						 op == ADICT_OP_SWAP ? 5 : 0;

					want = op_expect(accesses[a], grant, op, present, &inserts);
					used = *t->core.kused;
					r = 0xcc;
					ret = adict_table_op(t, accesses[a], op, k, a1, 5, &r);
					KUNIT_EXPECT_EQ_MSG(test, ret, want,
							    "access %u grant %#x op %u present %d",
							    accesses[a], grant, op, present);
					KUNIT_EXPECT_EQ_MSG(test, *t->core.kused, used + inserts,
							    "access %u grant %#x op %u present %d",
							    accesses[a], grant, op, present);
					if (!ret && op == ADICT_OP_LOAD)
						KUNIT_EXPECT_EQ(test, r, present ? 5ULL : 0ULL);
					if (!ret && op == ADICT_OP_INSERT)
						KUNIT_EXPECT_EQ(test, r, (u64)inserts);
					if (present)
						break;
				}
			}
		}
	}
	/* Nothing published beyond what used counts. */
	KUNIT_EXPECT_EQ(test, adict_core_count(&t->core), *t->core.kused);
	adict_table_destroy_kernel(t);
}

/*
 * The same rule for composite keys: on a table of 2 u64 + 1 u32 key words
 * and u32 values, every op against every access, with and without INSERT
 * in a mediated grant, on a present and an absent key.
 */
static void op_test_composite_keys_follow_the_grants(struct kunit *test)
{
	static const u32 accesses[] = { ADICT_ACCESS_RDWR, ADICT_ACCESS_RDONLY,
					ADICT_ACCESS_MEDIATED };
	struct adict_table *t = adict_table_create_kernel_geom(20000, 2, 1, 4);
	u64 present_key[ADICT_KEY_WORDS_MAX] = { 7, 8, 9 };
	u64 key[ADICT_KEY_WORDS_MAX] = { 7, 8, 0 };
	u64 n = 100, used, r;
	u32 a, g, op, grant;
	bool present, inserts;
	int want, ret;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	KUNIT_ASSERT_EQ(test, adict_table_kop(t, ADICT_ACCESS_RDWR, ADICT_OP_STORE,
					      present_key, 5, 0, &r), 0);
	for (a = 0; a < ARRAY_SIZE(accesses); a++) {
		for (g = 0; g < 2; g++) {
			grant = ADICT_OP_BIT(ADICT_OP_ADD) | ADICT_GRANT_READ |
				(g ? ADICT_OP_BIT(ADICT_OP_INSERT) : 0);
			t->grant = grant;
			for (op = 0; op < ADICT_OP_COUNT; op++) {
				for (present = false; ; present = true) {
					const u64 *k = present ? present_key : key;
					/* keep the present key at 5 */
					u64 a1 = op == ADICT_OP_AND ? ~0ULL :
						 op == ADICT_OP_CAS || op == ADICT_OP_STORE ||
						 op == ADICT_OP_SWAP ? 5 : 0;

					key[2] = ++n;	/* a new absent key */
					want = op_expect(accesses[a], grant, op, present, &inserts);
					used = *t->core.kused;
					r = 0xcc;
					ret = adict_table_kop(t, accesses[a], op, k, a1, 5, &r);
					KUNIT_EXPECT_EQ_MSG(test, ret, want,
							    "access %u grant %#x op %u present %d",
							    accesses[a], grant, op, present);
					KUNIT_EXPECT_EQ_MSG(test, *t->core.kused, used + inserts,
							    "access %u grant %#x op %u present %d",
							    accesses[a], grant, op, present);
					if (!ret && op == ADICT_OP_LOAD)
						KUNIT_EXPECT_EQ(test, r, present ? 5ULL : 0ULL);
					if (present)
						break;
				}
			}
		}
	}
	KUNIT_EXPECT_EQ(test, adict_core_count(&t->core), *t->core.kused);
	adict_table_destroy_kernel(t);
}

/* A batch follows the same rule, entry by entry. */
static void batch_test_mediated_without_insert_should_not_insert(struct kunit *test)
{
	struct adict_table *t = adict_table_create_kernel(100);
	struct adict_batch_op e[3] = {
		{ .key = 1, .op = ADICT_OP_ADD, .arg1 = 5 },
		{ .key = 2, .op = ADICT_OP_ADD, .arg1 = 5 },
		{ .key = 2, .op = ADICT_OP_LOAD },
	};
	u64 r;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	KUNIT_ASSERT_EQ(test, adict_table_op(t, ADICT_ACCESS_RDWR, ADICT_OP_INSERT, 1, 0, 0, &r), 0);
	t->grant = ADICT_OP_BIT(ADICT_OP_ADD) | ADICT_GRANT_READ;
	KUNIT_EXPECT_EQ(test, adict_batch_exec(t, ADICT_ACCESS_MEDIATED, e, 3), 2U);
	KUNIT_EXPECT_EQ(test, e[0].status, 0);
	KUNIT_EXPECT_EQ(test, e[1].status, -ENOENT);
	KUNIT_EXPECT_EQ(test, e[2].status, 0);
	KUNIT_EXPECT_EQ(test, e[2].result, 0ULL);
	KUNIT_EXPECT_EQ(test, *t->core.kused, 1ULL);
	adict_table_destroy_kernel(t);
}

/*
 * Composite-key batch entries: each entry's key is inline and packed; a
 * zero word, a u32 word above 2^32 - 1, a non-zero reserved field and a
 * value op on a set are EINVAL for that entry only; u32 values wrap.
 */
static void batch_test_kexec_should_run_composite_keys(struct kunit *test)
{
	struct adict_table *t = adict_table_create_kernel_geom(100, 2, 1, 4);
	struct adict_table *set = adict_table_create_kernel_geom(100, 0, 2, 0);
	struct adict_batch_kop *e;
	u64 r;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(set));
	e = kunit_kcalloc(test, 6, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	e[0] = (struct adict_batch_kop){ .op = ADICT_OP_ADD, .arg1 = 0xffffffff,
					 .key = { 1, 2, 3 } };
	e[1] = (struct adict_batch_kop){ .op = ADICT_OP_ADD, .arg1 = 2,
					 .key = { 1, 2, 3 } };
	e[2] = (struct adict_batch_kop){ .op = ADICT_OP_ADD, .arg1 = 1,
					 .key = { 1, 0, 3 } };
	e[3] = (struct adict_batch_kop){ .op = ADICT_OP_ADD, .arg1 = 1,
					 .key = { 1, 2, 1ULL << 32 } };
	e[4] = (struct adict_batch_kop){ .op = ADICT_OP_ADD, .arg1 = 1,
					 .reserved = 1, .key = { 1, 2, 4 } };
	e[5] = (struct adict_batch_kop){ .op = ADICT_OP_LOAD,
					 .key = { 1, 2, 3 } };
	KUNIT_EXPECT_EQ(test, adict_batch_kexec(t, ADICT_ACCESS_RDWR, e, 6), 3U);
	KUNIT_EXPECT_EQ(test, e[0].status, 0);
	KUNIT_EXPECT_EQ(test, e[1].result, 0xffffffffULL);
	KUNIT_EXPECT_EQ(test, e[2].status, -EINVAL);
	KUNIT_EXPECT_EQ(test, e[3].status, -EINVAL);
	KUNIT_EXPECT_EQ(test, e[4].status, -EINVAL);
	KUNIT_EXPECT_EQ(test, e[5].result, 1ULL);	/* wrapped */
	KUNIT_EXPECT_EQ(test, adict_core_count(&t->core), 1ULL);
	/* one-word entries are not keys of this table */
	KUNIT_EXPECT_EQ(test, adict_table_op(t, ADICT_ACCESS_RDWR, ADICT_OP_ADD,
					     1, 1, 0, &r), -EINVAL);
	/* a set: INSERT and FIND, value ops EINVAL */
	e[0] = (struct adict_batch_kop){ .op = ADICT_OP_INSERT, .key = { 5, 6 } };
	e[1] = (struct adict_batch_kop){ .op = ADICT_OP_INSERT, .key = { 5, 6 } };
	e[2] = (struct adict_batch_kop){ .op = ADICT_OP_ADD, .key = { 5, 6 } };
	e[3] = (struct adict_batch_kop){ .op = ADICT_OP_FIND, .key = { 5, 7 } };
	KUNIT_EXPECT_EQ(test, adict_batch_kexec(set, ADICT_ACCESS_RDWR, e, 4), 2U);
	KUNIT_EXPECT_EQ(test, e[0].result, 1ULL);
	KUNIT_EXPECT_EQ(test, e[1].result, 0ULL);
	KUNIT_EXPECT_EQ(test, e[2].status, -EINVAL);
	KUNIT_EXPECT_EQ(test, e[3].status, -ENOENT);
	adict_table_destroy_kernel(set);
	adict_table_destroy_kernel(t);
}

/* One-word entries run on any table whose keys are one word. */
static void batch_test_exec_should_take_any_one_word_geometry(struct kunit *test)
{
	struct adict_table *t = adict_table_create_kernel_geom(100, 0, 1, 4);
	struct adict_batch_op e[3] = {
		{ .key = 9, .op = ADICT_OP_ADD, .arg1 = 0xfffffffe },
		{ .key = 9, .op = ADICT_OP_ADD, .arg1 = 3 },
		{ .key = 1ULL << 32, .op = ADICT_OP_ADD, .arg1 = 1 },
	};

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	KUNIT_EXPECT_EQ(test, adict_batch_exec(t, ADICT_ACCESS_RDWR, e, 3), 2U);
	KUNIT_EXPECT_EQ(test, e[1].result, 0xfffffffeULL);
	KUNIT_EXPECT_EQ(test, e[2].status, -EINVAL);	/* not a u32 word */
	adict_table_destroy_kernel(t);
}

static void op_test_args_run_should_fill_result(struct kunit *test)
{
	struct adict_table *t = adict_table_create_kernel(100);
	struct adict_op_args *a;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	a = kunit_kzalloc(test, sizeof(*a), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	*a = (struct adict_op_args){ .size = sizeof(*a), .op = ADICT_OP_STORE,
				     .key = 3, .arg1 = 11 };
	KUNIT_EXPECT_EQ(test, adict_op_args_run(t, ADICT_ACCESS_RDWR, a), 0);
	KUNIT_EXPECT_EQ(test, a->result, 0ULL);
	*a = (struct adict_op_args){ .size = sizeof(*a), .op = ADICT_OP_SUB,
				     .key = 3, .arg1 = 12 };
	KUNIT_EXPECT_EQ(test, adict_op_args_run(t, ADICT_ACCESS_RDWR, a), 0);
	KUNIT_EXPECT_EQ(test, a->result, 11ULL);
	*a = (struct adict_op_args){ .size = sizeof(*a), .op = ADICT_OP_FIND,
				     .key = 3 };
	KUNIT_EXPECT_EQ(test, adict_op_args_run(t, ADICT_ACCESS_RDWR, a), 0);
	KUNIT_EXPECT_EQ(test, a->result, U64_MAX);	/* wraps modulo 2^64 */
	*a = (struct adict_op_args){ .size = sizeof(*a), .op = ADICT_OP_FIND,
				     .key = 4 };
	KUNIT_EXPECT_EQ(test, adict_op_args_run(t, ADICT_ACCESS_RDWR, a), -ENOENT);
	adict_table_destroy_kernel(t);
}

static void batch_test_exec_should_report_each_status(struct kunit *test)
{
	struct adict_table *t = adict_table_create_kernel(100);
	struct adict_batch_op e[5] = {
		{ .key = 1, .op = ADICT_OP_ADD, .arg1 = 5 },
		{ .key = 1, .op = ADICT_OP_ADD, .arg1 = 5 },
		{ .key = 1, .op = 1000 },
		{ .key = 0, .op = ADICT_OP_LOAD },
		{ .key = 2, .op = ADICT_OP_FIND },
	};

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	KUNIT_EXPECT_EQ(test, adict_batch_exec(t, ADICT_ACCESS_RDWR, e, 5), 2U);
	KUNIT_EXPECT_EQ(test, e[0].status, 0);
	KUNIT_EXPECT_EQ(test, e[1].result, 5ULL);
	KUNIT_EXPECT_EQ(test, e[2].status, -EINVAL);
	KUNIT_EXPECT_EQ(test, e[3].status, -EINVAL);
	KUNIT_EXPECT_EQ(test, e[4].status, -ENOENT);
	adict_table_destroy_kernel(t);
}

static void mmap_test_check_should_enforce_rules(struct kunit *test)
{
	const unsigned long rd = VM_READ | VM_MAYREAD | VM_SHARED | VM_MAYSHARE;
	const unsigned long wr = rd | VM_WRITE | VM_MAYWRITE;
	bool w;

	/* Whole table read-only: fine, never writable. */
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDWR, 8, 0, 8, rd, &w), 0);
	KUNIT_EXPECT_FALSE(test, w);
	/* Header page writable: refused, for every access. */
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDWR, 8, 0, 8, wr, &w), -EACCES);
	/* Data area writable on a read-write attachment only. */
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDWR, 8, 1, 7, wr, &w), 0);
	KUNIT_EXPECT_TRUE(test, w);
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDONLY, 8, 1, 7, wr, &w), -EACCES);
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_MEDIATED, 8, 1, 7, wr, &w), -EACCES);
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDONLY, 8, 1, 7, rd, &w), 0);
	KUNIT_EXPECT_FALSE(test, w);
	/* Range checks, overflow included. */
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDWR, 8, 0, 9, rd, &w), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDWR, 8, 8, 1, rd, &w), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDWR, 8, 2, ULONG_MAX, rd, &w), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDWR, 8, ULONG_MAX, 2, rd, &w), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDWR, 8, 0, 0, rd, &w), -EINVAL);
	/* Private and executable mappings are refused. */
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDWR, 8, 0, 8, VM_READ | VM_MAYREAD, &w), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_mmap_check(ADICT_ACCESS_RDWR, 8, 0, 8, rd | VM_EXEC, &w), -EPERM);
}

static void name_test_valid_should_accept_allowed_chars_only(struct kunit *test)
{
	static const char ok63[] =
		"abcdefghijABCDEFGHIJ0123456789abcdefghijABCDEFGHIJ0123456789._-";

	KUNIT_EXPECT_EQ(test, adict_name_valid("ctr", 3), 0);
	KUNIT_EXPECT_EQ(test, adict_name_valid("a.b_c-D9", 8), 0);
	KUNIT_EXPECT_EQ(test, adict_name_valid(ok63, 63), 0);
	KUNIT_EXPECT_EQ(test, adict_name_valid(ok63, 64), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_name_valid("", 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_name_valid(".x", 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_name_valid("a/b", 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_name_valid("a b", 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_name_valid("a\xffz", 3), -EINVAL);
}

static void op_test_args_run_should_take_composite_keys_inline(struct kunit *test)
{
	struct adict_table *t = adict_table_create_kernel_geom(100, 1, 2, 4);
	struct adict_batch_op *e;
	struct adict_op_args *a;

	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t));
	a = kunit_kzalloc(test, sizeof(*a), GFP_KERNEL);
	e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, e);
	*a = (struct adict_op_args){ .size = sizeof(*a), .op = ADICT_OP_ADD,
				     .key = 3, .key_more = { 4, 5 },
				     .arg1 = 0x1fffffffeULL };
	KUNIT_EXPECT_EQ(test, adict_op_args_run(t, ADICT_ACCESS_RDWR, a), 0);
	KUNIT_EXPECT_EQ(test, a->result, 0ULL);
	*a = (struct adict_op_args){ .size = sizeof(*a), .op = ADICT_OP_ADD,
				     .key = 3, .key_more = { 4, 5 }, .arg1 = 3 };
	KUNIT_EXPECT_EQ(test, adict_op_args_run(t, ADICT_ACCESS_RDWR, a), 0);
	KUNIT_EXPECT_EQ(test, a->result, 0xfffffffeULL);	/* u32, zero-extended */
	/* a caller of the first size: key_more reads 0, not a key here */
	*a = (struct adict_op_args){ .size = ADICT_OP_ARGS_SIZE_V1,
				     .op = ADICT_OP_ADD, .key = 3, .arg1 = 1 };
	KUNIT_EXPECT_EQ(test, adict_op_args_run(t, ADICT_ACCESS_RDWR, a), -EINVAL);
	*a = (struct adict_op_args){ .size = sizeof(*a), .op = ADICT_OP_FIND,
				     .key = 3, .key_more = { 4, 1ULL << 32 } };
	KUNIT_EXPECT_EQ(test, adict_op_args_run(t, ADICT_ACCESS_RDWR, a), -EINVAL);
	/* one-word batch entries on a composite table */
	*e = (struct adict_batch_op){ .op = ADICT_OP_ADD, .key = 3, .arg1 = 1 };
	KUNIT_EXPECT_EQ(test, adict_batch_exec(t, ADICT_ACCESS_RDWR, e, 1), 0U);
	KUNIT_EXPECT_EQ(test, e->status, -EINVAL);
	KUNIT_EXPECT_EQ(test, adict_core_count(&t->core), 1ULL);
	/* bad geometries never make a table */
	KUNIT_EXPECT_EQ(test, PTR_ERR(adict_table_create_kernel_geom(100, 9, 0, 8)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(adict_table_create_kernel_geom(100, 8, 0, 8)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(adict_table_create_kernel_geom(100, 0, 0, 0)), -EINVAL);
	adict_table_destroy_kernel(t);
}

static struct kunit_case adict_device_cases[] = {
	KUNIT_CASE(table_test_create_kernel_should_write_valid_header),
	KUNIT_CASE(table_test_large_table_should_get_huge_pages_where_mapped_by_pmd),
	KUNIT_CASE(table_test_absurd_capacity_should_fail_cleanly),
	KUNIT_CASE(op_test_rdonly_load_of_absent_key_should_not_insert),
	KUNIT_CASE(op_test_rdonly_write_ops_should_be_eperm),
	KUNIT_CASE(op_test_mediated_should_allow_only_granted_ops),
	KUNIT_CASE(op_test_each_op_against_each_grant_should_insert_only_if_allowed),
	KUNIT_CASE(op_test_composite_keys_follow_the_grants),
	KUNIT_CASE(batch_test_mediated_without_insert_should_not_insert),
	KUNIT_CASE(op_test_args_run_should_fill_result),
	KUNIT_CASE(op_test_args_run_should_take_composite_keys_inline),
	KUNIT_CASE(batch_test_exec_should_report_each_status),
	KUNIT_CASE(batch_test_kexec_should_run_composite_keys),
	KUNIT_CASE(batch_test_exec_should_take_any_one_word_geometry),
	KUNIT_CASE(mmap_test_check_should_enforce_rules),
	KUNIT_CASE(name_test_valid_should_accept_allowed_chars_only),
	{}
};

static struct kunit_suite adict_device_suite = {
	.name = "adict_device",
	.test_cases = adict_device_cases,
};

kunit_test_suites(&adict_core_suite, &adict_device_suite);

MODULE_DESCRIPTION("KUnit tests for atomic_dict");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
