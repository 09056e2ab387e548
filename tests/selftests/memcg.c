// SPDX-License-Identifier: MIT
/*
 * Memory cgroup accounting of tables (cgroup v2 at /sys/fs/cgroup).
 *
 * The test process moves itself into a fresh child cgroup with the memory
 * controller on, creates a table there and reads the cgroup's
 * memory.current.
 *
 * What it proves:
 *  - a table's pages are charged to the creator's cgroup: memory.current
 *    rises by about the table's size (at least 98 %, at most 4 MiB more);
 *  - the charge stays while a mapping keeps the table alive after close,
 *    and falls back (within 2 MiB of where it started) when the last
 *    mapping goes;
 *  - tables that die every way a table can (anonymous after munmap, named
 *    after unlink and close, named after its last munmap, shared with a
 *    forked child after the child's exit) give back all their pages: 32
 *    tables of 4 MiB later memory.current is within 2 MiB of its start
 *    (kmemleak cannot see page allocations);
 *  - a table bigger than memory.max allows fails with ENOMEM, and the
 *    creator is not OOM-killed.
 */
#include "adict_test.h"
#include "adict_harness.h"

#define CG_ROOT "/sys/fs/cgroup"
#define MiB (1024ULL * 1024)

static __u64 cg_read(const char *cg, const char *file)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return ~0ULL;
	return strtoull(buf, NULL, 10);
}

/* The value of @key in a flat-keyed file such as memory.events. */
static __u64 cg_key(const char *cg, const char *file, const char *key)
{
	char path[256], buf[1024], *p;
	size_t n = strlen(key);

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return ~0ULL;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
	return ~0ULL;
}

static int cg_write(const char *cg, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return write_file(path, val);
}

static int cg_enter(const char *cg)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return cg_write(cg, "cgroup.procs", pid);
}

FIXTURE(cg) {
	char path[128];
};

FIXTURE_SETUP(cg)
{
	char buf[256];

	if (read_file(CG_ROOT "/cgroup.controllers", buf, sizeof(buf)) <= 0)
		SKIP(return, "cgroup v2 is not mounted at " CG_ROOT);
	if (!strstr(buf, "memory"))
		SKIP(return, "no memory controller");
	ASSERT_EQ(0, cg_write(CG_ROOT, "cgroup.subtree_control", "+memory"));
	snprintf(self->path, sizeof(self->path), CG_ROOT "/adict-%d", (int)getpid());
	ASSERT_EQ(0, mkdir(self->path, 0755));
	ASSERT_EQ(0, cg_enter(self->path));
}

FIXTURE_TEARDOWN(cg)
{
	cg_enter(CG_ROOT);
	rmdir(self->path);
}

/* about 64 MiB: 21.3 bytes per key plus the header page */
#define CAP_64M 3000000ULL

TEST_F(cg, table_charged_to_creator_and_uncharged_at_free)
{
	__u64 before, created, mapped, after, bytes;
	struct adict_info info;
	struct mtable m;
	__u64 r;
	int fd;

	RETURN_IF_SKIPPED();

	before = cg_read(self->path, "memory.current");
	ASSERT_NE(~0ULL, before);
	fd = table_new(CAP_64M, NULL, 0);
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(errno));
	ASSERT_EQ(0, ioc_info(fd, &info));
	bytes = info.map_bytes;
	ASSERT_LE(60 * MiB, bytes);
	created = cg_read(self->path, "memory.current");
	TH_LOG("table %llu KiB; memory.current %llu -> %llu KiB",
	       (unsigned long long)bytes >> 10, (unsigned long long)before >> 10,
	       (unsigned long long)created >> 10);
	EXPECT_LE(before + bytes * 98 / 100, created);
	EXPECT_GE(before + bytes + 4 * MiB, created);

	/* mapped and touched: the same pages, no second charge */
	ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, mop(&m, ADICT_OP_ADD, 1, 1, 0, &r));
	ASSERT_EQ(0, close(fd));
	mapped = cg_read(self->path, "memory.current");
	EXPECT_LE(before + bytes * 98 / 100, mapped);
	EXPECT_GE(created + 2 * MiB, mapped);

	/* the last mapping frees the table */
	mtable_unmap(&m);
	after = cg_read(self->path, "memory.current");
	TH_LOG("after free: %llu KiB", (unsigned long long)after >> 10);
	EXPECT_GE(before + 2 * MiB, after);
}

