// SPDX-License-Identifier: MIT
/*
 * adictctl - create, inspect, change, back up and export atomic_dict tables.
 *
 * Most commands work on a named table of /dev/atomic_dict.  The read-only
 * ones (info, get, dump, export, watch) can instead work on a dump file
 * (-F FILE): the dump is loaded into a private memfd table of this process,
 * which is the only honest use of the memfd backend from a command line: a
 * memfd table is anonymous and shared only with fork()ed children, so it
 * cannot outlive adictctl.  Documentation/adictctl.rst is the manual.
 *
 * This file: the command table, opening tables, and the one-key commands.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <grp.h>

#include "adictctl.h"

/* ---- opening tables ------------------------------------------------------- */

/* Extra bit for open_table(): fall back to a mediated attach on EACCES. */
#define OPEN_TRY_MEDIATED	(1U << 16)

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

/*
 * Open the table @src names: a device table attached with @flags
 * (ADICT_ATTACH_*), or a dump file loaded into a private memfd table.
 * Return: 0, or an exit code with the message already printed.
 */
static int attach_src(struct adict **tp, const struct table_src *src,
		      unsigned int flags)
{
	if (src->has_owner)
		return adict_attach_owner(tp, src->name, flags, src->owner);
	return adict_attach(tp, src->name, flags);
}

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

/* --owner UID: a uid as the caller's user namespace sees it. */
static int parse_owner(const struct ctx *c, const char *s,
		       struct table_src *src)
{
	unsigned long long v;

	if (parse_u64(s, &v) || v > 0xfffffffeULL)
		return usage_error(c, "bad --owner '%s': a numeric uid", s);
	src->has_owner = true;
	src->owner = (unsigned int)v;
	return 0;
}

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

void print_info(const struct ctx *c, const struct adict_table_info *in)
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

static int show_table(const struct ctx *c, struct adict *t, const char *name)
{
	struct adict_table_info info;
	int ret;

	ret = adict_info(t, &info);
	if (ret)
		return die_table(c, ret, name);
	print_info(c, &info);
	return EXIT_OK;
}

/* info NAME | info -F FILE */
static int cmd_info(struct ctx *c, int argc, char **argv)
{
	static const struct optdef defs[] = {
		{ "file", 'F', true }, { "owner", 'o', true }, COMMON_OPTS
	};
	struct table_src src = { 0 };
	const char *pos[1], *arg;
	struct optparse p;
	struct adict *t;
	int o, n = 0, ret;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		ret = 0;
		switch (o) {
		case OPT_POS:
			ret = add_pos(c, pos, &n, 1, arg);
			break;
		case 'F':
			src.file = arg;
			break;
		case 'o':
			ret = parse_owner(c, arg, &src);
			break;
		default:
			ret = common_opt(c, o) ? 0 : usage_hint(c);
		}
		if (ret)
			return ret;
	}
	if (c->help)
		return cmd_help(c);
	if (n != (src.file ? 0 : 1))
		return usage_error(c, "give a table NAME, or -F FILE");
	src.name = n ? pos[0] : NULL;
	ret = open_table(c, &src, ADICT_ATTACH_RDONLY, &t);
	if (ret)
		return ret;
	ret = show_table(c, t, src.name);
	adict_close(t);
	return ret;
}

/* attach NAME [--rdonly | --mediated]: check the access, show the table. */
static int cmd_attach(struct ctx *c, int argc, char **argv)
{
	static const struct optdef defs[] = {
		{ "rdonly", 'r', false }, { "mediated", 'm', false },
		{ "owner", 'o', true }, COMMON_OPTS
	};
	struct table_src src = { 0 };
	const char *pos[1], *arg;
	unsigned int flags = 0;
	struct optparse p;
	struct adict *t;
	int o, n = 0, ret;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		ret = 0;
		switch (o) {
		case OPT_POS:
			ret = add_pos(c, pos, &n, 1, arg);
			break;
		case 'r':
			flags |= ADICT_ATTACH_RDONLY;
			break;
		case 'm':
			flags |= ADICT_ATTACH_MEDIATED;
			break;
		case 'o':
			ret = parse_owner(c, arg, &src);
			break;
		default:
			ret = common_opt(c, o) ? 0 : usage_hint(c);
		}
		if (ret)
			return ret;
	}
	if (c->help)
		return cmd_help(c);
	if (n != 1)
		return usage_error(c, "give a table NAME");
	if (flags == (ADICT_ATTACH_RDONLY | ADICT_ATTACH_MEDIATED))
		return usage_error(c, "--rdonly and --mediated exclude each other");
	src.name = pos[0];
	ret = open_table(c, &src, flags, &t);
	if (ret)
		return ret;
	ret = show_table(c, t, src.name);
	adict_close(t);
	return ret;
}

