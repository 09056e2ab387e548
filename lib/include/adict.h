/* SPDX-License-Identifier: MIT */
/*
 * libadict: lock-free shared tables: u64 -> u64 by default, composite keys
 * (u64 and u32 words) and u32 values or none (sets) through adict_tuple_*().
 *
 * A table lives either in /dev/atomic_dict (kernel pages; named or
 * anonymous) or in a memfd (anonymous, shared with fork()ed children).  Both
 * hold the same format (adict/atomic_dict.h) and run the same core
 * (adict/core.h).  Operations on keys run in the caller's process, on the
 * mapped pages, with no system call; they are inline below.
 *
 * Conventions: every function returns >= 0 on success or a negative errno.
 * Key 0 (or a key word 0) is -EINVAL.  A new key on a full table is
 * -ENOSPC.  Values are u64 and wrap modulo 2^64, or u32 and wrap modulo
 * 2^32.  Every operation is sequentially consistent.
 * Documentation/libadict.rst and the man pages give every errno.
 */
#ifndef ADICT_H
#define ADICT_H

#include <stddef.h>
#include <sys/types.h>
#include <adict/atomic_dict.h>
#include <adict/core.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ADICT_API
#define ADICT_API __attribute__((visibility("default")))
#endif
/* lib/ffi.c redefines this to export every inline as a real symbol. */
#ifndef ADICTINLINE
#define ADICTINLINE static inline
#endif

#define ADICT_VERSION_MAJOR	0
#define ADICT_VERSION_MINOR	2

/* Where a table lives; always visible through adict_backend(). */
enum adict_backend {
	ADICT_BACKEND_AUTO	= 0,	/* create: device if present, else memfd */
	ADICT_BACKEND_MEMFD	= 1,	/* anonymous, shared by fork() only */
	ADICT_BACKEND_DEVICE	= 2,	/* /dev/atomic_dict */
};

#define ADICT_DEVICE_PATH	"/dev/atomic_dict"

/*
 * An open table.  Public so that the fast path can be inline; treat it as
 * read-only.  Members prefixed k (in core) point into shared memory.
 */
struct adict {
	struct adict_core core;		/* trusted geometry + shared pointers */
	unsigned int access;		/* ADICT_ACCESS_* */
	unsigned int backend;		/* enum adict_backend */
	int fd;				/* memfd or device fd */
	unsigned int flags;		/* ADICT_TABLE_F_* */
	void *map;			/* whole mapping: header + data area */
	size_t map_bytes;
	struct adict_uring *kuring;	/* adict_kbatch()'s ring, if any */
	unsigned int kbatch_path;	/* ADICT_KBATCH_*, 0 until first use */
	unsigned long page_bytes;	/* adict_page_bytes() */
	unsigned int fast;		/* RDWR and the default geometry: the
					 * u64 calls run inline */
};

#define ADICT_KBATCH_URING	1	/* one io_uring submission per batch */
#define ADICT_KBATCH_IOCTL	2	/* one ADICT_IOC_OP per entry */

/* Options for adict_create(); zero-initialise, set sz, grow at the end. */
struct adict_opts {
	size_t sz;		/* sizeof(struct adict_opts) */
	const char *name;	/* NULL: anonymous; else a device named table */
	unsigned int backend;	/* enum adict_backend (named: device only) */
	unsigned int mode;	/* named: permission bits; 0 means 0600 */
	unsigned int grant;	/* ops allowed to mediated attachers; 0 = reads */
	/*
	 * The row geometry (format v2): key64 u64 key words, then key32 u32
	 * key words, and a value of value_bytes (8, 4, or 0 for a set).  All
	 * three 0 (as for a caller whose sz ends before key32, the first
	 * size of this struct) is the default: one u64 key word, a u64 value.
	 */
	unsigned int key64;
	unsigned int key32;
	unsigned int value_bytes;
	/*
	 * The most keys per row: ADICT_LOAD_3_4 (0, the default) or
	 * ADICT_LOAD_1_2, which gives the same capacity 1.5 times the memory
	 * for shorter probes (Documentation/libadict.rst, "Load").
	 */
	unsigned int load;
};

/* struct adict_opts.load and struct adict_table_info.load */
#define ADICT_LOAD_3_4	0	/* rows >= capacity * 4/3 */
#define ADICT_LOAD_1_2	1	/* rows >= capacity * 2 */

