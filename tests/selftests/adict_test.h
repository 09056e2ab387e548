/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the /dev/atomic_dict device tests.
 *
 * The tests talk to the device with raw ioctls from the uapi header and do
 * atomics on the mapping through the shared core (lib/include/adict/core.h);
 * they do not use libadict, so a library bug cannot hide a module bug.
 * Every helper returns the raw ioctl/syscall result and leaves errno alone,
 * so tests can assert `EXPECT_EQ(-1, ret); EXPECT_EQ(EINVAL, errno);`.
 *
 * Environment (set by tests/vm/init.sh inside the VM):
 *   ADICT_DEV   device node (default /dev/atomic_dict)
 *   ADICT_KO    path of atomic_dict.ko (module unload test)
 *   ADICT_BIN   directory of the helper binaries (default /bin)
 */
#ifndef ADICT_TEST_H
#define ADICT_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/atomic_dict.h>
#include <adict/core.h>

#define ADICT_PAGE	4096UL
#define NOBODY_UID	65534
#define NOBODY_GID	65534

static inline const char *adict_dev(void)
{
	const char *p = getenv("ADICT_DEV");

	return p && *p ? p : "/dev/atomic_dict";
}

static inline const char *adict_bin(void)
{
	const char *p = getenv("ADICT_BIN");

	return p && *p ? p : "/bin";
}

static inline int dev_open(int flags)
{
	return open(adict_dev(), flags | O_CLOEXEC);
}

static inline __u64 uptr(const void *p)
{
	return (__u64)(uintptr_t)p;
}

/* A table name unique to this process and a tag. */
static inline void tname(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "t-%s-%d", tag, (int)getpid());
}

static inline int ioc_create(int fd, __u64 capacity, const char *name,
			     __u32 mode, __u32 grant)
{
	struct adict_create_args a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = name ? ADICT_CREATE_NAMED : 0;
	a.capacity = capacity;
	a.name = uptr(name);
	a.mode = mode;
	a.grant = grant;
	return ioctl(fd, ADICT_IOC_CREATE, &a);
}

static inline int ioc_attach(int fd, const char *name, __u32 flags)
{
	struct adict_attach_args a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = flags;
	a.name = uptr(name);
	return ioctl(fd, ADICT_IOC_ATTACH, &a);
}

static inline int ioc_unlink(int fd, const char *name)
{
	struct adict_unlink_args a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.name = uptr(name);
	return ioctl(fd, ADICT_IOC_UNLINK, &a);
}

