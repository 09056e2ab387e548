// SPDX-License-Identifier: MIT
/*
 * Composite keys and 32-bit values on the device (table format v2;
 * Documentation/device.rst, "ADICT_IOC_OP" and "io_uring batches"), through
 * each of the three paths: the mapping (the shared core on a read-write
 * mapping), ADICT_IOC_OP (key words inline in key_more[]) and io_uring
 * batches of struct adict_batch_kop (key words inline in each entry).
 *
 * What it proves:
 *  - for a 2-word, a 2+1-word and a 3 x u32-word key with u64, u32 and no
 *    values, and a one-word key with a u32 value: four processes released
 *    together add 1 to the same 300 keys, each in its own order, 4 rounds,
 *    all through one path; afterwards every key is in exactly one row (a
 *    scan of every row of the mapping), no other row holds a complete key,
 *    `used` is 300, and each value is exactly 16 (sets: each key once);
 *  - u32 values wrap modulo 2^32 on every path and results are
 *    zero-extended; a u32 CAS whose expected value is above 2^32 - 1 only
 *    loads;
 *  - one-word batch entries (struct adict_batch_op) work on one-word tables
 *    of any value width and are EINVAL, entry by entry, on wider keys;
 *  - EINVAL for a zero key word, a u32 key word above 2^32 - 1, a short
 *    buffer (an ADICT_IOC_OP of the first size or an entry too short for
 *    the table's key), entry sizes that are not one stride, and every bad
 *    geometry at create; E2BIG for an entry above a page or a non-zero
 *    tail beyond the kernel's entry; a refused batch runs no entry.
 */
#include <liburing.h>
#include "adict_test.h"
#include "adict_harness.h"
#include "race.h"

#define NKEYS		300
#define ROUNDS		4
#define NPROCS		4
#define BATCH		50

struct geom {
	__u32 k64, k32, vb;
};

static const struct geom geoms[] = {
	{ 2, 0, 8 },	/* two u64 words, u64 value */
	{ 2, 1, 4 },	/* two u64 words and a u32 word, u32 value */
	{ 0, 3, 4 },	/* three u32 words, u32 value */
	{ 2, 1, 0 },	/* a set of 2+1-word keys */
	{ 1, 0, 4 },	/* one u64 word, u32 value */
};

enum path { PATH_MMAP, PATH_IOCTL, PATH_URING };
static const char *const path_names[] = { "mmap", "ioctl", "uring" };

static int ioc_create_geom(int fd, __u64 capacity, __u32 k64, __u32 k32,
			   __u32 vb)
{
	struct adict_create_args a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.capacity = capacity;
	a.key64 = k64;
	a.key32 = k32;
	a.value_bytes = vb;
	return ioctl(fd, ADICT_IOC_CREATE, &a);
}

