// SPDX-License-Identifier: MIT
/*
 * Every interleaving of the multi-word insert protocol, on the real core.
 *
 * The core (adict/core.h) is compiled here with ADICT_A_STEP() defined: the
 * atomics shim calls it before every access to shared memory, and it
 * switches back to a scheduler (coroutines, one OS thread).  The
 * scheduler runs two or three inserters (and lookups) of two- and
 * three-word keys and, by depth-first search over its choices with replay
 * from an empty table, enumerates every order of their atomic steps; in the
 * runs with a death, one process may also stop for ever before any of its
 * steps.  After each run it checks what Documentation/format.rst proves:
 *
 *   - each key that an inserter completed is in exactly one row, the row its
 *     inserter(s) returned; no two rows hold the same complete key;
 *   - exactly one inserter of each key reported it new; `used` counts the
 *     complete keys;
 *   - a concurrent lookup returned either "absent" while the key was not yet
 *     complete, or the key's final row after it was complete;
 *   - afterwards, sequentially: every key (the dead process's too) is found
 *     or inserted into exactly one row, and a key never inserted is absent;
 *     at most one row per death is left written in part.
 *
 * The used counter is not a scheduling point: with room to spare its value
 * decides nothing, and an atomic add commutes with every other step.
 */

#include <linux/types.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

static void interleave_step(const void *p);
#define ADICT_A_STEP(p)	interleave_step(p)
#define ADICT_GENERIC_SCAN 1
#include <adict/core.h>

#include "testutil.h"

#define MAXTH		3
#define STACK_BYTES	(256 * 1024)
#define MAXDEPTH	4096
#define TABLE_CAP	16

enum role { INSERT, FIND };

struct thread {
	enum role role;
	const __u64 *key;
	ucontext_t ctx;
	char *stack;
	void *sp;		/* its saved stack pointer (coro_switch()) */
	bool started, done, dead;
	int ret;
	void *val;
	long first_step, last_step;	/* global step numbers (lookups) */
};

static struct {
	struct adict_core c;
	struct adict_table_header h;
	unsigned char *mem;
	struct thread th[MAXTH];
	int nth;
	int cur;			/* running thread, -1: scheduler */
	ucontext_t sched;
	void *sched_sp;
	long step;			/* global step counter of this run */
	/* the DFS stack: choice at each depth and number of options */
	int choice[MAXDEPTH], nopt[MAXDEPTH], depth, known;
	bool allow_death;
	long runs;
	bool two_only;			/* --two: no three-thread scenario */
	long complete_at[MAXTH];	/* step at which th[i]'s key completed */
} S;

/*
 * Coroutine switches.  swapcontext() saves and restores the signal mask, a
 * system call at every switch: two per step, which made this test spend
 * most of its time in the kernel.  On x86-64 the switch is instead a few
 * instructions that save the callee-saved registers on the old stack and
 * load them from the new one.  Under ASan (which must be told of stack
 * switches, and knows swapcontext()) and on other architectures, ucontext.
 */
static void thread_main(int i);

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
void coro_switch(void **save_sp, void *sp) __attribute__((visibility("hidden")));
void coro_entry(void) __attribute__((visibility("hidden")));
__asm__(".text\n"
	".globl coro_switch\n\t.hidden coro_switch\n\t.type coro_switch, @function\n"
	"coro_switch:\n\t"
	"pushq %rbp\n\tpushq %rbx\n\tpushq %r12\n\t"
	"pushq %r13\n\tpushq %r14\n\tpushq %r15\n\t"
	"movq %rsp, (%rdi)\n\t"
	"movq %rsi, %rsp\n\t"
	"popq %r15\n\tpopq %r14\n\tpopq %r13\n\t"
	"popq %r12\n\tpopq %rbx\n\tpopq %rbp\n\t"
	"ret\n\t"
	".size coro_switch, .-coro_switch\n"
	/* a new coroutine's first return lands here: %rbx index, %r12 entry */
	".globl coro_entry\n\t.hidden coro_entry\n\t.type coro_entry, @function\n"
	"coro_entry:\n\t"
	"movl %ebx, %edi\n\t"
	"callq *%r12\n\t"
	"ud2\n\t"
	".size coro_entry, .-coro_entry\n");

