// SPDX-License-Identifier: MIT
/*
 * adict-worker: a separate program the device tests exec, so that table
 * users share nothing but the table they open by name (no inherited fd, no
 * inherited mapping), across processes and across containers.
 *
 *   adict-worker add NAME ITERS NKEYS map|ioctl
 *       attach NAME read-write and add 1 to keys 1..NKEYS round-robin,
 *       ITERS times in all, through the mapping or ADICT_IOC_OP.  With
 *       $ADICT_RACE naming a race.h file, start at its go and meet the
 *       other workers after the first add (exit 3 when they never meet).
 *   adict-worker probe NAME rw|ro
 *       try to attach; exit status is the errno (0: attached).
 *   adict-worker create NAME CAPACITY MODE
 *       create a named table (mode in octal) and exit, leaving it behind.
 *   adict-worker unlink NAME
 *       unlink; exit status is the errno (0: unlinked).
 *
 * The device is $ADICT_DEV (default /dev/atomic_dict).  Exit status 0 means
 * success; failures print one line to stderr.
 */
#include "adict_test.h"
#include "race.h"

static int die(const char *what)
{
	fprintf(stderr, "adict-worker: %s: %s\n", what, strerror(errno));
	return 100;
}

/* With $ADICT_RACE: after the first add, meet the other workers. */
static struct race *race;

static bool met(__u64 i)
{
	if (i || !race || race_arrive(race))
		return true;
	fprintf(stderr, "adict-worker: the other workers never made their first add\n");
	return false;
}

static int do_add(const char *name, __u64 iters, __u64 nkeys, bool map)
{
	const char *rpath = getenv("ADICT_RACE");
	struct mtable m;
	__u64 i, r;
	int fd, ret;

	fd = table_attach(name, O_RDWR, 0);
	if (fd < 0)
		return die("attach");
	if (rpath) {
		race = race_attach(rpath);
		if (!race)
			return die(rpath);
		if (!race_wait_go(race))
			return 3;
	}
	if (map) {
		ret = mtable_map(&m, fd, PROT_READ | PROT_WRITE);
		if (ret) {
			errno = -ret;
			return die("map");
		}
		close(fd);	/* the mapping alone keeps the table */
		for (i = 0; i < iters; i++) {
			ret = mop(&m, ADICT_OP_ADD, 1 + i % nkeys, 1, 0, &r);
			if (ret) {
				errno = -ret;
				return die("add (mapping)");
			}
			if (!met(i))
				return 3;
		}
		mtable_unmap(&m);
	} else {
		for (i = 0; i < iters; i++) {
			if (ioc_op(fd, ADICT_OP_ADD, 1 + i % nkeys, 1, 0, &r))
				return die("add (ioctl)");
			if (!met(i))
				return 3;
		}
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc == 6 && !strcmp(argv[1], "add"))
		return do_add(argv[2], strtoull(argv[3], NULL, 0),
			      strtoull(argv[4], NULL, 0),
			      !strcmp(argv[5], "map"));
	if (argc == 4 && !strcmp(argv[1], "probe")) {
		bool rw = !strcmp(argv[3], "rw");

		fd = table_attach(argv[2], rw ? O_RDWR : O_RDONLY,
				  rw ? 0 : ADICT_ATTACH_RDONLY);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		return errno;
	}
	if (argc == 3 && !strcmp(argv[1], "unlink")) {
		fd = dev_open(O_RDONLY);
		if (fd < 0)
			return die("open");
		if (ioc_unlink(fd, argv[2]))
			return errno;
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "create")) {
		fd = table_new(strtoull(argv[3], NULL, 0), argv[2],
			       strtoul(argv[4], NULL, 8));
		if (fd < 0)
			return die("create");
		close(fd);
		return 0;
	}
	fprintf(stderr, "usage: adict-worker add NAME ITERS NKEYS map|ioctl\n"
			"       adict-worker probe NAME rw|ro\n"
			"       adict-worker create NAME CAPACITY MODE\n"
			"       adict-worker unlink NAME\n");
	return 2;
}