/* Output poisoned with 0xcc before the call, as every output must be. */
static inline int ioc_info(int fd, struct adict_info *info)
{
	memset(info, 0xcc, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(fd, ADICT_IOC_INFO, info);
}

static inline int ioc_op(int fd, __u32 op, __u64 key, __u64 arg1, __u64 arg2,
			 __u64 *result)
{
	struct adict_op_args a;
	int ret;

	memset(&a, 0xcc, sizeof(a));
	a.size = sizeof(a);
	a.op = op;
	a.key = key;
	a.arg1 = arg1;
	a.arg2 = arg2;
	ret = ioctl(fd, ADICT_IOC_OP, &a);
	if (result)
		*result = a.result;
	return ret;
}

/* Unlink by name through a fresh fd; ignores the result (cleanup). */
static inline void unlink_quiet(const char *name)
{
	int fd = dev_open(O_RDONLY);

	if (fd >= 0) {
		ioc_unlink(fd, name);
		close(fd);
	}
}

/* Open + create; returns the fd or -1 (errno set). */
static inline int table_new(__u64 capacity, const char *name, __u32 mode)
{
	int fd = dev_open(O_RDWR), e;

	if (fd < 0)
		return -1;
	if (ioc_create(fd, capacity, name, mode, 0) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Open (with @oflags) + attach; returns the fd or -1 (errno set). */
static inline int table_attach(const char *name, int oflags, __u32 flags)
{
	int fd = dev_open(oflags), e;

	if (fd < 0)
		return -1;
	if (ioc_attach(fd, name, flags) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A mapped table: the whole object, and a core over its data area. */
struct mtable {
	void *map;
	size_t bytes;
	struct adict_core core;
	struct adict_info info;
};

#define ADICT_HUGE_BYTES	(2UL << 20)	/* the PMD size on x86-64 */

/*
 * A PROT_NONE reservation of @bytes; aligned to ADICT_HUGE_BYTES for a
 * table of two of them or more, as libadict's, so that its whole huge pages
 * can be mapped by PMD (device.rst, "Huge pages").
 */
static inline char *reserve_aligned(size_t bytes)
{
	size_t slack;
	char *p, *a;

	if (bytes < 2 * ADICT_HUGE_BYTES)
		return mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE |
			    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	p = mmap(NULL, bytes + ADICT_HUGE_BYTES, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return p;
	a = (char *)(((uintptr_t)p + ADICT_HUGE_BYTES - 1) &
		     ~(uintptr_t)(ADICT_HUGE_BYTES - 1));
	slack = a - p;
	if (slack)
		munmap(p, slack);
	munmap(a + bytes, ADICT_HUGE_BYTES - slack);
	return a;
}

/*
 * Map the table bound to @fd the way libadict does: the header page
 * read-only at offset 0, the data area with @prot at offset data_offset,
 * both inside one reserved range (aligned for huge pages).  Then validate
 * the header the way every consumer must.  Returns 0, -errno (mmap/ioctl
 * failure) or -EBADMSG (header invalid or not what INFO says).
 */
static inline int mtable_map(struct mtable *m, int fd, int prot)
{
	struct adict_table_header h;
	char *base;
	int e;

	memset(m, 0, sizeof(*m));
	if (ioc_info(fd, &m->info) < 0)
		return -errno;
	m->bytes = m->info.map_bytes;
	base = reserve_aligned(m->bytes);
	if (base == MAP_FAILED)
		return -errno;
	if (mmap(base, ADICT_HEADER_BYTES, PROT_READ, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED ||
	    mmap(base + m->info.data_offset, m->bytes - m->info.data_offset,
		 prot, MAP_SHARED | MAP_FIXED, fd,
		 m->info.data_offset) == MAP_FAILED) {
		e = errno;
		munmap(base, m->bytes);
		return -e;
	}
	m->map = base;
	memcpy(&h, m->map, sizeof(h));
	if (!adict_header_valid(&h, m->bytes) ||
	    h.capacity != m->info.capacity || h.nbuckets != m->info.nbuckets ||
	    h.data_offset != m->info.data_offset) {
		munmap(m->map, m->bytes);
		m->map = NULL;
		return -EBADMSG;
	}
	adict_core_init(&m->core, &h, (char *)m->map + h.data_offset);
	return 0;
}

static inline void mtable_unmap(struct mtable *m)
{
	if (m->map)
		munmap(m->map, m->bytes);
	m->map = NULL;
}

/* One operation through the mapping: 0 or -errno as adict_core_op(). */
static inline int mop(struct mtable *m, __u32 op, __u64 key, __u64 a1,
		      __u64 a2, __u64 *res)
{
	return adict_core_op(&m->core, op, key, a1, a2, res);
}

/* Read a key's value through the mapping without inserting (0 if absent). */
static inline __u64 mget(struct mtable *m, __u64 key)
{
	__u64 v = 0;

	if (adict_core_op(&m->core, ADICT_OP_FIND, key, 0, 0, &v) < 0)
		return 0;
	return v;
}

/* Wait for @pid; returns its exit status, or 128+signal, or -1. */
static inline int wait_exit(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/*
 * Run a helper program from ADICT_BIN with argv, not forked from any table
 * user: fork + exec, so the child shares nothing with us but what it opens
 * by name.  Returns the pid or -1.
 */
static inline pid_t spawn_helper(char *const argv[])
{
	char path[256];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", adict_bin(), argv[0]);
	pid = fork();
	if (pid == 0) {
		execv(path, argv);
		_exit(127);
	}
	return pid;
}

/* splitmix64: the tests' deterministic PRNG. */
static inline __u64 rng_next(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Read a whole small file into @buf (NUL-terminated); -1 on error. */
static inline ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

static inline int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* In a child that dropped privileges: report and exit on a mismatch. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "# %s:%d: child check failed: %s "	\
			"(errno %d %s)\n", __FILE__, __LINE__, #cond,	\
			errno, strerror(errno));			\
		return 1;						\
	}								\
} while (0)
#define CHECK_ERR(expr, e) do {						\
	errno = 0;							\
	CHECK((expr) == -1 && errno == (e));				\
} while (0)

#define PARAM_DIR "/sys/module/atomic_dict/parameters/"

/* A module parameter's value, without the newline; 0 or -1. */
static inline int read_param(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	n = read_file(path, buf, len);
	if (n <= 0)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static inline int write_param(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	return write_file(path, val);
}

/* ADICT_IOC_USAGE, output poisoned first. */
static inline int ioc_usage(int fd, struct adict_usage *u)
{
	memset(u, 0xcc, sizeof(*u));
	u->size = sizeof(*u);
	return ioctl(fd, ADICT_IOC_USAGE, u);
}

/* ADICT_IOC_ATTACH with ADICT_ATTACH_OWNER and @owner. */
static inline int ioc_attach_owner(int fd, const char *name, __u32 flags,
				   __u32 owner)
{
	struct adict_attach_args a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = flags | ADICT_ATTACH_OWNER;
	a.name = uptr(name);
	a.owner = owner;
	return ioctl(fd, ADICT_IOC_ATTACH, &a);
}

/* Run @fn in a child that first switches to @uid/@gid; returns its status. */
static inline int run_as(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
			_exit(99);
		_exit(fn(arg));
	}
	return wait_exit(pid);
}

#endif /* ADICT_TEST_H */
