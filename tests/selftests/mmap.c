// SPDX-License-Identifier: MIT
/*
 * mmap of /dev/atomic_dict: the checklist of
 * tools/testing/selftests/bpf/prog_tests/mmap.c applied to a table.
 *
 * What it proves:
 *  - the header page is read-only to every mapping, and stays so
 *    (mmap(PROT_WRITE) and mprotect(PROT_WRITE) both fail with EACCES);
 *  - a read-only attachment (O_RDONLY fd, or ADICT_ATTACH_RDONLY on an
 *    O_RDWR fd, or mediated) can never get a writable mapping;
 *  - no executable mapping, no MAP_PRIVATE, no range outside the table,
 *    no growing with mremap;
 *  - a mapping is one piece: a partial munmap fails cleanly and so does a
 *    MAP_FIXED over part of it, leaving it intact;
 *  - 500 mmap/munmap cycles leave the table's user count where it was;
 *  - the table stays alive through a mapping after close and after unlink;
 *  - MADV_DONTNEED then a touch gives the same page back (values kept);
 *  - what is written through the mapping is what the kernel reads (OP).
 */
#include "adict_test.h"
#include "adict_harness.h"

#define CAP 5000

FIXTURE(rw) {
	int fd;
	struct adict_info info;
	size_t data_len;
};

FIXTURE_SETUP(rw)
{
	self->fd = table_new(CAP, NULL, 0);
	ASSERT_LE(0, self->fd) TH_LOG("create: %s", strerror(errno));
	ASSERT_EQ(0, ioc_info(self->fd, &self->info));
	self->data_len = self->info.map_bytes - self->info.data_offset;
	ASSERT_LT(ADICT_PAGE, self->data_len);
}

FIXTURE_TEARDOWN(rw)
{
	close(self->fd);
}

TEST_F(rw, header_maps_read_only_and_matches_info)
{
	struct adict_table_header h;
	void *p;

	p = mmap(NULL, ADICT_PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(&h, p, sizeof(h));
	EXPECT_TRUE(adict_header_valid(&h, self->info.map_bytes));
	EXPECT_EQ(ADICT_TABLE_MAGIC, h.magic);
	EXPECT_EQ(CAP, h.capacity);
	EXPECT_EQ(self->info.nbuckets, h.nbuckets);
	EXPECT_EQ(self->info.map_bytes, h.map_bytes);
	EXPECT_EQ(ADICT_TABLE_F_DEVICE, h.flags & ADICT_TABLE_F_DEVICE);
	EXPECT_EQ(0, munmap(p, ADICT_PAGE));
}

TEST_F(rw, header_write_mapping_refused)
{
	void *p;

	p = mmap(NULL, ADICT_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	/* The whole object at once includes the header: refused too. */
	p = mmap(NULL, self->info.map_bytes, PROT_READ | PROT_WRITE,
		 MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
}

TEST_F(rw, header_mprotect_write_refused)
{
	void *p;
	int ret;

	p = mmap(NULL, self->info.map_bytes, PROT_READ, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ret = mprotect(p, ADICT_PAGE, PROT_READ | PROT_WRITE);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EACCES, errno);	/* checked before any split */
	ret = mprotect(p, self->info.map_bytes, PROT_READ | PROT_WRITE);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, munmap(p, self->info.map_bytes));
}

TEST_F(rw, data_area_rw_and_kernel_sees_writes)
{
	struct mtable m;
	__u64 r, k;
	int i;

	ASSERT_EQ(0, mtable_map(&m, self->fd, PROT_READ | PROT_WRITE));
	for (k = 1; k <= 100; k++)
		ASSERT_EQ(0, mop(&m, ADICT_OP_ADD, k, k * 3, 0, &r));
	for (k = 1; k <= 100; k++) {
		r = 0xcccccccccccccccc;
		ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, k, 0, 0, &r));
		ASSERT_EQ(k * 3, r);
	}
	/* and the other way round */
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_ADD, 7777, 2, 0, &r));
	EXPECT_EQ(100, mget(&m, 7777));
	ASSERT_EQ(0, ioc_info(self->fd, &self->info));
	EXPECT_EQ(101, self->info.used);
	mtable_unmap(&m);
}

TEST_F(rw, exec_mapping_refused)
{
	void *p;
	int ret;

	p = mmap(NULL, self->data_len, PROT_READ | PROT_EXEC, MAP_SHARED,
		 self->fd, self->info.data_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, self->data_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, self->info.data_offset);
	ASSERT_NE(MAP_FAILED, p);
	ret = mprotect(p, self->data_len, PROT_READ | PROT_EXEC);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, munmap(p, self->data_len));
}

