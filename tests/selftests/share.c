// SPDX-License-Identifier: MIT
/*
 * Sharing a table between processes.
 *
 * What it proves:
 *  - two unrelated processes (separate programs exec'd on their own, which
 *    open the table by name) updating the same keys, through the mapping,
 *    through ADICT_IOC_OP, or one each, lose no update: exact totals;
 *  - forked children share the parent's mapping and fd, also after the
 *    parent closed its fd: exact totals;
 *  - unlinking a table while processes hammer it (each has made its first
 *    add before the unlink and makes half of its adds after it) changes
 *    nothing for them (exact totals), only the name goes;
 *  - the racing workers of each case start together and provably overlap
 *    (race.h: none makes its second operation before all made their
 *    first);
 *  - SIGKILL in the middle of operations leaves a consistent table: every
 *    key once and no key lost, `used` equal to the keys (ioctl path) or at
 *    most one short per killed mapping user (killed between publishing a
 *    key and counting it), values as the operations left them, and the
 *    table fully usable afterwards.
 */
#include <time.h>
#include "adict_test.h"
#include "adict_harness.h"
#include "race.h"

FIXTURE(unrelated) {
	char name[64];
	int fd;
};

FIXTURE_VARIANT(unrelated) {
	const char *how[2];
	unsigned int iters;
};

FIXTURE_VARIANT_ADD(unrelated, both_map) {
	.how = { "map", "map" }, .iters = 200000,
};
FIXTURE_VARIANT_ADD(unrelated, both_ioctl) {
	.how = { "ioctl", "ioctl" }, .iters = 19200,
};
FIXTURE_VARIANT_ADD(unrelated, map_and_ioctl) {
	.how = { "map", "ioctl" }, .iters = 19200,
};

FIXTURE_SETUP(unrelated)
{
	tname(self->name, sizeof(self->name), "unrel");
	self->fd = table_new(1000, self->name, 0600);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(unrelated)
{
	ioc_unlink(self->fd, self->name);
	close(self->fd);
}

#define NKEYS 64

TEST_F_TIMEOUT(unrelated, exact_totals, 300)
{
	char iters[32], nkeys[32], rpath[96];
	struct adict_info info;
	struct race *race;
	pid_t pid[2];
	__u64 k, r;
	int i;

	snprintf(iters, sizeof(iters), "%u", variant->iters);
	snprintf(nkeys, sizeof(nkeys), "%u", NKEYS);
	/* The two workers start together and overlap (race.h). */
	snprintf(rpath, sizeof(rpath), "/tmp/%s.race", self->name);
	race = race_create(rpath, 2);
	ASSERT_NE(NULL, race);
	ASSERT_EQ(0, setenv("ADICT_RACE", rpath, 1));
	for (i = 0; i < 2; i++) {
		char *argv[] = { "adict-worker", "add", self->name, iters,
				 nkeys, (char *)variant->how[i], NULL };

		pid[i] = spawn_helper(argv);
		ASSERT_LT(0, pid[i]);
	}
	unsetenv("ADICT_RACE");
	race_go(race);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, wait_exit(pid[i]));
	race_free(race);
	unlink(rpath);
	for (k = 1; k <= NKEYS; k++) {
		ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, k, 0, 0, &r));
		ASSERT_EQ(2 * variant->iters / NKEYS, r) TH_LOG("key %llu", (unsigned long long)k);
	}
	ASSERT_EQ(0, ioc_info(self->fd, &info));
	EXPECT_EQ(NKEYS, info.used);
	EXPECT_EQ(1, info.users);
}

/*
 * Children add 1 to keys 1..NKEYS, iters times, through @m or ioctl.  They
 * start together at @race's go and overlap (race.h).  With @mid_mark >= 0 a
 * child stops half way until the parent sets that mark, so half of its
 * operations come after whatever the parent did first.  Exit status: 0, 1
 * (an operation failed), 3 (no overlap, or the mark never came).
 */
static void hammer(struct mtable *m, int fd, unsigned int iters, bool use_ioctl,
		   struct race *race, int mid_mark)
{
	unsigned int i;
	__u64 r;