/* ---- create / unlink ------------------------------------------------------ */

static int parse_mode(const char *s, unsigned int *mode)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || end == s || v > 0777 || s[0] == '-')
		return -EINVAL;
	*mode = (unsigned int)v;
	return 0;
}

static int memfd_refused(const struct ctx *c)
{
	errmsg("a memfd table is anonymous and lives only as long as the process that created it, so adictctl cannot keep one for you");
	errmsg("create memfd tables from your program with adict_create(); to check a dump without the device use: adictctl load --backend memfd FILE");
	return EXIT_USAGE;
}

/* create NAME CAPACITY [--mode OCTAL] [--grant OPS] */
static int cmd_create(struct ctx *c, int argc, char **argv)
{
	static const struct optdef defs[] = {
		{ "mode", 'm', true }, { "grant", 'g', true },
		{ "backend", 'b', true }, COMMON_OPTS
	};
	struct adict_opts opts = { .sz = sizeof(opts),
				   .backend = ADICT_BACKEND_DEVICE };
	const char *pos[2], *arg;
	unsigned long long cap;
	struct optparse p;
	struct adict *t;
	int o, n = 0, ret;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		ret = 0;
		switch (o) {
		case OPT_POS:
			ret = add_pos(c, pos, &n, 2, arg);
			break;
		case 'm':
			if (parse_mode(arg, &opts.mode))
				ret = usage_error(c, "bad --mode '%s': octal permission bits, 0 to 0777", arg);
			break;
		case 'g':
			if (parse_grant(arg, &opts.grant))
				ret = usage_error(c, "bad --grant '%s': a list such as load,find,add, or read, or all", arg);
			break;
		case 'b':
			if (!strcmp(arg, "memfd"))
				ret = memfd_refused(c);
			else if (strcmp(arg, "device"))
				ret = usage_error(c, "bad --backend '%s': device or memfd", arg);
			break;
		default:
			ret = common_opt(c, o) ? 0 : usage_hint(c);
		}
		if (ret)
			return ret;
	}
	if (c->help)
		return cmd_help(c);
	if (n != 2)
		return usage_error(c, "give a table NAME and a CAPACITY");
	ret = check_name(c, pos[0]);
	if (ret)
		return ret;
	if (parse_u64(pos[1], &cap) || !cap)
		return usage_error(c, "bad capacity '%s': a number of keys, 1 to 2^40", pos[1]);
	opts.name = pos[0];
	ret = adict_create(&t, cap, &opts);
	if (ret)
		return die_table(c, ret, pos[0]);
	ret = show_table(c, t, pos[0]);
	adict_close(t);
	return ret;
}

/* unlink NAME */
static int cmd_unlink(struct ctx *c, int argc, char **argv)
{
	static const struct optdef defs[] = { COMMON_OPTS };
	const char *pos[1], *arg;
	struct optparse p;
	int o, n = 0, ret;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		ret = o == OPT_POS ? add_pos(c, pos, &n, 1, arg) :
		      common_opt(c, o) ? 0 : usage_hint(c);
		if (ret)
			return ret;
	}
	if (c->help)
		return cmd_help(c);
	if (n != 1)
		return usage_error(c, "give a table NAME");
	ret = check_name(c, pos[0]);
	if (ret)
		return ret;
	ret = adict_unlink(pos[0]);
	if (ret)
		return die_table(c, ret, pos[0]);
	if (c->json) {
		fputc('{', stdout);
		json_kv_str(stdout, "unlinked", pos[0], false);
		fputs("}\n", stdout);
	}
	return EXIT_OK;
}

/* ---- get / set / add / cas ------------------------------------------------ */

/*
 * The argument loop of the key commands: a table (NAME, or -F FILE where
 * @file_ok) followed by at most @max - 1 positional numbers.
 * Return: 0, or an exit code.
 */
static int key_args(struct ctx *c, int argc, char **argv, bool file_ok,
		    struct table_src *src, const char **pos, int max, int *n)
{
	static const struct optdef defs[] = {
		{ "file", 'F', true }, { "owner", 'o', true }, COMMON_OPTS
	};
	struct optparse p;
	const char *arg;
	int o, ret;

