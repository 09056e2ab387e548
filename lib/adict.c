// SPDX-License-Identifier: MIT
/*
 * libadict: setup, teardown and the slow paths.  The operations themselves
 * are inline in adict.h and run the shared core (adict/core.h).
 *
 * Two backends hold the same table format:
 *   memfd   anonymous tables, created here: a sealed memfd mapped
 *           MAP_SHARED, so fork()ed children share it.
 *   device  /dev/atomic_dict: the kernel creates the table; we map it.
 *
 * Mapping layout (both backends): one reservation of map_bytes, the header
 * page mapped read-only at its start and the data area mapped after it,
 * read-write or read-only according to the access granted.  The header is
 * copied once and validated before anything trusts it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "adict-internal.h"

static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

const char *adict_backend_name(unsigned int backend)
{
	switch (backend) {
	case ADICT_BACKEND_MEMFD:
		return "memfd";
	case ADICT_BACKEND_DEVICE:
		return "device";
	case ADICT_BACKEND_AUTO:
		return "auto";
	}
	return "unknown";
}

/* Bytes of memory the machine could give a new table without swapping. */
static unsigned long long mem_available(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
				break;
		fclose(f);
	}
	if (!kb)	/* no /proc: fall back to physical memory */
		return (unsigned long long)sysconf(_SC_PHYS_PAGES) *
		       (unsigned long long)sysconf(_SC_PAGESIZE);
	return kb * 1024;
}

/* The PMD (huge page) size, or 0 when the kernel has no THP. */
static size_t huge_page_bytes(void)
{
	static size_t cached = 1;
	unsigned long long v = 0;
	FILE *f;

	if (cached != 1)
		return cached;
	f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "re");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	cached = v > (unsigned long long)sysconf(_SC_PAGESIZE) ? v : 0;
	return cached;
}

/*
 * A PROT_NONE reservation of @bytes.  Tables of two huge pages or more get
 * one aligned to the huge page size, so that file offset and address agree
 * modulo it and every whole huge page of the data area can be mapped by a
 * PMD (the first one holds the 4 KiB header page, mapped on its own).
 */
static void *reserve(size_t bytes)
{
	size_t huge = huge_page_bytes(), slack;
	char *p, *a;

	if (!huge || bytes < 2 * huge || bytes > SIZE_MAX - huge)
		return mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			    MAP_NORESERVE, -1, 0);
	p = mmap(NULL, bytes + huge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return p;
	a = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
	slack = a - p;
	if (slack)
		munmap(p, slack);
	munmap(a + bytes, huge - slack);
	return a;
}

/*
 * Map a table of @map_bytes from @fd: header read-only, data area with
 * @data_prot.  A PROT_NONE reservation first, so the two parts are
 * contiguous and the reservation is all one munmap undoes.
 */
static int map_table(struct adict *t, int fd, size_t map_bytes, int data_prot)
{
	void *base, *p;

	base = reserve(map_bytes);
	if (base == MAP_FAILED)
		return neg_errno();
	p = mmap(base, ADICT_HEADER_BYTES, PROT_READ, MAP_SHARED | MAP_FIXED,
		 fd, 0);
	if (p == MAP_FAILED)
		goto out_unmap;
	p = mmap((char *)base + ADICT_HEADER_BYTES, map_bytes - ADICT_HEADER_BYTES,
		 data_prot, MAP_SHARED | MAP_FIXED, fd, ADICT_HEADER_BYTES);
	if (p == MAP_FAILED)
		goto out_unmap;
	t->map = base;
	t->map_bytes = map_bytes;
	return 0;

out_unmap:
	{
		int ret = neg_errno();

		munmap(base, map_bytes);
		return ret;
	}
}

/* Copy the mapped header once, validate it, and fill the trusted core. */
static int adopt_header(struct adict *t)
{
	struct adict_table_header h;

	memcpy(&h, t->map, sizeof(h));
	if (!adict_header_valid(&h, t->map_bytes))
		return -EBADMSG;
	adict_core_init(&t->core, &h, (char *)t->map + h.data_offset);
	t->flags = h.flags;
	t->fast = t->access == ADICT_ACCESS_RDWR && !t->core.wide;
	return 0;
}

