/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The shared table core: geometry, hash, probe, find, find-or-insert,
 * insert-if-absent and the value operations of table format v1.
 *
 * This is the only implementation.  The kernel module (kmod/) and libadict
 * (lib/) both compile this header; the difference between them is confined
 * to adict/atomics.h.  Nothing here trusts the table memory: keys, values
 * and the control word may hold anything a process with write access put
 * there.  The geometry comes from the caller's own copy (struct adict_core),
 * never from the shared header, and every loop is bounded by it.
 *
 * Progress: lookups are wait-free (at most nbuckets - 1 buckets);
 * insertion is lock-free (a failed CAS means another key was published);
 * the value operations are single atomic instructions, except CAS which is
 * one attempt.  See Documentation/guarantees.rst.
 */
#ifndef ADICT_CORE_H
#define ADICT_CORE_H

/*
 * The uapi header: the kernel's copy in the kernel; in userspace the one
 * installed beside libadict's headers (adict/atomic_dict.h, as liburing
 * ships liburing/io_uring.h), so that installing libadict never touches
 * linux-libc-dev's /usr/include/linux/.  In the source tree
 * lib/include/adict/atomic_dict.h is a symlink to uapi/linux/atomic_dict.h.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/stddef.h>
#include <linux/atomic_dict.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <adict/atomic_dict.h>
#endif
#include "atomics.h"

/* The trusted view of one table: filled once, from a validated geometry. */
struct adict_core {
	struct adict_bucket *kbuckets;	/* data area; [0] is the control bucket */
	__u64 *kused;			/* &control bucket's used word */
	__u64 nbuckets;			/* trusted copy, >= 2 */
	__u64 capacity;			/* trusted copy, < slots in buckets 1.. */
};

/* murmur3's 64-bit finalizer: a bijection, so distinct keys never merge. */
static inline __u64 adict_hash(__u64 key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ULL;
	key ^= key >> 33;
	return key;
}

/* Home bucket in 1 .. nbuckets-1 (bucket 0 is the control bucket). */
static inline __u64 adict_home_bucket(__u64 nbuckets, __u64 key)
{
	return 1 + adict_a_mulhi(adict_hash(key), nbuckets - 1);
}

/*
 * adict_geometry - number of buckets for @capacity keys.
 *
 * Returns the bucket count (a multiple of ADICT_BUCKETS_PER_PAGE, so the data
 * area is whole pages), or 0 when @capacity is 0 or above
 * ADICT_CAPACITY_MAX.  Slots of buckets 1.. are at least capacity * 4/3, so
 * the load never exceeds 3/4 and a full table still has empty slots.
 */
static inline __u64 adict_geometry(__u64 capacity)
{
	__u64 slots, buckets;

	if (capacity == 0 || capacity > ADICT_CAPACITY_MAX)
		return 0;
	/* No overflow: capacity <= 2^40. */
	slots = (capacity * ADICT_LOAD_DEN + ADICT_LOAD_NUM - 1) / ADICT_LOAD_NUM;
	buckets = (slots + ADICT_BUCKET_SLOTS - 1) / ADICT_BUCKET_SLOTS + 1;
	return (buckets + ADICT_BUCKETS_PER_PAGE - 1) &
	       ~(__u64)(ADICT_BUCKETS_PER_PAGE - 1);
}

/* Bytes of a whole table (header page + data area) for a bucket count. */
static inline __u64 adict_map_bytes(__u64 nbuckets)
{
	return ADICT_HEADER_BYTES + nbuckets * ADICT_BUCKET_BYTES;
}

/* Fill a header for @capacity; returns false when the capacity is invalid. */
static inline bool adict_header_init(struct adict_table_header *h,
				     __u64 capacity, __u32 flags)
{
	__u64 nb = adict_geometry(capacity);

	if (!nb)
		return false;
	*h = (struct adict_table_header) {
		.magic = ADICT_TABLE_MAGIC,
		.version = ADICT_FORMAT_V1,
		.hash = ADICT_HASH_FMIX64_RANGE,
		.header_bytes = ADICT_HEADER_BYTES,
		.slot_bytes = ADICT_SLOT_BYTES,
		.bucket_slots = ADICT_BUCKET_SLOTS,
		.flags = flags,
		.capacity = capacity,
		.nbuckets = nb,
		.data_offset = ADICT_HEADER_BYTES,
		.data_bytes = nb * ADICT_BUCKET_BYTES,
		.map_bytes = adict_map_bytes(nb),
		.reserved = { 0 },
	};
	return true;
}

/*
 * adict_header_valid - check a header copied out of shared memory.
 * @h:         a private copy of the header (read it once, then check)
 * @map_bytes: bytes actually mapped or allocated behind it
 *
 * Every field must be exactly what adict_header_init() writes for the
 * header's capacity; nothing else is accepted.
 */
