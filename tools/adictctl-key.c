// SPDX-License-Identifier: MIT
/*
 * adictctl: the commands on one table or one key: info, attach, create,
 * unlink, get, set, add, cas.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <grp.h>

#include "adictctl.h"

/* ---- grants: which operations a mediated attacher may run --------------- */

static const char *const op_names[ADICT_OP_COUNT] = {
	[ADICT_OP_LOAD] = "load",	[ADICT_OP_STORE] = "store",
	[ADICT_OP_SWAP] = "swap",	[ADICT_OP_ADD] = "add",
	[ADICT_OP_SUB] = "sub",		[ADICT_OP_AND] = "and",
	[ADICT_OP_OR] = "or",		[ADICT_OP_XOR] = "xor",
	[ADICT_OP_CAS] = "cas",		[ADICT_OP_INSERT] = "insert",
	[ADICT_OP_FIND] = "find",
};

static int grant_word(const char *w, size_t len, unsigned int *mask)
{
	unsigned int op;

	if (len == 3 && !strncmp(w, "all", 3)) {
		*mask |= ADICT_GRANT_ALL;
		return 0;
	}
	if (len == 4 && !strncmp(w, "read", 4)) {
		*mask |= ADICT_GRANT_READ;
		return 0;
	}
	for (op = 0; op < ADICT_OP_COUNT; op++) {
		if (strlen(op_names[op]) == len && !strncmp(w, op_names[op], len)) {
			*mask |= ADICT_OP_BIT(op);
			return 0;
		}
	}
	return -EINVAL;
}

/* "load,find,add", "read", "all" or a number. */
static int parse_grant(const char *s, unsigned int *grant)
{
	unsigned long long v;
	const char *end;

	if (!parse_u64(s, &v)) {
		if (v & ~(unsigned long long)ADICT_GRANT_ALL)
			return -EINVAL;
		*grant = (unsigned int)v;
		return 0;
	}
	*grant = 0;
	for (; *s; s = *end ? end + 1 : end) {
		end = strchrnul(s, ',');
		if (grant_word(s, (size_t)(end - s), grant))
			return -EINVAL;
	}
	return *grant ? 0 : -EINVAL;
}

static void format_grant(unsigned int grant, char *buf, size_t len)
{
	unsigned int op;
	size_t n = 0;

	if (grant == ADICT_GRANT_ALL) {
		snprintf(buf, len, "all");
		return;
	}
	buf[0] = '\0';
	for (op = 0; op < ADICT_OP_COUNT; op++)
		if (grant & ADICT_OP_BIT(op))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
					      "%s%s", n ? "," : "", op_names[op]);
}

/* ---- info ----------------------------------------------------------------- */

static void print_info_json(const struct adict_table_info *in,
			    const char *grant)
{
	FILE *f = stdout;

	fputc('{', f);
	json_kv_str(f, "name", in->name, false);
	json_kv_str(f, "backend", adict_backend_name(in->backend), true);
	json_kv_str(f, "access", access_name(in->access), true);
	json_kv_u64(f, "id", in->id, true);
	json_kv_u64(f, "capacity", in->capacity, true);
	json_kv_u64(f, "used", in->used, true);
	json_kv_u64(f, "nbuckets", in->nbuckets, true);
	json_kv_u64(f, "bytes", in->bytes, true);
	if (in->backend == ADICT_BACKEND_DEVICE) {
		json_kv_u64(f, "uid", in->uid, true);
		json_kv_u64(f, "gid", in->gid, true);
		json_kv_mode(f, in->mode, true);
		json_kv_str(f, "grant", grant, true);
		json_kv_u64(f, "users", in->users, true);
	}
	fputs("}\n", f);
}

static const char *user_name(unsigned int uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : "?";
}

static const char *group_name(unsigned int gid)
{
	struct group *gr = getgrgid(gid);

	return gr ? gr->gr_name : "?";
}

