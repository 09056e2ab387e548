// SPDX-License-Identifier: MIT
/*
 * Tenants who cannot hurt each other: one regression test per finding of
 * the hostile-tenant review (Documentation/device.rst, "Tenants"), with
 * unprivileged users made by setuid and containers made by unshare() with a
 * uid range that root writes to uid_map.
 *
 * What it proves:
 *  - a mediated attacher granted ADD (device.rst's counter example) but not
 *    INSERT cannot insert a key by any op: ops on absent keys fail with
 *    ENOENT, LOAD of one reads 0, `used` does not move, and the owner can
 *    still fill the table to its capacity; with INSERT granted it inserts;
 *  - all the subuids of one container share one quota, that of the host
 *    uid that owns the container's user namespace (max_tables_per_user);
 *    max_user_bytes keeps one user from the global byte budget while
 *    another user still gets tables; the default is a quarter of it;
 *    ADICT_IOC_USAGE reports the limits and the usage charged;
 *  - /proc/driver/atomic_dict shows a reader only the tables it may
 *    attach for reading (root in the initial namespace sees all), judged by
 *    the opener's credentials (an fd passed either way shows what its opener
 *    may see), with uids as the reader's user namespace maps them;
 *  - ADICT_ATTACH_OWNER refuses a squatted name with EPERM and attaches
 *    the expected owner's table, a uid given in the caller's namespace.
 */
#include <sched.h>
#include <sys/socket.h>
#include "adict_test.h"
#include "adict_harness.h"

#define SQUATTER_UID	3000	/* an unprivileged host user */
#define OTHER_UID	3001
#define CTR_BASE	100000	/* container: 0..65535 -> 100000.. */

/*
 * Run @fn in a new user namespace whose uids and gids 0..65535 are host
 * CTR_BASE.., written to uid_map/gid_map by us (root).  The child first
 * becomes host uid @owner, so the namespace is owned by @owner; inside it
 * runs as uid 0 (full capabilities in the namespace, none outside).
 * Returns fn's exit status, or 90+ for a setup failure.
 */
static int run_in_userns(uid_t owner, int (*fn)(void *), void *arg)
{
	int c2p[2], p2c[2], ret = 0;
	char c, path[64], map[64];
	pid_t pid;

	if (pipe(c2p) || pipe(p2c))
		return 90;
	pid = fork();
	if (pid < 0)
		return 90;
	if (pid == 0) {
		close(c2p[0]);
		close(p2c[1]);
		if (owner && (setgroups(0, NULL) || setgid(owner) ||
			      setuid(owner)))
			_exit(91);
		if (unshare(CLONE_NEWUSER))
			_exit(92);
		if (write(c2p[1], "u", 1) != 1 || read(p2c[0], &c, 1) != 1 ||
		    c != 'g')
			_exit(93);
		if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
			_exit(94);
		_exit(fn(arg));
	}
	close(c2p[1]);
	close(p2c[0]);
	if (read(c2p[0], &c, 1) != 1)
		ret = 95;
	snprintf(map, sizeof(map), "0 %u 65536\n", CTR_BASE);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (!ret && write_file(path, map))
		ret = 96;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	if (!ret && write_file(path, map))
		ret = 97;
	if (write(p2c[1], ret ? "x" : "g", 1) != 1)
		ret = 98;
	close(c2p[0]);
	close(p2c[1]);
	c = wait_exit(pid);
	return ret ? ret : c;
}

/* ---- 1. grants: ADD is not INSERT -------------------------------------- */

static char g_name[64];

#define GRANT_ALL_BUT_INSERT (ADICT_GRANT_ALL & ~ADICT_OP_BIT(ADICT_OP_INSERT))

/* nobody, mediated: try to insert 2,000 keys into a 1,000-key table. */
static int nobody_fill_by_value_ops(void *arg)
{
	__u64 k, r;
	__u32 op;
	int fd;

	fd = table_attach(g_name, O_RDONLY, ADICT_ATTACH_MEDIATED);
	CHECK(fd >= 0);
	for (k = 100; k < 2100; k++) {
		op = ADICT_OP_STORE + k % (ADICT_OP_CAS - ADICT_OP_STORE + 1);
		CHECK_ERR(ioc_op(fd, op, k, 0, 0, &r), ENOENT);
		r = 77;
		CHECK(ioc_op(fd, ADICT_OP_LOAD, k, 0, 0, &r) == 0);
		CHECK(r == 0);
		CHECK_ERR(ioc_op(fd, ADICT_OP_FIND, k, 0, 0, &r), ENOENT);
	}
	CHECK_ERR(ioc_op(fd, ADICT_OP_INSERT, 100, 0, 0, &r), EPERM);
	/* a key the owner made: every granted op works on it */
	CHECK(ioc_op(fd, ADICT_OP_ADD, 1, 5, 0, &r) == 0);
	CHECK(r == 0);
	CHECK(ioc_op(fd, ADICT_OP_CAS, 1, 5, 6, &r) == 0);
	CHECK(r == 5);
	close(fd);
	return 0;
}

