// SPDX-License-Identifier: GPL-2.0
/*
 * atomic_dict - /dev/atomic_dict: shared lock-free tables in kernel pages.
 *
 * Processes map a table and run lookups and atomic operations in userspace;
 * the kernel owns the pages, names tables, checks permissions, enforces
 * limits and offers kernel-side operations (ioctl and io_uring batches) on
 * the very same probe code as libadict (lib/include/adict/core.h).
 * Documentation/device.rst is the user-facing description of all of this.
 *
 * Object model
 * ------------
 * struct adict_table is one table: its pages, the kernel's vmap() of them,
 * the trusted geometry (struct adict_core), owner, group, mode, grant, name.
 * struct adict_file is one open file description of the device.
 *
 * open() gives an adict_file with no table.  ADICT_IOC_CREATE or
 * ADICT_IOC_ATTACH binds one table to it, once and for all (a second bind
 * fails with -EBUSY), together with the access granted (read-write,
 * read-only or mediated).  mmap(), ADICT_IOC_INFO, ADICT_IOC_OP and uring
 * batches then act on the bound table.  Binding to the device fd, rather
 * than returning a new table fd (the ntsync/KVM pattern), keeps one kind of
 * fd whose O_RDONLY/O_RDWR mode is exactly what the mm core enforces for
 * mmap, and needs no anon inode.
 *
 * Lifetime and refcounting
 * ------------------------
 * adict_table.ref counts
 *   - the name registry, while the table is named and not unlinked
 *     (adict_table.linked), and
 *   - each adict_file bound to the table.
 * A VMA holds its struct file, the file holds the adict_file, and the
 * adict_file holds its table reference: mappings need no reference of their
 * own.  The pages are freed when the last of these goes: unlink, last close,
 * last munmap.  adict_table.users (bound files + VMAs, counted in ->mmap and
 * vm_ops open/close) is for the listing only and never decides lifetime.
 *
 * The final kref_put() takes adict_lock (kref_put_mutex()), so a lookup under
 * adict_lock never finds a table whose count reached zero, and the release
 * unlinks the table from adict_tables before anything is freed.
 *
 * fops.owner pins the module while any file is open, and a mapping holds its
 * file, so unloading is refused while any fd or mapping exists.  At module
 * exit only named tables that nobody uses remain; they are freed: named
 * tables do not survive a module unload (adictctl dump/restore covers that).
 *
 * Locking
 * -------
 * adict_lock (global mutex) protects adict_tables (every table, named or
 * not, from reservation until release), the name registry (the linked flag),
 * each table's live flag, and the counters used for limits.
 * adict_file.bind_lock serializes CREATE/ATTACH on one file.
 * Lock order: adict_file.bind_lock -> adict_lock.
 *
 * Every copy from or to userspace is done with no lock held: arguments and
 * names are copied in before any lock is taken.  ->mmap, the fault handler,
 * ADICT_IOC_OP, ADICT_IOC_INFO and uring batches take no lock at all: they
 * read adict_file.table with smp_load_acquire() (paired with the
 * smp_store_release() in adict_file_bind()), and what they read of the table
 * is immutable once bound.  So no driver lock nests with mmap_lock.
 *
 * Trust
 * -----
 * Keys, values and the used word live in pages that processes may write.
 * The kernel never trusts them: every loop in core.h is bounded by the
 * kernel's own copy of the geometry (adict_table.core), `used` read for INFO
 * is clamped to the capacity, and the header page is never read back.
 * Bounded is not enough on a table scribbled or flooded so that a probe
 * visits every bucket: probes reschedule every ADICT_A_RELAX_BUCKETS and
 * stop on a fatal signal (adict_a_relax() in adict/atomics.h), batches
 * reschedule between entries, and io_uring batches that may run long are
 * punted to io-wq instead of running under the ring's lock (before 6.4,
 * see ADICT_URING_PUNT_LONG).
 *
 * Tenants
 * -------
 * Limits are global (max_tables, max_total_bytes) and per quota owner
 * (max_tables_per_user, max_user_bytes; adict_quota_uid()).  The listing
 * shows a reader only what it may attach (adict_may_list()).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/lockdep.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/pfn_t.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#include <linux/io_uring/cmd.h>
#define ADICT_HAVE_URING_CMD 1
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 19, 0)
#include <linux/io_uring.h>
#define ADICT_HAVE_URING_CMD 1
#endif

#include "atomic_dict_internal.h"

/* Format v1 protects the header page separately from the data pages. */
#if PAGE_SIZE != ADICT_HEADER_BYTES
#error "atomic_dict needs 4 KiB pages (ADICT_HEADER_BYTES == PAGE_SIZE)"
#endif

#define ADICT_HEADER_PAGES	(ADICT_HEADER_BYTES >> PAGE_SHIFT)

/* ------------------------------------------------------------------------ */
/* Limits (module parameters, writable by root at runtime)                  */
/* ------------------------------------------------------------------------ */

static bool huge_pages = true;
module_param(huge_pages, bool, 0644);
MODULE_PARM_DESC(huge_pages,
		 "Back the whole 2 MiB pieces of new tables with huge pages where the kernel maps them by PMD, 6.12 and later (default Y)");

static unsigned long max_table_bytes = 1UL << 30;
module_param(max_table_bytes, ulong, 0644);
MODULE_PARM_DESC(max_table_bytes,
		 "Largest table in bytes, header included (default 1 GiB)");

static unsigned int max_tables = 1024;
module_param(max_tables, uint, 0644);
MODULE_PARM_DESC(max_tables, "Most tables alive at once (default 1024)");

static unsigned int max_tables_per_user = 64;
module_param(max_tables_per_user, uint, 0644);
MODULE_PARM_DESC(max_tables_per_user,
		 "Most tables alive at once per quota owner (default 64)");

static unsigned long max_total_bytes;
module_param(max_total_bytes, ulong, 0644);
MODULE_PARM_DESC(max_total_bytes,
		 "Most bytes in all tables together (default 0: half of RAM)");

static unsigned long max_user_bytes;
module_param(max_user_bytes, ulong, 0644);
MODULE_PARM_DESC(max_user_bytes,
		 "Most bytes in the tables of one quota owner (default 0: a quarter of max_total_bytes)");

/* ------------------------------------------------------------------------ */
/* Global state                                                             */
/* ------------------------------------------------------------------------ */

static DEFINE_MUTEX(adict_lock);
static LIST_HEAD(adict_tables);		/* every table; adict_lock */
static unsigned int adict_ntables;	/* entries of adict_tables; adict_lock */
static u64 adict_total_bytes;		/* sum of their bytes; adict_lock */
static u64 adict_next_id = 1;		/* adict_lock */

/* ------------------------------------------------------------------------ */
/* Version shims                                                            */
/* ------------------------------------------------------------------------ */

static inline void adict_vm_flags_mod(struct vm_area_struct *vma,
				      unsigned long set, unsigned long clear)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/* ------------------------------------------------------------------------ */
/* Tables: allocation and release                                           */
/* ------------------------------------------------------------------------ */

static void adict_table_free_pages(struct adict_table *t)
{
	unsigned long i;

	if (t->kaddr)
		vunmap(t->kaddr);
	if (t->pages) {
		/*
		 * Up to max_table_bytes of pages: let the scheduler in now and
		 * then.  Every caller may sleep (file release, the ioctl that
		 * failed to create, module exit).
		 */
		for (i = 0; i < t->huge_npages; i += ADICT_HUGE_NR) {
			__free_pages(t->pages[i], ADICT_HUGE_ORDER);
			cond_resched();
		}
		for (; i < t->npages && t->pages[i]; i++) {
			__free_page(t->pages[i]);
			if (!(i % 1024))
				cond_resched();
		}
		kvfree(t->pages);
	}
}