	if (!race_wait_go(race))
		_exit(3);
	for (i = 0; i < iters; i++) {
		if (use_ioctl ? ioc_op(fd, ADICT_OP_ADD, 1 + i % NKEYS, 1, 0, &r)
			      : mop(m, ADICT_OP_ADD, 1 + i % NKEYS, 1, 0, &r))
			_exit(1);
		if (i == 0 && !race_arrive(race))
			_exit(3);
		if (mid_mark >= 0 && i == iters / 2 && !race_marked(race, mid_mark))
			_exit(3);
	}
	_exit(0);
}

FIXTURE(forked) {
	int fd;
	struct mtable m;
};

FIXTURE_VARIANT(forked) {
	bool close_before_fork;
	bool use_ioctl;
};

FIXTURE_VARIANT_ADD(forked, mapping) { .close_before_fork = false };
FIXTURE_VARIANT_ADD(forked, mapping_fd_closed) { .close_before_fork = true };
FIXTURE_VARIANT_ADD(forked, inherited_fd_ioctl) { .use_ioctl = true };

FIXTURE_SETUP(forked)
{
	self->fd = table_new(1000, NULL, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, mtable_map(&self->m, self->fd, PROT_READ | PROT_WRITE));
}

FIXTURE_TEARDOWN(forked)
{
	mtable_unmap(&self->m);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(forked, children_share_exact_totals, 300)
{
	unsigned int iters = variant->use_ioctl ? 8000 : 102400;	/* NKEYS * n */
	struct race *race = race_new(4);
	pid_t pid[4];
	__u64 k;
	int i;

	ASSERT_NE(NULL, race);
	if (variant->close_before_fork) {
		ASSERT_EQ(0, close(self->fd));
		self->fd = -1;
	}
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			hammer(&self->m, self->fd, iters, variant->use_ioctl, race, -1);
	}
	race_go(race);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, wait_exit(pid[i]));
	race_free(race);
	for (k = 1; k <= NKEYS; k++)
		ASSERT_EQ(4 * iters / NKEYS, mget(&self->m, k));
	EXPECT_EQ(NKEYS, adict_a_load(self->m.core.kused));
}

TEST_F_TIMEOUT(forked, unlink_while_hammering, 300)
{
	char name[64];
	unsigned int iters = 102400;	/* NKEYS * n */
	struct race *race = race_new(2);
	struct mtable m;
	pid_t pid[2];
	int fd, i, ret;
	__u64 k;

	ASSERT_NE(NULL, race);
	tname(name, sizeof(name), "unlhammer");
	fd = table_new(1000, name, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			hammer(&m, fd, iters, i == 1, race, 0);
	}
	race_go(race);
	/*
	 * Both children have made their first add and wait half way for
	 * mark 0: the unlink happens while they run, and half of their adds
	 * come after it.
	 */
	EXPECT_TRUE(race_all_arrived(race));
	EXPECT_EQ(0, ioc_unlink(fd, name));
	ret = table_attach(name, O_RDWR, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, close(fd));	/* the children still hold it */
	race_mark(race, 0);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, wait_exit(pid[i]));
	race_free(race);
	for (k = 1; k <= NKEYS; k++)
		ASSERT_EQ(2 * iters / NKEYS, mget(&m, k));
	mtable_unmap(&m);
}

/* ---- SIGKILL ------------------------------------------------------------ */

#define KILL_CAP 200000

/*
 * Insert fresh keys (value 1 each) until killed, through the mapping or
 * ioctl.  Tell the parent after the first 1000; on a full table wait for
 * the kill doing nothing, so that every published key has value 0 or 1.
 */
static void insert_until_killed(struct mtable *m, int fd, int id,
				bool use_ioctl, int ready)
{
	__u64 k, r;

	for (k = 1;; k++) {
		__u64 key = (k << 8) | (__u64)id;
		int ret = use_ioctl ? ioc_op(fd, ADICT_OP_ADD, key, 1, 0, &r)
				    : mop(m, ADICT_OP_ADD, key, 1, 0, &r);

		if (k == 1000 && write(ready, "r", 1) != 1)
			_exit(2);
		if (ret && (ret == -ENOSPC || errno == ENOSPC))
			for (;;)
				pause();
		if (ret)
			_exit(1);
	}
}