/* An anonymous table of geometry @g, and a read-write mapping of it. */
static int wtable_new(const struct geom *g, __u64 capacity, struct mtable *m)
{
	int fd = dev_open(O_RDWR);

	if (fd < 0)
		return -1;
	if (ioc_create_geom(fd, capacity, g->k64, g->k32, g->vb) ||
	    mtable_map(m, fd, PROT_READ | PROT_WRITE)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Packed key number @i (1 ..): every word non-zero, u32 words below 2^32. */
static void wkey(const struct geom *g, __u64 i, __u64 *key)
{
	__u32 w, n = g->k64 + g->k32;

	memset(key, 0, ADICT_KEY_WORDS_MAX * sizeof(*key));
	for (w = 0; w < n; w++) {
		__u64 x = i * 0x9e3779b97f4a7c15ULL + 0x1000 * (w + 1);

		key[w] = w < g->k64 ? x | 1 : (__u32)x | 1;
	}
	key[n - 1] = i;		/* distinct keys: the last word is i */
}

/* ADICT_IOC_OP on a packed key: 0 or -errno. */
static int ioc_kop(int fd, __u32 op, const __u64 *key, __u64 a1, __u64 a2,
		   __u64 *result)
{
	struct adict_op_args a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.op = op;
	a.key = key[0];
	memcpy(a.key_more, key + 1, sizeof(a.key_more));
	a.arg1 = a1;
	a.arg2 = a2;
	a.result = 0xcccccccccccccccc;
	if (ioctl(fd, ADICT_IOC_OP, &a))
		return -errno;
	*result = a.result;
	return 0;
}

static void kop_entry(struct adict_batch_kop *e, __u32 op, const __u64 *key,
		      __u64 a1, __u64 a2)
{
	memset(e, 0, sizeof(*e));
	e->size = sizeof(*e);
	e->op = op;
	e->arg1 = a1;
	e->arg2 = a2;
	memcpy(e->key, key, sizeof(e->key));
	e->status = 1;		/* no errno: "not written back" */
	e->result = 0xcccccccccccccccc;
}

/* One batch (@flags: ADICT_BATCH_F_KOP or 0) and its CQE's res. */
static int run_batch(struct io_uring *ring, int fd, void *ops, __u32 count,
		     __u32 flags)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct __kernel_timespec ts = { .tv_sec = 60 };
	struct adict_uring_batch *b;
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, sizeof(*sqe));
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = ADICT_URING_CMD_BATCH;
	b = (struct adict_uring_batch *)sqe->cmd;
	b->ops = uptr(ops);
	b->count = count;
	b->flags = flags;
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/* The op a worker runs: ADD 1, or INSERT on a set. */
static __u32 race_op(const struct geom *g)
{
	return g->vb ? ADICT_OP_ADD : ADICT_OP_INSERT;
}

/*
 * Worker @w: ROUNDS passes over the NKEYS keys from its own starting
 * point, through @path.  Returns 0, or a code naming what went wrong.
 */
static int race_worker(const struct geom *g, enum path path, int fd,
		       struct mtable *m, int w, struct race *r)
{
	struct adict_batch_kop *ents = NULL;
	__u64 key[ADICT_KEY_WORDS_MAX], res;
	struct io_uring ring;
	int round, i, n = 0, ret;
	bool arrived = false;

	if (path == PATH_URING) {
		ents = calloc(BATCH, sizeof(*ents));
		if (!ents || io_uring_queue_init(4, &ring, 0))
			return 10;
	}
	race_wait_go(r);
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < NKEYS; i++) {
			__u64 k = 1 + (i + w * NKEYS / NPROCS) % NKEYS;

			wkey(g, k, key);
			if (path == PATH_MMAP) {
				ret = adict_core_kop(&m->core, race_op(g), key,
						     1, 0, &res);
			} else if (path == PATH_IOCTL) {
				ret = ioc_kop(fd, race_op(g), key, 1, 0, &res);
			} else {
				kop_entry(&ents[n++], race_op(g), key, 1, 0);
				if (n < BATCH && i < NKEYS - 1)
					continue;
				ret = run_batch(&ring, fd, ents, n,
						ADICT_BATCH_F_KOP);
				if (ret != n)
					return 11;
				for (ret = 0; ret < n && !ents[ret].status;)
					ret++;
				if (ret != n)
					return 12;
				n = 0;
				ret = 0;
			}
			if (ret)
				return 13;
			if (!arrived) {
				if (!race_arrive(r))
					return 14;
				arrived = true;
			}
		}
	}
	if (path == PATH_URING) {
		io_uring_queue_exit(&ring);
		free(ents);
	}
	return 0;
}

/*
 * Every row of the table: each of the NKEYS keys in exactly one row, and
 * no other complete key.  Returns the number of rows found wrong.
 */
static int check_rows(struct __test_metadata *_metadata, const struct geom *g,
		      struct mtable *m)
{
	static unsigned char seen[NKEYS + 1];
	const struct adict_core *c = &m->core;
	__u64 key[ADICT_KEY_WORDS_MAX], want[ADICT_KEY_WORDS_MAX], b, last;
	__u32 n = g->k64 + g->k32, r;
	int bad = 0;

