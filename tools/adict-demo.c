// SPDX-License-Identifier: MIT
/*
 * adict-demo: the original atomic_dict README's workload, in C.
 *
 *   d = AtomicDict(1024 * 1024)
 *   16 workers, each 32K times: idx = d[1].add(1); d[100 + idx] = id
 *
 * on an anonymous table, then verifies every total and prints the backend
 * and the throughput.  Exit status 0 only if every check holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "adict.h"

#define WORKERS	16
#define ITERS	(32 * 1024)
#define POOL	8	/* the original ran them on Pool(8) */

static int worker(struct adict *t, int id)
{
	__u64 idx;
	int i;

	for (i = 0; i < ITERS; i++) {
		if (adict_add(t, 1, 1, &idx) || adict_store(t, 100 + idx, id))
			return 1;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	__u64 total = (__u64)WORKERS * ITERS, v = 0, d1 = 0, i, per[WORKERS] = { 0 };
	struct adict_table_info info;
	int w, running = 0, status, bad = 0, ret;
	struct adict *t;
	double t0, el;

	ret = adict_create(&t, 1024 * 1024, NULL);
	if (ret) {
		fprintf(stderr, "adict-demo: cannot create the table: %s\n", strerror(-ret));
		return 1;
	}
	adict_info(t, &info);
	printf("table: capacity %llu, %llu bytes, backend %s\n",
	       (unsigned long long)info.capacity, (unsigned long long)info.bytes,
	       adict_backend_name(info.backend));

	t0 = now();
	for (w = 0; w < WORKERS; w++) {
		if (running == POOL) {
			wait(&status);
			bad |= !WIFEXITED(status) || WEXITSTATUS(status);
			running--;
		}
		if (fork() == 0)
			_exit(worker(t, w));
		running++;
	}
	while (running--) {
		wait(&status);
		bad |= !WIFEXITED(status) || WEXITSTATUS(status);
	}
	el = now() - t0;

	/* Verify: d[1] == total; keys 100 .. 100+total-1 each hold a worker id. */
	if (adict_find(t, 1, &d1) || d1 != total)
		bad = 1;
	for (i = 0; i < total; i++) {
		if (adict_find(t, 100 + i, &v) || v >= WORKERS) {
			bad = 1;
			break;
		}
		per[v]++;
	}
	for (w = 0; w < WORKERS; w++)
		bad |= per[w] != ITERS;
	adict_info(t, &info);
	bad |= info.used != total + 1;
	printf("d[1] = %llu (want %llu); keys 100..%llu present, %d workers x %d each; used %llu\n",
	       (unsigned long long)d1, (unsigned long long)total,
	       (unsigned long long)(100 + total - 1), WORKERS, ITERS,
	       (unsigned long long)info.used);
	printf("%llu operations in %.3f s: %.1f M ops/s (%d processes, %d at a time)\n",
	       (unsigned long long)(2 * total), el, 2 * total / el / 1e6, WORKERS, POOL);
	printf("%s\n", bad ? "FAIL" : "OK: every total verified");
	adict_close(t);
	return bad;
}
