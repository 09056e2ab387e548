// SPDX-License-Identifier: MIT
/*
 * Module unload while tables are in use.  Runs last in the VM: it unloads
 * atomic_dict and loads it again from $ADICT_KO, and leaves it loaded.
 *
 * What it proves:
 *  - unloading is refused (EAGAIN/EWOULDBLOCK, module still there) while an
 *    fd of the device is open, bound or not;
 *  - ... and while a mapping exists after its fd was closed, in this
 *    process or only in another one;
 *  - once the last fd and mapping are gone, unloading succeeds; a named
 *    table nobody uses does not block it (it is freed at unload: named
 *    tables do not survive the module), and the reloaded module has none.
 */
#include <dirent.h>
#include "adict_test.h"
#include "adict_harness.h"

static int mod_unload(void)
{
	return syscall(SYS_delete_module, "atomic_dict", O_NONBLOCK);
}

static bool mod_loaded(void)
{
	return access("/sys/module/atomic_dict", F_OK) == 0;
}

static int mod_load(void)
{
	const char *ko = getenv("ADICT_KO");
	int fd, ret, i;

	if (!ko)
		return -1;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	/* devtmpfs creates the node asynchronously */
	for (i = 0; !ret && i < 200 && access(adict_dev(), F_OK); i++)
		usleep(10000);
	return ret;
}

/* Who holds the module: its refcount, and every fd or mapping of the device. */
static void dump_holders(void)
{
	char path[300], link[256], buf[4096], *line;
	struct dirent *p, *f;
	DIR *proc, *fds;
	ssize_t n;

	if (read_file("/proc/modules", buf, sizeof(buf)) > 0)
		for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
			if (!strncmp(line, "atomic_dict ", 12))
				printf("# /proc/modules: %s\n", line);
	proc = opendir("/proc");
	while (proc && (p = readdir(proc))) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		while (fds && (f = readdir(fds))) {
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n > 0 && (link[n] = 0, strstr(link, "atomic_dict")))
				printf("# pid %s fd %s -> %s\n", p->d_name, f->d_name, link);
		}
		if (fds)
			closedir(fds);
		snprintf(path, sizeof(path), "/proc/%s/maps", p->d_name);
		if (read_file(path, buf, sizeof(buf)) > 0 && strstr(buf, "atomic_dict"))
			printf("# pid %s maps the device\n", p->d_name);
	}
	if (proc)
		closedir(proc);
	fflush(stdout);
}

FIXTURE(mod) {
	int unused;
};

FIXTURE_SETUP(mod)
{
	char buf[4096], *line;
	int refs = 0;

	if (!getenv("ADICT_KO"))
		SKIP(return, "ADICT_KO (path of atomic_dict.ko) is not set");
	if (!mod_loaded())
		ASSERT_EQ(0, mod_load());
	/* nothing may hold the module when a test starts */
	if (read_file("/proc/modules", buf, sizeof(buf)) > 0 &&
	    (line = strstr(buf, "atomic_dict ")) &&
	    sscanf(line, "atomic_dict %*u %d", &refs) == 1 && refs != 0) {
		dump_holders();
		ASSERT_EQ(0, refs) TH_LOG("atomic_dict is in use before the test");
	}
}

FIXTURE_TEARDOWN(mod)
{
	if (!mod_loaded())
		mod_load();
}

TEST_F(mod, refused_while_fd_open)
{
	int fd, ret;

	RETURN_IF_SKIPPED();

	fd = dev_open(O_RDONLY);
	ASSERT_LE(0, fd);
	ret = mod_unload();
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_TRUE(mod_loaded());
	close(fd);
	fd = dev_open(O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioc_create(fd, 10, NULL, 0, 0));
	ret = mod_unload();
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);
	EXPECT_EQ(0, mod_unload());
	EXPECT_FALSE(mod_loaded());
	EXPECT_EQ(0, mod_load());
}

TEST_F(mod, refused_while_mapped_after_close)
{
	struct mtable m;
	__u64 r;
	int fd, ret;

	RETURN_IF_SKIPPED();

	fd = table_new(1000, NULL, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, close(fd));
	ret = mod_unload();
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, errno);
	/* the table still works */
	ASSERT_EQ(0, mop(&m, ADICT_OP_ADD, 1, 1, 0, &r));
	EXPECT_EQ(1, mget(&m, 1));
	mtable_unmap(&m);
	EXPECT_EQ(0, mod_unload());
	EXPECT_EQ(0, mod_load());
}

TEST_F(mod, refused_while_another_process_maps)
{
	struct mtable m;
	int fd, ret, go[2];
	__u64 r;
	pid_t pid;
	char c;

	RETURN_IF_SKIPPED();

	ASSERT_EQ(0, pipe(go));
	fd = table_new(1000, NULL, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(fd);
		close(go[1]);
		/* hold the inherited mapping until told to go */
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(mget(&m, 2) == 5 ? 0 : 2);
	}
	close(go[0]);
	ASSERT_EQ(0, mop(&m, ADICT_OP_STORE, 2, 5, 0, &r));
	mtable_unmap(&m);
	close(fd);
	/* only the child's mapping is left */
	ret = mod_unload();
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, errno);
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, wait_exit(pid));
	close(go[1]);
	EXPECT_EQ(0, mod_unload());
	EXPECT_EQ(0, mod_load());
}

TEST_F(mod, unused_named_table_is_freed_at_unload)
{
	char name[64];
	int fd, ret;

	RETURN_IF_SKIPPED();

	tname(name, sizeof(name), "unload");
	fd = table_new(1000, name, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(0, mod_unload());
	EXPECT_EQ(0, mod_load());
	fd = table_attach(name, O_RDWR, 0);
	EXPECT_EQ(-1, fd);
	ret = errno;
	EXPECT_EQ(ENOENT, ret);
}

TEST_HARNESS_MAIN
