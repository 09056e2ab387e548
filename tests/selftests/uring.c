// SPDX-License-Identifier: MIT
/*
 * io_uring batches (IORING_OP_URING_CMD, cmd_op ADICT_URING_CMD_BATCH) and
 * the mediated attach mode.  liburing 2.3 has no uring_cmd helper: the SQE
 * is zeroed, prepared with io_uring_prep_rw(IORING_OP_URING_CMD, ...), and
 * cmd_op and the 16-byte payload are set by hand.  Every test skips when
 * io_uring itself is unavailable (disabled, or denied by seccomp).
 *
 * What it proves:
 *  - random batches give, entry by entry, the same status and result as the
 *    same operations run through the mapping with the shared core, and leave
 *    the same table; the CQE's res counts the entries with status 0;
 *  - a refused batch (unknown cmd_op -> ENOTTY; flags, count 0, count above
 *    ADICT_BATCH_MAX -> EINVAL; unreadable or unwritable entries -> EFAULT;
 *    unbound fd -> EBADFD) runs no entry; bad entries get their own status
 *    (EINVAL, ENOENT, EPERM) without stopping the others;
 *  - the mediated grant is enforced: the mapping is read-only (mmap write
 *    EACCES, a store through it SIGSEGV), operations outside the grant get
 *    EPERM through uring and ioctl alike, granted ones work;
 *  - closing the fd, unmapping the entries or exiting while batches are in
 *    flight (forced to io-wq with IOSQE_ASYNC; the exiting child checks
 *    that all of its batches were submitted) is safe;
 *  - many processes, each with its own ring and its own mediated fd, adding
 *    to one table, started together and overlapping (race.h): exact totals.
 */
#include <liburing.h>
#include "adict_test.h"
#include "adict_harness.h"
#include "race.h"

static int ring_init(struct io_uring *ring, unsigned int entries)
{
	return io_uring_queue_init(entries, ring, 0);
}

/* Queue one batch command; does not submit. */
static void prep_batch(struct io_uring_sqe *sqe, int fd, __u32 cmd_op,
		       const void *ops, __u32 count, __u32 flags)
{
	struct adict_uring_batch *b;

	memset(sqe, 0, sizeof(*sqe));
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = cmd_op;
	b = (struct adict_uring_batch *)sqe->cmd;
	b->ops = uptr(ops);
	b->count = count;
	b->flags = flags;
}

/* Wait for one CQE for at most 20 s: 0 or -ETIME. */
static int wait_cqe_20s(struct io_uring *ring, struct io_uring_cqe **cqe)
{
	struct __kernel_timespec ts = { .tv_sec = 20 };

	return io_uring_wait_cqe_timeout(ring, cqe, &ts);
}

