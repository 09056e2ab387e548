/* SPDX-License-Identifier: MIT */
/*
 * A start line for racing workers, forked processes or threads, so that a
 * concurrency test provably races (Documentation/testing.rst, "Timeouts"):
 *
 *	struct race *r = race_new(N);		before forking or spawning
 *	worker:	race_wait_go(r);		blocks until race_go()
 *		<first operation>
 *		if (!race_arrive(r)) fail;	until all N made theirs
 *		<the other operations>
 *	parent:	race_go(r);			releases every worker at once
 *		race_free(r);			after the workers are done
 *
 * race_arrive() returns only when every worker has made its first
 * operation, so no worker makes its second before all made their first:
 * every worker's operations interleave with every other's.  It gives up
 * after RACE_MEET_SECS and returns false (the workers did not overlap: the
 * test fails, it does not hang).  The page is MAP_SHARED | MAP_ANONYMOUS,
 * so forked children share it (race_create()/race_attach(): a file, for
 * exec'd programs).  race_mark(r, i) and race_marked(r, i) are
 * flags for one-off events ("the parent has unlinked the table").
 */
#ifndef ADICT_RACE_H
#define ADICT_RACE_H

#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RACE_MEET_SECS	60
#define RACE_MARKS	8

struct race {
	unsigned int workers;
	unsigned int go;
	unsigned int arrived;
	unsigned int mark[RACE_MARKS];
};

static inline struct race *race_new(unsigned int workers)
{
	struct race *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (r == MAP_FAILED)
		return NULL;
	r->workers = workers;
	return r;
}

/*
 * The same page in a file, for workers that share nothing else (exec'd
 * programs): race_create() by the parent, race_attach() by each worker.
 */
static inline struct race *race_map_file(const char *path, int flags)
{
	struct race *r;
	int fd = open(path, flags | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return NULL;
	if ((flags & O_CREAT) && ftruncate(fd, sizeof(*r))) {
		close(fd);
		return NULL;
	}
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return r == MAP_FAILED ? NULL : r;
}

static inline struct race *race_create(const char *path, unsigned int workers)
{
	struct race *r = race_map_file(path, O_CREAT | O_TRUNC);

	if (r)
		r->workers = workers;
	return r;
}

static inline struct race *race_attach(const char *path)
{
	return race_map_file(path, 0);
}

static inline void race_free(struct race *r)
{
	if (r)
		munmap(r, sizeof(*r));
}

static inline double race_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Poll *@p until it is at least @want; false after RACE_MEET_SECS. */
static inline bool race_until(unsigned int *p, unsigned int want)
{
	double end = race_now() + RACE_MEET_SECS;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < want) {
		if (race_now() > end)
			return false;
		usleep(100);
	}
	return true;
}

static inline bool race_wait_go(struct race *r)
{
	return race_until(&r->go, 1);
}

static inline void race_go(struct race *r)
{
	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
}

static inline bool race_arrive(struct race *r)
{
	__atomic_add_fetch(&r->arrived, 1, __ATOMIC_ACQ_REL);
	return race_until(&r->arrived, r->workers);
}

/* Wait (RACE_MEET_SECS at most) until all workers made a first op. */
static inline bool race_all_arrived(struct race *r)
{
	return race_until(&r->arrived, r->workers);
}

static inline void race_mark(struct race *r, unsigned int i)
{
	__atomic_store_n(&r->mark[i], 1, __ATOMIC_RELEASE);
}

static inline bool race_marked(struct race *r, unsigned int i)
{
	return race_until(&r->mark[i], 1);
}

#endif /* ADICT_RACE_H */
