// SPDX-License-Identifier: MIT
/*
 * Bounded, preemptible kernel work on a hostile table (Documentation/
 * device.rst, "Bounded kernel work").
 *
 * The table is the largest the limits let an unprivileged tenant create,
 * with max_user_bytes raised to tenant_bytes() for the test (the default, a
 * quarter of the global budget, gives a table whose probes are too short
 * to tell a stall from the noise of a loaded TCG host): the smallest of
 * max_table_bytes, max_user_bytes and what the global budget has left.
 * Every key word of it is scribbled non-zero through a read-write mapping:
 * then every FIND or ADD of an absent key, in the kernel, probes every
 * bucket before it fails (ENOENT, ENOSPC).
 *
 * No verdict here is a time bound (a TCG host is too noisy for one).  The
 * verdicts are events: with watchdog_thresh, the RCU stall timeout and the
 * hung-task timeout lowered, the VM harness fails the run on any
 * soft-lockup, RCU-stall, hung-task, BUG or WARNING line in the kernel
 * log, and each test checks what the ops returned:
 *  - four processes pinned to CPU 0 hammer FIND and ADD by ioctl (two) and
 *    by io_uring batches (two) until every one of them has finished
 *    ROUNDS ops, all four looping at once until then; every op returns its
 *    documented result (ENOENT, ENOSPC).  A thread pinned to CPU 0 as well
 *    measures the longest time it went without the CPU: printed as a TAP
 *    diagnostic ("# stall: worst ... ms"), the figure device.rst quotes;
 *  - an io_uring batch that may run long goes to an io-wq worker before
 *    6.4 (a worker thread of the submitter exists when io_uring_enter()
 *    returns); from 6.4 it runs inline by design (device.rst): the CQE is
 *    posted on return, and there is no worker;
 *  - a process killed in the middle of a batch that would take half an
 *    hour exits, and the batch's entries show where the fatal-signal check
 *    stopped it (EINTR from there on, the documented results before);
 *  - the table's pages are freed at close without a lockup report.
 * The three tests share one table, made before the first (below).
 */
#include <liburing.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <sys/utsname.h>
#include <time.h>
#include "adict_test.h"
#include "adict_harness.h"

#define ROUNDS		3	/* ops (uring: batches) per worker, at least */
#define NWORKERS	4
/*
 * max_user_bytes for the test: 512 MiB, or 256 MiB on the debug kernels
 * (ADICT_KIND=debug, tests/vm/init.sh), whose KASAN and lockdep make a
 * whole-table probe about twice as slow (300-420 ms for 512 MiB against
 * 140-210 ms on the stock kernels in one run): half the table gives probes
 * as long as the stock kernels', and scribbling the table costs half as
 * much.
 */
static const char *tenant_bytes(void)
{
	const char *kind = getenv("ADICT_KIND");

	return kind && !strcmp(kind, "debug") ? "268435456" : "536870912";
}

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

/* Queue one batch on @ring (an empty ring of its own: there is an SQE). */
static void prep_batch(struct io_uring *ring, int fd,
		       struct adict_batch_op *e, unsigned int n)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct adict_uring_batch *b;

	if (!sqe)
		abort();
	memset(sqe, 0, sizeof(*sqe));
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = ADICT_URING_CMD_BATCH;
	b = (struct adict_uring_batch *)sqe->cmd;
	b->ops = uptr(e);
	b->count = n;
}

/*
 * The scribbled table is made once, in main() before the first test: each
 * test runs in a child the harness forks, which inherits the fd and the
 * mapping.  No test changes the table (every op is on an absent key of a
 * full table, and fails), so all three probe the same one, and making it
 * (every key word written, every page faulted in: seconds under TCG) is
 * paid once, not once per test.  It is freed at exit (atexit(): the
 * harness ends in exit()); the VM harness judges the kernel log of the
 * whole step, that free included.
 */
static struct {
	int fd;
	struct mtable m;
	char why[160];		/* why there is no table (fd < 0) */
	char what[96];		/* its size, for each test's log */
} shared = { .fd = -1, .why = "not made" };

#define SHARED_FAIL(...) \
	snprintf(shared.why, sizeof(shared.why), __VA_ARGS__)