	*n = 0;
	memset(src, 0, sizeof(*src));
	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		ret = 0;
		switch (o) {
		case OPT_POS:
			ret = add_pos(c, pos, n, max, arg);
			break;
		case 'F':
			if (!file_ok)
				return usage_error(c, "-F: a dump file cannot be changed; load it first");
			src->file = arg;
			break;
		case 'o':
			ret = parse_owner(c, arg, src);
			break;
		default:
			ret = common_opt(c, o) ? 0 : usage_hint(c);
		}
		if (ret)
			return ret;
	}
	if (c->help)
		return cmd_help(c);
	if (!src->file) {
		if (*n == 0)
			return usage_error(c, "give a table NAME");
		src->name = pos[0];
		memmove(pos, pos + 1, (size_t)--*n * sizeof(*pos));
	}
	return 0;
}

static int bad_number(const struct ctx *c, const char *what, const char *s,
		      int err)
{
	if (err == -EDOM)
		return usage_error(c, "%s 0 is not allowed: key 0 marks an empty slot", what);
	if (err == -ERANGE)
		return usage_error(c, "%s '%s' does not fit in 64 bits", what, s);
	return usage_error(c, "bad %s '%s': a decimal or 0x-hexadecimal number", what, s);
}

#define GET_MAX_KEYS	64

