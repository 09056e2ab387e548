// SPDX-License-Identifier: MIT
/*
 * Bounded, preemptible kernel work on a hostile table (Documentation/
 * device.rst, "Bounded kernel work").
 *
 * The table is the largest the limits let an unprivileged tenant create,
 * with max_user_bytes raised to TENANT_BYTES for the test (the default, a
 * quarter of the global budget, gives a table whose probes are too short
 * to tell a stall from the noise of a loaded TCG host): the smallest of
 * max_table_bytes, max_user_bytes and what the global budget has left.
 * Every key word of it is scribbled non-zero through a read-write mapping:
 * then every FIND or ADD of an absent key, in the kernel, probes every
 * bucket before it fails (ENOENT, ENOSPC).
 *
 * What it proves, with watchdog_thresh, the RCU stall timeout and the
 * hung-task timeout lowered (the VM harness fails the run on any
 * soft-lockup, RCU-stall or hung-task report in the kernel log):
 *  - four processes pinned to CPU 0, released from one barrier, hammer
 *    FIND and ADD by ioctl (two) and by io_uring batches (two); a thread
 *    pinned to CPU 0 as well measures the longest time it went without the
 *    CPU.  That worst stall must stay under half of what one such op takes
 *    (measured first, alone): without a preemption point inside the probe,
 *    a thread sharing the CPU waits for whole ops.  The four workers'
 *    active intervals must overlap;
 *  - an io_uring batch that may run long is not run inline before 6.4:
 *    io_uring_enter() returns long before the batch completes (it went to
 *    an io-wq worker); from 6.4 it runs inline by design (device.rst);
 *  - a process killed in the middle of a batch that would take minutes is
 *    gone within seconds (fatal-signal checks in the probe);
 *  - the table's pages are freed at close without a lockup report.
 */
#include <liburing.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <sys/utsname.h>
#include <time.h>
#include "adict_test.h"
#include "kselftest_harness.h"

#define HAMMER_SECS	10
#define NWORKERS	4
#define TENANT_BYTES	"536870912"	/* max_user_bytes for the test: 512 MiB */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* Is the running kernel older than @maj.@min? */
static bool kernel_before(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return false;
	return a < maj || (a == maj && b < min);
}

/* Largest capacity whose table fits in @bytes. */
static __u64 cap_for_bytes(__u64 bytes)
{
	__u64 lo = 1, hi = ADICT_CAPACITY_MAX, mid;

	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (adict_map_bytes(adict_geometry(mid)) <= bytes)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* The kernel watchdogs, lowered for the test and restored after. */
struct knob {
	const char *path;
	const char *value;
	char saved[32];
	bool set;
};

static struct knob knobs[] = {
	{ "/proc/sys/kernel/watchdog_thresh", "2" },	/* soft lockup after 4 s */
	{ "/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout", "8" },
	{ "/proc/sys/kernel/hung_task_timeout_secs", "10" },
};

static void knobs_set(struct __test_metadata *_metadata)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		struct knob *k = &knobs[i];

		/* every kernel make check boots has the three */
		ASSERT_LT(0, read_file(k->path, k->saved, sizeof(k->saved)))
			TH_LOG("%s: %s", k->path, strerror(errno));
		k->saved[strcspn(k->saved, "\n")] = 0;
		ASSERT_EQ(0, write_file(k->path, k->value))
			TH_LOG("%s: %s", k->path, strerror(errno));
		k->set = true;
	}
}

static void knobs_restore(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (knobs[i].set)
			write_file(knobs[i].path, knobs[i].saved);
}

/* One uring batch of @n entries, all @op on absent keys from @key0. */
static void fill_batch(struct adict_batch_op *e, unsigned int n, __u64 key0)
{
	unsigned int i;

	memset(e, 0, n * sizeof(*e));
	for (i = 0; i < n; i++) {
		e[i].key = key0 + i;
		e[i].op = i & 1 ? ADICT_OP_ADD : ADICT_OP_FIND;
		e[i].arg1 = 1;
	}
}

static void prep_batch(struct io_uring_sqe *sqe, int fd,
		       struct adict_batch_op *e, unsigned int n)
{
	struct adict_uring_batch *b;

	memset(sqe, 0, sizeof(*sqe));
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = ADICT_URING_CMD_BATCH;
	b = (struct adict_uring_batch *)sqe->cmd;
	b->ops = uptr(e);
	b->count = n;
}

FIXTURE(scribbled) {
	char saved_user_bytes[32];
	int fd;
	struct mtable m;
	__u64 absent;		/* a key not in the table */
	double op_ms;		/* one FIND of an absent key, alone */
};