static void shared_make(void)
{
	char saved[32];
	struct adict_usage u;
	__u64 bytes, cap, b;
	int fd, j, ret;

	if (read_param("max_user_bytes", saved, sizeof(saved)) ||
	    write_param("max_user_bytes", tenant_bytes())) {
		SHARED_FAIL("max_user_bytes: %s", strerror(errno));
		return;
	}
	fd = dev_open(O_RDWR);
	if (fd < 0 || ioc_usage(fd, &u)) {
		SHARED_FAIL("open/usage: %s", strerror(errno));
		write_param("max_user_bytes", saved);
		if (fd >= 0)
			close(fd);
		return;
	}
	bytes = u.max_table_bytes;
	if (u.max_user_bytes < bytes)
		bytes = u.max_user_bytes;
	if (u.max_total_bytes - u.bytes < bytes)
		bytes = u.max_total_bytes - u.bytes;
	cap = cap_for_bytes(bytes);
	ret = ioc_create(fd, cap, NULL, 0600, 0);
	if (ret)
		SHARED_FAIL("create %llu keys: %s", (unsigned long long)cap,
			    strerror(errno));
	write_param("max_user_bytes", saved);
	if (!ret && mtable_map(&shared.m, fd, PROT_READ | PROT_WRITE)) {
		SHARED_FAIL("mmap: %s", strerror(errno));
		ret = -1;
	}
	if (ret) {
		close(fd);
		return;
	}
	snprintf(shared.what, sizeof(shared.what),
		 "%llu keys, %llu buckets, %.0f MiB", (unsigned long long)cap,
		 (unsigned long long)shared.m.core.nbuckets,
		 shared.m.bytes / 1048576.0);
	/* every key word non-zero; keys 1 .. 4*nbuckets are never absent */
	for (b = 1; b < shared.m.core.nbuckets; b++)
		for (j = 0; j < ADICT_BUCKET_SLOTS; j++)
			shared.m.core.kbuckets[b].slot[j].key = b * 4 + j;
	shared.fd = fd;
}

static void shared_free(void)
{
	double t0 = now_ms();

	if (shared.fd < 0)
		return;
	mtable_unmap(&shared.m);
	close(shared.fd);	/* frees the pages */
	printf("# unmap + close (frees the table): %.1f ms\n", now_ms() - t0);
}

FIXTURE(scribbled) {
	int fd;
	__u64 absent;		/* a key not in the table */
	double op_ms;		/* one FIND of an absent key, alone */
};

FIXTURE_SETUP(scribbled)
{
	double t0, ms[3];
	__u64 r;
	int j, ret;

	ASSERT_LE(0, shared.fd) TH_LOG("no scribbled table: %s", shared.why);
	self->fd = shared.fd;
	TH_LOG("table (shared): %s", shared.what);
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

/* Shared between the workers and the test, in a MAP_SHARED page. */
struct hammers {
	int stop;		/* set by the test: every worker did ROUNDS */
	struct span {
		int ops;	/* ops (ioctl) or batches (uring) completed */
		int bad;	/* why a worker failed, 0 if it did not */
		int bad_ret;	/* the status it met, for the log */
	} w[NWORKERS];
};

/* Worker @w: ioctl (w even) or uring batches (w odd) until h->stop. */
static void hammer(int w, int fd, int barrier, struct hammers *h)
{
	struct span *out = &h->w[w];
	struct adict_batch_op e[4];
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	__u64 key = (1ULL << 62) + w * (1ULL << 40), r;
	int ret, want, i;
	char c;

	if (pin_cpu0() || (w & 1 && io_uring_queue_init(4, &ring, 0))) {
		out->bad = 1;
		return;
	}
	if (read(barrier, &c, 1) != 0) {	/* EOF: released */
		out->bad = 2;
		return;
	}
	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		if (!(w & 1)) {
			/* FIND of an absent key: ENOENT; ADD: no room, ENOSPC */
			want = out->ops & 1 ? ENOSPC : ENOENT;
			ret = ioc_op(fd, out->ops & 1 ? ADICT_OP_ADD :
				     ADICT_OP_FIND, key++, 1, 0, &r);
			if (ret != -1 || errno != want) {
				out->bad = 3;
				out->bad_ret = ret ? -errno : 0;
				return;
			}
		} else {
			fill_batch(e, 4, key);
			key += 4;
			prep_batch(&ring, fd, e, 4);
			if (io_uring_submit_and_wait(&ring, 1) != 1 ||
			    io_uring_wait_cqe(&ring, &cqe)) {
				out->bad = 4;
				return;
			}
			ret = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			if (ret != 0) {
				out->bad = 5;
				out->bad_ret = ret;
				return;
			}
			for (i = 0; i < 4; i++) {
				want = i & 1 ? -ENOSPC : -ENOENT;
				if (e[i].status != want) {
					out->bad = 6;
					out->bad_ret = e[i].status;
					return;
				}
			}
		}
		__atomic_store_n(&out->ops, out->ops + 1, __ATOMIC_RELEASE);
	}
	if (w & 1)
		io_uring_queue_exit(&ring);
}