/*
 * The kernel's policy for huge pages in memfd memory: the internal shm
 * mount follows /sys/kernel/mm/transparent_hugepage/shmem_enabled, which the
 * PMD size's own hugepages-<size>kB/shmem_enabled overrides unless it says
 * "inherit" (Linux 6.11+).  THP_ALLOC: pages allocated by fallocate() are
 * huge where they fit ("always", "within_size", "force"); THP_ADVISE: only
 * pages faulted in through a MADV_HUGEPAGE mapping are; THP_NONE: none.
 */
enum { THP_NONE, THP_ADVISE, THP_ALLOC };

static int shmem_thp_word(const char *path, char *word, size_t n)
{
	char buf[128], *l, *r;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	l = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!l || !(l = strchr(buf, '[')) || !(r = strchr(l, ']')) ||
	    (size_t)(r - l) > n)
		return -1;
	snprintf(word, n, "%.*s", (int)(r - l - 1), l + 1);
	return 0;
}

static int shmem_thp_policy(void)
{
	char path[128], w[32];
	size_t huge = huge_page_bytes();

	if (!huge)
		return THP_NONE;
	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/transparent_hugepage/hugepages-%zukB/shmem_enabled",
		 huge >> 10);
	if (shmem_thp_word(path, w, sizeof(w)) || !strcmp(w, "inherit"))
		if (shmem_thp_word("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
				   w, sizeof(w)))
			return THP_NONE;
	if (!strcmp(w, "always") || !strcmp(w, "within_size") ||
	    !strcmp(w, "force"))
		return THP_ALLOC;
	return strcmp(w, "advise") ? THP_NONE : THP_ADVISE;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif

/*
 * Under the "advise" policy, fault the data area in through a MADV_HUGEPAGE
 * mapping, so that whole huge pages of it come huge (fallocate() alone would
 * allocate small pages).  Best effort: any refusal leaves small pages, which
 * the fallocate() after it commits as always.
 */
static void populate_huge(struct adict *t)
{
	char *data = (char *)t->map + ADICT_HEADER_BYTES;
	size_t len = t->map_bytes - ADICT_HEADER_BYTES;

	if (madvise(data, len, MADV_HUGEPAGE))
		return;
	madvise(data, len, MADV_POPULATE_WRITE);
}

/*
 * The page size the data area got: the huge page size when any of it is
 * mapped by a PMD here (ShmemPmdMapped, or FilePmdMapped for device memory,
 * in /proc/self/smaps), else the base page size.  One byte of the first
 * whole huge page of data is read first, so that a huge page there is
 * mapped.  Reads /proc: called once, at create or attach.
 */
static unsigned long data_page_bytes(const struct adict *t)
{
	unsigned long pg = (unsigned long)sysconf(_SC_PAGESIZE);
	size_t huge = huge_page_bytes();
	uintptr_t data = (uintptr_t)t->map + ADICT_HEADER_BYTES, lo, hi, probe;
	unsigned long long kb;
	char line[256];
	int in = 0;
	FILE *f;

	if (!huge || t->map_bytes < 2 * huge)
		return pg;
	probe = (data + huge - 1) & ~(uintptr_t)(huge - 1);
	if (probe + huge > (uintptr_t)t->map + t->map_bytes)
		return pg;
	(void)*(volatile const char *)probe;
	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return pg;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2) {
			in = lo <= probe && probe < hi;
			continue;
		}
		if (in && (sscanf(line, "ShmemPmdMapped: %llu kB", &kb) == 1 ||
			   sscanf(line, "FilePmdMapped: %llu kB", &kb) == 1) && kb) {
			fclose(f);
			return huge;
		}
	}
	fclose(f);
	return pg;
}

/*
 * The page size a device table's data area got.  The device maps a table
 * with huge pages (ADICT_TABLE_F_HUGE, Linux 6.12 and later) VM_PFNMAP, by
 * special PMDs that /proc/self/smaps does not count: so the flag is taken
 * at its word when this mapping is aligned for them (reserve()) and THP is
 * not disabled for the process (prctl PR_SET_THP_DISABLE), the two things
 * that would make the kernel map it by 4 KiB pages all the same.
 */
static unsigned long device_page_bytes(const struct adict *t,
				       const struct adict_info *info)
{
	size_t huge = huge_page_bytes();

	if ((info->flags & ADICT_TABLE_F_HUGE) && huge &&
	    t->map_bytes >= 2 * huge && !((uintptr_t)t->map & (huge - 1)) &&
	    prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 0)
		return huge;
	return data_page_bytes(t);
}

