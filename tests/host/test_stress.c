// SPDX-License-Identifier: MIT
/*
 * Multi-process and multi-thread stress, checking exact invariants:
 *  - the original README's pattern: idx = add(1, 1); store(100 + idx, id),
 *    so key 1 ends at the total and keys 100 .. 100+total-1 all exist;
 *  - random-key traffic on a shared key range, whose totals the parent
 *    recomputes by replaying each worker's seed;
 *  - iteration then sees every key exactly once and `used` is exact.
 * The thread variant runs the same workers as threads, for TSan.  The
 * workers of each case start together and provably overlap (race.h: none
 * makes its second operation before all made their first; one that waited
 * 60 s for the others fails the case).  With ADICT_TEST_DEVICE=1 (the VM)
 * every case runs on device tables, and adict_tuple_kbatch() is checked
 * there (it has no memfd path: that case skips on the host).
 */
#include <pthread.h>
#include <unistd.h>
#include <sys/wait.h>

#include "adict.h"
#include "testutil.h"
#include "../selftests/race.h"

#define WORKERS		8
#define ITERS		20000
#define RKEYS		5000
#define RBASE		1000000000ULL
#define RANDOPS		20000

static struct adict *t;
static struct race *race;
static int worker_bad;

/* The backend every table of these tests lives on. */
static int backend(void)
{
	return getenv("ADICT_TEST_DEVICE") ? ADICT_BACKEND_DEVICE : ADICT_BACKEND_MEMFD;
}

/* Wait at the start line for race_go(): 0, or 1 after 60 s without it. */
static int race_start(void)
{
	return race_wait_go(race) ? 0 : 1;
}

static __u64 rkey(__u64 *seed)
{
	return RBASE + tu_rand(seed) % RKEYS;
}

static int work(int id)
{
	__u64 i, idx, seed = 0x9e3779b97f4a7c15ULL * (id + 1);
	int bad = race_start();

	for (i = 0; i < ITERS && !bad; i++) {
		bad |= adict_add(t, 1, 1, &idx) != 0;
		bad |= adict_store(t, 100 + idx, id) != 0;
		if (i == 0 && !race_arrive(race)) {
			printf("#   worker %d: the others never started\n", id);
			bad = 1;
		}
	}
	for (i = 0; i < RANDOPS; i++)
		bad |= adict_add(t, rkey(&seed), id + 1, NULL) != 0;
	return bad;
}

static void *thread_main(void *arg)
{
	if (work((int)(long)arg))
		__atomic_store_n(&worker_bad, 1, __ATOMIC_RELAXED);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* Check every invariant of a finished run. */
static void verify(void)
{
	static __u64 want[RKEYS];
	__u64 total = (__u64)WORKERS * ITERS, i, v = 0, k, cur = 0, n = 0, cnt = 0;
	__u64 distinct = 1 + total, *keys;
	int w, bad = 0;

	CHECK_EQ(0, adict_find(t, 1, &v));
	CHECK_EQ(total, v);
	for (i = 0; i < total; i++) {
		bad |= adict_find(t, 100 + i, &v) != 0;
		bad |= v >= WORKERS;
	}
	CHECK_EQ(0, bad);
	memset(want, 0, sizeof(want));
	for (w = 0; w < WORKERS; w++) {
		__u64 seed = 0x9e3779b97f4a7c15ULL * (w + 1);

		for (i = 0; i < RANDOPS; i++)
			want[rkey(&seed) - RBASE] += w + 1;
	}
	for (i = 0; i < RKEYS; i++) {
		if (!want[i]) {
			bad |= adict_find(t, RBASE + i, &v) != -ENOENT;
			continue;
		}
		distinct++;
		bad |= adict_find(t, RBASE + i, &v) != 0 || v != want[i];
	}
	CHECK_EQ(0, bad);

	keys = malloc(sizeof(*keys) * distinct * 2);
	while (adict_iter_next(t, &cur, &k, &v) == 1 && n < distinct * 2)
		keys[n++] = k;
	CHECK_EQ(distinct, n);
	qsort(keys, n, sizeof(*keys), cmp_u64);
	for (i = 1; i < n; i++)
		bad |= keys[i] == keys[i - 1];
	CHECK_EQ(0, bad);	/* no key twice */
	free(keys);
	CHECK_EQ(distinct, t->core.kused[0]);
	CHECK_EQ(0, adict_recount(t, &cnt));
	CHECK_EQ(distinct, cnt);
}

static void create_table(void)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = backend() };

	race_free(race);
	race = race_new(WORKERS);
	if (!race) {
		printf("# cannot map the race page\n");
		exit(1);
	}
	if (adict_create(&t, (__u64)WORKERS * ITERS + RKEYS + 1, &o)) {
		printf("# cannot create the table\n");
		exit(1);
	}
	if (adict_backend(t) != o.backend) {
		printf("# table on the %s backend, not %s\n",
		       adict_backend_name(adict_backend(t)),
		       adict_backend_name(o.backend));
		exit(1);
	}
}

