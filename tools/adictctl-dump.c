// SPDX-License-Identifier: MIT
/*
 * adictctl: the dump and load (alias restore) commands.  The formats are
 * adictctl-dumpfile.c's; Documentation/dump-format.rst describes them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adictctl.h"

/* ---- dump ----------------------------------------------------------------- */

/* The header for @count pairs of the table @src, described by @in. */
static void dump_header_of(const struct table_src *src,
			   const struct adict_table_info *in, __u64 count,
			   struct dump_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = DUMP_VERSION;
	h->capacity = in->capacity;
	geom_of_info(in, &h->g);
	h->count = count;
	if (src->file) {	/* a re-dump keeps what the dump saved */
		h->mode = src->saved_mode;
		h->grant = src->saved_grant;
	} else if (in->backend == ADICT_BACKEND_DEVICE) {
		h->mode = in->mode;
		h->grant = in->grant;
	}
	snprintf(h->name, sizeof(h->name), "%s", src_name(src) ? src_name(src) : "");
}

/* "key": "u64,u32", "value": "u32" */
static void json_geometry(const struct geom *g)
{
	char kn[4 * ADICT_KEY_WORDS_MAX + 1];

	geom_key_name(g, kn, sizeof(kn));
	json_kv_str(stdout, "key", kn, true);
	json_kv_str(stdout, "value", geom_value_name(g->value_bytes), true);
}

static void print_pairs_json(const struct dump_header *h, const struct pairs *p)
{
	__u64 i;

	fputc('{', stdout);
	json_kv_str(stdout, "name", h->name, false);
	json_kv_u64(stdout, "capacity", h->capacity, true);
	json_kv_mode(stdout, h->mode, true);
	json_kv_u64(stdout, "grant", h->grant, true);
	json_geometry(&h->g);
	json_kv_u64(stdout, "count", h->count, true);
	fputs(", \"pairs\": [", stdout);
	for (i = 0; i < h->count; i++) {
		fputs(i ? ", {" : "{", stdout);
		json_kv_tuple(stdout, "key", pair_key(p, i), geom_words(&h->g), false);
		if (h->g.value_bytes)
			json_kv_u64(stdout, "value", pair_value(p, i), true);
		fputc('}', stdout);
	}
	fputs("]}\n", stdout);
}

struct dump_opts {
	const char *out;	/* -o, NULL: standard output */
	unsigned int out_mode;	/* --output-mode, or 0: from the table */
	bool text;
};

static void print_saved(const struct ctx *c, const struct dump_opts *dopt,
			const struct dump_header *h)
{
	if (c->json) {
		fputc('{', stdout);
		json_kv_str(stdout, "file", dopt->out, false);
		json_kv_str(stdout, "format", dopt->text ? "text" : "binary", true);
		json_kv_str(stdout, "name", h->name, true);
		json_kv_u64(stdout, "capacity", h->capacity, true);
		json_geometry(&h->g);
		json_kv_u64(stdout, "count", h->count, true);
		fputs("}\n", stdout);
		return;
	}
	fprintf(stderr, "adictctl: saved %llu keys of table '%s' to %s\n",
		(unsigned long long)h->count, h->name[0] ? h->name : "(anonymous)",
		dopt->out);
}

static int save_dump(const struct ctx *c, const struct dump_opts *dopt,
		     const struct dump_header *h, const struct pairs *p)
{
	unsigned int mode = dopt->out_mode ? dopt->out_mode : out_mode_of(h->mode);
	struct out_file o;
	int ret;

	ret = out_open(&o, dopt->out, mode);
	if (ret)
		return die_out_open(c, ret, dopt->out);
	ret = dopt->text ? dump_write_text(o.f, h, p) : dump_write(o.f, h, p);
	if (ret) {
		out_abort(&o);
		return die_output(c, ret, o.shown);
	}
	ret = out_commit(&o);
	if (ret)
		return die_output(c, ret, o.shown);
	if (!out_is_stdout(dopt->out))
		print_saved(c, dopt, h);
	return EXIT_OK;
}

static int dump_table(const struct ctx *c, struct table_src *src,
		      const struct dump_opts *dopt)
{
	struct adict_table_info info;
	struct dump_header h;
	struct pairs p;
	char what[96];
	struct adict *t;
	int ret;

	ret = open_table(c, src, ADICT_ATTACH_RDONLY, &t);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "dump %s", src_name(src) ? src_name(src) : "");
	ret = adict_info(t, &info);
	if (!ret)
		ret = collect_pairs(t, what, &p);
	adict_close(t);
	if (ret)
		return die_table(c, ret, src_name(src));
	if (p.n > info.capacity) {
		pairs_free(&p);
		return die_table(c, -EBADMSG, src_name(src));
	}
	dump_header_of(src, &info, p.n, &h);
	if (dopt->text && c->json && out_is_stdout(dopt->out))
		print_pairs_json(&h, &p);
	else
		ret = save_dump(c, dopt, &h, &p);
	pairs_free(&p);
	return ret;
}

