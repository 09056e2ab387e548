// SPDX-License-Identifier: MIT
/*
 * Huge pages for device tables (Documentation/device.rst, "Huge pages").
 *
 * On Linux 6.12 and later with THP the module backs each whole 2 MiB piece
 * of a table with a huge page and maps it by one PMD where a mapping is
 * aligned for it; INFO says so with ADICT_TABLE_F_HUGE.  Such a mapping is
 * VM_PFNMAP.  Earlier kernels (6.1), and kernels without THP (PREEMPT_RT),
 * keep every table on 4 KiB pages.
 *
 * What it proves:
 *  - the flag follows the table's size, the kernel line and the huge_pages
 *    module parameter;
 *  - where ptdump is built in (the debug kernels), every whole huge page of
 *    an aligned data mapping is one PMD, and a misaligned mapping, or any
 *    mapping in a process under PR_SET_THP_DISABLE, gets 4 KiB entries;
 *  - the table keeps its keys and values through every path that touches
 *    such a mapping: the kernel's ops, fork, MADV_DONTNEED inside a huge
 *    page (refused with EINVAL on VM_PFNMAP), mprotect, mremap to a
 *    misaligned address, /proc/self/mem (which
 *    reaches a VM_PFNMAP mapping only through the driver's ->access), and
 *    /proc/self/mem never writes the header page.
 * These run on every kernel: on 4 KiB pages they prove the same things of
 * the other mapping kind.
 */
#include <sys/prctl.h>
#include <sys/utsname.h>
#include "adict_test.h"
#include "adict_harness.h"

#define THP_PMD_SIZE	"/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"
#define PTDUMP		"/sys/kernel/debug/page_tables/current_kernel"
#define BIG_CAPACITY	400000ULL	/* about 8.5 MiB: four whole huge pages */
#define NKEYS		20000ULL

/* The kernel line's rule: THP present and Linux 6.12 or later. */
static bool kernel_maps_huge(void)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (access(THP_PMD_SIZE, R_OK) || uname(&u) ||
	    sscanf(u.release, "%d.%d", &maj, &min) != 2)
		return false;
	return maj > 6 || (maj == 6 && min >= 12);
}

static __u64 key_of(__u64 i)
{
	return i * 0x9e3779b97f4a7c15ULL | 1;
}

/*
 * The page-table level that maps @addr in this process ("pmd", "pte", ...)
 * into @level, from ptdump.  Returns 0, or -1 when ptdump is not there or
 * no line covers @addr.
 */
static int pt_level(uintptr_t addr, char *level, size_t len)
{
	unsigned long lo, hi;
	char *line = NULL, *p;
	size_t cap = 0;
	int ret = -1;
	FILE *f;

	f = fopen(PTDUMP, "re");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "0x%lx-0x%lx", &lo, &hi) != 2)
			continue;
		if (lo > addr)
			break;
		if (addr >= hi)
			continue;
		line[strcspn(line, "\n")] = 0;
		p = strrchr(line, ' ');
		snprintf(level, len, "%s", p ? p + 1 : line);
		ret = 0;
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

/* Put NKEYS keys in through the mapping, key i with value i + 7. */
static int fill(struct mtable *m)
{
	__u64 i, r;

	for (i = 0; i < NKEYS; i++)
		if (mop(m, ADICT_OP_ADD, key_of(i), i + 7, 0, &r))
			return -1;
	return 0;
}

/* Every key reads @plus + i + 7 through the mapping and through the ioctl. */
static int check(struct mtable *m, int fd, __u64 plus)
{
	__u64 i, v;

	for (i = 0; i < NKEYS; i++) {
		if (mget(m, key_of(i)) != plus + i + 7)
			return -1;
		if (ioc_op(fd, ADICT_OP_FIND, key_of(i), 0, 0, &v) || v != plus + i + 7)
			return -1;
	}
	return 0;
}

TEST(small_table_has_no_huge_pages)
{
	struct adict_info info;
	int fd = table_new(1000, NULL, 0600);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioc_info(fd, &info));
	EXPECT_GT(2 * ADICT_HUGE_BYTES, info.map_bytes);
	EXPECT_EQ(0, info.flags & ADICT_TABLE_F_HUGE);
	close(fd);
}