/* about 4 MiB */
#define CAP_4M 190000ULL

/*
 * Page leaks (kmemleak does not see the table pages: they are page
 * allocations, not slab objects): tables that die every way a table can
 * die give back every page they were charged.  32 tables of 4 MiB come and
 * go; memory.current must end within 2 MiB of where it began, so one
 * table that kept its pages fails the test.
 */
TEST_F(cg, tables_of_every_lifetime_return_their_pages)
{
	__u64 before, after, r;
	struct mtable m;
	char name[64];
	int i, fd;
	pid_t pid;

	RETURN_IF_SKIPPED();

	before = cg_read(self->path, "memory.current");
	ASSERT_NE(~0ULL, before);
	for (i = 0; i < 8; i++) {
		/* anonymous: mapped, touched, closed, then unmapped */
		fd = table_new(CAP_4M, NULL, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
		ASSERT_EQ(0, mop(&m, ADICT_OP_ADD, 1 + i, 1, 0, &r));
		ASSERT_EQ(0, close(fd));
		mtable_unmap(&m);

		/* named, never mapped: unlinked, then closed */
		tname(name, sizeof(name), "leak");
		fd = table_new(CAP_4M, name, 0600);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ioc_op(fd, ADICT_OP_ADD, 7, 1, 0, &r));
		ASSERT_EQ(0, ioc_unlink(fd, name));
		ASSERT_EQ(0, close(fd));

		/* named, mapped: closed and unlinked, freed at the munmap */
		fd = table_new(CAP_4M, name, 0600);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
		ASSERT_EQ(0, ioc_unlink(fd, name));
		ASSERT_EQ(0, close(fd));
		ASSERT_EQ(0, mop(&m, ADICT_OP_ADD, 9, 1, 0, &r));
		mtable_unmap(&m);

		/* shared with a forked child, freed when the child exits */
		fd = table_new(CAP_4M, NULL, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
		ASSERT_EQ(0, close(fd));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(mop(&m, ADICT_OP_ADD, 3, 1, 0, &r) ? 1 : 0);
		mtable_unmap(&m);
		ASSERT_EQ(0, wait_exit(pid));
	}
	after = cg_read(self->path, "memory.current");
	TH_LOG("32 tables of 4 MiB later: memory.current %llu -> %llu KiB",
	       (unsigned long long)before >> 10, (unsigned long long)after >> 10);
	EXPECT_GE(before + 2 * MiB, after);
}

TEST_F(cg, table_over_memory_max_is_enomem_without_oom)
{
	__u64 events_before, events_after;
	int fd, ret;

	RETURN_IF_SKIPPED();

	ASSERT_EQ(0, cg_write(self->path, "memory.max", "16777216"));
	events_before = cg_key(self->path, "memory.events", "oom_kill");
	ASSERT_NE(~0ULL, events_before);
	fd = dev_open(O_RDWR);
	ASSERT_LE(0, fd);
	ret = ioc_create(fd, CAP_64M, NULL, 0, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOMEM, errno);
	/* we are alive, and the failed creation left nothing charged */
	EXPECT_GE(8 * MiB, cg_read(self->path, "memory.current"));
	/* a table that fits works */
	EXPECT_EQ(0, ioc_create(fd, 100000, NULL, 0, 0));
	close(fd);
	events_after = cg_key(self->path, "memory.events", "oom_kill");
	EXPECT_EQ(events_before, events_after);
	ASSERT_EQ(0, cg_write(self->path, "memory.max", "max"));
}

TEST_HARNESS_MAIN
