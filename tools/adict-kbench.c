// SPDX-License-Identifier: MIT
/*
 * adict-kbench: the kernel-side paths of /dev/atomic_dict against the mmap
 * path, in one run: random adds on existing keys of one device table by
 *
 *   mmap      adict_add() in userspace (no system call)
 *   ioctl     one ADICT_IOC_OP per operation
 *   uring-N   io_uring batches of N entries (one submission each)
 *   uring-64x4  batches of 64, four in flight (submit/reap)
 *
 * and the ratios of each to one ioctl per operation; then the same mmap adds
 * on a 256 MiB table with the module's huge pages against one without
 * (the huge_pages parameter, Documentation/device.rst "Huge pages"),
 * alternated, for what the VM shows of the TLB effect.  Needs the module
 * (run in the VM by tests/vm); prints "skipped: ..." and exits 0 without it,
 * or without io_uring for the uring rows.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adict.h"
#include "bench-util.h"

#define CAPACITY	100000
#define BIG_CAPACITY	12000000ULL	/* about 256 MiB */
#define HUGE_PARAM	"/sys/module/atomic_dict/parameters/huge_pages"

static struct {
	long ops;
	int json;
	int tap;	/* -t: the table as TAP comments, then one TAP result */
} cfg = { .ops = 200000 };

/* Human lines; "# "-prefixed in TAP mode. */
#define say(...)							\
	do {								\
		if (cfg.tap)						\
			fputs("# ", stdout);				\
		printf(__VA_ARGS__);					\
	} while (0)

