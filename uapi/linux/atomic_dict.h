/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * atomic_dict: lock-free shared u64 -> u64 tables in kernel pages.
 *
 * This header is the whole contract between the kernel module, libadict and
 * any other consumer: the table format (what a mapping of /dev/atomic_dict or
 * of a libadict memfd contains) and the ioctl/uring_cmd ABI of the device.
 * Documentation/format.rst and Documentation/device.rst describe every field.
 *
 * Rules followed here (Documentation/driver-api/ioctl.rst): only __u32/__u64,
 * explicit padding that must be zero, user pointers carried in __u64, every
 * argument struct starts with its own size so it can grow
 * (copy_struct_from_user semantics), a changed command gets a new number.
 * A command's number encodes its struct's size as the caller was built;
 * the kernel also takes the number of every earlier size of a grown struct
 * (ADICT_*_SIZE_V1), so binaries built against an older header still work.
 */
#ifndef _UAPI_LINUX_ATOMIC_DICT_H
#define _UAPI_LINUX_ATOMIC_DICT_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* ------------------------------------------------------------------------ */
/* Table format v2                                                          */
/* ------------------------------------------------------------------------ */

/*
 * A table is one contiguous object of map_bytes bytes:
 *
 *   offset 0            header page (struct adict_table_header), read-only
 *                       to every mapping; the rest of the page is zero
 *   offset data_offset  data area: nbuckets buckets of 64 bytes.
 *                       Bucket 0 is the control bucket (struct adict_ctl).
 *                       Buckets 1 .. nbuckets-1 hold bucket_rows rows each.
 *
 * Row geometry (Documentation/format.rst gives the rules and the proofs):
 *   key64 u64 key words, then key32 u32 key words, then the value
 *   (value_bytes: 8, 4, or 0 for a set), the value aligned to its size;
 *   row_bytes is that rounded up to 8 when the row has a 64-bit part (else
 *   to 4); bucket_rows = 64 / row_bytes; row r of a bucket starts at byte
 *   r * row_bytes, so no row straddles a bucket.  The default geometry is
 *   one u64 key word and a u64 value: 16-byte rows, 4 per bucket, laid out
 *   as struct adict_slot.
 *
 * Every key word is non-zero, so 0 means "not written yet".  A key is
 * written one word at a time, in order, each by a compare-and-swap from 0;
 * a row whose first key word is 0 is empty; a row is the key's when every
 * word equals the key's.  Keys are never removed or moved.
 *
 * Home bucket of a key (ADICT_HASH_AES4_SIP13), its bytes as stored in a
 * row (Documentation/format.rst gives the round keys and padding):
 *   h    = four AES rounds keyed by the seed, for keys of <= 16 bytes;
 *          SipHash-1-3(seed, key bytes) for longer keys
 *   home = 1 + (((unsigned __int128)h * (nbuckets - 1)) >> 64)
 * Probe sequence: home, home+1, ... wrapping from nbuckets-1 back to 1;
 * inside a bucket, rows 0 .. bucket_rows-1 in order.
 *
 * Capacity: ctl.used counts complete keys; the inserter that writes a key's
 * last word adds 1 just after.  A new key is refused (ENOSPC) when
 * used >= capacity.  The rows beyond capacity (at least a quarter of the
 * table) absorb racing inserters and rows left part-written by processes
 * killed mid-insert (at most one row each).
 *
 * Maximum load: nbuckets gives buckets 1.. at least capacity * 4/3 rows
 * (load at most 3/4), or capacity * 2 rows (load at most 1/2) when the
 * header's flags hold ADICT_TABLE_F_LOAD_HALF: 1.5 times the memory per
 * key for shorter probes.  Nothing else differs; the probe is the same.
 */