static void adict_table_free(struct adict_table *t)
{
	adict_table_free_pages(t);
	if (t->user_ns)
		put_user_ns(t->user_ns);
	kfree(t);
}

/*
 * adict_capacity_bytes - validate a capacity against format v2 and limits.
 * @l:      a valid row geometry
 * @tflags: ADICT_TABLE_F_* of the new table (the load flag sizes it)
 * Return: 0 and the table's bytes in @bytes, -EINVAL for 0, -EFBIG above
 * ADICT_CAPACITY_MAX or max_table_bytes, -ENOMEM above the RAM there is.
 */
static int adict_capacity_bytes(u64 capacity, const struct adict_layout *l,
				u32 tflags, u64 *bytes)
{
	u64 nb;

	if (!capacity)
		return -EINVAL;
	nb = adict_nbuckets(capacity, l->rows, tflags);
	if (!nb)
		return -EFBIG;
	*bytes = adict_map_bytes(nb);	/* <= 2^40 * 86 bytes: no overflow */
	if (*bytes > READ_ONCE(max_table_bytes))
		return -EFBIG;
	if ((*bytes >> PAGE_SHIFT) > totalram_pages())
		return -ENOMEM;
	return 0;
}

/* Build an unpopulated table object (capacity and geometry validated). */
static struct adict_table *adict_table_new(u64 capacity,
					   const struct adict_layout *l,
					   u32 flags)
{
	struct adict_table *t;

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return NULL;
	kref_init(&t->ref);
	INIT_LIST_HEAD(&t->node);
	t->flags = flags | ADICT_TABLE_F_DEVICE;
	t->core.capacity = capacity;	/* adict_table_populate() fills the rest */
	t->core.layout = *l;
	return t;
}

/*
 * adict_table_alloc_huge - back the first whole huge pieces of @t.
 *
 * Each whole ADICT_HUGE_NR-page piece, from the start, gets one zeroed
 * compound page, charged to the caller's memory cgroup like the base pages.
 * __GFP_NORETRY: one light attempt at compaction and reclaim, then the rest
 * of the table comes from base pages (the first failure ends the huge
 * prefix, so t->huge_npages describes it and adict_table_free_pages()
 * frees it).  A fatal signal is left to the caller's loop.
 */
static void adict_table_alloc_huge(struct adict_table *t)
{
#ifdef ADICT_HUGE
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN |
			  __GFP_NORETRY | __GFP_COMP;
	struct page *page;
	unsigned long i;

	if (!READ_ONCE(huge_pages))
		return;
	while (t->huge_npages + ADICT_HUGE_NR <= t->npages &&
	       !fatal_signal_pending(current)) {
		page = alloc_pages(gfp, ADICT_HUGE_ORDER);
		if (!page)
			return;
		for (i = 0; i < ADICT_HUGE_NR; i++)
			t->pages[t->huge_npages + i] = page + i;
		t->huge_npages += ADICT_HUGE_NR;
		cond_resched();
	}
#endif
}

/*
 * adict_table_populate - allocate, zero and map the pages of @t.
 *
 * Whole huge pieces first where the kernel can map them by PMD
 * (adict_table_alloc_huge()), then base pages, allocated one by one and
 * charged to the caller's memory cgroup
 * (__GFP_ACCOUNT; vmalloc_user() would not be).  __GFP_RETRY_MAYFAIL makes
 * an allocation beyond the cgroup's limit or the free memory fail with
 * -ENOMEM instead of invoking the OOM killer; __GFP_NOWARN keeps a failure
 * out of the log.  A fatal signal stops the allocation of a big table.
 *
 * Return: 0, -ENOMEM or -EINTR (fatal signal).
 */
static int adict_table_populate(struct adict_table *t)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN |
			  __GFP_RETRY_MAYFAIL;
	struct adict_table_header h;
	unsigned long i;
	u64 seed[2];

	/* The table's secret hash seed (format.rst: what it defends). */
	get_random_bytes(seed, sizeof(seed));
	if (!adict_header_init(&h, t->core.capacity, t->flags, &t->core.layout,
			       seed))
		return -EINVAL;
	t->bytes = h.map_bytes;
	t->npages = h.map_bytes >> PAGE_SHIFT;
	t->pages = kvcalloc(t->npages, sizeof(*t->pages),
			    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!t->pages)
		return -ENOMEM;
	adict_table_alloc_huge(t);
	for (i = t->huge_npages; i < t->npages; i++) {
		if (fatal_signal_pending(current))
			return -EINTR;
		t->pages[i] = alloc_page(gfp);
		if (!t->pages[i])
			return -ENOMEM;
		cond_resched();
	}
	t->kaddr = vmap(t->pages, t->npages, VM_MAP, PAGE_KERNEL);
	if (!t->kaddr)
		return -ENOMEM;
	memcpy(t->kaddr, &h, sizeof(h));	/* rest of the page is zero */
	/* The geometry comes from our own header copy, never from the page. */
	adict_core_init(&t->core, &h, (char *)t->kaddr + ADICT_HEADER_BYTES);
	return 0;
}

/*
 * Called by kref_put_mutex() with adict_lock held; drops it.  (No sparse
 * __releases(): mutexes carry no context annotations.)
 */
static void adict_table_release(struct kref *ref)
{
	struct adict_table *t = container_of(ref, struct adict_table, ref);

	lockdep_assert_held(&adict_lock);
	list_del(&t->node);
	adict_ntables--;
	adict_total_bytes -= t->bytes;
	mutex_unlock(&adict_lock);
	adict_table_free(t);
}

static void adict_table_put(struct adict_table *t)
{
	kref_put_mutex(&t->ref, adict_table_release, &adict_lock);
}

/* ------------------------------------------------------------------------ */
/* Registry                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * adict_name_valid - 1..63 bytes of [A-Za-z0-9._-], not starting with '.'.
 * Return: 0 or -EINVAL.
 */
VISIBLE_IF_KUNIT int adict_name_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len >= ADICT_NAME_MAX || name[0] == '.')
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char c = name[i];

		/* Not isalnum(): the kernel's ctype counts Latin-1 letters. */
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-')
			return -EINVAL;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(adict_name_valid);

/*
 * Copy a name from userspace into @buf (ADICT_NAME_MAX bytes).
 * Return: 0, -EFAULT, -ENAMETOOLONG (no NUL in the first ADICT_NAME_MAX
 * bytes) or -EINVAL (empty or a character outside the allowed set).
 */
static int adict_name_from_user(char *buf, u64 uptr)
{
	long n;

	n = strncpy_from_user(buf, u64_to_user_ptr(uptr), ADICT_NAME_MAX);
	if (n < 0)
		return n;
	if (n == ADICT_NAME_MAX)
		return -ENAMETOOLONG;
	return adict_name_valid(buf, n);
}

/* A named table that is still in the registry (creating or live). */
static struct adict_table *adict_lookup_locked(const char *name)
{
	struct adict_table *t;

	lockdep_assert_held(&adict_lock);
	list_for_each_entry(t, &adict_tables, node)
		if (t->linked && !strcmp(t->name, name))
			return t;
	return NULL;
}

/*
 * adict_quota_uid - the uid a new table of @cred is charged to.
 *
 * A creator in the initial user namespace is charged as its fsuid.  A
 * creator in any other namespace is charged to the owner of the outermost
 * namespace of its chain below the initial one: the host uid that created
 * the container.  So every uid of one container, whatever subuid range it
 * was given, shares that owner's quota (the kernel's ucounts charge each
 * level of the chain this way; this module enforces the top level only).
 */