struct adict_table_info {
	__u64 capacity;		/* keys the table accepts */
	__u64 nbuckets;		/* buckets, control bucket included */
	__u64 bytes;		/* memory of the table: header + data area */
	__u64 used;		/* keys present (exact when no insert runs) */
	__u64 id;		/* device table id; 0 for memfd */
	unsigned int backend;	/* enum adict_backend */
	unsigned int access;	/* ADICT_ACCESS_* */
	unsigned int uid, gid, mode, grant, users;	/* device only */
	char name[ADICT_NAME_MAX];	/* "" when anonymous */
	/* the row geometry (format v2) */
	unsigned int key64, key32, value_bytes;	/* as in struct adict_opts */
	unsigned int row_bytes, bucket_rows;	/* as in the header */
	unsigned int load;	/* ADICT_LOAD_3_4 or ADICT_LOAD_1_2 */
};

/* Setup and slow paths (lib/adict.c). */
ADICT_API int adict_create(struct adict **tp, __u64 capacity,
			   const struct adict_opts *opts);
ADICT_API int adict_attach(struct adict **tp, const char *name,
			   unsigned int flags);
ADICT_API int adict_attach_owner(struct adict **tp, const char *name,
				 unsigned int flags, uid_t owner);
ADICT_API int adict_usage(struct adict_usage *u);
ADICT_API int adict_from_fd(struct adict **tp, int fd);
ADICT_API int adict_unlink(const char *name);
ADICT_API void adict_close(struct adict *t);
ADICT_API int adict_info(const struct adict *t, struct adict_table_info *info);
ADICT_API const char *adict_backend_name(unsigned int backend);
/* Page size backing the data area here: 4096, or the huge page size. */
ADICT_API unsigned long adict_page_bytes(const struct adict *t);
ADICT_API int adict_iter_next(const struct adict *t, __u64 *cursor,
			      __u64 *key, __u64 *value);
ADICT_API int adict_add_batch(struct adict *t, const __u64 *keys,
			      const __u64 *deltas, size_t n, __u64 *old);
ADICT_API int adict_load_batch(struct adict *t, const __u64 *keys, size_t n,
			       __u64 *values);
ADICT_API int adict_recount(struct adict *t, __u64 *count);
ADICT_API int adict_tuple_iter_next(const struct adict *t, __u64 *cursor,
				    __u64 *key, __u64 *value);
ADICT_API int adict__tuple_op_slow(struct adict *t, __u32 op,
				   const __u64 *key, __u64 arg1, __u64 arg2,
				   __u64 *result);
/*
 * Kernel-side batches (device backend): struct adict_batch_op arrays run by
 * the kernel, which enforces a mediated table's grant on every entry.
 * adict_kbatch() uses io_uring when available, else ioctls, and
 * adict_kbatch_path() says which ("io_uring", "ioctl", "none").  The
 * adict_uring_*() calls give the io_uring path explicitly, synchronous or
 * submit/reap; they return -EOPNOTSUPP where io_uring is unavailable.
 */
struct adict_uring;
ADICT_API int adict_kbatch(struct adict *t, struct adict_batch_op *ops,
			   unsigned int count);
ADICT_API const char *adict_kbatch_path(struct adict *t);
ADICT_API int adict_uring_init(struct adict *t, unsigned int entries,
			       struct adict_uring **up);
ADICT_API void adict_uring_exit(struct adict_uring *u);
ADICT_API int adict_uring_batch(struct adict_uring *u,
				struct adict_batch_op *ops, unsigned int count);
ADICT_API int adict_uring_submit(struct adict_uring *u,
				 struct adict_batch_op *ops, unsigned int count,
				 __u64 user_data);
ADICT_API int adict_uring_reap(struct adict_uring *u, __u64 *user_data,
			       int *res, int wait);
/*
 * The same with keys of any width: struct adict_batch_kop entries, each
 * key packed as adict_tuple_op() takes it (the library sets each .size).
 */
ADICT_API int adict_tuple_kbatch(struct adict *t, struct adict_batch_kop *ops,
				 unsigned int count);
ADICT_API int adict_uring_tuple_batch(struct adict_uring *u,
				      struct adict_batch_kop *ops,
				      unsigned int count);
ADICT_API int adict_uring_tuple_submit(struct adict_uring *u,
				       struct adict_batch_kop *ops,
				       unsigned int count, __u64 user_data);
/* One operation run by the kernel (ADICT_IOC_OP); device backend only. */
ADICT_API int adict_kernel_op(struct adict *t, __u32 op, __u64 key,
			      __u64 arg1, __u64 arg2, __u64 *result);
/* The same on a packed key of any geometry (adict_tuple_op()). */
ADICT_API int adict_kernel_tuple_op(struct adict *t, __u32 op,
				    const __u64 *key, __u64 arg1, __u64 arg2,
				    __u64 *result);
/* Internal: the path for read-only and mediated tables. */
ADICT_API int adict__op_slow(struct adict *t, __u32 op, __u64 key,
			     __u64 arg1, __u64 arg2, __u64 *result);

