/* SPDX-License-Identifier: MIT */
/*
 * adictctl: declarations shared by the files of the tool.
 *
 * The files depend on each other in one direction only:
 *
 *   adictctl.c           the dispatcher: the one file that knows every
 *                        command, its options and its help; parses the
 *                        command line (command options + the common ones)
 *                        and calls the command
 *   adictctl-key.c       commands: info, attach, create, unlink, get, set,
 *                        add, cas, insert
 *   adictctl-dump.c      commands: dump, load (alias restore)
 *   adictctl-view.c      commands: list, watch
 *   adictctl-export.c    command: export --prometheus
 *     -- shared helpers; no helper calls a command --
 *   adictctl-table.c     opening a table (device, or a dump with -F),
 *                        copying its pairs out
 *   adictctl-dumpfile.c  the dump formats (binary and text): encode, parse,
 *                        store the pairs into a table
 *   adictctl-tuple.c     row geometries, composite keys ("7,9"), values of
 *                        each width, arrays of pairs
 *   adictctl-util.c      argument parser, numbers, messages and exit
 *                        codes, JSON, input and output files, progress
 *
 * Every helper returns 0 (or a count) on success and a negative errno on
 * failure; a command turns the errno into a message and an exit code once
 * (die_table(), die_file(), die_output()).
 */
#ifndef ADICTCTL_H
#define ADICTCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <adict.h>

#define ADICTCTL_PROC_PATH	"/proc/driver/atomic_dict"

/* Exit codes; Documentation/adictctl.rst lists them for scripts. */
enum adictctl_exit {
	EXIT_OK		= 0,
	EXIT_FALSE	= 1,	/* cas: the value was not the expected one */
	EXIT_USAGE	= 2,	/* bad command line, any number out of range */
	EXIT_NODEV	= 3,	/* module not loaded / no /dev/atomic_dict */
	EXIT_NOENT	= 4,	/* no such table, key or file */
	EXIT_PERM	= 5,	/* permission denied */
	EXIT_BADFILE	= 6,	/* corrupt, truncated or unsupported dump */
	EXIT_FULL	= 7,	/* table full */
	EXIT_EXISTS	= 8,	/* table already exists */
	EXIT_FAIL	= 9,	/* anything else */
	EXIT_WRITE	= 10,	/* writing the output failed (disk full, EIO) */
};

/* What the dispatcher tells every command. */
struct ctx {
	bool json;		/* --json */
	const char *cmd;	/* the command being run, for messages */
};

/* ---- argument parser (adictctl-util.c) ------------------------------------ */

struct optdef {
	const char *name;	/* long name, without "--" */
	int id;			/* short letter, or a value above 255 */
	bool has_arg;
};

/* The options given, in order, and the positional arguments. */
struct opt_val {
	int id;
	const char *arg;	/* NULL for a flag */
};

struct args {
	int npos, nopt;
	const char **pos;
	struct opt_val *opt;
};

/*
 * Parse @argv against @defs and then @common (both end with a NULL name).
 * Return: 0, or EXIT_USAGE with the message printed.
 */
int parse_args(const struct ctx *c, const struct optdef *defs,
	       const struct optdef *common, int argc, char **argv,
	       struct args *a);
void free_args(struct args *a);
/* The value of the last @id given, or NULL. */
const char *arg_str(const struct args *a, int id);
bool arg_flag(const struct args *a, int id);

/* ---- numbers -------------------------------------------------------------- */

int parse_u64(const char *s, unsigned long long *v);
int parse_delta(const char *s, unsigned long long *v);
int parse_key(const char *s, unsigned long long *key);
int parse_seconds(const char *s, double *sec);
int parse_mode(const char *s, unsigned int *mode);

/* ---- messages and exit codes ---------------------------------------------- */

/*
 * With --json (msg_json()), messages are collected and printed at exit as
 * one JSON object on standard error (msg_flush()); otherwise each is an
 * "adictctl: ..." line at once.
 */
