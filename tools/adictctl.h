/* SPDX-License-Identifier: MIT */
/*
 * adictctl: declarations shared by the files of the tool.
 *
 *   adictctl.c         command line, table opening, simple commands
 *   adictctl-util.c    option parser, numbers, messages, JSON, files
 *   adictctl-dump.c    the dump file format, dump, load, --verify
 *   adictctl-view.c    list (/proc listing), watch, export --prometheus
 *
 * Every helper returns 0 (or a count) on success and a negative errno on
 * failure; a command turns the errno into a message and an exit code once,
 * in one place (die_errno()).
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
	EXIT_USAGE	= 2,	/* bad command line */
	EXIT_NODEV	= 3,	/* module not loaded / no /dev/atomic_dict */
	EXIT_NOENT	= 4,	/* no such table, key or file */
	EXIT_PERM	= 5,	/* permission denied */
	EXIT_BADFILE	= 6,	/* corrupt, truncated or unsupported dump */
	EXIT_FULL	= 7,	/* table full */
	EXIT_EXISTS	= 8,	/* table already exists */
	EXIT_FAIL	= 9,	/* anything else */
};

/* Options every command accepts. */
struct ctx {
	bool json;		/* --json */
	bool help;		/* --help: print the command's help instead */
	const char *cmd;	/* the command being run, for messages */
};

/* Options every command accepts; end a command's optdef array with them. */
#define COMMON_OPTS	{ "json", 'j', false }, { "help", 'h', false }, { NULL, 0, false }

/* ---- option parser (adictctl-util.c) ------------------------------------ */

struct optdef {
	const char *name;	/* long name, without "--" */
	int id;			/* short letter, or a value above 255 */
	bool has_arg;
};

enum { OPT_END = -1, OPT_POS = 0, OPT_ERR = -2 };

struct optparse {
	int argc;
	char **argv;
	int i;			/* next argument */
	bool only_pos;		/* after "--" */
};

void opt_init(struct optparse *p, int argc, char **argv);
int opt_next(struct optparse *p, const struct optdef *defs, const char **arg);

/* ---- numbers -------------------------------------------------------------- */

int parse_u64(const char *s, unsigned long long *v);
int parse_delta(const char *s, unsigned long long *v);
int parse_key(const char *s, unsigned long long *key);
int parse_seconds(const char *s, double *sec);

/* ---- messages ------------------------------------------------------------- */

void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool common_opt(struct ctx *c, int id);
int usage_hint(const struct ctx *c);
int add_pos(const struct ctx *c, const char **pos, int *npos, int max,
	    const char *arg);
int usage_error(const struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int die_table(const struct ctx *c, int err, const char *name);
int die_file(const struct ctx *c, int err, const char *path);
int exit_code(int err);
const char *access_name(unsigned int access);

/* ---- JSON output ---------------------------------------------------------- */

void json_str(FILE *f, const char *s);
void json_kv_str(FILE *f, const char *k, const char *v, bool comma);
void json_kv_u64(FILE *f, const char *k, unsigned long long v, bool comma);
void json_kv_mode(FILE *f, unsigned int mode, bool comma);
void json_kv_bool(FILE *f, const char *k, bool v, bool comma);

/* ---- files ---------------------------------------------------------------- */

int read_file(const char *path, unsigned char **buf, size_t *len);

struct out_file {
	FILE *f;
	char *path;		/* final path; NULL for stdout */
	char *tmp;		/* written here, renamed to path at commit */
};

int out_open(struct out_file *o, const char *path);
int out_commit(struct out_file *o);
void out_abort(struct out_file *o);

/* ---- tables (adictctl.c) -------------------------------------------------- */

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
int open_table(const struct ctx *c, struct table_src *src,
	       unsigned int flags, struct adict **tp);
void print_info(const struct ctx *c, const struct adict_table_info *info);

/* Print the help of c->cmd; return EXIT_OK. */
int cmd_help(const struct ctx *c);

/* ---- commands ------------------------------------------------------------- */

int cmd_dump(struct ctx *c, int argc, char **argv);
int cmd_load(struct ctx *c, int argc, char **argv);
int cmd_list(struct ctx *c, int argc, char **argv);
int cmd_usage(struct ctx *c, int argc, char **argv);
int cmd_watch(struct ctx *c, int argc, char **argv);
int cmd_export(struct ctx *c, int argc, char **argv);

/* One pair of a table. */
struct kv {
	__u64 key;
	__u64 value;
};

int collect_pairs(struct adict *t, struct kv **out, __u64 *count);

/* Load dump @path into a new private memfd table (for -F). */
int load_dump_memfd(const struct ctx *c, struct table_src *src,
		    struct adict **tp);

#endif /* ADICTCTL_H */