ADICTINLINE unsigned int adict_backend(const struct adict *t)
{
	return t->backend;
}

/*
 * adict_op - run one enum adict_op on @key; the generic form of the calls
 * below.  Wait-free, plus one lock-free insertion when @key is new.
 */
ADICTINLINE int adict_op(struct adict *t, __u32 op, __u64 key, __u64 arg1,
			 __u64 arg2, __u64 *result)
{
	__u64 r;
	int ret;

	if (__builtin_expect(!t->fast, 0))
		return adict__op_slow(t, op, key, arg1, arg2, result ? result : &r);
	ret = adict_core_op(&t->core, op, key, arg1, arg2, result ? result : &r);
	return ret;
}

/*
 * adict_handle - the value word of @key, inserted with value 0 if absent.
 * The pointer stays valid until adict_close(); use it with adict_v_*().
 * Return: 1 if the key was new, 0 if present; -EPERM unless read-write.
 */
ADICTINLINE int adict_handle(struct adict *t, __u64 key, __u64 **vp)
{
	if (!key || t->core.wide)
		return -EINVAL;
	if (t->access != ADICT_ACCESS_RDWR)
		return -EPERM;
	return adict_core_lookup(&t->core, key, true, vp);
}

/* Direct value-word helpers for handles; all sequentially consistent. */
ADICTINLINE __u64 adict_v_load(const __u64 *v) { return adict_a_load(v); }
ADICTINLINE __u64 adict_v_swap(__u64 *v, __u64 x) { return adict_a_xchg(v, x); }
ADICTINLINE __u64 adict_v_add(__u64 *v, __u64 x) { return adict_a_fetch_add(v, x); }
ADICTINLINE __u64 adict_v_cas(__u64 *v, __u64 expected, __u64 desired)
{
	return adict_a_cas(v, expected, desired);
}

/*
 * The value of @key.  An absent key is inserted with value 0 on a read-write
 * table; on a read-only or mediated table it reads as 0 and is not inserted.
 */
ADICTINLINE int adict_load(struct adict *t, __u64 key, __u64 *value)
{
	__u64 *v;
	int ret;

	if (__builtin_expect(!t->fast, 0))
		return adict__op_slow(t, ADICT_OP_LOAD, key, 0, 0, value);
	if (!key)
		return -EINVAL;
	ret = adict_core_lookup(&t->core, key, true, &v);
	if (ret < 0)
		return ret;
	*value = adict_a_load(v);
	return 0;
}

/* The value of @key, or -ENOENT; never inserts. */
ADICTINLINE int adict_find(struct adict *t, __u64 key, __u64 *value)
{
	__u64 *v;
	int ret;

	if (!key || t->core.wide)
		return -EINVAL;
	ret = adict_core_lookup(&t->core, key, false, &v);
	if (ret < 0)
		return ret;
	*value = adict_a_load(v);
	return 0;
}

/* Generic read-modify-write wrapper; @old may be NULL. */
#define ADICT__RMW(name, op, fn)					\
ADICTINLINE int adict_##name(struct adict *t, __u64 key, __u64 arg,	\
			     __u64 *old)				\
{									\
	__u64 *v, r;							\
	int ret;							\
									\
	if (__builtin_expect(!t->fast, 0))				\
		return adict__op_slow(t, op, key, arg, 0,		\
				      old ? old : &r);			\
	if (__builtin_expect(!key, 0))					\
		return -EINVAL;						\
	ret = adict_core_lookup(&t->core, key, true, &v);		\
	if (__builtin_expect(ret < 0, 0))				\
		return ret;						\
	r = fn(v, arg);							\
	if (old)							\
		*old = r;						\
	return 0;							\
}

ADICT__RMW(swap, ADICT_OP_SWAP, adict_a_xchg)
ADICT__RMW(add, ADICT_OP_ADD, adict_a_fetch_add)
ADICT__RMW(sub, ADICT_OP_SUB, adict_a_fetch_sub)
ADICT__RMW(and, ADICT_OP_AND, adict_a_fetch_and)
ADICT__RMW(or, ADICT_OP_OR, adict_a_fetch_or)
ADICT__RMW(xor, ADICT_OP_XOR, adict_a_fetch_xor)
#undef ADICT__RMW

/* Store @value (an exchange whose result is dropped; seq_cst). */
ADICTINLINE int adict_store(struct adict *t, __u64 key, __u64 value)
{
	__u64 *v, r;
	int ret;

	if (__builtin_expect(!t->fast, 0))
		return adict__op_slow(t, ADICT_OP_STORE, key, value, 0, &r);
	if (__builtin_expect(!key, 0))
		return -EINVAL;
	ret = adict_core_lookup(&t->core, key, true, &v);
	if (__builtin_expect(ret < 0, 0))
		return ret;
	adict_a_xchg(v, value);
	return 0;
}