static void print_info(const struct ctx *c, const struct adict_table_info *in)
{
	double pct = in->capacity ? 100.0 * (double)in->used /
				    (double)in->capacity : 0;
	char grant[128];

	format_grant(in->grant, grant, sizeof(grant));
	if (c->json) {
		print_info_json(in, grant);
		return;
	}
	printf("name:      %s\n", in->name[0] ? in->name : "(anonymous)");
	printf("backend:   %s\n", adict_backend_name(in->backend));
	printf("access:    %s\n", access_name(in->access));
	if (in->backend == ADICT_BACKEND_DEVICE)
		printf("id:        %llu\n", (unsigned long long)in->id);
	printf("capacity:  %llu keys\n", (unsigned long long)in->capacity);
	printf("used:      %llu keys (%.1f%%)\n",
	       (unsigned long long)in->used, pct);
	printf("memory:    %llu bytes (%llu buckets of %d bytes + header)\n",
	       (unsigned long long)in->bytes, (unsigned long long)in->nbuckets,
	       ADICT_BUCKET_BYTES);
	if (in->backend != ADICT_BACKEND_DEVICE)
		return;
	printf("owner:     %u (%s), group %u (%s)\n", in->uid,
	       user_name(in->uid), in->gid, group_name(in->gid));
	printf("mode:      0%03o\n", in->mode);
	printf("grant:     %s\n", grant);
	printf("users:     %u\n", in->users);
}

/* Show @t; a -F table shows the name its dump saved. */
static int show_table(const struct ctx *c, struct adict *t,
		      const struct table_src *src)
{
	struct adict_table_info info;
	int ret;

	ret = adict_info(t, &info);
	if (ret)
		return die_table(c, ret, src_name(src));
	if (src->file)
		snprintf(info.name, sizeof(info.name), "%s", src->saved_name);
	print_info(c, &info);
	return EXIT_OK;
}

/* info NAME | info -F FILE */
int cmd_info(struct ctx *c, const struct args *a)
{
	struct table_src src = { .file = arg_str(a, OPT_FILE) };
	struct adict *t;
	int ret;

	if (a->npos != (src.file ? 0 : 1))
		return usage_error(c, "give a table NAME, or -F FILE");
	src.name = a->npos ? a->pos[0] : NULL;
	ret = table_owner(c, a, &src);
	if (ret)
		return ret;
	ret = open_table(c, &src, ADICT_ATTACH_RDONLY, &t);
	if (ret)
		return ret;
	ret = show_table(c, t, &src);
	adict_close(t);
	return ret;
}

/* attach NAME [--rdonly | --mediated]: check the access, show the table. */
int cmd_attach(struct ctx *c, const struct args *a)
{
	struct table_src src = { 0 };
	unsigned int flags = 0;
	struct adict *t;
	int ret;

	if (arg_flag(a, 'r'))
		flags |= ADICT_ATTACH_RDONLY;
	if (arg_flag(a, 'm'))
		flags |= ADICT_ATTACH_MEDIATED;
	if (a->npos != 1)
		return usage_error(c, "give a table NAME");
	if (flags == (ADICT_ATTACH_RDONLY | ADICT_ATTACH_MEDIATED))
		return usage_error(c, "--rdonly and --mediated exclude each other");
	src.name = a->pos[0];
	ret = table_owner(c, a, &src);
	if (ret)
		return ret;
	ret = open_table(c, &src, flags, &t);
	if (ret)
		return ret;
	ret = show_table(c, t, &src);
	adict_close(t);
	return ret;
}

/* ---- create / unlink ------------------------------------------------------ */

static int memfd_refused(const struct ctx *c)
{
	errmsg("a memfd table is anonymous and lives only as long as the process that created it, so adictctl cannot keep one for you");
	errmsg("create memfd tables from your program with adict_create(); to check a dump without the device use: adictctl load --backend memfd FILE");
	return EXIT_USAGE;
}

