// SPDX-License-Identifier: MIT
/*
 * Kernel-side batches: arrays of operations run by /dev/atomic_dict, through
 * io_uring (IORING_OP_URING_CMD, one submission per batch) when the kernel
 * and the sandbox allow it, else through one ADICT_IOC_OP ioctl per entry.
 * adict_kbatch_path() says which.  This is the mediated tables' write path:
 * the kernel enforces the table's grant on every entry.
 *
 * Built with liburing when its header is present (ADICT_HAVE_LIBURING);
 * without it the uring calls return -EOPNOTSUPP and batches use ioctls.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "adict-internal.h"

#ifdef ADICT_HAVE_LIBURING
#include <liburing.h>

struct adict_uring {
	struct io_uring ring;
	int fd;			/* the table's device fd */
};

/* errno values meaning "io_uring is not available here": fall back. */
static bool uring_unavailable(int err)
{
	return err == -ENOSYS || err == -EPERM || err == -EACCES ||
	       err == -EOPNOTSUPP || err == -EINVAL;
}

int adict_uring_init(struct adict *t, unsigned int entries,
		     struct adict_uring **up)
{
	struct adict_uring *u;
	int ret;

	if (!t || !up || !entries)
		return -EINVAL;
	*up = NULL;
	if (t->backend != ADICT_BACKEND_DEVICE)
		return -EOPNOTSUPP;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	ret = io_uring_queue_init(entries, &u->ring, 0);
	if (ret < 0) {
		free(u);
		return uring_unavailable(ret) ? -EOPNOTSUPP : ret;
	}
	u->fd = t->fd;
	*up = u;
	return 0;
}

void adict_uring_exit(struct adict_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}

/*
 * Queue one batch of entries @ops (struct adict_batch_op, or with
 * ADICT_BATCH_F_KOP in @flags struct adict_batch_kop).  liburing 2.3 has
 * no uring_cmd helper: a zeroed SQE, prep_rw for the opcode and fd, then
 * cmd_op and the 16-byte payload.
 */
static int uring_submit(struct adict_uring *u, void *ops, unsigned int count,
			__u32 flags, __u64 user_data)
{
	struct adict_uring_batch b = {
		.ops = (__u64)(unsigned long)ops,
		.count = count,
		.flags = flags,
	};
	struct io_uring_sqe *sqe;
	int ret;

	if (!u || !ops || !count || count > ADICT_BATCH_MAX)
		return -EINVAL;
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, sizeof(*sqe));
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, u->fd, NULL, 0, 0);
	sqe->cmd_op = ADICT_URING_CMD_BATCH;
	memcpy(sqe->cmd, &b, sizeof(b));
	io_uring_sqe_set_data64(sqe, user_data);
	ret = io_uring_submit(&u->ring);
	return ret < 0 ? ret : 0;
}

int adict_uring_submit(struct adict_uring *u, struct adict_batch_op *ops,
		       unsigned int count, __u64 user_data)
{
	return uring_submit(u, ops, count, 0, user_data);
}

int adict_uring_tuple_submit(struct adict_uring *u,
			     struct adict_batch_kop *ops, unsigned int count,
			     __u64 user_data)
{
	unsigned int i;

	if (!ops || !count || count > ADICT_BATCH_MAX)
		return -EINVAL;
	for (i = 0; i < count; i++)
		ops[i].size = sizeof(ops[i]);	/* the stride the kernel reads */
	return uring_submit(u, ops, count, ADICT_BATCH_F_KOP, user_data);
}

int adict_uring_reap(struct adict_uring *u, __u64 *user_data, int *res,
		     int wait)
{
	struct io_uring_cqe *cqe;
	int ret;

	if (!u || !res)
		return -EINVAL;
	ret = wait ? io_uring_wait_cqe(&u->ring, &cqe) :
		     io_uring_peek_cqe(&u->ring, &cqe);
	if (ret < 0)
		return ret;	/* -EAGAIN: nothing completed yet */
	if (user_data)
		*user_data = io_uring_cqe_get_data64(cqe);
	*res = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	return 0;
}

int adict_uring_batch(struct adict_uring *u, struct adict_batch_op *ops,
		      unsigned int count)
{
	int ret, res;

	ret = adict_uring_submit(u, ops, count, 0);
	if (ret)
		return ret;
	ret = adict_uring_reap(u, NULL, &res, 1);
	return ret ? ret : res;
}

int adict_uring_tuple_batch(struct adict_uring *u,
			    struct adict_batch_kop *ops, unsigned int count)
{
	int ret, res;

	ret = adict_uring_tuple_submit(u, ops, count, 0);
	if (ret)
		return ret;
	ret = adict_uring_reap(u, NULL, &res, 1);
	return ret ? ret : res;
}

#else /* !ADICT_HAVE_LIBURING */

int adict_uring_init(struct adict *t, unsigned int entries,
		     struct adict_uring **up)
{
	if (up)
		*up = NULL;
	return -EOPNOTSUPP;	/* built without liburing */
}

void adict_uring_exit(struct adict_uring *u)
{
}

int adict_uring_submit(struct adict_uring *u, struct adict_batch_op *ops,
		       unsigned int count, __u64 user_data)
{
	return -EOPNOTSUPP;
}

int adict_uring_reap(struct adict_uring *u, __u64 *user_data, int *res,
		     int wait)
{
	return -EOPNOTSUPP;
}