static kuid_t adict_quota_uid(const struct cred *cred)
{
	const struct user_namespace *ns = cred->user_ns;

	if (ns == &init_user_ns)
		return cred->fsuid;
	while (ns->parent != &init_user_ns)
		ns = ns->parent;
	return ns->owner;
}

/* What the tables charged to @uid hold. */
static void adict_user_usage_locked(kuid_t uid, unsigned int *tables,
				    u64 *bytes)
{
	struct adict_table *t;

	lockdep_assert_held(&adict_lock);
	*tables = 0;
	*bytes = 0;
	list_for_each_entry(t, &adict_tables, node) {
		if (uid_eq(t->quota_uid, uid)) {
			(*tables)++;
			*bytes += t->bytes;
		}
	}
}

static u64 adict_max_total_bytes(void)
{
	u64 max = READ_ONCE(max_total_bytes);

	return max ? max : (u64)totalram_pages() << (PAGE_SHIFT - 1);
}

static u64 adict_max_user_bytes(void)
{
	u64 max = READ_ONCE(max_user_bytes);

	return max ? max : adict_max_total_bytes() / 4;
}

/*
 * adict_reserve_locked - claim the name and the limits for a new table.
 * The table goes on adict_tables (not live yet), so concurrent creators see
 * its name and its bytes.  @per_user is false for a creator exempt from the
 * per-user limits (CAP_SYS_RESOURCE in the initial user namespace).
 * Return: 0, -EEXIST or -EDQUOT (one of the four limits of device.rst,
 * "Limits and quotas", would be exceeded).
 */
static int adict_reserve_locked(struct adict_table *t, u64 bytes,
				bool per_user)
{
	unsigned int utables;
	u64 ubytes;

	lockdep_assert_held(&adict_lock);
	if (t->name[0] && adict_lookup_locked(t->name))
		return -EEXIST;
	if (adict_ntables >= READ_ONCE(max_tables) ||
	    adict_total_bytes + bytes > adict_max_total_bytes())
		return -EDQUOT;
	if (per_user) {
		adict_user_usage_locked(t->quota_uid, &utables, &ubytes);
		if (utables >= READ_ONCE(max_tables_per_user) ||
		    ubytes + bytes > adict_max_user_bytes())
			return -EDQUOT;
	}
	t->id = adict_next_id++;
	t->bytes = bytes;
	t->linked = t->name[0] != '\0';
	list_add_tail(&t->node, &adict_tables);
	adict_ntables++;
	adict_total_bytes += bytes;
	return 0;
}

static void adict_unreserve(struct adict_table *t)
{
	mutex_lock(&adict_lock);
	list_del(&t->node);
	adict_ntables--;
	adict_total_bytes -= t->bytes;
	mutex_unlock(&adict_lock);
}

/*
 * adict_may_access - ipcperms() for a table: owner, group, other bits
 * against the caller's fsuid/fsgid, or CAP_IPC_OWNER in the user namespace
 * the table was created in (a container's root in a child namespace cannot
 * bypass the mode of a table created by the host).
 * @want: MAY_READ, or MAY_READ | MAY_WRITE (the r and w bits: 4, 2)
 */
static bool adict_mode_allows(const struct adict_table *t, unsigned int want)
{
	unsigned int granted = t->mode;

	if (uid_eq(current_fsuid(), t->uid))
		granted >>= 6;
	else if (in_group_p(t->gid))
		granted >>= 3;
	return !(want & ~granted & 0007);
}

static bool adict_may_access(const struct adict_table *t, unsigned int want)
{
	return adict_mode_allows(t, want) ||
	       ns_capable(t->user_ns, CAP_IPC_OWNER);
}

/*
 * adict_may_list - may current (the credentials of the listing's opener,
 * see adict_seq_start()) see @t in /proc/driver/atomic_dict?  Those who may
 * attach it for reading, and CAP_SYS_ADMIN in the initial user namespace.
 * No audit record: listing is not an access attempt.
 */
static bool adict_may_list(const struct adict_table *t)
{
	return adict_mode_allows(t, MAY_READ) ||
	       ns_capable_noaudit(t->user_ns, CAP_IPC_OWNER) ||
	       ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
}