FIXTURE(killed) {
	int fd;
	struct mtable m;
};

FIXTURE_VARIANT(killed) {
	bool use_ioctl;
};

FIXTURE_VARIANT_ADD(killed, mapping) { .use_ioctl = false };
FIXTURE_VARIANT_ADD(killed, ioctl) { .use_ioctl = true };

FIXTURE_SETUP(killed)
{
	self->fd = table_new(KILL_CAP, NULL, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, mtable_map(&self->m, self->fd, PROT_READ | PROT_WRITE));
}

FIXTURE_TEARDOWN(killed)
{
	mtable_unmap(&self->m);
	close(self->fd);
}

TEST_F_TIMEOUT(killed, table_consistent_after_sigkill, 300)
{
	struct adict_core *c = &self->m.core;
	struct adict_info info;
	__u64 b, used, keys = 0, sum = 0, r, max_inflight, some_key = 0;
	__u64 per_child[4] = { 0 }, max_k[4] = { 0 };
	int i, j, ready[2];
	pid_t pid[3];
	char byte;

	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < 3; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			insert_until_killed(&self->m, self->fd, i + 1,
					    variant->use_ioctl, ready[1]);
	}
	/* all three are inserting: kill them in the middle of it */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, read(ready[0], &byte, 1));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, kill(pid[i], SIGKILL));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(128 + SIGKILL, wait_exit(pid[i]));

	/* Walk every slot: keys are distinct, values are 0 or 1. */
	for (b = 1; b < c->nbuckets; b++) {
		for (j = 0; j < ADICT_BUCKET_SLOTS; j++) {
			struct adict_slot *s = &c->kbuckets[b].slot[j];

			if (!s->key)
				continue;
			keys++;
			sum += s->value;
			some_key = s->key;
			ASSERT_LE(1, s->key & 0xff);
			ASSERT_GE(3, s->key & 0xff);
			per_child[s->key & 0xff]++;
			if ((s->key >> 8) > max_k[s->key & 0xff])
				max_k[s->key & 0xff] = s->key >> 8;
			ASSERT_GE(1, s->value);
			/* found again by a lookup: exactly one slot per key */
			ASSERT_EQ(0, mop(&self->m, ADICT_OP_FIND, s->key, 0, 0, &r));
		}
	}
	used = adict_a_load(c->kused);
	/*
	 * `used` is increased right after each publication (format v1), so a
	 * mapping user killed between its publishing CAS and that increment
	 * leaves one key uncounted; a kernel-side op is never cut in two.
	 */
	max_inflight = variant->use_ioctl ? 0 : 3;
	/*
	 * Each child inserts k = 1, 2, 3, ... one after the other: its keys
	 * are exactly 1..max, none lost and none twice.
	 */
	for (i = 1; i <= 3; i++)
		EXPECT_EQ(max_k[i], per_child[i]) TH_LOG("child %d", i);
	EXPECT_LT(0, keys);
	EXPECT_GE(keys, used);
	EXPECT_LE(keys, used + max_inflight);
	/* a killed adder may have inserted its last key without adding */
	EXPECT_LE(sum, keys);
	EXPECT_GE(sum + 3, keys);
	ASSERT_EQ(0, ioc_info(self->fd, &info));
	EXPECT_EQ(used, info.used);
	EXPECT_EQ(3, info.users);	/* fd + two mappings: children gone */
	/* still fully usable, by the kernel and through the mapping */
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_STORE, some_key, 2, 0, &r));
	ASSERT_EQ(0, mop(&self->m, ADICT_OP_ADD, some_key, 3, 0, &r));
	EXPECT_EQ(2, r);
	TH_LOG("%llu keys inserted before the kill, used %llu",
	       (unsigned long long)keys, (unsigned long long)used);
}

TEST_HARNESS_MAIN