void msg_json(bool on);
void msg_flush(const struct ctx *c, int code);
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int usage_error(const struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int bad_number(const struct ctx *c, const char *what, const char *s, int err);
int die_table(const struct ctx *c, int err, const char *name);
int die_file(const struct ctx *c, int err, const char *path);
int die_out_open(const struct ctx *c, int err, const char *path);
int die_output(const struct ctx *c, int err, const char *path);
int exit_code(int err);
const char *exit_name(int code);
const char *access_name(unsigned int access);

/* ---- JSON output ---------------------------------------------------------- */

void json_str(FILE *f, const char *s);
void json_kv_str(FILE *f, const char *k, const char *v, bool comma);
void json_kv_u64(FILE *f, const char *k, unsigned long long v, bool comma);
void json_kv_mode(FILE *f, unsigned int mode, bool comma);
void json_kv_bool(FILE *f, const char *k, bool v, bool comma);

/* ---- files ---------------------------------------------------------------- */

int read_file(const char *path, unsigned char **buf, size_t *len);

/*
 * Output to a path (-o) or standard output.  A regular file (or a new one)
 * is written under a temporary name beside it, fsync()ed and renamed over
 * it, with the permission bits the caller gives.  A character or block
 * device or a FIFO is written in place; a symlink to a regular file, a
 * directory or a socket is refused (Documentation/adictctl.rst, "Output
 * files").
 */
struct out_file {
	FILE *f;
	char *path;		/* final path; NULL for stdout or in place */
	char *tmp;		/* written here, renamed to path at commit */
	const char *shown;	/* the name for messages */
};

bool out_is_stdout(const char *path);
int out_open(struct out_file *o, const char *path, unsigned int mode);
int out_commit(struct out_file *o);
void out_abort(struct out_file *o);
/* A dump's permission bits: the table's, owner read-write; 0600 if none. */
unsigned int out_mode_of(unsigned int table_mode);

/* ---- progress on a terminal (standard error) ----------------------------- */

struct progress {
	const char *what;	/* "dump web", "load web.adict" */
	unsigned long long total, done;
	double start, last;
	bool on;
};

void progress_start(struct progress *p, const char *what,
		    unsigned long long total);
void progress_step(struct progress *p, unsigned long long done);
void progress_end(struct progress *p);

/* ---- geometries, composite keys, pairs (adictctl-tuple.c) ----------------- */

/* A table's row geometry (format v2; adict_opts, adict_table_info). */
struct geom {
	unsigned int key64;		/* u64 key words, first */
	unsigned int key32;		/* then u32 key words */
	unsigned int value_bytes;	/* 8, 4, or 0 for a set */
};

extern const struct geom geom_default;	/* one u64 key word, a u64 value */

static inline unsigned int geom_words(const struct geom *g)
{
	return g->key64 + g->key32;
}

bool geom_valid(const struct geom *g);
bool geom_eq(const struct geom *a, const struct geom *b);
void geom_of_info(const struct adict_table_info *in, struct geom *g);
int geom_parse_key(const char *s, struct geom *g);
int geom_parse_value(const char *s, unsigned int *value_bytes);
/* "u64,u64,u32"; @len at least 4 * ADICT_KEY_WORDS_MAX. */
void geom_key_name(const struct geom *g, char *buf, size_t len);
const char *geom_value_name(unsigned int value_bytes);

/* A key as given on the command line. */
struct tuple {
	unsigned int n;
	__u64 w[ADICT_KEY_WORDS_MAX];
};

#define TUPLE_TEXT_MAX	(ADICT_KEY_WORDS_MAX * 21)	/* "w,w,...", NUL */

int tuple_parse(const char *s, struct tuple *k);
int tuple_check(const struct tuple *k, const struct geom *g);
int tuple_error(const struct ctx *c, const char *s, int err,
		const struct geom *g);
void tuple_format(const __u64 *w, unsigned int n, char *buf, size_t len);
void json_kv_tuple(FILE *f, const char *k, const __u64 *w, unsigned int n,
		   bool comma);
bool value_fits(const struct geom *g, unsigned long long v, bool delta);
unsigned long long value_wrap(const struct geom *g, unsigned long long v);

/*
 * A table's pairs: @n rows of @stride words, the key's words (as the
 * adict_tuple_*() calls take them) and then the value (0 for a set).
 */
struct pairs {
	struct geom g;
	unsigned int stride;	/* geom_words(&g) + 1 */
	__u64 n, cap;
	__u64 *w;
};

static inline __u64 *pair_key(const struct pairs *p, __u64 i)
{
	return p->w + i * p->stride;
}

static inline __u64 pair_value(const struct pairs *p, __u64 i)
{
	return p->w[i * p->stride + p->stride - 1];
}

void pairs_init(struct pairs *p, const struct geom *g);
int pairs_reserve(struct pairs *p, __u64 n);
int pairs_push(struct pairs *p, const __u64 *key, __u64 value);
void pairs_free(struct pairs *p);
int key_cmp(const __u64 *a, const __u64 *b, unsigned int n);
/* Sort by key, word by word. */
void pairs_sort(struct pairs *p);
/* After pairs_sort(): the index of the first repeated key, or -1. */
long long pairs_repeat(const struct pairs *p);

/* ---- the dump formats (adictctl-dumpfile.c) ------------------------------ */

#define DUMP_VERSION		2	/* what dump writes; load reads 1 too */

/* A dump's logical header (Documentation/dump-format.rst). */
struct dump_header {
	__u32 version;
	__u64 capacity;
	__u64 count;
	__u32 mode;
	__u32 grant;
	struct geom g;		/* version 1: the default geometry */
	char name[ADICT_NAME_MAX];
};

/* A dump read and validated: header and pairs (sorted by key). */
struct dump {
	struct dump_header h;
	bool text;		/* read from the text format */
	struct pairs p;
};

/* Write a version 2 dump of @p (sorted, h->count of them). */
int dump_write(FILE *f, const struct dump_header *h, const struct pairs *p);
int dump_write_text(FILE *f, const struct dump_header *h,
		    const struct pairs *p);
/* Read @path ("-": stdin), either format.  Return: 0, or an exit code. */
int dump_read(const struct ctx *c, const char *path, struct dump *d);
void dump_free(struct dump *d);
/* Store the pairs of @d into @t.  Return: 0, or -errno with *done set. */
int dump_store(struct adict *t, const struct dump *d, const char *what,
	       __u64 *done);

/* ---- tables (adictctl-table.c) -------------------------------------------- */

/* Extra bit for open_table(): fall back to a mediated attach on EACCES. */
#define OPEN_TRY_MEDIATED	(1U << 16)

struct table_src {
	const char *name;	/* device table */
	const char *file;	/* or: a dump loaded into a private memfd table */
	char saved_name[ADICT_NAME_MAX];	/* out: what that dump saved */
	unsigned int saved_mode, saved_grant;
	bool has_owner;		/* --owner: attach only a table owned by owner */
	unsigned int owner;
};

/* The name to show for @src: the table's, or the one saved in the dump. */
static inline const char *src_name(const struct table_src *src)
{
	return src->file ? src->saved_name : src->name;
}

int check_name(const struct ctx *c, const char *name);
/* --owner UID of @a into @src; 0, or EXIT_USAGE with the message printed. */
int table_owner(const struct ctx *c, const struct args *a,
		struct table_src *src);
int open_table(const struct ctx *c, struct table_src *src,
	       unsigned int flags, struct adict **tp);
/* Create a memfd table of @capacity and store @d's pairs into it. */
int restore_memfd(const struct dump *d, __u64 capacity, struct adict **tp);
/* The table's pairs sorted by key, with progress as "@what". */
int collect_pairs(struct adict *t, const char *what, struct pairs *out);
/* The geometry of an open table. */
int table_geom(struct adict *t, struct geom *g);

#define GET_MAX_KEYS	64	/* keys of one get */

/* ---- commands (called by the dispatcher only) ----------------------------- */

int cmd_info(struct ctx *c, const struct args *a);
int cmd_attach(struct ctx *c, const struct args *a);
int cmd_create(struct ctx *c, const struct args *a);
int cmd_unlink(struct ctx *c, const struct args *a);
int cmd_get(struct ctx *c, const struct args *a);
int cmd_set(struct ctx *c, const struct args *a);
int cmd_add(struct ctx *c, const struct args *a);
int cmd_cas(struct ctx *c, const struct args *a);
int cmd_insert(struct ctx *c, const struct args *a);
int cmd_dump(struct ctx *c, const struct args *a);
int cmd_load(struct ctx *c, const struct args *a);
int cmd_list(struct ctx *c, const struct args *a);
int cmd_usage(struct ctx *c, const struct args *a);
int cmd_watch(struct ctx *c, const struct args *a);
int cmd_export(struct ctx *c, const struct args *a);

/* Option ids the commands share, so that one letter means one thing. */
enum {
	OPT_FILE	= 'F',	/* -F DUMPFILE */
	OPT_OUTPUT	= 'o',	/* -o FILE */
	OPT_JSON	= 'j',
	OPT_HELP	= 'h',
	OPT_OUTPUT_MODE	= 256,	/* --output-mode OCTAL */
	OPT_OWNER	= 257,	/* --owner UID */
};

#endif /* ADICTCTL_H */
