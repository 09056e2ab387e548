// SPDX-License-Identifier: MIT
/*
 * adictctl: the option parser, number parsing, error messages, JSON output
 * and file helpers that every command uses.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "adictctl.h"

/* ---- option parser -------------------------------------------------------- */

/*
 * A tiny getopt_long: "--name", "--name=value", "--name value", "-x",
 * "-x value", "--" ends the options.  Unlike getopt, an argument such as
 * "-5" is a positional number, so that "adictctl add t 7 -5" works.
 */
void opt_init(struct optparse *p, int argc, char **argv)
{
	p->argc = argc;
	p->argv = argv;
	p->i = 0;
	p->only_pos = false;
}

static const struct optdef *find_long(const struct optdef *defs,
				      const char *name, size_t len)
{
	for (; defs->name; defs++)
		if (strlen(defs->name) == len && !strncmp(defs->name, name, len))
			return defs;
	return NULL;
}

static const struct optdef *find_short(const struct optdef *defs, char ch)
{
	for (; defs->name; defs++)
		if (defs->id == (unsigned char)ch)
			return defs;
	return NULL;
}

static bool is_positional(const char *a)
{
	return a[0] != '-' || a[1] == '\0' || isdigit((unsigned char)a[1]);
}

int opt_next(struct optparse *p, const struct optdef *defs, const char **arg)
{
	const struct optdef *d;
	const char *a, *val = NULL;

	if (p->i >= p->argc)
		return OPT_END;
	a = p->argv[p->i++];
	if (p->only_pos || is_positional(a)) {
		*arg = a;
		return OPT_POS;
	}
	if (!strcmp(a, "--")) {
		p->only_pos = true;
		return opt_next(p, defs, arg);
	}
	if (a[1] == '-') {
		const char *eq = strchr(a + 2, '=');

		d = find_long(defs, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (eq)
			val = eq + 1;
	} else {
		d = find_short(defs, a[1]);
		if (a[2])
			val = a + 2;
	}
	if (!d || (val && !d->has_arg)) {
		errmsg("unknown option '%s'", a);
		return OPT_ERR;
	}
	if (d->has_arg && !val) {
		if (p->i >= p->argc) {
			errmsg("option '%s' needs a value", a);
			return OPT_ERR;
		}
		val = p->argv[p->i++];
	}
	*arg = val;
	return d->id;
}

/* ---- numbers -------------------------------------------------------------- */

/* Decimal or 0x-prefixed hexadecimal; no sign, no spaces, no junk. */
int parse_u64(const char *s, unsigned long long *v)
{
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	return *end ? -EINVAL : 0;
}

/* A u64 or a negative number; negatives wrap modulo 2^64, as values do. */
int parse_delta(const char *s, unsigned long long *v)
{
	int ret;

	if (s[0] != '-')
		return parse_u64(s, v);
	ret = parse_u64(s + 1, v);
	if (!ret)
		*v = -*v;
	return ret;
}

int parse_key(const char *s, unsigned long long *key)
{
	int ret = parse_u64(s, key);

	if (!ret && !*key)
		return -EDOM;	/* key 0 marks an empty slot */
	return ret;
}

int parse_seconds(const char *s, double *sec)
{
	char *end;

	errno = 0;
	*sec = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(*sec) || *sec <= 0 ||
	    *sec > 86400)
		return -EINVAL;
	return 0;
}

/* ---- messages ------------------------------------------------------------- */

void errmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("adictctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int usage_error(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "adictctl %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'adictctl %s --help'.\n", c->cmd);
	return EXIT_USAGE;
}

const char *access_name(unsigned int access)
{
	switch (access) {
	case ADICT_ACCESS_RDWR:
		return "read-write";
	case ADICT_ACCESS_RDONLY:
		return "read-only";
	case ADICT_ACCESS_MEDIATED:
		return "mediated";
	}
	return "unknown";
}

int exit_code(int err)
{
	switch (-err) {
	case 0:
		return EXIT_OK;
	case ENODEV:
		return EXIT_NODEV;
	case ENOENT:
		return EXIT_NOENT;
	case EACCES:
	case EPERM:
	case EROFS:
		return EXIT_PERM;
	case EBADMSG:
		return EXIT_BADFILE;
	case ENOSPC:
		return EXIT_FULL;
	case EEXIST:
		return EXIT_EXISTS;
	}
	return EXIT_FAIL;
}

static void module_not_loaded(void)
{
	if (access("/sys/module/atomic_dict", F_OK) == 0) {
		errmsg("the atomic_dict module is loaded but %s is missing",
		       ADICT_DEVICE_PATH);
		errmsg("check udev (udevadm trigger), or, in a container, pass the device in (docker run --device %s)",
		       ADICT_DEVICE_PATH);
		return;
	}
	errmsg("atomic_dict: module not loaded; load it with: modprobe atomic_dict");
}

/* The device node itself refused us (rather than the table's own mode). */
static bool device_refused(void)
{
	return access(ADICT_DEVICE_PATH, R_OK) != 0;
}

