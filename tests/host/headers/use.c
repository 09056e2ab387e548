// SPDX-License-Identifier: MIT
/*
 * Uses the public headers the way a program does: the same file is built
 * as C99, C11 (-pedantic) and C++ (g++ and clang++) by
 * tests/host/headers/check.sh, which fails on any warning, and linked
 * against libadict; the install and package tests build it against the
 * installed headers and pkg-config file.  Prints "memfd 5".  Valid C and C++ both, so no designated initializers
 * or C-only casts here.
 */
#include <adict.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct adict_opts o;
	struct adict *t;
	__u64 v = 0;
	int ret;

	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.backend = ADICT_BACKEND_MEMFD;
	ret = adict_create(&t, 100, &o);
	if (ret)
		return 1;
	if (adict_add(t, 7, 5, NULL) || adict_load(t, 7, &v) || v != 5) {
		adict_close(t);
		return 1;
	}
	printf("%s %llu\n", adict_backend_name(adict_backend(t)),
	       (unsigned long long)v);
	adict_close(t);
	return 0;
}
