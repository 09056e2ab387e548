/* SPDX-License-Identifier: MIT */
/*
 * The kselftest harness (kselftest_harness.h from the cached linux-source
 * tree, see Makefile) with one change: a case that does not name its own
 * limit (TEST_F_TIMEOUT) gets 300 s instead of the harness's 30 s.  Under
 * TCG with KASAN and lockdep a slow case is not a failed one; only a hang
 * should reach the limit (Documentation/testing.rst, "Timeouts").
 */
#ifndef ADICT_HARNESS_H
#define ADICT_HARNESS_H

#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#endif