/* Have all workers done ROUNDS ops (or has one of them failed)? */
static bool hammers_done(struct hammers *h)
{
	int w;

	for (w = 0; w < NWORKERS; w++) {
		if (__atomic_load_n(&h->w[w].bad, __ATOMIC_RELAXED))
			return true;
		if (__atomic_load_n(&h->w[w].ops, __ATOMIC_ACQUIRE) < ROUNDS)
			return false;
	}
	return true;
}

TEST_F_TIMEOUT(scribbled, four_hammers_complete_every_op_without_a_lockup, 600)
{
	struct hammers *h;
	pthread_t th;
	pid_t pid[NWORKERS];
	int barrier[2], w;

	knobs_set(_metadata);
	h = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, h);
	ASSERT_EQ(0, pipe(barrier));
	for (w = 0; w < NWORKERS; w++) {
		pid[w] = fork();
		ASSERT_LE(0, pid[w]);
		if (pid[w] == 0) {
			close(barrier[1]);
			hammer(w, self->fd, barrier[0], h);
			_exit(0);
		}
	}
	close(barrier[0]);
	ASSERT_EQ(0, pthread_create(&th, NULL, measure, NULL));
	usleep(200000);		/* the measurer is running on CPU 0 */
	worst_gap_ms = 0;
	close(barrier[1]);	/* release all four at once */
	/*
	 * Each worker loops until all four have done ROUNDS ops, so all four
	 * are at work together until the last one's ROUNDS-th op.
	 */
	while (!hammers_done(h))
		usleep(50000);
	__atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
	for (w = 0; w < NWORKERS; w++)
		EXPECT_EQ(0, wait_exit(pid[w]));
	__atomic_store_n(&stop_measuring, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(th, NULL));

	for (w = 0; w < NWORKERS; w++) {
		EXPECT_EQ(0, h->w[w].bad)
			TH_LOG("worker %d failed (step %d, status %d)", w,
			       h->w[w].bad, h->w[w].bad_ret);
		EXPECT_LE(ROUNDS, h->w[w].ops) TH_LOG("worker %d", w);
		TH_LOG("worker %d (%s): %d %s, each a whole-table probe%s", w,
		       w & 1 ? "uring" : "ioctl", h->w[w].ops,
		       w & 1 ? "batches" : "ops", w & 1 ? " x 4" : "");
	}
	/* A figure, not a verdict (device.rst, "Bounded kernel work"). */
	ksft_print_msg("stall: worst %.1f ms of a thread sharing CPU 0 with 4 hammers; one whole-table probe alone %.1f ms\n",
		       worst_gap_ms, self->op_ms);
	munmap(h, 4096);
}

/* ---- uring: where a long batch runs -------------------------------------- */

/* Threads of this process that are io_uring workers (PF_IO_WORKER). */
static int io_workers(void)
{
	char path[300], buf[1024], *p;
	struct dirent *d;
	unsigned long flags;
	int n = 0, i;
	DIR *dir;

	dir = opendir("/proc/self/task");
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat",
			 d->d_name);
		if (read_file(path, buf, sizeof(buf)) <= 0)
			continue;
		/* after "(comm)", field 9 (flags) is the 7th */
		p = strrchr(buf, ')');
		for (i = 0; p && i < 7; i++)
			p = strchr(p + 1, ' ');
		if (p && sscanf(p + 1, "%lu", &flags) == 1 &&
		    (flags & 0x10))	/* PF_IO_WORKER */
			n++;
	}
	closedir(dir);
	return n;
}