TEST(large_table_gets_huge_pages_where_the_kernel_maps_them)
{
	struct adict_info info;
	int fd = table_new(BIG_CAPACITY, NULL, 0600);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioc_info(fd, &info));
	ASSERT_LE(4 * ADICT_HUGE_BYTES, info.map_bytes);
	EXPECT_EQ(kernel_maps_huge(), !!(info.flags & ADICT_TABLE_F_HUGE));
	close(fd);
}

TEST(huge_pages_parameter_off_gives_base_pages)
{
	struct adict_info info;
	struct mtable m;
	char old[16];
	int fd;

	ASSERT_EQ(0, read_param("huge_pages", old, sizeof(old)));
	ASSERT_EQ(0, write_param("huge_pages", "N"));
	fd = table_new(BIG_CAPACITY, NULL, 0600);
	write_param("huge_pages", old);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioc_info(fd, &info));
	EXPECT_EQ(0, info.flags & ADICT_TABLE_F_HUGE);
	ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, fill(&m));
	EXPECT_EQ(0, check(&m, fd, 0));
	mtable_unmap(&m);
	close(fd);
}

TEST(huge_table_is_mapped_by_pmd_where_aligned)
{
	char level[32];
	struct mtable m;
	char *data, *mis, *p;
	size_t len;
	pid_t pid;
	int fd;

	fd = table_new(BIG_CAPACITY, NULL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
	if (!(m.info.flags & ADICT_TABLE_F_HUGE))
		SKIP(goto out, "this kernel keeps device tables on 4 KiB pages");
	if (access(PTDUMP, R_OK))
		SKIP(goto out, "no %s (CONFIG_PTDUMP_DEBUGFS)", PTDUMP);
	ASSERT_EQ(0, fill(&m));
	/* The whole huge pages of the data area: from the second one. */
	data = (char *)m.map;
	for (p = data + ADICT_HUGE_BYTES;
	     p + ADICT_HUGE_BYTES <= data + m.bytes; p += ADICT_HUGE_BYTES) {
		(void)*(volatile char *)p;
		ASSERT_EQ(0, pt_level((uintptr_t)p, level, sizeof(level)));
		EXPECT_STREQ("pmd", level);
	}
	/* The first one holds the header page: 4 KiB entries there. */
	ASSERT_EQ(0, pt_level((uintptr_t)data + ADICT_PAGE, level, sizeof(level)));
	EXPECT_STREQ("pte", level);

	/* A second mapping of the same pages, off by 4 KiB from alignment. */
	len = 2 * ADICT_HUGE_BYTES;
	mis = reserve_aligned(len + 2 * ADICT_HUGE_BYTES);
	ASSERT_NE(MAP_FAILED, mis);
	mis += ADICT_PAGE;
	ASSERT_EQ(mis, mmap(mis, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd,
			    ADICT_HUGE_BYTES));
	EXPECT_EQ(0, memcmp(mis, data + ADICT_HUGE_BYTES, len));
	p = mis + ADICT_HUGE_BYTES - ADICT_PAGE;	/* 2 MiB aligned */
	ASSERT_EQ(0, pt_level((uintptr_t)p, level, sizeof(level)));
	EXPECT_STREQ("pte", level);
	munmap(mis - ADICT_PAGE, len + 2 * ADICT_HUGE_BYTES);

	/* A process with THP disabled maps even an aligned piece by PTEs. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct mtable c;

		if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) ||
		    mtable_map(&c, fd, PROT_READ))
			_exit(1);
		p = (char *)c.map + ADICT_HUGE_BYTES;
		(void)*(volatile char *)p;
		if (pt_level((uintptr_t)p, level, sizeof(level)))
			_exit(2);
		_exit(strcmp(level, "pte") ? 3 : 0);
	}
	EXPECT_EQ(0, wait_exit(pid));
out:
	mtable_unmap(&m);
	close(fd);
}

TEST(huge_table_keeps_its_data_through_every_mapping_path)
{
	struct mtable m;
	char *data, *moved, *res, buf[64], hdr[64], page[ADICT_PAGE];
	size_t dlen;
	__u64 i, r, *v;
	pid_t pid;
	int fd, mem, ret;

	fd = table_new(BIG_CAPACITY, NULL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mtable_map(&m, fd, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, fill(&m));
	ASSERT_EQ(0, check(&m, fd, 0));

	/* The kernel's ops land where the mapping reads. */
	for (i = 0; i < NKEYS; i++)
		ASSERT_EQ(0, ioc_op(fd, ADICT_OP_ADD, key_of(i), 1, 0, &r));
	ASSERT_EQ(0, check(&m, fd, 1));

	/* A child refaults its copy of the mapping and adds through it. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (check(&m, fd, 1))
			_exit(1);
		for (i = 0; i < NKEYS; i++)
			if (mop(&m, ADICT_OP_ADD, key_of(i), 1, 0, &r))
				_exit(2);
		_exit(0);
	}
	ASSERT_EQ(0, wait_exit(pid));
	ASSERT_EQ(0, check(&m, fd, 2));

	/*
	 * Zapping part of a huge page loses nothing of the shared table; the
	 * kernel refuses MADV_DONTNEED on a VM_PFNMAP mapping (a table with
	 * huge pages) with EINVAL, and that loses nothing either.
	 */
	data = (char *)m.map + m.info.data_offset;
	dlen = m.bytes - m.info.data_offset;
	ret = madvise((char *)m.map + ADICT_HUGE_BYTES + 64 * ADICT_PAGE,
		      256 * ADICT_PAGE, MADV_DONTNEED);
	if (m.info.flags & ADICT_TABLE_F_HUGE) {
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(EINVAL, errno);
	} else {
		EXPECT_EQ(0, ret);
	}
	ASSERT_EQ(0, check(&m, fd, 2));

	/* mprotect of the whole data mapping, down and back up. */
	ASSERT_EQ(0, mprotect(data, dlen, PROT_READ));
	ASSERT_EQ(0, check(&m, fd, 2));
	ASSERT_EQ(0, mprotect(data, dlen, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, mop(&m, ADICT_OP_ADD, key_of(0), 1, 0, &r));
	ASSERT_EQ(0, mop(&m, ADICT_OP_SUB, key_of(0), 1, 0, &r));

	/* /proc/self/mem: reads the data, writes a value, never the header. */
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, mem);
	ASSERT_EQ(sizeof(page), pread(mem, page, sizeof(page),
				      (off_t)(uintptr_t)(data + ADICT_HUGE_BYTES)));
	EXPECT_EQ(0, memcmp(page, data + ADICT_HUGE_BYTES, sizeof(page)));
	ASSERT_EQ(0, adict_core_lookup(&m.core, key_of(5), false, &v));
	r = 1000;
	ASSERT_EQ(sizeof(r), pwrite(mem, &r, sizeof(r), (off_t)(uintptr_t)v));
	EXPECT_EQ(1000, mget(&m, key_of(5)));
	r = 2 + 5 + 7;
	ASSERT_EQ(sizeof(r), pwrite(mem, &r, sizeof(r), (off_t)(uintptr_t)v));
	memcpy(hdr, m.map, sizeof(hdr));
	memset(buf, 0x5a, sizeof(buf));
	EXPECT_EQ(-1, pwrite(mem, buf, sizeof(buf), (off_t)(uintptr_t)m.map));
	EXPECT_EQ(0, memcmp(hdr, m.map, sizeof(hdr)));
	close(mem);
	ASSERT_EQ(0, check(&m, fd, 2));

	/* mremap to an address that fits no huge page: 4 KiB faults there. */
	res = reserve_aligned(dlen + 2 * ADICT_HUGE_BYTES);
	ASSERT_NE(MAP_FAILED, res);
	moved = res + 3 * ADICT_PAGE;
	ASSERT_EQ(moved, mremap(data, dlen, dlen, MREMAP_MAYMOVE | MREMAP_FIXED,
				moved));
	adict_core_init(&m.core, (const struct adict_table_header *)m.map, moved);
	ASSERT_EQ(0, check(&m, fd, 2));
	munmap(res, dlen + 2 * ADICT_HUGE_BYTES);
	munmap(m.map, m.info.data_offset);
	m.map = NULL;
	close(fd);
}

TEST_HARNESS_MAIN