static void forked_workers_should_produce_exact_totals(void)
{
	int w, status, bad = 0;

	create_table();
	for (w = 0; w < WORKERS; w++)
		if (fork() == 0)
			_exit(work(w));
	race_go(race);
	for (w = 0; w < WORKERS; w++) {
		wait(&status);
		bad |= !WIFEXITED(status) || WEXITSTATUS(status);
	}
	CHECK_EQ(0, bad);
	verify();
	adict_close(t);
}

/*
 * Every worker inserts the same keys, each in its own order: every key must
 * be reported new exactly once in total, and end up in exactly one slot.
 * A lookup that misses a key published concurrently into an earlier slot
 * of its bucket would publish it twice.
 */
#define SAME_KEYS	20000
#define SAME_ROUNDS	10

static void racing_inserts_of_the_same_keys_should_be_new_exactly_once(void)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = backend() };
	struct adict_opts bk = { .sz = sizeof(bk), .backend = ADICT_BACKEND_MEMFD };
	int w, status, bad = 0, round;
	struct adict *news;	/* key -> how many inserts reported it new */

	for (round = 0; round < SAME_ROUNDS && !bad; round++) {
		__u64 k, v = 0, cnt = 0;

		CHECK_EQ(0, adict_create(&t, SAME_KEYS, &o));
		CHECK_EQ(o.backend, adict_backend(t));
		CHECK_EQ(0, adict_create(&news, SAME_KEYS, &bk));
		race_free(race);
		race = race_new(WORKERS);
		CHECK(race != NULL);
		if (!race)
			break;
		for (w = 0; w < WORKERS; w++) {
			if (fork() == 0) {
				/* 7919 * odd is prime to SAME_KEYS: a permutation */
				__u64 i, step = 7919 * (2 * w + 1);

				if (race_start())
					_exit(3);
				for (i = 0; i < SAME_KEYS; i++) {
					__u64 key = 1 + (i * step + w * 13) % SAME_KEYS;
					int r = adict_insert(t, key);

					if (r < 0) {
						printf("#   insert %llu: %s\n",
						       (unsigned long long)key, strerror(-r));
						_exit(1);
					}
					if (r == 1)
						adict_add(news, key, 1, NULL);
					if (i == 0 && !race_arrive(race))
						_exit(3);
				}
				_exit(0);
			}
		}
		race_go(race);
		for (w = 0; w < WORKERS; w++) {
			wait(&status);
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				printf("#   round %d: a worker failed (status %#x)\n",
				       round, status);
				bad = 1;
			}
		}
		for (k = 1; k <= SAME_KEYS; k++) {
			if (adict_find(news, k, &v) || v != 1) {
				printf("#   round %d: key %llu reported new %llu times\n",
				       round, (unsigned long long)k, (unsigned long long)v);
				bad = 1;
				break;
			}
		}
		adict_recount(t, &cnt);
		if (t->core.kused[0] != SAME_KEYS || cnt != SAME_KEYS) {
			printf("#   round %d: used %llu, %llu keys in the table\n",
			       round, (unsigned long long)t->core.kused[0],
			       (unsigned long long)cnt);
			bad = 1;
		}
		adict_close(news);
		adict_close(t);
	}
	CHECK_EQ(0, bad);
}

/*
 * adict_tuple_kbatch() on a device table of 2+1-word keys and u32 values,
 * by the path it picks (io_uring where it is allowed; the path is printed)
 * and by ioctl (forced before first use): the workers add 1 to the same keys in
 * batches, each in its own order; every key ends at the exact total and
 * `used` is the key count.  Then, entry by entry: a zero key word and a
 * non-zero reserved field are -EINVAL, u32 values wrap.
 */
#define TK_KEYS		300
#define TK_ROUNDS	4
#define TK_BATCH	50

static void tk_key(__u64 i, __u64 *key)
{
	memset(key, 0, ADICT_KEY_WORDS_MAX * sizeof(*key));
	key[0] = i * 0x9e3779b97f4a7c15ULL | 1;
	key[1] = i;
	key[2] = (__u32)(i * 2654435761U) | 1;
}

static void tk_entry(struct adict_batch_kop *e, __u32 op, __u64 i, __u64 arg)
{
	memset(e, 0, sizeof(*e));
	e->op = op;
	e->arg1 = arg;
	tk_key(i, e->key);
}

