/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP helpers for the host tests: each TEST() is one TAP line; a
 * failed CHECK prints the expression, the values and the line, and marks
 * the current test failed.  Exit status: 0 all passed, 1 any failed.
 */
#ifndef ADICT_TESTUTIL_H
#define ADICT_TESTUTIL_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

static int tu_failed_now, tu_failed, tu_count;
static const char *tu_skip_now;

/* Skip the current test (TAP "# SKIP why"); a CHECK that failed still fails. */
#define SKIP_TEST(why)	do { tu_skip_now = (why); return; } while (0)

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: CHECK(%s) failed\n",		\
			       __FILE__, __LINE__, #cond);		\
			tu_failed_now = 1;				\
		}							\
	} while (0)

#define CHECK_EQ(want, got)						\
	do {								\
		unsigned long long w_ = (unsigned long long)(want);	\
		unsigned long long g_ = (unsigned long long)(got);	\
		if (w_ != g_) {						\
			printf("#   %s:%d: %s == %s: want %llu (%lld), got %llu (%lld)\n", \
			       __FILE__, __LINE__, #want, #got, w_,	\
			       (long long)w_, g_, (long long)g_);	\
			tu_failed_now = 1;				\
		}							\
	} while (0)

static inline void tu_run(const char *name, void (*fn)(void))
{
	tu_failed_now = 0;
	tu_skip_now = NULL;
	fn();
	tu_count++;
	if (tu_failed_now)
		tu_failed++;
	printf("%s %d - %s%s%s\n", tu_failed_now ? "not ok" : "ok", tu_count, name,
	       tu_skip_now && !tu_failed_now ? " # SKIP " : "",
	       tu_skip_now && !tu_failed_now ? tu_skip_now : "");
	fflush(stdout);
}

#define RUN(fn) tu_run(#fn, fn)

static inline int tu_done(void)
{
	printf("1..%d\n", tu_count);
	return tu_failed ? 1 : 0;
}

/* xorshift64*: deterministic per-seed key streams. */
static inline __u64 tu_rand(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

#endif