/* Submit one batch and wait: the CQE's res. */
static int run_batch_cmd(struct io_uring *ring, int fd, __u32 cmd_op,
			 void *ops, __u32 count, __u32 flags)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	prep_batch(sqe, fd, cmd_op, ops, count, flags);
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = wait_cqe_20s(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static int run_batch(struct io_uring *ring, int fd, struct adict_batch_op *ops,
		     __u32 count)
{
	return run_batch_cmd(ring, fd, ADICT_URING_CMD_BATCH, ops, count, 0);
}

static void ent(struct adict_batch_op *e, __u32 op, __u64 key, __u64 a1, __u64 a2)
{
	memset(e, 0xcc, sizeof(*e));	/* outputs poisoned */
	e->op = op;
	e->key = key;
	e->arg1 = a1;
	e->arg2 = a2;
}

FIXTURE(ring) {
	struct io_uring ring;
	int fd;
};

FIXTURE_SETUP(ring)
{
	int ret = ring_init(&self->ring, 64);

	self->fd = -1;
	if (ret == -ENOSYS || ret == -EPERM || ret == -EACCES)
		SKIP(return, "io_uring unavailable: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	self->fd = table_new(2000, NULL, 0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ring)
{
	if (self->fd >= 0) {
		close(self->fd);
		io_uring_queue_exit(&self->ring);
	}
}

TEST_F_TIMEOUT(ring, random_batches_match_mmap_path, 300)
{
	static struct adict_batch_op ops[64];
	struct mtable ref;
	__u64 seed = 0x5eed0001, r, v1, v2;
	int refd, batch, i, n, ok, ret, st1, st2;
	__u64 k;

	RETURN_IF_SKIPPED();

	/* the reference: an identical table driven through its mapping */
	refd = table_new(2000, NULL, 0);
	ASSERT_LE(0, refd);
	ASSERT_EQ(0, mtable_map(&ref, refd, PROT_READ | PROT_WRITE));
	TH_LOG("seed %#llx", (unsigned long long)seed);
	for (batch = 0; batch < 300; batch++) {
		n = 1 + rng_next(&seed) % 64;
		for (i = 0; i < n; i++) {
			__u64 x = rng_next(&seed);
			/* ops 0..12: two invalid ones; keys 0..2999: some 0,
			 * and more distinct keys than the capacity */
			ent(&ops[i], x % 13, (x >> 8) % 3000, rng_next(&seed) % 5,
			    rng_next(&seed) % 5);
		}
		ret = run_batch(&self->ring, self->fd, ops, n);
		ok = 0;
		for (i = 0; i < n; i++) {
			st2 = mop(&ref, ops[i].op, ops[i].key, ops[i].arg1,
				  ops[i].arg2, &r);
			st1 = ops[i].status;
			ASSERT_EQ(st2, st1) TH_LOG("batch %d entry %d op %u key %llu",
						   batch, i, ops[i].op,
						   (unsigned long long)ops[i].key);
			if (st1 == 0)
				ASSERT_EQ(r, ops[i].result);
			ok += st1 == 0;
		}
		ASSERT_EQ(ok, ret);
	}
	/* the two tables hold the same keys and values */
	for (k = 1; k < 3000; k++) {
		st1 = ioc_op(self->fd, ADICT_OP_FIND, k, 0, 0, &v1) ? -errno : 0;
		st2 = mop(&ref, ADICT_OP_FIND, k, 0, 0, &v2);
		ASSERT_EQ(st2, st1);
		if (!st1)
			ASSERT_EQ(v2, v1);
	}
	mtable_unmap(&ref);
	close(refd);
}

TEST_F(ring, refused_batches_run_nothing)
{
	struct adict_batch_op *ops, *ro, *edge;
	__u64 r;
	int fd, ret, i;

	RETURN_IF_SKIPPED();

	ops = calloc(ADICT_BATCH_MAX + 1, sizeof(*ops));
	ASSERT_NE(NULL, ops);
	for (i = 0; i <= ADICT_BATCH_MAX; i++)
		ent(&ops[i], ADICT_OP_ADD, 77, 1, 0);

	EXPECT_EQ(-ENOTTY, run_batch_cmd(&self->ring, self->fd, 0x7f, ops, 1, 0));
	EXPECT_EQ(-EINVAL, run_batch_cmd(&self->ring, self->fd,
					 ADICT_URING_CMD_BATCH, ops, 1, 1));
	EXPECT_EQ(-EINVAL, run_batch_cmd(&self->ring, self->fd,
					 ADICT_URING_CMD_BATCH, ops, 0, 0));
	EXPECT_EQ(-EINVAL, run_batch_cmd(&self->ring, self->fd,
					 ADICT_URING_CMD_BATCH, ops,
					 ADICT_BATCH_MAX + 1, 0));
	EXPECT_EQ(-EINVAL, run_batch_cmd(&self->ring, self->fd,
					 ADICT_URING_CMD_BATCH, ops, ~0U, 0));
	EXPECT_EQ(-EFAULT, run_batch(&self->ring, self->fd, NULL, 1));
	EXPECT_EQ(-EFAULT, run_batch(&self->ring, self->fd,
				     (void *)0xfffffffffffff000ULL, 1));
	/* entries readable but not writable */
	ro = mmap(NULL, ADICT_PAGE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ent(&ro[0], ADICT_OP_ADD, 77, 1, 0);
	ASSERT_EQ(0, mprotect(ro, ADICT_PAGE, PROT_READ));
	EXPECT_EQ(-EFAULT, run_batch(&self->ring, self->fd, ro, 1));
	/* entries running into an unmapped page */
	edge = mmap(NULL, 2 * ADICT_PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, edge);
	ASSERT_EQ(0, munmap((char *)edge + ADICT_PAGE, ADICT_PAGE));
	edge = (struct adict_batch_op *)((char *)edge + ADICT_PAGE - 2 * sizeof(*edge));
	ent(&edge[0], ADICT_OP_ADD, 77, 1, 0);
	ent(&edge[1], ADICT_OP_ADD, 77, 1, 0);
	EXPECT_EQ(-EFAULT, run_batch(&self->ring, self->fd, edge, 3));
	EXPECT_EQ(2, run_batch(&self->ring, self->fd, edge, 2));
	/* none of the refused batches ran an entry: only the last two did */
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, 77, 0, 0, &r));
	EXPECT_EQ(2, r);

	/* an unbound fd */
	fd = dev_open(O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADFD, run_batch(&self->ring, fd, ops, 1));
	close(fd);

	/* the largest batch works */
	ret = run_batch(&self->ring, self->fd, ops, ADICT_BATCH_MAX);
	EXPECT_EQ(ADICT_BATCH_MAX, ret);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, 77, 0, 0, &r));
	EXPECT_EQ(2 + ADICT_BATCH_MAX, r);
	free(ops);
}

