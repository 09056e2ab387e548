// SPDX-License-Identifier: MIT
/*
 * adictctl: opening the table a command names, a device table or a dump
 * file (-F) loaded into a private memfd table of this process, and copying
 * a table's pairs out.
 *
 * -F is the only honest use of the memfd backend from a command line: a
 * memfd table is anonymous and shared only with fork()ed children, so it
 * cannot outlive adictctl.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "adictctl.h"

/* The module's rule: 1..63 bytes of [A-Za-z0-9._-], not starting with '.'. */
int check_name(const struct ctx *c, const char *name)
{
	const char *s;

	if (strlen(name) >= ADICT_NAME_MAX)
		return usage_error(c, "table name too long: at most %d bytes",
				   ADICT_NAME_MAX - 1);
	for (s = name; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			break;
	if (!*name || *s || name[0] == '.')
		return usage_error(c, "bad table name '%s': 1 to 63 letters, digits, '.', '_' or '-', not starting with '.'", name);
	return 0;
}

int restore_memfd(const struct dump *d, __u64 capacity, struct adict **tp)
{
	struct adict_opts o = {
		.sz = sizeof(o),
		.backend = ADICT_BACKEND_MEMFD,
		.key64 = d->h.g.key64,
		.key32 = d->h.g.key32,
		.value_bytes = d->h.g.value_bytes,
	};
	__u64 done;
	int ret;

	ret = adict_create(tp, capacity, &o);
	if (ret)
		return ret;
	ret = dump_store(*tp, d, "load", &done);
	if (ret) {
		adict_close(*tp);
		*tp = NULL;
	}
	return ret;
}

/* Load the dump @src->file into a new private memfd table (for -F). */
static int load_dump_memfd(const struct ctx *c, struct table_src *src,
			   struct adict **tp)
{
	struct dump d;
	int ret;

	ret = dump_read(c, src->file, &d);
	if (ret)
		return ret;
	memcpy(src->saved_name, d.h.name, sizeof(src->saved_name));
	src->saved_mode = d.h.mode;
	src->saved_grant = d.h.grant;
	ret = restore_memfd(&d, d.h.capacity, tp);
	dump_free(&d);
	if (ret) {
		errmsg("%s: cannot load the dump into a memfd table: %s",
		       src->file, strerror(-ret));
		return exit_code(ret);
	}
	return 0;
}

int table_owner(const struct ctx *c, const struct args *a,
		struct table_src *src)
{
	const char *s = arg_str(a, OPT_OWNER);
	unsigned long long v;

	if (!s)
		return 0;
	if (parse_u64(s, &v) || v > 0xfffffffeULL)
		return usage_error(c, "bad --owner '%s': a numeric uid", s);
	src->has_owner = true;
	src->owner = (unsigned int)v;
	return 0;
}

/* A device table, by owner when --owner was given. */
static int attach_src(struct adict **tp, const struct table_src *src,
		      unsigned int flags)
{
	if (src->has_owner)
		return adict_attach_owner(tp, src->name, flags, src->owner);
	return adict_attach(tp, src->name, flags);
}

/*
 * Open the table @src names: a device table attached with @flags
 * (ADICT_ATTACH_*, OPEN_TRY_MEDIATED), or a dump file loaded into a private
 * memfd table.  Return: 0, or an exit code with the message already printed.
 */
int open_table(const struct ctx *c, struct table_src *src,
	       unsigned int flags, struct adict **tp)
{
	int ret;

	if (src->file)
		return load_dump_memfd(c, src, tp);
	ret = check_name(c, src->name);
	if (ret)
		return ret;
	ret = attach_src(tp, src, flags & ADICT_ATTACH_FLAGS);
	if (ret == -EACCES && (flags & OPEN_TRY_MEDIATED))
		ret = attach_src(tp, src, ADICT_ATTACH_MEDIATED);
	if (ret == -EPERM && src->has_owner) {
		errmsg("table '%s' is not owned by uid %u: someone else holds that name; do not use it",
		       src->name, src->owner);
		return exit_code(ret);
	}
	return ret ? die_table(c, ret, src->name) : 0;
}

int table_geom(struct adict *t, struct geom *g)
{
	struct adict_table_info info;
	int ret;

	ret = adict_info(t, &info);
	if (!ret)
		geom_of_info(&info, g);
	return ret;
}

/*
 * Copy the table's pairs, sorted by key, into @out (pairs_free() it).
 * Each value is read atomically; the set as a whole is not a snapshot if
 * writers run meanwhile.
 */
int collect_pairs(struct adict *t, const char *what, struct pairs *out)
{
	__u64 cursor = 0, key[ADICT_KEY_WORDS_MAX], val;
	struct adict_table_info info;
	struct progress pr;
	struct geom g;
	__u64 i, j;
	int ret;

	ret = adict_info(t, &info);
	if (ret)
		return ret;
	geom_of_info(&info, &g);
	pairs_init(out, &g);
	progress_start(&pr, what, info.used);
	while ((ret = adict_tuple_iter_next(t, &cursor, key, &val)) == 1) {
		ret = pairs_push(out, key, g.value_bytes ? val : 0);
		if (ret)
			break;
		progress_step(&pr, out->n);
	}
	progress_end(&pr);
	if (ret < 0) {
		pairs_free(out);
		return ret;
	}
	pairs_sort(out);
	/* Only a process scribbling on the table can repeat a key. */
	for (i = j = 0; i < out->n; i++) {
		if (j && !key_cmp(pair_key(out, i), pair_key(out, j - 1),
				  out->stride - 1))
			continue;
		if (i != j)
			memcpy(pair_key(out, j), pair_key(out, i),
			       out->stride * sizeof(__u64));
		j++;
	}
	out->n = j;
	return 0;
}
