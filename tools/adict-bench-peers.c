// SPDX-License-Identifier: MIT
/*
 * adict-bench-peers: libadict against what users would otherwise pick to
 * share counters between processes, in one run on one machine.
 *
 * Systems (each a row per table size and process count):
 *   floor      random atomic add on a flat u64 array of the table's bytes,
 *              in shared memfd memory (what a hash table cannot beat)
 *   libadict   adict_add() and adict_add_batch() on a memfd table
 *   mutex_shm  open-addressing map (16-byte slots, linear probing,
 *              adict_aes4(), the tables' keyed hash) in POSIX shared
 *              memory behind one robust,
 *              process-shared pthread mutex; same bytes and capacity
 *   redis      INCR through hiredis over a unix socket, one command per
 *              round trip and pipelined PIPE_DEPTH deep; the benchmark runs
 *              its own redis-server on a private socket in a temp dir
 *   bpf_hash   a BPF_MAP_TYPE_HASH updated through bpf(2) (lookup, then
 *              update: two system calls, not atomic); skipped where bpf(2)
 *              is not allowed
 *
 * Every system holds the same keys, bench_key(i) for i < capacity (Redis as
 * decimal strings, created before timing), and every run picks random
 * existing keys from the same RNG seeds, so each system sees the very same
 * key sequence.  Fast systems run --ops operations per process, Redis and
 * BPF fewer (they are 100-1000 times slower); all are compared in ns per
 * operation, wall time divided by the operations of all processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <hiredis/hiredis.h>

#include "adict.h"
#include "bench-util.h"

#define BATCH		64	/* keys per adict_add_batch() */
#define PIPE_DEPTH	64	/* Redis commands in flight when pipelined */
#define MAX_SIZES	5
#define MAX_PROCS	BENCH_MAX_PROCS
#define MAX_PCOUNTS	8	/* process counts of one run: 1, 2, 4, ... */

static struct {
	long ops;		/* per process: floor, libadict, mutex_shm */
	long redis_ops;		/* per process: Redis unpipelined */
	long pipe_ops;		/* per process: Redis pipelined */
	long bpf_ops;		/* per process: bpf(2) */
	int repeat;		/* best of, fast systems */
	int slow_repeat;	/* best of, Redis and BPF */
	int json;
	int quick;
	int sweep;
	int redis;
	int bpf;
	int procs;		/* --procs: the most processes measured */
	unsigned long long large;
	const char *plot;	/* NULL: no plot */
} cfg = {
	.ops = 2000000, .redis_ops = 30000, .pipe_ops = 100000,
	.bpf_ops = 100000, .repeat = 3, .slow_repeat = 2, .sweep = 1,
	.redis = 1, .bpf = 1, .procs = 2, .large = 64ULL << 20,
	.plot = "build/bench-peers.svg",
};

static struct bench_ctl *ctl;
static int status;	/* exit status: 1 after any error */

/* The process counts measured: 1, 2, 4, ... below cfg.procs, then it. */
static int pcount[MAX_PCOUNTS], npcounts;

/* ---- results ---------------------------------------------------------- */

/* Peers from S_MUTEX on; CPU-bound systems up to S_BPF_ARRAY. */
enum sys {
	S_FLOOR, S_ADD, S_ADD_BATCH, S_MUTEX, S_SPIN, S_BPF_ARRAY, S_REDIS,
	S_REDIS_PIPE, S_BPF, S_BPF_BATCH, S_NR
};
static const char *const sys_name[S_NR] = {
	"floor", "libadict", "libadict", "mutex_shm", "spin_shm", "bpf_array",
	"redis", "redis", "bpf_hash", "bpf_hash",
};
static const char *const case_name[S_NR] = {
	"add", "add", "add_batch", "add", "add", "mmap_add", "incr",
	"incr_pipe64", "lookup_update", "update_batch64",
};

struct size_res {
	const char *label;
	unsigned long long bytes;
	__u64 capacity;
	double ns[MAX_PROCS + 1][S_NR];	/* 0: not measured */
	double cpu_wall[MAX_PROCS + 1][S_NR];
};
static struct size_res res[MAX_SIZES];
static int nsizes;

/* ---- cleanup: the Redis server, the shm name, the temp dir ------------- */

static pid_t main_pid, redis_pid;
static char tmp_dir[64], redis_sock[128], redis_log[128];
static char shm_name[64];

static void cleanup(void)
{
	if (getpid() != main_pid)
		return;
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
		redis_pid = 0;
	}
	if (shm_name[0]) {
		shm_unlink(shm_name);
		shm_name[0] = 0;
	}
	if (tmp_dir[0]) {
		unlink(redis_sock);
		unlink(redis_log);
		rmdir(tmp_dir);
		tmp_dir[0] = 0;
	}
}

/* Only async-signal-safe calls are reached from here (kill, waitpid, unlink). */
static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A comment line: stdout for people, stderr with --json. */
static void note(const char *fmt, ...)
{
	FILE *f = cfg.json ? stderr : stdout;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fflush(f);
}

/* ---- floor and libadict ------------------------------------------------ */

struct flat_arg {
	__u64 *arr;
	size_t words;
};

static int floor_prep(void *a, int proc, long ops, __u64 seed)
{
	struct flat_arg *f = a;

	bench_touch(f->arr, f->words * 8);
	return 0;
}

static int floor_run(void *a, int proc, long ops, __u64 seed)
{
	struct flat_arg *f = a;
	long i;

	for (i = 0; i < ops; i++)
		__atomic_fetch_add(&f->arr[bench_pick(&seed, f->words)], 1,
				   __ATOMIC_SEQ_CST);
	return 0;
}

struct adict_arg {
	struct adict *t;
	__u64 nkeys;
};

static int adict_prep(void *a, int proc, long ops, __u64 seed)
{
	struct adict_arg *x = a;

	bench_touch(x->t->map, x->t->map_bytes);
	return 0;
}

static int adict_add_run(void *a, int proc, long ops, __u64 seed)
{
	struct adict_arg *x = a;
	long i;
	int ret;

	for (i = 0; i < ops; i++) {
		ret = adict_add(x->t, bench_key(bench_pick(&seed, x->nkeys)), 1, NULL);
		if (__builtin_expect(ret < 0, 0))
			return ret;
	}
	return 0;
}

static int adict_batch_run(void *a, int proc, long ops, __u64 seed)
{
	struct adict_arg *x = a;
	__u64 keys[BATCH];
	long i;
	int j, n, ret;

	for (i = 0; i < ops; i += n) {
		n = ops - i < BATCH ? (int)(ops - i) : BATCH;
		for (j = 0; j < n; j++)
			keys[j] = bench_key(bench_pick(&seed, x->nkeys));
		ret = adict_add_batch(x->t, keys, NULL, n, NULL);
		if (ret != n)
			return ret < 0 ? ret : -EIO;
	}
	return 0;
}