/*
 * Compare-and-swap: *observed gets the value seen (the original's cas()).
 * Return: 1 if the value was @expected and is now @desired, else 0.
 */
ADICTINLINE int adict_cas(struct adict *t, __u64 key, __u64 expected,
				__u64 desired, __u64 *observed)
{
	__u64 seen;
	int ret;

	ret = adict_op(t, ADICT_OP_CAS, key, expected, desired, &seen);
	if (ret < 0)
		return ret;
	if (observed)
		*observed = seen;
	return seen == expected;
}

/* Insert @key (value 0) if absent.  Return: 1 if new, 0 if it existed. */
ADICTINLINE int adict_insert(struct adict *t, __u64 key)
{
	__u64 r;
	int ret;

	ret = adict_op(t, ADICT_OP_INSERT, key, 0, 0, &r);
	return ret < 0 ? ret : (int)r;
}


/*
 * Composite keys and every geometry: adict_tuple_*().
 *
 * @key points to the key's words, packed as u64s: the table's key64 u64
 * words, then its key32 u32 words each in a u64 (below 2^32).  Every word
 * must be non-zero.  Values are passed and returned as u64: on a table of
 * u32 values they are taken modulo 2^32 and zero-extended.  A set (no
 * value) accepts insert, find and load (whose value is 0).  These calls
 * work on every table, the default geometry included (a one-word key);
 * the u64 calls above work only on the default geometry (-EINVAL else).
 */
ADICTINLINE int adict_tuple_op(struct adict *t, __u32 op, const __u64 *key,
			       __u64 arg1, __u64 arg2, __u64 *result)
{
	__u64 r;

	if (__builtin_expect(t->access != ADICT_ACCESS_RDWR, 0))
		return adict__tuple_op_slow(t, op, key, arg1, arg2,
					    result ? result : &r);
	return adict_core_kop(&t->core, op, key, arg1, arg2,
			      result ? result : &r);
}

/* The value of @key; inserted with value 0 if absent (as adict_load()). */
ADICTINLINE int adict_tuple_load(struct adict *t, const __u64 *key,
				 __u64 *value)
{
	return adict_tuple_op(t, ADICT_OP_LOAD, key, 0, 0, value);
}

/* The value of @key, or -ENOENT; never inserts (so never a system call). */
ADICTINLINE int adict_tuple_find(struct adict *t, const __u64 *key,
				 __u64 *value)
{
	__u64 r;

	return adict_core_kop(&t->core, ADICT_OP_FIND, key, 0, 0,
			      value ? value : &r);
}

#define ADICT__TUPLE_RMW(name, op)					\
ADICTINLINE int adict_tuple_##name(struct adict *t, const __u64 *key,	\
				   __u64 arg, __u64 *old)		\
{									\
	return adict_tuple_op(t, op, key, arg, 0, old);			\
}

ADICT__TUPLE_RMW(store, ADICT_OP_STORE)
ADICT__TUPLE_RMW(swap, ADICT_OP_SWAP)
ADICT__TUPLE_RMW(add, ADICT_OP_ADD)
ADICT__TUPLE_RMW(sub, ADICT_OP_SUB)
ADICT__TUPLE_RMW(and, ADICT_OP_AND)
ADICT__TUPLE_RMW(or, ADICT_OP_OR)
ADICT__TUPLE_RMW(xor, ADICT_OP_XOR)
#undef ADICT__TUPLE_RMW

/* Compare-and-swap; as adict_cas().  Return: 1 if swapped, else 0. */
ADICTINLINE int adict_tuple_cas(struct adict *t, const __u64 *key,
				__u64 expected, __u64 desired,
				__u64 *observed)
{
	__u64 seen;
	int ret;

	ret = adict_tuple_op(t, ADICT_OP_CAS, key, expected, desired, &seen);
	if (ret < 0)
		return ret;
	if (observed)
		*observed = seen;
	return seen == expected;
}

/* Insert @key (value 0) if absent.  Return: 1 if new, 0 if it existed. */
ADICTINLINE int adict_tuple_insert(struct adict *t, const __u64 *key)
{
	__u64 r;
	int ret;

	ret = adict_tuple_op(t, ADICT_OP_INSERT, key, 0, 0, &r);
	return ret < 0 ? ret : (int)r;
}

/* Words in a key of @t's geometry: the length of a packed key array. */
ADICTINLINE unsigned int adict_key_words(const struct adict *t)
{
	return t->core.layout.key64 + t->core.layout.key32;
}

#ifdef __cplusplus
}
#endif

#endif /* ADICT_H */