#define ADICT_TABLE_MAGIC	0x3274636964615f61ULL	/* "a_adict2" LE */
#define ADICT_FORMAT_V2		2
#define ADICT_HASH_AES4_SIP13	3
#define ADICT_HEADER_BYTES	4096
#define ADICT_BUCKET_BYTES	64
/* The default geometry: struct adict_slot rows, four to a bucket. */
#define ADICT_SLOT_BYTES	16
#define ADICT_BUCKET_SLOTS	4
/* Row geometry limits. */
#define ADICT_KEY64_MAX		8	/* 64-bit key words in a row */
#define ADICT_KEY32_MAX		16	/* 32-bit key words in a row */
#define ADICT_KEY_WORDS_MAX	16	/* key64 + key32 (a row is <= 64 bytes) */
/* Maximum load: capacity <= 3/4 of the rows of buckets 1..nbuckets-1 ... */
#define ADICT_LOAD_NUM		3
#define ADICT_LOAD_DEN		4
/* ... or <= 1/2 of them for a table with ADICT_TABLE_F_LOAD_HALF. */
#define ADICT_LOAD_HALF_NUM	1
#define ADICT_LOAD_HALF_DEN	2
/* Buckets are allocated in whole pages of the data area. */
#define ADICT_BUCKETS_PER_PAGE	(4096 / ADICT_BUCKET_BYTES)
/* Largest capacity any implementation of format v2 accepts (2^40 keys). */
#define ADICT_CAPACITY_MAX	(1ULL << 40)

/*
 * Table flags, in adict_table_header.flags.  DEVICE and NAMED are
 * informational; LOAD_HALF is part of the geometry (nbuckets depends on it).
 */
#define ADICT_TABLE_F_DEVICE	(1U << 0)	/* owned by /dev/atomic_dict */
#define ADICT_TABLE_F_NAMED	(1U << 1)	/* has a name (device only) */
#define ADICT_TABLE_F_LOAD_HALF	(1U << 2)	/* sized for load <= 1/2 */
/*
 * In adict_info.flags only, never in a header: the device backs the table's
 * first whole 2 MiB pieces with huge pages, and maps each by one PMD where a
 * mapping's address and offset agree modulo 2 MiB (Linux 6.12 and later).
 */
#define ADICT_TABLE_F_HUGE	(1U << 3)

struct adict_table_header {
	__u64 magic;		/* ADICT_TABLE_MAGIC */
	__u32 version;		/* ADICT_FORMAT_V2 */
	__u32 hash;		/* ADICT_HASH_AES4_SIP13 */
	__u32 header_bytes;	/* ADICT_HEADER_BYTES */
	__u32 row_bytes;	/* bytes of one row, 4 .. 64 */
	__u32 bucket_rows;	/* 64 / row_bytes */
	__u32 flags;		/* ADICT_TABLE_F_* */
	__u64 capacity;		/* most keys the table accepts */
	__u64 nbuckets;		/* buckets in the data area, control included */
	__u64 data_offset;	/* byte offset of the data area (= header_bytes) */
	__u64 data_bytes;	/* nbuckets * ADICT_BUCKET_BYTES */
	__u64 map_bytes;	/* data_offset + data_bytes */
	__u32 key64;		/* 64-bit key words, 0 .. ADICT_KEY64_MAX */
	__u32 key32;		/* 32-bit key words, 0 .. ADICT_KEY32_MAX */
	__u32 value_bytes;	/* 8, 4 or 0 (a set) */
	__u32 reserved0;	/* zero */
	__u64 seed[2];		/* the table's hash seed (random at creation) */
	__u64 reserved[2];	/* zero */
};

/* A row of the default geometry (one u64 key word, a u64 value). */
struct adict_slot {
	__u64 key;		/* 0 = empty; set once by CAS, never cleared */
	__u64 value;		/* zero until first written */
};

struct adict_bucket {
	struct adict_slot slot[ADICT_BUCKET_SLOTS];
};

/* Bucket 0 of the data area. */
struct adict_ctl {
	__u64 used;		/* complete keys (counted just after each) */
	__u64 reserved[7];
};

/* ------------------------------------------------------------------------ */
/* Operations (ioctl ADICT_IOC_OP, uring batches, libadict)                 */
/* ------------------------------------------------------------------------ */