TEST_F(ring, bad_entries_get_their_own_status)
{
	struct adict_batch_op ops[6];

	RETURN_IF_SKIPPED();

	ent(&ops[0], ADICT_OP_ADD, 1, 5, 0);
	ent(&ops[1], ADICT_OP_ADD, 0, 5, 0);		/* key 0 */
	ent(&ops[2], ADICT_OP_COUNT, 1, 5, 0);		/* unknown op */
	ent(&ops[3], ADICT_OP_FIND, 999, 0, 0);		/* absent */
	ent(&ops[4], ADICT_OP_CAS, 1, 5, 9);
	ent(&ops[5], 0xffffffff, 1, 0, 0);
	EXPECT_EQ(2, run_batch(&self->ring, self->fd, ops, 6));
	EXPECT_EQ(0, ops[0].status);
	EXPECT_EQ(0, ops[0].result);
	EXPECT_EQ(-EINVAL, ops[1].status);
	EXPECT_EQ(-EINVAL, ops[2].status);
	EXPECT_EQ(-ENOENT, ops[3].status);
	EXPECT_EQ(0, ops[4].status);
	EXPECT_EQ(5, ops[4].result);
	EXPECT_EQ(-EINVAL, ops[5].status);
}

/*
 * A batch punted to io-wq (IOSQE_ASYNC; io_uring also punts on its own, e.g.
 * for linked or drained requests) must complete like an inline one.  On
 * 6.1, io_wq_submit_work() completes only a negative return of ->issue():
 * a ->uring_cmd that returns a positive count there never completes, its
 * file (and the module) stay referenced forever.
 */
TEST_F(ring, async_batch_completes)
{
	struct adict_batch_op ops[64];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	__u64 r;
	int i, ret;

	RETURN_IF_SKIPPED();

	for (i = 0; i < 64; i++)
		ent(&ops[i], ADICT_OP_ADD, 9, 1, 0);
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	prep_batch(sqe, self->fd, ADICT_URING_CMD_BATCH, ops, 64, 0);
	sqe->flags |= IOSQE_ASYNC;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ret = wait_cqe_20s(&self->ring, &cqe);
	ASSERT_EQ(0, ret) TH_LOG("an async batch did not complete in 20 s");
	EXPECT_EQ(64, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, 9, 0, 0, &r));
	EXPECT_EQ(64, r);
}

/* ---- mediated access ------------------------------------------------------ */

#define GRANT_COUNTER (ADICT_OP_BIT(ADICT_OP_ADD) | ADICT_GRANT_READ)

FIXTURE(mediated) {
	struct io_uring ring;
	char name[64];
	int owner;
	int fd;
};

