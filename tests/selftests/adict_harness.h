/* SPDX-License-Identifier: MIT */
/*
 * The kselftest harness (kselftest_harness.h from the cached linux-source
 * tree, see Makefile) with two additions: a case that does not name its own
 * limit (TEST_F_TIMEOUT) gets 300 s instead of the harness's 30 s, and
 * RETURN_IF_SKIPPED().  Under
 * TCG with KASAN and lockdep a slow case is not a failed one; only a hang
 * should reach the limit (Documentation/testing.rst, "Timeouts").
 */
#ifndef ADICT_HARNESS_H
#define ADICT_HARNESS_H

#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

/*
 * 6.1's harness runs a test's body even after its FIXTURE_SETUP called
 * SKIP(), on a half-set-up fixture, and reports the test as skipped
 * whatever the body then did.  Every TEST_F of a fixture whose setup can
 * skip starts with this (after its declarations).
 */
#define RETURN_IF_SKIPPED()			\
	do {					\
		if (_metadata->skip)		\
			return;			\
	} while (0)

#endif
