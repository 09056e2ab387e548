// SPDX-License-Identifier: MIT
/*
 * Every ioctl of /dev/atomic_dict with bad inputs, each refusal with its
 * errno, plus the semantics of the good path that the other tests rely on.
 *
 * What it proves:
 *  - argument structs: size below v1 -> EINVAL, above a page -> E2BIG,
 *    a larger struct with a non-zero tail -> E2BIG and with a zero tail ok,
 *    a bad pointer -> EFAULT; unknown flags, mode bits, grant bits -> EINVAL;
 *  - names: NULL/bad pointer -> EFAULT, empty or bad characters -> EINVAL,
 *    64 bytes without a NUL -> ENAMETOOLONG, running into an unmapped page
 *    -> EFAULT; a name without ADICT_CREATE_NAMED -> EINVAL;
 *  - capacity 0 -> EINVAL, 2^40+1 and 2^64-1 -> EFBIG, 2^40 (over the
 *    module's size limit) -> EFBIG: no allocation attempt, no WARN;
 *  - one bind per fd (EBUSY), create needs O_RDWR (EBADF), attach rw needs
 *    O_RDWR (EBADF), a name exists once (EEXIST), unknown name -> ENOENT;
 *  - INFO/OP/mmap on an unbound fd -> EBADFD; unknown command -> ENOTTY;
 *  - ADICT_CREATE_LOAD_HALF doubles the rows and keeps the capacity;
 *  - INFO reports what was asked; OP implements every operation as
 *    documented at enum adict_op; a full table gives ENOSPC and keeps
 *    everything it had.
 */
#include "adict_test.h"
#include "adict_harness.h"

/* A buffer @len bytes long that ends where an unmapped page begins. */
static char *edge_buffer(size_t len)
{
	char *p = mmap(NULL, 2 * ADICT_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + ADICT_PAGE, ADICT_PAGE, PROT_NONE))
		return NULL;
	return p + ADICT_PAGE - len;
}

FIXTURE(unbound) {
	int fd;
};