TEST_F(rw, private_mapping_refused)
{
	void *p;

	p = mmap(NULL, self->data_len, PROT_READ, MAP_PRIVATE, self->fd,
		 self->info.data_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(rw, bad_offset_and_length_refused)
{
	size_t all = self->info.map_bytes;
	void *p;

	/* offset at the end */
	p = mmap(NULL, ADICT_PAGE, PROT_READ, MAP_SHARED, self->fd, all);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* one page too long */
	p = mmap(NULL, all + ADICT_PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* in range at the start, past the end at the tail */
	p = mmap(NULL, all, PROT_READ, MAP_SHARED, self->fd, ADICT_PAGE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* a huge offset: pgoff + pages must not wrap */
	p = mmap(NULL, ADICT_PAGE, PROT_READ, MAP_SHARED, self->fd,
		 (off_t)0x7ffffffffffff000LL);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_TRUE(errno == EINVAL || errno == EOVERFLOW);
	/* unaligned offset (the core refuses it) */
	p = mmap(NULL, ADICT_PAGE, PROT_READ, MAP_SHARED, self->fd, 100);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* zero length */
	p = mmap(NULL, 0, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* the last page alone is fine */
	p = mmap(NULL, ADICT_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, all - ADICT_PAGE);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, munmap(p, ADICT_PAGE));
}

TEST_F(rw, mremap_grow_refused)
{
	void *p, *q;

	p = mmap(NULL, ADICT_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, self->info.data_offset);
	ASSERT_NE(MAP_FAILED, p);
	q = mremap(p, ADICT_PAGE, 2 * ADICT_PAGE, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EFAULT, errno);	/* VM_DONTEXPAND */
	EXPECT_EQ(0, munmap(p, ADICT_PAGE));
}

TEST_F(rw, mmap_munmap_loop_keeps_users)
{
	struct adict_info after;
	__u64 *v;
	void *p;
	int i;

	for (i = 0; i < 500; i++) {
		p = mmap(NULL, self->data_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->fd, self->info.data_offset);
		ASSERT_NE(MAP_FAILED, p);
		/* control bucket, then a word in the last page */
		v = (__u64 *)((char *)p + self->data_len - 8);
		__atomic_fetch_add(v, 1, __ATOMIC_SEQ_CST);
		ASSERT_EQ(0, munmap(p, self->data_len));
	}
	ASSERT_EQ(0, ioc_info(self->fd, &after));
	EXPECT_EQ(self->info.users, after.users);
	p = mmap(NULL, self->data_len, PROT_READ, MAP_SHARED, self->fd,
		 self->info.data_offset);
	ASSERT_NE(MAP_FAILED, p);
	v = (__u64 *)((char *)p + self->data_len - 8);
	EXPECT_EQ(500, *v);
	EXPECT_EQ(0, munmap(p, self->data_len));
}

/*
 * Is [p, p + len) exactly one line of /proc/self/maps (one VMA, neither
 * split nor merged with a neighbour)?
 */
static bool one_vma(const void *p, size_t len)
{
	unsigned long lo = (unsigned long)p, hi = lo + len, a, b;
	bool found = false;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &a, &b) != 2 || b <= lo || a >= hi)
			continue;
		if (a != lo || b != hi || found) {
			found = false;
			break;
		}
		found = true;
	}
	fclose(f);
	return found;
}

TEST_F(rw, partial_munmap_refused_then_map_fixed_refused)
{
	char *p, *q;
	__u64 *w;
	int ret;

	ASSERT_LE(3 * ADICT_PAGE, self->data_len);
	p = mmap(NULL, 3 * ADICT_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, self->info.data_offset);
	ASSERT_NE(MAP_FAILED, p);
	w = (__u64 *)(p + ADICT_PAGE);
	*w = 42;
	/* Punching a hole in the middle would split the VMA. */
	ret = munmap(p + ADICT_PAGE, ADICT_PAGE);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(42, *w);	/* still mapped */
	EXPECT_TRUE(one_vma(p, 3 * ADICT_PAGE));
	/*
	 * A MAP_FIXED over the middle page must not split it either.  The
	 * refusal is the point, not its errno: 6.1's mmap_region() turns the
	 * refused unmap into ENOMEM, 6.12 passes on the split's EINVAL
	 * (Documentation/device.rst lists both).
	 */
	q = mmap(p + ADICT_PAGE, ADICT_PAGE, PROT_READ, MAP_SHARED | MAP_FIXED,
		 self->fd, self->info.data_offset + ADICT_PAGE);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_TRUE(errno == ENOMEM || errno == EINVAL) {
		TH_LOG("MAP_FIXED over a table page: errno %d", errno);
	}
	q = mmap(p + ADICT_PAGE, ADICT_PAGE, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_TRUE(errno == ENOMEM || errno == EINVAL) {
		TH_LOG("anonymous MAP_FIXED over a table page: errno %d", errno);
	}
	/* Still one mapping of the table, its middle page still the table's. */
	EXPECT_TRUE(one_vma(p, 3 * ADICT_PAGE));
	EXPECT_EQ(42, *w);
	/* Partial mprotect is a split too. */
	ret = mprotect(p, ADICT_PAGE, PROT_READ);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	*w = 43;	/* still writable */
	/* The whole mapping goes in one piece, then MAP_FIXED reuses it. */
	ASSERT_EQ(0, munmap(p, 3 * ADICT_PAGE));
	q = mmap(p, 3 * ADICT_PAGE, PROT_READ, MAP_SHARED | MAP_FIXED,
		 self->fd, self->info.data_offset);
	ASSERT_EQ(p, q);
	EXPECT_EQ(43, *(__u64 *)(q + ADICT_PAGE));
	/* MAP_FIXED replacing the whole mapping at once is fine. */
	q = mmap(p, 3 * ADICT_PAGE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, self->fd, self->info.data_offset);
	ASSERT_EQ(p, q);
	EXPECT_EQ(43, *(__u64 *)(q + ADICT_PAGE));
	EXPECT_EQ(0, munmap(p, 3 * ADICT_PAGE));
}

TEST_F(rw, madv_dontneed_keeps_values)
{
	struct mtable m;
	__u64 r, k;

	ASSERT_EQ(0, mtable_map(&m, self->fd, PROT_READ | PROT_WRITE));
	for (k = 1; k <= 200; k++)
		ASSERT_EQ(0, mop(&m, ADICT_OP_STORE, k, k + 1000, 0, &r));
	ASSERT_EQ(0, madvise(m.map, m.bytes, MADV_DONTNEED));
	for (k = 1; k <= 200; k++)
		ASSERT_EQ(k + 1000, mget(&m, k));
	/* and writes after the zap still reach the kernel's pages */
	ASSERT_EQ(0, mop(&m, ADICT_OP_ADD, 1, 1, 0, &r));
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, 1, 0, 0, &r));
	EXPECT_EQ(1002, r);
	mtable_unmap(&m);
}