	memset(seen, 0, sizeof(seen));
	for (b = 1; b < c->nbuckets; b++) {
		for (r = 0; r < c->layout.rows; r++) {
			if (!adict_core_row_key(c, b, r, key))
				continue;
			last = key[n - 1];
			if (last < 1 || last > NKEYS) {
				bad++;
				continue;
			}
			wkey(g, last, want);
			if (memcmp(key, want, n * sizeof(*key)) || seen[last]++) {
				TH_LOG("bucket %llu row %u: key %llu %s",
				       (unsigned long long)b, r,
				       (unsigned long long)last,
				       seen[last] > 1 ? "twice" : "wrong");
				bad++;
			}
		}
	}
	for (last = 1; last <= NKEYS; last++)
		if (seen[last] != 1)
			bad += !seen[last];
	return bad;
}

static void race_one(struct __test_metadata *_metadata, const struct geom *g,
		     enum path path)
{
	__u64 key[ADICT_KEY_WORDS_MAX], v;
	struct mtable m;
	pid_t pid[NPROCS];
	struct race *r;
	int fd, w, i, bad = 0;

	fd = wtable_new(g, 2 * NKEYS, &m);
	ASSERT_LE(0, fd) TH_LOG("create %u/%u/%u: %s", g->k64, g->k32, g->vb,
				strerror(errno));
	r = race_new(NPROCS);
	ASSERT_NE(NULL, r);
	for (w = 0; w < NPROCS; w++) {
		pid[w] = fork();
		ASSERT_LE(0, pid[w]);
		if (pid[w] == 0)
			_exit(race_worker(g, path, fd, &m, w, r));
	}
	race_go(r);
	for (w = 0; w < NPROCS; w++)
		EXPECT_EQ(0, wait_exit(pid[w]))
			TH_LOG("%s, geometry %u/%u/%u: worker %d", path_names[path],
			       g->k64, g->k32, g->vb, w);
	race_free(r);

	EXPECT_EQ(NKEYS, *m.core.kused)
		TH_LOG("%s, geometry %u/%u/%u", path_names[path], g->k64,
		       g->k32, g->vb);
	EXPECT_EQ(0, check_rows(_metadata, g, &m))
		TH_LOG("%s, geometry %u/%u/%u", path_names[path], g->k64,
		       g->k32, g->vb);
	for (i = 1; g->vb && i <= NKEYS; i++) {
		wkey(g, i, key);
		ASSERT_EQ(0, adict_core_kop(&m.core, ADICT_OP_FIND, key, 0, 0, &v));
		if (v != NPROCS * ROUNDS)
			bad++;
	}
	EXPECT_EQ(0, bad) TH_LOG("%s, geometry %u/%u/%u: %d keys off their total",
				 path_names[path], g->k64, g->k32, g->vb, bad);
	mtable_unmap(&m);
	close(fd);
}

TEST(racing_processes_put_each_key_in_one_row_through_the_mapping)
{
	unsigned int g;

	for (g = 0; g < ARRAY_SIZE(geoms); g++)
		race_one(_metadata, &geoms[g], PATH_MMAP);
}

TEST(racing_processes_put_each_key_in_one_row_through_ioctl)
{
	unsigned int g;

	for (g = 0; g < ARRAY_SIZE(geoms); g++)
		race_one(_metadata, &geoms[g], PATH_IOCTL);
}

TEST(racing_processes_put_each_key_in_one_row_through_uring)
{
	unsigned int g;

	for (g = 0; g < ARRAY_SIZE(geoms); g++)
		race_one(_metadata, &geoms[g], PATH_URING);
}

/* ---- u32 values ---------------------------------------------------------- */

