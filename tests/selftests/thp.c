// SPDX-License-Identifier: MIT
/*
 * Huge pages for memfd tables (libadict, lib/adict.c): the page size a
 * table gets under each shmem THP policy, and that the table works on it.
 *
 * The VM is ours, so the test sets the policy itself
 * (/sys/kernel/mm/transparent_hugepage/shmem_enabled) and puts the old one
 * back.  libadict is compiled into this test (the Makefile adds its
 * sources), as the Python and host tests use it.
 *
 * What it proves (Documentation/libadict.rst, "Huge pages"):
 *  - under "never" a 16 MiB memfd table is backed by 4 KiB pages;
 *  - under "advise" (MADV_HUGEPAGE + MADV_POPULATE_WRITE) and under
 *    "always" (fallocate) it gets huge pages: adict_page_bytes() says so
 *    and ShmemHugePages in /proc/meminfo rises by most of the table;
 *  - on huge pages every key inserted reads back with its adds (an eighth
 *    of the capacity: about 23 keys on each 4 KiB page of the table, so
 *    every page is written and read, at an eighth of a full fill's cost
 *    under TCG);
 *  - a small table (under 4 MiB) stays on 4 KiB pages whatever the policy;
 *  - on a kernel without THP (Debian's PREEMPT_RT kernels) a large table
 *    falls back to 4 KiB pages silently and works:
 *    the fixture's cases skip there (tests/vm/skips allows it), this one
 *    runs on every kernel.
 */
#include "adict_test.h"
#include "adict_harness.h"
#include "adict.h"

#define THP_POLICY "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define MiB (1024ULL * 1024)

static char saved[64];

/* The bracketed word of the shmem policy into @w, or -1. */
static int policy_word(char *w, size_t n)
{
	char buf[256], *l, *r;

	if (read_file(THP_POLICY, buf, sizeof(buf)) <= 0)
		return -1;
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r || (size_t)(r - l) > n)
		return -1;
	snprintf(w, n, "%.*s", (int)(r - l - 1), l + 1);
	return 0;
}

static __u64 shmem_huge_kb(void)
{
	char buf[8192], *p;

	if (read_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return 0;
	p = strstr(buf, "ShmemHugePages:");
	return p ? strtoull(p + strlen("ShmemHugePages:"), NULL, 10) : 0;
}

/* What the kernel said about huge shmem pages, for a failure's log. */
static void explain(struct __test_metadata *_metadata)
{
	static const char *const files[] = { "/proc/buddyinfo", "/proc/vmstat" };
	char buf[16384], *l, *save;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (read_file(files[i], buf, sizeof(buf)) <= 0)
			continue;
		for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			if (i == 0 || !strncmp(l, "thp_file", 8) ||
			    !strncmp(l, "compact_", 8))
				TH_LOG("%s: %s", files[i], l);
	}
}

FIXTURE(thp) {
	int have;
};

FIXTURE_SETUP(thp)
{
	self->have = !policy_word(saved, sizeof(saved));
	if (!self->have)
		SKIP(return, "no %s (kernel without THP)", THP_POLICY);
}

FIXTURE_TEARDOWN(thp)
{
	if (self->have)
		write_file(THP_POLICY, saved);
}

/*
 * Create a table of about @mib MiB under @policy (NULL: the kernel has no
 * THP policy to set); check what it got.
 */
static void one(struct __test_metadata *_metadata, const char *policy,
		unsigned long long mib, unsigned long want_page)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD };
	__u64 cap = mib * MiB / 22, i, v, kb0, kb1;	/* ~mib MiB */
	struct adict *t;
	int bad = 0;

	if (policy)
		ASSERT_EQ(0, write_file(THP_POLICY, policy));
	kb0 = shmem_huge_kb();
	ASSERT_EQ(0, adict_create(&t, cap, &o));
	kb1 = shmem_huge_kb();
	EXPECT_EQ(want_page, adict_page_bytes(t));
	if (want_page > 4096)	/* most of the table, its first 2 MiB apart */
		EXPECT_GE(kb1 - kb0, (t->map_bytes >> 10) * 3 / 4);
	if (adict_page_bytes(t) != want_page)
		explain(_metadata);
	for (i = 1; i <= cap / 8; i++)
		ASSERT_EQ(1, adict_insert(t, i * 0x9e3779b97f4a7c15ULL + 1));
	for (i = 1; i <= cap / 8; i++)
		adict_add(t, i * 0x9e3779b97f4a7c15ULL + 1, i, NULL);
	for (i = 1; i <= cap / 8; i++) {
		adict_load(t, i * 0x9e3779b97f4a7c15ULL + 1, &v);
		bad += v != i;
	}
	EXPECT_EQ(0, bad);
	adict_close(t);
}

TEST_F(thp, never_gives_small_pages)
{
	RETURN_IF_SKIPPED();
	one(_metadata, "never", 16, 4096);
}

TEST_F(thp, advise_gives_huge_pages)
{
	RETURN_IF_SKIPPED();
	one(_metadata, "advise", 16, 2 * MiB);
}

TEST_F(thp, always_gives_huge_pages)
{
	RETURN_IF_SKIPPED();
	one(_metadata, "always", 16, 2 * MiB);
}

TEST_F(thp, small_tables_stay_on_small_pages)
{
	RETURN_IF_SKIPPED();
	one(_metadata, "always", 2, 4096);
}

TEST(large_tables_fall_back_to_small_pages_without_thp)
{
	char w[64];

	if (policy_word(w, sizeof(w))) {
		one(_metadata, NULL, 16, 4096);		/* no THP at all */
		return;
	}
	one(_metadata, "never", 16, 4096);	/* THP there, but refused */
	write_file(THP_POLICY, w);
}

TEST_HARNESS_MAIN
