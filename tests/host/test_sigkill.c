// SPDX-License-Identifier: MIT
/*
 * A worker killed with SIGKILL in the middle of a run (after its first
 * 1000 inserts, while the survivors run) leaves the table
 * consistent: the surviving workers' keys hold exact totals, no key appears
 * twice, every published key is findable, and `used` is the number of keys
 * less at most one that a victim published but had not yet counted.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "adict.h"
#include "testutil.h"
#include "../selftests/race.h"

#define SURVIVORS	4
#define OPS		30000
#define KEYS		4000

static struct adict *t;
static struct race *race;	/* mark 0: the victim has made 1000 inserts */

/* Survivors share keys 1..KEYS; the victim inserts fresh keys forever. */
static void survivor(int id)
{
	__u64 seed = id + 1, i;
	int bad = 0;

	for (i = 0; i < OPS; i++)
		bad |= adict_add(t, 1 + tu_rand(&seed) % KEYS, 1, NULL) != 0;
	_exit(bad);
}

static void victim(void)
{
	__u64 k = 1ULL << 40, n = 0;

	for (;;) {
		if (adict_insert(t, k) < 0)
			k = 1ULL << 40;	/* table full: keep hammering */
		adict_add(t, 1 + k % KEYS + (1ULL << 50), 1, NULL);
		k++;
		if (++n == 1000)
			race_mark(race, 0);
	}
}

static void sigkill_mid_run_should_leave_table_consistent(void)
{
	static __u64 want[KEYS + 1];
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD };
	__u64 cur = 0, k, v = 0, n = 0, used, cnt = 0, i, victims = 0;
	int w, status, bad = 0, round;
	pid_t vpid;

	CHECK_EQ(0, adict_create(&t, 50000, &o));
	for (i = 1; i <= KEYS; i++)	/* survivors never meet a full table */
		bad |= adict_insert(t, i) != 1;
	for (round = 0; round < 5; round++) {
		race_free(race);
		race = race_new(1);
		CHECK(race != NULL);
		if (!race)
			break;
		vpid = fork();
		if (vpid == 0)
			victim();
		for (w = 0; w < SURVIVORS; w++)
			if (fork() == 0)
				survivor(w + round * SURVIVORS);
		/* kill it in the middle of its work, never before it began */
		CHECK(race_marked(race, 0));
		kill(vpid, SIGKILL);
		CHECK(waitpid(vpid, &status, 0) == vpid);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		for (w = 0; w < SURVIVORS; w++) {
			wait(&status);
			bad |= !WIFEXITED(status) || WEXITSTATUS(status);
		}
	}
	CHECK_EQ(0, bad);

	for (round = 0; round < 5; round++)
		for (w = 0; w < SURVIVORS; w++) {
			__u64 seed = w + round * SURVIVORS + 1;

			for (i = 0; i < OPS; i++)
				want[1 + tu_rand(&seed) % KEYS]++;
		}
	for (i = 1; i <= KEYS; i++)
		bad |= adict_find(t, i, &v) != 0 || v != want[i];
	CHECK_EQ(0, bad);	/* survivors' totals are exact */

	while (adict_iter_next(t, &cur, &k, &v) == 1) {
		__u64 *p;

		bad |= adict_handle(t, k, &p) != 0;	/* findable, not re-inserted */
		victims += k >= (1ULL << 40);
		n++;
	}
	CHECK_EQ(0, bad);
	CHECK(victims >= 1000);	/* what the victims did is there */
	CHECK_EQ(0, adict_recount(t, &cnt));
	CHECK_EQ(n, cnt);
	used = t->core.kused[0];
	/* a victim killed between publishing and counting: one short each */
	CHECK(used <= cnt && cnt - used <= 5);
	adict_close(t);
}

int main(void)
{
	RUN(sigkill_mid_run_should_leave_table_consistent);
	return tu_done();
}
