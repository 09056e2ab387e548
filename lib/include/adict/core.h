/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The shared table core: geometry, hash, probe, find, find-or-insert,
 * insert-if-absent and the value operations of table format v2, for every
 * row geometry (composite keys of u64 and u32 words; u64, u32 or no value).
 * The default geometry, one u64 key word and a u64 value, has its own
 * specialised probe (adict_core_lookup()); every other geometry takes the
 * generic row probe (adict_core_klookup()).  Both follow the same protocol
 * (Documentation/format.rst): for a one-word key they are the same thing.
 *
 * This is the only implementation.  The kernel module (kmod/) and libadict
 * (lib/) both compile this header; the difference between them is confined
 * to adict/atomics.h and to the AESENC branch of adict/hash.h (userspace
 * with AES-NI; same result as the kernel's C rounds).  Nothing here trusts the table memory: keys, values
 * and the control word may hold anything a process with write access put
 * there.  The geometry comes from the caller's own copy (struct adict_core),
 * never from the shared header, and every loop is bounded by it.
 *
 * Progress: lookups are wait-free (at most nbuckets - 1 buckets);
 * insertion is lock-free (a failed CAS means another key's word was
 * written), and in fact bounded: every row is visited once, every word of
 * it at most once;
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
#include "hash.h"

/*
 * The row geometry of a table, checked once by adict_layout_init() and
 * then trusted.  Key words are numbered 0 .. key64 + key32 - 1: the u64
 * words first, then the u32 words.
 */
struct adict_layout {
	__u32 key64;		/* u64 key words, at row offset 0 */
	__u32 key32;		/* u32 key words, at key32_offset */
	__u32 value_bytes;	/* 8, 4, or 0 for a set */
	__u32 row_bytes;	/* 4 .. 64 */
	__u32 rows;		/* rows per bucket: 64 / row_bytes */
	__u32 key32_offset;	/* 8 * key64 */
	__u32 key_bytes;	/* 8 * key64 + 4 * key32: the bytes hashed */
	__u32 value_offset;	/* key_bytes rounded up to value_bytes */
};

/* The trusted view of one table: filled once, from a validated header. */
struct adict_core {
	struct adict_bucket *kbuckets;	/* data area; [0] is the control bucket */
	__u64 *kused;			/* &control bucket's used word */
	__u64 nbuckets;			/* trusted copy, >= 2 */
	__u64 capacity;			/* trusted copy, < rows in buckets 1.. */
	struct adict_hash_key hk;	/* from the seed (adict_hash_key_init()) */
	struct adict_layout layout;	/* trusted copy of the row geometry */
	bool wide;			/* not the default u64 -> u64 geometry */
};

/*
 * adict_layout_init - derive a row geometry; false when it is not valid.
 *
 * Valid: at least one key word, key64 <= ADICT_KEY64_MAX, key32 <=
 * ADICT_KEY32_MAX, value_bytes 0, 4 or 8, and the row within 64 bytes.
 * The value follows the key words, aligned to its own size; the row is
 * rounded up to 8 bytes when it has a 64-bit part (a u64 key word or a u64
 * value), else to 4, so every word of every row is naturally aligned.
 */
static inline bool adict_layout_init(struct adict_layout *l, __u32 key64,
				     __u32 key32, __u32 value_bytes)
{
	__u32 align, raw;

	if (key64 > ADICT_KEY64_MAX || key32 > ADICT_KEY32_MAX ||
	    key64 + key32 == 0 ||
	    (value_bytes != 0 && value_bytes != 4 && value_bytes != 8))
		return false;
	l->key64 = key64;
	l->key32 = key32;
	l->value_bytes = value_bytes;
	l->key32_offset = 8 * key64;
	l->key_bytes = 8 * key64 + 4 * key32;
	l->value_offset = value_bytes == 8 ? (l->key_bytes + 7) & ~7U :
			  l->key_bytes;
	align = key64 || value_bytes == 8 ? 8 : 4;
	raw = l->value_offset + value_bytes;
	l->row_bytes = (raw + align - 1) & ~(align - 1);
	if (l->row_bytes > ADICT_BUCKET_BYTES)
		return false;
	l->rows = ADICT_BUCKET_BYTES / l->row_bytes;
	return true;
}

/* The default geometry: one u64 key word and a u64 value. */
static inline bool adict_layout_is_default(const struct adict_layout *l)
{
	return l->key64 == 1 && l->key32 == 0 && l->value_bytes == 8;
}

/* The hash of a key of the default geometry (8 bytes: AES rounds). */
static __always_inline __u64 adict_hash(const struct adict_core *c, __u64 key)
{
	return adict_aes4(&c->hk, key, 0);
}

/* Home bucket in 1 .. nbuckets-1 (bucket 0 is the control bucket). */
static __always_inline __u64 adict_home_bucket(const struct adict_core *c,
					       __u64 key)
{
	return 1 + adict_a_mulhi(adict_hash(c, key), c->nbuckets - 1);
}

/*
 * adict_khash - the hash of a key of any geometry.
 * @key: the packed key (adict_core_key_valid()): key64 u64 words, then
 *       key32 words each in the low half of a u64
 *
 * The message is the key's bytes as a row stores them: the u64 words, then
 * the u32 words, little-endian, as u64 message words (two u32 words to
 * each; the last one zero-padded).  Keys of up to 16 bytes take the AES
 * rounds, longer ones SipHash-1-3 (hash.h).  For the default geometry this
 * is adict_hash().
 */
static inline __u64 adict_khash(const struct adict_core *c, const __u64 *key)
{
	const struct adict_layout *l = &c->layout;
	const __u64 *k32 = key + l->key64;
	__u64 m[ADICT_KEY_WORDS_MAX / 2 + 2] = { 0 };	/* 8 + 1 at most */
	unsigned int i, n = l->key64;

	for (i = 0; i < l->key64; i++)
		m[i] = key[i];
	for (i = 0; i < l->key32; i++)
		m[n + i / 2] |= (__u64)(__u32)k32[i] << (32 * (i & 1));
	if (l->key_bytes <= 16)
		return adict_aes4(&c->hk, m[0], m[1]);
	return adict_sip_msg(c->hk.sip, m, l->key_bytes / 8 + 1, l->key_bytes);
}

static inline __u64 adict_khome_bucket(const struct adict_core *c,
				       const __u64 *key)
{
	return 1 + adict_a_mulhi(adict_khash(c, key), c->nbuckets - 1);
}

/*
 * adict_nbuckets - number of buckets for @capacity keys, @rows to a bucket.
 * @tflags: the table's ADICT_TABLE_F_* (only ADICT_TABLE_F_LOAD_HALF counts)
 *
 * Returns the bucket count (a multiple of ADICT_BUCKETS_PER_PAGE, so the data
 * area is whole pages), or 0 when @capacity is 0 or above
 * ADICT_CAPACITY_MAX.  Rows of buckets 1.. are at least capacity * 4/3
 * (capacity * 2 with ADICT_TABLE_F_LOAD_HALF), so the load never exceeds
 * 3/4 (1/2) and a full table still has empty rows.  The load changes only
 * this count: the probe, the home bucket and the rules of the format are
 * the same for every load.
 */
static inline __u64 adict_nbuckets(__u64 capacity, __u32 rows, __u32 tflags)
{
	__u64 num = ADICT_LOAD_NUM, den = ADICT_LOAD_DEN, slots, buckets;

	if (capacity == 0 || capacity > ADICT_CAPACITY_MAX || rows == 0)
		return 0;
	if (tflags & ADICT_TABLE_F_LOAD_HALF) {
		num = ADICT_LOAD_HALF_NUM;
		den = ADICT_LOAD_HALF_DEN;
	}
	/* No overflow: capacity <= 2^40. */
	slots = (capacity * den + num - 1) / num;
	buckets = (slots + rows - 1) / rows + 1;
	return (buckets + ADICT_BUCKETS_PER_PAGE - 1) &
	       ~(__u64)(ADICT_BUCKETS_PER_PAGE - 1);
}

/* adict_nbuckets() for the default geometry (four rows a bucket), load 3/4. */
static inline __u64 adict_geometry(__u64 capacity)
{
	return adict_nbuckets(capacity, ADICT_BUCKET_SLOTS, 0);
}

/* Bytes of a whole table (header page + data area) for a bucket count. */
static inline __u64 adict_map_bytes(__u64 nbuckets)
{
	return ADICT_HEADER_BYTES + nbuckets * ADICT_BUCKET_BYTES;
}

/*
 * adict_header_init - fill a header.
 * @flags: ADICT_TABLE_F_*; ADICT_TABLE_F_LOAD_HALF sizes it for load 1/2
 * @l:    a row geometry from adict_layout_init()
 * @seed: the table's hash seed (random: get_random_bytes(), getrandom())
 *
 * Returns false when the capacity is invalid.
 */
static inline bool adict_header_init(struct adict_table_header *h,
				     __u64 capacity, __u32 flags,
				     const struct adict_layout *l,
				     const __u64 seed[2])
{
	__u64 nb = adict_nbuckets(capacity, l->rows, flags);

	if (!nb)
		return false;
	*h = (struct adict_table_header) {
		.magic = ADICT_TABLE_MAGIC,
		.version = ADICT_FORMAT_V2,
		.hash = ADICT_HASH_AES4_SIP13,
		.header_bytes = ADICT_HEADER_BYTES,
		.row_bytes = l->row_bytes,
		.bucket_rows = l->rows,
		.flags = flags,
		.capacity = capacity,
		.nbuckets = nb,
		.data_offset = ADICT_HEADER_BYTES,
		.data_bytes = nb * ADICT_BUCKET_BYTES,
		.map_bytes = adict_map_bytes(nb),
		.key64 = l->key64,
		.key32 = l->key32,
		.value_bytes = l->value_bytes,
		.reserved0 = 0,
		.seed = { seed[0], seed[1] },
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
 * header's capacity, geometry, load flag and seed; nothing else is
 * accepted.  The other flags are informational: any value is taken.
 */
static inline bool adict_header_valid(const struct adict_table_header *h,
				      __u64 map_bytes)
{
	struct adict_table_header want;
	struct adict_layout l;
	unsigned int i;

	if (h->magic != ADICT_TABLE_MAGIC || h->version != ADICT_FORMAT_V2 ||
	    h->hash != ADICT_HASH_AES4_SIP13)
		return false;
	if (!adict_layout_init(&l, h->key64, h->key32, h->value_bytes))
		return false;
	if (!adict_header_init(&want, h->capacity, h->flags, &l, h->seed))
		return false;
	if (h->header_bytes != want.header_bytes ||
	    h->row_bytes != want.row_bytes ||
	    h->bucket_rows != want.bucket_rows ||
	    h->nbuckets != want.nbuckets ||
	    h->data_offset != want.data_offset ||
	    h->data_bytes != want.data_bytes ||
	    h->map_bytes != want.map_bytes || h->map_bytes > map_bytes ||
	    h->reserved0)
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
	adict_hash_key_init(&c->hk, h->seed);
	adict_layout_init(&c->layout, h->key64, h->key32, h->value_bytes);
	c->wide = !adict_layout_is_default(&c->layout);
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
 * adict_core_bucket_scan - which slots of a bucket hold @key, which are empty.
 *
 * The whole bucket (one cache line) at once, without branches, so the
 * common case costs one predictable branch.  Returns a mask with bit j set
 * when slot j holds @key, and sets *@empty to the mask of empty slots, both
 * from one read of each slot; adict_core_match_slot() gives a mask's first
 * slot.  The shim may supply a faster form of the same comparison
 * (adict_a_bucket_match(): SSE2 on x86-64 userspace); otherwise it is the
 * portable code below.  A caller that ignores *@empty pays nothing for it.
 *
 * Few instructions matter as much as few branches: on a table larger than
 * the caches, how many operations' cache misses overlap depends on how many
 * operations fit in the CPU's out-of-order window.
 */
#ifdef ADICT_A_BUCKET_MATCH
static __always_inline unsigned int
adict_core_bucket_scan(struct adict_slot *s, __u64 key, unsigned int *empty)
{
	return adict_a_bucket_match(s, key, empty);
}
#else
static __always_inline unsigned int
adict_core_bucket_scan(struct adict_slot *s, __u64 key, unsigned int *empty)
{
	__u64 k0 = adict_a_load_key(&s[0].key);
	__u64 k1 = adict_a_load_key(&s[1].key);
	__u64 k2 = adict_a_load_key(&s[2].key);
	__u64 k3 = adict_a_load_key(&s[3].key);
	unsigned int match, e;

	match = (unsigned int)(k0 == key) | (unsigned int)(k1 == key) << 1 |
		(unsigned int)(k2 == key) << 2 | (unsigned int)(k3 == key) << 3;
	e = (unsigned int)(k0 == 0) | (unsigned int)(k1 == 0) << 1 |
	    (unsigned int)(k2 == 0) << 2 | (unsigned int)(k3 == 0) << 3;
	/*
	 * Keep the masks opaque: otherwise the compiler turns the compares
	 * back into a branch per slot, which mispredicts on which slot holds
	 * the key and, on a cache miss, serializes the misses of successive
	 * operations.
	 */
	adict_a_hide(match);
	adict_a_hide(e);
	*empty = e;
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
 * @b:      adict_home_bucket(c, key), computed by the caller
 *          (batches compute it early to prefetch the bucket)
 * @insert: publish @key in the first empty slot of its probe when absent
 * @valp:   out, the key's value word (stable for the table's lifetime)
 *
 * Return: 1 if this call published @key, 0 if it was already present,
 * -ENOENT if absent and !@insert, -ENOSPC if absent and the table holds
 * capacity keys (or, for a table scribbled over, has no empty slot left),
 * -EINTR if adict_a_relax() abandoned a long probe (kernel: fatal signal;
 * nothing was published then).
 *
 * A bucket is examined whole: the key anywhere in it is found; otherwise an
 * empty slot in it ends the probe (the key is absent), else the next bucket.
 * Probing visits at most nbuckets - 1 buckets, whatever the memory holds,
 * and calls adict_a_relax() once per bucket (the kernel's preemption point).
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
	unsigned int match, empty;
	__u64 i, k;
	int j;

	for (i = 1; i < nb; i++) {
		s = c->kbuckets[b].slot;
		match = adict_core_bucket_scan(s, key, &empty);
		if (match) {
			j = adict_core_match_slot(match);
			goto found;
		}
		/*
		 * Not in this bucket.  Four other keys: the probe goes on (keys
		 * are never removed, so the bucket stays full of them).  Else
		 * the first empty slot ends it: the slots before it hold other
		 * keys, and an inserter of @key would have taken that slot, which
		 * was empty all along.  When inserting, walk on from that slot
		 * one at a time: another process may publish @key there first.
		 */
		if (!empty)
			goto next;
		if (!insert)
			return full ? -ENOSPC : -ENOENT;
		for (j = adict_core_match_slot(empty); j < ADICT_BUCKET_SLOTS; j++) {
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
next:
		if (++b == nb)
			b = 1;
		if (adict_a_relax(c, i))
			return -EINTR;
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
	unsigned int empty, match = adict_core_bucket_scan(s, key, &empty);

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
	return adict_core_lookup_at(c, key, adict_home_bucket(c, key),
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

/* The operations a set (a table with no value) accepts. */
static inline bool adict_op_valid_for_set(__u32 op)
{
	return op == ADICT_OP_INSERT || op == ADICT_OP_FIND ||
	       op == ADICT_OP_LOAD;
}

/*
 * adict_core_value_op64 - the value half of an operation, on a u64 value.
 * @ret: what the lookup returned (1 new, 0 present), for INSERT
 */
static __always_inline void adict_core_value_op64(__u64 *v, __u32 op,
						  __u64 arg1, __u64 arg2,
						  int ret, __u64 *result)
{
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
}

/*
 * adict_core_value_op32 - the same on a u32 value.  Arguments are taken
 * modulo 2^32 and results are zero-extended, except CAS's expected value:
 * one above 2^32 - 1 equals no u32, so that CAS only loads (the result is
 * still == arg1 iff the swap happened).
 */
static inline void adict_core_value_op32(__u32 *v, __u32 op, __u64 arg1,
					 __u64 arg2, int ret, __u64 *result)
{
	__u32 a = (__u32)arg1;

	switch (op) {
	case ADICT_OP_INSERT:
		*result = ret;
		break;
	case ADICT_OP_LOAD:
	case ADICT_OP_FIND:
		*result = adict_a_load32(v);
		break;
	case ADICT_OP_STORE:
	case ADICT_OP_SWAP:
		*result = adict_a_xchg32(v, a);
		break;
	case ADICT_OP_ADD:
		*result = adict_a_fetch_add32(v, a);
		break;
	case ADICT_OP_SUB:
		*result = adict_a_fetch_sub32(v, a);
		break;
	case ADICT_OP_AND:
		*result = adict_a_fetch_and32(v, a);
		break;
	case ADICT_OP_OR:
		*result = adict_a_fetch_or32(v, a);
		break;
	case ADICT_OP_XOR:
		*result = adict_a_fetch_xor32(v, a);
		break;
	case ADICT_OP_CAS:
		*result = arg1 >> 32 ? adict_a_load32(v) :
			  adict_a_cas32(v, a, (__u32)arg2);
		break;
	}
}

/*
 * adict_core_op - run one operation (enum adict_op) on @key, on a table of
 * the default geometry.
 * @result: out, as documented at enum adict_op
 *
 * Return: 0, -EINVAL (key 0, unknown op, or a table of another geometry:
 * use adict_core_kop()), -ENOENT (FIND of an absent key), -ENOSPC (a new
 * key and a full table) or -EINTR (kernel: a long probe was abandoned for a
 * fatal signal).  Callers check permissions.
 */
static inline int adict_core_op(const struct adict_core *c, __u32 op,
				__u64 key, __u64 arg1, __u64 arg2,
				__u64 *result)
{
	__u64 *v;
	int ret;

	if (!key || !adict_op_valid(op) || c->wide)
		return -EINVAL;
	ret = adict_core_lookup(c, key, op != ADICT_OP_FIND, &v);
	if (ret < 0)
		return ret;
	adict_core_value_op64(v, op, arg1, arg2, ret, result);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Every geometry: rows of key64 u64 words, key32 u32 words and a value     */
/* ------------------------------------------------------------------------ */

/*
 * adict_core_key_valid - is @key a key of this table's geometry?
 * @key: key64 + key32 words: the u64 words, then each u32 word widened to
 *       a u64 (the packed key of the composite-key calls)
 *
 * Every word must be non-zero, and each u32 word below 2^32.
 */
static inline bool adict_core_key_valid(const struct adict_core *c,
					const __u64 *key)
{
	const struct adict_layout *l = &c->layout;
	__u32 i, n = l->key64 + l->key32;

	for (i = 0; i < n; i++)
		if (!key[i] || (i >= l->key64 && key[i] >> 32))
			return false;
	return true;
}

/* Row @r of bucket @b. */
static __always_inline unsigned char *adict_core_row(const struct adict_core *c,
						     __u64 b, __u32 r)
{
	return (unsigned char *)c->kbuckets + b * ADICT_BUCKET_BYTES +
	       r * c->layout.row_bytes;
}

/* Acquire load of key word @w of @row; pairs with adict_core_row_cas(). */
static __always_inline __u64 adict_core_row_load(const struct adict_layout *l,
						 unsigned char *row, __u32 w)
{
	if (w < l->key64)
		return adict_a_load_key((__u64 *)row + w);
	return adict_a_load_key32((__u32 *)(row + l->key32_offset) +
				  (w - l->key64));
}

/* CAS key word @w of @row from 0 to @want; returns the word observed. */
static __always_inline __u64 adict_core_row_cas(const struct adict_layout *l,
						unsigned char *row, __u32 w,
						__u64 want)
{
	if (w < l->key64)
		return adict_a_cas((__u64 *)row + w, 0, want);
	return adict_a_cas32((__u32 *)(row + l->key32_offset) + (w - l->key64),
			     0, (__u32)want);
}

/*
 * adict_core_klookup - find the row of @key, optionally inserting it; any
 * geometry.
 * @c:      trusted geometry
 * @key:    a packed key that passed adict_core_key_valid()
 * @insert: write @key into its row when absent
 * @valp:   out, the key's value (row + value_offset: a __u64 or __u32 as
 *          the geometry says; the end of the key for a set)
 *
 * Return: 1 if this call wrote the key's last word (the key is new), 0 if
 * it was present, -ENOENT if absent and !@insert, -ENOSPC if absent and the
 * table holds capacity keys (or, scribbled over, has no empty row left),
 * -EINTR if adict_a_relax() abandoned a long probe (kernel: fatal signal).
 * An abandoned insertion stops between buckets; a row it had claimed in
 * part is then what a killed inserter leaves (format.rst).
 *
 * The multi-word protocol (Documentation/format.rst, with its proof):
 * rows are visited in probe order, each once; in a row, key words in
 * order.  A word equal to the key's: next word.  Another non-zero word:
 * the row is another key's, next row.  A zero word: when inserting, CAS it
 * from 0 to the key's word (the first CAS of an insertion checks room
 * first) and go on with what the CAS observed; when only looking, a zero
 * first word means the key is absent (no key lies beyond an empty row) and
 * a zero later word is a row still being written (or left part-written by
 * a dead inserter): not the key's yet, next row.  Whoever writes the last
 * word counts the key in `used`.  Bounded by the trusted geometry: at most
 * (nbuckets - 1) * rows rows and key64 + key32 words in each, with
 * adict_a_relax() once per bucket (the kernel's preemption point).
 */
static adict_a_noinline int
adict_core_klookup(const struct adict_core *c, const __u64 *key, bool insert,
		   void **valp)
{
	const struct adict_layout *l = &c->layout;
	int nw = (int)(l->key64 + l->key32), w;
	__u64 nb = c->nbuckets, b = adict_khome_bucket(c, key), i, cur;
	bool checked = false, full = false;
	unsigned char *row;
	__u32 r;

	for (i = 1; i < nb; i++) {
		for (r = 0; r < l->rows; r++) {
			row = adict_core_row(c, b, r);
			for (w = 0; w < nw; w++) {
				cur = adict_core_row_load(l, row, w);
				if (cur == key[w])
					continue;
				if (cur)
					break;		/* another key's row */
				if (!insert) {
					if (w == 0)	/* empty row: absent */
						return full ? -ENOSPC : -ENOENT;
					break;		/* part-written row */
				}
				if (!checked) {
					checked = true;
					if (!adict_core_has_room(c)) {
						/*
						 * Full.  Look on without
						 * writing (as adict_core_probe()).
						 */
						insert = false;
						full = true;
						w--;
						continue;
					}
				}
				/* Pairs with adict_core_row_load() of others. */
				cur = adict_core_row_cas(l, row, w, key[w]);
				if (cur == 0) {
					if (w == nw - 1) {
						adict_a_fetch_add(c->kused, 1);
						*valp = row + l->value_offset;
						return 1;
					}
					continue;
				}
				if (cur != key[w])
					break;		/* another key won */
			}
			if (w == nw) {
				*valp = row + l->value_offset;
				return 0;
			}
		}
		if (++b == nb)
			b = 1;
		if (adict_a_relax(c, i))
			return -EINTR;
	}
	return insert || full ? -ENOSPC : -ENOENT;
}

/*
 * adict_core_kop - run one operation on a packed key of any geometry.
 * @key: key64 + key32 words as adict_core_key_valid() describes
 *
 * The default geometry takes its specialised path.  Values of a u32 table
 * wrap modulo 2^32 and are zero-extended in @result.  A set accepts
 * INSERT, FIND and LOAD (whose result is 0).
 * Return: as adict_core_op(); -EINVAL also for an invalid key word and for
 * a value operation on a set.
 */
static inline int adict_core_kop(const struct adict_core *c, __u32 op,
				 const __u64 *key, __u64 arg1, __u64 arg2,
				 __u64 *result)
{
	void *v;
	int ret;

	if (!c->wide)
		return adict_core_op(c, op, key[0], arg1, arg2, result);
	if (!adict_op_valid(op) || !adict_core_key_valid(c, key) ||
	    (!c->layout.value_bytes && !adict_op_valid_for_set(op)))
		return -EINVAL;
	ret = adict_core_klookup(c, key, op != ADICT_OP_FIND, &v);
	if (ret < 0)
		return ret;
	if (c->layout.value_bytes == 8)
		adict_core_value_op64((__u64 *)v, op, arg1, arg2, ret, result);
	else if (c->layout.value_bytes == 4)
		adict_core_value_op32((__u32 *)v, op, arg1, arg2, ret, result);
	else
		*result = op == ADICT_OP_INSERT ? (__u64)ret : 0;
	return 0;
}

/*
 * adict_core_row_key - copy the key of row @r of bucket @b into @key
 * (packed); false when the row holds no complete key.
 */
static inline bool adict_core_row_key(const struct adict_core *c, __u64 b,
				      __u32 r, __u64 *key)
{
	const struct adict_layout *l = &c->layout;
	unsigned char *row = adict_core_row(c, b, r);
	__u32 w, nw = l->key64 + l->key32;

	for (w = 0; w < nw; w++) {
		key[w] = adict_core_row_load(l, row, w);
		if (!key[w])
			return false;
	}
	return true;
}

/* The value of row @r of bucket @b, zero-extended (0 for a set). */
static inline __u64 adict_core_row_value(const struct adict_core *c, __u64 b,
					 __u32 r)
{
	const struct adict_layout *l = &c->layout;
	unsigned char *v = adict_core_row(c, b, r) + l->value_offset;

	if (l->value_bytes == 8)
		return adict_a_load((__u64 *)v);
	if (l->value_bytes == 4)
		return adict_a_load32((__u32 *)v);
	return 0;
}

/*
 * adict_core_count - count the complete keys (for recounting `used`).
 * Rows left part-written by a dead inserter are not keys.  Bounded by the
 * trusted geometry; O(table).
 */
static inline __u64 adict_core_count(const struct adict_core *c)
{
	__u64 b, n = 0, key[ADICT_KEY_WORDS_MAX];
	__u32 r;
	int j;

	if (!c->wide) {
		for (b = 1; b < c->nbuckets; b++) {
			for (j = 0; j < ADICT_BUCKET_SLOTS; j++)
				n += adict_a_load_relaxed(
					&c->kbuckets[b].slot[j].key) != 0;
			(void)adict_a_relax(c, b);	/* preemption point only */
		}
		return n;
	}
	for (b = 1; b < c->nbuckets; b++) {
		for (r = 0; r < c->layout.rows; r++)
			n += adict_core_row_key(c, b, r, key);
		(void)adict_a_relax(c, b);
	}
	return n;
}

#endif /* ADICT_CORE_H */