static bool adict_may_unlink(const struct adict_table *t)
{
	return uid_eq(current_fsuid(), t->uid) ||
	       ns_capable(t->user_ns, CAP_IPC_OWNER);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

/* The bound table, or NULL. */
static struct adict_table *adict_file_table(struct adict_file *af)
{
	/* Pairs with smp_store_release() in adict_file_bind(). */
	return smp_load_acquire(&af->table);
}

static void adict_file_bind(struct adict_file *af, struct adict_table *t,
			    u32 access)
{
	lockdep_assert_held(&af->bind_lock);
	af->access = access;
	/* Publish access before the table; pairs with adict_file_table(). */
	smp_store_release(&af->table, t);
}

static int adict_open(struct inode *inode, struct file *file)
{
	struct adict_file *af;

	af = kzalloc(sizeof(*af), GFP_KERNEL_ACCOUNT);
	if (!af)
		return -ENOMEM;
	mutex_init(&af->bind_lock);
	file->private_data = af;
	return nonseekable_open(inode, file);
}

static int adict_release(struct inode *inode, struct file *file)
{
	struct adict_file *af = file->private_data;
	struct adict_table *t = af->table;	/* no other user is left */

	if (t) {
		atomic_dec(&t->users);
		adict_table_put(t);
	}
	mutex_destroy(&af->bind_lock);
	kfree(af);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Operations                                                               */
/* ------------------------------------------------------------------------ */

static bool adict_access_allows(const struct adict_table *t, u32 access,
				u32 op)
{
	switch (access) {
	case ADICT_ACCESS_RDWR:
		return true;
	case ADICT_ACCESS_RDONLY:
		return !adict_op_writes(op);
	case ADICT_ACCESS_MEDIATED:
		return t->grant & ADICT_OP_BIT(op);
	}
	return false;
}

/*
 * May @access publish new keys?  Read-write attachers may; a mediated one
 * only when INSERT is granted (a grant of ADD is not a grant to fill the
 * table); a read-only one never.
 */
static bool adict_access_inserts(const struct adict_table *t, u32 access)
{
	return access == ADICT_ACCESS_RDWR ||
	       (access == ADICT_ACCESS_MEDIATED &&
		(t->grant & ADICT_OP_BIT(ADICT_OP_INSERT)));
}

/*
 * adict_table_op - one operation with the permission of @access.
 *
 * An attacher that may not insert (adict_access_inserts()) first looks the
 * key up without inserting.  When it is absent, LOAD reads 0 (every value
 * starts at 0) and every other op fails with -ENOENT, as FIND does: nothing
 * is inserted, so neither reading nor a granted update can use up capacity.
 * When it is present, the op runs on it; keys are never removed, so the
 * core finds it again and inserts nothing.  (Only a read-write attacher that
 * rewrites key words behind the core's back could make that second lookup
 * miss; such an attacher can already put anything in the table.)
 *
 * @key: the packed key, ADICT_KEY_WORDS_MAX words readable (the core reads
 *       only as many as the table's own geometry has)
 *
 * Return: 0, -EINVAL (unknown op, a zero or out-of-range key word, a value
 * op on a set), -EPERM (op not allowed for @access), -ENOENT (FIND of an
 * absent key; any op but LOAD on an absent key without the right to
 * insert), -ENOSPC (table full), -EINTR (fatal signal during a long probe).
 */
VISIBLE_IF_KUNIT int adict_table_kop(struct adict_table *t, u32 access,
				     u32 op, const u64 *key, u64 arg1,
				     u64 arg2, u64 *result)
{
	int ret;

	if (!adict_op_valid(op) || !key[0])
		return -EINVAL;
	if (!adict_access_allows(t, access, op))
		return -EPERM;
	if (op != ADICT_OP_FIND && !adict_access_inserts(t, access)) {
		ret = adict_core_kop(&t->core, ADICT_OP_FIND, key, 0, 0, result);
		if (ret == -ENOENT && op == ADICT_OP_LOAD) {
			*result = 0;
			return 0;
		}
		if (ret < 0)
			return ret;
	}
	return adict_core_kop(&t->core, op, key, arg1, arg2, result);
}
EXPORT_SYMBOL_IF_KUNIT(adict_table_kop);

/*
 * adict_table_kop() for a one-word key: tables whose keys are one word (a
 * u64 or a u32 word), whatever their value.
 */
VISIBLE_IF_KUNIT int adict_table_op(struct adict_table *t, u32 access, u32 op,
				    u64 key, u64 arg1, u64 arg2, u64 *result)
{
	/* the core reads as many words as the geometry has: one, here */
	if (t->core.layout.key64 + t->core.layout.key32 != 1)
		return -EINVAL;	/* one word is not a key of this table */
	return adict_table_kop(t, access, op, &key, arg1, arg2, result);
}
EXPORT_SYMBOL_IF_KUNIT(adict_table_op);

/*
 * The core of the table whose probe last visited ADICT_A_RELAX_BUCKETS
 * buckets or more (adict_a_relax()): written without a lock by any probe,
 * read after an op to mark that table slow.  Only ever compared, never
 * dereferenced.  A healthy probe ends within a bucket or two; one that
 * runs 1,024 buckets means a table scribbled over or flooded.  Racing long
 * probes of other tables may overwrite it first: then the table is marked
 * at one of its next long probes.
 */
const void *adict_long_probe;
EXPORT_SYMBOL_IF_KUNIT(adict_long_probe);

/* After an op or batch on @t: did one of its probes run long? */
static void adict_note_slow(struct adict_table *t)
{
	if (READ_ONCE(adict_long_probe) == &t->core && !READ_ONCE(t->slow))
		WRITE_ONCE(t->slow, true);
}

/*
 * The ADICT_IOC_OP handler once the arguments are in kernel memory (copied
 * once: nothing here reads user memory again).  Words the caller's size
 * did not cover read 0, which no key of a wider geometry accepts.
 */
VISIBLE_IF_KUNIT int adict_op_args_run(struct adict_table *t, u32 access,
				       struct adict_op_args *args)
{
	u64 key[ADICT_KEY_WORDS_MAX];
	int ret;

	key[0] = args->key;
	memcpy(&key[1], args->key_more, sizeof(args->key_more));
	ret = adict_table_kop(t, access, args->op, key, args->arg1,
			      args->arg2, &args->result);
	adict_note_slow(t);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(adict_op_args_run);

/*
 * adict_batch_exec - run @count entries in kernel memory, in order.
 * Return: the number of entries whose status is 0.
 */
VISIBLE_IF_KUNIT u32 adict_batch_exec(struct adict_table *t, u32 access,
				      struct adict_batch_op *ents, u32 count)
{
	u32 i, ok = 0;

	for (i = 0; i < count; i++) {
		struct adict_batch_op *e = &ents[i];

		e->result = 0;
		if (fatal_signal_pending(current)) {
			e->status = -EINTR;
			continue;
		}
		e->status = adict_table_op(t, access, e->op, e->key, e->arg1,
					   e->arg2, &e->result);
		ok += e->status == 0;
		cond_resched();
	}
	return ok;
}
EXPORT_SYMBOL_IF_KUNIT(adict_batch_exec);

/*
 * adict_batch_kexec - run @count composite-key entries (their copies in
 * kernel memory) in order.  An entry with a non-zero reserved field is
 * -EINVAL; a key word the entry's size did not cover reads 0 (-EINVAL for
 * a table whose keys have that word).
 * Return: the number of entries whose status is 0.
 */
VISIBLE_IF_KUNIT u32 adict_batch_kexec(struct adict_table *t, u32 access,
				       struct adict_batch_kop *ents, u32 count)
{
	u32 i, ok = 0;

	for (i = 0; i < count; i++) {
		struct adict_batch_kop *e = &ents[i];

		e->result = 0;
		if (fatal_signal_pending(current)) {
			e->status = -EINTR;
			continue;
		}
		if (e->reserved)
			e->status = -EINVAL;
		else
			e->status = adict_table_kop(t, access, e->op, e->key,
						    e->arg1, e->arg2,
						    &e->result);
		if (e->status)
			e->result = 0;
		ok += e->status == 0;
		cond_resched();
	}
	return ok;
}
EXPORT_SYMBOL_IF_KUNIT(adict_batch_kexec);

/* ------------------------------------------------------------------------ */
/* ioctl                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Read an argument struct whose first member is its __u32 size.
 * @ksize:   the struct as this kernel knows it
 * @minsize: its first size; fields beyond the caller's size read 0
 * Return: 0, -EFAULT, -EINVAL (size below @minsize), -E2BIG (size above a
 * page, or non-zero bytes beyond the struct this kernel knows).
 */
static int adict_copy_args(void *dst, size_t ksize, size_t minsize,
			   void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < minsize)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(dst, ksize, uarg, usize);
}

static int adict_ioctl_create(struct file *file, struct adict_file *af,
			      void __user *uarg)
{
	struct adict_create_args args;
	struct adict_layout layout;
	char name[ADICT_NAME_MAX] = "";
	struct adict_table *t;
	u32 tflags = 0;
	bool named;
	u64 bytes;
	int ret;

	ret = adict_copy_args(&args, sizeof(args), ADICT_CREATE_ARGS_SIZE_V1,
			      uarg);
	if (ret)
		return ret;
	if ((args.flags & ~ADICT_CREATE_FLAGS) || (args.mode & ~0777) ||
	    (args.grant & ~ADICT_GRANT_ALL) || args.reserved)
		return -EINVAL;
	/* No key words asked for: the default geometry (and no value size). */
	if (!args.key64 && !args.key32) {
		if (args.value_bytes)
			return -EINVAL;
		args.key64 = 1;
		args.value_bytes = 8;
	}
	if (!adict_layout_init(&layout, args.key64, args.key32,
			       args.value_bytes))
		return -EINVAL;
	named = args.flags & ADICT_CREATE_NAMED;
	if (named) {
		ret = adict_name_from_user(name, args.name);
		if (ret)
			return ret;
		tflags |= ADICT_TABLE_F_NAMED;
	} else if (args.name) {
		return -EINVAL;
	}
	if (args.flags & ADICT_CREATE_LOAD_HALF)
		tflags |= ADICT_TABLE_F_LOAD_HALF;
	ret = adict_capacity_bytes(args.capacity, &layout, tflags, &bytes);
	if (ret)
		return ret;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;

	t = adict_table_new(args.capacity, &layout, tflags);
	if (!t)
		return -ENOMEM;
	memcpy(t->name, name, sizeof(name));
	t->uid = current_fsuid();
	t->gid = current_fsgid();
	t->quota_uid = adict_quota_uid(current_cred());
	t->user_ns = get_user_ns(current_user_ns());
	t->mode = args.mode ? args.mode : 0600;
	t->grant = args.grant ? args.grant : ADICT_GRANT_READ;

	mutex_lock(&af->bind_lock);
	if (af->table) {
		ret = -EBUSY;
		goto out_unlock_bind;
	}
	mutex_lock(&adict_lock);
	ret = adict_reserve_locked(t, bytes,
				   !ns_capable_noaudit(&init_user_ns,
						       CAP_SYS_RESOURCE));
	mutex_unlock(&adict_lock);
	if (ret)
		goto out_unlock_bind;

	ret = adict_table_populate(t);
	if (ret)
		goto out_unreserve;

	/* kref_init gave the file's reference; the registry holds another. */
	if (named)
		kref_get(&t->ref);
	atomic_set(&t->users, 1);
	mutex_lock(&adict_lock);
	t->live = true;
	mutex_unlock(&adict_lock);
	adict_file_bind(af, t, ADICT_ACCESS_RDWR);
	mutex_unlock(&af->bind_lock);
	return 0;

out_unreserve:
	adict_unreserve(t);
out_unlock_bind:
	mutex_unlock(&af->bind_lock);
	adict_table_free(t);
	return ret;
}

static int adict_ioctl_attach(struct file *file, struct adict_file *af,
			      void __user *uarg)
{
	struct adict_attach_args args;
	char name[ADICT_NAME_MAX];
	struct adict_table *t;
	unsigned int want;
	kuid_t owner = INVALID_UID;
	u32 access;
	int ret;

	ret = adict_copy_args(&args, sizeof(args), ADICT_ATTACH_ARGS_SIZE_V1,
			      uarg);
	if (ret)
		return ret;
	if ((args.flags & ~ADICT_ATTACH_FLAGS) || args.reserved ||
	    ((args.flags & ADICT_ATTACH_RDONLY) &&
	     (args.flags & ADICT_ATTACH_MEDIATED)))
		return -EINVAL;
	if (args.flags & ADICT_ATTACH_OWNER) {
		owner = make_kuid(current_user_ns(), args.owner);
		if (!uid_valid(owner))
			return -EINVAL;
	} else if (args.owner) {
		return -EINVAL;
	}
	ret = adict_name_from_user(name, args.name);
	if (ret)
		return ret;
	if (args.flags & ADICT_ATTACH_RDONLY) {
		access = ADICT_ACCESS_RDONLY;
		want = MAY_READ;
	} else if (args.flags & ADICT_ATTACH_MEDIATED) {
		access = ADICT_ACCESS_MEDIATED;
		want = MAY_READ;
	} else {
		access = ADICT_ACCESS_RDWR;
		want = MAY_READ | MAY_WRITE;
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
	}

	mutex_lock(&af->bind_lock);
	if (af->table) {
		ret = -EBUSY;
		goto out_unlock_bind;
	}
	mutex_lock(&adict_lock);
	t = adict_lookup_locked(name);
	if (!t || !t->live)
		ret = -ENOENT;
	else if (!adict_may_access(t, want))
		ret = -EACCES;
	else if (uid_valid(owner) && !uid_eq(owner, t->uid))
		ret = -EPERM;	/* after EACCES: tells nothing to outsiders */
	else
		kref_get(&t->ref);	/* linked: the registry's ref is held */
	mutex_unlock(&adict_lock);
	if (ret)
		goto out_unlock_bind;
	atomic_inc(&t->users);
	adict_file_bind(af, t, access);
out_unlock_bind:
	mutex_unlock(&af->bind_lock);
	return ret;
}

static int adict_ioctl_unlink(void __user *uarg)
{
	struct adict_unlink_args args;
	char name[ADICT_NAME_MAX];
	struct adict_table *t;
	int ret;

	ret = adict_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags)
		return -EINVAL;
	ret = adict_name_from_user(name, args.name);
	if (ret)
		return ret;

	mutex_lock(&adict_lock);
	t = adict_lookup_locked(name);
	if (!t || !t->live)
		ret = -ENOENT;
	else if (!adict_may_unlink(t))
		ret = -EPERM;
	else
		t->linked = false;
	mutex_unlock(&adict_lock);
	if (!ret)
		adict_table_put(t);	/* the registry's reference */
	return ret;
}

static int adict_ioctl_info(struct adict_file *af, void __user *uarg)
{
	struct adict_table *t = adict_file_table(af);
	struct adict_info info;
	u32 usize;
	u64 used;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < sizeof(info))
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	if (!t)
		return -EBADFD;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.flags = t->flags | (t->huge_npages ? ADICT_TABLE_F_HUGE : 0);
	info.capacity = t->core.capacity;
	info.nbuckets = t->core.nbuckets;
	info.map_bytes = t->bytes;
	info.data_offset = ADICT_HEADER_BYTES;
	used = READ_ONCE(*t->core.kused);	/* untrusted: clamp */
	info.used = min(used, t->core.capacity);
	info.uid = from_kuid_munged(current_user_ns(), t->uid);
	info.gid = from_kgid_munged(current_user_ns(), t->gid);
	info.mode = t->mode;
	info.access = af->access;
	info.grant = t->grant;
	info.users = atomic_read(&t->users);
	info.id = t->id;
	memcpy(info.name, t->name, sizeof(info.name));

	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	/* A newer, larger struct: what this kernel does not know reads 0. */
	if (usize > sizeof(info) &&
	    clear_user((char __user *)uarg + sizeof(info), usize - sizeof(info)))
		return -EFAULT;
	return 0;
}