TEST_F_TIMEOUT(scribbled, long_uring_batch_runs_where_device_rst_says, 300)
{
	struct adict_batch_op e[8];
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int workers, posted, i;

	knobs_set(_metadata);
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	ASSERT_EQ(0, io_workers());
	fill_batch(e, 8, self->absent);
	prep_batch(&ring, self->fd, e, 8);
	ASSERT_EQ(1, io_uring_submit(&ring));
	/* right after io_uring_enter() returned */
	posted = io_uring_peek_cqe(&ring, &cqe) == 0;
	workers = io_workers();
	TH_LOG("after submit: CQE %s, %d io-wq worker(s)",
	       posted ? "posted" : "not posted", workers);
	if (kernel_before(6, 4)) {
		/*
		 * Punted: io_uring created an io-wq worker (a thread of this
		 * process, made inside io_uring_enter() when the request was
		 * queued) to run it.  Nothing else here queues work to io-wq.
		 */
		EXPECT_LE(1, workers);
	} else {
		/* inline by design from 6.4 (device.rst, io_uring batches) */
		EXPECT_EQ(0, workers);
		EXPECT_TRUE(posted);
	}
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(0, cqe->res);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(i & 1 ? -ENOSPC : -ENOENT, e[i].status)
			TH_LOG("entry %d", i);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
}

/* ---- a fatal signal ends a long batch ----------------------------------- */

/* System time of process @pid and its threads, in clock ticks. */
static long stime_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	/* after "(comm)", fields 14 and 15 (utime, stime) are the 12th, 13th */
	p = strrchr(buf, ')');
	for (i = 0; p && i < 12; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%lu %lu", &utime, &stime) != 2)
		return -1;
	return stime;
}

TEST_F_TIMEOUT(scribbled, kill_during_a_long_batch_ends_it, 600)
{
	long hz = sysconf(_SC_CLK_TCK), t0, t;
	struct adict_batch_op *e;
	int ready[2], done = 0, intr = 0, other = 0, i;
	pid_t pid;
	char c;

	knobs_set(_metadata);
	/* shared, so that what the kernel wrote back survives the child */
	e = mmap(NULL, ADICT_BATCH_MAX * sizeof(*e), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, e);
	/* 4,096 probes of the whole table: half an hour of work under TCG */
	fill_batch(e, ADICT_BATCH_MAX, self->absent);
	for (i = 0; i < ADICT_BATCH_MAX; i++)
		e[i].status = 1;	/* no errno: "not written back" */
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct io_uring_cqe *cqe;
		struct io_uring ring;

		if (io_uring_queue_init(4, &ring, 0))
			_exit(1);
		prep_batch(&ring, self->fd, e, ADICT_BATCH_MAX);
		if (write(ready[1], "s", 1) != 1)
			_exit(2);
		io_uring_submit_and_wait(&ring, 1);
		io_uring_wait_cqe(&ring, &cqe);
		_exit(3);	/* not reached: killed before */
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/*
	 * The batch is at work once the child has spent a second of system
	 * time after submitting (nothing else it does takes any): an event,
	 * whatever the host's speed.
	 */
	t0 = stime_ticks(pid);
	ASSERT_LE(0, t0);
	do {
		usleep(20000);
		t = stime_ticks(pid);
		ASSERT_LE(0, t);
	} while (t - t0 < hz);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, wait_exit(pid));
	for (i = 0; i < ADICT_BATCH_MAX; i++) {
		if (e[i].status == -EINTR)
			intr++;
		else if (!intr && e[i].status == (i & 1 ? -ENOSPC : -ENOENT))
			done++;
		else
			other++;
	}
	TH_LOG("killed inside a %d-probe batch: %d probes done, %d EINTR, %d other",
	       ADICT_BATCH_MAX, done, intr, other);
	ksft_print_msg("kill: a %d-probe batch stopped after %d probes\n",
		       ADICT_BATCH_MAX, done);
	/* stopped part-way, every entry written back as documented */
	EXPECT_EQ(0, other);
	EXPECT_LT(0, intr);
	EXPECT_EQ(ADICT_BATCH_MAX, done + intr);
	close(ready[0]);
	munmap(e, ADICT_BATCH_MAX * sizeof(*e));
}

int main(int argc, char **argv)
{
	shared_make();	/* on failure every test fails in its setup, saying why */
	atexit(shared_free);	/* test_harness_run() ends in exit() */
	return test_harness_run(argc, argv);
}