/* Runs thread @i's body, then leaves its stack for good. */
static void coro_main(int i)
{
	thread_main(i);
	coro_switch(&S.th[i].sp, S.sched_sp);
}

/*
 * The stack of a coroutine not yet run: the six registers coro_switch()
 * pops, then coro_entry as its return address, 8 bytes below a 16-byte
 * boundary, so that coro_entry's call meets the ABI's alignment.
 */
static void thread_start(struct thread *t, int i)
{
	void **sp = (void **)(((__UINTPTR_TYPE__)t->stack + STACK_BYTES) & ~(__UINTPTR_TYPE__)15);

	*--sp = (void *)coro_entry;
	*--sp = NULL;				/* %rbp */
	*--sp = (void *)(long)i;		/* %rbx */
	*--sp = (void *)coro_main;		/* %r12 */
	*--sp = NULL;				/* %r13 */
	*--sp = NULL;				/* %r14 */
	*--sp = NULL;				/* %r15 */
	t->sp = sp;
}

static void to_thread(struct thread *t)
{
	coro_switch(&S.sched_sp, t->sp);
}

static void to_scheduler(struct thread *t)
{
	coro_switch(&t->sp, S.sched_sp);
}
#else
static void thread_start(struct thread *t, int i)
{
	getcontext(&t->ctx);
	t->ctx.uc_stack.ss_sp = t->stack;
	t->ctx.uc_stack.ss_size = STACK_BYTES;
	t->ctx.uc_link = &S.sched;
	makecontext(&t->ctx, (void (*)(void))thread_main, 1, i);
}

static void to_thread(struct thread *t)
{
	swapcontext(&S.sched, &t->ctx);
}

static void to_scheduler(struct thread *t)
{
	swapcontext(&t->ctx, &S.sched);
}
#endif

static void interleave_step(const void *p)
{
	struct thread *t;

	if (S.cur < 0 || p == (const void *)S.c.kused)
		return;	/* setup and checks run unscheduled; see above */
	t = &S.th[S.cur];
	to_scheduler(t);
	/* resumed by the scheduler: this thread's next step runs now */
	if (t->first_step < 0)
		t->first_step = S.step;
	t->last_step = S.step;
}

static void thread_main(int i)
{
	struct thread *t = &S.th[i];

	t->ret = adict_core_klookup(&S.c, t->key, t->role == INSERT, &t->val);
	t->done = true;
	S.cur = -1;
}

static void table_init(unsigned int k64, unsigned int k32, unsigned int vb)
{
	static const __u64 seed[2] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };
	struct adict_layout l;

	if (!adict_layout_init(&l, k64, k32, vb) ||
	    !adict_header_init(&S.h, TABLE_CAP, 0, &l, seed))
		abort();
	free(S.mem);
	S.mem = aligned_alloc(4096, S.h.map_bytes);
	if (!S.mem)
		abort();
	memset(S.mem, 0, S.h.map_bytes);
	adict_core_init(&S.c, &S.h, S.mem + ADICT_HEADER_BYTES);
}

/* Is the key of @key complete in row @r of bucket @b? */
static bool row_holds(__u64 b, __u32 r, const __u64 *key)
{
	__u64 k[ADICT_KEY_WORDS_MAX];
	__u32 w, n = S.c.layout.key64 + S.c.layout.key32;

	if (!adict_core_row_key(&S.c, b, r, k))
		return false;
	for (w = 0; w < n; w++)
		if (k[w] != key[w])
			return false;
	return true;
}

/* Rows holding @key completely; *where gets the last one. */
static int rows_holding(const __u64 *key, void **where)
{
	__u64 b;
	__u32 r;
	int n = 0;

	for (b = 1; b < S.c.nbuckets; b++)
		for (r = 0; r < S.c.layout.rows; r++)
			if (row_holds(b, r, key)) {
				n++;
				*where = adict_core_row(&S.c, b, r) +
					 S.c.layout.value_offset;
			}
	return n;
}