TEST(u32_values_wrap_on_every_path)
{
	static const struct geom g = { 2, 1, 4 };
	struct adict_batch_kop e[3];
	__u64 key[ADICT_KEY_WORDS_MAX], r;
	struct io_uring ring;
	struct mtable m;
	int fd;

	fd = wtable_new(&g, 100, &m);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	wkey(&g, 1, key);
	/* mapping: 0xffffffff + 2 wraps to 1 */
	ASSERT_EQ(0, adict_core_kop(&m.core, ADICT_OP_ADD, key, 0xffffffff, 0, &r));
	EXPECT_EQ(0, r);
	ASSERT_EQ(0, adict_core_kop(&m.core, ADICT_OP_ADD, key, 2, 0, &r));
	EXPECT_EQ(0xffffffffULL, r);
	/* ioctl: the argument is taken modulo 2^32, the result zero-extended */
	ASSERT_EQ(0, ioc_kop(fd, ADICT_OP_ADD, key, 0x100000000ULL + 5, 0, &r));
	EXPECT_EQ(1, r);
	ASSERT_EQ(0, ioc_kop(fd, ADICT_OP_SUB, key, 7, 0, &r));
	EXPECT_EQ(6, r);
	ASSERT_EQ(0, ioc_kop(fd, ADICT_OP_LOAD, key, 0, 0, &r));
	EXPECT_EQ(0xffffffffULL, r);
	/* uring: wraps too; a CAS expecting a value above 2^32 - 1 only loads */
	kop_entry(&e[0], ADICT_OP_ADD, key, 1, 0);
	kop_entry(&e[1], ADICT_OP_CAS, key, 0x100000000ULL, 9);
	kop_entry(&e[2], ADICT_OP_CAS, key, 0, 9);
	ASSERT_EQ(3, run_batch(&ring, fd, e, 3, ADICT_BATCH_F_KOP));
	EXPECT_EQ(0xffffffffULL, e[0].result);
	EXPECT_EQ(0, e[1].result);	/* observed 0: no swap */
	EXPECT_EQ(0, e[2].result);	/* observed 0 == expected: swapped */
	ASSERT_EQ(0, adict_core_kop(&m.core, ADICT_OP_FIND, key, 0, 0, &r));
	EXPECT_EQ(9, r);
	io_uring_queue_exit(&ring);
	mtable_unmap(&m);
	close(fd);
}

/* One-word entries (struct adict_batch_op) on tables of one-word keys. */
TEST(one_word_entries_work_on_any_one_word_table_only)
{
	static const struct geom u32v = { 1, 0, 4 }, u32k = { 0, 1, 8 },
				 wide = { 2, 0, 8 };
	struct adict_batch_op e[3];
	struct io_uring ring;
	struct mtable m;
	int fd;

	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	fd = wtable_new(&u32v, 100, &m);
	ASSERT_LE(0, fd);
	memset(e, 0, sizeof(e));
	e[0] = (struct adict_batch_op){ .key = 5, .op = ADICT_OP_ADD,
					.arg1 = 0xfffffffe };
	e[1] = (struct adict_batch_op){ .key = 5, .op = ADICT_OP_ADD, .arg1 = 3 };
	e[2] = (struct adict_batch_op){ .key = 5, .op = ADICT_OP_LOAD };
	ASSERT_EQ(3, run_batch(&ring, fd, e, 3, 0));
	EXPECT_EQ(0xfffffffeULL, e[1].result);
	EXPECT_EQ(1, e[2].result);
	mtable_unmap(&m);
	close(fd);

	/* a u32 key word: a key above 2^32 - 1 is EINVAL, entry by entry */
	fd = wtable_new(&u32k, 100, &m);
	ASSERT_LE(0, fd);
	e[0] = (struct adict_batch_op){ .key = 7, .op = ADICT_OP_ADD, .arg1 = 1 };
	e[1] = (struct adict_batch_op){ .key = 1ULL << 32, .op = ADICT_OP_ADD };
	e[2] = (struct adict_batch_op){ .key = 7, .op = ADICT_OP_LOAD };
	ASSERT_EQ(2, run_batch(&ring, fd, e, 3, 0));
	EXPECT_EQ(0, e[0].status);
	EXPECT_EQ(-EINVAL, e[1].status);
	EXPECT_EQ(1, e[2].result);
	mtable_unmap(&m);
	close(fd);

	/* a 2-word table: one word is not a key of it */
	fd = wtable_new(&wide, 100, &m);
	ASSERT_LE(0, fd);
	e[0] = (struct adict_batch_op){ .key = 7, .op = ADICT_OP_ADD, .arg1 = 1 };
	ASSERT_EQ(0, run_batch(&ring, fd, e, 1, 0));
	EXPECT_EQ(-EINVAL, e[0].status);
	EXPECT_EQ(0, *m.core.kused);
	mtable_unmap(&m);
	close(fd);
	io_uring_queue_exit(&ring);
}

/* ---- EINVAL ---------------------------------------------------------------- */