FIXTURE_SETUP(mediated)
{
	int ret = ring_init(&self->ring, 16);
	__u64 k;

	self->owner = self->fd = -1;
	if (ret == -ENOSYS || ret == -EPERM || ret == -EACCES)
		SKIP(return, "io_uring unavailable: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	tname(self->name, sizeof(self->name), "med");
	self->owner = dev_open(O_RDWR);
	ASSERT_LE(0, self->owner);
	ASSERT_EQ(0, ioc_create(self->owner, 1000, self->name, 0644, GRANT_COUNTER));
	/* the grant has no INSERT: the owner creates the counters */
	for (k = 1; k <= 32; k++)
		ASSERT_EQ(0, ioc_op(self->owner, ADICT_OP_INSERT, k, 0, 0, NULL));
	self->fd = table_attach(self->name, O_RDWR, ADICT_ATTACH_MEDIATED);
	ASSERT_LE(0, self->fd) TH_LOG("attach: %s", strerror(errno));
}

FIXTURE_TEARDOWN(mediated)
{
	if (self->owner >= 0) {
		ioc_unlink(self->owner, self->name);
		close(self->owner);
		close(self->fd);
		io_uring_queue_exit(&self->ring);
	}
}

TEST_F(mediated, grant_enforced)
{
	struct adict_batch_op ops[6];
	struct adict_info info;
	struct mtable m;
	void *p;
	__u64 r;
	pid_t pid;
	int ret;

	RETURN_IF_SKIPPED();

	ASSERT_EQ(0, ioc_info(self->fd, &info));
	EXPECT_EQ(ADICT_ACCESS_MEDIATED, info.access);
	EXPECT_EQ(GRANT_COUNTER, info.grant);
	/* the mapping is read-only */
	p = mmap(NULL, info.map_bytes - info.data_offset, PROT_READ | PROT_WRITE,
		 MAP_SHARED, self->fd, info.data_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	ASSERT_EQ(0, mtable_map(&m, self->fd, PROT_READ));

	ent(&ops[0], ADICT_OP_ADD, 10, 3, 0);
	ent(&ops[1], ADICT_OP_LOAD, 10, 0, 0);
	ent(&ops[2], ADICT_OP_STORE, 10, 100, 0);
	ent(&ops[3], ADICT_OP_CAS, 10, 3, 100);
	ent(&ops[4], ADICT_OP_INSERT, 11, 0, 0);
	ent(&ops[5], ADICT_OP_XOR, 10, 1, 0);
	EXPECT_EQ(2, run_batch(&self->ring, self->fd, ops, 6));
	EXPECT_EQ(0, ops[0].status);
	EXPECT_EQ(0, ops[1].status);
	EXPECT_EQ(3, ops[1].result);
	EXPECT_EQ(-EPERM, ops[2].status);
	EXPECT_EQ(-EPERM, ops[3].status);
	EXPECT_EQ(-EPERM, ops[4].status);
	EXPECT_EQ(-EPERM, ops[5].status);
	/* the same through ioctl */
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_ADD, 10, 1, 0, &r));
	ret = ioc_op(self->fd, ADICT_OP_STORE, 10, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EPERM, errno);
	/* reads stay syscall-free through the read-only mapping */
	EXPECT_EQ(4, mget(&m, 10));
	/* and a write through it faults */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct adict_slot *s = &m.core.kbuckets[adict_home_bucket(&m.core, 10)].slot[0];

		__atomic_store_n(&s->value, 0, __ATOMIC_SEQ_CST);
		_exit(0);
	}
	EXPECT_EQ(128 + SIGSEGV, wait_exit(pid));
	EXPECT_EQ(4, mget(&m, 10));
	mtable_unmap(&m);
}

TEST_F(mediated, read_only_attach_gets_no_writes_through_uring)
{
	struct adict_batch_op ops[2];
	int fd;

	RETURN_IF_SKIPPED();

	fd = table_attach(self->name, O_RDONLY, ADICT_ATTACH_RDONLY);
	ASSERT_LE(0, fd);
	ent(&ops[0], ADICT_OP_ADD, 10, 3, 0);
	ent(&ops[1], ADICT_OP_LOAD, 10, 0, 0);
	EXPECT_EQ(1, run_batch(&self->ring, fd, ops, 2));
	EXPECT_EQ(-EPERM, ops[0].status);
	EXPECT_EQ(0, ops[1].status);
	EXPECT_EQ(0, ops[1].result);
	close(fd);
}

/* ---- in flight ------------------------------------------------------------ */

#define INFLIGHT 32