FIXTURE_SETUP(unbound)
{
	self->fd = dev_open(O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", adict_dev(), strerror(errno));
}

FIXTURE_TEARDOWN(unbound)
{
	close(self->fd);
}

/* ---- CREATE --------------------------------------------------------- */

TEST_F(unbound, create_garbage_flags_mode_grant)
{
	struct adict_create_args a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.capacity = 10;
	a.flags = 0x80000000;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	a.flags = ADICT_CREATE_FLAGS + 1;	/* the first bit not yet defined */
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	a.flags = ~0U;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	a.flags = 0;
	a.mode = 01000;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	a.mode = 0600;
	a.grant = ADICT_GRANT_ALL + 1;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	a.grant = 0;
	a.name = uptr("noname");	/* a name without ADICT_CREATE_NAMED */
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was bound by the failures. */
	a.name = 0;
	EXPECT_EQ(0, ioctl(self->fd, ADICT_IOC_CREATE, &a));
}

TEST_F(unbound, create_size_field)
{
	struct {
		struct adict_create_args a;
		char tail[64];
	} big;
	int ret;

	memset(&big, 0, sizeof(big));
	big.a.capacity = 10;
	big.a.size = 0;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	/* below the first size (32: no geometry) */
	big.a.size = ADICT_CREATE_ARGS_SIZE_V1 - 8;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	big.a.size = 4097;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(E2BIG, errno);
	big.a.size = 0xffffffff;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(E2BIG, errno);
	/* A newer caller's larger struct: a non-zero tail is refused ... */
	big.a.size = sizeof(big);
	big.tail[63] = 1;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(E2BIG, errno);
	/* ... a zero one is accepted. */
	big.tail[63] = 0;
	EXPECT_EQ(0, ioctl(self->fd, ADICT_IOC_CREATE, &big));
}

/*
 * A binary built against the first header passes the first sizes, and
 * command numbers that encode them (_IOW() of the struct it knew): both
 * still work, for each struct that grew (device.rst, conventions).
 */
TEST(first_sizes_work_under_their_first_numbers)
{
	const unsigned long create_v1 = _IOC(_IOC_WRITE, ADICT_IOC_MAGIC, 0x00,
					     ADICT_CREATE_ARGS_SIZE_V1);
	const unsigned long attach_v1 = _IOC(_IOC_WRITE, ADICT_IOC_MAGIC, 0x01,
					     ADICT_ATTACH_ARGS_SIZE_V1);
	const unsigned long op_v1 = _IOC(_IOC_READ | _IOC_WRITE,
					 ADICT_IOC_MAGIC, 0x04,
					 ADICT_OP_ARGS_SIZE_V1);
	struct adict_create_args c;
	struct adict_attach_args a;
	struct adict_op_args o;
	struct adict_info info;
	char name[64];
	int fd, fd2;

	ASSERT_NE(create_v1, ADICT_IOC_CREATE);
	ASSERT_NE(attach_v1, ADICT_IOC_ATTACH);
	ASSERT_NE(op_v1, ADICT_IOC_OP);
	tname(name, sizeof(name), "v1num");
	fd = dev_open(O_RDWR);
	ASSERT_LE(0, fd);
	memset(&c, 0, sizeof(c));
	c.size = ADICT_CREATE_ARGS_SIZE_V1;
	c.flags = ADICT_CREATE_NAMED;
	c.capacity = 100;
	c.name = uptr(name);
	c.mode = 0600;
	ASSERT_EQ(0, ioctl(fd, create_v1, &c)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, ioc_info(fd, &info));
	EXPECT_EQ(100, info.capacity);

	/* an ADD, then a LOAD of the same one-word key, 40-byte struct */
	memset(&o, 0, sizeof(o));
	o.size = ADICT_OP_ARGS_SIZE_V1;
	o.op = ADICT_OP_ADD;
	o.key = 42;
	o.arg1 = 5;
	ASSERT_EQ(0, ioctl(fd, op_v1, &o)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, o.result);
	o.op = ADICT_OP_LOAD;
	ASSERT_EQ(0, ioctl(fd, op_v1, &o));
	EXPECT_EQ(5, o.result);

	fd2 = dev_open(O_RDWR);
	ASSERT_LE(0, fd2);
	memset(&a, 0, sizeof(a));
	a.size = ADICT_ATTACH_ARGS_SIZE_V1;
	a.name = uptr(name);
	ASSERT_EQ(0, ioctl(fd2, attach_v1, &a)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, ioc_op(fd2, ADICT_OP_LOAD, 42, 0, 0, &o.result));
	EXPECT_EQ(5, o.result);
	close(fd2);
	EXPECT_EQ(0, ioc_unlink(fd, name));
	close(fd);
}

TEST_F(unbound, create_bad_pointers)
{
	struct adict_create_args a;
	char *edge;
	int ret;

	ret = ioctl(self->fd, ADICT_IOC_CREATE, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
	ret = ioctl(self->fd, ADICT_IOC_CREATE, (void *)16);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
	/* The struct runs into an unmapped page after its size field. */
	edge = edge_buffer(8);
	ASSERT_NE(NULL, edge);
	((__u32 *)edge)[0] = sizeof(a);
	((__u32 *)edge)[1] = 0;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, edge);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
	/* A named create whose name pointer is bad. */
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = ADICT_CREATE_NAMED;
	a.capacity = 10;
	a.name = 0;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
	a.name = 0xfffffffffffff000ULL;
	ret = ioctl(self->fd, ADICT_IOC_CREATE, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(unbound, create_bad_names)
{
	char longname[ADICT_NAME_MAX + 8];
	char *edge;
	int ret;

	ret = ioc_create(self->fd, 10, "", 0600, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_create(self->fd, 10, "a/b", 0600, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_create(self->fd, 10, ".hidden", 0600, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_create(self->fd, 10, "sp ace", 0600, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	/* overlong: 64 characters and a NUL */
	memset(longname, 'x', sizeof(longname));
	longname[ADICT_NAME_MAX] = 0;
	ret = ioc_create(self->fd, 10, longname, 0600, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENAMETOOLONG, errno);
	/* unterminated: 64 characters right before an unmapped page */
	edge = edge_buffer(ADICT_NAME_MAX);
	ASSERT_NE(NULL, edge);
	memset(edge, 'y', ADICT_NAME_MAX);
	ret = ioc_create(self->fd, 10, edge, 0600, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENAMETOOLONG, errno);
	/* unterminated and shorter than the maximum: the read faults */
	ret = ioc_create(self->fd, 10, edge + ADICT_NAME_MAX - 10, 0600, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
	/* 63 characters is the longest name */
	longname[ADICT_NAME_MAX - 1] = 0;
	memcpy(longname, "t-long-", 7);
	snprintf(longname + 7, 10, "%08d", (int)getpid());
	longname[15] = 'x';
	EXPECT_EQ(0, ioc_create(self->fd, 10, longname, 0600, 0));
	EXPECT_EQ(0, ioc_unlink(self->fd, longname));
}

/* Names are ASCII: [A-Za-z0-9._-].  The kernel's isalnum() is Latin-1. */
TEST_F(unbound, create_name_with_high_bit_bytes_refused)
{
	int ret;

	ret = ioc_create(self->fd, 10, "\xff\xfe", 0600, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_create(self->fd, 10, "caf\xe9", 0600, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	if (ret == 0) {
		ioc_unlink(self->fd, "\xff\xfe");
		ioc_unlink(self->fd, "caf\xe9");
	}
}

TEST_F(unbound, create_absurd_capacities)
{
	static const __u64 bad[] = {
		ADICT_CAPACITY_MAX + 1, ~0ULL, 1ULL << 63, ADICT_CAPACITY_MAX,
	};
	unsigned int i;
	int ret;

	ret = ioc_create(self->fd, 0, NULL, 0, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = ioc_create(self->fd, bad[i], NULL, 0, 0);
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(EFBIG, errno) TH_LOG("capacity %llu", (unsigned long long)bad[i]);
	}
	/* capacity 1 is the smallest table */
	EXPECT_EQ(0, ioc_create(self->fd, 1, NULL, 0, 0));
}

TEST_F(unbound, second_bind_is_ebusy)
{
	char name[64];
	int ret;

	tname(name, sizeof(name), "busy");
	ASSERT_EQ(0, ioc_create(self->fd, 10, name, 0600, 0));
	ret = ioc_create(self->fd, 10, NULL, 0, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EBUSY, errno);
	ret = ioc_attach(self->fd, name, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, ioc_unlink(self->fd, name));
}

TEST(create_needs_rdwr_fd)
{
	int fd = dev_open(O_RDONLY), ret;

	ASSERT_LE(0, fd);
	ret = ioc_create(fd, 10, NULL, 0, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EBADF, errno);
	close(fd);
}

TEST(duplicate_name_is_eexist)
{
	char name[64];
	int fd1, fd2, ret;

	tname(name, sizeof(name), "dup");
	fd1 = table_new(10, name, 0600);
	ASSERT_LE(0, fd1);
	fd2 = dev_open(O_RDWR);
	ASSERT_LE(0, fd2);
	ret = ioc_create(fd2, 10, name, 0600, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EEXIST, errno);
	/* after unlink the name is free again, for a new table */
	EXPECT_EQ(0, ioc_unlink(fd1, name));
	EXPECT_EQ(0, ioc_create(fd2, 10, name, 0600, 0));
	EXPECT_EQ(0, ioc_unlink(fd2, name));
	close(fd1);
	close(fd2);
}

/* ---- ATTACH ---------------------------------------------------------- */

TEST_F(unbound, attach_bad_inputs)
{
	struct {
		struct adict_attach_args a;
		char tail[16];
	} big;
	char name[64], longname[ADICT_NAME_MAX + 1];
	int owner, ret;

	tname(name, sizeof(name), "att");
	owner = table_new(10, name, 0666);
	ASSERT_LE(0, owner);

	ret = ioc_attach(self->fd, name, 0x8);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_attach(self->fd, name, ~0U);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_attach(self->fd, name, ADICT_ATTACH_RDONLY | ADICT_ATTACH_MEDIATED);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_attach(self->fd, NULL, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
	ret = ioc_attach(self->fd, "t-no-such-table", 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
	memset(longname, 'z', sizeof(longname));
	ret = ioc_attach(self->fd, longname, 0);	/* no NUL in 64 bytes */
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENAMETOOLONG, errno);
	ret = ioctl(self->fd, ADICT_IOC_ATTACH, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);

	memset(&big, 0, sizeof(big));
	big.a.name = uptr(name);
	big.a.size = 8;
	ret = ioctl(self->fd, ADICT_IOC_ATTACH, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	big.a.size = sizeof(big);
	big.tail[3] = 7;
	ret = ioctl(self->fd, ADICT_IOC_ATTACH, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(E2BIG, errno);
	big.tail[3] = 0;
	EXPECT_EQ(0, ioctl(self->fd, ADICT_IOC_ATTACH, &big));

	EXPECT_EQ(0, ioc_unlink(owner, name));
	close(owner);
}

TEST(attach_rw_needs_rdwr_fd)
{
	char name[64];
	int owner, fd, ret;

	tname(name, sizeof(name), "attrw");
	owner = table_new(10, name, 0666);
	ASSERT_LE(0, owner);
	fd = dev_open(O_RDONLY);
	ASSERT_LE(0, fd);
	ret = ioc_attach(fd, name, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EBADF, errno);
	/* read-only on a read-only fd is what it is for */
	EXPECT_EQ(0, ioc_attach(fd, name, ADICT_ATTACH_RDONLY));
	close(fd);
	EXPECT_EQ(0, ioc_unlink(owner, name));
	close(owner);
}

/* ---- UNLINK ---------------------------------------------------------- */

TEST_F(unbound, unlink_bad_inputs)
{
	struct adict_unlink_args a;
	char name[64];
	int owner, ret;

	tname(name, sizeof(name), "unl");
	owner = table_new(10, name, 0600);
	ASSERT_LE(0, owner);

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.name = uptr(name);
	a.flags = 1;
	ret = ioctl(self->fd, ADICT_IOC_UNLINK, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	a.flags = 0;
	a.size = 4;
	ret = ioctl(self->fd, ADICT_IOC_UNLINK, &a);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_unlink(self->fd, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
	ret = ioc_unlink(self->fd, "");
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_unlink(self->fd, "t-no-such-table");
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
	/* an unbound fd may unlink; the second time the name is gone */
	EXPECT_EQ(0, ioc_unlink(self->fd, name));
	ret = ioc_unlink(self->fd, name);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
	close(owner);
}

/* ---- INFO ------------------------------------------------------------ */

TEST_F(unbound, ops_on_unbound_fd_are_ebadfd)
{
	struct adict_info info;
	void *p;
	int ret;

	ret = ioc_info(self->fd, &info);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EBADFD, errno);
	ret = ioc_op(self->fd, ADICT_OP_ADD, 1, 1, 0, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EBADFD, errno);
	p = mmap(NULL, ADICT_PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EBADFD, errno);
}

TEST_F(unbound, unknown_commands_are_enotty)
{
	__u64 buf[64];
	int ret;

	memset(buf, 0, sizeof(buf));
	ret = ioctl(self->fd, _IO(ADICT_IOC_MAGIC, 0x55), buf);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOTTY, errno);
	/* right number, wrong size or direction */
	ret = ioctl(self->fd, _IOW(ADICT_IOC_MAGIC, 0x00, __u64), buf);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOTTY, errno);
	ret = ioctl(self->fd, _IOR(ADICT_IOC_MAGIC, 0x03, struct adict_info), buf);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOTTY, errno);
	ret = ioctl(self->fd, _IOWR(0xAD, 0x04, struct adict_op_args), buf);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOTTY, errno);
	ret = ioctl(self->fd, TCGETS, buf);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOTTY, errno);
}

TEST(info_reports_the_table)
{
	struct {
		struct adict_info i;
		unsigned char tail[32];
	} big;
	struct adict_info info, other;
	char name[64];
	unsigned int j;
	int fd, fd2, ret;

	tname(name, sizeof(name), "info");
	fd = dev_open(O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioc_create(fd, 1000, name, 0640, 0));
	ASSERT_EQ(0, ioc_info(fd, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(ADICT_TABLE_F_DEVICE | ADICT_TABLE_F_NAMED, info.flags);
	EXPECT_EQ(1000, info.capacity);
	EXPECT_EQ(adict_geometry(1000), info.nbuckets);
	EXPECT_EQ(adict_map_bytes(info.nbuckets), info.map_bytes);
	EXPECT_EQ(0, info.map_bytes % ADICT_PAGE);
	EXPECT_EQ(ADICT_HEADER_BYTES, info.data_offset);
	EXPECT_EQ(0, info.used);
	EXPECT_EQ(getuid(), info.uid);
	EXPECT_EQ(getgid(), info.gid);
	EXPECT_EQ(0640, info.mode);
	EXPECT_EQ(ADICT_ACCESS_RDWR, info.access);
	EXPECT_EQ(ADICT_GRANT_READ, info.grant);	/* 0 means reads only */
	EXPECT_EQ(1, info.users);
	EXPECT_NE(0, info.id);
	EXPECT_STREQ(name, info.name);

	/* A larger struct: the part this kernel does not know reads 0. */
	memset(&big, 0xcc, sizeof(big));
	big.i.size = sizeof(big);
	ASSERT_EQ(0, ioctl(fd, ADICT_IOC_INFO, &big));
	EXPECT_EQ(sizeof(info), big.i.size);
	for (j = 0; j < sizeof(big.tail); j++)
		ASSERT_EQ(0, big.tail[j]);
	big.i.size = sizeof(info) - 4;
	ret = ioctl(fd, ADICT_IOC_INFO, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	big.i.size = 8192;
	ret = ioctl(fd, ADICT_IOC_INFO, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(E2BIG, errno);
	ret = ioctl(fd, ADICT_IOC_INFO, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);

	/* An attacher sees the same table and counts as a user. */
	fd2 = table_attach(name, O_RDONLY, ADICT_ATTACH_RDONLY);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioc_info(fd2, &other));
	EXPECT_EQ(info.id, other.id);
	EXPECT_EQ(ADICT_ACCESS_RDONLY, other.access);
	EXPECT_EQ(2, other.users);
	close(fd2);
	ASSERT_EQ(0, ioc_info(fd, &other));
	EXPECT_EQ(1, other.users);

	/* Anonymous tables: no name, their own id. */
	fd2 = table_new(10, NULL, 0);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioc_info(fd2, &other));
	EXPECT_EQ(ADICT_TABLE_F_DEVICE, other.flags);
	EXPECT_STREQ("", other.name);
	EXPECT_NE(info.id, other.id);
	close(fd2);
	EXPECT_EQ(0, ioc_unlink(fd, name));
	close(fd);
}

/*
 * ADICT_CREATE_LOAD_HALF: rows for twice the capacity, ADICT_TABLE_F_LOAD_HALF
 * in INFO and in the header (which validates), the same capacity through
 * the mapping and through ADICT_IOC_OP, then ENOSPC.  A named table keeps
 * the flag for its attachers.
 */
TEST(create_load_half_should_double_the_rows)
{
	struct adict_create_args a;
	struct adict_info info;
	struct mtable m;
	char name[64];
	__u64 i, r;
	int fd, fd2, bad = 0;

	fd = dev_open(O_RDWR);
	ASSERT_LE(0, fd);
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = ADICT_CREATE_LOAD_HALF;
	a.capacity = 1000;
	ASSERT_EQ(0, ioctl(fd, ADICT_IOC_CREATE, &a));
	ASSERT_EQ(0, ioc_info(fd, &info));
	EXPECT_EQ(ADICT_TABLE_F_DEVICE | ADICT_TABLE_F_LOAD_HALF, info.flags);
	EXPECT_EQ(1000, info.capacity);
	EXPECT_EQ(adict_nbuckets(1000, ADICT_BUCKET_SLOTS,
				 ADICT_TABLE_F_LOAD_HALF), info.nbuckets);
	EXPECT_LE(2000, (info.nbuckets - 1) * ADICT_BUCKET_SLOTS);
	EXPECT_LT(adict_geometry(1000), info.nbuckets);
	EXPECT_EQ(adict_map_bytes(info.nbuckets), info.map_bytes);
	/* The header says so too, and is valid with it (mtable_map checks). */
	ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
	EXPECT_EQ(ADICT_TABLE_F_LOAD_HALF,
		  ((struct adict_table_header *)m.map)->flags &
		  ADICT_TABLE_F_LOAD_HALF);
	for (i = 1; i <= 999; i++)
		bad |= mop(&m, ADICT_OP_ADD, i * 977, i, 0, &r) != 0;
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, ioc_op(fd, ADICT_OP_ADD, 5, 1, 0, &r));	/* key 1000 */
	EXPECT_EQ(-ENOSPC, mop(&m, ADICT_OP_INSERT, 6, 0, 0, &r));
	EXPECT_EQ(-1, ioc_op(fd, ADICT_OP_INSERT, 6, 0, 0, &r));
	EXPECT_EQ(ENOSPC, errno);
	for (i = 1; i <= 999; i++)
		bad |= mop(&m, ADICT_OP_FIND, i * 977, 0, 0, &r) != 0 || r != i;
	EXPECT_EQ(0, bad);
	mtable_unmap(&m);
	close(fd);

	/* Named, with a geometry of its own: an attacher sees the same flag. */
	tname(name, sizeof(name), "half");
	fd = dev_open(O_RDWR);
	ASSERT_LE(0, fd);
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = ADICT_CREATE_NAMED | ADICT_CREATE_LOAD_HALF;
	a.capacity = 100;
	a.name = uptr(name);
	a.key32 = 1;
	a.value_bytes = 4;
	ASSERT_EQ(0, ioctl(fd, ADICT_IOC_CREATE, &a));
	fd2 = table_attach(name, O_RDONLY, ADICT_ATTACH_RDONLY);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioc_info(fd2, &info));
	EXPECT_EQ(ADICT_TABLE_F_LOAD_HALF, info.flags & ADICT_TABLE_F_LOAD_HALF);
	EXPECT_EQ(adict_nbuckets(100, 8, ADICT_TABLE_F_LOAD_HALF), info.nbuckets);
	ASSERT_EQ(0, mtable_map(&m, fd2, PROT_READ));
	mtable_unmap(&m);
	close(fd2);
	EXPECT_EQ(0, ioc_unlink(fd, name));
	close(fd);
}

/* ---- OP -------------------------------------------------------------- */

FIXTURE(bound) {
	int fd;
};

FIXTURE_SETUP(bound)
{
	self->fd = table_new(10, NULL, 0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(bound)
{
	close(self->fd);
}

TEST_F(bound, op_bad_inputs)
{
	struct {
		struct adict_op_args a;
		char tail[8];
	} big;
	__u64 r;
	int ret;

	ret = ioc_op(self->fd, ADICT_OP_COUNT, 1, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_op(self->fd, 0xffffffff, 1, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioc_op(self->fd, ADICT_OP_ADD, 0, 1, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	ret = ioctl(self->fd, ADICT_IOC_OP, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EFAULT, errno);
	memset(&big, 0, sizeof(big));
	big.a.op = ADICT_OP_ADD;
	big.a.key = 1;
	big.a.arg1 = 1;
	big.a.size = 16;
	ret = ioctl(self->fd, ADICT_IOC_OP, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	big.a.size = sizeof(big);
	big.tail[0] = 1;
	ret = ioctl(self->fd, ADICT_IOC_OP, &big);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(E2BIG, errno);
	/* none of the refused calls touched the table */
	ret = ioc_op(self->fd, ADICT_OP_FIND, 1, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(bound, every_operation_as_documented)
{
	__u64 r;
	int ret;

	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_INSERT, 1, 0, 0, &r));
	EXPECT_EQ(1, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_INSERT, 1, 0, 0, &r));
	EXPECT_EQ(0, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, 1, 0, 0, &r));
	EXPECT_EQ(0, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_STORE, 1, 10, 0, &r));
	EXPECT_EQ(0, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_SWAP, 1, 20, 0, &r));
	EXPECT_EQ(10, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_ADD, 1, 5, 0, &r));
	EXPECT_EQ(20, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_SUB, 1, 30, 0, &r));
	EXPECT_EQ(25, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, 1, 0, 0, &r));
	EXPECT_EQ((__u64)-5, r);	/* wraps modulo 2^64 */
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_STORE, 1, 0xf0f0, 0, &r));
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_AND, 1, 0xff00, 0, &r));
	EXPECT_EQ(0xf0f0, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_OR, 1, 0x000f, 0, &r));
	EXPECT_EQ(0xf000, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_XOR, 1, 0xffff, 0, &r));
	EXPECT_EQ(0xf00f, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_CAS, 1, 0x0ff0, 7, &r));
	EXPECT_EQ(0x0ff0, r);	/* swapped */
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_CAS, 1, 0x0ff0, 8, &r));
	EXPECT_EQ(7, r);	/* not swapped */
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_FIND, 1, 0, 0, &r));
	EXPECT_EQ(7, r);
	ret = ioc_op(self->fd, ADICT_OP_FIND, 2, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
	/* key UINT64_MAX is an ordinary key */
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_ADD, ~0ULL, 3, 0, &r));
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, ~0ULL, 0, 0, &r));
	EXPECT_EQ(3, r);
}

