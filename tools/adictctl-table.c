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
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD };
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

/*
 * Copy the table's pairs, sorted by key.  Each value is read atomically;
 * the set as a whole is not a snapshot if writers run meanwhile.
 */
int collect_pairs(struct adict *t, const char *what, struct kv **out,
		  __u64 *count)
{
	struct adict_table_info info;
	struct kv *p = NULL, *np;
	__u64 cursor = 0, n = 0, cap = 0, k, val;
	struct progress pr;
	size_t i, j;

	progress_start(&pr, what, adict_info(t, &info) ? 0 : info.used);
	while (adict_iter_next(t, &cursor, &k, &val) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			np = realloc(p, cap * sizeof(*p));
			if (!np) {
				free(p);
				progress_end(&pr);
				return -ENOMEM;
			}
			p = np;
		}
		p[n].key = k;
		p[n++].value = val;
		progress_step(&pr, n);
	}
	progress_end(&pr);
	if (n)	/* qsort(NULL, 0, ...) is undefined */
		qsort(p, n, sizeof(*p), kv_cmp);
	/* Only a process scribbling on the table can repeat a key. */
	for (i = j = 0; i < n; i++)
		if (!j || p[i].key != p[j - 1].key)
			p[j++] = p[i];
	*out = p;
	*count = j;
	return 0;
}