TEST_F_TIMEOUT(ring, close_unmap_exit_while_in_flight, 300)
{
	struct io_uring_cqe *cqe;
	struct adict_batch_op *ops;
	size_t len = ADICT_BATCH_MAX * sizeof(*ops);
	int i, fd, chk, done = 0;
	char name[64];
	pid_t pid;
	__u64 r;

	RETURN_IF_SKIPPED();

	/*
	 * Close the only fd of a table right after submitting async batches:
	 * the requests keep the file, the table goes when they are done.
	 */
	tname(name, sizeof(name), "inflight");
	fd = table_new(2000, name, 0600);
	ASSERT_LE(0, fd);
	chk = table_attach(name, O_RDONLY, ADICT_ATTACH_RDONLY);
	ASSERT_LE(0, chk);
	ASSERT_EQ(0, ioc_unlink(chk, name));
	ops = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ops);
	for (i = 0; i < ADICT_BATCH_MAX; i++)
		ent(&ops[i], ADICT_OP_ADD, 1 + i % 100, 1, 0);
	for (i = 0; i < INFLIGHT; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

		ASSERT_NE(NULL, sqe);
		prep_batch(sqe, fd, ADICT_URING_CMD_BATCH, ops, ADICT_BATCH_MAX, 0);
		sqe->flags |= IOSQE_ASYNC;
	}
	ASSERT_EQ(INFLIGHT, io_uring_submit(&self->ring));
	ASSERT_EQ(0, close(fd));
	/* and pull the entries away under the later ones */
	ASSERT_EQ(0, munmap(ops, len));
	for (i = 0; i < INFLIGHT; i++) {
		ASSERT_EQ(0, wait_cqe_20s(&self->ring, &cqe))
			TH_LOG("%d of %d batches never completed", INFLIGHT - i, INFLIGHT);
		EXPECT_TRUE(cqe->res == ADICT_BATCH_MAX || cqe->res == -EFAULT)
			TH_LOG("res %d", cqe->res);
		done += cqe->res == ADICT_BATCH_MAX;
		io_uring_cqe_seen(&self->ring, cqe);
	}
	/*
	 * A batch runs whole or not at all; one whose results could not be
	 * written back (entries unmapped meanwhile) ran and says -EFAULT.
	 */
	r = 0;
	for (i = 1; i <= 100; i++) {
		__u64 v = 0;

		if (!ioc_op(chk, ADICT_OP_FIND, i, 0, 0, &v))
			r += v;
	}
	EXPECT_EQ(0, r % ADICT_BATCH_MAX);
	EXPECT_LE((__u64)done * ADICT_BATCH_MAX, r);
	EXPECT_GE((__u64)INFLIGHT * ADICT_BATCH_MAX, r);
	close(chk);

	/* a process that exits with batches in flight */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct io_uring ring2;
		struct adict_batch_op *o = calloc(ADICT_BATCH_MAX, sizeof(*o));

		if (!o || ring_init(&ring2, INFLIGHT))
			_exit(1);
		for (i = 0; i < ADICT_BATCH_MAX; i++)
			ent(&o[i], ADICT_OP_ADD, 500 + i % 10, 1, 0);
		for (i = 0; i < INFLIGHT; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring2);

			if (!sqe)
				_exit(2);
			prep_batch(sqe, self->fd, ADICT_URING_CMD_BATCH, o,
				   ADICT_BATCH_MAX, 0);
			sqe->flags |= IOSQE_ASYNC;
		}
		/* all of them in flight, then exit without waiting */
		_exit(io_uring_submit(&ring2) == INFLIGHT ? 0 : 3);
	}
	EXPECT_EQ(0, wait_exit(pid))
		TH_LOG("1: no ring, 2: no SQE, 3: not all %d batches submitted", INFLIGHT);
	/* the table is still fine */
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_ADD, 1, 0, 0, &r));
}

/* ---- many processes --------------------------------------------------------- */

#define PROCS 4
#define BATCHES 50
#define NKEYS 32

TEST_F_TIMEOUT(mediated, many_processes_exact_totals, 300)
{
	struct race *race = race_new(PROCS);
	pid_t pid[PROCS];
	__u64 k, r;
	int p;

	RETURN_IF_SKIPPED();

	ASSERT_NE(NULL, race);
	for (p = 0; p < PROCS; p++) {
		pid[p] = fork();
		ASSERT_LE(0, pid[p]);
		if (pid[p] == 0) {
			struct adict_batch_op ops[64];
			struct io_uring ring2;
			int fd, b, i;

			/* its own fd, its own ring: shares only the table */
			fd = table_attach(self->name, O_RDONLY, ADICT_ATTACH_MEDIATED);
			if (fd < 0 || ring_init(&ring2, 8))
				_exit(1);
			/* all start together and overlap (race.h) */
			if (!race_wait_go(race))
				_exit(3);
			for (b = 0; b < BATCHES; b++) {
				for (i = 0; i < 64; i++)
					ent(&ops[i], ADICT_OP_ADD, 1 + (b * 64 + i) % NKEYS, 1, 0);
				if (run_batch(&ring2, fd, ops, 64) != 64)
					_exit(2);
				if (b == 0 && !race_arrive(race))
					_exit(3);
			}
			_exit(0);
		}
	}
	race_go(race);
	for (p = 0; p < PROCS; p++)
		EXPECT_EQ(0, wait_exit(pid[p]))
			TH_LOG("1: setup, 2: a batch, 3: the processes did not overlap");
	race_free(race);
	for (k = 1; k <= NKEYS; k++) {
		ASSERT_EQ(0, ioc_op(self->owner, ADICT_OP_LOAD, k, 0, 0, &r));
		EXPECT_EQ(PROCS * BATCHES * 64 / NKEYS, r);
	}
}

TEST_HARNESS_MAIN
