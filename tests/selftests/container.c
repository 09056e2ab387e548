// SPDX-License-Identifier: MIT
/*
 * Containers made inside the VM: each is a process tree in new user, mount,
 * pid and ipc namespaces.  Its root (uid 0 inside) is host uid BASE, BASE
 * being 100000 for container A and 200000 for container B.  Each is "given
 * the device node" the way a container runtime does it: a private tmpfs in
 * the container's mount namespace with /dev/atomic_dict bind-mounted into
 * it, and ADICT_DEV pointing there.  The programs inside are adict-worker,
 * exec'd as pid 1 of the container's pid namespace.
 *
 * What it proves:
 *  - two containers share a named counter table and lose no update
 *    (exact totals), whether the host or a container created it;
 *  - a table created in a container is owned by the container root's host
 *    uid (INFO and /proc show BASE), and another container's root cannot
 *    attach it when its mode is 0600, while the same container can;
 *  - a container's root cannot attach (EACCES) or unlink (EPERM) a table
 *    that a host user created with mode 0600, neither root's nor uid
 *    1000's: CAP_IPC_OWNER in its own user namespace does not count.
 */
#include <sched.h>
#include <sys/mount.h>
#include "adict_test.h"
#include "adict_harness.h"

#define BASE_A 100000
#define BASE_B 200000

static int write_map(pid_t pid, const char *file, unsigned int base)
{
	char path[64], map[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	snprintf(map, sizeof(map), "0 %u 65536\n", base);
	return write_file(path, map);
}

/*
 * Start adict-worker @argv as pid 1 of a new container whose root is host
 * uid/gid @base.  Returns the pid of the container's outer process (wait
 * for it with wait_exit(): its status is the worker's), or -1.
 */
static pid_t container_spawn(unsigned int base, char *const argv[])
{
	int c2p[2], p2c[2];
	char c, dir[64], node[80], path[256];
	pid_t pid, inner;

	if (pipe(c2p) || pipe(p2c))
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/ctr-%u-%d", base, (int)getpid());
	mkdir(dir, 0755);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(c2p[0]);
		close(p2c[1]);
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
			    CLONE_NEWIPC))
			_exit(90);
		if (write(c2p[1], "u", 1) != 1 || read(p2c[0], &c, 1) != 1)
			_exit(91);
		if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
			_exit(92);
		/* the device node, given to the container */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", dir, "tmpfs", 0, "mode=0755"))
			_exit(93);
		snprintf(node, sizeof(node), "%s/atomic_dict", dir);
		close(open(node, O_CREAT | O_WRONLY, 0600));
		if (mount(adict_dev(), node, NULL, MS_BIND, NULL))
			_exit(94);
		setenv("ADICT_DEV", node, 1);
		inner = fork();		/* pid 1 of the new pid namespace */
		if (inner < 0)
			_exit(95);
		if (inner == 0) {
			if (getpid() != 1)
				_exit(96);
			snprintf(path, sizeof(path), "%s/%s", adict_bin(), argv[0]);
			execv(path, argv);
			_exit(127);
		}
		_exit(wait_exit(inner));
	}
	close(c2p[1]);
	close(p2c[0]);
	if (read(c2p[0], &c, 1) != 1 ||
	    write_map(pid, "uid_map", base) || write_map(pid, "gid_map", base) ||
	    write(p2c[1], "g", 1) != 1) {
		kill(pid, SIGKILL);
		wait_exit(pid);
		pid = -1;
	}
	close(c2p[0]);
	close(p2c[1]);
	return pid;
}

/* Run to completion; returns the exit status. */
static int container_run(unsigned int base, char *const argv[])
{
	pid_t pid = container_spawn(base, argv);

	return pid < 0 ? -1 : wait_exit(pid);
}

/*
 * Can this kernel make the namespaces a container needs?  Asked of the
 * kernel alone, never through the module: a regression in the module's
 * attach path must fail the tests below, not turn them into skips.
 */
static bool userns_usable(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
			      CLONE_NEWIPC) ? 1 : 0);
	return pid > 0 && wait_exit(pid) == 0;
}

#define ITERS "100000"
#define NKEYS 50

FIXTURE(ctr) {
	char name[64];
	int fd;
};

FIXTURE_SETUP(ctr)
{
	self->fd = -1;
	tname(self->name, sizeof(self->name), "ctr");
	if (!userns_usable())
		SKIP(return, "user namespaces unavailable in this kernel");
}

FIXTURE_TEARDOWN(ctr)
{
	unlink_quiet(self->name);
	if (self->fd >= 0)
		close(self->fd);
}

