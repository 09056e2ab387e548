/* SPDX-License-Identifier: MIT */
/*
 * bench-util.h: what the benchmarks (adict-bench, adict-bench-peers) share.
 *
 *  - Keys: a table of capacity N is filled with bench_key(i), i < N.  The
 *    map i -> i * ODD + 1 is a bijection, so a random existing key costs one
 *    RNG step and no key array (which would add cache misses of its own).
 *  - bench_pick(): an xorshift64* step scaled to [0, n) by a multiply-high
 *    (no division, no modulo bias worth measuring).
 *  - bench_shared_map(): zeroed MAP_SHARED memfd memory, the same kind of
 *    memory as a memfd table, for the floor.
 *  - bench_run(): run a job in 1 process (the caller) or N fork()ed
 *    workers released together by a start barrier; ns per op is the wall
 *    time from the first start to the last end divided by the operations of
 *    all workers (the inverse of aggregate throughput).
 *
 * Header only; every function is static inline.  Include adict.h first to
 * get bench_capacity_for().
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/types.h>

#define BENCH_ODD	0x9e3779b97f4a7c15ULL
#define BENCH_MAX_PROCS	64	/* --procs: the most workers of one run */

static inline __u64 bench_key(__u64 i)
{
	return i * BENCH_ODD + 1;
}