/* The table's secret hash seed: 16 bytes from the kernel's CSPRNG. */
static int random_seed(__u64 seed[2])
{
	size_t got = 0;
	ssize_t n;

	while (got < 2 * sizeof(__u64)) {
		n = getrandom((char *)seed + got, 2 * sizeof(__u64) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return neg_errno();
		}
		got += (size_t)n;
	}
	return 0;
}

/* ADICT_TABLE_F_LOAD_HALF for a create option of load 1/2, else 0. */
static __u32 opts_table_flags(const struct adict_opts *o)
{
	return o->load == ADICT_LOAD_1_2 ? ADICT_TABLE_F_LOAD_HALF : 0;
}

static int create_memfd(struct adict *t, __u64 capacity,
			const struct adict_opts *o, const struct adict_layout *l)
{
	struct adict_table_header h;
	int fd, ret, thp;
	__u64 seed[2];

	ret = random_seed(seed);
	if (ret)
		return ret;
	if (!adict_header_init(&h, capacity, opts_table_flags(o), l, seed))
		return capacity ? -EFBIG : -EINVAL;
	if (h.map_bytes > (__u64)SIZE_MAX || h.map_bytes > mem_available())
		return -ENOMEM;

	fd = memfd_create("atomic_dict", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return neg_errno();
	if (ftruncate(fd, (off_t)h.map_bytes) < 0)
		goto out_errno;
	thp = huge_page_bytes() && h.map_bytes >= 2 * huge_page_bytes() ?
	      shmem_thp_policy() : THP_NONE;
	if (thp == THP_ADVISE) {
		ret = map_table(t, fd, h.map_bytes, PROT_READ | PROT_WRITE);
		if (ret)
			goto out_close;
		populate_huge(t);
	}
	/* Commit the memory now: a clean error here, not an OOM kill later. */
	ret = posix_fallocate(fd, 0, (off_t)h.map_bytes);
	if (ret) {
		ret = (ret == ENOSPC || ret == EFBIG) ? -ENOMEM : -ret;
		goto out_close;
	}
	if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		goto out_errno;
	/* Nobody may shrink or grow it under the sharers' mappings. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto out_errno;
	if (!t->map) {
		ret = map_table(t, fd, h.map_bytes, PROT_READ | PROT_WRITE);
		if (ret)
			goto out_close;
	}
	t->fd = fd;
	t->backend = ADICT_BACKEND_MEMFD;
	t->access = ADICT_ACCESS_RDWR;
	ret = adopt_header(t);
	if (!ret)
		t->page_bytes = data_page_bytes(t);
	return ret;

out_errno:
	ret = neg_errno();
out_close:
	close(fd);
	return ret;
}

/* Open the device; a missing node or module is -ENODEV. */
static int open_device(int flags)
{
	int fd = open(ADICT_DEVICE_PATH, flags | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
		return -ENODEV;
	return neg_errno();
}

static int device_info(int fd, struct adict_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (ioctl(fd, ADICT_IOC_INFO, info) < 0)
		return neg_errno();
	return 0;
}

/* Map the table bound to device fd @fd into @t. */
static int map_device(struct adict *t, int fd)
{
	struct adict_info info;
	int ret;

	ret = device_info(fd, &info);
	if (ret)
		return ret;
	if (info.map_bytes > (__u64)SIZE_MAX ||
	    info.data_offset != ADICT_HEADER_BYTES ||
	    info.access > ADICT_ACCESS_MEDIATED)
		return -EBADMSG;
	ret = map_table(t, fd, info.map_bytes,
			info.access == ADICT_ACCESS_RDWR ?
			PROT_READ | PROT_WRITE : PROT_READ);
	if (ret)
		return ret;
	t->fd = fd;
	t->backend = ADICT_BACKEND_DEVICE;
	t->access = info.access;
	ret = adopt_header(t);
	if (!ret && (t->core.capacity != info.capacity ||
		     t->core.nbuckets != info.nbuckets))
		ret = -EBADMSG;
	if (!ret)
		t->page_bytes = device_page_bytes(t, &info);
	return ret;
}

static int create_device(struct adict *t, __u64 capacity,
			 const struct adict_opts *o, const struct adict_layout *l)
{
	struct adict_create_args args = {
		.size = sizeof(args),
		.capacity = capacity,
		.mode = o->mode,
		.grant = o->grant,
	};
	int fd, ret;

	if (!adict_layout_is_default(l)) {
		args.key64 = l->key64;
		args.key32 = l->key32;
		args.value_bytes = l->value_bytes;
	} else {
		args.size = ADICT_CREATE_ARGS_SIZE_V1;	/* any module takes it */
	}
	if (o->name) {
		args.flags |= ADICT_CREATE_NAMED;
		args.name = (__u64)(unsigned long)o->name;
	}
	/* A module without the load option refuses the flag: EINVAL. */
	if (o->load == ADICT_LOAD_1_2)
		args.flags |= ADICT_CREATE_LOAD_HALF;
	fd = open_device(O_RDWR);
	if (fd < 0)
		return fd;
	if (ioctl(fd, ADICT_IOC_CREATE, &args) < 0) {
		ret = neg_errno();
		close(fd);
		return ret;
	}
	ret = map_device(t, fd);
	if (!ret && !adict_layout_is_default(l) &&
	    (t->core.layout.key64 != l->key64 ||
	     t->core.layout.key32 != l->key32 ||
	     t->core.layout.value_bytes != l->value_bytes))
		ret = -EOPNOTSUPP;	/* a module without composite keys */
	if (!ret && o->load == ADICT_LOAD_1_2 &&
	    !(t->flags & ADICT_TABLE_F_LOAD_HALF))
		ret = -EOPNOTSUPP;	/* never a table other than asked for */
	if (ret && t->fd != fd)	/* else adict_close() closes it */
		close(fd);
	return ret;
}

/*
 * The size of struct adict_opts in libadict 0.1, before the geometry.
 * Fields beyond a caller's sz read as 0 (as copy_struct_from_user()).
 */
#define ADICT_OPTS_SZ_V1	offsetof(struct adict_opts, key32)

/* A private copy of the caller's options, zero beyond their sz. */
static int opts_copy(const struct adict_opts *o, struct adict_opts *out)
{
	const unsigned char *p;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!o)
		return 0;
	if (o->sz < ADICT_OPTS_SZ_V1)
		return -EINVAL;
	/* A larger struct from a newer caller: its tail must be zero. */
	p = (const unsigned char *)o;
	for (i = sizeof(*o); i < o->sz; i++)
		if (p[i])
			return -E2BIG;
	memcpy(out, o, o->sz < sizeof(*o) ? o->sz : sizeof(*o));
	out->sz = sizeof(*out);
	return 0;
}

static int opts_check(const struct adict_opts *o)
{
	if (o->backend > ADICT_BACKEND_DEVICE || (o->mode & ~0777U) ||
	    (o->grant & ~(unsigned int)ADICT_GRANT_ALL) ||
	    o->load > ADICT_LOAD_1_2)
		return -EINVAL;
	if (o->name && o->backend == ADICT_BACKEND_MEMFD)
		return -EINVAL;	/* memfd tables have no names */
	return 0;
}

/*
 * The row geometry asked for: key64 = key32 = 0 (as a caller of the 0.1
 * size has) is the default, one u64 key word and a u64 value.
 */
static int opts_layout(const struct adict_opts *o, struct adict_layout *l)
{
	if (!o->key64 && !o->key32) {
		if (o->value_bytes)
			return -EINVAL;
		adict_layout_init(l, 1, 0, 8);
		return 0;
	}
	return adict_layout_init(l, o->key64, o->key32, o->value_bytes) ?
	       0 : -EINVAL;
}

static unsigned int env_backend(void)
{
	const char *e = getenv(ADICT_ENV_BACKEND);

	if (!e || !*e || !strcmp(e, "auto"))
		return ADICT_BACKEND_AUTO;
	if (!strcmp(e, "memfd"))
		return ADICT_BACKEND_MEMFD;
	if (!strcmp(e, "device"))
		return ADICT_BACKEND_DEVICE;
	return ~0U;
}

int adict_create(struct adict **tp, __u64 capacity,
		 const struct adict_opts *uopts)
{
	struct adict_opts oc, *opts = &oc;
	struct adict_layout l;
	unsigned int backend;
	struct adict *t;
	int ret;

	if (!tp)
		return -EINVAL;
	*tp = NULL;
	ret = opts_copy(uopts, opts);
	if (ret)
		return ret;
	ret = opts_check(opts);
	if (ret)
		return ret;
	ret = opts_layout(opts, &l);
	if (ret)
		return ret;
	if (!capacity)
		return -EINVAL;
	if (capacity > ADICT_CAPACITY_MAX)
		return -EFBIG;

	backend = opts ? opts->backend : ADICT_BACKEND_AUTO;
	if (opts && opts->name)
		backend = ADICT_BACKEND_DEVICE;
	if (backend == ADICT_BACKEND_AUTO)
		backend = env_backend();
	if (backend == ~0U)
		return -EINVAL;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = -1;
	switch (backend) {
	case ADICT_BACKEND_MEMFD:
		ret = create_memfd(t, capacity, opts, &l);
		break;
	case ADICT_BACKEND_DEVICE:
		ret = create_device(t, capacity, opts, &l);
		break;
	default:	/* auto: the device when it is there, else a memfd */
		ret = create_device(t, capacity, opts, &l);
		if (ret == -ENODEV)
			ret = create_memfd(t, capacity, opts, &l);
		break;
	}
	if (ret) {
		adict_close(t);
		return ret;
	}
	*tp = t;
	return 0;
}

/* ADICT_IOC_ATTACH with @flags (ADICT_ATTACH_OWNER: @owner must own it). */
static int attach_device(struct adict **tp, const char *name,
			 unsigned int flags, unsigned int owner)
{
	struct adict_attach_args args = {
		.size = sizeof(args),
		.flags = flags,
		.name = (__u64)(unsigned long)name,
		.owner = owner,
	};
	struct adict *t;
	int fd, ret;

	if (!tp)
		return -EINVAL;
	*tp = NULL;
	if (!name || (flags & ~ADICT_ATTACH_FLAGS))
		return -EINVAL;
	/* read-only and mediated work on an O_RDONLY fd; read-write needs O_RDWR */
	fd = open_device(flags & (ADICT_ATTACH_RDONLY | ADICT_ATTACH_MEDIATED) ?
			 O_RDONLY : O_RDWR);
	if (fd < 0)
		return fd;
	if (ioctl(fd, ADICT_IOC_ATTACH, &args) < 0) {
		ret = neg_errno();
		close(fd);
		return ret;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	t->fd = -1;
	ret = map_device(t, fd);
	if (ret) {
		close(fd);
		adict_close(t);
		return ret;
	}
	*tp = t;
	return 0;
}

int adict_attach(struct adict **tp, const char *name, unsigned int flags)
{
	if (flags & ADICT_ATTACH_OWNER) {	/* needs an owner: adict_attach_owner() */
		if (tp)
			*tp = NULL;
		return -EINVAL;
	}
	return attach_device(tp, name, flags, 0);
}

int adict_attach_owner(struct adict **tp, const char *name,
		       unsigned int flags, uid_t owner)
{
	if (flags & ADICT_ATTACH_OWNER) {	/* implied; not a flag here */
		if (tp)
			*tp = NULL;
		return -EINVAL;
	}
	return attach_device(tp, name, flags | ADICT_ATTACH_OWNER, owner);
}

int adict_usage(struct adict_usage *u)
{
	int fd, ret = 0;

	if (!u)
		return -EINVAL;
	fd = open_device(O_RDONLY);
	if (fd < 0)
		return fd;
	memset(u, 0, sizeof(*u));
	u->size = sizeof(*u);
	if (ioctl(fd, ADICT_IOC_USAGE, u) < 0)
		ret = neg_errno();
	close(fd);
	return ret;
}

/*
 * A memfd table received from another process.  Its creator sealed the size
 * (create_memfd()); without those seals a sharer could shrink the file
 * under our mapping and turn every access into SIGBUS, so refuse it.  The
 * header is validated against the size by adopt_header(), as for any
 * table.
 */
static int map_memfd(struct adict *t, int fd, int seals)
{
	const int need = F_SEAL_SHRINK | F_SEAL_GROW;
	struct stat st;
	int ret;

	if ((seals & need) != need)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return neg_errno();
	if (st.st_size < ADICT_HEADER_BYTES ||
	    (unsigned long long)st.st_size > SIZE_MAX)
		return -EBADMSG;
	ret = map_table(t, fd, (size_t)st.st_size, PROT_READ | PROT_WRITE);
	if (ret)
		return ret;
	t->fd = fd;
	t->backend = ADICT_BACKEND_MEMFD;
	t->access = ADICT_ACCESS_RDWR;
	return adopt_header(t);
}

int adict_from_fd(struct adict **tp, int fd)
{
	struct adict *t;
	int dfd, seals, ret;

	if (!tp)
		return -EINVAL;
	*tp = NULL;
	if (fd < 0)
		return -EBADF;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return neg_errno();
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(dfd);
		return -ENOMEM;
	}
	t->fd = -1;
	/* Only a memfd has seals; anything else must be a bound device fd. */
	seals = fcntl(dfd, F_GET_SEALS);
	if (seals >= 0) {
		ret = map_memfd(t, dfd, seals);
	} else {
		ret = map_device(t, dfd);
		if (ret == -ENOTTY)
			ret = -EINVAL;	/* neither a memfd nor the device */
	}
	if (ret) {
		if (t->fd != dfd)	/* else adict_close() closes it */
			close(dfd);
		adict_close(t);
		return ret;
	}
	*tp = t;
	return 0;
}

int adict_unlink(const char *name)
{
	struct adict_unlink_args args = {
		.size = sizeof(args),
		.name = (__u64)(unsigned long)name,
	};
	int fd, ret = 0;

	if (!name)
		return -EINVAL;
	fd = open_device(O_RDONLY);
	if (fd < 0)
		return fd;
	if (ioctl(fd, ADICT_IOC_UNLINK, &args) < 0)
		ret = neg_errno();
	close(fd);
	return ret;
}

void adict_close(struct adict *t)
{
	if (!t)
		return;
	adict_uring_exit(t->kuring);
	if (t->map)
		munmap(t->map, t->map_bytes);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

unsigned long adict_page_bytes(const struct adict *t)
{
	return t ? t->page_bytes : 0;
}

/*
 * In the shared library, adict_info@@LIBADICT_0.2 fills the whole struct,
 * geometry included, and adict_info@LIBADICT_0.1, what binaries linked
 * against ABI 0.1 call, fills only the struct they were built with (it
 * ended before key64).  Static users are built against this header.
 */
#ifdef ADICT_SHLIB
#define ADICT_INFO_CURRENT	adict_info_v02
int adict_info_v02(const struct adict *t, struct adict_table_info *info);
int adict_info_v01(const struct adict *t, struct adict_table_info *info);
__asm__(".symver adict_info_v01,adict_info@LIBADICT_0.1");
__asm__(".symver adict_info_v02,adict_info@@LIBADICT_0.2");

ADICT_API int adict_info_v01(const struct adict *t,
			     struct adict_table_info *info)
{
	struct adict_table_info full;
	int ret;

	if (!info)
		return -EINVAL;
	ret = adict_info_v02(t, &full);
	if (!ret)
		memcpy(info, &full, offsetof(struct adict_table_info, key64));
	return ret;
}
#else
#define ADICT_INFO_CURRENT	adict_info
#endif

ADICT_API int ADICT_INFO_CURRENT(const struct adict *t,
				 struct adict_table_info *info)
{
	struct adict_info di;
	__u64 used;
	int ret;

	if (!t || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->capacity = t->core.capacity;
	info->nbuckets = t->core.nbuckets;
	info->bytes = adict_map_bytes(t->core.nbuckets);
	info->backend = t->backend;
	info->access = t->access;
	info->key64 = t->core.layout.key64;
	info->key32 = t->core.layout.key32;
	info->value_bytes = t->core.layout.value_bytes;
	info->row_bytes = t->core.layout.row_bytes;
	info->bucket_rows = t->core.layout.rows;
	info->load = t->flags & ADICT_TABLE_F_LOAD_HALF ? ADICT_LOAD_1_2 :
		     ADICT_LOAD_3_4;
	used = adict_a_load(t->core.kused);
	info->used = used > t->core.capacity ? t->core.capacity : used;
	if (t->backend != ADICT_BACKEND_DEVICE)
		return 0;
	ret = device_info(t->fd, &di);
	if (ret)
		return ret;
	info->used = di.used;
	info->id = di.id;
	info->uid = di.uid;
	info->gid = di.gid;
	info->mode = di.mode;
	info->grant = di.grant;
	info->users = di.users;
	memcpy(info->name, di.name, sizeof(info->name));
	info->name[sizeof(info->name) - 1] = '\0';
	return 0;
}

/*
 * Iterate over the published keys.  @cursor starts at 0 and is opaque.
 * Keys never move and are never removed, so each key is returned at most
 * once; a key published behind the cursor during the walk is missed.
 * Return: 1 with a pair, 0 at the end.
 */
int adict_iter_next(const struct adict *t, __u64 *cursor, __u64 *key,
		    __u64 *value)
{
	__u64 i = *cursor, end = t->core.nbuckets * ADICT_BUCKET_SLOTS;

	if (t->core.wide)
		return -EINVAL;	/* adict_tuple_iter_next() */
	if (i < ADICT_BUCKET_SLOTS)
		i = ADICT_BUCKET_SLOTS;	/* skip the control bucket */
	for (; i < end; i++) {
		struct adict_slot *s;
		__u64 k;

		s = &t->core.kbuckets[i / ADICT_BUCKET_SLOTS].slot[i % ADICT_BUCKET_SLOTS];
		k = adict_a_load_key(&s->key);	/* pairs with the publishing CAS */
		if (!k)
			continue;
		*key = k;
		*value = adict_a_load(&s->value);
		*cursor = i + 1;
		return 1;
	}
	*cursor = end;
	return 0;
}

int adict__op_slow(struct adict *t, __u32 op, __u64 key, __u64 arg1,
		   __u64 arg2, __u64 *result)
{
	int ret;

	if (!key || !adict_op_valid(op) || t->core.wide)
		return -EINVAL;
	if (t->access == ADICT_ACCESS_RDWR)
		return adict_core_op(&t->core, op, key, arg1, arg2, result);

	/* Reads are served from the read-only mapping: no system call. */
	if (op == ADICT_OP_LOAD || op == ADICT_OP_FIND) {
		__u64 *v;

		ret = adict_core_lookup(&t->core, key, false, &v);
		if (ret == -ENOENT && op == ADICT_OP_LOAD) {
			*result = 0;	/* absent reads as 0; nothing inserted */
			return 0;
		}
		if (ret < 0)
			return ret;
		*result = adict_a_load(v);
		return 0;
	}
	if (t->access != ADICT_ACCESS_MEDIATED)
		return -EPERM;

	/* Mediated (device only): the kernel runs it if the grant allows. */
	return adict_kernel_op(t, op, key, arg1, arg2, result);
}

/* adict_tuple_op() on a read-only or mediated table. */
int adict__tuple_op_slow(struct adict *t, __u32 op, const __u64 *key,
			 __u64 arg1, __u64 arg2, __u64 *result)
{
	int ret;

	if (!key || !adict_op_valid(op))
		return -EINVAL;
	if (t->access == ADICT_ACCESS_RDWR)
		return adict_core_kop(&t->core, op, key, arg1, arg2, result);
	if (op == ADICT_OP_LOAD || op == ADICT_OP_FIND) {
		/* Served from the read-only mapping: FIND never writes. */
		ret = adict_core_kop(&t->core, ADICT_OP_FIND, key, 0, 0, result);
		if (ret == -ENOENT && op == ADICT_OP_LOAD) {
			*result = 0;	/* absent reads as 0; nothing inserted */
			return 0;
		}
		return ret;
	}
	if (t->access != ADICT_ACCESS_MEDIATED)
		return -EPERM;
	if (!t->core.wide)
		return adict_kernel_op(t, op, key[0], arg1, arg2, result);
	return adict_kernel_tuple_op(t, op, key, arg1, arg2, result);
}

/*
 * Iterate over the complete keys of any geometry: @key gets the packed key
 * (adict_key_words() words), @value the value (0 for a set).  As
 * adict_iter_next(): each key at most once, never a torn or part-written
 * key.  Return: 1 with a key, 0 at the end.
 */
int adict_tuple_iter_next(const struct adict *t, __u64 *cursor, __u64 *key,
			  __u64 *value)
{
	const struct adict_core *c = &t->core;
	__u64 rows = c->layout.rows, i = *cursor, end = c->nbuckets * rows;

	if (!key || !value)
		return -EINVAL;
	if (i < rows)
		i = rows;	/* skip the control bucket */
	for (; i < end; i++) {
		if (!adict_core_row_key(c, i / rows, (__u32)(i % rows), key))
			continue;
		*value = adict_core_row_value(c, i / rows, (__u32)(i % rows));
		*cursor = i + 1;
		return 1;
	}
	*cursor = end;
	return 0;
}

int adict_kernel_op(struct adict *t, __u32 op, __u64 key, __u64 arg1,
		    __u64 arg2, __u64 *result)
{
	struct adict_op_args args = {
		.size = ADICT_OP_ARGS_SIZE_V1,	/* any module takes it */
		.op = op,
		.key = key,
		.arg1 = arg1,
		.arg2 = arg2,
	};

	if (!t || !result)
		return -EINVAL;
	if (t->backend != ADICT_BACKEND_DEVICE)
		return -EOPNOTSUPP;
	if (ioctl(t->fd, ADICT_IOC_OP, &args) < 0)
		return neg_errno();
	*result = args.result;
	return 0;
}

/* One operation on a packed key run by the kernel; device backend only. */
int adict_kernel_tuple_op(struct adict *t, __u32 op, const __u64 *key,
			  __u64 arg1, __u64 arg2, __u64 *result)
{
	struct adict_op_args args = {
		.size = sizeof(args),
		.op = op,
		.arg1 = arg1,
		.arg2 = arg2,
	};
	unsigned int n;

	if (!t || !key || !result)
		return -EINVAL;
	if (t->backend != ADICT_BACKEND_DEVICE)
		return -EOPNOTSUPP;
	n = adict_key_words(t);
	args.key = key[0];
	memcpy(args.key_more, key + 1, (n - 1) * sizeof(__u64));
	if (ioctl(t->fd, ADICT_IOC_OP, &args) < 0)
		return neg_errno();
	*result = args.result;
	return 0;
}

/*
 * Batches: hash key i + ADICT_PREFETCH_DIST and prefetch its home bucket
 * while key i is processed, so up to that many cache misses overlap.  Adds
 * prefetch for writing (PREFETCHW on x86-64, see the Makefile): the line
 * comes exclusive, not shared and then upgraded by the locked add, which
 * matters when several processes share the table.
 * Return: n, or the index of the first failing key, or -errno if key 0 fails.
 */
int adict_add_batch(struct adict *t, const __u64 *keys, const __u64 *deltas,
		    size_t n, __u64 *old)
{
	__u64 home[ADICT_PREFETCH_DIST];
	const struct adict_core *c = &t->core;
	size_t i, d = ADICT_PREFETCH_DIST;
	__u64 *v, r;
	int ret;

	if (n > INT_MAX)
		return -EINVAL;
	if (!t->fast) {
		for (i = 0; i < n; i++) {
			ret = adict__op_slow(t, ADICT_OP_ADD, keys[i],
					     deltas ? deltas[i] : 1, 0, &r);
			if (ret < 0)
				return i ? (int)i : ret;
			if (old)
				old[i] = r;
		}
		return (int)n;
	}
	for (i = 0; i < n && i < d; i++) {
		home[i] = adict_home_bucket(c, keys[i]);
		__builtin_prefetch(&c->kbuckets[home[i]], 1, 0);
	}
	for (i = 0; i < n; i++) {
		__u64 b = home[i % d];

		if (i + d < n) {
			__u64 nb = adict_home_bucket(c, keys[i + d]);

			home[i % d] = nb;
			__builtin_prefetch(&c->kbuckets[nb], 1, 0);
		}
		if (!keys[i])
			return i ? (int)i : -EINVAL;
		ret = adict_core_lookup_at(c, keys[i], b, true, &v);
		if (ret < 0)
			return i ? (int)i : ret;
		r = adict_a_fetch_add(v, deltas ? deltas[i] : 1);
		if (old)
			old[i] = r;
	}
	return (int)n;
}

int adict_load_batch(struct adict *t, const __u64 *keys, size_t n,
		     __u64 *values)
{
	__u64 home[ADICT_PREFETCH_DIST];
	const struct adict_core *c = &t->core;
	size_t i, d = ADICT_PREFETCH_DIST;
	__u64 *v;
	int ret;

	if (n > INT_MAX)
		return -EINVAL;
	if (!t->fast) {
		for (i = 0; i < n; i++) {
			ret = adict__op_slow(t, ADICT_OP_LOAD, keys[i], 0, 0,
					     &values[i]);
			if (ret < 0)
				return i ? (int)i : ret;
		}
		return (int)n;
	}
	for (i = 0; i < n && i < d; i++) {
		home[i] = adict_home_bucket(c, keys[i]);
		__builtin_prefetch(&c->kbuckets[home[i]], 0, 0);
	}
	for (i = 0; i < n; i++) {
		__u64 b = home[i % d];

		if (i + d < n) {
			__u64 nb = adict_home_bucket(c, keys[i + d]);

			home[i % d] = nb;
			__builtin_prefetch(&c->kbuckets[nb], 0, 0);
		}
		if (!keys[i])
			return i ? (int)i : -EINVAL;
		ret = adict_core_lookup_at(c, keys[i], b, true, &v);
		if (ret < 0)
			return i ? (int)i : ret;
		values[i] = adict_a_load(v);
	}
	return (int)n;
}

int adict_recount(struct adict *t, __u64 *count)
{
	if (!t || !count)
		return -EINVAL;
	*count = adict_core_count(&t->core);
	return 0;
}
