// SPDX-License-Identifier: MIT
/*
 * Permissions, limits and the /proc listing.
 *
 * What it proves:
 *  - an unprivileged user (uid/gid 65534, no capabilities) cannot attach
 *    another user's 0600 table, read-only or read-write (EACCES), nor unlink
 *    it (EPERM), while creating, attaching, using and unlinking its own
 *    tables works;
 *  - the mode's owner, group and other bits are checked like SysV IPC:
 *    read gives a read-only attachment only, read-write needs both bits;
 *  - root (CAP_IPC_OWNER in the table's namespace) may attach any table;
 *  - the limits: max_tables_per_user -> EDQUOT for that user only,
 *    max_table_bytes -> EFBIG, max_tables -> EDQUOT;
 *  - /proc/driver/atomic_dict lists a table with its name, owner, mode,
 *    capacity, used, bytes and users.
 */
#include "adict_test.h"
#include "adict_harness.h"

#define PROC_HEADER "id name state uid gid mode capacity used bytes users\n"

/* Tables in the /proc listing right now. */
static int count_tables(void)
{
	static char buf[1 << 16];
	int n = -1;
	char *p;

	if (read_file("/proc/driver/atomic_dict", buf, sizeof(buf)) <= 0)
		return -1;
	for (p = buf; *p; p++)
		n += *p == '\n';
	return n;
}

static char root_name[64];

static int nobody_vs_root_table(void *arg)
{
	char own[96];
	struct mtable m;
	struct adict_info info;
	int fd, fd2;
	__u64 r;

	CHECK(geteuid() == NOBODY_UID);
	/* another user's 0600 table: no attach of any kind, no unlink */
	fd = dev_open(O_RDWR);
	CHECK(fd >= 0);
	CHECK_ERR(ioc_attach(fd, root_name, 0), EACCES);
	CHECK_ERR(ioc_attach(fd, root_name, ADICT_ATTACH_RDONLY), EACCES);
	CHECK_ERR(ioc_attach(fd, root_name, ADICT_ATTACH_MEDIATED), EACCES);
	CHECK_ERR(ioc_unlink(fd, root_name), EPERM);
	/* the failed attaches left the fd unbound: our own table works */
	snprintf(own, sizeof(own), "%s-own", root_name);
	CHECK(ioc_create(fd, 100, own, 0600, 0) == 0);
	CHECK(ioc_info(fd, &info) == 0);
	CHECK(info.uid == NOBODY_UID);
	CHECK(info.gid == NOBODY_GID);
	CHECK(info.mode == 0600);
	CHECK(mtable_map(&m, fd, PROT_READ | PROT_WRITE) == 0);
	CHECK(mop(&m, ADICT_OP_ADD, 5, 7, 0, &r) == 0);
	fd2 = table_attach(own, O_RDWR, 0);
	CHECK(fd2 >= 0);
	CHECK(ioc_op(fd2, ADICT_OP_LOAD, 5, 0, 0, &r) == 0);
	CHECK(r == 7);
	CHECK(ioc_unlink(fd2, own) == 0);
	close(fd2);
	mtable_unmap(&m);
	close(fd);
	return 0;
}

TEST(nobody_cannot_touch_root_0600_table_but_uses_its_own)
{
	int fd;

	tname(root_name, sizeof(root_name), "root600");
	fd = table_new(100, root_name, 0600);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, run_as(NOBODY_UID, NOBODY_GID, nobody_vs_root_table, NULL));
	/* the refusals changed nothing: the name is still there */
	EXPECT_EQ(0, ioc_unlink(fd, root_name));
	close(fd);
}

static int nobody_creates_0600(void *arg)
{
	int fd = table_new(10, (const char *)arg, 0600);

	CHECK(fd >= 0);
	return 0;	/* exits; the named table stays */
}