static void describe_dump(const struct ctx *c, const char *path,
			  const struct dump *d)
{
	const struct dump_header *h = &d->h;
	char kn[4 * ADICT_KEY_WORDS_MAX + 1];

	if (c->json) {
		fputc('{', stdout);
		json_kv_str(stdout, "file", path, false);
		json_kv_str(stdout, "format", d->text ? "text" : "binary", true);
		json_kv_u64(stdout, "version", h->version, true);
		json_kv_str(stdout, "name", h->name, true);
		json_kv_u64(stdout, "capacity", h->capacity, true);
		json_geometry(&h->g);
		json_kv_u64(stdout, "count", h->count, true);
		json_kv_mode(stdout, h->mode, true);
		json_kv_u64(stdout, "grant", h->grant, true);
		json_kv_bool(stdout, "valid", true, true);
		fputs("}\n", stdout);
		return;
	}
	printf("%s: valid adictctl dump, version %u (%s)\n", path,
	       h->version, d->text ? "text" : "binary");
	geom_key_name(&h->g, kn, sizeof(kn));
	printf("name:      %s\n", h->name[0] ? h->name : "(anonymous)");
	printf("capacity:  %llu keys\n", (unsigned long long)h->capacity);
	printf("key:       %s\n", kn);
	printf("value:     %s\n", geom_value_name(h->g.value_bytes));
	printf("keys:      %llu\n", (unsigned long long)h->count);
	printf("mode:      0%03o\n", h->mode);
}

static int verify_dump(const struct ctx *c, const char *path)
{
	struct dump d;
	int ret;

	ret = dump_read(c, path, &d);
	if (ret)
		return ret;
	describe_dump(c, path, &d);
	dump_free(&d);
	return EXIT_OK;
}

/* dump NAME | -F FILE [-o OUT] [--text] [--output-mode M];  dump --verify FILE */
int cmd_dump(struct ctx *c, const struct args *a)
{
	struct table_src src = { .file = arg_str(a, OPT_FILE) };
	const char *verify = arg_str(a, 'V');
	const char *omode = arg_str(a, OPT_OUTPUT_MODE);
	struct dump_opts dopt = {
		.out = arg_str(a, OPT_OUTPUT),
		.text = arg_flag(a, 't'),
	};

	if (verify)
		return a->npos || src.file || dopt.out || dopt.text || omode ?
		       usage_error(c, "--verify FILE takes nothing else") :
		       verify_dump(c, verify);
	if (a->npos != (src.file ? 0 : 1))
		return usage_error(c, "give a table NAME, or -F FILE");
	if (omode && (parse_mode(omode, &dopt.out_mode) || !dopt.out_mode))
		return usage_error(c, "bad --output-mode '%s': octal permission bits, 1 to 0777", omode);
	if (out_is_stdout(dopt.out) && !dopt.text) {
		if (c->json)
			return usage_error(c, "--json: a binary dump to standard output leaves no room for JSON; use -o FILE");
		if (isatty(STDOUT_FILENO)) {
			errmsg("not writing a binary dump to a terminal; use -o FILE, or --text");
			return EXIT_USAGE;
		}
	}
	src.name = a->npos ? a->pos[0] : NULL;
	return dump_table(c, &src, &dopt);
}

/* ---- load ----------------------------------------------------------------- */

struct load_opts {
	const char *file;
	const char *name;	/* --name, else the saved name */
	__u64 capacity;		/* --capacity, else the saved one */
	unsigned int mode;	/* --mode, else the saved one */
	bool mode_set;
	bool existing;		/* store into an existing table */
	bool memfd;		/* --backend memfd */
};

static void print_loaded(const struct ctx *c, const struct load_opts *lo,
			 const char *name, __u64 count, __u64 capacity)
{
	const char *backend = lo->memfd ? "memfd" : "device";

	if (c->json) {
		fputc('{', stdout);
		json_kv_str(stdout, "file", lo->file, false);
		json_kv_str(stdout, "name", lo->memfd ? "" : name, true);
		json_kv_str(stdout, "backend", backend, true);
		json_kv_u64(stdout, "capacity", capacity, true);
		json_kv_u64(stdout, "loaded", count, true);
		fputs("}\n", stdout);
	} else if (lo->memfd) {
		printf("%s: %llu keys restore into a table of capacity %llu (memfd table, discarded at exit)\n",
		       lo->file, (unsigned long long)count,
		       (unsigned long long)capacity);
	} else {
		printf("loaded %llu keys into table '%s' (device, capacity %llu)\n",
		       (unsigned long long)count, name,
		       (unsigned long long)capacity);
	}
}