int die_table(const struct ctx *c, int err, const char *name)
{
	const char *n = name ? name : "(anonymous)";

	switch (-err) {
	case ENODEV:
		module_not_loaded();
		break;
	case ENOENT:
		errmsg("no table named '%s'; see the tables with: adictctl list", n);
		break;
	case EACCES:
		if (device_refused())
			errmsg("%s: permission denied; join the device's group (ls -l %s) or run as root",
			       ADICT_DEVICE_PATH, ADICT_DEVICE_PATH);
		else
			errmsg("table '%s': permission denied by its mode; try --rdonly, or ask its owner",
			       n);
		break;
	case EPERM:
		errmsg("table '%s': operation not permitted: you hold it read-only, or its grant does not allow this operation",
		       n);
		break;
	case EEXIST:
		errmsg("table '%s' already exists; use it, or remove its name first with: adictctl unlink %s",
		       n, n);
		break;
	case ENOSPC:
		errmsg("table '%s' is full; keys are never removed: dump it and load the dump into a larger table (adictctl load --capacity N)",
		       n);
		break;
	case EFBIG:
	case E2BIG:
		errmsg("table '%s': capacity too large for the format (at most 2^40 keys) or for the module's max_table_bytes",
		       n);
		break;
	case ENOMEM:
		errmsg("table '%s': not enough memory for a table of that capacity",
		       n);
		break;
	case EDQUOT:
		errmsg("table '%s': a limit of the module is reached (tables or bytes, yours or everyone's); see: adictctl usage",
		       n);
		break;
	case ENAMETOOLONG:
		errmsg("table name '%s' is too long: at most %d bytes", n,
		       ADICT_NAME_MAX - 1);
		break;
	case EBADMSG:
		errmsg("table '%s': the table header is invalid; are the module and adictctl from the same release?",
		       n);
		break;
	case ENOTTY:
		errmsg("%s does not understand this request; are the module and adictctl from the same release?",
		       ADICT_DEVICE_PATH);
		break;
	default:
		errmsg("table '%s': %s", n, strerror(-err));
		break;
	}
	return exit_code(err);
}

int die_file(const struct ctx *c, int err, const char *path)
{
	errmsg("%s: %s", path, strerror(-err));
	return exit_code(err);
}

/* ---- JSON output ---------------------------------------------------------- */

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_key(FILE *f, const char *k, bool comma)
{
	if (comma)
		fputs(", ", f);
	json_str(f, k);
	fputs(": ", f);
}

void json_kv_str(FILE *f, const char *k, const char *v, bool comma)
{
	json_key(f, k, comma);
	json_str(f, v);
}

void json_kv_u64(FILE *f, const char *k, unsigned long long v, bool comma)
{
	json_key(f, k, comma);
	fprintf(f, "%llu", v);
}

/* Permission bits as the octal string people know: "mode": "0660". */
void json_kv_mode(FILE *f, unsigned int mode, bool comma)
{
	json_key(f, "mode", comma);
	fprintf(f, "\"%04o\"", mode);
}

void json_kv_bool(FILE *f, const char *k, bool v, bool comma)
{
	json_key(f, k, comma);
	fputs(v ? "true" : "false", f);
}

/* ---- files ---------------------------------------------------------------- */

/* Read all of @path ("-" is standard input) into a malloc'ed buffer. */
int read_file(const char *path, unsigned char **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *b = NULL, *nb;
	int fd, ret = 0;
	ssize_t r;

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0)
		return -errno;
	for (;;) {
		if (!b || n == cap) {
			cap = b ? cap * 2 : cap;
			nb = realloc(b, cap);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd)
		close(fd);
	if (ret) {
		free(b);
		return ret;
	}
	*buf = b;
	*len = n;
	return 0;
}

/*
 * Output to @path ("-" or NULL: standard output).  A file is written under
 * a temporary name in the same directory and renamed over @path by
 * out_commit(), so a reader (a backup job, node_exporter) never sees half
 * a file.
 */
int out_open(struct out_file *o, const char *path)
{
	mode_t mask;
	int fd;

	memset(o, 0, sizeof(*o));
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	if (asprintf(&o->tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	o->path = strdup(path);
	fd = o->path ? mkstemp(o->tmp) : -1;
	if (fd < 0) {
		int ret = o->path ? -errno : -ENOMEM;

		free(o->tmp);
		free(o->path);
		return ret;
	}
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);	/* mkstemp's 0600, unless umask says so */
	o->f = fdopen(fd, "w");
	if (!o->f) {
		close(fd);
		out_abort(o);
		return -ENOMEM;
	}
	return 0;
}

int out_commit(struct out_file *o)
{
	int ret = 0;

	if (fflush(o->f) || ferror(o->f))
		ret = -(errno ? errno : EIO);
	if (!o->path)
		return ret;
	if (!ret && fsync(fileno(o->f)))
		ret = -errno;
	if (fclose(o->f) && !ret)
		ret = -errno;
	o->f = NULL;
	if (!ret && rename(o->tmp, o->path))
		ret = -errno;
	if (ret)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	return ret;
}

void out_abort(struct out_file *o)
{
	if (!o->path)
		return;
	if (o->f)
		fclose(o->f);
	unlink(o->tmp);
	free(o->tmp);
	free(o->path);
}

/* ---- helpers for the commands' argument loops ----------------------------- */

bool common_opt(struct ctx *c, int id)
{
	switch (id) {
	case 'j':
		c->json = true;
		return true;
	case 'h':
		c->help = true;
		return true;
	}
	return false;
}

int usage_hint(const struct ctx *c)
{
	fprintf(stderr, "Try 'adictctl %s --help'.\n", c->cmd);
	return EXIT_USAGE;
}

/* Append a positional argument; 0, or EXIT_USAGE when there are too many. */
int add_pos(const struct ctx *c, const char **pos, int *npos, int max,
	    const char *arg)
{
	if (*npos >= max)
		return usage_error(c, "unexpected argument '%s'", arg);
	pos[(*npos)++] = arg;
	return 0;
}