/* Rows whose first word is set but that hold no complete key. */
static int partial_rows(void)
{
	__u64 b, k[ADICT_KEY_WORDS_MAX];
	__u32 r;
	int n = 0;

	for (b = 1; b < S.c.nbuckets; b++)
		for (r = 0; r < S.c.layout.rows; r++)
			n += adict_core_row_load(&S.c.layout,
						 adict_core_row(&S.c, b, r), 0) &&
			     !adict_core_row_key(&S.c, b, r, k);
	return n;
}

/*
 * After each step: note which keys just became complete.  Only the few
 * buckets from each key's home are scanned (every scenario's keys fit in
 * them); check_run() scans the whole table.
 */
static void note_completions(void)
{
	__u64 b, home;
	__u32 r;
	int i, j;

	for (i = 0; i < S.nth; i++) {
		if (S.complete_at[i] >= 0)
			continue;
		home = adict_khome_bucket(&S.c, S.th[i].key);
		for (j = 0, b = home; j < 4; j++, b = b + 1 == S.c.nbuckets ? 1 : b + 1)
			for (r = 0; r < S.c.layout.rows; r++)
				if (row_holds(b, r, S.th[i].key))
					S.complete_at[i] = S.step;
	}
}

static int failures;

#define EXPECT(cond, ...) do {						\
	if (!(cond)) {							\
		if (failures++ < 5) {					\
			printf("#   run %ld: %s: ", S.runs, #cond);	\
			printf(__VA_ARGS__);				\
			printf("\n");					\
		}							\
		tu_failed_now = 1;					\
	}								\
} while (0)

/* One run, following S.choice[] as far as it is known, then choice 0. */
static void run_once(const enum role *roles, const __u64 *const *keys, int n)
{
	int i, live, d;

	memset(S.mem + ADICT_HEADER_BYTES, 0, S.h.data_bytes);
	S.nth = n;
	S.step = 0;
	S.depth = 0;
	for (i = 0; i < n; i++) {
		struct thread *t = &S.th[i];

		t->role = roles[i];
		t->key = keys[i];
		t->done = t->dead = false;
		t->first_step = t->last_step = -1;
		t->ret = -1000;
		S.complete_at[i] = -1;
		thread_start(t, i);
		/* up to its first shared access: local work only */
		S.cur = i;
		to_thread(t);
		S.cur = -1;
	}
	for (;;) {
		int opts[2 * MAXTH], nopt = 0, pick;
		bool died = false;

		for (i = 0; i < n; i++)
			died |= S.th[i].dead;
		for (i = 0; i < n; i++)
			if (!S.th[i].done && !S.th[i].dead)
				opts[nopt++] = i;
		live = nopt;
		if (!live)
			break;
		if (S.allow_death && !died)
			for (i = 0; i < n; i++)
				if (!S.th[i].done && S.th[i].role == INSERT)
					opts[nopt++] = MAXTH + i;	/* kill i */
		d = S.depth++;
		if (d >= MAXDEPTH) {
			printf("#   run %ld: more than %d steps\n", S.runs, MAXDEPTH);
			exit(1);
		}
		if (d < S.known) {
			pick = S.choice[d];
		} else {
			S.choice[d] = 0;
			S.nopt[d] = nopt;
			S.known = d + 1;
			pick = 0;
		}
		if (opts[pick] >= MAXTH) {
			S.th[opts[pick] - MAXTH].dead = true;
			continue;
		}
		S.step++;
		S.cur = opts[pick];
		to_thread(&S.th[S.cur]);
		S.cur = -1;
		note_completions();
	}
	S.known = S.depth;
}

/* Advance the DFS; false when every interleaving has been run. */
static bool next_schedule(void)
{
	while (S.known > 0 && S.choice[S.known - 1] + 1 >= S.nopt[S.known - 1])
		S.known--;
	if (!S.known)
		return false;
	S.choice[S.known - 1]++;
	return true;
}