TEST_F(rw, anonymous_table_alive_after_close)
{
	struct mtable m;
	__u64 r, k;

	ASSERT_EQ(0, mtable_map(&m, self->fd, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	for (k = 1; k <= 1000; k++)
		ASSERT_EQ(0, mop(&m, ADICT_OP_ADD, k, 5, 0, &r));
	for (k = 1; k <= 1000; k++)
		ASSERT_EQ(5, mget(&m, k));
	EXPECT_EQ(1000, adict_a_load(m.core.kused));
	mtable_unmap(&m);
}

TEST(named_table_alive_after_close_and_unlink)
{
	char name[64];
	struct mtable m;
	struct adict_info info;
	int fd, fd2;
	__u64 r;

	tname(name, sizeof(name), "alive");
	fd = table_new(100, name, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, mop(&m, ADICT_OP_STORE, 9, 99, 0, &r));
	ASSERT_EQ(0, close(fd));
	fd2 = table_attach(name, O_RDWR, 0);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioc_info(fd2, &info));
	EXPECT_EQ(100, info.capacity);
	r = 0;
	ASSERT_EQ(0, ioc_op(fd2, ADICT_OP_LOAD, 9, 0, 0, &r));
	EXPECT_EQ(99, r);
	ASSERT_EQ(0, ioc_unlink(fd2, name));
	ASSERT_EQ(0, close(fd2));
	/* Name gone, table alive through the mapping alone. */
	fd2 = table_attach(name, O_RDWR, 0);
	EXPECT_EQ(-1, fd2);
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, mop(&m, ADICT_OP_ADD, 9, 1, 0, &r));
	EXPECT_EQ(99, r);
	EXPECT_EQ(100, mget(&m, 9));
	mtable_unmap(&m);
}

FIXTURE(ro) {
	char name[64];
	int owner_fd;
	int fd;
	struct adict_info info;
	size_t data_len;
};

FIXTURE_VARIANT(ro) {
	int oflags;
	__u32 attach_flags;
	__u32 access;
};