int adict_uring_batch(struct adict_uring *u, struct adict_batch_op *ops,
		      unsigned int count)
{
	return -EOPNOTSUPP;
}

int adict_uring_tuple_submit(struct adict_uring *u,
			     struct adict_batch_kop *ops, unsigned int count,
			     __u64 user_data)
{
	return -EOPNOTSUPP;
}

int adict_uring_tuple_batch(struct adict_uring *u,
			    struct adict_batch_kop *ops, unsigned int count)
{
	return -EOPNOTSUPP;
}
#endif /* ADICT_HAVE_LIBURING */

/* The ioctl path: one ADICT_IOC_OP per entry, same result conventions. */
static int kbatch_ioctl(struct adict *t, struct adict_batch_op *ops,
			unsigned int count)
{
	unsigned int i, ok = 0;

	for (i = 0; i < count; i++) {
		struct adict_op_args a = {
			.size = sizeof(a),
			.op = ops[i].op,
			.key = ops[i].key,
			.arg1 = ops[i].arg1,
			.arg2 = ops[i].arg2,
		};

		if (ioctl(t->fd, ADICT_IOC_OP, &a) < 0) {
			ops[i].status = -errno;
			ops[i].result = 0;	/* no stale result beside an error */
			continue;
		}
		ops[i].status = 0;
		ops[i].result = a.result;
		ok++;
	}
	return (int)ok;
}

/* The ioctl path for composite keys: the key words go in key_more[]. */
static int kbatch_tuple_ioctl(struct adict *t, struct adict_batch_kop *ops,
			      unsigned int count)
{
	unsigned int i, ok = 0;

	for (i = 0; i < count; i++) {
		struct adict_op_args a = {
			.size = sizeof(a),
			.op = ops[i].op,
			.key = ops[i].key[0],
			.arg1 = ops[i].arg1,
			.arg2 = ops[i].arg2,
		};

		ops[i].size = sizeof(ops[i]);
		ops[i].result = 0;
		if (ops[i].reserved) {
			ops[i].status = -EINVAL;	/* as the kernel says */
			continue;
		}
		memcpy(a.key_more, &ops[i].key[1], sizeof(a.key_more));
		if (ioctl(t->fd, ADICT_IOC_OP, &a) < 0) {
			ops[i].status = -errno;
			continue;
		}
		ops[i].status = 0;
		ops[i].result = a.result;
		ok++;
	}
	return (int)ok;
}

/*
 * The path kernel batches of @t take: picked on first use (io_uring if a
 * ring can be set up, else ioctl) and kept.
 */
static void kbatch_pick(struct adict *t)
{
	struct adict_uring *u;

	if (t->kbatch_path)
		return;
	if (adict_uring_init(t, 8, &u) == 0) {
		t->kuring = u;
		t->kbatch_path = ADICT_KBATCH_URING;
	} else {
		t->kbatch_path = ADICT_KBATCH_IOCTL;
	}
}

/* io_uring turned out to be refused for the device: ioctls from now on. */
static void kbatch_fall_back(struct adict *t)
{
	adict_uring_exit(t->kuring);
	t->kuring = NULL;
	t->kbatch_path = ADICT_KBATCH_IOCTL;
}

/*
 * Run a batch of @count entries of either kind (@kop: struct
 * adict_batch_kop, else struct adict_batch_op) by the path kbatch_pick()
 * chose, falling back to ioctls for good when io_uring is refused.
 */
static int kbatch_run(struct adict *t, void *ops, unsigned int count, bool kop)
{
	int ret;

	if (!t || !ops || !count || count > ADICT_BATCH_MAX)
		return -EINVAL;
	if (t->backend != ADICT_BACKEND_DEVICE)
		return -EOPNOTSUPP;
	kbatch_pick(t);
	if (t->kbatch_path == ADICT_KBATCH_URING) {
		ret = kop ? adict_uring_tuple_batch(t->kuring, ops, count) :
			    adict_uring_batch(t->kuring, ops, count);
		if (ret != -EOPNOTSUPP)
			return ret;
		kbatch_fall_back(t);
	}
	return kop ? kbatch_tuple_ioctl(t, ops, count) :
		     kbatch_ioctl(t, ops, count);
}

/*
 * adict_kbatch - run @count operations in the kernel, by io_uring if it is
 * available (one system call) else by ioctl (one per entry).  Each entry
 * gets its status and result.  Return: the number of entries with status 0,
 * or a negative errno when the batch as a whole was refused.
 */
int adict_kbatch(struct adict *t, struct adict_batch_op *ops,
		 unsigned int count)
{
	return kbatch_run(t, ops, count, false);
}

/*
 * adict_tuple_kbatch - adict_kbatch() for entries with keys of any width
 * (struct adict_batch_kop, key packed as adict_tuple_op() takes it).
 */
int adict_tuple_kbatch(struct adict *t, struct adict_batch_kop *ops,
		       unsigned int count)
{
	return kbatch_run(t, ops, count, true);
}

const char *adict_kbatch_path(struct adict *t)
{
	if (!t || t->backend != ADICT_BACKEND_DEVICE)
		return "none";
	if (!t->kbatch_path) {
		struct adict_batch_op probe = {
			.key = 1,
			.op = ADICT_OP_FIND,
		};

		adict_kbatch(t, &probe, 1);	/* picks and remembers the path */
	}
	return t->kbatch_path == ADICT_KBATCH_URING ? "io_uring" : "ioctl";
}