static void check_run(int n, int nkeys_distinct)
{
	__u64 used = *S.c.kused, complete = 0, fresh;
	int i, j, news[MAXTH] = { 0 }, dead = 0;
	void *where;

	for (i = 0; i < n; i++) {
		struct thread *t = &S.th[i];
		int rows = rows_holding(t->key, &where);

		dead += t->dead;
		if (t->dead)
			continue;
		if (t->role == INSERT) {
			EXPECT(t->ret == 0 || t->ret == 1, "ret %d", t->ret);
			EXPECT(rows == 1, "inserter %d: key in %d rows", i, rows);
			EXPECT(t->val == where, "inserter %d: returned another row", i);
		} else if (t->ret == 0) {
			/* found: complete before its last step; the final row */
			EXPECT(rows == 1 && t->val == where,
			       "lookup %d: found a row that is not the key's", i);
			EXPECT(S.complete_at[i] >= 0 &&
			       S.complete_at[i] <= t->last_step,
			       "lookup %d: found before complete", i);
		} else {
			/* absent: the key was incomplete at some step of it */
			EXPECT(t->ret == -ENOENT, "lookup ret %d", t->ret);
			EXPECT(S.complete_at[i] < 0 ||
			       S.complete_at[i] > t->first_step,
			       "lookup %d: absent after the key completed", i);
		}
	}
	/* exactly one inserter reports each completed key new */
	for (i = 0; i < n; i++) {
		if (S.th[i].role != INSERT || S.th[i].dead)
			continue;
		for (j = 0; j < n; j++)
			if (S.th[j].role == INSERT && !S.th[j].dead &&
			    S.th[j].key == S.th[i].key)
				news[i] += S.th[j].ret == 1;
	}
	for (i = 0; i < n; i++)
		if (S.th[i].role == INSERT && !S.th[i].dead) {
			bool other_dead_same = false;

			for (j = 0; j < n; j++)
				other_dead_same |= S.th[j].dead &&
						   S.th[j].key == S.th[i].key;
			/* a dead racer may have written the last word */
			EXPECT(news[i] == 1 || (other_dead_same && news[i] == 0),
			       "key of %d reported new %d times", i, news[i]);
		}
	complete = adict_core_count(&S.c);
	EXPECT(used <= complete && complete - used <= (__u64)dead,
	       "used %llu, complete rows %llu", (unsigned long long)used,
	       (unsigned long long)complete);
	EXPECT(partial_rows() <= dead, "%d part-written rows, %d deaths",
	       partial_rows(), dead);
	/* afterwards, one process at a time: every key in exactly one row */
	for (i = 0; i < n; i++) {
		void *v;
		int ret = adict_core_klookup(&S.c, S.th[i].key, true, &v);

		EXPECT(ret >= 0, "sequential insert: %d", ret);
		EXPECT(rows_holding(S.th[i].key, &where) == 1 && v == where,
		       "sequential insert of key %d: not exactly one row", i);
	}
	EXPECT(adict_core_count(&S.c) == (__u64)nkeys_distinct,
	       "%llu complete keys, want %d",
	       (unsigned long long)adict_core_count(&S.c), nkeys_distinct);
	{
		static const __u64 never[3] = { 0x777, 0x778, 0x779 };
		void *v;

		fresh = adict_core_klookup(&S.c, never, false, &v);
		EXPECT((int)fresh == -ENOENT, "absent key: %d", (int)fresh);
	}
}

static long explore(const enum role *roles, const __u64 *const *keys, int n,
		    int nkeys_distinct, bool deaths)
{
	long runs = 0;

	S.allow_death = deaths;
	S.known = 0;
	failures = 0;
	do {
		S.runs = runs;
		run_once(roles, keys, n);
		check_run(n, nkeys_distinct);
		runs++;
	} while (next_schedule() && failures < 5);
	printf("#   %ld interleavings\n", runs);
	return runs;
}