FIXTURE_VARIANT_ADD(ro, rdonly_fd) {
	.oflags = O_RDONLY, .attach_flags = ADICT_ATTACH_RDONLY,
	.access = ADICT_ACCESS_RDONLY,
};
FIXTURE_VARIANT_ADD(ro, rdonly_attach_on_rdwr_fd) {
	.oflags = O_RDWR, .attach_flags = ADICT_ATTACH_RDONLY,
	.access = ADICT_ACCESS_RDONLY,
};
FIXTURE_VARIANT_ADD(ro, mediated_on_rdwr_fd) {
	.oflags = O_RDWR, .attach_flags = ADICT_ATTACH_MEDIATED,
	.access = ADICT_ACCESS_MEDIATED,
};

FIXTURE_SETUP(ro)
{
	tname(self->name, sizeof(self->name), "ro");
	self->owner_fd = table_new(1000, self->name, 0644);
	ASSERT_LE(0, self->owner_fd) TH_LOG("create: %s", strerror(errno));
	self->fd = table_attach(self->name, variant->oflags,
				variant->attach_flags);
	ASSERT_LE(0, self->fd) TH_LOG("attach: %s", strerror(errno));
	ASSERT_EQ(0, ioc_info(self->fd, &self->info));
	ASSERT_EQ(variant->access, self->info.access);
	self->data_len = self->info.map_bytes - self->info.data_offset;
}

FIXTURE_TEARDOWN(ro)
{
	close(self->fd);
	ioc_unlink(self->owner_fd, self->name);
	close(self->owner_fd);
}

TEST_F(ro, write_mapping_refused)
{
	void *p;

	p = mmap(NULL, self->data_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, self->info.data_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
}

TEST_F(ro, mprotect_escalation_refused)
{
	struct mtable m;
	__u64 r;
	int ret;

	ASSERT_EQ(0, ioc_op(self->owner_fd, ADICT_OP_STORE, 5, 55, 0, &r));
	ASSERT_EQ(0, mtable_map(&m, self->fd, PROT_READ));
	EXPECT_EQ(55, mget(&m, 5));
	ret = mprotect((char *)m.map + m.info.data_offset, self->data_len,
		       PROT_READ | PROT_WRITE);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EACCES, errno);
	ret = mprotect(m.map, m.bytes, PROT_READ | PROT_WRITE);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EACCES, errno);
	mtable_unmap(&m);
}

TEST_F(ro, write_through_mapping_faults)
{
	struct mtable m;
	pid_t pid;

	ASSERT_EQ(0, mtable_map(&m, self->fd, PROT_READ));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u64 r;

		adict_core_op(&m.core, ADICT_OP_ADD, 3, 1, 0, &r);
		_exit(0);
	}
	EXPECT_EQ(128 + SIGSEGV, wait_exit(pid));
	mtable_unmap(&m);
}

TEST_F(ro, read_ops_allowed_write_ops_refused)
{
	unsigned int op;
	__u64 r;
	int ret;

	ASSERT_EQ(0, ioc_op(self->owner_fd, ADICT_OP_STORE, 5, 55, 0, &r));
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, 5, 0, 0, &r));
	EXPECT_EQ(55, r);
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_FIND, 5, 0, 0, &r));
	EXPECT_EQ(55, r);
	ret = ioc_op(self->fd, ADICT_OP_FIND, 6, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
	/*
	 * Every write op is refused to a read-only attachment and to a
	 * mediated one whose table grants only reads (the default, grant 0),
	 * and changes nothing.
	 */
	for (op = 0; op < ADICT_OP_COUNT; op++) {
		if (ADICT_GRANT_READ & ADICT_OP_BIT(op))
			continue;
		ret = ioc_op(self->fd, op, op == ADICT_OP_INSERT ? 6 : 5, 1, 55, &r);
		EXPECT_EQ(-1, ret) TH_LOG("op %u", op);
		EXPECT_EQ(EPERM, errno) TH_LOG("op %u", op);
	}
	ASSERT_EQ(0, ioc_op(self->owner_fd, ADICT_OP_LOAD, 5, 0, 0, &r));
	EXPECT_EQ(55, r);
	ret = ioc_op(self->owner_fd, ADICT_OP_FIND, 6, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
	/* a reader's LOAD of an absent key reads 0 and inserts nothing */
	ASSERT_EQ(0, ioc_op(self->fd, ADICT_OP_LOAD, 12345, 0, 0, &r));
	EXPECT_EQ(0, r);
	ret = ioc_op(self->owner_fd, ADICT_OP_FIND, 12345, 0, 0, &r);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
}

TEST_HARNESS_MAIN