/*
 * ADICT_IOC_USAGE: the limits, and what the caller's quota owner and all
 * tables together use.  Works on any fd, bound or not.
 */
static int adict_ioctl_usage(void __user *uarg)
{
	struct adict_usage u;
	unsigned int utables;
	kuid_t quid;
	u32 usize;
	u64 ubytes;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < sizeof(u))
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;

	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	quid = adict_quota_uid(current_cred());
	if (ns_capable_noaudit(&init_user_ns, CAP_SYS_RESOURCE))
		u.flags |= ADICT_USAGE_F_EXEMPT;
	u.quota_uid = from_kuid_munged(current_user_ns(), quid);
	u.max_tables = READ_ONCE(max_tables);
	u.max_tables_per_user = READ_ONCE(max_tables_per_user);
	u.max_table_bytes = READ_ONCE(max_table_bytes);
	mutex_lock(&adict_lock);
	u.max_total_bytes = adict_max_total_bytes();
	u.max_user_bytes = adict_max_user_bytes();
	u.tables = adict_ntables;
	u.bytes = adict_total_bytes;
	adict_user_usage_locked(quid, &utables, &ubytes);
	mutex_unlock(&adict_lock);
	u.user_tables = utables;
	u.user_bytes = ubytes;

	if (copy_to_user(uarg, &u, sizeof(u)))
		return -EFAULT;
	if (usize > sizeof(u) &&
	    clear_user((char __user *)uarg + sizeof(u), usize - sizeof(u)))
		return -EFAULT;
	return 0;
}

static int adict_ioctl_op(struct adict_file *af, void __user *uarg)
{
	struct adict_op_args __user *uop = uarg;
	struct adict_op_args args;
	struct adict_table *t;
	int ret;

	ret = adict_copy_args(&args, sizeof(args), ADICT_OP_ARGS_SIZE_V1, uarg);
	if (ret)
		return ret;
	if (!adict_op_valid(args.op) || !args.key)
		return -EINVAL;
	t = adict_file_table(af);
	if (!t)
		return -EBADFD;
	args.result = 0;
	ret = adict_op_args_run(t, af->access, &args);
	if (ret)
		return ret;
	if (put_user(args.result, &uop->result))
		return -EFAULT;
	return 0;
}

/*
 * The numbers of the grown structs' first sizes, as binaries built against
 * the first header pass them (the struct's own size field is what counts).
 */
#define ADICT_IOC_CREATE_V1	_IOC(_IOC_WRITE, ADICT_IOC_MAGIC, 0x00, \
				     ADICT_CREATE_ARGS_SIZE_V1)
#define ADICT_IOC_ATTACH_V1	_IOC(_IOC_WRITE, ADICT_IOC_MAGIC, 0x01, \
				     ADICT_ATTACH_ARGS_SIZE_V1)
#define ADICT_IOC_OP_V1		_IOC(_IOC_READ | _IOC_WRITE, ADICT_IOC_MAGIC, \
				     0x04, ADICT_OP_ARGS_SIZE_V1)