/* Create (or, with --existing, attach) the device table to restore into. */
static int target_table(const struct ctx *c, const struct load_opts *lo,
			const struct dump *d, const char *name,
			__u64 capacity, struct adict **tp)
{
	struct adict_opts o = {
		.sz = sizeof(o),
		.name = name,
		.backend = ADICT_BACKEND_DEVICE,
		.mode = lo->mode_set ? lo->mode : d->h.mode,
		.grant = d->h.grant,
		.key64 = d->h.g.key64,
		.key32 = d->h.g.key32,
		.value_bytes = d->h.g.value_bytes,
	};
	char dk[4 * ADICT_KEY_WORDS_MAX + 1], tk[4 * ADICT_KEY_WORDS_MAX + 1];
	struct geom g;
	int ret;

	ret = check_name(c, name);
	if (ret)
		return ret;
	if (lo->existing)
		ret = adict_attach(tp, name, 0);
	else
		ret = adict_create(tp, capacity, &o);
	if (ret == -EEXIST) {
		errmsg("table '%s' already exists; restore into it with --existing, or unlink it first",
		       name);
		return EXIT_EXISTS;
	}
	if (ret)
		return die_table(c, ret, name);
	ret = table_geom(*tp, &g);
	if (!ret && !geom_eq(&g, &d->h.g)) {
		geom_key_name(&d->h.g, dk, sizeof(dk));
		geom_key_name(&g, tk, sizeof(tk));
		errmsg("%s holds keys %s with %s values; table '%s' has keys %s with %s values",
		       lo->file, dk, geom_value_name(d->h.g.value_bytes), name,
		       tk, geom_value_name(g.value_bytes));
		adict_close(*tp);
		return EXIT_USAGE;
	}
	if (ret) {
		adict_close(*tp);
		return die_table(c, ret, name);
	}
	return 0;
}

static int load_device(const struct ctx *c, const struct load_opts *lo,
		       const struct dump *d, __u64 capacity)
{
	const char *name = lo->name ? lo->name : d->h.name;
	struct adict_table_info info;
	char what[96];
	struct adict *t;
	__u64 done;
	int ret;

	if (!name[0]) {
		errmsg("%s holds an anonymous table; give it a name with --name NAME",
		       lo->file);
		return EXIT_USAGE;
	}
	ret = target_table(c, lo, d, name, capacity, &t);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "load %s", name);
	ret = dump_store(t, d, what, &done);
	if (!ret)
		ret = adict_info(t, &info);
	adict_close(t);
	if (ret) {
		errmsg("stored %llu of %llu keys into '%s', then:",
		       (unsigned long long)done,
		       (unsigned long long)d->h.count, name);
		if (!lo->existing && !adict_unlink(name))
			errmsg("removed the name of the half-restored table '%s'", name);
		return die_table(c, ret, name);
	}
	print_loaded(c, lo, name, done, info.capacity);
	return EXIT_OK;
}

static int load_memfd(const struct ctx *c, const struct load_opts *lo,
		      const struct dump *d, __u64 capacity)
{
	struct adict *t;
	int ret;

	ret = restore_memfd(d, capacity, &t);
	if (ret) {
		errmsg("%s: does not restore into a table of capacity %llu: %s",
		       lo->file, (unsigned long long)capacity, strerror(-ret));
		return exit_code(ret);
	}
	adict_close(t);
	print_loaded(c, lo, "", d->h.count, capacity);
	return EXIT_OK;
}

static int load_parse(const struct ctx *c, const struct args *a,
		      struct load_opts *lo)
{
	const char *cap = arg_str(a, 'c'), *mode = arg_str(a, 'm');
	const char *backend = arg_str(a, 'b');
	unsigned long long v;
	int ret;

	lo->name = arg_str(a, 'n');
	lo->existing = arg_flag(a, 'e');
	if (cap) {
		ret = parse_u64(cap, &v);
		if (ret || !v || v > ADICT_CAPACITY_MAX)
			return usage_error(c, "bad --capacity '%s': 1 to 2^40 keys", cap);
		lo->capacity = v;
	}
	if (mode) {
		if (parse_mode(mode, &lo->mode))
			return usage_error(c, "bad --mode '%s': octal, 0 to 0777", mode);
		lo->mode_set = true;
	}
	if (backend && strcmp(backend, "memfd") && strcmp(backend, "device"))
		return usage_error(c, "bad --backend '%s': device or memfd", backend);
	lo->memfd = backend && !strcmp(backend, "memfd");
	if (a->npos != 1)
		return usage_error(c, "give the dump FILE");
	if (lo->memfd && (lo->name || lo->existing || lo->mode_set))
		return usage_error(c, "a memfd table has no name, mode or existing table");
	lo->file = a->pos[0];
	return 0;
}

/* load FILE [--name N] [--capacity N] [--mode M] [--existing] [--backend B] */
int cmd_load(struct ctx *c, const struct args *a)
{
	struct load_opts lo = { 0 };
	__u64 capacity;
	struct dump d;
	int ret;

	ret = load_parse(c, a, &lo);
	if (ret)
		return ret;
	ret = dump_read(c, lo.file, &d);
	if (ret)
		return ret;
	capacity = lo.capacity ? lo.capacity : d.h.capacity;
	if (capacity < d.h.count) {
		dump_free(&d);
		return usage_error(c, "--capacity %llu is below the dump's %llu keys",
				   (unsigned long long)capacity,
				   (unsigned long long)d.h.count);
	}
	ret = lo.memfd ? load_memfd(c, &lo, &d, capacity) :
			 load_device(c, &lo, &d, capacity);
	dump_free(&d);
	return ret;
}