/* create NAME CAPACITY [--mode OCTAL] [--grant OPS] [--backend device] */
int cmd_create(struct ctx *c, const struct args *a)
{
	struct adict_opts opts = { .sz = sizeof(opts),
				   .backend = ADICT_BACKEND_DEVICE };
	const char *mode = arg_str(a, 'm'), *grant = arg_str(a, 'g');
	const char *backend = arg_str(a, 'b');
	struct table_src src = { 0 };
	unsigned long long cap;
	struct adict *t;
	int ret;

	if (mode && parse_mode(mode, &opts.mode))
		return usage_error(c, "bad --mode '%s': octal permission bits, 0 to 0777", mode);
	if (grant && parse_grant(grant, &opts.grant))
		return usage_error(c, "bad --grant '%s': a list such as load,find,add, or read, or all", grant);
	if (backend && !strcmp(backend, "memfd"))
		return memfd_refused(c);
	if (backend && strcmp(backend, "device"))
		return usage_error(c, "bad --backend '%s': device or memfd", backend);
	if (a->npos != 2)
		return usage_error(c, "give a table NAME and a CAPACITY");
	ret = check_name(c, a->pos[0]);
	if (ret)
		return ret;
	ret = parse_u64(a->pos[1], &cap);
	if (ret == -ERANGE || (!ret && cap > ADICT_CAPACITY_MAX))
		return usage_error(c, "capacity '%s' out of range: 1 to 2^40 keys", a->pos[1]);
	if (ret || !cap)
		return usage_error(c, "bad capacity '%s': a number of keys, 1 to 2^40", a->pos[1]);
	opts.name = src.name = a->pos[0];
	ret = adict_create(&t, cap, &opts);
	if (ret)
		return die_table(c, ret, src.name);
	ret = show_table(c, t, &src);
	adict_close(t);
	return ret;
}

/* unlink NAME */
int cmd_unlink(struct ctx *c, const struct args *a)
{
	int ret;

	if (a->npos != 1)
		return usage_error(c, "give a table NAME");
	ret = check_name(c, a->pos[0]);
	if (ret)
		return ret;
	ret = adict_unlink(a->pos[0]);
	if (ret)
		return die_table(c, ret, a->pos[0]);
	if (c->json) {
		fputc('{', stdout);
		json_kv_str(stdout, "unlinked", a->pos[0], false);
		fputs("}\n", stdout);
	}
	return EXIT_OK;
}

/* ---- get / set / add / cas ------------------------------------------------ */

/*
 * The table of a key command: NAME (the first positional), or -F FILE
 * where @file_ok.  *first is the index of the first number after it.
 * Return: 0, or an exit code.
 */
static int key_table(const struct ctx *c, const struct args *a, bool file_ok,
		     struct table_src *src, int *first)
{
	memset(src, 0, sizeof(*src));
	src->file = arg_str(a, OPT_FILE);
	if (src->file && !file_ok)
		return usage_error(c, "-F: a dump file cannot be changed; load it first");
	*first = 0;
	if (!src->file) {
		if (!a->npos)
			return usage_error(c, "give a table NAME");
		src->name = a->pos[0];
		*first = 1;
	}
	return table_owner(c, a, src);
}

/* get NAME KEY...: never inserts a key. */
int cmd_get(struct ctx *c, const struct args *a)
{
	unsigned long long keys[GET_MAX_KEYS];
	const char *const *pos;
	struct table_src src;
	struct adict *t;
	int i, n, first, ret;

	ret = key_table(c, a, true, &src, &first);
	if (ret)
		return ret;
	pos = a->pos + first;
	n = a->npos - first;
	if (!n)
		return usage_error(c, "give at least one KEY");
	for (i = 0; i < n; i++) {
		ret = parse_key(pos[i], &keys[i]);
		if (ret)
			return bad_number(c, "key", pos[i], ret);
	}
	ret = open_table(c, &src, ADICT_ATTACH_RDONLY, &t);
	if (ret)
		return ret;
	if (c->json)
		fputc('[', stdout);
	for (i = 0; i < n; i++) {
		__u64 v = 0;
		int r = adict_find(t, keys[i], &v);

		if (r && r != -ENOENT) {
			adict_close(t);
			return die_table(c, r, src_name(&src));
		}
		if (c->json) {
			fputs(i ? ", {" : "{", stdout);
			json_kv_u64(stdout, "key", keys[i], false);
			json_kv_u64(stdout, "value", v, true);
			json_kv_bool(stdout, "present", !r, true);
			fputc('}', stdout);
		} else if (n == 1) {
			printf("%llu\n", (unsigned long long)v);
		} else {
			printf("%llu %llu\n", keys[i], (unsigned long long)v);
		}
	}
	if (c->json)
		fputs("]\n", stdout);
	adict_close(t);
	return EXIT_OK;
}