static long adict_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct adict_file *af = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ADICT_IOC_CREATE:
	case ADICT_IOC_CREATE_V1:
		return adict_ioctl_create(file, af, uarg);
	case ADICT_IOC_ATTACH:
	case ADICT_IOC_ATTACH_V1:
		return adict_ioctl_attach(file, af, uarg);
	case ADICT_IOC_UNLINK:
		return adict_ioctl_unlink(uarg);
	case ADICT_IOC_INFO:
		return adict_ioctl_info(af, uarg);
	case ADICT_IOC_OP:
	case ADICT_IOC_OP_V1:
		return adict_ioctl_op(af, uarg);
	case ADICT_IOC_USAGE:
		return adict_ioctl_usage(uarg);
	}
	return -ENOTTY;
}

/* ------------------------------------------------------------------------ */
/* mmap                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * adict_mmap_check - the mapping rules, as a pure function.
 * @npages:    pages of the table
 * @pgoff:     first page mapped
 * @len_pages: pages mapped
 * @writable:  out, whether the mapping may ever be writable
 *
 * - The range must lie inside the table (checked without overflow).
 * - MAP_SHARED only (VM_MAYSHARE; VM_SHARED is cleared for O_RDONLY files).
 * - Never executable.
 * - The header page (pgoff 0) is read-only to everybody: a mapping that
 *   covers it can never be writable.  A writable mapping of the data area
 *   therefore starts at pgoff >= 1 (offset data_offset), and only on a
 *   read-write attachment.
 *
 * Return: 0, -EINVAL (range, not shared), -EPERM (exec), -EACCES (write).
 */
VISIBLE_IF_KUNIT int adict_mmap_check(u32 access, unsigned long npages,
				      unsigned long pgoff,
				      unsigned long len_pages,
				      unsigned long vm_flags, bool *writable)
{
	if (!len_pages || pgoff >= npages || len_pages > npages - pgoff)
		return -EINVAL;
	if (!(vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vm_flags & VM_EXEC)
		return -EPERM;
	*writable = access == ADICT_ACCESS_RDWR && pgoff >= ADICT_HEADER_PAGES;
	if (!*writable && (vm_flags & VM_WRITE))
		return -EACCES;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(adict_mmap_check);

static struct adict_table *adict_vma_table(struct vm_area_struct *vma)
{
	return adict_file_table(vma->vm_file->private_data);
}

static void adict_vm_open(struct vm_area_struct *vma)
{
	atomic_inc(&adict_vma_table(vma)->users);	/* fork, mremap */
}

static void adict_vm_close(struct vm_area_struct *vma)
{
	atomic_dec(&adict_vma_table(vma)->users);
}

/* A table mapping is one piece: partial munmap/mprotect fail cleanly. */
static int adict_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

/*
 * A touch of a page not mapped yet faults here: every page of a mapping of
 * a table with huge pages (adict_mmap() maps none up front), and any page
 * after MADV_DONTNEED or anything else that zaps the page tables.  The
 * VMA's flags were checked at mmap.  A VM_PFNMAP mapping gets a special
 * PTE, which holds no page reference (the VMA holds the file, the file the
 * table, the table its pages); the others get the page with a reference,
 * as vm_insert_pages() gave it.
 */
static vm_fault_t adict_vm_fault(struct vm_fault *vmf)
{
	struct adict_table *t = adict_vma_table(vmf->vma);
	struct page *page;

	if (vmf->pgoff >= t->npages)
		return VM_FAULT_SIGBUS;
	page = t->pages[vmf->pgoff];
	if (vmf->vma->vm_flags & VM_PFNMAP)
		return vmf_insert_pfn(vmf->vma, vmf->address, page_to_pfn(page));
	get_page(page);
	vmf->page = page;
	return 0;
}

#ifdef ADICT_HUGE
/*
 * One PMD for a whole huge page of the table, when the mapping covers all of
 * it at an address aligned as its offset is (libadict aligns its mappings;
 * ->get_unmapped_area is thp_get_unmapped_area() for everybody else).
 * Otherwise, and for any other order, the core falls back to ->fault.
 */
static vm_fault_t adict_vm_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct adict_table *t = adict_vma_table(vma);
	unsigned long haddr = vmf->address & PMD_MASK;
	pgoff_t pgoff;

	if (order != PMD_ORDER || !(vma->vm_flags & VM_PFNMAP) ||
	    haddr < vma->vm_start || haddr + PMD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	pgoff = vma->vm_pgoff + ((haddr - vma->vm_start) >> PAGE_SHIFT);
	if (!IS_ALIGNED(pgoff, ADICT_HUGE_NR) ||
	    pgoff + ADICT_HUGE_NR > t->huge_npages)
		return VM_FAULT_FALLBACK;
	return vmf_insert_pfn_pmd(vmf, page_to_pfn_t(t->pages[pgoff]),
				  vmf->flags & FAULT_FLAG_WRITE);
}
#endif

/*
 * ptrace() and /proc/PID/mem reach a VM_PFNMAP mapping only through here
 * (get_user_pages() refuses it), and any other mapping where GUP refused
 * (a forced write to a read-only one).  Through the kernel's own mapping of
 * the table, up to the end of the page; a write only where the VMA may
 * write, and never to the header page.
 */
static int adict_vm_access(struct vm_area_struct *vma, unsigned long addr,
			   void *buf, int len, int write)
{
	struct adict_table *t = adict_vma_table(vma);
	u64 off;

	if (addr < vma->vm_start || addr >= vma->vm_end || len <= 0)
		return -EINVAL;
	off = ((u64)vma->vm_pgoff << PAGE_SHIFT) + (addr - vma->vm_start);
	if (off >= t->bytes)
		return -EINVAL;
	/* One page at a time, as get_user_pages() would have gone. */
	len = min_t(unsigned long, len, PAGE_SIZE - offset_in_page(addr));
	if (write) {
		if (!(vma->vm_flags & VM_WRITE) || off < ADICT_HEADER_BYTES)
			return -EACCES;
		memcpy((char *)t->kaddr + off, buf, len);
	} else {
		memcpy(buf, (char *)t->kaddr + off, len);
	}
	return len;
}

static const struct vm_operations_struct adict_vm_ops = {
	.open = adict_vm_open,
	.close = adict_vm_close,
	.may_split = adict_vm_may_split,
	.fault = adict_vm_fault,
#ifdef ADICT_HUGE
	.huge_fault = adict_vm_huge_fault,
#endif
	.access = adict_vm_access,
};

static int adict_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct adict_table *t = adict_file_table(file->private_data);
	struct adict_file *af = file->private_data;
	unsigned long nr;
	bool writable;
	int ret;

	if (!t)
		return -EBADFD;
	ret = adict_mmap_check(af->access, t->npages, vma->vm_pgoff,
			       vma_pages(vma), vma->vm_flags, &writable);
	if (ret)
		return ret;
	/* Read-only stays read-only: mprotect() cannot add write or exec. */
	adict_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP,
			   VM_MAYEXEC | (writable ? 0 : VM_MAYWRITE));
	vma->vm_ops = &adict_vm_ops;

	if (t->huge_npages) {
		/*
		 * Mapped on demand, by PMD where it can be (adict_vm_huge_fault())
		 * and by special PTEs elsewhere; nothing of it is refcounted, and
		 * GUP refuses it (ptrace goes through adict_vm_access()).  VM_PFNMAP
		 * also keeps it out of mlock, NUMA balancing and madvise's LRU
		 * paths, as for any device memory.
		 */
		adict_vm_flags_mod(vma, VM_PFNMAP, 0);
		atomic_inc(&t->users);
		return 0;
	}
	nr = vma_pages(vma);
	ret = vm_insert_pages(vma, vma->vm_start, t->pages + vma->vm_pgoff, &nr);
	if (ret)
		return ret;	/* the core unmaps; ->close is not called */
	atomic_inc(&t->users);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* io_uring batches                                                         */
/* ------------------------------------------------------------------------ */

#ifdef ADICT_HAVE_URING_CMD
static const void *adict_uring_payload(struct io_uring_cmd *ioucmd)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	return io_uring_sqe_cmd(ioucmd->sqe);
#else
	return ioucmd->cmd;
#endif
}