static inline bool adict_header_valid(const struct adict_table_header *h,
				      __u64 map_bytes)
{
	struct adict_table_header want;
	unsigned int i;

	if (h->magic != ADICT_TABLE_MAGIC || h->version != ADICT_FORMAT_V1 ||
	    h->hash != ADICT_HASH_FMIX64_RANGE)
		return false;
	if (!adict_header_init(&want, h->capacity, h->flags))
		return false;
	if (h->header_bytes != want.header_bytes ||
	    h->slot_bytes != want.slot_bytes ||
	    h->bucket_slots != want.bucket_slots ||
	    h->nbuckets != want.nbuckets ||
	    h->data_offset != want.data_offset ||
	    h->data_bytes != want.data_bytes ||
	    h->map_bytes != want.map_bytes || h->map_bytes > map_bytes)
		return false;
	for (i = 0; i < sizeof(h->reserved) / sizeof(h->reserved[0]); i++)
		if (h->reserved[i])
			return false;
	return true;
}

/* Point @c at a table whose (validated) header is @h and data area @data. */
static inline void adict_core_init(struct adict_core *c,
				   const struct adict_table_header *h,
				   void *data)
{
	c->kbuckets = (struct adict_bucket *)data;
	c->kused = &((struct adict_ctl *)data)->used;
	c->nbuckets = h->nbuckets;
	c->capacity = h->capacity;
}

/*
 * Room for one more key?  `used` counts published keys, increased just after
 * each publication, so used >= capacity means at least capacity keys exist:
 * a failure here is never spurious.  Racing inserters of different keys may
 * each pass this check and publish, so a table can end up holding a few keys
 * more than its capacity (at most one per insertion in flight); the slots
 * beyond capacity (a quarter of the table at least) absorb them.
 */
static inline bool adict_core_has_room(const struct adict_core *c)
{
	return adict_a_load_relaxed(c->kused) < c->capacity;
}

/*
 * adict_core_bucket_scan - which slots of a bucket hold @key.
 *
 * The whole bucket (one cache line) at once, without branches, so the
 * common case costs one predictable branch.  Returns a mask with bit j set
 * when slot j holds @key; adict_core_match_slot() gives the first.  The
 * shim may supply a faster form of the same comparison
 * (adict_a_bucket_match(): SSE2 on x86-64 userspace); otherwise it is the
 * portable code below.
 *
 * Few instructions matter as much as few branches: on a table larger than
 * the caches, how many operations' cache misses overlap depends on how many
 * operations fit in the CPU's out-of-order window.
 */
#ifdef ADICT_A_BUCKET_MATCH
static __always_inline unsigned int
adict_core_bucket_scan(struct adict_slot *s, __u64 key)
{
	return adict_a_bucket_match(s, key);
}
#else
static __always_inline unsigned int
adict_core_bucket_scan(struct adict_slot *s, __u64 key)
{
	__u64 k0 = adict_a_load_key(&s[0].key);
	__u64 k1 = adict_a_load_key(&s[1].key);
	__u64 k2 = adict_a_load_key(&s[2].key);
	__u64 k3 = adict_a_load_key(&s[3].key);
	unsigned int match;

	match = (unsigned int)(k0 == key) | (unsigned int)(k1 == key) << 1 |
		(unsigned int)(k2 == key) << 2 | (unsigned int)(k3 == key) << 3;
	/*
	 * Keep the mask opaque: otherwise the compiler turns the compares
	 * back into a branch per slot, which mispredicts on which slot holds
	 * the key and, on a cache miss, serializes the misses of successive
	 * operations.
	 */
	adict_a_hide(match);
	return match;
}
#endif

/* The slot a non-zero adict_core_bucket_scan() mask names (the first). */
static __always_inline int adict_core_match_slot(unsigned int match)
{
	return adict_a_ctz(match);
}

/*
 * adict_core_probe - the whole probe of @key from its home bucket @b.
 * @c:      trusted geometry
 * @key:    non-zero key (the caller checks)
 * @b:      adict_home_bucket(c->nbuckets, key), computed by the caller
 *          (batches compute it early to prefetch the bucket)
 * @insert: publish @key in the first empty slot of its probe when absent
 * @valp:   out, the key's value word (stable for the table's lifetime)
 *
 * Return: 1 if this call published @key, 0 if it was already present,
 * -ENOENT if absent and !@insert, -ENOSPC if absent and the table holds
 * capacity keys (or, for a table scribbled over, has no empty slot left).
 *
 * A bucket is examined whole: the key anywhere in it is found; otherwise an
 * empty slot in it ends the probe (the key is absent), else the next bucket.
 * Probing visits at most nbuckets - 1 buckets, whatever the memory holds.
 * A well-formed table holds about capacity keys in 4/3 * capacity slots or
 * more, so an absent key meets an empty slot after a short probe and
 * -ENOSPC is returned without a scan.
 *
 * Out of line: adict_core_lookup_at() calls it only when the home bucket
 * does not hold @key (about one lookup in eight in a full table), so that
 * the inline fast path stays small.
 */