/*
 * Every operation on a key first finds the key's slot, inserting the key
 * with value 0 when it is absent (except FIND, which never inserts).
 * Kernel-side ops insert only for a read-write attachment, or a mediated
 * one granted INSERT; for any other, an absent key is not inserted: LOAD
 * reads 0 and every other op fails with -ENOENT (Documentation/device.rst).
 * result is the value before the operation, except:
 *   LOAD   the value;          STORE  the previous value (an exchange);
 *   CAS    the observed value (== arg1 iff the swap happened);
 *   INSERT 1 if this call published the key, 0 if it existed;
 *   FIND   the value, or -ENOENT as the status when the key is absent.
 * Values are u64 and wrap modulo 2^64, or u32 (value_bytes 4): arguments
 * are taken modulo 2^32 and results zero-extended; a CAS whose expected
 * value is above 2^32 - 1 matches nothing and only loads.  A set (value
 *_bytes 0) takes INSERT, FIND and LOAD (result 0); other ops are EINVAL.
 */
enum adict_op {
	ADICT_OP_LOAD	= 0,
	ADICT_OP_STORE	= 1,	/* arg1 = value */
	ADICT_OP_SWAP	= 2,	/* arg1 = value */
	ADICT_OP_ADD	= 3,	/* arg1 = delta */
	ADICT_OP_SUB	= 4,	/* arg1 = delta */
	ADICT_OP_AND	= 5,	/* arg1 = mask */
	ADICT_OP_OR	= 6,	/* arg1 = mask */
	ADICT_OP_XOR	= 7,	/* arg1 = mask */
	ADICT_OP_CAS	= 8,	/* arg1 = expected, arg2 = desired */
	ADICT_OP_INSERT	= 9,	/* insert if absent */
	ADICT_OP_FIND	= 10,	/* never inserts */
	ADICT_OP_COUNT
};

#define ADICT_OP_BIT(op)	(1U << (op))
#define ADICT_GRANT_ALL		((1U << ADICT_OP_COUNT) - 1)
#define ADICT_GRANT_READ	(ADICT_OP_BIT(ADICT_OP_LOAD) | \
				 ADICT_OP_BIT(ADICT_OP_FIND))

/* ------------------------------------------------------------------------ */
/* Device ioctls                                                            */
/* ------------------------------------------------------------------------ */

#define ADICT_IOC_MAGIC		0xB9	/* free in 6.1's ioctl-number.rst */
#define ADICT_NAME_MAX		64	/* bytes, including the NUL */

/* adict_create_args.flags */
#define ADICT_CREATE_NAMED	(1U << 0)	/* name is set; else anonymous */
#define ADICT_CREATE_LOAD_HALF	(1U << 1)	/* load <= 1/2, not 3/4 */
#define ADICT_CREATE_FLAGS	(ADICT_CREATE_NAMED | ADICT_CREATE_LOAD_HALF)

/* adict_attach_args.flags */
#define ADICT_ATTACH_RDONLY	(1U << 0)	/* read-only even on an O_RDWR fd */
#define ADICT_ATTACH_MEDIATED	(1U << 1)	/* read-only map + kernel ops */
#define ADICT_ATTACH_OWNER	(1U << 2)	/* table's owner must be .owner */
#define ADICT_ATTACH_FLAGS	(ADICT_ATTACH_RDONLY | ADICT_ATTACH_MEDIATED | \
				 ADICT_ATTACH_OWNER)

/*
 * ADICT_IOC_CREATE: create a table and bind it to this fd (once per fd).
 * The creator is attached read-write (the fd must be O_RDWR).
 */
struct adict_create_args {
	__u32 size;		/* sizeof(struct adict_create_args) */
	__u32 flags;		/* ADICT_CREATE_* */
	__u64 capacity;		/* 1 .. ADICT_CAPACITY_MAX, within limits */
	__u64 name;		/* user pointer to a NUL-terminated name */
	__u32 mode;		/* permission bits 0..0777 (named tables) */
	__u32 grant;		/* ops a mediated attacher may run; 0 = LOAD+FIND */
	/*
	 * Row geometry (format v2).  key64 = key32 = 0, as a caller passing
	 * the first size of this struct has, is the default: one u64 key
	 * word and a u64 value (value_bytes must then be 0 too).
	 */
	__u32 key64;		/* u64 key words, 0 .. ADICT_KEY64_MAX */
	__u32 key32;		/* u32 key words, 0 .. ADICT_KEY32_MAX */
	__u32 value_bytes;	/* 8, 4 or 0 (a set) */
	__u32 reserved;		/* zero */
};