static void check_totals(struct __test_metadata *_metadata, const char *name,
			 __u64 want)
{
	struct adict_info info;
	int fd = table_attach(name, O_RDONLY, ADICT_ATTACH_RDONLY);
	__u64 k, r;

	ASSERT_LE(0, fd);
	for (k = 1; k <= NKEYS; k++) {
		ASSERT_EQ(0, ioc_op(fd, ADICT_OP_LOAD, k, 0, 0, &r));
		EXPECT_EQ(want, r) TH_LOG("key %llu", (unsigned long long)k);
	}
	ASSERT_EQ(0, ioc_info(fd, &info));
	EXPECT_EQ(NKEYS, info.used);
	close(fd);
}

TEST_F_TIMEOUT(ctr, host_table_shared_by_two_containers, 300)
{
	char *a[] = { "adict-worker", "add", self->name, ITERS, "50", "map", NULL };
	char *b[] = { "adict-worker", "add", self->name, ITERS, "50", "ioctl", NULL };
	pid_t pa, pb;

	RETURN_IF_SKIPPED();

	self->fd = table_new(1000, self->name, 0666);
	ASSERT_LE(0, self->fd);
	b[3] = "20000";
	pa = container_spawn(BASE_A, a);
	ASSERT_LT(0, pa);
	pb = container_spawn(BASE_B, b);
	ASSERT_LT(0, pb);
	EXPECT_EQ(0, wait_exit(pa));
	EXPECT_EQ(0, wait_exit(pb));
	check_totals(_metadata, self->name, (100000 + 20000) / NKEYS);
}

TEST_F_TIMEOUT(ctr, container_table_shared_and_owned_by_its_root, 300)
{
	char *create[] = { "adict-worker", "create", self->name, "1000", "0666", NULL };
	char *a[] = { "adict-worker", "add", self->name, ITERS, "50", "map", NULL };
	struct adict_info info;
	pid_t pa, pb;

	RETURN_IF_SKIPPED();

	ASSERT_EQ(0, container_run(BASE_A, create));
	self->fd = table_attach(self->name, O_RDONLY, ADICT_ATTACH_RDONLY);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioc_info(self->fd, &info));
	EXPECT_EQ(BASE_A, info.uid);
	EXPECT_EQ(BASE_A, info.gid);
	EXPECT_EQ(0666, info.mode);
	pa = container_spawn(BASE_A, a);
	ASSERT_LT(0, pa);
	pb = container_spawn(BASE_B, a);
	ASSERT_LT(0, pb);
	EXPECT_EQ(0, wait_exit(pa));
	EXPECT_EQ(0, wait_exit(pb));
	check_totals(_metadata, self->name, 2 * 100000 / NKEYS);
}

TEST_F(ctr, container_0600_table_private_to_its_container)
{
	char *create[] = { "adict-worker", "create", self->name, "10", "0600", NULL };
	char *rw[] = { "adict-worker", "probe", self->name, "rw", NULL };
	char *ro[] = { "adict-worker", "probe", self->name, "ro", NULL };
	char *unl[] = { "adict-worker", "unlink", self->name, NULL };

	RETURN_IF_SKIPPED();

	ASSERT_EQ(0, container_run(BASE_A, create));
	EXPECT_EQ(EACCES, container_run(BASE_B, rw));
	EXPECT_EQ(EACCES, container_run(BASE_B, ro));
	EXPECT_EQ(EPERM, container_run(BASE_B, unl));
	EXPECT_EQ(0, container_run(BASE_A, rw));	/* same owner */
	EXPECT_EQ(0, container_run(BASE_A, unl));
}

TEST_F(ctr, container_root_cannot_use_host_0600_tables)
{
	char *rw[] = { "adict-worker", "probe", self->name, "rw", NULL };
	char *ro[] = { "adict-worker", "probe", self->name, "ro", NULL };
	char *unl[] = { "adict-worker", "unlink", self->name, NULL };
	char *create[] = { "adict-worker", "create", self->name, "10", "0600", NULL };
	pid_t pid;

	RETURN_IF_SKIPPED();

	/* a table of host root */
	self->fd = table_new(10, self->name, 0600);
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(EACCES, container_run(BASE_A, rw));
	EXPECT_EQ(EACCES, container_run(BASE_A, ro));
	EXPECT_EQ(EPERM, container_run(BASE_A, unl));
	ASSERT_EQ(0, ioc_unlink(self->fd, self->name));

	/* a table of host user 1000 */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgid(1000) || setuid(1000))
			_exit(99);
		char path[256];

		snprintf(path, sizeof(path), "%s/adict-worker", adict_bin());
		execv(path, create);
		_exit(127);
	}
	ASSERT_EQ(0, wait_exit(pid));
	EXPECT_EQ(EACCES, container_run(BASE_A, rw));
	EXPECT_EQ(EACCES, container_run(BASE_A, ro));
	EXPECT_EQ(EPERM, container_run(BASE_A, unl));
	/* host root still can (CAP_IPC_OWNER in the initial namespace) */
	EXPECT_EQ(0, ioc_unlink(self->fd, self->name));
}

TEST_HARNESS_MAIN
