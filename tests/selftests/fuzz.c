// SPDX-License-Identifier: MIT
/*
 * fuzz: random sequences of everything a process can do to /dev/atomic_dict.
 *
 *   fuzz [-s SEED] [-i ITERATIONS] [-p PROCESSES]
 *
 * PROCESSES processes (default 4) each run ITERATIONS (default 1000) random
 * actions, from seed SEED + process index (default: time; printed first, so
 * any run can be replayed).  The actions, valid and invalid mixed:
 *   open (O_RDWR/O_RDONLY), close, create (random capacity, flags, mode,
 *   grant, names from a small shared pool and invalid ones), attach (random
 *   flags), unlink, info (random size), op (random op, key, args), a uring
 *   batch (random entries and payload), an unknown ioctl, mmap (random
 *   offset, length, prot, MAP_SHARED/PRIVATE, sometimes MAP_FIXED over an
 *   existing mapping), munmap (whole or partial), mprotect, mremap, madvise,
 *   reads and random writes through the mappings (scribbling keys, values
 *   and the used word), and fork (the child runs CHILD_STEPS random actions
 *   on what it inherited, then exits).
 * A process's own faults (SIGSEGV/SIGBUS on a page it may not write) are
 * caught and counted.  What is checked here: every process and every
 * forked child exits with status 0, each process had an io_uring ring and
 * no batch it submitted stayed without a completion for 10 s, and the
 * device still works afterwards.  What matters most is checked by
 * the VM harness: no BUG/WARNING/KASAN/lockdep/kmemleak report.
 *
 * Output is TAP with one result ("ok 1 fuzz ..."), for tests/vm/run.sh.
 */
#include <getopt.h>
#include <setjmp.h>
#include <time.h>
#include <liburing.h>
#include "adict_test.h"

#define NFD	8
#define NMAP	8
#define NNAMES	6
/*
 * A forked child's actions.  One action in 80 forks (about 250 forks a
 * process in check's 20000 iterations): at 50 actions a child, the
 * children made 38% of all actions; 20 keeps every fork and what the
 * child inherits, at a fifth of all actions.
 */
#define CHILD_STEPS	20

struct mapping {
	char *addr;
	size_t len;
	int prot;
};

struct fuzzer {
	__u64 rng;
	int fd[NFD];
	bool bound[NFD];	/* a create/attach succeeded on fd[i] */
	struct mapping map[NMAP];
	struct io_uring ring;
	bool have_ring;
	unsigned long faults, ok, fail, stuck;
	unsigned long bad_children;	/* forked children that did not exit 0 */
	int depth;	/* 0 in a top-level process, 1 in a forked child */
};

static char names[NNAMES][32];
static sigjmp_buf fault_jmp;
static volatile sig_atomic_t in_touch;