FIXTURE_SETUP(scribbled)
{
	struct adict_usage u;
	__u64 bytes, cap, b, r;
	double t0, ms[3];
	int j, ret;

	self->fd = -1;
	self->m.map = NULL;
	ASSERT_EQ(0, read_param("max_user_bytes", self->saved_user_bytes,
				sizeof(self->saved_user_bytes)));
	ASSERT_EQ(0, write_param("max_user_bytes", TENANT_BYTES));
	self->fd = dev_open(O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioc_usage(self->fd, &u));
	bytes = u.max_table_bytes;
	if (u.max_user_bytes < bytes)
		bytes = u.max_user_bytes;
	if (u.max_total_bytes - u.bytes < bytes)
		bytes = u.max_total_bytes - u.bytes;
	cap = cap_for_bytes(bytes);
	ret = ioc_create(self->fd, cap, NULL, 0600, 0);
	write_param("max_user_bytes", self->saved_user_bytes);
	ASSERT_EQ(0, ret) TH_LOG("create %llu keys: %s",
				 (unsigned long long)cap, strerror(errno));
	ASSERT_EQ(0, mtable_map(&self->m, self->fd, PROT_READ | PROT_WRITE));
	TH_LOG("table: %llu keys, %llu buckets, %.0f MiB",
	       (unsigned long long)cap, (unsigned long long)self->m.core.nbuckets,
	       self->m.bytes / 1048576.0);
	/* every key word non-zero; keys 1 .. 4*nbuckets are never absent */
	for (b = 1; b < self->m.core.nbuckets; b++)
		for (j = 0; j < ADICT_BUCKET_SLOTS; j++)
			self->m.core.kbuckets[b].slot[j].key = b * 4 + j;
	self->absent = 1ULL << 62;
	/* the median of three: one run may meet a burst of host load */
	for (j = 0; j < 3; j++) {
		t0 = now_ms();
		ret = ioc_op(self->fd, ADICT_OP_FIND, self->absent + j, 0, 0, &r);
		ms[j] = now_ms() - t0;
		ASSERT_EQ(-1, ret);
		ASSERT_EQ(ENOENT, errno);
	}
	self->op_ms = ms[0] + ms[1] + ms[2] - fmax(ms[0], fmax(ms[1], ms[2])) -
		      fmin(ms[0], fmin(ms[1], ms[2]));
	TH_LOG("one FIND of an absent key: %.1f ms", self->op_ms);
}

FIXTURE_TEARDOWN(scribbled)
{
	double t0 = now_ms();

	mtable_unmap(&self->m);
	if (self->fd >= 0)
		close(self->fd);	/* frees the pages */
	TH_LOG("unmap + close (frees the table): %.1f ms", now_ms() - t0);
	knobs_restore();	/* set by each test, after the setup */
}

/* ---- the stall test ----------------------------------------------------- */

static volatile int stop_measuring;
static double worst_gap_ms;

static void *measure(void *arg)
{
	double prev, t, gap;

	if (pin_cpu0())
		return (void *)1;
	prev = now_ms();
	while (!__atomic_load_n(&stop_measuring, __ATOMIC_RELAXED)) {
		t = now_ms();
		gap = t - prev;
		if (gap > worst_gap_ms)
			worst_gap_ms = gap;
		prev = t;
	}
	return NULL;
}

struct span {
	double first, last;	/* start of the first op, end of the last */
	int ops;
	int bad;		/* an unexpected status */
};

/* Worker @w: ioctl (w even) or uring (w odd) until @deadline_ms. */
static void hammer(int w, int fd, int barrier, double secs, struct span *out)
{
	struct adict_batch_op e[4];
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	double end;
	__u64 key = (1ULL << 62) + w * (1ULL << 40), r;
	char c;
	int ret;

	memset(out, 0, sizeof(*out));
	if (pin_cpu0() || (w & 1 && io_uring_queue_init(4, &ring, 0))) {
		out->bad = 1;
		return;
	}
	if (read(barrier, &c, 1) != 0) {	/* EOF: released */
		out->bad = 2;
		return;
	}
	out->first = now_ms();
	end = out->first + secs * 1e3;
	while (now_ms() < end) {
		if (!(w & 1)) {
			ret = ioc_op(fd, out->ops & 1 ? ADICT_OP_ADD : ADICT_OP_FIND,
				     key++, 1, 0, &r);
			if (ret != -1 || errno != (out->ops & 1 ? ENOSPC : ENOENT))
				out->bad = 3;
		} else {
			fill_batch(e, 4, key);
			key += 4;
			prep_batch(io_uring_get_sqe(&ring), fd, e, 4);
			if (io_uring_submit_and_wait(&ring, 1) != 1 ||
			    io_uring_wait_cqe(&ring, &cqe)) {
				out->bad = 4;
				break;
			}
			if (cqe->res != 0 || e[0].status != -ENOENT ||
			    e[1].status != -ENOSPC)
				out->bad = 5;
			io_uring_cqe_seen(&ring, cqe);
		}
		out->ops++;
	}
	out->last = now_ms();
}