/*
 * A batch of struct adict_batch_op (one-word keys).  The entries are
 * copied in whole before any runs, and the array is checked writable, so
 * that a refused batch (-EFAULT, -ENOMEM) ran no entry.
 * Return: the CQE's res.
 */
static int adict_uring_ops(struct adict_table *t, u32 access,
			   struct adict_batch_op __user *uents, u32 count)
{
	struct adict_batch_op *ents;
	size_t len = (size_t)count * sizeof(*ents);
	u32 i;
	int ret;

	ents = kvmalloc(len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!ents)
		return -ENOMEM;
	if (copy_from_user(ents, uents, len) ||
	    fault_in_safe_writeable((const char __user *)uents, len)) {
		ret = -EFAULT;
		goto out_free;
	}

	ret = adict_batch_exec(t, access, ents, count); /* <= 4096 */

	if (!user_write_access_begin(uents, len))
		goto out_efault;
	for (i = 0; i < count; i++) {
		unsafe_put_user(ents[i].result, &uents[i].result, out_end);
		unsafe_put_user(ents[i].status, &uents[i].status, out_end);
	}
	user_write_access_end();
out_free:
	kvfree(ents);
	return ret;

out_end:
	user_write_access_end();
out_efault:
	kvfree(ents);
	return -EFAULT;
}

/*
 * A batch of struct adict_batch_kop (composite keys inline), size-first:
 * the first entry's size is the array's stride, and every entry, copied
 * once with copy_struct_from_user() (a shorter entry reads 0 in what it
 * lacks, a longer one must be zero beyond this kernel's struct), must
 * carry that same size.  As above, every entry is copied and the array
 * checked writable before the first runs.
 * Return: the CQE's res.
 */
static int adict_uring_kops(struct adict_table *t, u32 access,
			    void __user *uents, u32 count)
{
	struct adict_batch_kop __user *u;
	struct adict_batch_kop *ents;
	u32 stride, i;
	size_t len;
	int ret;

	if (get_user(stride, (u32 __user *)uents))
		return -EFAULT;
	if (stride < ADICT_BATCH_KOP_SIZE_MIN || stride % 8)
		return -EINVAL;
	if (stride > PAGE_SIZE)
		return -E2BIG;
	len = (size_t)count * stride;	/* <= 2^12 * 2^12 */
	ents = kvmalloc_array(count, sizeof(*ents),
			      GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!ents)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		ret = copy_struct_from_user(&ents[i], sizeof(ents[i]),
					    uents + (size_t)i * stride, stride);
		if (ret)
			goto out_free;	/* -EFAULT, -E2BIG */
		if (ents[i].size != stride) {
			ret = -EINVAL;	/* not one array of one stride */
			goto out_free;
		}
		cond_resched();	/* up to 16 MiB read and checked */
	}
	if (fault_in_safe_writeable((const char __user *)uents, len)) {
		ret = -EFAULT;
		goto out_free;
	}

	ret = adict_batch_kexec(t, access, ents, count); /* <= 4096 */

	if (!user_write_access_begin(uents, len))
		goto out_efault;
	for (i = 0; i < count; i++) {
		u = uents + (size_t)i * stride;	/* stride >= both fields' end */
		unsafe_put_user(ents[i].result, &u->result, out_end);
		unsafe_put_user(ents[i].status, &u->status, out_end);
	}
	user_write_access_end();
out_free:
	kvfree(ents);
	return ret;

out_end:
	user_write_access_end();
out_efault:
	kvfree(ents);
	return -EFAULT;
}

/*
 * Run one batch synchronously and return the CQE's res.  The payload lives
 * in the SQE, which userspace can rewrite at any time: each field is read
 * exactly once.  Permission comes from the file's bound access, never from
 * current's credentials (this may run in an io-wq worker).  A refused
 * batch (-EINVAL, -EBADFD, -E2BIG, -EFAULT, -ENOMEM) ran no entry.
 */
static int adict_uring_cmd_run(struct io_uring_cmd *ioucmd)
{
	const struct adict_uring_batch *ub = adict_uring_payload(ioucmd);
	struct adict_file *af = ioucmd->file->private_data;
	struct adict_table *t;
	u32 count, flags;
	void __user *uents;
	int ret;

	if (ioucmd->cmd_op != ADICT_URING_CMD_BATCH)
		return -ENOTTY;
	uents = u64_to_user_ptr(READ_ONCE(ub->ops));
	count = READ_ONCE(ub->count);
	flags = READ_ONCE(ub->flags);
	if ((flags & ~ADICT_BATCH_FLAGS) || !count || count > ADICT_BATCH_MAX)
		return -EINVAL;
	t = adict_file_table(af);
	if (!t)
		return -EBADFD;
	if (flags & ADICT_BATCH_F_KOP)
		ret = adict_uring_kops(t, af->access, uents, count);
	else
		ret = adict_uring_ops(t, af->access, uents, count);
	adict_note_slow(t);
	return ret;
}

/*
 * Punting a long batch to io-wq with -EAGAIN is only correct where io_uring
 * re-issues the command with its own copy of the payload.  6.1 does: on
 * -EAGAIN it copies the SQE's cmd area into req->async_data and points
 * ioucmd->cmd at it before the io-wq issue.  From 6.4 the payload is read
 * through ioucmd->sqe, and 6.12 (6.12.117 read) copies the SQE on -EAGAIN
 * but leaves ioucmd->sqe on the SQ ring slot, which userspace may reuse as
 * soon as io_uring_enter() returns: the worker could run another batch than
 * the one submitted.  So from 6.4 a long batch runs inline; it is still
 * preemptible and killable, and holds only its own ring's lock.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define ADICT_URING_PUNT_LONG	1
#endif

#ifdef ADICT_URING_PUNT_LONG
/*
 * adict_uring_may_run_long - could this batch keep the ring busy for long?
 * Its worst case is every entry probing every bucket, but only a table
 * scribbled over by a read-write user, or flooded by a tenant who read the
 * hash seed, comes near it; on a healthy table a probe ends within a
 * bucket or two.  So a batch goes to io-wq when the table has shown itself
 * slow (adict_note_slow(): a kernel probe on it visited 1,024 buckets or
 * more) and the batch's worst case exceeds ADICT_URING_INLINE_BUCKETS
 * bucket visits.  Punting every such batch regardless would cost a
 * worker hand-off per batch on every table larger than a megabyte.  The first slow batch
 * on a table may run inline; it is preemptible and killable.
 */
#define ADICT_URING_INLINE_BUCKETS	16384

static bool adict_uring_may_run_long(struct io_uring_cmd *ioucmd)
{
	const struct adict_uring_batch *ub = adict_uring_payload(ioucmd);
	struct adict_table *t = adict_file_table(ioucmd->file->private_data);
	u32 count = READ_ONCE(ub->count);	/* validated again when run */

	if (!t || count > ADICT_BATCH_MAX || !READ_ONCE(t->slow))
		return false;	/* refused at once (-EBADFD, -EINVAL), or healthy */
	/* <= 2^12 * 2^39: no overflow */
	return (u64)count * (t->core.nbuckets - 1) > ADICT_URING_INLINE_BUCKETS;
}
#endif