static inline __u64 bench_rng(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* A uniform index in [0, n). */
static inline __u64 bench_pick(__u64 *s, __u64 n)
{
	return (__u64)(((unsigned __int128)bench_rng(s) * n) >> 64);
}

static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* CPU time of this (single-threaded) process, in ns. */
static inline double bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* @bytes of zeroed, faulted-in MAP_SHARED memfd memory, or NULL (errno). */
static inline void *bench_shared_map(size_t bytes)
{
	int fd = memfd_create("adict-bench", MFD_CLOEXEC);
	int err;
	void *p;

	if (fd < 0)
		return NULL;
	err = ftruncate(fd, bytes) ? errno : posix_fallocate(fd, 0, bytes);
	if (err) {
		close(fd);
		errno = err;
		return NULL;
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, bytes);
	return p;
}

/* Read one byte per page so that later accesses do not fault. */
static inline void bench_touch(const void *p, size_t bytes)
{
	const volatile char *m = p;
	size_t i;

	for (i = 0; i < bytes; i += 4096)
		(void)m[i];
}

/*
 * A measured job.  prep() runs in the worker before the start barrier
 * (fault pages in, connect to a server, make the keys of the run), with the
 * same @ops and @seed as run(); run() is the timed part, @ops operations
 * from the RNG state @seed; done() runs after it, untimed.  Each returns 0
 * or a negative errno; prep and done may be NULL.
 */
struct bench_job {
	int (*prep)(void *arg, int proc, long ops, __u64 seed);
	int (*run)(void *arg, int proc, long ops, __u64 seed);
	void (*done)(void *arg, int proc);
	void *arg;
};

/* Shared by the workers of one bench_run(): start barrier and times. */
struct bench_ctl {
	int ready;
	int go;
	int failed;
	double start[BENCH_MAX_PROCS], end[BENCH_MAX_PROCS];
	double cpu[BENCH_MAX_PROCS];	/* CPU time of each worker's timed part */
	double cpu_wall;	/* out: sum of cpu[] / wall time of the run */
	int runs;		/* out: runs bench_best() made */
};

static inline struct bench_ctl *bench_ctl_create(void)
{
	void *p = mmap(NULL, sizeof(struct bench_ctl), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* One worker's life; @ctl->start/end[@proc] get its timed interval. */
static inline int bench__worker(struct bench_ctl *ctl, const struct bench_job *j,
				int proc, long ops, __u64 seed, int barrier)
{
	int ret = j->prep ? j->prep(j->arg, proc, ops, seed) : 0;

	if (ret)
		__atomic_store_n(&ctl->failed, ret, __ATOMIC_SEQ_CST);
	if (barrier) {
		__atomic_fetch_add(&ctl->ready, 1, __ATOMIC_SEQ_CST);
		/* acquire: pairs with the release store of go in bench_run() */
		while (!__atomic_load_n(&ctl->go, __ATOMIC_ACQUIRE))
			;
	}
	if (!ret) {
		double c0 = bench_cpu_ns();

		ctl->start[proc] = bench_now_ns();
		ret = j->run(j->arg, proc, ops, seed);
		ctl->end[proc] = bench_now_ns();
		ctl->cpu[proc] = bench_cpu_ns() - c0;
		if (ret)
			__atomic_store_n(&ctl->failed, ret, __ATOMIC_SEQ_CST);
	}
	if (j->done)
		j->done(j->arg, proc);
	return ret;
}

/*
 * bench_run - run @j with @procs workers of @ops operations each.
 * One worker runs in the caller; more are fork()ed and start together.
 * Return: ns per operation over all workers, or a negative errno.
 * @ctl->cpu_wall gets the workers' CPU time over the wall time: about
 * @procs when each had a CPU of its own all along, less when they waited
 * (for a server, a lock holder that was preempted, or other load).
 */
static inline double bench_run(struct bench_ctl *ctl, const struct bench_job *j,
			       int procs, long ops, __u64 seed)
{
	double t0, t1, cpu;
	int p, status;

	if (procs < 1 || procs > BENCH_MAX_PROCS || ops < 1)
		return -EINVAL;
	memset(ctl, 0, sizeof(*ctl));
	if (procs == 1) {
		bench__worker(ctl, j, 0, ops, seed, 0);
	} else {
		for (p = 0; p < procs; p++) {
			pid_t pid = fork();

			if (pid < 0) {
				ctl->failed = -errno;
				procs = p;	/* release and reap those started */
				break;
			}
			if (!pid)
				_exit(bench__worker(ctl, j, p, ops,
						    seed * (p + 2) + p, 1) ? 1 : 0);
		}
		while (__atomic_load_n(&ctl->ready, __ATOMIC_SEQ_CST) < procs)
			;
		/* release: pairs with the workers' acquire spin on go */
		__atomic_store_n(&ctl->go, 1, __ATOMIC_RELEASE);
		for (p = 0; p < procs; p++) {
			if (wait(&status) < 0)
				break;
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				if (!ctl->failed)
					ctl->failed = -ECHILD;
		}
	}
	if (ctl->failed)
		return ctl->failed < 0 ? ctl->failed : -EIO;
	t0 = ctl->start[0];
	t1 = ctl->end[0];
	cpu = ctl->cpu[0];
	for (p = 1; p < procs; p++) {
		t0 = ctl->start[p] < t0 ? ctl->start[p] : t0;
		t1 = ctl->end[p] > t1 ? ctl->end[p] : t1;
		cpu += ctl->cpu[p];
	}
	ctl->cpu_wall = cpu / (t1 - t0);
	return (t1 - t0) / ((double)ops * procs);
}

/*
 * The best (lowest) ns per op of @repeat runs, or the first error;
 * @ctl->cpu_wall is the best run's, @ctl->runs the number of runs made.
 *
 * @min_cpu_wall > 0 asks for runs in which the workers really ran side by
 * side (CPU-bound jobs with several workers): the best is taken among the
 * runs whose cpu_wall reaches it, and up to @repeat more runs are made when
 * none did.  On a busy machine the scheduler may run two workers one after
 * the other, which for a contended lock is faster than running them
 * together; without this the best of N would pick that run.  If no run
 * qualifies the best of all is returned (the caller sees cpu_wall).
 */
static inline double bench_best(struct bench_ctl *ctl, const struct bench_job *j,
				int procs, long ops, int repeat, __u64 seed,
				double min_cpu_wall)
{
	double best = 0, best_cw = 0, ns;
	int r, good = 0, ok;

	for (r = 0; r < repeat || (min_cpu_wall > 0 && !good && r < 2 * repeat); r++) {
		ns = bench_run(ctl, j, procs, ops, seed + r);
		if (ns < 0)
			return ns;
		ok = ctl->cpu_wall >= min_cpu_wall;
		if (!r || (ok && !good) || (ok == good && ns < best)) {
			best = ns;
			best_cw = ctl->cpu_wall;
			good = ok;
		}
	}
	ctl->cpu_wall = best_cw;
	ctl->runs = r;
	return best;
}

#ifdef ADICT_H
/*
 * The largest capacity whose libadict table (default geometry, load 3/4,
 * or 1/2 when @tflags has ADICT_TABLE_F_LOAD_HALF) takes at most @bytes.
 */
static inline __u64 bench_capacity_for(unsigned long long bytes, __u32 tflags)
{
	__u64 buckets = (bytes - ADICT_HEADER_BYTES) / ADICT_BUCKET_BYTES;
	__u64 cap = (buckets - 1) * ADICT_BUCKET_SLOTS * ADICT_LOAD_NUM /
		    ADICT_LOAD_DEN;

	while (cap > 1 && adict_map_bytes(adict_nbuckets(cap, ADICT_BUCKET_SLOTS,
							 tflags)) > bytes)
		cap -= cap / 64 + 1;
	return cap;
}
#endif

#endif /* BENCH_UTIL_H */