/* ---- mutex-protected map in POSIX shared memory ------------------------ */

struct mtx_hdr {
	pthread_mutex_t lock;	/* robust, process-shared; guards all below */
	__u64 nslots;
	__u64 capacity;
	__u64 used;
};

struct mtx_slot {
	__u64 key;		/* 0: empty */
	__u64 value;
};

/* The peer maps hash as the tables do (hash.h), with a fixed seed. */
static const __u64 mtx_seed[2] = { 0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL };
static struct adict_hash_key mtx_hk;

struct mtx_map {
	struct mtx_hdr *h;	/* first page of the mapping */
	struct mtx_slot *slots;	/* the rest */
	size_t bytes;
};

#define MTX_HDR_BYTES	4096

static int mtx_create(struct mtx_map *m, size_t bytes, __u64 capacity)
{
	static unsigned int seq;
	pthread_mutexattr_t ma;
	void *p;
	int fd, err;

	snprintf(shm_name, sizeof(shm_name), "/adict-bench-peers.%d.%u",
		 (int)getpid(), seq++);
	fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, bytes)) {
		err = -errno;
		close(fd);
		return err;
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	memset(p, 0, bytes);	/* fault every page in, as the others */
	m->h = p;
	m->slots = (struct mtx_slot *)((char *)p + MTX_HDR_BYTES);
	m->bytes = bytes;
	m->h->nslots = (bytes - MTX_HDR_BYTES) / sizeof(struct mtx_slot);
	adict_hash_key_init(&mtx_hk, mtx_seed);	/* inherited by the workers */
	m->h->capacity = capacity;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	err = pthread_mutex_init(&m->h->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	return -err;
}

static void mtx_destroy(struct mtx_map *m)
{
	pthread_mutex_destroy(&m->h->lock);
	munmap(m->h, m->bytes);
	shm_unlink(shm_name);
	shm_name[0] = 0;
}

static int mtx_lock(struct mtx_hdr *h)
{
	int err = pthread_mutex_lock(&h->lock);

	if (err == EOWNERDEAD) {
		/*
		 * A holder died inside its critical section.  Its update is
		 * either done or not (one slot's words); the map stays
		 * usable, so mark the mutex consistent and carry on.
		 */
		err = pthread_mutex_consistent(&h->lock);
	}
	return -err;
}

/* Add @delta to @key's value, inserting it if absent; 0 or -errno. */
static int mtx_add(struct mtx_map *m, __u64 key, __u64 delta)
{
	struct mtx_hdr *h = m->h;
	__u64 i, n;
	int ret = mtx_lock(h);

	if (ret)
		return ret;
	i = adict_a_mulhi(adict_aes4(&mtx_hk, key, 0), h->nslots);
	for (n = 0; n < h->nslots; n++) {
		struct mtx_slot *s = &m->slots[i];

		if (s->key == key) {
			s->value += delta;
			break;
		}
		if (!s->key) {
			if (h->used >= h->capacity) {
				ret = -ENOSPC;
				break;
			}
			s->key = key;
			s->value = delta;
			h->used++;
			break;
		}
		if (++i == h->nslots)
			i = 0;
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

/* The sum of the values of @n slots (both shared-memory maps). */
static __u64 slots_sum(const struct mtx_slot *s, __u64 n)
{
	__u64 i, sum = 0;

	for (i = 0; i < n; i++)
		sum += s[i].value;
	return sum;
}

static int mtx_prep(void *a, int proc, long ops, __u64 seed)
{
	struct mtx_map *m = a;

	bench_touch(m->h, m->bytes);
	return 0;
}

static int mtx_run(void *a, int proc, long ops, __u64 seed)
{
	struct mtx_map *m = a;
	__u64 nkeys = m->h->capacity;
	long i;
	int ret;

	for (i = 0; i < ops; i++) {
		ret = mtx_add(m, bench_key(bench_pick(&seed, nkeys)), 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- striped-spinlock map in POSIX shared memory ------------------------ */

/*
 * What a careful engineer writes without libadict: the same open-addressing
 * map (16-byte slots, linear probing from mulhi(adict_aes4(), nslots)),
 * with one spinlock per group of SPIN_GROUP slots (one 64-byte line of
 * slots) instead of one mutex.  An add takes the lock of the key's home
 * group only: a key's home never changes, so every update of one key is
 * serialised by the same lock.  Claiming an empty slot is a CAS on its key
 * word, so two inserters of different keys (different home locks) cannot
 * both take a slot their probes share.  The locks are 32-bit words packed
 * in front of the slots, inside the same byte footprint.  Not robust: a
 * process that dies holding a lock leaves it held.
 */
#define SPIN_GROUP	4

struct spin_map {
	void *base;
	__u32 *locks;		/* nslots / SPIN_GROUP + 1 */
	struct mtx_slot *slots;
	__u64 nslots;
	__u64 capacity;
	__u64 *used;		/* in the header page */
	size_t bytes;
};

static int spin_create(struct spin_map *m, size_t bytes, __u64 capacity)
{
	__u64 nslots, nlocks;
	void *p;

	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	memset(p, 0, bytes);	/* fault every page in, as the others */
	/* bytes = header page + 4 bytes per group of 4 slots + 16 per slot */
	nslots = (bytes - MTX_HDR_BYTES) * SPIN_GROUP /
		 (SPIN_GROUP * sizeof(struct mtx_slot) + sizeof(__u32));
	nlocks = nslots / SPIN_GROUP + 1;
	nslots = (bytes - MTX_HDR_BYTES - ((nlocks * 4 + 63) & ~63ULL)) /
		 sizeof(struct mtx_slot);
	if (nslots <= capacity) {
		munmap(p, bytes);
		return -ENOSPC;
	}
	m->base = p;
	m->used = p;
	m->locks = (__u32 *)((char *)p + MTX_HDR_BYTES);
	m->slots = (struct mtx_slot *)((char *)m->locks + ((nlocks * 4 + 63) & ~63ULL));
	m->nslots = nslots;
	adict_hash_key_init(&mtx_hk, mtx_seed);	/* inherited by the workers */
	m->capacity = capacity;
	m->bytes = bytes;
	return 0;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Test and test-and-set: spin on a plain load, not on the locked op. */
static void spin_lock(__u32 *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			cpu_relax();
}

static void spin_unlock(__u32 *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/* Add @delta to @key's value, inserting it if absent; 0 or -errno. */
static int spin_add(struct spin_map *m, __u64 key, __u64 delta)
{
	__u64 i = adict_a_mulhi(adict_aes4(&mtx_hk, key, 0), m->nslots), n, k;
	__u32 *l = &m->locks[i / SPIN_GROUP];
	int ret = -ENOSPC;

	spin_lock(l);
	for (n = 0; n < m->nslots; n++) {
		struct mtx_slot *s = &m->slots[i];

		k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
		if (!k) {
			if (__atomic_load_n(m->used, __ATOMIC_RELAXED) >= m->capacity)
				break;
			if (__atomic_compare_exchange_n(&s->key, &k, key, 0,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				__atomic_fetch_add(m->used, 1, __ATOMIC_RELAXED);
				k = key;
			}
		}
		if (k == key) {
			s->value += delta;	/* under the home lock */
			ret = 0;
			break;
		}
		if (++i == m->nslots)
			i = 0;
	}
	spin_unlock(l);
	return ret;
}

static int spin_prep(void *a, int proc, long ops, __u64 seed)
{
	struct spin_map *m = a;

	bench_touch(m->base, m->bytes);
	return 0;
}

static int spin_run(void *a, int proc, long ops, __u64 seed)
{
	struct spin_map *m = a;
	long i;
	int ret;

	for (i = 0; i < ops; i++) {
		ret = spin_add(m, bench_key(bench_pick(&seed, m->capacity)), 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- Redis ---------------------------------------------------------------- */

static char redis_skip[256];	/* non-empty: why Redis rows are skipped */
static __u64 redis_filled;	/* keys 0 .. redis_filled-1 exist */

static int in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (!access(buf, X_OK))
			return 1;
		path += n + !!path[n];
	}
	/* Debian's redis-server is in /usr/bin; sbin-less PATHs are fine */
	return 0;
}

static redisContext *redis_connect(void)
{
	redisContext *c = redisConnectUnix(redis_sock);

	if (c && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

static void redis_log_tail(void)
{
	char line[256];
	FILE *f = fopen(redis_log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  redis: %s", line);
	fclose(f);
}

/* Start redis-server on a private unix socket; set redis_skip on failure. */
static void redis_start(void)
{
	redisContext *c = NULL;
	int i, st;

	if (!in_path("redis-server")) {
		snprintf(redis_skip, sizeof(redis_skip),
			 "redis-server not installed (apt-get install redis-server)");
		return;
	}
	strcpy(tmp_dir, "/tmp/adict-bench-peers.XXXXXX");
	if (!mkdtemp(tmp_dir)) {
		snprintf(redis_skip, sizeof(redis_skip), "mkdtemp: %s", strerror(errno));
		tmp_dir[0] = 0;
		return;
	}
	snprintf(redis_sock, sizeof(redis_sock), "%s/redis.sock", tmp_dir);
	snprintf(redis_log, sizeof(redis_log), "%s/redis.log", tmp_dir);
	redis_pid = fork();
	if (redis_pid < 0) {
		snprintf(redis_skip, sizeof(redis_skip), "fork: %s", strerror(errno));
		redis_pid = 0;
		return;
	}
	if (!redis_pid) {
		int fd = open(redis_log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		/* the server dies with us, even if we are SIGKILLed */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != main_pid)
			_exit(1);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", "0",
		       "--unixsocket", redis_sock, "--unixsocketperm", "700",
		       "--save", "", "--appendonly", "no", "--dir", tmp_dir,
		       "--daemonize", "no", "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {	/* up to 10 s */
		if (waitpid(redis_pid, &st, WNOHANG) == redis_pid) {
			redis_pid = 0;
			snprintf(redis_skip, sizeof(redis_skip),
				 "redis-server exited at start (status %d)", st);
			redis_log_tail();
			return;
		}
		c = redis_connect();
		if (c)
			break;
		usleep(20000);
	}
	if (!c) {
		snprintf(redis_skip, sizeof(redis_skip),
			 "redis-server did not listen on %s in 10 s", redis_sock);
		redis_log_tail();
		return;
	}
	redisFree(c);
}

/*
 * Create keys [redis_filled, @n) with value 0: MSETs of CHUNK keys, DEPTH
 * of them per round trip.
 */
static int redis_fill(__u64 n)
{
	enum { CHUNK = 512, DEPTH = 8 };
	static char kbuf[CHUNK][24];
	const char *argv[1 + 2 * CHUNK];
	size_t argl[1 + 2 * CHUNK];
	redisContext *c = redis_connect();
	redisReply *r;
	int d, j, k, sent, ok = 1;

	if (!c)
		return -ECONNREFUSED;
	while (ok && redis_filled < n) {
		__u64 next = redis_filled;

		for (sent = 0; sent < DEPTH && next < n; sent++, next += k) {
			k = n - next < CHUNK ? (int)(n - next) : CHUNK;
			argv[0] = "MSET";
			argl[0] = 4;
			for (j = 0; j < k; j++) {
				argl[1 + 2 * j] = snprintf(kbuf[j], sizeof(kbuf[j]),
					"%llu", (unsigned long long)bench_key(next + j));
				argv[1 + 2 * j] = kbuf[j];
				argv[2 + 2 * j] = "0";
				argl[2 + 2 * j] = 1;
			}
			/* hiredis copies the arguments into its output buffer */
			if (redisAppendCommandArgv(c, 1 + 2 * k, argv, argl)) {
				ok = 0;
				break;
			}
		}
		for (d = 0; d < sent; d++) {
			if (redisGetReply(c, (void **)&r) || !r) {
				ok = 0;
				break;
			}
			ok &= r->type == REDIS_REPLY_STATUS;
			freeReplyObject(r);
		}
		if (ok)
			redis_filled = next;
	}
	redisFree(c);
	return ok ? 0 : -EIO;
}

/*
 * Pinning: with more CPUs than client processes, the server gets the last
 * CPU we may run on and the clients the others, so that no client and the
 * server take turns on one CPU; otherwise (2 CPUs, 2 clients) nobody is
 * pinned.  redis_pin() sets it before the rows of a process count.
 */
static cpu_set_t all_cpus, server_cpu, client_cpus;
static int ncpus;

/* 1 if the server and @procs clients were pinned apart, 0 if not. */
static int redis_pin(int procs)
{
	int pin = ncpus > procs;

	sched_setaffinity(redis_pid, sizeof(cpu_set_t),
			  pin ? &server_cpu : &all_cpus);
	return pin;
}

static void redis_pin_init(void)
{
	int cpu, last = -1;

	if (sched_getaffinity(0, sizeof(all_cpus), &all_cpus))
		return;
	ncpus = CPU_COUNT(&all_cpus);
	client_cpus = all_cpus;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &all_cpus))
			last = cpu;
	CPU_ZERO(&server_cpu);
	if (last >= 0) {
		CPU_SET(last, &server_cpu);
		CPU_CLR(last, &client_cpus);
	}
}

struct redis_arg {
	__u64 nkeys;
	int depth;
	int pin;		/* pin the clients away from the server */
	redisContext *c;	/* this worker's own connection */
};

static int redis_prep(void *a, int proc, long ops, __u64 seed)
{
	struct redis_arg *x = a;

	if (x->pin)
		sched_setaffinity(0, sizeof(client_cpus), &client_cpus);
	x->c = redis_connect();	/* after fork(): one connection per process */
	return x->c ? 0 : -ECONNREFUSED;
}

static void redis_done(void *a, int proc)
{
	struct redis_arg *x = a;

	if (x->c)
		redisFree(x->c);
	x->c = NULL;
	if (x->pin)	/* worker 0 may be the bench itself: undo */
		sched_setaffinity(0, sizeof(all_cpus), &all_cpus);
}

/* INCR random existing keys, @depth commands per round trip. */
static int redis_run(void *a, int proc, long ops, __u64 seed)
{
	struct redis_arg *x = a;
	const char *argv[2] = { "INCR" };
	size_t argl[2] = { 4 };
	char kbuf[24];
	redisReply *r;
	long i;
	int j, n, ok;

	for (i = 0; i < ops; i += n) {
		n = ops - i < x->depth ? (int)(ops - i) : x->depth;
		for (j = 0; j < n; j++) {
			argl[1] = snprintf(kbuf, sizeof(kbuf), "%llu",
				(unsigned long long)bench_key(bench_pick(&seed, x->nkeys)));
			argv[1] = kbuf;
			if (redisAppendCommandArgv(x->c, 2, argv, argl))
				return -EIO;
		}
		for (j = 0; j < n; j++) {
			if (redisGetReply(x->c, (void **)&r) || !r)
				return -EIO;
			ok = r->type == REDIS_REPLY_INTEGER;
			freeReplyObject(r);
			if (!ok)
				return -EPROTO;
		}
	}
	return 0;
}

/* ---- BPF hash map through bpf(2) ----------------------------------------- */

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int bpf_has_batch;	/* BPF_MAP_UPDATE_BATCH worked when filling */

/* A hash map of @capacity u64 -> u64, filled with value 0; fd or -errno. */
static int bpf_create(__u64 capacity, char *why, size_t whylen)
{
	enum { CHUNK = 4096 };
	static __u64 keys[CHUNK], vals[CHUNK];
	union bpf_attr a;
	__u64 i;
	int fd, j, k, batch = 1;

	bpf_has_batch = 0;
	if (capacity > UINT_MAX) {
		snprintf(why, whylen, "capacity above 2^32");
		return -E2BIG;
	}
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 8;
	a.value_size = 8;
	a.max_entries = capacity;
	strncpy(a.map_name, "adict_bench", sizeof(a.map_name) - 1);
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (fd < 0) {
		int err = errno;

		snprintf(why, whylen, "bpf(BPF_MAP_CREATE): %s%s", strerror(err),
			 err == EPERM ? " (needs root/CAP_BPF with BPF enabled)" : "");
		return -err;
	}
	for (i = 0; i < capacity; i += k) {
		k = capacity - i < CHUNK ? (int)(capacity - i) : CHUNK;
		for (j = 0; j < k; j++)
			keys[j] = bench_key(i + j);
		if (batch) {
			memset(&a, 0, sizeof(a));
			a.batch.map_fd = fd;
			a.batch.keys = (__u64)(unsigned long)keys;
			a.batch.values = (__u64)(unsigned long)vals;
			a.batch.count = k;
			if (!sys_bpf(BPF_MAP_UPDATE_BATCH, &a)) {
				bpf_has_batch = 1;
				continue;
			}
			batch = 0;	/* old kernel: one by one */
		}
		for (j = 0; j < k; j++) {
			memset(&a, 0, sizeof(a));
			a.map_fd = fd;
			a.key = (__u64)(unsigned long)&keys[j];
			a.value = (__u64)(unsigned long)&vals[j];
			if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a)) {
				int err = errno;

				snprintf(why, whylen, "bpf(BPF_MAP_UPDATE_ELEM): %s",
					 strerror(err));
				close(fd);
				return -err;
			}
		}
	}
	return fd;
}

struct bpf_arg {
	int fd;
	__u64 nkeys;
};

/* Not atomic: two processes may lose each other's increments. */
static int bpf_run(void *a, int proc, long ops, __u64 seed)
{
	struct bpf_arg *x = a;
	union bpf_attr at;
	__u64 key, val;
	long i;

	for (i = 0; i < ops; i++) {
		key = bench_key(bench_pick(&seed, x->nkeys));
		memset(&at, 0, sizeof(at));
		at.map_fd = x->fd;
		at.key = (__u64)(unsigned long)&key;
		at.value = (__u64)(unsigned long)&val;
		if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &at))
			return -errno;
		val++;
		at.flags = BPF_EXIST;
		if (sys_bpf(BPF_MAP_UPDATE_ELEM, &at))
			return -errno;
	}
	return 0;
}

/*
 * BPF's fast forms.  An array map with BPF_F_MMAPABLE is mapped and updated
 * with the same atomic add as the floor, at the index of the key: not a
 * dictionary (keys must be dense indices 0 .. N-1, which the bench's
 * bijection happens to give), but what BPF offers a user who can number his
 * keys.  BPF_MAP_UPDATE_BATCH stores BATCH (key, value) pairs of a hash map
 * per system call: a store of values computed elsewhere, not an add.
 */
struct bpf_array {
	int fd;
	__u64 *vals;
	size_t bytes;
	__u64 nkeys;
};

/* An mmapable BPF array of @n u64 values, mapped; 0 or -errno (@why). */
static int bpf_array_create(struct bpf_array *b, __u64 n, char *why,
			    size_t whylen)
{
	union bpf_attr a;
	long pg = sysconf(_SC_PAGESIZE);
	void *p;
	int err;

	b->fd = -1;
	if (n > UINT_MAX / 8) {
		snprintf(why, whylen, "capacity above 2^29");
		return -E2BIG;
	}
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = n;
	a.map_flags = BPF_F_MMAPABLE;
	strncpy(a.map_name, "adict_bench_a", sizeof(a.map_name) - 1);
	b->fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (b->fd < 0) {
		err = errno;
		snprintf(why, whylen, "bpf(BPF_MAP_CREATE, BPF_F_MMAPABLE): %s",
			 strerror(err));
		return -err;
	}
	b->bytes = (n * 8 + pg - 1) & ~(size_t)(pg - 1);
	p = mmap(NULL, b->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
		snprintf(why, whylen, "mmap of the BPF array: %s", strerror(err));
		close(b->fd);
		b->fd = -1;
		return -err;
	}
	b->vals = p;
	b->nkeys = n;
	return 0;
}

static void bpf_array_destroy(struct bpf_array *b)
{
	if (b->fd < 0)
		return;
	munmap(b->vals, b->bytes);
	close(b->fd);
	b->fd = -1;
}

static int bpf_array_prep(void *a, int proc, long ops, __u64 seed)
{
	struct bpf_array *b = a;

	bench_touch(b->vals, b->bytes);
	return 0;
}

/* The key's index is its bench index: the same random key as the others. */
static int bpf_array_run(void *a, int proc, long ops, __u64 seed)
{
	struct bpf_array *b = a;
	long i;

	for (i = 0; i < ops; i++)
		__atomic_fetch_add(&b->vals[bench_pick(&seed, b->nkeys)], 1,
				   __ATOMIC_SEQ_CST);
	return 0;
}

static __u64 bpf_array_sum(const struct bpf_array *b)
{
	__u64 i, sum = 0;

	for (i = 0; i < b->nkeys; i++)
		sum += b->vals[i];
	return sum;
}

/* BATCH random existing keys per BPF_MAP_UPDATE_BATCH, value = the index. */
static int bpf_batch_run(void *a, int proc, long ops, __u64 seed)
{
	struct bpf_arg *x = a;
	__u64 keys[BATCH], vals[BATCH];
	union bpf_attr at;
	long i;
	int j, n;

	for (i = 0; i < ops; i += n) {
		n = ops - i < BATCH ? (int)(ops - i) : BATCH;
		for (j = 0; j < n; j++) {
			vals[j] = i + j;
			keys[j] = bench_key(bench_pick(&seed, x->nkeys));
		}
		memset(&at, 0, sizeof(at));
		at.batch.map_fd = x->fd;
		at.batch.keys = (__u64)(unsigned long)keys;
		at.batch.values = (__u64)(unsigned long)vals;
		at.batch.count = n;
		if (sys_bpf(BPF_MAP_UPDATE_BATCH, &at))
			return -errno;
		if (at.batch.count != (__u32)n)
			return -EIO;
	}
	return 0;
}

/* ---- measuring and reporting --------------------------------------------- */

static void human_bytes(char *buf, size_t n, unsigned long long b)
{
	if (b >= 1ULL << 20)
		snprintf(buf, n, "%llu MiB", b >> 20);
	else
		snprintf(buf, n, "%llu KiB", b >> 10);
}

static void report(struct size_res *sr, enum sys s, int procs, long ops)
{
	double ns = sr->ns[procs][s], fl = sr->ns[procs][S_FLOOR];
	double add = sr->ns[procs][S_ADD];
	char hb[32], sp[32] = "";

	if (cfg.json) {
		printf("{\"system\":\"%s\",\"case\":\"%s\",\"size\":\"%s\","
		       "\"table_bytes\":%llu,\"capacity\":%llu,\"procs\":%d,"
		       "\"ops\":%ld,\"ns_per_op\":%.3f,\"floor_ns_per_op\":%.3f,"
		       "\"ratio\":%.3f,\"cpu_per_wall\":%.2f", sys_name[s],
		       case_name[s], sr->label, sr->bytes,
		       (unsigned long long)sr->capacity, procs, ops * procs, ns,
		       fl, ns / fl, sr->cpu_wall[procs][s]);
		if (s >= S_MUTEX)
			printf(",\"adict_speedup\":%.3f", ns / add);
		printf("}\n");
	} else {
		human_bytes(hb, sizeof(hb), sr->bytes);
		if (s >= S_MUTEX)
			snprintf(sp, sizeof(sp), "%9.1fx", ns / add);
		printf("%-9s %-13s %-6s %8s %5d %10.3f %10.1f %9.2fx %8.2f %s\n",
		       sys_name[s], case_name[s], sr->label, hb, procs,
		       1e3 / ns, ns, ns / fl, sr->cpu_wall[procs][s], sp);
	}
	fflush(stdout);
}

static void skip_row(struct size_res *sr, enum sys s, int procs, const char *why)
{
	char hb[32];

	human_bytes(hb, sizeof(hb), sr->bytes);
	if (cfg.json)
		fprintf(stderr, "# skipped: %s %s %s procs %d: %s\n", sys_name[s],
			case_name[s], sr->label, procs, why);
	else
		printf("%-9s %-13s %-6s %8s %5d skipped: %s\n", sys_name[s],
		       case_name[s], sr->label, hb, procs, why);
	fflush(stdout);
}

/* Measure one system; record and print it.  Return 0 or -errno. */
static int measure(struct size_res *sr, enum sys s, int procs,
		   const struct bench_job *j, long ops, int repeat, __u64 seed)
{
	/* CPU-bound rows with N workers: prefer runs where each had a CPU */
	double want = procs > 1 && s <= S_BPF_ARRAY ? 0.75 * procs : 0;
	double ns = bench_best(ctl, j, procs, ops, repeat, seed, want);
	char why[96];

	if (ns < 0) {
		snprintf(why, sizeof(why), "error: %s", strerror((int)-ns));
		skip_row(sr, s, procs, why);
		return (int)ns;
	}
	sr->ns[procs][s] = ns;
	sr->cpu_wall[procs][s] = ctl->cpu_wall;
	report(sr, s, procs, ops);
	return 0;
}

static int bench_size(struct size_res *sr)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD };
	struct adict_table_info info;
	struct flat_arg fa;
	struct adict_arg aa;
	struct mtx_map mm;
	struct spin_map sm;
	struct redis_arg ra;
	struct bpf_arg ba = { .fd = -1 };
	struct bpf_array bar = { .fd = -1 };
	char bpf_skip[160] = "", bar_skip[160] = "";
	__u64 cap = bench_capacity_for(sr->bytes, 0), i, k, v, cur, sum, adds = 0;
	__u64 mtx_adds = 0, spin_adds = 0, bar_adds = 0, seed;
	double t0;
	int ret, procs, pi;

	ret = adict_create(&aa.t, cap, &o);
	if (ret) {
		fprintf(stderr, "adict-bench-peers: create %llu-key table: %s\n",
			(unsigned long long)cap, strerror(-ret));
		return ret;
	}
	adict_info(aa.t, &info);
	aa.nkeys = cap;
	sr->bytes = info.bytes;
	sr->capacity = cap;
	for (i = 0; i < cap; i++) {
		ret = adict_insert(aa.t, bench_key(i));
		if (ret != 1) {
			fprintf(stderr, "adict-bench-peers: fill: key %llu: %d\n",
				(unsigned long long)i, ret);
			goto out_close_table;
		}
	}
	fa.words = info.bytes / 8;
	fa.arr = bench_shared_map(info.bytes);
	if (!fa.arr) {
		ret = -errno;
		perror("adict-bench-peers: floor array");
		goto out_close_table;
	}
	ret = mtx_create(&mm, info.bytes, cap);
	if (ret) {
		fprintf(stderr, "adict-bench-peers: shm map: %s\n", strerror(-ret));
		goto out_unmap_floor;
	}
	for (i = 0; i < cap; i++) {
		ret = mtx_add(&mm, bench_key(i), 0);
		if (ret)
			goto out_destroy_mtx;
	}
	ret = spin_create(&sm, info.bytes, cap);
	if (ret) {
		fprintf(stderr, "adict-bench-peers: spinlock map: %s\n", strerror(-ret));
		goto out_destroy_mtx;
	}
	for (i = 0; i < cap; i++) {
		ret = spin_add(&sm, bench_key(i), 0);
		if (ret)
			goto out_destroy_spin;
	}
	if (cfg.redis && !redis_skip[0]) {
		t0 = bench_now_ns();
		ret = redis_fill(cap);
		if (ret)
			snprintf(redis_skip, sizeof(redis_skip), "filling keys: %s",
				 strerror(-ret));
		else if (!cfg.json)
			note("# redis: %llu keys created with MSET in %.2f s\n",
			     (unsigned long long)redis_filled,
			     (bench_now_ns() - t0) / 1e9);
	}
	if (cfg.bpf) {
		ba.nkeys = cap;
		ba.fd = bpf_create(cap, bpf_skip, sizeof(bpf_skip));
		bpf_array_create(&bar, cap, bar_skip, sizeof(bar_skip));
	}
	if (!cfg.json)
		note("# %s: %llu keys (table filled to capacity), %llu bytes per system\n",
		     sr->label, (unsigned long long)cap,
		     (unsigned long long)info.bytes);

	for (pi = 0; pi < npcounts; pi++) {
		struct bench_job jf = { floor_prep, floor_run, NULL, &fa };
		struct bench_job ja = { adict_prep, adict_add_run, NULL, &aa };
		struct bench_job jb = { adict_prep, adict_batch_run, NULL, &aa };
		struct bench_job jm = { mtx_prep, mtx_run, NULL, &mm };
		struct bench_job js = { spin_prep, spin_run, NULL, &sm };
		struct bench_job jy = { bpf_array_prep, bpf_array_run, NULL, &bar };
		struct bench_job jr = { redis_prep, redis_run, redis_done, &ra };
		struct bench_job jp = { NULL, bpf_run, NULL, &ba };
		struct bench_job jq = { NULL, bpf_batch_run, NULL, &ba };

		procs = pcount[pi];

		seed = 0x1234567ULL + procs;
		ret = measure(sr, S_FLOOR, procs, &jf, cfg.ops, cfg.repeat, seed);
		if (ret)
			goto out_bpf;
		ret = measure(sr, S_ADD, procs, &ja, cfg.ops, cfg.repeat, seed);
		if (ret)
			goto out_bpf;
		adds += (__u64)cfg.ops * procs * ctl->runs;
		ret = measure(sr, S_ADD_BATCH, procs, &jb, cfg.ops, cfg.repeat, seed);
		if (ret)
			goto out_bpf;
		adds += (__u64)cfg.ops * procs * ctl->runs;
		if (!measure(sr, S_MUTEX, procs, &jm, cfg.ops, cfg.repeat, seed))
			mtx_adds += (__u64)cfg.ops * procs * ctl->runs;
		else
			status = 1;
		if (!measure(sr, S_SPIN, procs, &js, cfg.ops, cfg.repeat, seed))
			spin_adds += (__u64)cfg.ops * procs * ctl->runs;
		else
			status = 1;
		if (!cfg.bpf)
			;
		else if (bar.fd < 0)
			skip_row(sr, S_BPF_ARRAY, procs, bar_skip);
		else if (!measure(sr, S_BPF_ARRAY, procs, &jy, cfg.ops,
				  cfg.repeat, seed))
			bar_adds += (__u64)cfg.ops * procs * ctl->runs;
		else
			status = 1;
		if (!cfg.redis) {
		} else if (redis_skip[0]) {
			skip_row(sr, S_REDIS, procs, redis_skip);
			skip_row(sr, S_REDIS_PIPE, procs, redis_skip);
		} else {
			ra = (struct redis_arg){ .nkeys = cap, .depth = 1,
						 .pin = redis_pin(procs) };
			note("# redis, %d process%s: %s\n", procs,
			     procs > 1 ? "es" : "", ra.pin ?
			     "server pinned to one CPU, clients to the others" :
			     "not pinned (no CPU to spare for the server)");
			if (measure(sr, S_REDIS, procs, &jr, cfg.redis_ops,
				    cfg.slow_repeat, seed))
				status = 1;
			ra.depth = PIPE_DEPTH;
			if (measure(sr, S_REDIS_PIPE, procs, &jr, cfg.pipe_ops,
				    cfg.slow_repeat, seed))
				status = 1;
		}
		if (!cfg.bpf)
			;
		else if (ba.fd < 0)
			skip_row(sr, S_BPF, procs, bpf_skip);
		else if (measure(sr, S_BPF, procs, &jp, cfg.bpf_ops,
				 cfg.slow_repeat, seed))
			status = 1;
		if (!cfg.bpf || ba.fd < 0)
			;
		else if (!bpf_has_batch)
			skip_row(sr, S_BPF_BATCH, procs,
				 "bpf(BPF_MAP_UPDATE_BATCH) not supported by this kernel");
		else if (measure(sr, S_BPF_BATCH, procs, &jq, cfg.bpf_ops,
				 cfg.slow_repeat, seed))
			status = 1;
	}

	/* Nothing lost: every add of libadict and of the mutex map counted. */
	sum = 0;
	cur = 0;
	while ((ret = adict_iter_next(aa.t, &cur, &k, &v)) > 0)
		sum += v;
	if (ret < 0 || sum != adds) {
		fprintf(stderr, "adict-bench-peers: libadict sum %llu, want %llu\n",
			(unsigned long long)sum, (unsigned long long)adds);
		status = 1;
	}
	if (slots_sum(mm.slots, mm.h->nslots) != mtx_adds) {
		fprintf(stderr, "adict-bench-peers: mutex_shm sum %llu, want %llu\n",
			(unsigned long long)slots_sum(mm.slots, mm.h->nslots),
			(unsigned long long)mtx_adds);
		status = 1;
	}
	if (slots_sum(sm.slots, sm.nslots) != spin_adds) {
		fprintf(stderr, "adict-bench-peers: spin_shm sum %llu, want %llu\n",
			(unsigned long long)slots_sum(sm.slots, sm.nslots),
			(unsigned long long)spin_adds);
		status = 1;
	}
	if (bar.fd >= 0 && bpf_array_sum(&bar) != bar_adds) {
		fprintf(stderr, "adict-bench-peers: bpf_array sum %llu, want %llu\n",
			(unsigned long long)bpf_array_sum(&bar),
			(unsigned long long)bar_adds);
		status = 1;
	}
	ret = 0;
out_bpf:
	if (ba.fd >= 0)
		close(ba.fd);
	bpf_array_destroy(&bar);
out_destroy_spin:
	munmap(sm.base, sm.bytes);
out_destroy_mtx:
	mtx_destroy(&mm);
out_unmap_floor:
	munmap(fa.arr, info.bytes);
out_close_table:
	adict_close(aa.t);
	return ret;
}

/* ---- targets and plot ------------------------------------------------------ */

static int shared_cpu;	/* a verdict came from workers sharing CPUs */

/*
 * One verdict.  @cw is the lowest cpu/wall of the CPU-bound rows compared;
 * with N processes below 0.75 N the workers mostly took turns on fewer
 * CPUs, and the verdict is starred: it is not a measurement of parallel
 * processes.
 */
static void target(const char *what, const char *issue, struct size_res *sr,
		   int procs, double measured, double want, int at_most,
		   double cw)
{
	int pass = at_most ? measured <= want : measured >= want;
	int star = procs > 1 && cw < 0.75 * procs;

	if (!measured || measured != measured || measured > 1e12)
		return;	/* a row was skipped: no verdict */
	shared_cpu |= star;
	note("%-32s %-5s %-6s %5d %10.2fx   %s %6.2fx   %s%s\n", what, issue,
	     sr->label, procs, measured, at_most ? "<=" : ">=", want,
	     pass ? "PASS" : "MISS", star ? "*" : "");
}

static double min2(double a, double b)
{
	return a < b ? a : b;
}

static void targets(void)
{
	int i, pi, p;

	note("\n# targets: libadict add (one key at a time) in this run; "
	     "speedup = peer ns/op / libadict add ns/op\n"
	     "%-32s %-5s %-6s %5s %11s   %9s   %s\n", "target", "issue", "size",
	     "procs", "measured", "want", "result");
	for (i = 0; i < nsizes; i++) {
		struct size_res *sr = &res[i];

		if (i && i != nsizes - 1)
			continue;	/* small and large only */
		for (pi = 0; pi < npcounts; pi++) {
			double *ns, a, *cw, ca;

			p = pcount[pi];
			ns = sr->ns[p];
			a = ns[S_ADD];
			cw = sr->cpu_wall[p];
			ca = cw[S_ADD];
			if (!a)
				continue;
			target("speedup vs redis incr", "8", sr, p,
			       ns[S_REDIS] / a, 100, 0, ca);
			target("speedup vs redis incr_pipe64", "8", sr, p,
			       ns[S_REDIS_PIPE] / a, 20, 0, ca);
			if (p < 2)
				;
			else {
				target("speedup vs mutex_shm", "8", sr, p,
				       ns[S_MUTEX] / a, 5, 0,
				       min2(ca, cw[S_MUTEX]));
				target("speedup vs spin_shm", "17", sr, p,
				       ns[S_SPIN] / a, 3, 0,
				       min2(ca, cw[S_SPIN]));
			}
			target("add / floor (flat array)", "8", sr, p,
			       a / ns[S_FLOOR], 1.3, 1, min2(ca, cw[S_FLOOR]));
		}
	}
	if (shared_cpu)
		note("* the workers had less than 0.75 CPU each (cpu/wall):\n"
		     "  the machine was busy, so this is not a parallel measurement\n");
}

/* Throughput against table size, one line per system and process count. */
static void plot(void)
{
	static const enum sys order[] = {
		S_FLOOR, S_ADD, S_ADD_BATCH, S_BPF_ARRAY, S_SPIN, S_MUTEX,
		S_REDIS_PIPE, S_BPF_BATCH, S_REDIS, S_BPF,
	};
	const int nord = sizeof(order) / sizeof(order[0]);
	char dat[PATH_MAX], gp[PATH_MAX], cmd[3 * PATH_MAX];
	size_t base = strlen(cfg.plot);
	const char *dot = strrchr(cfg.plot, '.');
	FILE *f;
	int i, p, pi, s, col, png;

	if (!in_path("gnuplot")) {
		note("# plot: gnuplot not found, no plot; install it with: apt-get install gnuplot-nox\n");
		return;
	}
	if (dot && !strchr(dot, '/'))
		base = dot - cfg.plot;
	snprintf(dat, sizeof(dat), "%.*s.dat", (int)base, cfg.plot);
	snprintf(gp, sizeof(gp), "%.*s.gp", (int)base, cfg.plot);
	f = fopen(dat, "w");
	if (!f) {
		note("# plot: %s: %s, no plot\n", dat, strerror(errno));
		return;
	}
	fprintf(f, "# table_bytes, then Mops/s for");
	for (pi = 0; pi < npcounts; pi++)
		for (s = 0; s < nord; s++)
			fprintf(f, " %s/%s/%dp", sys_name[order[s]],
				case_name[order[s]], pcount[pi]);
	fprintf(f, "\n");
	for (i = 0; i < nsizes; i++) {
		fprintf(f, "%llu", res[i].bytes);
		for (pi = 0; pi < npcounts; pi++)
			for (s = 0; s < nord; s++) {
				double ns = res[i].ns[pcount[pi]][order[s]];

				if (ns)
					fprintf(f, " %.6g", 1e3 / ns);
				else
					fprintf(f, " ?");
			}
		fprintf(f, "\n");
	}
	fclose(f);
	f = fopen(gp, "w");
	if (!f) {
		note("# plot: %s: %s, no plot\n", gp, strerror(errno));
		return;
	}
	png = dot && !strcmp(dot, ".png");
	fprintf(f, "%s\nset output '%s'\n"
		"set datafile missing '?'\n"
		"set termoption noenhanced\n"
		"set logscale x 2\n"
		"set logscale y 10\n"
		"set format x '%%g MiB'\n"
		"set format y '%%g'\n"
		"set xlabel 'table size (bytes, all systems the same footprint)'\n"
		"set ylabel 'Mops/s, all processes'\n"
		"set grid\n"
		"set key below horizontal maxcols 4\n"
		"set multiplot layout 1,%d title 'adict-bench-peers: random existing keys, table filled to capacity'\n",
		png ? "set terminal pngcairo size 1400,800 font 'sans,10'"
		    : "set terminal svg size 1400,800 dynamic font 'sans,11'",
		cfg.plot, npcounts);
	for (pi = 0; pi < npcounts; pi++) {
		p = pcount[pi];
		fprintf(f, "set title '%d process%s'\nplot ", p, p > 1 ? "es" : "");
		for (s = 0; s < nord; s++) {
			col = 2 + pi * nord + s;
			fprintf(f, "%s'%s' using ($1/1048576):%d with linespoints lw 2 title '%s %s'",
				s ? ", " : "", dat, col, sys_name[order[s]],
				case_name[order[s]]);
		}
		fprintf(f, "\n");
	}
	fprintf(f, "unset multiplot\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "gnuplot '%s'", gp);
	if (system(cmd))
		note("# plot: gnuplot failed on %s\n", gp);
	else
		note("# plot: %s (data %s)\n", cfg.plot, dat);
}

/* The 1, 5 and 15 minute load averages, for the record: this is noise. */
static void note_load(const char *when)
{
	char buf[64] = "?";
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	note("# load average at %s: %s\n", when, buf);
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void)
{
	printf("usage: adict-bench-peers [--json] [--quick] [--ops N] [--redis-ops N]\n"
	       "         [--pipe-ops N] [--bpf-ops N] [--repeat N] [--slow-repeat N]\n"
	       "         [--large-mb N] [--procs N] [--no-sweep] [--no-redis] [--no-bpf]\n"
	       "         [--plot FILE.svg|FILE.png | --no-plot]\n"
	       "libadict add against a flat atomic array (the floor), Redis INCR,\n"
	       "a mutex map and a striped-spinlock map in shared memory, and BPF\n"
	       "maps, on random existing keys, with 1, 2, 4, ... up to --procs\n"
	       "processes (default 2).  Documentation/bench.rst.\n");
}

int main(int argc, char **argv)
{
	enum { O_REDIS_OPS = 256, O_PIPE_OPS, O_BPF_OPS, O_SLOW, O_NOSWEEP,
	       O_NOREDIS, O_NOBPF, O_PLOT, O_NOPLOT, O_PROCS };
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "ops", required_argument, NULL, 'o' },
		{ "redis-ops", required_argument, NULL, O_REDIS_OPS },
		{ "pipe-ops", required_argument, NULL, O_PIPE_OPS },
		{ "bpf-ops", required_argument, NULL, O_BPF_OPS },
		{ "repeat", required_argument, NULL, 'r' },
		{ "slow-repeat", required_argument, NULL, O_SLOW },
		{ "large-mb", required_argument, NULL, 'l' },
		{ "no-sweep", no_argument, NULL, O_NOSWEEP },
		{ "no-redis", no_argument, NULL, O_NOREDIS },
		{ "no-bpf", no_argument, NULL, O_NOBPF },
		{ "procs", required_argument, NULL, O_PROCS },
		{ "plot", required_argument, NULL, O_PLOT },
		{ "no-plot", no_argument, NULL, O_NOPLOT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct sigaction sa = { .sa_handler = on_signal };
	double t_start = bench_now_ns();
	unsigned long long small;
	int c, i, plot_set = 0;
	long l2;

	while ((c = getopt_long(argc, argv, "jqo:r:l:h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': cfg.json = 1; break;
		case 'q': cfg.quick = 1; break;
		case 'o': cfg.ops = atol(optarg); break;
		case O_REDIS_OPS: cfg.redis_ops = atol(optarg); break;
		case O_PIPE_OPS: cfg.pipe_ops = atol(optarg); break;
		case O_BPF_OPS: cfg.bpf_ops = atol(optarg); break;
		case 'r': cfg.repeat = atoi(optarg); break;
		case O_SLOW: cfg.slow_repeat = atoi(optarg); break;
		case 'l': cfg.large = strtoull(optarg, NULL, 0) << 20; break;
		case O_NOSWEEP: cfg.sweep = 0; break;
		case O_NOREDIS: cfg.redis = 0; break;
		case O_NOBPF: cfg.bpf = 0; break;
		case O_PROCS: cfg.procs = atoi(optarg); break;
		case O_PLOT: cfg.plot = optarg; plot_set = 1; break;
		case O_NOPLOT: cfg.plot = NULL; plot_set = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (cfg.quick) {	/* a smoke run for the tests: a few seconds */
		cfg.ops = 20000;
		cfg.redis_ops = 1000;
		cfg.pipe_ops = 4000;
		cfg.bpf_ops = 1000;
		cfg.repeat = 1;
		cfg.slow_repeat = 1;
		cfg.large = 2ULL << 20;
		cfg.sweep = 0;
		if (!plot_set)
			cfg.plot = NULL;
	}
	if (cfg.ops < 1 || cfg.redis_ops < 1 || cfg.pipe_ops < 1 ||
	    cfg.bpf_ops < 1 || cfg.repeat < 1 || cfg.slow_repeat < 1 ||
	    cfg.large < (1ULL << 20) || cfg.procs < 1 ||
	    cfg.procs > BENCH_MAX_PROCS) {
		usage();
		return 2;
	}
	for (i = 1; i < cfg.procs && npcounts < MAX_PCOUNTS - 1; i *= 2)
		pcount[npcounts++] = i;
	pcount[npcounts++] = cfg.procs;
	main_pid = getpid();
	atexit(cleanup);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	ctl = bench_ctl_create();
	if (!ctl) {
		perror("adict-bench-peers: mmap");
		return 1;
	}

	/* small: half of L2 (VMs report odd sizes: keep it plausible) */
	l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
	if (l2 <= 0 || l2 > (4L << 20))
		l2 = 1L << 20;
	small = (unsigned long long)l2 / 2;
	res[nsizes++] = (struct size_res){ .label = "small", .bytes = small };
	if (cfg.sweep) {
		if (cfg.large / 16 > small)
			res[nsizes++] = (struct size_res){ .label = "sweep1",
							   .bytes = cfg.large / 16 };
		if (cfg.large / 4 > small)
			res[nsizes++] = (struct size_res){ .label = "sweep2",
							   .bytes = cfg.large / 4 };
	}
	if (cfg.large > small)
		res[nsizes++] = (struct size_res){ .label = "large", .bytes = cfg.large };

	redis_pin_init();
	if (cfg.redis)
		redis_start();
	if (!cfg.json) {
		printf("# adict-bench-peers: %ld CPUs, L2 %ld KiB; ops/process: %ld (floor, libadict, mutex_shm), "
		       "%ld (redis), %ld (redis pipelined), %ld (bpf)\n"
		       "# best of %d (redis, bpf: best of %d); ns/op = wall time / ops of all processes;"
		       " vs floor = ns/op / floor ns/op; speedup = ns/op / libadict add ns/op\n"
		       "# cpu/wall = CPU time of the workers / wall time (near procs when each had a CPU)\n"
		       "%-9s %-13s %-6s %8s %5s %10s %10s %10s %8s %10s\n",
		       sysconf(_SC_NPROCESSORS_ONLN), l2 >> 10, cfg.ops,
		       cfg.redis_ops, cfg.pipe_ops, cfg.bpf_ops, cfg.repeat,
		       cfg.slow_repeat, "system", "case", "size", "table",
		       "procs", "Mops/s", "ns/op", "vs floor", "cpu/wall", "speedup");
		fflush(stdout);
	}
	note_load("start");
	if (cfg.redis && redis_skip[0])
		note("# redis: skipped: %s\n", redis_skip);
	for (i = 0; i < nsizes; i++)
		if (bench_size(&res[i])) {
			status = 1;
			nsizes = i;
			break;
		}
	targets();
	if (cfg.plot)
		plot();
	cleanup();
	note_load("end");
	note("# adict-bench-peers: %.1f s in all\n", (bench_now_ns() - t_start) / 1e9);
	return status;
}
