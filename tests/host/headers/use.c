// SPDX-License-Identifier: MIT
/*
 * Uses the public headers the way a program does: the same file is built
 * as C99, C11 (-pedantic) and C++ (g++ and clang++) by
 * tests/host/headers/check.sh, which fails on any warning, and linked
 * against libadict; the install and package tests build it against the
 * installed headers and pkg-config file.  Prints "memfd 5", then "tuple 9"
 * from a (u64, u32) -> u32 table through the adict_tuple_*() calls.  Valid
 * C and C++ both, so no designated initializers or C-only casts here.
 */
#include <adict.h>
#include <stdio.h>
#include <string.h>

static int tuple(void)
{
	struct adict_opts o;
	struct adict *t;
	__u64 key[2] = { 7, 9 };
	__u64 v = 0;
	int ret;

	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.backend = ADICT_BACKEND_MEMFD;
	o.key64 = 1;
	o.key32 = 1;
	o.value_bytes = 4;
	ret = adict_create(&t, 100, &o);
	if (ret)
		return 1;
	ret = adict_key_words(t) != 2 || adict_tuple_add(t, key, 4, NULL) ||
	      adict_tuple_add(t, key, 5, NULL) || adict_tuple_find(t, key, &v);
	adict_close(t);
	if (ret)
		return 1;
	printf("tuple %llu\n", (unsigned long long)v);
	return 0;
}

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
	return tuple();
}