TEST(root_may_attach_and_unlink_any_table)
{
	char name[64];
	struct adict_info info;
	int fd;

	tname(name, sizeof(name), "nobody600");
	ASSERT_EQ(0, run_as(NOBODY_UID, NOBODY_GID, nobody_creates_0600, name));
	fd = table_attach(name, O_RDWR, 0);
	ASSERT_LE(0, fd) TH_LOG("attach: %s", strerror(errno));
	ASSERT_EQ(0, ioc_info(fd, &info));
	EXPECT_EQ(NOBODY_UID, info.uid);
	EXPECT_EQ(0600, info.mode);
	EXPECT_EQ(0, ioc_unlink(fd, name));
	close(fd);
}

/* mode bits seen by uid 65534: as owner, through the group, as other */
FIXTURE(modes) {
	char name[64];
	int fd;
};

FIXTURE_VARIANT(modes) {
	__u32 mode;
	bool group;		/* nobody joins the table's group (gid 0) */
	int want_ro;		/* expected errno, 0 = allowed */
	int want_rw;
};

FIXTURE_VARIANT_ADD(modes, other_0644) { .mode = 0644, .want_ro = 0, .want_rw = EACCES };
FIXTURE_VARIANT_ADD(modes, other_0666) { .mode = 0666, .want_ro = 0, .want_rw = 0 };
FIXTURE_VARIANT_ADD(modes, other_0660) { .mode = 0660, .want_ro = EACCES, .want_rw = EACCES };
FIXTURE_VARIANT_ADD(modes, other_0602_write_only) { .mode = 0602, .want_ro = EACCES, .want_rw = EACCES };
FIXTURE_VARIANT_ADD(modes, group_0640) { .mode = 0640, .group = true, .want_ro = 0, .want_rw = EACCES };
FIXTURE_VARIANT_ADD(modes, group_0660) { .mode = 0660, .group = true, .want_ro = 0, .want_rw = 0 };
FIXTURE_VARIANT_ADD(modes, group_0606_group_denied) { .mode = 0606, .group = true, .want_ro = EACCES, .want_rw = EACCES };

FIXTURE_SETUP(modes)
{
	tname(self->name, sizeof(self->name), "mode");
	self->fd = table_new(10, self->name, variant->mode);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(modes)
{
	ioc_unlink(self->fd, self->name);
	close(self->fd);
}

struct modes_arg {
	const char *name;
	int want_ro, want_rw;
};

static int try_attach(const char *name, int oflags, __u32 flags, int want)
{
	int fd = table_attach(name, oflags, flags);

	if (want == 0) {
		CHECK(fd >= 0);
		close(fd);
	} else {
		CHECK(fd == -1 && errno == want);
	}
	return 0;
}

static int modes_child(void *p)
{
	struct modes_arg *a = p;

	return try_attach(a->name, O_RDONLY, ADICT_ATTACH_RDONLY, a->want_ro) ||
	       try_attach(a->name, O_RDWR, ADICT_ATTACH_RDONLY, a->want_ro) ||
	       try_attach(a->name, O_RDWR, 0, a->want_rw);
}

TEST_F(modes, attach_checks_the_mode)
{
	struct modes_arg a = {
		.name = self->name,
		.want_ro = variant->want_ro,
		.want_rw = variant->want_rw,
	};

	EXPECT_EQ(0, run_as(NOBODY_UID, variant->group ? 0 : NOBODY_GID,
			    modes_child, &a));
}

/* ---- limits ------------------------------------------------------------ */

static int nobody_per_user_limit(void *arg)
{
	int fds[3], fd, i;

	for (i = 0; i < 3; i++) {
		fds[i] = table_new(10, NULL, 0);
		CHECK(fds[i] >= 0);
	}
	fd = dev_open(O_RDWR);
	CHECK(fd >= 0);
	CHECK_ERR(ioc_create(fd, 10, NULL, 0, 0), EDQUOT);
	close(fds[0]);		/* a freed table frees its quota */
	CHECK(ioc_create(fd, 10, NULL, 0, 0) == 0);
	close(fd);
	for (i = 1; i < 3; i++)
		close(fds[i]);
	return 0;
}

TEST(limit_tables_per_user)
{
	char saved[32];
	int fd;

	ASSERT_EQ(0, read_param("max_tables_per_user", saved, sizeof(saved)));
	ASSERT_EQ(0, write_param("max_tables_per_user", "3"));
	/* root's own table does not count against nobody */
	fd = table_new(10, NULL, 0);
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, run_as(NOBODY_UID, NOBODY_GID, nobody_per_user_limit, NULL));
	close(fd);
	ASSERT_EQ(0, write_param("max_tables_per_user", saved));
}