/*
 * Issued inline (IO_URING_F_NONBLOCK: under the ring's lock, in the
 * submitter's io_uring_enter()), a batch that may run long returns -EAGAIN
 * before it touches anything (where ADICT_URING_PUNT_LONG, above): io_uring
 * keeps a copy of the payload and queues the request to an io-wq worker
 * (io_queue_async(): uring_cmd has no poll support, so it is never retried
 * by polling), which issues it again without IO_URING_F_NONBLOCK.  There it
 * runs to the end, preemptible: batches call cond_resched() between entries
 * and probes every ADICT_A_RELAX_BUCKETS.
 *
 * The batch is completed through io_uring_cmd_done() rather than by
 * returning its result: 6.1 posts a returned value only when it issued the
 * command inline.  From an io-wq
 * worker (IOSQE_ASYNC, links, drains) it drops a non-negative return, and
 * the request would never complete, pinning the file and the module.
 * io_uring_cmd_done() completes it in every context.  Its issue_flags
 * argument arrived within 6.1.y; Kbuild tells which form the headers have.
 */
static int adict_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	int ret;

#ifdef ADICT_URING_PUNT_LONG
	if ((issue_flags & IO_URING_F_NONBLOCK) &&
	    adict_uring_may_run_long(ioucmd))
		return -EAGAIN;
#endif
	ret = adict_uring_cmd_run(ioucmd);

#ifdef ADICT_URING_DONE_HAS_FLAGS
	io_uring_cmd_done(ioucmd, ret, 0, issue_flags);
#else
	io_uring_cmd_done(ioucmd, ret, 0);
#endif
	return -EIOCBQUEUED;
}
#endif /* ADICT_HAVE_URING_CMD */

static const struct file_operations adict_fops = {
	.owner = THIS_MODULE,
	.open = adict_open,
	.release = adict_release,
	.unlocked_ioctl = adict_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = adict_mmap,
#ifdef ADICT_HUGE
	/* Mappings of any table at an address that fits its huge pages. */
	.get_unmapped_area = thp_get_unmapped_area,
#endif
#ifdef ADICT_HAVE_URING_CMD
	.uring_cmd = adict_uring_cmd,
#endif
	/* no .llseek: nonseekable_open() makes lseek() fail with ESPIPE */
};

static struct miscdevice adict_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "atomic_dict",
	.fops = &adict_fops,
	.mode = 0666,	/* permission is checked per table */
};

/* ------------------------------------------------------------------------ */
/* /proc/driver/atomic_dict                                                 */
/* ------------------------------------------------------------------------ */

/*
 * The listing shows each reader only the tables it may attach for reading
 * (adict_may_list()), judged with the credentials of the file's opener, not
 * of whoever reads it later (an fd passed to a more privileged process must
 * not show more): start() runs with m->file->f_cred in place of current's
 * until stop(), and they pair within one read().  Uids and gids are shown
 * as the opener's user namespace sees them (seq_user_ns()).
 */
static void *adict_seq_start(struct seq_file *m, loff_t *pos)
{
	m->private = (void *)override_creds(m->file->f_cred);
	mutex_lock(&adict_lock);
	return seq_list_start_head(&adict_tables, *pos);
}

static void *adict_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &adict_tables, pos);
}

static void adict_seq_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&adict_lock);
	revert_creds(m->private);
}

static int adict_seq_show(struct seq_file *m, void *v)
{
	struct user_namespace *ns = seq_user_ns(m);
	struct adict_table *t;
	const char *state;
	u64 used;

	lockdep_assert_held(&adict_lock);
	if (v == &adict_tables) {
		seq_puts(m, "id name state uid gid mode capacity used bytes users\n");
		return 0;
	}
	t = list_entry(v, struct adict_table, node);
	if (!t->live || !adict_may_list(t))
		return 0;	/* still being created, or not the reader's */
	if (t->linked)
		state = "named";
	else if (t->flags & ADICT_TABLE_F_NAMED)
		state = "unlinked";
	else
		state = "anon";
	used = READ_ONCE(*t->core.kused);
	seq_printf(m, "%llu %s %s %u %u %04o %llu %llu %llu %d\n",
		   t->id, t->name[0] ? t->name : "-", state,
		   from_kuid_munged(ns, t->uid), from_kgid_munged(ns, t->gid),
		   t->mode, t->core.capacity, min(used, t->core.capacity),
		   t->bytes, atomic_read(&t->users));
	return 0;
}

static const struct seq_operations adict_seq_ops = {
	.start = adict_seq_start,
	.next = adict_seq_next,
	.stop = adict_seq_stop,
	.show = adict_seq_show,
};

/* ------------------------------------------------------------------------ */
/* Kernel-internal tables for KUnit                                         */
/* ------------------------------------------------------------------------ */

#if IS_ENABLED(CONFIG_KUNIT)
/* A table outside the registry and the limits, for tests only. */
VISIBLE_IF_KUNIT struct adict_table *
adict_table_create_kernel_geom(u64 capacity, u32 key64, u32 key32,
			       u32 value_bytes)
{
	struct adict_layout l;
	struct adict_table *t;
	u64 bytes;
	int ret;

	if (!adict_layout_init(&l, key64, key32, value_bytes))
		return ERR_PTR(-EINVAL);
	ret = adict_capacity_bytes(capacity, &l, 0, &bytes);
	if (ret)
		return ERR_PTR(ret);
	t = adict_table_new(capacity, &l, 0);
	if (!t)
		return ERR_PTR(-ENOMEM);
	t->mode = 0600;
	t->grant = ADICT_GRANT_ALL;
	ret = adict_table_populate(t);
	if (ret) {
		adict_table_free(t);
		return ERR_PTR(ret);
	}
	t->live = true;
	return t;
}
EXPORT_SYMBOL_IF_KUNIT(adict_table_create_kernel_geom);

/* A table of the default geometry (one u64 key word, a u64 value). */
VISIBLE_IF_KUNIT struct adict_table *adict_table_create_kernel(u64 capacity)
{
	return adict_table_create_kernel_geom(capacity, 1, 0, 8);
}
EXPORT_SYMBOL_IF_KUNIT(adict_table_create_kernel);

VISIBLE_IF_KUNIT void adict_table_destroy_kernel(struct adict_table *t)
{
	adict_table_free(t);
}
EXPORT_SYMBOL_IF_KUNIT(adict_table_destroy_kernel);
#endif

/* ------------------------------------------------------------------------ */
/* Module                                                                   */
/* ------------------------------------------------------------------------ */

static int __init adict_init(void)
{
	int ret;

	if (!proc_create_seq("driver/atomic_dict", 0444, NULL, &adict_seq_ops))
		return -ENOMEM;
	ret = misc_register(&adict_misc);
	if (ret) {
		remove_proc_entry("driver/atomic_dict", NULL);
		return ret;
	}
	return 0;
}

/*
 * No file is open and no mapping exists (both pin the module), so what is
 * left are named tables nobody uses, each held by the registry alone.
 */
static void __exit adict_exit(void)
{
	struct adict_table *t;

	misc_deregister(&adict_misc);
	remove_proc_entry("driver/atomic_dict", NULL);
	for (;;) {
		mutex_lock(&adict_lock);
		t = list_first_entry_or_null(&adict_tables, struct adict_table,
					     node);
		if (t && !WARN_ON_ONCE(!t->linked))
			t->linked = false;
		else
			t = NULL;
		mutex_unlock(&adict_lock);
		if (!t)
			break;
		adict_table_put(t);
	}
}

module_init(adict_init);
module_exit(adict_exit);

MODULE_DESCRIPTION("atomic_dict: shared lock-free tables in kernel pages");
MODULE_LICENSE("GPL");