static adict_a_noinline int
adict_core_probe(const struct adict_core *c, __u64 key, __u64 b, bool insert,
		 __u64 **valp)
{
	__u64 nb = c->nbuckets;
	bool checked = false, full = false;
	struct adict_slot *s = NULL;
	unsigned int match;
	__u64 i, k;
	int j;

	for (i = 1; i < nb; i++) {
		s = c->kbuckets[b].slot;
		match = adict_core_bucket_scan(s, key);
		if (match) {
			j = adict_core_match_slot(match);
			goto found;
		}
		/*
		 * Not in this bucket a moment ago.  Walk it again slot by slot
		 * (the line is in L1 now): another process may have published
		 * @key since, in a slot that was empty, and must be found there.
		 */
		for (j = 0; j < ADICT_BUCKET_SLOTS; j++) {
			k = adict_a_load_key(&s[j].key);
			if (k == key)
				goto found;
			if (k)
				continue;
			if (!insert)
				return full ? -ENOSPC : -ENOENT;
			if (!checked) {
				checked = true;
				if (!adict_core_has_room(c)) {
					/*
					 * Full; but @key may have been among the
					 * last keys published since this slot was
					 * read.  Look again, without inserting:
					 * only an empty slot now proves it absent
					 * (used never decreases).
					 */
					insert = false;
					full = true;
					j--;
					continue;
				}
			}
			/* Publication; pairs with adict_a_load_key() of readers. */
			k = adict_a_cas(&s[j].key, 0, key);
			if (k == 0) {
				adict_a_fetch_add(c->kused, 1);
				*valp = &s[j].value;
				return 1;
			}
			if (k == key)
				goto found;
			/* Another key took this slot: probe on. */
		}
		if (++b == nb)
			b = 1;
	}
	return insert || full ? -ENOSPC : -ENOENT;
found:
	*valp = &s[j].value;
	return 0;
}

/*
 * adict_core_lookup_at - find the value word of @key, optionally inserting it.
 * @c, @key, @b, @insert, @valp, return value: as adict_core_probe() above
 *
 * The fast path: the home bucket holds @key.  Otherwise adict_core_probe()
 * walks the whole probe, the home bucket again included.
 */
static __always_inline int
adict_core_lookup_at(const struct adict_core *c, __u64 key, __u64 b,
		     bool insert, __u64 **valp)
{
	struct adict_slot *s = c->kbuckets[b].slot;
	unsigned int match = adict_core_bucket_scan(s, key);

	if (__builtin_expect(match != 0, 1)) {
		*valp = &s[adict_core_match_slot(match)].value;
		return 0;
	}
	return adict_core_probe(c, key, b, insert, valp);
}

static __always_inline int
adict_core_lookup(const struct adict_core *c, __u64 key, bool insert,
		  __u64 **valp)
{
	return adict_core_lookup_at(c, key, adict_home_bucket(c->nbuckets, key),
				    insert, valp);
}

static inline bool adict_op_valid(__u32 op)
{
	return op < ADICT_OP_COUNT;
}

/* True for the operations that may write a value or publish a key. */
static inline bool adict_op_writes(__u32 op)
{
	return op != ADICT_OP_LOAD && op != ADICT_OP_FIND;
}

/*
 * adict_core_op - run one operation (enum adict_op) on @key.
 * @result: out, as documented at enum adict_op
 *
 * Return: 0, -EINVAL (key 0 or unknown op), -ENOENT (FIND of an absent key)
 * or -ENOSPC (a new key and a full table).  Callers check permissions.
 */
static inline int adict_core_op(const struct adict_core *c, __u32 op,
				__u64 key, __u64 arg1, __u64 arg2,
				__u64 *result)
{
	__u64 *v;
	int ret;

	if (!key || !adict_op_valid(op))
		return -EINVAL;
	ret = adict_core_lookup(c, key, op != ADICT_OP_FIND, &v);
	if (ret < 0)
		return ret;

	switch (op) {
	case ADICT_OP_INSERT:
		*result = ret;
		break;
	case ADICT_OP_LOAD:
	case ADICT_OP_FIND:
		*result = adict_a_load(v);
		break;
	case ADICT_OP_STORE:
	case ADICT_OP_SWAP:
		*result = adict_a_xchg(v, arg1);
		break;
	case ADICT_OP_ADD:
		*result = adict_a_fetch_add(v, arg1);
		break;
	case ADICT_OP_SUB:
		*result = adict_a_fetch_sub(v, arg1);
		break;
	case ADICT_OP_AND:
		*result = adict_a_fetch_and(v, arg1);
		break;
	case ADICT_OP_OR:
		*result = adict_a_fetch_or(v, arg1);
		break;
	case ADICT_OP_XOR:
		*result = adict_a_fetch_xor(v, arg1);
		break;
	case ADICT_OP_CAS:
		*result = adict_a_cas(v, arg1, arg2);
		break;
	}
	return 0;
}

/*
 * adict_core_count - count the non-empty slots (for recounting `used`).
 * Bounded by the trusted geometry; O(table).
 */
static inline __u64 adict_core_count(const struct adict_core *c)
{
	__u64 b, n = 0;
	int j;

	for (b = 1; b < c->nbuckets; b++)
		for (j = 0; j < ADICT_BUCKET_SLOTS; j++)
			n += adict_a_load_relaxed(&c->kbuckets[b].slot[j].key) != 0;
	return n;
}

#endif /* ADICT_CORE_H */