TEST(limit_table_bytes_and_table_count)
{
	char saved_bytes[32], saved_tables[32], num[32];
	int fd, fd2, ret;

	ASSERT_EQ(0, read_param("max_table_bytes", saved_bytes, sizeof(saved_bytes)));
	ASSERT_EQ(0, read_param("max_tables", saved_tables, sizeof(saved_tables)));
	ASSERT_EQ(0, write_param("max_table_bytes", "1048576"));
	fd = dev_open(O_RDWR);
	ASSERT_LE(0, fd);
	/* 60000 keys need more than 1 MiB (about 21 bytes a key) */
	ret = ioc_create(fd, 60000, NULL, 0, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFBIG, errno);
	EXPECT_EQ(0, ioc_create(fd, 40000, NULL, 0, 0));
	ASSERT_EQ(0, write_param("max_table_bytes", saved_bytes));

	/* allow exactly the tables there are now (fd's included) */
	snprintf(num, sizeof(num), "%d", count_tables());
	ASSERT_LT(0, atoi(num));
	ASSERT_EQ(0, write_param("max_tables", num));
	fd2 = dev_open(O_RDWR);
	ASSERT_LE(0, fd2);
	ret = ioc_create(fd2, 10, NULL, 0, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EDQUOT, errno);
	close(fd);
	EXPECT_EQ(0, ioc_create(fd2, 10, NULL, 0, 0));
	close(fd2);
	ASSERT_EQ(0, write_param("max_tables", saved_tables));
}

/* ---- introspection ------------------------------------------------------ */

TEST(proc_listing_shows_the_table)
{
	static char buf[1 << 16];
	char name[64], want[256], *line;
	struct adict_info info;
	struct mtable m;
	__u64 r, k;
	int fd;

	tname(name, sizeof(name), "proc");
	fd = table_new(1000, name, 0640);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
	for (k = 1; k <= 7; k++)
		ASSERT_EQ(0, mop(&m, ADICT_OP_ADD, k, 1, 0, &r));
	ASSERT_EQ(0, ioc_info(fd, &info));
	ASSERT_LT(0, read_file("/proc/driver/atomic_dict", buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, PROC_HEADER, strlen(PROC_HEADER)));
	/* fd + header mapping + data mapping */
	snprintf(want, sizeof(want), "%llu %s named 0 0 0640 1000 7 %llu %u\n",
		 (unsigned long long)info.id, name,
		 (unsigned long long)info.map_bytes, info.users);
	line = strstr(buf, want);
	EXPECT_NE(NULL, line) TH_LOG("want \"%s\" in:\n%s", want, buf);
	EXPECT_EQ(3, info.users);
	mtable_unmap(&m);
	ASSERT_EQ(0, ioc_unlink(fd, name));
	ASSERT_LT(0, read_file("/proc/driver/atomic_dict", buf, sizeof(buf)));
	snprintf(want, sizeof(want), "%llu %s unlinked ", (unsigned long long)info.id, name);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("want \"%s\" in:\n%s", want, buf);
	close(fd);
	ASSERT_LT(0, read_file("/proc/driver/atomic_dict", buf, sizeof(buf)));
	snprintf(want, sizeof(want), "%llu ", (unsigned long long)info.id);
	EXPECT_EQ(NULL, strstr(buf, want));
}

TEST_HARNESS_MAIN