/* Bad keys in uring entries: the next test. */
TEST(bad_keys_and_short_buffers_are_einval_through_mapping_and_ioctl)
{
	static const struct geom g = { 2, 1, 8 };
	__u64 key[ADICT_KEY_WORDS_MAX], r;
	struct adict_op_args a;
	struct mtable m;
	int fd;

	fd = wtable_new(&g, 100, &m);
	ASSERT_LE(0, fd);

	/* a zero key word, each position */
	wkey(&g, 3, key);
	key[1] = 0;
	EXPECT_EQ(-EINVAL, adict_core_kop(&m.core, ADICT_OP_ADD, key, 1, 0, &r));
	EXPECT_EQ(-EINVAL, ioc_kop(fd, ADICT_OP_ADD, key, 1, 0, &r));
	wkey(&g, 3, key);
	key[2] = 0;
	EXPECT_EQ(-EINVAL, ioc_kop(fd, ADICT_OP_INSERT, key, 0, 0, &r));
	wkey(&g, 3, key);
	key[0] = 0;
	EXPECT_EQ(-EINVAL, ioc_kop(fd, ADICT_OP_FIND, key, 0, 0, &r));
	/* a u32 word above 2^32 - 1 */
	wkey(&g, 3, key);
	key[2] |= 1ULL << 32;
	EXPECT_EQ(-EINVAL, adict_core_kop(&m.core, ADICT_OP_ADD, key, 1, 0, &r));
	EXPECT_EQ(-EINVAL, ioc_kop(fd, ADICT_OP_ADD, key, 1, 0, &r));

	/* a short buffer: the first size has no key_more, words 1.. read 0 */
	wkey(&g, 3, key);
	memset(&a, 0, sizeof(a));
	a.size = ADICT_OP_ARGS_SIZE_V1;
	a.op = ADICT_OP_ADD;
	a.key = key[0];
	memcpy(a.key_more, key + 1, sizeof(a.key_more));	/* beyond size */
	EXPECT_EQ(-1, ioctl(fd, ADICT_IOC_OP, &a));
	EXPECT_EQ(EINVAL, errno);
	a.size = ADICT_OP_ARGS_SIZE_V1 - 8;
	EXPECT_EQ(-1, ioctl(fd, ADICT_IOC_OP, &a));
	EXPECT_EQ(EINVAL, errno);
	/* nothing above was inserted */
	EXPECT_EQ(0, *m.core.kused);
	EXPECT_EQ(0, adict_core_count(&m.core));
	mtable_unmap(&m);
	close(fd);
}