static int tk_worker(struct adict *d, int w)
{
	struct adict_batch_kop e[TK_BATCH];
	int round, i, n = 0, j, ret;

	if (race_start())
		return 3;
	for (round = 0; round < TK_ROUNDS; round++) {
		for (i = 0; i < TK_KEYS; i++) {
			tk_entry(&e[n++], ADICT_OP_ADD,
				 1 + (i + w * TK_KEYS / WORKERS) % TK_KEYS, 1);
			if (n < TK_BATCH && i < TK_KEYS - 1)
				continue;
			ret = adict_tuple_kbatch(d, e, n);
			for (j = 0; j < n && ret == n; j++)
				if (e[j].status)
					ret = -1;
			if (ret != n) {
				printf("#   worker %d: batch gave %d of %d\n", w, ret, n);
				return 1;
			}
			n = 0;
			if (round == 0 && i == TK_BATCH - 1 && !race_arrive(race))
				return 3;
		}
	}
	return 0;
}

static void tuple_kernel_batches_should_give_exact_totals_on_both_paths(void)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = backend(),
				.key64 = 2, .key32 = 1, .value_bytes = 4 };
	static const char *const paths[] = { "picked", "ioctl" };
	struct adict_batch_kop e[4];
	__u64 key[ADICT_KEY_WORDS_MAX], v, k;
	int p, w, status, bad;

	if (o.backend != ADICT_BACKEND_DEVICE)
		SKIP_TEST("device tables only (ADICT_TEST_DEVICE=1, the VM)");
	for (p = 0; p < 2; p++) {
		struct adict *d;

		bad = 0;
		CHECK_EQ(0, adict_create(&d, 2 * TK_KEYS, &o));
		if (tu_failed_now)
			return;
		/*
		 * Nothing may set up a ring here: forked children would share
		 * it.  Each child picks its own path on first use.
		 */
		if (p == 1)
			d->kbatch_path = ADICT_KBATCH_IOCTL;	/* before first use */
		race_free(race);
		race = race_new(WORKERS);
		CHECK(race != NULL);
		if (!race)
			return;
		for (w = 0; w < WORKERS; w++)
			if (fork() == 0)
				_exit(tk_worker(d, w));
		race_go(race);
		for (w = 0; w < WORKERS; w++) {
			wait(&status);
			bad |= !WIFEXITED(status) || WEXITSTATUS(status);
		}
		CHECK_EQ(0, bad);
		CHECK_EQ(TK_KEYS, d->core.kused[0]);
		for (k = 1; k <= TK_KEYS; k++) {
			tk_key(k, key);
			v = 0;
			if (adict_tuple_op(d, ADICT_OP_LOAD, key, 0, 0, &v) ||
			    v != WORKERS * TK_ROUNDS) {
				printf("#   %s: key %llu at %llu\n", paths[p],
				       (unsigned long long)k, (unsigned long long)v);
				bad = 1;
				break;
			}
		}
		CHECK_EQ(0, bad);

		/* entry by entry; a u32 value wraps */
		tk_entry(&e[0], ADICT_OP_ADD, TK_KEYS + 1, 0xffffffff);
		tk_entry(&e[1], ADICT_OP_ADD, TK_KEYS + 1, 2);
		tk_entry(&e[2], ADICT_OP_ADD, TK_KEYS + 2, 1);
		e[2].key[1] = 0;
		tk_entry(&e[3], ADICT_OP_ADD, TK_KEYS + 3, 1);
		e[3].reserved = 1;
		CHECK_EQ(2, adict_tuple_kbatch(d, e, 4));
		CHECK_EQ(0, e[0].result);
		CHECK_EQ(0xffffffffULL, e[1].result);
		CHECK_EQ(-EINVAL, e[2].status);
		CHECK_EQ(-EINVAL, e[3].status);
		CHECK_EQ(TK_KEYS + 1, d->core.kused[0]);
		printf("#   %s forced: %s\n", p ? "ioctl" : "nothing",
		       adict_kbatch_path(d));
		CHECK(p == 0 || !strcmp(paths[1], adict_kbatch_path(d)));
		adict_close(d);
	}
}

static void threads_should_produce_exact_totals(void)
{
	pthread_t th[WORKERS];
	long w;

	create_table();
	worker_bad = 0;
	for (w = 0; w < WORKERS; w++)
		CHECK_EQ(0, pthread_create(&th[w], NULL, thread_main, (void *)w));
	race_go(race);
	for (w = 0; w < WORKERS; w++)
		pthread_join(th[w], NULL);
	CHECK_EQ(0, worker_bad);
	verify();
	adict_close(t);
}

int main(int argc, char **argv)
{
	/* TSan cannot see other processes; it runs the thread case only. */
	if (argc < 2 || strcmp(argv[1], "--threads-only"))
		RUN(forked_workers_should_produce_exact_totals);
	if (argc < 2 || strcmp(argv[1], "--threads-only"))
		RUN(racing_inserts_of_the_same_keys_should_be_new_exactly_once);
	if (argc < 2 || strcmp(argv[1], "--threads-only"))
		RUN(tuple_kernel_batches_should_give_exact_totals_on_both_paths);
	RUN(threads_should_produce_exact_totals);
	return tu_done();
}
