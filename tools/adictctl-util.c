// SPDX-License-Identifier: MIT
/*
 * adictctl: the argument parser, number parsing, messages and exit codes,
 * JSON output, input and output files and progress that every command
 * uses.  Calls nothing else of adictctl.
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
#include <time.h>

#include "adictctl.h"

/* ---- argument parser ------------------------------------------------------ */

/*
 * A tiny getopt_long over two tables (the command's, then the common
 * options): "--name", "--name=value", "--name value", "-x", "-xvalue",
 * "-x value"; "--" ends the options.  Unlike getopt, an argument such as
 * "-5" is a positional number, so that "adictctl add t 7 -5" works.
 */
static const struct optdef *find_long(const struct optdef *defs,
				      const char *name, size_t len)
{
	for (; defs && defs->name; defs++)
		if (strlen(defs->name) == len && !strncmp(defs->name, name, len))
			return defs;
	return NULL;
}

static const struct optdef *find_short(const struct optdef *defs, char ch)
{
	for (; defs && defs->name; defs++)
		if (defs->id == (unsigned char)ch)
			return defs;
	return NULL;
}

static bool is_positional(const char *a)
{
	return a[0] != '-' || a[1] == '\0' || isdigit((unsigned char)a[1]);
}

/* The option @a names, in @defs or @common; *val is an inline value. */
static const struct optdef *find_opt(const struct optdef *defs,
				     const struct optdef *common,
				     const char *a, const char **val)
{
	const struct optdef *d;

	*val = NULL;
	if (a[1] == '-') {
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

		d = find_long(defs, a + 2, len);
		if (!d)
			d = find_long(common, a + 2, len);
		if (eq)
			*val = eq + 1;
		return d;
	}
	d = find_short(defs, a[1]);
	if (!d)
		d = find_short(common, a[1]);
	if (a[2])
		*val = a + 2;
	return d;
}

int parse_args(const struct ctx *c, const struct optdef *defs,
	       const struct optdef *common, int argc, char **argv,
	       struct args *a)
{
	const struct optdef *d;
	bool only_pos = false;
	const char *val;
	int i;

	memset(a, 0, sizeof(*a));
	/* At most argc of each: calloc(0) may return NULL, so one more. */
	a->pos = calloc((size_t)argc + 1, sizeof(*a->pos));
	a->opt = calloc((size_t)argc + 1, sizeof(*a->opt));
	if (!a->pos || !a->opt) {
		free_args(a);
		errmsg("out of memory");
		return EXIT_FAIL;
	}
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (only_pos || is_positional(arg)) {
			a->pos[a->npos++] = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_pos = true;
			continue;
		}
		d = find_opt(defs, common, arg, &val);
		if (!d || (val && !d->has_arg))
			goto out_usage_unknown;
		if (d->has_arg && !val) {
			if (i + 1 >= argc)
				goto out_usage_value;
			val = argv[++i];
		}
		a->opt[a->nopt].id = d->id;
		a->opt[a->nopt++].arg = val;
	}
	return 0;

out_usage_unknown:
	free_args(a);
	return usage_error(c, "unknown option '%s'", argv[i]);
out_usage_value:
	free_args(a);
	return usage_error(c, "option '%s' needs a value", argv[i]);
}

void free_args(struct args *a)
{
	free(a->pos);
	free(a->opt);
	a->pos = NULL;
	a->opt = NULL;
}

const char *arg_str(const struct args *a, int id)
{
	int i;

	for (i = a->nopt - 1; i >= 0; i--)
		if (a->opt[i].id == id)
			return a->opt[i].arg;
	return NULL;
}

bool arg_flag(const struct args *a, int id)
{
	int i;

	for (i = 0; i < a->nopt; i++)
		if (a->opt[i].id == id)
			return true;
	return false;
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

/* Octal permission bits, 0 to 0777. */
int parse_mode(const char *s, unsigned int *mode)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 0777)
		return -EINVAL;
	*mode = (unsigned int)v;
	return 0;
}

/* ---- messages ------------------------------------------------------------- */

#define MSG_MAX		8

static bool msg_as_json;
static char *msgs[MSG_MAX];
static int nmsgs;

void msg_json(bool on)
{
	msg_as_json = on;
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	char *m;

	if (!msg_as_json) {
		fputs(prefix, stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		return;
	}
	if (nmsgs < MSG_MAX && vasprintf(&m, fmt, ap) >= 0)
		msgs[nmsgs++] = m;
}

void errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("adictctl: ", fmt, ap);
	va_end(ap);
}