TEST_F_TIMEOUT(scribbled, four_hammers_do_not_stall_a_thread_on_their_cpu, 300)
{
	struct span *spans;
	pthread_t th;
	pid_t pid[NWORKERS];
	double first_end = 1e300, last_start = 0;
	int barrier[2], w;

	knobs_set(_metadata);
	/* one FIND must be long enough that a stall of one op would show */
	ASSERT_LE(100.0, self->op_ms)
		TH_LOG("one op takes %.1f ms: too short to tell", self->op_ms);
	spans = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, spans);
	ASSERT_EQ(0, pipe(barrier));
	for (w = 0; w < NWORKERS; w++) {
		pid[w] = fork();
		ASSERT_LE(0, pid[w]);
		if (pid[w] == 0) {
			close(barrier[1]);
			hammer(w, self->fd, barrier[0], HAMMER_SECS, &spans[w]);
			_exit(0);
		}
	}
	close(barrier[0]);
	ASSERT_EQ(0, pthread_create(&th, NULL, measure, NULL));
	usleep(200000);		/* the measurer is running on CPU 0 */
	worst_gap_ms = 0;
	close(barrier[1]);	/* release all four at once */
	for (w = 0; w < NWORKERS; w++)
		EXPECT_EQ(0, wait_exit(pid[w]));
	__atomic_store_n(&stop_measuring, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(th, NULL));

	for (w = 0; w < NWORKERS; w++) {
		EXPECT_EQ(0, spans[w].bad) TH_LOG("worker %d", w);
		EXPECT_LT(0, spans[w].ops) TH_LOG("worker %d", w);
		TH_LOG("worker %d (%s): %d ops", w, w & 1 ? "uring" : "ioctl",
		       spans[w].ops);
		if (spans[w].last < first_end)
			first_end = spans[w].last;
		if (spans[w].first > last_start)
			last_start = spans[w].first;
	}
	/* all four were at work at the same time */
	EXPECT_LT(last_start, first_end);
	TH_LOG("worst stall of a thread on CPU 0: %.1f ms (one op alone: %.1f ms)",
	       worst_gap_ms, self->op_ms);
	ksft_print_msg("stall: worst %.1f ms, one op %.1f ms\n", worst_gap_ms,
		       self->op_ms);
	EXPECT_GT(self->op_ms / 2, worst_gap_ms);
	munmap(spans, 4096);
}

/* ---- uring: punted, not run inline --------------------------------------- */

TEST_F_TIMEOUT(scribbled, long_uring_batch_is_not_run_inline, 300)
{
	struct adict_batch_op e[8];
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	double t0, t_submit, t_done;

	knobs_set(_metadata);
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	fill_batch(e, 8, self->absent);
	prep_batch(io_uring_get_sqe(&ring), self->fd, e, 8);
	t0 = now_ms();
	ASSERT_EQ(1, io_uring_submit(&ring));
	t_submit = now_ms() - t0;
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	t_done = now_ms() - t0;
	EXPECT_EQ(0, cqe->res);
	EXPECT_EQ(-ENOENT, e[0].status);
	EXPECT_EQ(-ENOSPC, e[7].status);
	io_uring_cqe_seen(&ring, cqe);
	TH_LOG("8 long probes: submit returned after %.1f ms, done after %.1f ms",
	       t_submit, t_done);
	EXPECT_LT(4 * self->op_ms, t_done);
	if (kernel_before(6, 4)) {
		/* io_uring_enter() did not wait for even one probe */
		EXPECT_GT(self->op_ms / 2, t_submit);
	} else {
		/* by design inline from 6.4 (device.rst, io_uring batches) */
		EXPECT_LT(4 * self->op_ms, t_submit);
	}
	io_uring_queue_exit(&ring);
}

/* ---- a fatal signal ends a long batch ----------------------------------- */

TEST_F_TIMEOUT(scribbled, kill_during_a_long_batch_ends_it_promptly, 300)
{
	struct adict_batch_op *e;
	int ready[2];
	double t0, t_gone;
	pid_t pid;
	char c;

	knobs_set(_metadata);
	e = calloc(ADICT_BATCH_MAX, sizeof(*e));
	ASSERT_NE(NULL, e);
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct io_uring_cqe *cqe;
		struct io_uring ring;

		/* 4,096 probes of the whole table: minutes of work */
		fill_batch(e, ADICT_BATCH_MAX, self->absent);
		if (io_uring_queue_init(4, &ring, 0))
			_exit(1);
		prep_batch(io_uring_get_sqe(&ring), self->fd, e, ADICT_BATCH_MAX);
		if (io_uring_submit(&ring) != 1 || write(ready[1], "s", 1) != 1)
			_exit(2);
		io_uring_wait_cqe(&ring, &cqe);
		_exit(3);	/* not reached: killed before */
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	usleep(3 * self->op_ms * 1000);		/* well inside the batch */
	t0 = now_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, wait_exit(pid));
	t_gone = now_ms() - t0;
	TH_LOG("killed after 3 probes of a %d-probe batch: gone in %.1f ms",
	       ADICT_BATCH_MAX, t_gone);
	/* one probe at most, plus exit, against 4,096 probes without checks */
	EXPECT_GT(5 * self->op_ms + 2000, t_gone);
	close(ready[0]);
	free(e);
}

TEST_HARNESS_MAIN