/* Parse KEY and @nargs numbers after it; the first extra may be negative. */
static int parse_key_args(const struct ctx *c, const char *const *pos, int n,
			  int nargs, const char *const *names,
			  unsigned long long *key, unsigned long long *args)
{
	int i, ret;

	if (n != nargs + 1)
		return usage_error(c, "give a table NAME, a KEY and %s%s%s",
				   names[0], nargs > 1 ? " and " : "",
				   nargs > 1 ? names[1] : "");
	ret = parse_key(pos[0], key);
	if (ret)
		return bad_number(c, "key", pos[0], ret);
	for (i = 0; i < nargs; i++) {
		ret = !strcmp(names[i], "DELTA") ? parse_delta(pos[i + 1], &args[i]) :
		      parse_u64(pos[i + 1], &args[i]);
		if (ret)
			return bad_number(c, names[i], pos[i + 1], ret);
	}
	return 0;
}

/* set, add and cas: one operation on one key. */
enum key_op { KEY_SET, KEY_ADD, KEY_CAS };

static int run_key_op(const struct ctx *c, struct table_src *src,
		      enum key_op op, unsigned long long key,
		      const unsigned long long *a)
{
	__u64 old = 0;
	struct adict *t;
	int ret, res = 0;

	ret = open_table(c, src, OPEN_TRY_MEDIATED, &t);
	if (ret)
		return ret;
	switch (op) {
	case KEY_SET:
		res = adict_swap(t, key, a[0], &old);
		break;
	case KEY_ADD:
		res = adict_add(t, key, a[0], &old);
		break;
	case KEY_CAS:
		res = adict_cas(t, key, a[0], a[1], &old);
		break;
	}
	adict_close(t);
	if (res == -ENOENT) {	/* mediated, and the grant has no insert */
		errmsg("table '%s': key %llu is absent, and its grant lets you change existing keys only (no insert); ask its owner to create the key",
		       src->name, key);
		return exit_code(res);
	}
	if (res < 0)
		return die_table(c, res, src->name);

	if (c->json) {
		fputc('{', stdout);
		json_kv_u64(stdout, "key", key, false);
		if (op == KEY_CAS) {
			json_kv_u64(stdout, "expected", a[0], true);
			json_kv_u64(stdout, "desired", a[1], true);
			json_kv_u64(stdout, "observed", old, true);
			json_kv_bool(stdout, "swapped", res == 1, true);
		} else {
			json_kv_u64(stdout, "previous", old, true);
			json_kv_u64(stdout, "value",
				    op == KEY_ADD ? old + a[0] : a[0], true);
		}
		fputs("}\n", stdout);
	} else if (op == KEY_ADD) {
		printf("%llu\n", (unsigned long long)(old + a[0]));
	} else if (op == KEY_CAS) {
		printf("%llu\n", res == 1 ? a[1] : (unsigned long long)old);
	}
	return op == KEY_CAS && res != 1 ? EXIT_FALSE : EXIT_OK;
}

static int key_command(struct ctx *c, const struct args *a, enum key_op op)
{
	static const char *const set_names[] = { "VALUE" };
	static const char *const add_names[] = { "DELTA" };
	static const char *const cas_names[] = { "EXPECTED", "DESIRED" };
	const char *const *names = op == KEY_SET ? set_names :
				   op == KEY_ADD ? add_names : cas_names;
	int nargs = op == KEY_CAS ? 2 : 1;
	unsigned long long key, v[2];
	struct table_src src;
	int first, ret;

	ret = key_table(c, a, false, &src, &first);
	if (ret)
		return ret;
	ret = parse_key_args(c, a->pos + first, a->npos - first, nargs, names,
			     &key, v);
	if (ret)
		return ret;
	return run_key_op(c, &src, op, key, v);
}

int cmd_set(struct ctx *c, const struct args *a)
{
	return key_command(c, a, KEY_SET);
}

int cmd_add(struct ctx *c, const struct args *a)
{
	return key_command(c, a, KEY_ADD);
}

int cmd_cas(struct ctx *c, const struct args *a)
{
	return key_command(c, a, KEY_CAS);
}