TEST(grant_without_insert_cannot_fill_another_users_table)
{
	struct adict_info info;
	int owner, i, ret;
	__u64 r;

	tname(g_name, sizeof(g_name), "grant");
	owner = dev_open(O_RDWR);
	ASSERT_LE(0, owner);
	ASSERT_EQ(0, ioc_create(owner, 1000, g_name, 0644, GRANT_ALL_BUT_INSERT));
	ASSERT_EQ(0, ioc_op(owner, ADICT_OP_INSERT, 1, 0, 0, &r));
	EXPECT_EQ(0, run_as(NOBODY_UID, NOBODY_GID, nobody_fill_by_value_ops, NULL));
	ASSERT_EQ(0, ioc_info(owner, &info));
	EXPECT_EQ(1, info.used);
	/* the owner still gets every one of its 1,000 keys */
	for (i = 2; i <= 1000; i++) {
		ret = ioc_op(owner, ADICT_OP_INSERT, 1000000 + i, 0, 0, &r);
		ASSERT_EQ(0, ret) TH_LOG("key %d: %s", i, strerror(errno));
		ASSERT_EQ(1, r);
	}
	EXPECT_EQ(0, ioc_unlink(owner, g_name));
	close(owner);
}

static int nobody_inserts_with_insert_grant(void *arg)
{
	__u64 r;
	int fd;

	fd = table_attach(g_name, O_RDONLY, ADICT_ATTACH_MEDIATED);
	CHECK(fd >= 0);
	CHECK(ioc_op(fd, ADICT_OP_ADD, 42, 3, 0, &r) == 0);
	CHECK(ioc_op(fd, ADICT_OP_LOAD, 42, 0, 0, &r) == 0);
	CHECK(r == 3);
	CHECK(ioc_op(fd, ADICT_OP_INSERT, 43, 0, 0, &r) == 0);
	CHECK(r == 1);
	close(fd);
	return 0;
}

TEST(grant_with_insert_inserts)
{
	struct adict_info info;
	int owner;

	tname(g_name, sizeof(g_name), "granti");
	owner = dev_open(O_RDWR);
	ASSERT_LE(0, owner);
	ASSERT_EQ(0, ioc_create(owner, 100, g_name, 0644,
				ADICT_GRANT_READ | ADICT_OP_BIT(ADICT_OP_ADD) |
				ADICT_OP_BIT(ADICT_OP_INSERT)));
	EXPECT_EQ(0, run_as(NOBODY_UID, NOBODY_GID, nobody_inserts_with_insert_grant, NULL));
	ASSERT_EQ(0, ioc_info(owner, &info));
	EXPECT_EQ(2, info.used);
	EXPECT_EQ(0, ioc_unlink(owner, g_name));
	close(owner);
}

/* The default grant (0) is LOAD and FIND, as the documentation says. */
TEST(grant_zero_means_reads_only)
{
	struct adict_info info;
	int owner, fd, ret;
	char name[64];
	__u64 r;

	tname(name, sizeof(name), "grant0");
	owner = dev_open(O_RDWR);
	ASSERT_LE(0, owner);
	ASSERT_EQ(0, ioc_create(owner, 100, name, 0644, 0));
	ASSERT_EQ(0, ioc_op(owner, ADICT_OP_STORE, 5, 9, 0, &r));
	fd = table_attach(name, O_RDONLY, ADICT_ATTACH_MEDIATED);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioc_info(fd, &info));
	EXPECT_EQ(ADICT_GRANT_READ, info.grant);
	EXPECT_EQ(0, ioc_op(fd, ADICT_OP_LOAD, 5, 0, 0, &r));
	EXPECT_EQ(9, r);
	EXPECT_EQ(0, ioc_op(fd, ADICT_OP_FIND, 5, 0, 0, &r));
	ret = ioc_op(fd, ADICT_OP_ADD, 5, 1, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EPERM, errno);
	close(fd);
	EXPECT_EQ(0, ioc_unlink(owner, name));
	close(owner);
}

