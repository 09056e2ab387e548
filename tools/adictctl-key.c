// SPDX-License-Identifier: MIT
/*
 * adictctl: the commands on one table or one key: info, attach, create,
 * unlink, get, set, add, cas, insert.  Keys are composite where the
 * table's geometry says so ("7,9"; adictctl-tuple.c).
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

/* The maximum load as create --load spells it. */
static const char *load_name(unsigned int load)
{
	return load == ADICT_LOAD_1_2 ? "1/2" : "3/4";
}

static void print_info_json(const struct adict_table_info *in,
			    unsigned long page_bytes,
			    const char *grant)
{
	char kn[4 * ADICT_KEY_WORDS_MAX + 1];
	struct geom g;
	FILE *f = stdout;

	geom_of_info(in, &g);
	geom_key_name(&g, kn, sizeof(kn));
	fputc('{', f);
	json_kv_str(f, "name", in->name, false);
	json_kv_str(f, "backend", adict_backend_name(in->backend), true);
	json_kv_str(f, "access", access_name(in->access), true);
	json_kv_u64(f, "id", in->id, true);
	json_kv_u64(f, "capacity", in->capacity, true);
	json_kv_u64(f, "used", in->used, true);
	json_kv_u64(f, "nbuckets", in->nbuckets, true);
	json_kv_u64(f, "bytes", in->bytes, true);
	json_kv_u64(f, "page_bytes", page_bytes, true);
	json_kv_str(f, "key", kn, true);
	json_kv_str(f, "value", geom_value_name(in->value_bytes), true);
	json_kv_u64(f, "key64", in->key64, true);
	json_kv_u64(f, "key32", in->key32, true);
	json_kv_u64(f, "value_bytes", in->value_bytes, true);
	json_kv_u64(f, "row_bytes", in->row_bytes, true);
	json_kv_u64(f, "bucket_rows", in->bucket_rows, true);
	json_kv_str(f, "load", load_name(in->load), true);
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

/*
 * @page_bytes: adict_page_bytes(), the page size the data area got here
 * (libadict.rst, "Huge pages").
 */
static void print_info(const struct ctx *c, const struct adict_table_info *in,
		       unsigned long page_bytes)
{
	double pct = in->capacity ? 100.0 * (double)in->used /
				    (double)in->capacity : 0;
	char grant[128], kn[4 * ADICT_KEY_WORDS_MAX + 1];
	struct geom g;

	format_grant(in->grant, grant, sizeof(grant));
	if (c->json) {
		print_info_json(in, page_bytes, grant);
		return;
	}
	geom_of_info(in, &g);
	geom_key_name(&g, kn, sizeof(kn));
	printf("name:      %s\n", in->name[0] ? in->name : "(anonymous)");
	printf("backend:   %s\n", adict_backend_name(in->backend));
	printf("access:    %s\n", access_name(in->access));
	if (in->backend == ADICT_BACKEND_DEVICE)
		printf("id:        %llu\n", (unsigned long long)in->id);
	printf("capacity:  %llu keys\n", (unsigned long long)in->capacity);
	printf("used:      %llu keys (%.1f%%)\n",
	       (unsigned long long)in->used, pct);
	printf("key:       %s\n", kn);
	printf("value:     %s\n", geom_value_name(in->value_bytes));
	printf("rows:      %u bytes, %u per %d-byte bucket\n", in->row_bytes,
	       in->bucket_rows, ADICT_BUCKET_BYTES);
	printf("load:      at most %s (%llu rows for %llu keys)\n",
	       load_name(in->load),
	       (unsigned long long)((in->nbuckets - 1) * in->bucket_rows),
	       (unsigned long long)in->capacity);
	printf("memory:    %llu bytes (%llu buckets of %d bytes + header)\n",
	       (unsigned long long)in->bytes, (unsigned long long)in->nbuckets,
	       ADICT_BUCKET_BYTES);
	if (page_bytes >= 1UL << 20)
		printf("pages:     %lu MiB\n", page_bytes >> 20);
	else
		printf("pages:     %lu KiB\n", page_bytes >> 10);
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
	print_info(c, &info, adict_page_bytes(t));
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

/* --key u64,u32 --value u32|u64|none; the default u64 -> u64. */
static int parse_geometry(const struct ctx *c, const struct args *a,
			  struct geom *g)
{
	const char *key = arg_str(a, 'k'), *value = arg_str(a, 'v');

	*g = geom_default;
	if (key && geom_parse_key(key, g))
		return usage_error(c, "bad --key '%s': 1 to %d words of u64 (at most %d) then u32 (at most %d), as u64 or u64,u64,u32",
				   key, ADICT_KEY_WORDS_MAX, ADICT_KEY64_MAX,
				   ADICT_KEY32_MAX);
	if (value && geom_parse_value(value, &g->value_bytes))
		return usage_error(c, "bad --value '%s': u64, u32 or none (a set)", value);
	if (!geom_valid(g))
		return usage_error(c, "--key %s --value %s: a row is at most %d bytes (8 per u64 word, 4 per u32 word, then the value, aligned)",
				   key ? key : "u64", value ? value : "u64",
				   ADICT_BUCKET_BYTES);
	return 0;
}

/*
 * create NAME CAPACITY [--key K] [--value V] [--mode OCTAL] [--grant OPS]
 *        [--load 3/4|1/2]
 */
int cmd_create(struct ctx *c, const struct args *a)
{
	struct adict_opts opts = { .sz = sizeof(opts),
				   .backend = ADICT_BACKEND_DEVICE };
	const char *mode = arg_str(a, 'm'), *grant = arg_str(a, 'g');
	const char *backend = arg_str(a, 'b'), *load = arg_str(a, 'l');
	struct table_src src = { 0 };
	unsigned long long cap;
	struct adict *t;
	struct geom g;
	int ret;

	ret = parse_geometry(c, a, &g);
	if (ret)
		return ret;
	opts.key64 = g.key64;
	opts.key32 = g.key32;
	opts.value_bytes = g.value_bytes;
	if (mode && parse_mode(mode, &opts.mode))
		return usage_error(c, "bad --mode '%s': octal permission bits, 0 to 0777", mode);
	if (grant && parse_grant(grant, &opts.grant))
		return usage_error(c, "bad --grant '%s': a list such as load,find,add, or read, or all", grant);
	if (load && !strcmp(load, "1/2"))
		opts.load = ADICT_LOAD_1_2;
	else if (load && strcmp(load, "3/4"))
		return usage_error(c, "bad --load '%s': 3/4 (the default) or 1/2 (the same capacity in 1.5 times the memory, for shorter probes)", load);
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

/* The KEYs of a command, syntax only (before the table is opened). */
static int parse_keys(const struct ctx *c, const char *const *pos, int n,
		      struct tuple *keys)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = tuple_parse(pos[i], &keys[i]);
		if (ret)
			return tuple_error(c, pos[i], ret, NULL);
	}
	return 0;
}

/* The KEYs fit the open table's geometry @g. */
static int check_keys(const struct ctx *c, const char *const *pos, int n,
		      const struct tuple *keys, const struct geom *g)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = tuple_check(&keys[i], g);
		if (ret)
			return tuple_error(c, pos[i], ret, g);
	}
	return 0;
}