#define ADICT_CREATE_ARGS_SIZE_V1	32	/* no geometry: u64 -> u64 */

/*
 * ADICT_IOC_ATTACH: bind an existing named table to this fd.  With
 * ADICT_ATTACH_OWNER, only a table owned by uid .owner (in the caller's
 * user namespace) is attached; another owner fails with EPERM.  The first
 * size of the struct (ADICT_ATTACH_ARGS_SIZE_V1) has no .owner.
 */
struct adict_attach_args {
	__u32 size;		/* sizeof(struct adict_attach_args) */
	__u32 flags;		/* ADICT_ATTACH_* */
	__u64 name;		/* user pointer to a NUL-terminated name */
	__u32 owner;		/* with ADICT_ATTACH_OWNER: uid; else 0 */
	__u32 reserved;		/* zero */
};

#define ADICT_ATTACH_ARGS_SIZE_V1	16	/* no .owner */

/* ADICT_IOC_UNLINK: remove a name; the table lives on while used. */
struct adict_unlink_args {
	__u32 size;		/* sizeof(struct adict_unlink_args) */
	__u32 flags;		/* must be 0 */
	__u64 name;		/* user pointer to a NUL-terminated name */
};

/* adict_info.access */
#define ADICT_ACCESS_RDWR	0	/* mmap read-write, every op */
#define ADICT_ACCESS_RDONLY	1	/* mmap read-only, read ops only */
#define ADICT_ACCESS_MEDIATED	2	/* mmap read-only, granted ops by kernel */

/* ADICT_IOC_INFO: describe the table bound to this fd. */
struct adict_info {
	__u32 size;		/* in: sizeof(struct adict_info) */
	__u32 flags;		/* ADICT_TABLE_F_* */
	__u64 capacity;
	__u64 nbuckets;
	__u64 map_bytes;	/* length to pass to mmap (offset 0) */
	__u64 data_offset;	/* first writable byte of the mapping */
	__u64 used;		/* keys published (exact when no insert runs) */
	__u32 uid;		/* owner, in the caller's user namespace */
	__u32 gid;
	__u32 mode;		/* permission bits */
	__u32 access;		/* ADICT_ACCESS_* granted to this fd */
	__u32 grant;		/* ops allowed for mediated attachers */
	__u32 users;		/* fds + mappings currently holding the table */
	__u64 id;		/* unique table id (as in the /proc listing) */
	char name[ADICT_NAME_MAX];	/* "" when anonymous */
};

/*
 * ADICT_IOC_OP: one kernel-side operation on the bound table.  A composite
 * key travels inline: key is its word 0, key_more[] its words 1 .. n-1
 * (the packed key of format.rst: the u64 words, then each u32 word in a
 * u64), so the kernel copies the whole operation once.  A caller passing
 * ADICT_OP_ARGS_SIZE_V1 has one-word keys only.
 */
struct adict_op_args {
	__u32 size;		/* sizeof(struct adict_op_args) */
	__u32 op;		/* enum adict_op */
	__u64 key;		/* key word 0, non-zero */
	__u64 arg1;
	__u64 arg2;
	__u64 result;		/* out, see enum adict_op */
	__u64 key_more[ADICT_KEY_WORDS_MAX - 1];	/* key words 1.. */
};

#define ADICT_OP_ARGS_SIZE_V1	40	/* up to result: one-word keys */

/* adict_usage.flags */
#define ADICT_USAGE_F_EXEMPT	(1U << 0)	/* caller not bound by per-user limits */

/*
 * ADICT_IOC_USAGE: the limits, and what is used against them, all tables
 * together and the tables charged to the caller's quota owner (quota_uid).
 * Any fd, bound or not.  Bytes count whole tables, header included.
 */