/*
 * Keys for a table of @k64/@k32 words: same key, same first word with
 * another second word, and a different first word sharing the home bucket.
 */
static __u64 K_same[3], K_prefix[3], K_other[3], K_third[3];

static void pick_keys(void)
{
	unsigned int n = S.c.layout.key64 + S.c.layout.key32, w;
	__u64 home, x;

	for (w = 0; w < n; w++)
		K_same[w] = K_prefix[w] = 0x10 + w;
	K_prefix[n - 1] = 0x99;
	home = adict_khome_bucket(&S.c, K_same);
	/* a key with another first word and the same home bucket */
	for (x = 0x1000;; x++) {
		K_other[0] = x;
		for (w = 1; w < n; w++)
			K_other[w] = 0x10 + w;
		if (adict_khome_bucket(&S.c, K_other) == home)
			break;
	}
	for (x++;; x++) {
		K_third[0] = x;
		for (w = 1; w < n; w++)
			K_third[w] = 0x55;
		if (adict_khome_bucket(&S.c, K_third) == home)
			break;
	}
}

static void scenarios(unsigned int k64, unsigned int k32, unsigned int vb,
		      bool three)
{
	static const enum role ii[] = { INSERT, INSERT, INSERT };
	static const enum role iif[] = { INSERT, INSERT, FIND };
	long total = 0;

	table_init(k64, k32, vb);
	pick_keys();
	{	/* two inserters of the same key, with deaths */
		const __u64 *k[] = { K_same, K_same };

		total += explore(ii, k, 2, 1, true);
	}
	{	/* same prefix, different last word, with deaths */
		const __u64 *k[] = { K_same, K_prefix };

		total += explore(ii, k, 2, 2, true);
	}
	{	/* different first words, one home bucket, with deaths */
		const __u64 *k[] = { K_same, K_other };

		total += explore(ii, k, 2, 2, true);
	}
	if (S.two_only) {
		printf("#   --two: the three-thread scenarios are left out\n");
		three = false;
	} else if (k64 + k32 <= 2) {	/* two inserters of a key and a lookup */
		const __u64 *k[] = { K_same, K_same, K_same };

		total += explore(iif, k, 3, 1, false);
	}
	if (three) {
		const __u64 *k1[] = { K_same, K_same, K_same };
		const __u64 *k2[] = { K_same, K_prefix, K_other };
		const __u64 *k3[] = { K_same, K_same, K_prefix };

		total += explore(ii, k1, 3, 1, false);
		total += explore(ii, k2, 3, 3, false);
		total += explore(ii, k3, 3, 2, false);
	}
	printf("#   %ld interleavings in all\n", total);
}

static void two_u64_words_every_interleaving_should_leave_each_key_in_one_row(void)
{
	scenarios(2, 0, 8, true);
}

static void u64_u32_words_every_interleaving_should_leave_each_key_in_one_row(void)
{
	scenarios(1, 1, 4, false);
}

static void three_words_every_interleaving_should_leave_each_key_in_one_row(void)
{
	scenarios(1, 2, 0, false);
}

/*
 * --two: only the scenarios of two inserters (the ASan+UBSan build runs
 * these: tests/run-host.sh).
 */
int main(int argc, char **argv)
{
	int i;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--two"))) {
		fprintf(stderr, "usage: %s [--two]\n", argv[0]);
		return 2;
	}
	S.two_only = argc == 2;

	for (i = 0; i < MAXTH; i++) {
		S.th[i].stack = malloc(STACK_BYTES);
		if (!S.th[i].stack)
			return 1;
	}
	S.cur = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(two_u64_words_every_interleaving_should_leave_each_key_in_one_row);
	RUN(u64_u32_words_every_interleaving_should_leave_each_key_in_one_row);
	RUN(three_words_every_interleaving_should_leave_each_key_in_one_row);
	for (i = 0; i < MAXTH; i++)
		free(S.th[i].stack);
	free(S.mem);
	return tu_done();
}