/*
 * {"error": {"command": C, "exit_code": N, "exit_name": S,
 *            "message": FIRST, "details": [REST...]}}
 */
void msg_flush(const struct ctx *c, int code)
{
	int i;

	if (!msg_as_json || (!nmsgs && !code))
		return;
	fputs("{\"error\": {", stderr);
	json_kv_str(stderr, "command", c->cmd, false);
	json_kv_u64(stderr, "exit_code", (unsigned long long)code, true);
	json_kv_str(stderr, "exit_name", exit_name(code), true);
	json_kv_str(stderr, "message", nmsgs ? msgs[0] : exit_name(code), true);
	fputs(", \"details\": [", stderr);
	for (i = 1; i < nmsgs; i++) {
		if (i > 1)
			fputs(", ", stderr);
		json_str(stderr, msgs[i]);
	}
	fputs("]}}\n", stderr);
	for (i = 0; i < nmsgs; i++)
		free(msgs[i]);
	nmsgs = 0;
}

int usage_error(const struct ctx *c, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "adictctl %s: ", c->cmd);
	va_start(ap, fmt);
	vmsg(prefix, fmt, ap);
	va_end(ap);
	if (!msg_as_json)
		fprintf(stderr, "Try 'adictctl %s --help'.\n", c->cmd);
	return EXIT_USAGE;
}

/* Every number of the command line that does not parse or fits: exit 2. */
int bad_number(const struct ctx *c, const char *what, const char *s, int err)
{
	if (err == -EDOM)
		return usage_error(c, "%s 0 is not allowed: key 0 marks an empty slot", what);
	if (err == -ERANGE)
		return usage_error(c, "%s '%s' does not fit in 64 bits", what, s);
	return usage_error(c, "bad %s '%s': a decimal or 0x-hexadecimal number", what, s);
}

const char *exit_name(int code)
{
	static const char *const names[] = {
		[EXIT_OK] = "ok",		[EXIT_FALSE] = "false",
		[EXIT_USAGE] = "usage",		[EXIT_NODEV] = "nodev",
		[EXIT_NOENT] = "noent",		[EXIT_PERM] = "perm",
		[EXIT_BADFILE] = "badfile",	[EXIT_FULL] = "full",
		[EXIT_EXISTS] = "exists",	[EXIT_FAIL] = "fail",
		[EXIT_WRITE] = "write",
	};

	if (code < 0 || code > EXIT_WRITE)
		return "fail";
	return names[code];
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

/* An input file (a dump, a --map file) could not be read. */
int die_file(const struct ctx *c, int err, const char *path)
{
	errmsg("%s: %s", path, strerror(-err));
	return exit_code(err);
}

/*
 * The output file could not be opened: a refusal of the kind of file is a
 * usage error (exit 2), otherwise the errno's exit code (no directory: 4).
 */
int die_out_open(const struct ctx *c, int err, const char *path)
{
	switch (-err) {
	case ELOOP:
		errmsg("%s is a symlink to a regular file: -o replaces a file by renaming a new one over it, which would replace the link; give the file's own path", path);
		return EXIT_USAGE;
	case EISDIR:
		errmsg("%s is a directory; -o takes a file name", path);
		return EXIT_USAGE;
	case ENXIO:
		errmsg("%s is a socket; -o writes regular files, devices and FIFOs", path);
		return EXIT_USAGE;
	}
	return die_file(c, err, path);
}

/* Writing the output failed: always EXIT_WRITE, ENOSPC included. */
int die_output(const struct ctx *c, int err, const char *path)
{
	errmsg("writing %s: %s", path ? path : "standard output",
	       strerror(-err));
	return EXIT_WRITE;
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

bool out_is_stdout(const char *path)
{
	return !path || !strcmp(path, "-");
}

unsigned int out_mode_of(unsigned int table_mode)
{
	return table_mode ? (table_mode & 0666) | 0600 : 0600;
}

/* Write in place: a device or a FIFO (never created, never truncated). */
static int out_open_in_place(struct out_file *o, const char *path)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	o->f = fdopen(fd, "w");
	if (!o->f) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/* A new file beside @path, renamed over it by out_commit(). */
static int out_open_atomic(struct out_file *o, const char *path,
			   unsigned int mode)
{
	int fd, ret;

	if (asprintf(&o->tmp, "%s.tmp.XXXXXX", path) < 0) {
		o->tmp = NULL;
		return -ENOMEM;
	}
	o->path = strdup(path);
	if (!o->path) {
		ret = -ENOMEM;
		goto out_free;
	}
	fd = mkostemp(o->tmp, O_CLOEXEC);	/* mode 0600 */
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	/* Exactly @mode: a backup is not made wider by a loose umask. */
	if (fchmod(fd, mode)) {
		ret = -errno;
		close(fd);
		unlink(o->tmp);
		goto out_free;
	}
	o->f = fdopen(fd, "w");
	if (!o->f) {
		close(fd);
		unlink(o->tmp);
		ret = -ENOMEM;
		goto out_free;
	}
	return 0;

out_free:
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return ret;
}

/*
 * Open the output @path (NULL or "-": standard output) for a file of
 * permission bits @mode.  Return: 0, or -errno; -ELOOP for a symlink to a
 * regular file, which -o will not replace (the rename would replace the
 * link, not the file it points to).
 */
int out_open(struct out_file *o, const char *path, unsigned int mode)
{
	struct stat st, target;

	memset(o, 0, sizeof(*o));
	o->shown = out_is_stdout(path) ? "standard output" : path;
	if (out_is_stdout(path)) {
		o->f = stdout;
		return 0;
	}
	if (lstat(path, &st)) {
		if (errno != ENOENT)
			return -errno;
		return out_open_atomic(o, path, mode);
	}
	if (S_ISREG(st.st_mode))
		return out_open_atomic(o, path, mode);
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISLNK(st.st_mode)) {
		if (stat(path, &target))
			return -errno;
		if (S_ISREG(target.st_mode))
			return -ELOOP;
		if (S_ISDIR(target.st_mode))
			return -EISDIR;
		st = target;
	}
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode))
		return out_open_in_place(o, path);
	return -ENXIO;	/* a socket */
}