static int fill_n(struct adict *t, __u64 n)
{
	__u64 i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = adict_insert(t, bench_key(i));
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int fill(struct adict *t)
{
	return fill_n(t, CAPACITY);
}

static double run_mmap(struct adict *t, long ops)
{
	__u64 seed = 1;
	double t0 = bench_now_ns();
	long i;

	for (i = 0; i < ops; i++)
		adict_add(t, bench_key(bench_pick(&seed, CAPACITY)), 1, NULL);
	return (bench_now_ns() - t0) / ops;
}

static double run_ioctl(struct adict *t, long ops)
{
	__u64 seed = 2, r;
	double t0 = bench_now_ns();
	long i;

	for (i = 0; i < ops; i++)
		if (adict_kernel_op(t, ADICT_OP_ADD,
				    bench_key(bench_pick(&seed, CAPACITY)), 1, 0, &r))
			return -1;
	return (bench_now_ns() - t0) / ops;
}

static double run_uring(struct adict_uring *u, long ops, unsigned int batch)
{
	struct adict_batch_op *b = calloc(batch, sizeof(*b));
	long i, n = (ops + batch - 1) / batch * batch;	/* whole batches */
	__u64 seed = 3;
	unsigned int j;
	double t0;

	if (!b)
		return -1;
	t0 = bench_now_ns();
	for (i = 0; i < n; i += batch) {
		for (j = 0; j < batch; j++) {
			b[j].key = bench_key(bench_pick(&seed, CAPACITY));
			b[j].op = ADICT_OP_ADD;
			b[j].arg1 = 1;
		}
		if (adict_uring_batch(u, b, batch) != (int)batch) {
			free(b);
			return -1;
		}
	}
	t0 = (bench_now_ns() - t0) / n;
	free(b);
	return t0;
}

/*
 * Batches of 64 with @depth of them in flight: adict_uring_submit() and
 * adict_uring_reap().  Checks every completion: each entry must succeed.
 */
static double run_uring_async(struct adict_uring *u, long ops, unsigned int depth)
{
	enum { B = 64 };
	struct adict_batch_op *b = calloc((size_t)depth * B, sizeof(*b));
	long n = (ops + B - 1) / B * B, sent = 0, done = 0;
	unsigned int j, slot;
	__u64 seed = 4, tag;
	double t0;
	int res;

	if (!b)
		return -1;
	t0 = bench_now_ns();
	while (done < n) {
		while (sent < n && sent - done < (long)depth * B) {
			slot = (unsigned int)(sent / B % depth);
			for (j = 0; j < B; j++) {
				b[slot * B + j].key = bench_key(bench_pick(&seed, CAPACITY));
				b[slot * B + j].op = ADICT_OP_ADD;
				b[slot * B + j].arg1 = 1;
			}
			if (adict_uring_submit(u, &b[slot * B], B, slot))
				goto fail;
			sent += B;
		}
		if (adict_uring_reap(u, &tag, &res, 1) || res != B || tag >= depth)
			goto fail;
		done += B;
	}
	free(b);
	return (bench_now_ns() - t0) / n;
fail:
	free(b);
	return -1;
}

static void row(const char *name, double ns, double ioctl_ns)
{
	if (cfg.json)
		printf("{\"case\":\"%s\",\"ns_per_op\":%.2f,\"ops_per_s\":%.0f,"
		       "\"vs_ioctl\":%.2f}\n", name, ns, 1e9 / ns, ioctl_ns / ns);
	else
		say("%-10s %10.1f %14.0f %10.2fx\n", name, ns, 1e9 / ns,
		    ioctl_ns / ns);
}

static int write_param(const char *val)
{
	FILE *f = fopen(HUGE_PARAM, "we");
	int ok;

	if (!f)
		return -1;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/*
 * A BIG_CAPACITY device table created with huge_pages=@val, the
 * parameter's value @old put back.  *@tp is NULL unless it returns 0.
 */
static int big_table(struct adict **tp, const char *val, const char *old)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_DEVICE };
	int ret;

	*tp = NULL;
	if (write_param(val))
		return -errno;
	ret = adict_create(tp, BIG_CAPACITY, &o);
	write_param(old);
	if (ret) {
		*tp = NULL;
		return ret;
	}
	ret = fill_n(*tp, CAPACITY);
	if (ret) {
		adict_close(*tp);
		*tp = NULL;
	}
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Random adds on CAPACITY keys spread over a 256 MiB table (nearly every
 * 4 KiB page of it holds one), on huge pages and on 4 KiB pages, three
 * rounds alternated.  Before 6.12 both are on 4 KiB pages: a control.  A
 * caller that cannot set the parameter, or a VM without the memory, gets a
 * "skipped" line.
 */
static void pages_rows(void)
{
	struct adict *huge = NULL, *small = NULL;
	double h[3], b[3], r[3];
	char old[8] = "";
	FILE *f;
	int i, ret;

	f = fopen(HUGE_PARAM, "re");
	if (f) {
		if (!fgets(old, sizeof(old), f))
			old[0] = 0;
		fclose(f);
	}
	old[strcspn(old, "\n")] = 0;
	if (!old[0] || access(HUGE_PARAM, W_OK)) {
		say("skipped: huge pages: %s is not writable here\n", HUGE_PARAM);
		return;
	}
	ret = big_table(&huge, "Y", old);
	if (!ret)
		ret = big_table(&small, "N", old);
	if (ret) {
		say("skipped: huge pages: a 256 MiB table: %s\n", strerror(-ret));
		if (huge)
			adict_close(huge);
		return;
	}
	for (i = 0; i < 3; i++) {
		h[i] = run_mmap(huge, cfg.ops * 5);
		b[i] = run_mmap(small, cfg.ops * 5);
		r[i] = b[i] / h[i];
	}
	qsort(h, 3, sizeof(h[0]), cmp_double);
	qsort(b, 3, sizeof(b[0]), cmp_double);
	qsort(r, 3, sizeof(r[0]), cmp_double);
	if (cfg.json) {
		printf("{\"case\":\"mmap-256M-pages-%lu\",\"ns_per_op\":%.2f}\n",
		       adict_page_bytes(huge), h[1]);
		printf("{\"case\":\"mmap-256M-pages-%lu\",\"ns_per_op\":%.2f}\n",
		       adict_page_bytes(small), b[1]);
	} else {
		say("256 MiB table, %d keys, median of 3 alternated rounds of %ld adds:\n",
		    CAPACITY, cfg.ops * 5);
		say("%-10s %10.1f ns/op (pages of %lu KiB)\n", "huge_pages=Y", h[1],
		    adict_page_bytes(huge) >> 10);
		say("%-10s %10.1f ns/op (pages of %lu KiB)\n", "huge_pages=N", b[1],
		    adict_page_bytes(small) >> 10);
		say("4 KiB / huge pages, per round: %.2fx .. %.2fx, median %.2fx (TCG: not a hardware TLB)\n",
		    r[0], r[2], r[1]);
	}
	adict_close(huge);
	adict_close(small);
}

int main(int argc, char **argv)
{
	static const unsigned int batches[] = { 1, 8, 64, 512 };
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_DEVICE };
	struct adict_uring *u = NULL;
	double ioctl_ns, mmap_ns, b64 = 0;
	struct adict *t;
	unsigned int k;
	char name[32];
	int c, ret;

	while ((c = getopt(argc, argv, "jto:")) != -1) {
		switch (c) {
		case 'j': cfg.json = 1; break;
		case 't': cfg.tap = 1; break;
		case 'o': cfg.ops = atol(optarg); break;
		default:
			fprintf(stderr, "usage: adict-kbench [-j|-t] [-o OPS]\n");
			return 2;
		}
	}
	if (cfg.ops < 512) {
		fprintf(stderr, "adict-kbench: -o must be at least 512\n");
		return 2;
	}
	if (cfg.tap)
		printf("TAP version 13\n1..1\n");
	ret = adict_create(&t, CAPACITY, &o);
	if (ret == -ENODEV) {
		if (cfg.tap)
			printf("ok 1 kbench # SKIP /dev/atomic_dict is absent\n");
		else
			printf("skipped: /dev/atomic_dict is absent (module not loaded)\n");
		return 0;
	}
	if (!ret)
		ret = fill(t);
	if (ret) {
		fprintf(stderr, "adict-kbench: device table: %s\n", strerror(-ret));
		if (cfg.tap)
			printf("not ok 1 kbench\n");
		return 1;
	}
	ioctl_ns = run_ioctl(t, cfg.ops);
	mmap_ns = run_mmap(t, cfg.ops * 10);
	if (ioctl_ns < 0 || mmap_ns < 0) {
		fprintf(stderr, "adict-kbench: an operation failed\n");
		if (cfg.tap)
			printf("not ok 1 kbench\n");
		return 1;
	}
	if (!cfg.json) {
		say("adict-kbench: random adds on %d existing keys of a device table, %ld ops per row\n",
		    CAPACITY, cfg.ops);
		say("%-10s %10s %14s %11s\n", "path", "ns/op", "ops/s", "vs ioctl");
	}
	row("ioctl", ioctl_ns, ioctl_ns);
	ret = adict_uring_init(t, 8, &u);
	if (ret && cfg.tap) {
		/* The test is that every path ran: a missing one fails it. */
		fprintf(stderr, "adict-kbench: io_uring batches: %s\n", strerror(-ret));
		printf("not ok 1 kbench\n");
		adict_close(t);
		return 1;
	} else if (ret) {
		say("skipped: io_uring batches: %s\n", strerror(-ret));
	} else {
		for (k = 0; k < sizeof(batches) / sizeof(batches[0]); k++) {
			double ns = run_uring(u, cfg.ops, batches[k]);

			if (ns < 0) {
				fprintf(stderr, "adict-kbench: uring batch failed\n");
				if (cfg.tap)
					printf("not ok 1 kbench\n");
				return 1;
			}
			snprintf(name, sizeof(name), "uring-%u", batches[k]);
			row(name, ns, ioctl_ns);
			if (batches[k] == 64)
				b64 = ns;
		}
		{
			double ns = run_uring_async(u, cfg.ops, 4);

			if (ns < 0) {
				fprintf(stderr, "adict-kbench: submit/reap failed\n");
				if (cfg.tap)
					printf("not ok 1 kbench\n");
				return 1;
			}
			row("uring-64x4", ns, ioctl_ns);	/* 4 in flight */
		}
		adict_uring_exit(u);
	}
	row("mmap", mmap_ns, ioctl_ns);
	if (b64 > 0 && !cfg.json)
		say("target: uring batch of 64 >= 10x one ioctl per op: %.1fx %s\n",
		    ioctl_ns / b64, ioctl_ns / b64 >= 10 ? "PASS" : "MISS");
	if (!cfg.json)
		say("kernel batch path of libadict: %s\n", adict_kbatch_path(t));
	adict_close(t);
	pages_rows();
	/* A figure is reported, not judged: the test is that every path ran. */
	if (cfg.tap)
		printf("ok 1 kbench\n");
	return 0;
}