/* ---- 3. quotas ---------------------------------------------------------- */

struct quota_run {
	char prefix[48];
	int created;		/* out of the container: how many succeeded */
	int edquot;
};

/* Inside the container: subuids 0, 1, 2 each create one named table. */
static int ctr_subuids_create(void *arg)
{
	struct quota_run *q = arg;
	int i, ok = 0, edquot = 0, st;
	pid_t pid;

	for (i = 0; i < 3; i++) {
		pid = fork();
		if (pid < 0)
			return 80;
		if (pid == 0) {
			char name[80];
			int fd;

			if (setresgid(i, i, i) || setresuid(i, i, i))
				_exit(81);
			snprintf(name, sizeof(name), "%s-%d", q->prefix, i);
			fd = dev_open(O_RDWR);
			if (fd < 0)
				_exit(82);
			if (ioc_create(fd, 10, name, 0644, 0) == 0)
				_exit(0);
			_exit(errno == EDQUOT ? 1 : 83);
		}
		st = wait_exit(pid);
		if (st == 0)
			ok++;
		else if (st == 1)
			edquot++;
		else
			return st;
	}
	/* two tables and one EDQUOT, whatever subuid asked */
	return ok == 2 && edquot == 1 ? 0 : 84;
}

static int squatter_usage(void *arg)
{
	struct adict_usage u;
	int fd = dev_open(O_RDONLY);

	CHECK(fd >= 0);
	CHECK(ioc_usage(fd, &u) == 0);
	CHECK(u.size == sizeof(u));
	CHECK(u.quota_uid == SQUATTER_UID);
	CHECK(u.user_tables == 2);
	CHECK(!(u.flags & ADICT_USAGE_F_EXEMPT));
	CHECK(u.max_tables_per_user == 2);
	close(fd);
	/* the host user itself shares the container's quota */
	fd = dev_open(O_RDWR);
	CHECK(fd >= 0);
	CHECK_ERR(ioc_create(fd, 10, NULL, 0, 0), EDQUOT);
	close(fd);
	return 0;
}

TEST(quota_subuids_of_one_container_share_their_owners_quota)
{
	static char buf[1 << 16];
	struct quota_run q;
	char saved[32], name[80], want[128];
	int i;

	snprintf(q.prefix, sizeof(q.prefix), "t-quota-%d", (int)getpid());
	ASSERT_EQ(0, read_param("max_tables_per_user", saved, sizeof(saved)));
	ASSERT_EQ(0, write_param("max_tables_per_user", "2"));
	EXPECT_EQ(0, run_in_userns(SQUATTER_UID, ctr_subuids_create, &q));
	EXPECT_EQ(0, run_as(SQUATTER_UID, SQUATTER_UID, squatter_usage, NULL));
	/* owners are the subuids; the charge is the namespace's owner */
	ASSERT_LT(0, read_file("/proc/driver/atomic_dict", buf, sizeof(buf)));
	snprintf(want, sizeof(want), " %s-0 named %u ", q.prefix, CTR_BASE);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("want \"%s\" in:\n%s", want, buf);
	snprintf(want, sizeof(want), " %s-1 named %u ", q.prefix, CTR_BASE + 1);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("want \"%s\" in:\n%s", want, buf);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%s-%d", q.prefix, i);
		unlink_quiet(name);
	}
	ASSERT_EQ(0, write_param("max_tables_per_user", saved));
}

static __u64 cap_for_bytes(__u64 bytes)
{
	/* about 64/3 bytes a key (3/4 load of 16-byte slots) */
	return bytes / 64 * 3;
}

static __u64 g_bytes;

/* Create a named table of about g_bytes; 0 or errno. */
static int create_named_bytes(void *arg)
{
	const char *name = arg;
	int fd = dev_open(O_RDWR);

	if (fd < 0)
		return 100;
	if (ioc_create(fd, cap_for_bytes(g_bytes), name, 0600, 0))
		return errno;
	close(fd);
	return 0;
}