TEST(bad_batch_entries_are_einval_and_refused_batches_run_nothing)
{
	static const struct geom g = { 2, 1, 8 };
	struct {
		struct adict_batch_kop e;
		__u64 tail[2];
	} big[2];
	__u64 key[ADICT_KEY_WORDS_MAX];
	struct adict_batch_kop e[4];
	unsigned char *packed;
	struct io_uring ring;
	struct mtable m;
	int fd, i;

	fd = wtable_new(&g, 100, &m);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));

	/* per entry: a zero word, a u32 word too big, reserved, a set op */
	for (i = 0; i < 4; i++) {
		wkey(&g, 10 + i, key);
		kop_entry(&e[i], ADICT_OP_ADD, key, 1, 0);
	}
	e[0].key[1] = 0;
	e[1].key[2] = 1ULL << 32;
	e[2].reserved = 1;
	ASSERT_EQ(1, run_batch(&ring, fd, e, 4, ADICT_BATCH_F_KOP));
	EXPECT_EQ(-EINVAL, e[0].status);
	EXPECT_EQ(-EINVAL, e[1].status);
	EXPECT_EQ(-EINVAL, e[2].status);
	EXPECT_EQ(0, e[3].status);
	EXPECT_EQ(1, *m.core.kused);

	/* an entry too short for this table's key: its last word reads 0 */
	/* two 48-byte entries; room for a whole struct at the second */
	packed = calloc(1, 48 + sizeof(struct adict_batch_kop));
	ASSERT_NE(NULL, packed);
	for (i = 0; i < 2; i++) {
		struct adict_batch_kop *p = (void *)(packed + 48 * i);

		p->size = 48;	/* key[0] only: a one-word entry */
		p->op = ADICT_OP_ADD;
		p->key[0] = 5;
		p->status = 1;
	}
	ASSERT_EQ(0, run_batch(&ring, fd, packed, 2, ADICT_BATCH_F_KOP));
	EXPECT_EQ(-EINVAL, ((struct adict_batch_kop *)packed)->status);
	EXPECT_EQ(-EINVAL, ((struct adict_batch_kop *)(packed + 48))->status);
	free(packed);

	/* refused as a whole, no entry run (status stays 1) */
	for (i = 0; i < 4; i++) {
		wkey(&g, 20 + i, key);
		kop_entry(&e[i], ADICT_OP_ADD, key, 1, 0);
	}
	e[0].size = 40;					/* below one key word */
	EXPECT_EQ(-EINVAL, run_batch(&ring, fd, e, 4, ADICT_BATCH_F_KOP));
	e[0].size = sizeof(e[0]) - 4;			/* not a multiple of 8 */
	EXPECT_EQ(-EINVAL, run_batch(&ring, fd, e, 4, ADICT_BATCH_F_KOP));
	e[0].size = sizeof(e[0]);
	e[3].size = sizeof(e[0]) - 8;			/* two strides */
	EXPECT_EQ(-EINVAL, run_batch(&ring, fd, e, 4, ADICT_BATCH_F_KOP));
	e[3].size = sizeof(e[0]);
	e[0].size = 4096 + 8;				/* above a page */
	EXPECT_EQ(-E2BIG, run_batch(&ring, fd, e, 4, ADICT_BATCH_F_KOP));
	e[0].size = sizeof(e[0]);
	EXPECT_EQ(-EINVAL, run_batch(&ring, fd, e, 4, ADICT_BATCH_F_KOP | 2));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(1, e[i].status) TH_LOG("entry %d ran", i);
	EXPECT_EQ(1, *m.core.kused);

	/* a newer caller's larger entries: a zero tail runs, a non-zero E2BIG */
	memset(big, 0, sizeof(big));
	for (i = 0; i < 2; i++) {
		wkey(&g, 30 + i, key);
		kop_entry(&big[i].e, ADICT_OP_ADD, key, 1, 0);
		big[i].e.size = sizeof(big[i]);
	}
	big[1].tail[1] = 1;
	EXPECT_EQ(-E2BIG, run_batch(&ring, fd, big, 2, ADICT_BATCH_F_KOP));
	EXPECT_EQ(1, big[0].e.status);
	big[1].tail[1] = 0;
	EXPECT_EQ(2, run_batch(&ring, fd, big, 2, ADICT_BATCH_F_KOP));
	EXPECT_EQ(3, *m.core.kused);

	io_uring_queue_exit(&ring);
	mtable_unmap(&m);
	close(fd);
}

TEST(bad_geometries_are_einval_at_create)
{
	static const struct {
		__u32 k64, k32, vb, reserved;
	} bad[] = {
		{ 9, 0, 8, 0 },		/* key64 > 8 */
		{ 0, 17, 4, 0 },	/* key32 > 16 */
		{ 8, 1, 0, 0 },		/* a 68-byte key (a set) */
		{ 8, 0, 8, 0 },		/* a 72-byte row */
		{ 0, 16, 4, 0 },	/* 68 bytes */
		{ 1, 0, 3, 0 },		/* value_bytes not 0, 4 or 8 */
		{ 0, 0, 8, 0 },		/* a value but no key words */
		{ 1, 0, 8, 1 },		/* reserved */
	};
	struct adict_create_args a;
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fd = dev_open(O_RDWR);
		ASSERT_LE(0, fd);
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.capacity = 100;
		a.key64 = bad[i].k64;
		a.key32 = bad[i].k32;
		a.value_bytes = bad[i].vb;
		a.reserved = bad[i].reserved;
		EXPECT_EQ(-1, ioctl(fd, ADICT_IOC_CREATE, &a))
			TH_LOG("geometry %u/%u/%u", bad[i].k64, bad[i].k32,
			       bad[i].vb);
		EXPECT_EQ(EINVAL, errno);
		close(fd);
	}
}

TEST_HARNESS_MAIN