/* Flush, sync and rename; standard output is only flushed (main() checks it). */
int out_commit(struct out_file *o)
{
	int ret = 0;

	errno = 0;
	if (fflush(o->f) || ferror(o->f))
		ret = -(errno ? errno : EIO);
	if (o->f == stdout)
		return ret;
	if (!ret && o->path && fsync(fileno(o->f)))
		ret = -errno;
	if (fclose(o->f) && !ret)
		ret = -(errno ? errno : EIO);
	o->f = NULL;
	if (o->path) {
		if (!ret && rename(o->tmp, o->path))
			ret = -errno;
		if (ret)
			unlink(o->tmp);
		free(o->tmp);
		free(o->path);
	}
	return ret;
}

void out_abort(struct out_file *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	if (o->path) {
		unlink(o->tmp);
		free(o->tmp);
		free(o->path);
	}
	o->f = NULL;
}

/* ---- progress ------------------------------------------------------------- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Shown only on a terminal, and only for runs longer than a second. */
void progress_start(struct progress *p, const char *what,
		    unsigned long long total)
{
	p->what = what;
	p->total = total;
	p->done = 0;
	p->on = isatty(STDERR_FILENO);
	p->start = p->last = p->on ? now_seconds() : 0;
}

static void human_count(double v, char *buf, size_t len)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

void progress_step(struct progress *p, unsigned long long done)
{
	char rate_s[16];
	double t, rate;

	p->done = done;
	if (!p->on || (done & 0xffff))	/* look at the clock every 64 Ki keys */
		return;
	t = now_seconds();
	if (t - p->start < 1.0 || t - p->last < 0.25)
		return;
	p->last = t;
	rate = (double)done / (t - p->start);
	human_count(rate, rate_s, sizeof(rate_s));
	if (p->total && done <= p->total)
		fprintf(stderr, "\r%s: %llu/%llu keys (%.0f%%), %s keys/s, ETA %.0f s  ",
			p->what, done, p->total,
			100.0 * (double)done / (double)p->total, rate_s,
			rate > 0 ? (double)(p->total - done) / rate : 0.0);
	else
		fprintf(stderr, "\r%s: %llu keys, %s keys/s  ", p->what, done,
			rate_s);
}

/* Clear the line if anything was shown. */
void progress_end(struct progress *p)
{
	if (p->on && p->last > p->start)
		fputs("\r\033[K", stderr);
	p->on = false;
}