static void on_fault(int sig)
{
	if (in_touch)
		siglongjmp(fault_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static __u64 rnd(struct fuzzer *f, __u64 n)
{
	return n ? rng_next(&f->rng) % n : 0;
}

static __u64 rnd_capacity(struct fuzzer *f)
{
	static const __u64 bad[] = {
		0, ADICT_CAPACITY_MAX, ADICT_CAPACITY_MAX + 1, ~0ULL, 1ULL << 63,
	};
	static const __u64 good[] = { 1, 2, 3, 7, 64, 100, 1000, 5000, 65536 };

	switch (rnd(f, 16)) {
	case 0: return rng_next(&f->rng);
	case 1: return bad[rnd(f, sizeof(bad) / sizeof(bad[0]))];
	case 2: return 1 << 18;
	default: return good[rnd(f, sizeof(good) / sizeof(good[0]))];
	}
}

static __u64 rnd_name(struct fuzzer *f)
{
	static const char *bad[] = { "", ".x", "a/b", "sp ace",
		"0123456789012345678901234567890123456789012345678901234567890123xx" };

	switch (rnd(f, 10)) {
	case 0:
		return uptr(bad[rnd(f, 5)]);
	case 1:
		return rnd(f, 2) ? 0 : 0xfffffffffffff000ULL;
	default:
		return uptr(names[rnd(f, NNAMES)]);
	}
}

static __u32 rnd_size(struct fuzzer *f, __u32 good)
{
	switch (rnd(f, 16)) {
	case 0: return 0;
	case 1: return good - 4;
	case 2: return good + 8;	/* zero tail in our buffers */
	case 3: return 5000;
	default: return good;
	}
}

static int *rnd_fd_slot(struct fuzzer *f)
{
	return &f->fd[rnd(f, NFD)];
}

/*
 * Mostly an open fd that is bound (@bound) or not, so that most calls get
 * past the first checks; sometimes any slot, even a closed one (-1).
 */
static int pick(struct fuzzer *f, bool bound)
{
	unsigned int i, start = rnd(f, NFD);

	if (rnd(f, 8)) {
		for (i = 0; i < NFD; i++) {
			unsigned int j = (start + i) % NFD;

			if (f->fd[j] >= 0 && f->bound[j] == bound)
				return j;
		}
	}
	return start;
}

static int rnd_fd(struct fuzzer *f)
{
	return f->fd[pick(f, true)];
}

static void count(struct fuzzer *f, int ret)
{
	if (ret < 0)
		f->fail++;
	else
		f->ok++;
}

static void do_touch(struct fuzzer *f)
{
	struct mapping *m = &f->map[rnd(f, NMAP)];
	volatile __u64 *w;
	unsigned int i, n;

	if (!m->addr)
		return;
	n = 1 + rnd(f, 64);
	in_touch = 1;
	if (sigsetjmp(fault_jmp, 1)) {
		in_touch = 0;
		f->faults++;
		return;
	}
	for (i = 0; i < n; i++) {
		w = (volatile __u64 *)(m->addr + (rnd(f, m->len) & ~7UL));
		if ((m->prot & PROT_WRITE) && rnd(f, 2)) {
			switch (rnd(f, 4)) {
			case 0: *w = rng_next(&f->rng); break;	/* garbage */
			case 1: *w = 0; break;
			case 2: *w = ~0ULL; break;
			default: __atomic_fetch_add(w, 1, __ATOMIC_SEQ_CST);
			}
		} else {
			(void)*w;
		}
	}
	in_touch = 0;
}

static void forget_range(struct fuzzer *f, char *addr, size_t len)
{
	int i;

	/* any mapping overlapping [addr, addr+len) is treated as gone */
	for (i = 0; i < NMAP; i++) {
		struct mapping *m = &f->map[i];

		if (m->addr && m->addr < addr + len && addr < m->addr + m->len) {
			munmap(m->addr, m->len);
			m->addr = NULL;
		}
	}
}

static void do_mmap(struct fuzzer *f)
{
	struct mapping *m = &f->map[rnd(f, NMAP)];
	struct adict_info info;
	int fd = rnd_fd(f), prot, flags;
	size_t len;
	off_t off;
	char *p, *hint = NULL;

	if (fd < 0)
		return;
	if (ioc_info(fd, &info) < 0)
		info.map_bytes = 4 * ADICT_PAGE;
	switch (rnd(f, 6)) {
	case 0: off = 0; len = info.map_bytes; break;
	case 1: off = ADICT_PAGE; len = info.map_bytes - ADICT_PAGE; break;
	case 2: off = ADICT_PAGE * rnd(f, info.map_bytes / ADICT_PAGE + 2);
		len = ADICT_PAGE * (1 + rnd(f, 4)); break;
	case 3: off = ADICT_PAGE * rnd(f, 1 << 20); len = ADICT_PAGE; break;
	case 4: off = rng_next(&f->rng) & ~(ADICT_PAGE - 1) & 0x7fffffffffffffffULL;
		len = ADICT_PAGE * (1 + rnd(f, 8)); break;
	default: off = ADICT_PAGE; len = ADICT_PAGE * (1 + rnd(f, 3)); break;
	}
	if (len == 0 || len > (1UL << 30))
		len = ADICT_PAGE;
	prot = PROT_READ;
	if (rnd(f, 2)) prot |= PROT_WRITE;
	if (rnd(f, 10) == 0) prot |= PROT_EXEC;
	if (rnd(f, 12) == 0) prot = PROT_NONE;
	flags = rnd(f, 10) ? MAP_SHARED : MAP_PRIVATE;
	if (m->addr && rnd(f, 3) == 0) {
		/* MAP_FIXED over (part of) an existing mapping */
		hint = m->addr + (rnd(f, m->len) & ~(ADICT_PAGE - 1));
		flags |= MAP_FIXED;
		/* never past the old mapping: nothing else of ours goes */
		if (len > (size_t)(m->addr + m->len - hint))
			len = m->addr + m->len - hint;
	}
	p = mmap(hint, len, prot, flags, fd, off);
	if (p == MAP_FAILED) {
		f->fail++;
		return;
	}
	f->ok++;
	if (flags & MAP_FIXED)
		forget_range(f, p, len);
	else if (m->addr)
		munmap(m->addr, m->len);
	m->addr = p;
	m->len = len;
	m->prot = prot;
}

static void do_munmap(struct fuzzer *f)
{
	struct mapping *m = &f->map[rnd(f, NMAP)];
	size_t start, len;

	if (!m->addr)
		return;
	if (rnd(f, 3)) {
		count(f, munmap(m->addr, m->len));
		m->addr = NULL;
		return;
	}
	/* partial: the device refuses to split; if it ever does, forget it */
	start = rnd(f, m->len / ADICT_PAGE) * ADICT_PAGE;
	len = ADICT_PAGE * (1 + rnd(f, 2));
	if (len > m->len - start)
		len = m->len - start;
	if (munmap(m->addr + start, len) == 0) {
		f->ok++;
		forget_range(f, m->addr + start, len);
	} else {
		f->fail++;
	}
}

static void do_mprotect(struct fuzzer *f)
{
	struct mapping *m = &f->map[rnd(f, NMAP)];
	static const int prots[] = {
		PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
		PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	int prot = prots[rnd(f, 5)];
	size_t len;

	if (!m->addr)
		return;
	len = rnd(f, 3) ? m->len : ADICT_PAGE;
	if (mprotect(m->addr, len, prot) == 0) {
		f->ok++;
		if (len == m->len)
			m->prot = prot;
		else
			m->prot = PROT_NONE;	/* mixed: touch nothing */
	} else {
		f->fail++;
	}
}

static void do_mremap(struct fuzzer *f)
{
	struct mapping *m = &f->map[rnd(f, NMAP)];
	size_t nlen;
	char *p;

	if (!m->addr)
		return;
	nlen = rnd(f, 2) ? m->len + ADICT_PAGE : m->len;
	p = mremap(m->addr, m->len, nlen, MREMAP_MAYMOVE);
	if (p == MAP_FAILED) {
		f->fail++;
		return;
	}
	f->ok++;
	m->addr = p;
	m->len = nlen;
}

static void do_batch(struct fuzzer *f)
{
	static struct adict_batch_op ops[32];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct adict_uring_batch *b;
	unsigned int i, n = 1 + rnd(f, 32);
	int fd = rnd_fd(f);

	if (!f->have_ring || fd < 0)
		return;
	for (i = 0; i < n; i++) {
		ops[i].op = rnd(f, 14);
		ops[i].key = rnd(f, 4) ? rnd(f, 200) : rng_next(&f->rng);
		ops[i].arg1 = rnd(f, 10);
		ops[i].arg2 = rnd(f, 10);
	}
	sqe = io_uring_get_sqe(&f->ring);
	if (!sqe)
		return;
	memset(sqe, 0, sizeof(*sqe));
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = rnd(f, 8) ? ADICT_URING_CMD_BATCH : rng_next(&f->rng);
	b = (struct adict_uring_batch *)sqe->cmd;
	b->ops = rnd(f, 10) ? uptr(ops) : rng_next(&f->rng);
	b->count = rnd(f, 10) ? n : rng_next(&f->rng);
	b->flags = rnd(f, 10) ? 0 : 1;
	if (rnd(f, 4) == 0)
		sqe->flags |= IOSQE_ASYNC;
	if (io_uring_submit(&f->ring) != 1)
		return;
	{
		struct __kernel_timespec ts = { .tv_sec = 10 };

		if (io_uring_wait_cqe_timeout(&f->ring, &cqe, &ts) == 0) {
			count(f, cqe->res);
			io_uring_cqe_seen(&f->ring, cqe);
		} else {
			/*
			 * A command that never completes is a kernel bug the
			 * harness reports (the module stays referenced); go
			 * on fuzzing without the ring.
			 */
			f->stuck++;
			f->have_ring = false;
		}
	}
}

static void run(struct fuzzer *f, unsigned long iters);

/* Wait for @pid (or any child, -1); count one that did not exit 0. */
static pid_t reap(struct fuzzer *f, pid_t pid)
{
	int st;

	pid = waitpid(pid, &st, 0);
	if (pid > 0 && (!WIFEXITED(st) || WEXITSTATUS(st))) {
		printf("# forked child %d ended badly: status %#x\n", (int)pid, st);
		f->bad_children++;
	}
	return pid;
}

static void do_fork(struct fuzzer *f)
{
	pid_t pid;

	if (f->depth)
		return;
	pid = fork();
	if (pid == 0) {
		f->depth = 1;
		f->rng ^= 0xf0f0f0f0f0f0f0f0ULL;
		/* the ring belongs to the parent: a child submits nothing */
		f->have_ring = false;
		run(f, CHILD_STEPS);
		_exit(0);
	}
	if (pid > 0 && rnd(f, 2))
		reap(f, pid);
}

static void step(struct fuzzer *f)
{
	union {
		struct adict_create_args c;
		struct adict_attach_args a;
		struct adict_unlink_args u;
		struct adict_info i;
		struct adict_op_args o;
		char raw[6000];
	} arg;
	int *slot, fd, j, ret;

	memset(&arg, 0, sizeof(arg));
	switch (rnd(f, 20)) {
	case 0:
	case 1:
		j = rnd(f, NFD);
		if (f->fd[j] >= 0)
			close(f->fd[j]);
		f->fd[j] = dev_open(rnd(f, 3) ? O_RDWR : O_RDONLY);
		f->bound[j] = false;
		count(f, f->fd[j]);
		break;
	case 2:
		slot = rnd_fd_slot(f);
		if (*slot >= 0) {
			close(*slot);
			*slot = -1;
		}
		break;
	case 3:
	case 4:
		arg.c.size = rnd_size(f, sizeof(arg.c));
		arg.c.flags = rnd(f, 8) ? rnd(f, 2) : (__u32)rng_next(&f->rng);
		arg.c.capacity = rnd_capacity(f);
		arg.c.name = arg.c.flags & ADICT_CREATE_NAMED ? rnd_name(f) :
			     (rnd(f, 10) ? 0 : rnd_name(f));
		arg.c.mode = rnd(f, 8) ? 0600 | rnd(f, 0100) : (__u32)rng_next(&f->rng);
		arg.c.grant = rnd(f, 4) ? 0 : (rnd(f, 4) ? rnd(f, ADICT_GRANT_ALL + 1)
						      : (__u32)rng_next(&f->rng));
		j = pick(f, false);
		ret = ioctl(f->fd[j], ADICT_IOC_CREATE, &arg);
		count(f, ret);
		if (!ret)
			f->bound[j] = true;
		break;
	case 5:
		arg.a.size = rnd_size(f, sizeof(arg.a));
		arg.a.flags = rnd(f, 8) ? rnd(f, 4) : (__u32)rng_next(&f->rng);
		arg.a.name = rnd_name(f);
		j = pick(f, false);
		ret = ioctl(f->fd[j], ADICT_IOC_ATTACH, &arg);
		count(f, ret);
		if (!ret)
			f->bound[j] = true;
		break;
	case 6:
		arg.u.size = rnd_size(f, sizeof(arg.u));
		arg.u.flags = rnd(f, 10) ? 0 : 1;
		arg.u.name = rnd_name(f);
		count(f, ioctl(rnd_fd(f), ADICT_IOC_UNLINK, &arg));
		break;
	case 7:
		arg.i.size = rnd_size(f, sizeof(arg.i));
		count(f, ioctl(rnd_fd(f), ADICT_IOC_INFO,
			       rnd(f, 20) ? (void *)&arg : (void *)16));
		break;
	case 8:
	case 9:
		arg.o.size = rnd_size(f, sizeof(arg.o));
		arg.o.op = rnd(f, 14);
		arg.o.key = rnd(f, 4) ? rnd(f, 300) : rng_next(&f->rng);
		arg.o.arg1 = rnd(f, 4) ? rnd(f, 5) : rng_next(&f->rng);
		arg.o.arg2 = rng_next(&f->rng);
		count(f, ioctl(rnd_fd(f), ADICT_IOC_OP, &arg));
		break;
	case 10:
		do_batch(f);
		break;
	case 11:
		fd = rnd_fd(f);
		count(f, ioctl(fd, _IOC(rnd(f, 4), rnd(f, 2) ? ADICT_IOC_MAGIC : rnd(f, 256),
					 rnd(f, 16), rnd(f, 200)), &arg));
		break;
	case 12:
	case 13:
		do_mmap(f);
		break;
	case 14:
		do_munmap(f);
		break;
	case 15:
		do_mprotect(f);
		break;
	case 16:
		if (rnd(f, 2))
			do_mremap(f);
		else if (f->map[0].addr)
			count(f, madvise(f->map[0].addr, f->map[0].len, MADV_DONTNEED));
		break;
	case 17:
	case 18:
		do_touch(f);
		break;
	case 19:
		if (rnd(f, 4) == 0)
			do_fork(f);
		else
			do_touch(f);
		break;
	}
}

static void run(struct fuzzer *f, unsigned long iters)
{
	unsigned long i;

	for (i = 0; i < iters; i++)
		step(f);
}

static int fuzz_process(__u64 seed, unsigned long iters)
{
	struct fuzzer f;
	bool ring;
	int i;

	memset(&f, 0, sizeof(f));
	f.rng = seed;
	for (i = 0; i < NFD; i++)
		f.fd[i] = -1;
	f.fd[0] = dev_open(O_RDWR);
	f.have_ring = io_uring_queue_init(8, &f.ring, 0) == 0;
	ring = f.have_ring;
	signal(SIGSEGV, on_fault);
	signal(SIGBUS, on_fault);
	run(&f, iters);
	while (reap(&f, -1) > 0)
		;
	printf("# process seed %#llx: %lu ok, %lu refused, %lu own faults\n",
	       (unsigned long long)seed, f.ok, f.fail, f.faults);
	/* Each of these fails the process, so the run. */
	if (!ring)
		printf("# process seed %#llx: no io_uring: the batch path was not fuzzed\n",
		       (unsigned long long)seed);
	if (f.stuck)
		printf("# process seed %#llx: %lu io_uring commands never completed\n",
		       (unsigned long long)seed, f.stuck);
	if (f.bad_children)
		printf("# process seed %#llx: %lu forked children ended badly\n",
		       (unsigned long long)seed, f.bad_children);
	fflush(stdout);
	return !ring || f.stuck || f.bad_children ? 1 : 0;
}

/* After the storm: the device must still do its job. */
static int sanity(void)
{
	__u64 r = 0;
	int fd, i, bad = 0;

	for (i = 0; i < NNAMES; i++)
		unlink_quiet(names[i]);
	fd = table_new(100, NULL, 0);
	if (fd < 0 || ioc_op(fd, ADICT_OP_ADD, 1, 41, 0, &r) ||
	    ioc_op(fd, ADICT_OP_ADD, 1, 1, 0, &r) || r != 41)
		bad = 1;
	if (fd >= 0)
		close(fd);
	return bad;
}

int main(int argc, char **argv)
{
	unsigned long iters = 1000;
	__u64 seed = (__u64)time(NULL);
	int procs = 4, i, c, st, bad = 0;
	pid_t *pids;

	while ((c = getopt(argc, argv, "s:i:p:")) != -1) {
		switch (c) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'i': iters = strtoul(optarg, NULL, 0); break;
		case 'p': procs = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: fuzz [-s SEED] [-i ITERATIONS] [-p PROCESSES]\n");
			return 2;
		}
	}
	for (i = 0; i < NNAMES; i++)
		snprintf(names[i], sizeof(names[i]), "fz-%d-%d", (int)getpid(), i);
	printf("TAP version 13\n1..1\n");
	printf("# fuzz: seed %llu, %d processes x %lu iterations\n",
	       (unsigned long long)seed, procs, iters);
	fflush(stdout);
	pids = calloc(procs, sizeof(*pids));
	for (i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(fuzz_process(seed + i, iters));
	}
	for (i = 0; i < procs; i++) {
		if (pids[i] < 0 || waitpid(pids[i], &st, 0) != pids[i] ||
		    !WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("# process %d (seed %llu) ended badly: status %#x\n",
			       i, (unsigned long long)(seed + i), st);
			bad = 1;
		}
	}
	if (sanity()) {
		printf("# the device does not work after fuzzing\n");
		bad = 1;
	}
	printf("%s 1 fuzz seed=%llu processes=%d iterations=%lu\n",
	       bad ? "not ok" : "ok", (unsigned long long)seed, procs, iters);
	return bad;
}