/* get NAME KEY...: never inserts a key. */
static int cmd_get(struct ctx *c, int argc, char **argv)
{
	const char *pos[GET_MAX_KEYS];
	unsigned long long keys[GET_MAX_KEYS];
	struct table_src src;
	struct adict *t;
	int i, n, ret;

	ret = key_args(c, argc, argv, true, &src, pos, GET_MAX_KEYS, &n);
	if (ret || c->help)
		return ret;
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
static int parse_key_args(const struct ctx *c, const char **pos, int n,
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

static int key_command(struct ctx *c, int argc, char **argv, enum key_op op)
{
	static const char *const set_names[] = { "VALUE" };
	static const char *const add_names[] = { "DELTA" };
	static const char *const cas_names[] = { "EXPECTED", "DESIRED" };
	const char *const *names = op == KEY_SET ? set_names :
				   op == KEY_ADD ? add_names : cas_names;
	int nargs = op == KEY_CAS ? 2 : 1;
	unsigned long long key, a[2];
	const char *pos[4];
	struct table_src src;
	int n, ret;

	ret = key_args(c, argc, argv, false, &src, pos, 4, &n);
	if (ret || c->help)
		return ret;
	ret = parse_key_args(c, pos, n, nargs, names, &key, a);
	if (ret)
		return ret;
	return run_key_op(c, &src, op, key, a);
}

static int cmd_set(struct ctx *c, int argc, char **argv)
{
	return key_command(c, argc, argv, KEY_SET);
}

static int cmd_add(struct ctx *c, int argc, char **argv)
{
	return key_command(c, argc, argv, KEY_ADD);
}

static int cmd_cas(struct ctx *c, int argc, char **argv)
{
	return key_command(c, argc, argv, KEY_CAS);
}

/* ---- the command table ---------------------------------------------------- */

struct command {
	const char *name;
	int (*fn)(struct ctx *c, int argc, char **argv);
	const char *synopsis;
	const char *synopsis2;	/* a second form of the command, or NULL */
	const char *help;
};

static const struct command commands[] = {
	{ "create", cmd_create, "NAME CAPACITY [--mode OCTAL] [--grant OPS]", NULL,
	  "Create a named device table for CAPACITY keys and show it.  --mode\n"
	  "sets its permission bits (default 0600); --grant lists the operations\n"
	  "that mediated attachers may run (load,store,swap,add,sub,and,or,xor,\n"
	  "cas,insert,find, or read, or all; default read: load,find).  Without\n"
	  "insert they change existing keys only.  The table lives until unlinked." },
	{ "attach", cmd_attach, "NAME [--rdonly | --mediated] [--owner UID]", NULL,
	  "Attach to a named table with the given access (read-write by default)\n"
	  "and show it: a check that you may use the table that way.  --owner\n"
	  "refuses a table that uid UID does not own (info, get, set, add and\n"
	  "cas take it too): use it for well-known names." },
	{ "list", cmd_list, "", NULL,
	  "List the device's tables that you may attach (from " ADICTCTL_PROC_PATH ")." },
	{ "usage", cmd_usage, "", NULL,
	  "Show the module's limits and what is charged against them: all\n"
	  "tables, and the tables charged to your quota owner." },
	{ "info", cmd_info, "NAME | -F DUMPFILE", NULL,
	  "Show a table: backend, access, capacity, keys used, memory, owner." },
	{ "get", cmd_get, "NAME | -F DUMPFILE  KEY...", NULL,
	  "Print the value of each KEY (0 when absent).  Never inserts a key.\n"
	  "One KEY prints its value; several print KEY VALUE lines." },
	{ "set", cmd_set, "NAME KEY VALUE", NULL, "Store VALUE at KEY." },
	{ "add", cmd_add, "NAME KEY DELTA", NULL,
	  "Add DELTA (may be negative; values wrap modulo 2^64) to KEY and\n"
	  "print the new value." },
	{ "cas", cmd_cas, "NAME KEY EXPECTED DESIRED", NULL,
	  "If KEY holds EXPECTED, store DESIRED.  Prints the value KEY holds\n"
	  "afterwards; exits 0 if it swapped, 1 if it did not." },
	{ "dump", cmd_dump,
	  "NAME | -F DUMPFILE  [-o FILE] [--text]", "--verify FILE",
	  "Save a table to a dump file (Documentation/dump-format.rst), to FILE\n"
	  "(written atomically) or to standard output.  --text prints KEY VALUE\n"
	  "lines instead.  --verify checks a dump file and describes it." },
	{ "load", cmd_load,
	  "FILE [--name NAME] [--capacity N] [--mode OCTAL] [--existing]",
	  "--backend memfd FILE",
	  "Restore a dump: create the table with its saved name, capacity and\n"
	  "mode (or those given), then store every pair.  --existing stores into\n"
	  "an existing table instead.  --backend memfd loads the dump into a\n"
	  "private table of this process only, to check that it restores." },
	{ "unlink", cmd_unlink, "NAME", NULL,
	  "Remove a table's name.  The table is freed when its last user goes." },
	{ "watch", cmd_watch,
	  "NAME | -F DUMPFILE  [--interval SECONDS] [--count N]", NULL,
	  "Show the keys whose values change, every interval (default 1 s),\n"
	  "N times (default: until interrupted)." },
	{ "export", cmd_export,
	  "--prometheus NAME | -F DUMPFILE  [OPTIONS]", NULL,
	  "Print the table in the Prometheus text format: one sample per key,\n"
	  "METRIC{LABEL=\"KEY\"} VALUE, after the table's capacity and used keys.\n"
	  "  --metric M        metric name (default atomic_dict_value)\n"
	  "  --label L         label name (default key)\n"
	  "  --map FILE        lines \"KEY LABELVALUE\": only those keys, so named\n"
	  "  --all             with --map: the unmapped keys too, by number\n"
	  "  --type T          gauge (default), counter or untyped\n"
	  "  --help-text TEXT  the # HELP line\n"
	  "  --no-table-stats  leave out the capacity and used-keys metrics\n"
	  "  -o FILE           write FILE atomically (node_exporter textfile)" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int cmd_help(const struct ctx *c)
{
	const struct command *cmd = find_command(c->cmd);

	printf("usage: adictctl %s %s\n", cmd->name, cmd->synopsis);
	if (cmd->synopsis2)
		printf("       adictctl %s %s\n", cmd->name, cmd->synopsis2);
	printf("\n%s\n\nEvery command takes --json (machine-readable output) and --help.\n",
	       cmd->help);
	return EXIT_OK;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: adictctl [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++) {
		fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].synopsis);
		if (commands[i].synopsis2)
			fprintf(f, "  %-7s %s\n", commands[i].name,
				commands[i].synopsis2);
	}
	fprintf(f, "\n'adictctl COMMAND --help' describes a command; adictctl(8) is the manual.\n");
}

int main(int argc, char **argv)
{
	struct ctx c = { .cmd = "" };
	const struct command *cmd;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			c.json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("adictctl %d.%d\n", ADICT_VERSION_MAJOR,
			       ADICT_VERSION_MINOR);
			return EXIT_OK;
		} else {
			errmsg("unknown option '%s'", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	cmd = find_command(argv[i]);
	if (!cmd) {
		errmsg("unknown command '%s'", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	c.cmd = cmd->name;
	return cmd->fn(&c, argc - i - 1, argv + i + 1);
}