/* get NAME KEY...: never inserts a key.  A set's value is 1 if present. */
int cmd_get(struct ctx *c, const struct args *a)
{
	static struct tuple keys[GET_MAX_KEYS];
	char kt[TUPLE_TEXT_MAX];
	const char *const *pos;
	struct table_src src;
	struct adict *t;
	struct geom g;
	int i, n, first, ret;

	ret = key_table(c, a, true, &src, &first);
	if (ret)
		return ret;
	pos = a->pos + first;
	n = a->npos - first;
	if (!n)
		return usage_error(c, "give at least one KEY");
	ret = parse_keys(c, pos, n, keys);
	if (ret)
		return ret;
	ret = open_table(c, &src, ADICT_ATTACH_RDONLY, &t);
	if (ret)
		return ret;
	ret = table_geom(t, &g);
	if (ret) {
		adict_close(t);
		return die_table(c, ret, src_name(&src));
	}
	ret = check_keys(c, pos, n, keys, &g);
	if (ret) {
		adict_close(t);
		return ret;
	}
	if (c->json)
		fputc('[', stdout);
	for (i = 0; i < n; i++) {
		__u64 v = 0;
		int r = adict_tuple_find(t, keys[i].w, &v);

		if (r && r != -ENOENT) {
			adict_close(t);
			return die_table(c, r, src_name(&src));
		}
		if (!g.value_bytes)
			v = !r;
		if (c->json) {
			fputs(i ? ", {" : "{", stdout);
			json_kv_tuple(stdout, "key", keys[i].w, keys[i].n, false);
			if (g.value_bytes)
				json_kv_u64(stdout, "value", v, true);
			json_kv_bool(stdout, "present", !r, true);
			fputc('}', stdout);
		} else if (n == 1) {
			printf("%llu\n", (unsigned long long)v);
		} else {
			tuple_format(keys[i].w, keys[i].n, kt, sizeof(kt));
			printf("%s %llu\n", kt, (unsigned long long)v);
		}
	}
	if (c->json)
		fputs("]\n", stdout);
	adict_close(t);
	return EXIT_OK;
}

/* set, add, cas and insert: one operation on one key. */
enum key_op { KEY_SET, KEY_ADD, KEY_CAS, KEY_INSERT };

/* Parse @nargs numbers after KEY; a DELTA may be negative. */
static int parse_op_args(const struct ctx *c, const char *const *pos,
			 int nargs, const char *const *names,
			 unsigned long long *args)
{
	int i, ret;

	for (i = 0; i < nargs; i++) {
		ret = !strcmp(names[i], "DELTA") ? parse_delta(pos[i], &args[i]) :
		      parse_u64(pos[i], &args[i]);
		if (ret)
			return bad_number(c, names[i], pos[i], ret);
	}
	return 0;
}