TEST(quota_user_bytes_keep_one_user_from_the_global_budget)
{
	char saved[32], n1[64], n2[64], n3[64];
	struct adict_usage u;
	int fd;

	ASSERT_EQ(0, read_param("max_user_bytes", saved, sizeof(saved)));
	EXPECT_STREQ("0", saved);
	fd = dev_open(O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioc_usage(fd, &u));
	/* the default: a quarter of the global budget */
	EXPECT_EQ(u.max_total_bytes / 4, u.max_user_bytes);
	EXPECT_NE(0, u.flags & ADICT_USAGE_F_EXEMPT);	/* root */
	EXPECT_EQ(0, u.quota_uid);

	tname(n1, sizeof(n1), "ub1");
	tname(n2, sizeof(n2), "ub2");
	tname(n3, sizeof(n3), "ub3");
	/* with the defaults: one user cannot take half the budget */
	g_bytes = u.max_total_bytes / 2;
	if (g_bytes <= u.max_table_bytes)
		EXPECT_EQ(EDQUOT, run_as(NOBODY_UID, NOBODY_GID, create_named_bytes, n1));
	unlink_quiet(n1);

	ASSERT_EQ(0, write_param("max_user_bytes", "4194304"));
	g_bytes = 3 << 20;
	EXPECT_EQ(0, run_as(NOBODY_UID, NOBODY_GID, create_named_bytes, n1));
	/* nobody's named table stays charged after nobody exited */
	EXPECT_EQ(EDQUOT, run_as(NOBODY_UID, NOBODY_GID, create_named_bytes, n2));
	/* another user still gets its own 3 MiB */
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_UID, create_named_bytes, n3));
	ASSERT_EQ(0, ioc_usage(fd, &u));
	EXPECT_EQ(4194304, u.max_user_bytes);
	unlink_quiet(n1);
	unlink_quiet(n2);
	unlink_quiet(n3);
	/* unlinked and unused: the charge is gone */
	EXPECT_EQ(0, run_as(NOBODY_UID, NOBODY_GID, create_named_bytes, n2));
	unlink_quiet(n2);
	close(fd);
	ASSERT_EQ(0, write_param("max_user_bytes", saved));
}

/* ---- 4. the listing ------------------------------------------------------ */

static char l_root[64], l_pub[64], l_nobody[64], l_ctr[64];

/* Is table @name in the listing read from @fd (read from its start)? */
static int listed_fd(int fd, const char *name)
{
	static char buf[1 << 16];
	char want[128];
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	snprintf(want, sizeof(want), " %s ", name);
	return strstr(buf, want) != NULL;
}