struct adict_usage {
	__u32 size;		/* in: sizeof(struct adict_usage) */
	__u32 flags;		/* ADICT_USAGE_F_* */
	__u32 quota_uid;	/* charged for the caller's tables (caller's ns) */
	__u32 max_tables;	/* module parameters, as in force now */
	__u32 max_tables_per_user;
	__u32 tables;		/* tables alive, all users */
	__u32 user_tables;	/* tables charged to quota_uid */
	__u32 reserved;		/* zero */
	__u64 max_table_bytes;
	__u64 max_total_bytes;	/* effective (a default resolved) */
	__u64 max_user_bytes;	/* effective (a default resolved) */
	__u64 bytes;		/* bytes of all tables */
	__u64 user_bytes;	/* bytes of the tables charged to quota_uid */
};

#define ADICT_IOC_CREATE	_IOW(ADICT_IOC_MAGIC, 0x00, struct adict_create_args)
#define ADICT_IOC_ATTACH	_IOW(ADICT_IOC_MAGIC, 0x01, struct adict_attach_args)
#define ADICT_IOC_UNLINK	_IOW(ADICT_IOC_MAGIC, 0x02, struct adict_unlink_args)
#define ADICT_IOC_INFO		_IOWR(ADICT_IOC_MAGIC, 0x03, struct adict_info)
#define ADICT_IOC_OP		_IOWR(ADICT_IOC_MAGIC, 0x04, struct adict_op_args)
#define ADICT_IOC_USAGE		_IOWR(ADICT_IOC_MAGIC, 0x05, struct adict_usage)

/* ------------------------------------------------------------------------ */
/* io_uring batches (IORING_OP_URING_CMD on the device fd)                  */
/* ------------------------------------------------------------------------ */

/*
 * One batch entry with a one-word key (the batch's flags without
 * ADICT_BATCH_F_KOP), for tables whose keys are one word; an array of them
 * lives in user memory.  status is 0 or a negative errno for that entry;
 * result as for ADICT_IOC_OP.
 */
struct adict_batch_op {
	__u64 key;
	__u64 arg1;
	__u64 arg2;
	__u64 result;		/* out */
	__u32 op;		/* enum adict_op */
	__s32 status;		/* out */
};

/*
 * One batch entry with a key of any width (ADICT_BATCH_F_KOP).  Size-first:
 * size is the entry's own size, the same for every entry of a batch, and
 * so the array's stride; a shorter entry (at least ADICT_BATCH_KOP_SIZE_MIN
 * bytes, a multiple of 8) reads 0 in the key words it does not cover.  The
 * key travels inline, packed as for ADICT_IOC_OP (the u64 words, then each
 * u32 word in a u64), so the kernel copies each entry once.  status and
 * result as for struct adict_batch_op.
 */
struct adict_batch_kop {
	__u32 size;		/* the stride: sizeof(struct adict_batch_kop) */
	__u32 op;		/* enum adict_op */
	__u64 arg1;
	__u64 arg2;
	__u64 result;		/* out */
	__s32 status;		/* out */
	__u32 reserved;		/* zero */
	__u64 key[ADICT_KEY_WORDS_MAX];	/* the packed key */
};

#define ADICT_BATCH_KOP_SIZE_MIN	48	/* up to key[0]: one-word keys */

/* adict_uring_batch.flags */
#define ADICT_BATCH_F_KOP	(1U << 0)	/* ops: struct adict_batch_kop[] */
#define ADICT_BATCH_FLAGS	(ADICT_BATCH_F_KOP)

/*
 * The 16-byte payload in sqe->cmd for cmd_op ADICT_URING_CMD_BATCH.
 * Every entry is run in order and gets its own status and result.  The CQE's
 * res is the number of entries whose status is 0, or a negative errno when
 * the batch as a whole was refused (then no entry was run).
 */
struct adict_uring_batch {
	__u64 ops;		/* user pointer to the entries */
	__u32 count;		/* 1 .. ADICT_BATCH_MAX */
	__u32 flags;		/* ADICT_BATCH_F_* */
};

#define ADICT_BATCH_MAX		4096
#define ADICT_URING_CMD_BATCH	0x01

#endif /* _UAPI_LINUX_ATOMIC_DICT_H */