TEST_F(bound, full_table_is_enospc_and_keeps_its_keys)
{
	struct adict_info info;
	__u64 r, k;
	int ret;

	for (k = 1; k <= 10; k++)
		ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_STORE, k * 1000003, k, 0, &r));
	ret = ioc_op(self->fd, ADICT_OP_ADD, 77, 1, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOSPC, errno);
	ret = ioc_op(self->fd, ADICT_OP_INSERT, 78, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOSPC, errno);
	/* a reader's miss on a full table is still a miss, not ENOSPC */
	ret = ioc_op(self->fd, ADICT_OP_FIND, 77, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
	for (k = 1; k <= 10; k++) {
		ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_ADD, k * 1000003, 1, 0, &r));
		EXPECT_EQ(k, r);
	}
	ASSERT_EQ(0, ioc_info(self->fd, &info));
	EXPECT_EQ(10, info.used);
}

TEST_F(bound, scribbled_table_keeps_kernel_bounded)
{
	struct mtable m;
	__u64 *w, r, i, n;
	int ret;

	/* Fill every slot with garbage keys and a huge used count. */
	ASSERT_EQ(0, mtable_map(&m, self->fd, PROT_READ | PROT_WRITE));
	w = (__u64 *)((char *)m.map + m.info.data_offset);
	n = (m.bytes - m.info.data_offset) / 8;
	for (i = 0; i < n; i++)
		w[i] = 0x9e3779b97f4a7c15ULL * (i + 1) | 1;
	/* Every kernel op terminates with a clean status. */
	ret = ioc_op(self->fd, ADICT_OP_ADD, 123456789, 1, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == ENOSPC);
	ret = ioc_op(self->fd, ADICT_OP_FIND, 123456789, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
	/* a garbage key that is present is found */
	r = w[(64 + 16) / 8];	/* bucket 1, slot 1's key */
	ret = ioc_op(self->fd, ADICT_OP_FIND, r, 0, 0, &r);
	EXPECT_EQ(0, ret);
	ASSERT_EQ(0, ioc_info(self->fd, &m.info));
	EXPECT_GE(m.info.capacity, m.info.used);	/* clamped */
	mtable_unmap(&m);
}

TEST_HARNESS_MAIN