static int listed(const char *name)
{
	int fd = open("/proc/driver/atomic_dict", O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = listed_fd(fd, name);
	close(fd);
	return r;
}

/* The listing line of @name, copied into @line; 0 or -1. */
static int listing_line(const char *name, char *line, size_t len)
{
	static char buf[1 << 16];
	char want[128], *p, *e;

	if (read_file("/proc/driver/atomic_dict", buf, sizeof(buf)) <= 0)
		return -1;
	snprintf(want, sizeof(want), " %s ", name);
	p = strstr(buf, want);
	if (!p)
		return -1;
	while (p > buf && p[-1] != '\n')
		p--;
	e = strchr(p, '\n');
	snprintf(line, len, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
	return 0;
}

static int nobody_lists(void *arg)
{
	int fd;

	CHECK(listed(l_root) == 0);	/* root's 0600 */
	CHECK(listed(l_pub) == 1);	/* root's 0644 */
	CHECK(listed(l_ctr) == 0);	/* container root's 0600 */
	fd = dev_open(O_RDWR);
	CHECK(fd >= 0);
	CHECK(ioc_create(fd, 10, l_nobody, 0600, 0) == 0);
	close(fd);
	CHECK(listed(l_nobody) == 1);	/* its own */
	return 0;
}

/* An fd that root opened, read by the same process after it became nobody. */
static int read_roots_fd_as_nobody(void *arg)
{
	int fd = *(int *)arg;

	CHECK(geteuid() == NOBODY_UID);
	CHECK(listed_fd(fd, l_root) == 1);	/* the opener's view */
	CHECK(listed(l_root) == 0);		/* its own open: its own view */
	return 0;
}

/* nobody opens the listing and sends the fd to root over @arg's socket. */
static int send_listing_fd(void *arg)
{
	int sock = *(int *)arg, fd;
	char cbuf[CMSG_SPACE(sizeof(int))], c = 'f';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	fd = open("/proc/driver/atomic_dict", O_RDONLY);
	CHECK(fd >= 0);
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	CHECK(sendmsg(sock, &mh, 0) == 1);
	return 0;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Container root: creates its own 0600 table, lists with its own uids. */
static int ctr_lists(void *arg)
{
	char line[256], want[128];
	int fd;

	fd = dev_open(O_RDWR);
	CHECK(fd >= 0);
	CHECK(ioc_create(fd, 10, l_ctr, 0600, 0) == 0);
	close(fd);
	CHECK(listing_line(l_ctr, line, sizeof(line)) == 0);
	/* its own table shows uid 0, gid 0: the namespace's view */
	snprintf(want, sizeof(want), " %s named 0 0 0600 ", l_ctr);
	CHECK(strstr(line, want) != NULL);
	/* root's public table: the host's uid 0 is unmapped here */
	CHECK(listing_line(l_pub, line, sizeof(line)) == 0);
	snprintf(want, sizeof(want), " %s named 65534 65534 0644 ", l_pub);
	CHECK(strstr(line, want) != NULL);
	/* CAP_SYS_ADMIN and CAP_IPC_OWNER in its own namespace show nothing more */
	CHECK(listed(l_root) == 0);
	return 0;
}

TEST(listing_shows_a_reader_only_what_it_may_attach)
{
	char line[256], want[128];
	int fd, rootfd;

	tname(l_root, sizeof(l_root), "lroot");
	tname(l_pub, sizeof(l_pub), "lpub");
	tname(l_nobody, sizeof(l_nobody), "lnobody");
	tname(l_ctr, sizeof(l_ctr), "lctr");
	fd = table_new(10, l_root, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	fd = table_new(10, l_pub, 0644);
	ASSERT_LE(0, fd);
	close(fd);

	EXPECT_EQ(0, run_in_userns(0, ctr_lists, NULL));
	EXPECT_EQ(0, run_as(NOBODY_UID, NOBODY_GID, nobody_lists, NULL));
	/* root in the initial namespace sees all, with host uids */
	EXPECT_EQ(1, listed(l_root));
	EXPECT_EQ(1, listed(l_nobody));
	ASSERT_EQ(0, listing_line(l_ctr, line, sizeof(line)));
	snprintf(want, sizeof(want), " %s named %u %u 0600 ", l_ctr, CTR_BASE, CTR_BASE);
	EXPECT_NE(NULL, strstr(line, want)) TH_LOG("%s", line);

	/* root's fd read by nobody: root's view */
	rootfd = open("/proc/driver/atomic_dict", O_RDONLY);
	ASSERT_LE(0, rootfd);
	EXPECT_EQ(0, run_as(NOBODY_UID, NOBODY_GID, read_roots_fd_as_nobody, &rootfd));
	close(rootfd);
	unlink_quiet(l_nobody);
	unlink_quiet(l_ctr);
	unlink_quiet(l_root);
	unlink_quiet(l_pub);
}

/*
 * The other way: a listing fd that uid 65534 opened, passed to root over
 * SCM_RIGHTS, shows root what 65534 may see.  It needs AF_UNIX, which the
 * debug kernels (no CONFIG_NET) lack: there it skips, and tests/vm/skips
 * allows that skip on the debug kernels only.
 */
TEST(listing_fd_passed_to_root_shows_its_openers_view)
{
	int fd, sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)) {
		/* ENOSYS without CONFIG_NET, EAFNOSUPPORT without CONFIG_UNIX */
		ASSERT_TRUE(errno == ENOSYS || errno == EAFNOSUPPORT)
			TH_LOG("socketpair: %s", strerror(errno));
		SKIP(return, "no AF_UNIX in this kernel (%s)", strerror(errno));
	}
	tname(l_root, sizeof(l_root), "lroot");
	tname(l_pub, sizeof(l_pub), "lpub");
	fd = table_new(10, l_root, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	fd = table_new(10, l_pub, 0644);
	ASSERT_LE(0, fd);
	close(fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(NOBODY_GID) || setuid(NOBODY_UID))
			_exit(99);
		_exit(send_listing_fd(&sv[1]));
	}
	fd = recv_fd(sv[0]);
	EXPECT_EQ(0, wait_exit(pid));
	if (fd >= 0) {
		EXPECT_EQ(0, listed_fd(fd, l_root));	/* 65534's view */
		EXPECT_EQ(1, listed_fd(fd, l_pub));
		close(fd);
	}
	close(sv[0]);
	close(sv[1]);
	unlink_quiet(l_root);
	unlink_quiet(l_pub);
	ASSERT_LE(0, fd);
}

/* ---- 5. attach by owner ------------------------------------------------- */

static char o_name[64], o_priv[64];

static int squat(void *arg)
{
	int fd = dev_open(O_RDWR);

	CHECK(fd >= 0);
	CHECK(ioc_create(fd, 10, o_name, 0666, 0) == 0);
	close(fd);
	fd = dev_open(O_RDWR);
	CHECK(fd >= 0);
	CHECK(ioc_create(fd, 10, o_priv, 0600, 0) == 0);
	close(fd);
	return 0;
}

static int other_attaches_by_owner(void *arg)
{
	int fd = dev_open(O_RDWR);

	CHECK(fd >= 0);
	/* the squatter's world-writable table is not the one expected */
	CHECK_ERR(ioc_attach_owner(fd, o_name, 0, 0), EPERM);
	CHECK_ERR(ioc_attach_owner(fd, o_name, ADICT_ATTACH_RDONLY, OTHER_UID), EPERM);
	/* a table it may not attach anyway: EACCES, the owner is not told */
	CHECK_ERR(ioc_attach_owner(fd, o_priv, 0, 0), EACCES);
	CHECK_ERR(ioc_attach_owner(fd, o_priv, 0, SQUATTER_UID), EACCES);
	/* naming the real owner attaches */
	CHECK(ioc_attach_owner(fd, o_name, ADICT_ATTACH_RDONLY, SQUATTER_UID) == 0);
	close(fd);
	return 0;
}

/* Container root: uids in the owner field are its own namespace's. */
static int ctr_attach_by_owner(void *arg)
{
	int fd = dev_open(O_RDWR);

	CHECK(fd >= 0);
	CHECK(ioc_create(fd, 10, o_priv, 0644, 0) == 0);
	close(fd);
	fd = dev_open(O_RDONLY);
	CHECK(fd >= 0);
	CHECK_ERR(ioc_attach_owner(fd, o_priv, ADICT_ATTACH_RDONLY, 1), EPERM);
	CHECK(ioc_attach_owner(fd, o_priv, ADICT_ATTACH_RDONLY, 0) == 0);
	close(fd);
	/* a uid this namespace does not map */
	fd = dev_open(O_RDONLY);
	CHECK(fd >= 0);
	CHECK_ERR(ioc_attach_owner(fd, o_priv, ADICT_ATTACH_RDONLY, 70000), EINVAL);
	close(fd);
	return 0;
}

TEST(attach_by_owner_refuses_a_squatted_name)
{
	struct adict_attach_args a;
	int fd, ret;

	tname(o_name, sizeof(o_name), "wellknown");
	tname(o_priv, sizeof(o_priv), "wellknownpriv");
	ASSERT_EQ(0, run_as(SQUATTER_UID, SQUATTER_UID, squat, NULL));
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_UID, other_attaches_by_owner, NULL));

	fd = dev_open(O_RDWR);
	ASSERT_LE(0, fd);
	/* root passes the mode check (CAP_IPC_OWNER), not the owner check */
	ret = ioc_attach_owner(fd, o_priv, 0, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EPERM, errno);
	/* invalid: an owner without the flag, a reserved word, uid -1 */
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.name = uptr(o_name);
	a.owner = SQUATTER_UID;
	ret = ioctl(fd, ADICT_IOC_ATTACH, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	a.flags = ADICT_ATTACH_OWNER;
	a.reserved = 1;
	ret = ioctl(fd, ADICT_IOC_ATTACH, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_attach_owner(fd, o_name, 0, (__u32)-1);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	/* the first version of the struct (no owner) still attaches */
	memset(&a, 0, sizeof(a));
	a.size = ADICT_ATTACH_ARGS_SIZE_V1;
	a.name = uptr(o_name);
	EXPECT_EQ(0, ioctl(fd, ADICT_IOC_ATTACH, &a));
	close(fd);
	unlink_quiet(o_name);
	unlink_quiet(o_priv);

	EXPECT_EQ(0, run_in_userns(0, ctr_attach_by_owner, NULL));
	fd = dev_open(O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ioc_attach_owner(fd, o_priv, ADICT_ATTACH_RDONLY, CTR_BASE));
	close(fd);
	unlink_quiet(o_priv);
}

TEST_HARNESS_MAIN
