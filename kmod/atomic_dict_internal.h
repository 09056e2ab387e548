/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the atomic_dict module shared with its KUnit suite
 * (atomic_dict_kunit.c).  Nothing here is ABI; see atomic_dict.c for the
 * object model, the lifetime rules and the locking.
 */
#ifndef ADICT_KMOD_INTERNAL_H
#define ADICT_KMOD_INTERNAL_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <kunit/visibility.h>
#include <linux/atomic_dict.h>
#include <adict/core.h>

struct user_namespace;

/*
 * Huge pages (Documentation/device.rst, "Huge pages").  Where the mm calls
 * a driver's ->huge_fault for a VM_PFNMAP mapping and can mark a PMD
 * special (CONFIG_ARCH_SUPPORTS_PMD_PFNMAP: Linux 6.12 on x86-64 with THP),
 * each whole ADICT_HUGE_NR-page piece of a table is one compound page of
 * ADICT_HUGE_ORDER, and an aligned mapping of it is one PMD.  Linux 6.1
 * calls ->huge_fault for DAX mappings only, so tables there stay on base
 * pages (ADICT_HUGE_NR 1: the loops below never see a huge page).
 */
#if IS_ENABLED(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP)
#define ADICT_HUGE		1
#define ADICT_HUGE_ORDER	HPAGE_PMD_ORDER
#define ADICT_HUGE_NR		HPAGE_PMD_NR
#else
#define ADICT_HUGE_ORDER	0
#define ADICT_HUGE_NR		1UL
#endif

/*
 * One table.  Fields marked "immutable" are written before the table becomes
 * reachable (before `live` is set under adict_lock) and never change after.
 */
struct adict_table {
	struct kref ref;		/* registry (while linked) + bound files */
	struct list_head node;		/* adict_tables; protected by adict_lock */
	bool linked;			/* name in the registry; adict_lock */
	bool live;			/* fully built, attachable; adict_lock */
	atomic_t users;			/* bound files + VMAs, for the listing */
	u64 id;				/* immutable, unique, never reused */
	char name[ADICT_NAME_MAX];	/* immutable; "" when anonymous */
	kuid_t uid;			/* immutable owner (creator's fsuid) */
	kgid_t gid;			/* immutable group (creator's fsgid) */
	kuid_t quota_uid;		/* immutable, charged for limits */
	struct user_namespace *user_ns;	/* immutable; creator's, ref held */
	u32 mode;			/* immutable permission bits */
	u32 grant;			/* immutable ops for mediated attachers */
	u32 flags;			/* immutable ADICT_TABLE_F_* */
	/*
	 * A kernel probe on it visited 1,024 buckets or more: set once,
	 * never cleared (READ_ONCE/WRITE_ONCE).
	 */
	bool slow;
	u64 bytes;			/* immutable map_bytes */
	unsigned long npages;		/* immutable, bytes >> PAGE_SHIFT */
	struct page **pages;		/* immutable once populated */
	/*
	 * pages[0 .. huge_npages) are compound pages of ADICT_HUGE_ORDER, one
	 * per ADICT_HUGE_NR entries; the rest are base pages.  Immutable once
	 * populated; 0 before Linux 6.12 (atomic_dict.c, ADICT_HUGE).
	 */
	unsigned long huge_npages;
	void *kaddr;			/* vmap() of pages; header at offset 0 */
	struct adict_core core;		/* trusted geometry, kernel's own copy */
};

/* One open file description of /dev/atomic_dict. */
struct adict_file {
	struct mutex bind_lock;		/* serializes CREATE/ATTACH on this file */
	/*
	 * Bound table: NULL until CREATE/ATTACH, then fixed until release.
	 * Written once under bind_lock with smp_store_release() after
	 * `access`; read locklessly with smp_load_acquire() (adict_file_table).
	 */
	struct adict_table *table;
	u32 access;			/* ADICT_ACCESS_*; fixed before table */
};

#if IS_ENABLED(CONFIG_KUNIT)
struct adict_table *adict_table_create_kernel(u64 capacity);
struct adict_table *adict_table_create_kernel_geom(u64 capacity, u32 key64,
						   u32 key32, u32 value_bytes);
void adict_table_destroy_kernel(struct adict_table *t);
int adict_name_valid(const char *name, size_t len);
int adict_table_kop(struct adict_table *t, u32 access, u32 op,
		    const u64 *key, u64 arg1, u64 arg2, u64 *result);
int adict_table_op(struct adict_table *t, u32 access, u32 op, u64 key,
		   u64 arg1, u64 arg2, u64 *result);
int adict_op_args_run(struct adict_table *t, u32 access,
		      struct adict_op_args *args);
u32 adict_batch_exec(struct adict_table *t, u32 access,
		     struct adict_batch_op *ents, u32 count);
u32 adict_batch_kexec(struct adict_table *t, u32 access,
		      struct adict_batch_kop *ents, u32 count);
int adict_mmap_check(u32 access, unsigned long npages, unsigned long pgoff,
		     unsigned long len_pages, unsigned long vm_flags,
		     bool *writable);
#endif

#endif /* ADICT_KMOD_INTERNAL_H */