/* The numbers fit the table's value: below 2^32 for u32 values. */
static int check_op_args(const struct ctx *c, enum key_op op,
			 const struct geom *g, const char *const *pos,
			 int nargs, const char *const *names,
			 const unsigned long long *args, const char *table)
{
	int i;

	if (!g->value_bytes && op != KEY_INSERT)
		return usage_error(c, "table '%s' is a set, with no value: use insert, get or list", table);
	for (i = 0; i < nargs; i++)
		if (!value_fits(g, args[i], op == KEY_ADD))
			return usage_error(c, "%s '%s' out of range: table '%s' holds 32-bit values (%s)",
					   names[i], pos[i], table,
					   op == KEY_ADD ? "-4294967295 to 4294967295" :
					   "0 to 4294967295");
	return 0;
}

static void print_op(const struct ctx *c, enum key_op op, const struct geom *g,
		     const struct tuple *k, const unsigned long long *a,
		     __u64 old, int res)
{
	unsigned long long now = op == KEY_ADD ? value_wrap(g, old + a[0]) : a[0];

	if (c->json) {
		fputc('{', stdout);
		json_kv_tuple(stdout, "key", k->w, k->n, false);
		if (op == KEY_INSERT) {
			json_kv_bool(stdout, "new", res == 1, true);
		} else if (op == KEY_CAS) {
			json_kv_u64(stdout, "expected", a[0], true);
			json_kv_u64(stdout, "desired", a[1], true);
			json_kv_u64(stdout, "observed", old, true);
			json_kv_bool(stdout, "swapped", res == 1, true);
		} else {
			json_kv_u64(stdout, "previous", old, true);
			json_kv_u64(stdout, "value", now, true);
		}
		fputs("}\n", stdout);
	} else if (op == KEY_ADD) {
		printf("%llu\n", now);
	} else if (op == KEY_CAS) {
		printf("%llu\n", res == 1 ? a[1] : (unsigned long long)old);
	} else if (op == KEY_INSERT) {
		printf("%d\n", res == 1);
	}
}

static int run_key_op(const struct ctx *c, struct table_src *src,
		      enum key_op op, const char *const *pos, int nargs,
		      const char *const *names, struct tuple *k,
		      const unsigned long long *a)
{
	__u64 old = 0;
	struct adict *t;
	struct geom g;
	int ret, res = 0;

	ret = open_table(c, src, OPEN_TRY_MEDIATED, &t);
	if (ret)
		return ret;
	ret = table_geom(t, &g);
	if (ret) {
		adict_close(t);
		return die_table(c, ret, src->name);
	}
	ret = check_keys(c, pos, 1, k, &g);
	if (!ret)
		ret = check_op_args(c, op, &g, pos + 1, nargs, names, a, src->name);
	if (ret) {
		adict_close(t);
		return ret;
	}
	switch (op) {
	case KEY_SET:
		res = adict_tuple_swap(t, k->w, a[0], &old);
		break;
	case KEY_ADD:
		res = adict_tuple_add(t, k->w, a[0], &old);
		break;
	case KEY_CAS:
		res = adict_tuple_cas(t, k->w, a[0], a[1], &old);
		break;
	case KEY_INSERT:
		res = adict_tuple_insert(t, k->w);
		break;
	}
	adict_close(t);
	if (res == -ENOENT) {	/* mediated, and the grant has no insert */
		char kt[TUPLE_TEXT_MAX];

		tuple_format(k->w, k->n, kt, sizeof(kt));
		errmsg("table '%s': key %s is absent, and its grant lets you change existing keys only (no insert); ask its owner to create the key",
		       src->name, kt);
		return exit_code(res);
	}
	if (res < 0)
		return die_table(c, res, src->name);
	print_op(c, op, &g, k, a, old, res);
	return op == KEY_CAS && res != 1 ? EXIT_FALSE : EXIT_OK;
}

static int key_command(struct ctx *c, const struct args *a, enum key_op op)
{
	static const char *const set_names[] = { "VALUE" };
	static const char *const add_names[] = { "DELTA" };
	static const char *const cas_names[] = { "EXPECTED", "DESIRED" };
	const char *const *names = op == KEY_SET ? set_names :
				   op == KEY_ADD ? add_names : cas_names;
	int nargs = op == KEY_CAS ? 2 : op == KEY_INSERT ? 0 : 1;
	unsigned long long v[2] = { 0, 0 };
	const char *const *pos;
	struct table_src src;
	struct tuple k;
	int first, ret;

	ret = key_table(c, a, false, &src, &first);
	if (ret)
		return ret;
	pos = a->pos + first;
	if (a->npos - first != nargs + 1)
		return usage_error(c, "give a table NAME, a KEY%s%s%s%s",
				   nargs ? " and " : "", nargs ? names[0] : "",
				   nargs > 1 ? " and " : "",
				   nargs > 1 ? names[1] : "");
	ret = parse_keys(c, pos, 1, &k);
	if (!ret)
		ret = parse_op_args(c, pos + 1, nargs, names, v);
	if (ret)
		return ret;
	return run_key_op(c, &src, op, pos, nargs, names, &k, v);
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

int cmd_insert(struct ctx *c, const struct args *a)
{
	return key_command(c, a, KEY_INSERT);
}
