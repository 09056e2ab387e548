// SPDX-License-Identifier: MIT
/*
 * adictctl: the commands that look at tables without changing them:
 * list (the module's /proc listing) and watch (keys whose values change).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pwd.h>
#include <grp.h>

#include "adictctl.h"

/* ---- list ----------------------------------------------------------------- */

/* One line of /proc/driver/atomic_dict (kmod/atomic_dict.c, adict_seq_show). */
struct proc_row {
	unsigned long long id, capacity, used, bytes;
	unsigned int uid, gid, mode, users;
	char name[ADICT_NAME_MAX];	/* "-" when anonymous */
	char state[16];			/* named, unlinked or anon */
	/* From attaching the table read-only; known false when that fails. */
	bool known;
	struct geom g;
};

/*
 * The /proc listing has no geometry: a named table the caller may read
 * (read-only, or mediated) tells it through adict_info().  Anonymous
 * tables, and tables the caller may not attach, show "-".
 */
static void row_geometry(struct proc_row *r)
{
	struct adict *t;

	r->known = false;
	if (strcmp(r->state, "named"))
		return;
	if (adict_attach(&t, r->name, ADICT_ATTACH_RDONLY) &&
	    adict_attach(&t, r->name, ADICT_ATTACH_MEDIATED))
		return;
	r->known = !table_geom(t, &r->g);
	adict_close(t);
}

/*
 * "id name state uid gid mode capacity used bytes users", mode in octal.
 * The header line (first field not a number) is skipped.
 * Return: 1 for a row, 0 for a line to skip, -EBADMSG for a bad line.
 */
static int parse_proc_line(const char *line, struct proc_row *r)
{
	int n;

	if (!isdigit((unsigned char)line[strspn(line, " \t")]))
		return 0;
	/* %63s: ADICT_NAME_MAX - 1 */
	n = sscanf(line, "%llu %63s %15s %u %u %o %llu %llu %llu %u", &r->id,
		   r->name, r->state, &r->uid, &r->gid, &r->mode, &r->capacity,
		   &r->used, &r->bytes, &r->users);
	return n == 10 ? 1 : -EBADMSG;
}

static const char *user_name(unsigned int uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		return pw->pw_name;
	snprintf(buf, len, "%u", uid);
	return buf;
}

static const char *group_name(unsigned int gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr)
		return gr->gr_name;
	snprintf(buf, len, "%u", gid);
	return buf;
}

/* 1023 B, 20.0 KiB, 1.5 GiB. */
static void human_bytes(unsigned long long v, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%llu B", v);
		return;
	}
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", d, units[u]);
}

/* One row as shown: every column a string, so widths can be measured. */
/*
 * KEY and VALUE come last: a key of many words is the widest cell, and
 * last it widens no other column.
 */
enum { COL_ID, COL_NAME, COL_STATE, COL_USER, COL_GROUP, COL_MODE, COL_CAP,
       COL_USED, COL_USE, COL_SIZE, COL_USERS, COL_KEY, COL_VALUE, NCOLS };

struct shown_row {
	char col[NCOLS][ADICT_NAME_MAX + 8];
};

static const char *const col_title[NCOLS] = {
	"ID", "NAME", "STATE", "USER", "GROUP", "MODE", "CAPACITY", "USED",
	"USE", "SIZE", "USERS", "KEY", "VALUE",
};

/* Left-aligned: the id (so a line starts with it) and the text columns. */
static const bool col_left[NCOLS] = {
	[COL_ID] = true, [COL_NAME] = true, [COL_STATE] = true,
	[COL_USER] = true, [COL_GROUP] = true, [COL_KEY] = true,
	[COL_VALUE] = true,
};

static void show_row(const struct proc_row *r, struct shown_row *s)
{
	double pct = r->capacity ? 100.0 * (double)r->used /
				   (double)r->capacity : 0;
	char num[16];

	snprintf(s->col[COL_ID], sizeof(s->col[0]), "%llu", r->id);
	snprintf(s->col[COL_NAME], sizeof(s->col[0]), "%s", r->name);
	snprintf(s->col[COL_STATE], sizeof(s->col[0]), "%s", r->state);
	snprintf(s->col[COL_USER], sizeof(s->col[0]), "%s",
		 user_name(r->uid, num, sizeof(num)));
	snprintf(s->col[COL_GROUP], sizeof(s->col[0]), "%s",
		 group_name(r->gid, num, sizeof(num)));
	snprintf(s->col[COL_MODE], sizeof(s->col[0]), "%04o", r->mode);
	if (r->known) {
		geom_key_name(&r->g, s->col[COL_KEY], sizeof(s->col[0]));
		snprintf(s->col[COL_VALUE], sizeof(s->col[0]), "%s",
			 geom_value_name(r->g.value_bytes));
	} else {
		snprintf(s->col[COL_KEY], sizeof(s->col[0]), "-");
		snprintf(s->col[COL_VALUE], sizeof(s->col[0]), "-");
	}
	snprintf(s->col[COL_CAP], sizeof(s->col[0]), "%llu", r->capacity);
	snprintf(s->col[COL_USED], sizeof(s->col[0]), "%llu", r->used);
	snprintf(s->col[COL_USE], sizeof(s->col[0]), "%.1f%%", pct);
	human_bytes(r->bytes, s->col[COL_SIZE], sizeof(s->col[0]));
	snprintf(s->col[COL_USERS], sizeof(s->col[0]), "%u", r->users);
}

static void print_line(const char *const *cols, const int *width)
{
	int i;

	for (i = 0; i < NCOLS; i++) {
		const char *sep = i ? "  " : "";

		if (i == NCOLS - 1 && col_left[i])
			printf("%s%s", sep, cols[i]);
		else
			printf("%s%*s", sep, col_left[i] ? -width[i] : width[i],
			       cols[i]);
	}
	putchar('\n');
}

/* The rows, each column as wide as its widest cell. */
static void print_table(const struct proc_row *rows, int n)
{
	struct shown_row *s = calloc((size_t)n + 1, sizeof(*s));
	const char *cols[NCOLS];
	int width[NCOLS], i, j;

	if (!s) {
		errmsg("out of memory");
		return;
	}
	for (j = 0; j < NCOLS; j++)
		width[j] = (int)strlen(col_title[j]);
	for (i = 0; i < n; i++) {
		show_row(&rows[i], &s[i]);
		for (j = 0; j < NCOLS; j++)
			if ((int)strlen(s[i].col[j]) > width[j])
				width[j] = (int)strlen(s[i].col[j]);
	}
	print_line(col_title, width);
	for (i = 0; i < n; i++) {
		for (j = 0; j < NCOLS; j++)
			cols[j] = s[i].col[j];
		print_line(cols, width);
	}
	free(s);
}

static void print_rows_json(const struct proc_row *rows, int n)
{
	char num[16];
	int i;

	fputc('[', stdout);
	for (i = 0; i < n; i++) {
		const struct proc_row *r = &rows[i];

		fputs(i ? ", {" : "{", stdout);
		json_kv_u64(stdout, "id", r->id, false);
		json_kv_str(stdout, "name", strcmp(r->name, "-") ? r->name : "", true);
		json_kv_str(stdout, "state", r->state, true);
		json_kv_u64(stdout, "uid", r->uid, true);
		json_kv_str(stdout, "user", user_name(r->uid, num, sizeof(num)), true);
		json_kv_u64(stdout, "gid", r->gid, true);
		json_kv_str(stdout, "group", group_name(r->gid, num, sizeof(num)), true);
		json_kv_mode(stdout, r->mode, true);
		if (r->known) {
			char kn[4 * ADICT_KEY_WORDS_MAX + 1];

			geom_key_name(&r->g, kn, sizeof(kn));
			json_kv_str(stdout, "key", kn, true);
			json_kv_str(stdout, "value",
				    geom_value_name(r->g.value_bytes), true);
		} else {
			fputs(", \"key\": null, \"value\": null", stdout);
		}
		json_kv_u64(stdout, "capacity", r->capacity, true);
		json_kv_u64(stdout, "used", r->used, true);
		json_kv_u64(stdout, "bytes", r->bytes, true);
		json_kv_u64(stdout, "users", r->users, true);
		fputc('}', stdout);
	}
	fputs("]\n", stdout);
}

static int list_tables(const struct ctx *c, FILE *f, const char *path)
{
	struct proc_row *rows = NULL, *nr;
	int lineno = 0, n = 0, cap = 0, ret = EXIT_OK;
	char line[512];

	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			nr = realloc(rows, (size_t)cap * sizeof(*rows));
			if (!nr) {
				errmsg("out of memory");
				ret = EXIT_FAIL;
				goto out_free;
			}
			rows = nr;
		}
		ret = parse_proc_line(line, &rows[n]);
		if (ret < 0) {
			errmsg("%s:%d: unexpected line; is adictctl from the module's release?",
			       path, lineno);
			ret = EXIT_FAIL;
			goto out_free;
		}
		if (ret)
			row_geometry(&rows[n]);
		n += ret;
		ret = EXIT_OK;
	}
	if (c->json)
		print_rows_json(rows, n);
	else
		print_table(rows, n);
out_free:
	free(rows);
	return ret;
}

/* list: the tables of the device.  ADICTCTL_PROC overrides the path. */
int cmd_list(struct ctx *c, const struct args *a)
{
	const char *path = getenv("ADICTCTL_PROC");
	FILE *f;
	int ret;

	if (a->npos)
		return usage_error(c, "unexpected argument '%s'", a->pos[0]);
	if (!path || !*path)
		path = ADICTCTL_PROC_PATH;
	f = fopen(path, "re");
	if (!f && errno == ENOENT)
		return die_table(c, -ENODEV, NULL);
	if (!f)
		return die_file(c, -errno, path);
	ret = list_tables(c, f, path);
	fclose(f);
	return ret;
}

/* ---- usage: limits and what is charged against them ---------------------- */

static void usage_row(const char *what, unsigned long long used,
		      unsigned long long limit)
{
	if (limit)
		printf("%-24s %20llu %20llu %5.1f%%\n", what, used, limit,
		       100.0 * (double)used / (double)limit);
	else
		printf("%-24s %20llu %20s\n", what, used, "-");
}

int cmd_usage(struct ctx *c, const struct args *a)
{
	struct adict_usage u;
	bool exempt;
	int ret;

	if (a->npos)
		return usage_error(c, "unexpected argument '%s'", a->pos[0]);
	ret = adict_usage(&u);
	if (ret)
		return die_table(c, ret, NULL);
	exempt = u.flags & ADICT_USAGE_F_EXEMPT;
	if (c->json) {
		fputc('{', stdout);
		json_kv_u64(stdout, "quota_uid", u.quota_uid, false);
		json_kv_bool(stdout, "exempt", exempt, true);
		json_kv_u64(stdout, "user_tables", u.user_tables, true);
		json_kv_u64(stdout, "max_tables_per_user", u.max_tables_per_user, true);
		json_kv_u64(stdout, "user_bytes", u.user_bytes, true);
		json_kv_u64(stdout, "max_user_bytes", u.max_user_bytes, true);
		json_kv_u64(stdout, "tables", u.tables, true);
		json_kv_u64(stdout, "max_tables", u.max_tables, true);
		json_kv_u64(stdout, "bytes", u.bytes, true);
		json_kv_u64(stdout, "max_total_bytes", u.max_total_bytes, true);
		json_kv_u64(stdout, "max_table_bytes", u.max_table_bytes, true);
		fputs("}\n", stdout);
		return EXIT_OK;
	}
	printf("quota owner: uid %u%s\n", u.quota_uid,
	       exempt ? " (exempt from the per-user limits)" : "");
	printf("%-24s %20s %20s\n", "", "used", "limit");
	usage_row("your tables", u.user_tables, exempt ? 0 : u.max_tables_per_user);
	usage_row("your bytes", u.user_bytes, exempt ? 0 : u.max_user_bytes);
	usage_row("all tables", u.tables, u.max_tables);
	usage_row("all bytes", u.bytes, u.max_total_bytes);
	printf("%-24s %20s %20llu\n", "bytes of one table", "-",
	       (unsigned long long)u.max_table_bytes);
	return EXIT_OK;
}

/* ---- watch ---------------------------------------------------------------- */

/*
 * The last key and value seen in each row; keys never move, so a row is a
 * key.  Row i's words are keys[i * nw ...], all 0 while it was empty.
 */
struct watch_state {
	__u64 nrows;
	unsigned int nw;
	__u64 *keys;
	__u64 *values;
};

static int watch_init(struct watch_state *w, const struct adict_table_info *in)
{
	w->nw = in->key64 + in->key32;
	w->nrows = in->nbuckets * in->bucket_rows;
	w->keys = calloc(w->nrows * w->nw, sizeof(*w->keys));
	w->values = calloc(w->nrows, sizeof(*w->values));
	if (!w->keys || !w->values) {
		free(w->keys);
		free(w->values);
		return -ENOMEM;
	}
	return 0;
}

static void watch_free(struct watch_state *w)
{
	free(w->keys);
	free(w->values);
}

static void print_change(const struct ctx *c, const char *when,
			 const __u64 *key, unsigned int nw, __u64 value,
			 __u64 old, bool is_new, double interval, bool first)
{
	long long delta = (long long)(value - old);
	char kt[TUPLE_TEXT_MAX];

	if (c->json) {
		fputs(first ? "{" : ", {", stdout);
		json_kv_tuple(stdout, "key", key, nw, false);
		json_kv_u64(stdout, "value", value, true);
		fprintf(stdout, ", \"delta\": %lld", delta);
		json_kv_bool(stdout, "new", is_new, true);
		fputc('}', stdout);
	} else {
		tuple_format(key, nw, kt, sizeof(kt));
		printf("%s %20s %20llu %+20lld %12.1f/s%s\n", when, kt,
		       (unsigned long long)value, delta,
		       (double)delta / interval, is_new ? "  (new)" : "");
	}
}

/* Compare the table with the last pass; print what changed, remember it. */
static int watch_pass(const struct ctx *c, struct adict *t,
		      struct watch_state *w, bool report, double interval)
{
	__u64 cursor = 0, key[ADICT_KEY_WORDS_MAX], value, row, *seen;
	char when[16];
	time_t now = time(NULL);
	struct tm tm;
	int changes = 0;

	strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&now, &tm));
	if (report && c->json)
		printf("{\"time\": %lld, \"changes\": [", (long long)now);
	while (adict_tuple_iter_next(t, &cursor, key, &value) == 1) {
		bool is_new;

		row = cursor - 1;
		if (row >= w->nrows)
			break;
		seen = w->keys + row * w->nw;
		is_new = key_cmp(seen, key, w->nw) != 0;
		if (report && (is_new || w->values[row] != value))
			print_change(c, when, key, w->nw, value,
				     is_new ? 0 : w->values[row], is_new,
				     interval, !changes++);
		memcpy(seen, key, w->nw * sizeof(*key));
		w->values[row] = value;
	}
	if (report && c->json)
		fputs("]}\n", stdout);
	fflush(stdout);
	return changes;
}

static void sleep_seconds(double sec)
{
	struct timespec ts = {
		.tv_sec = (time_t)sec,
		.tv_nsec = (long)((sec - (double)(time_t)sec) * 1e9),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int watch_table(const struct ctx *c, struct table_src *src,
		       double interval, unsigned long long count)
{
	struct adict_table_info info;
	struct watch_state w;
	unsigned long long i;
	struct adict *t;
	int ret;

	ret = open_table(c, src, ADICT_ATTACH_RDONLY, &t);
	if (ret)
		return ret;
	ret = adict_info(t, &info);
	if (!ret)
		ret = watch_init(&w, &info);
	if (ret) {
		adict_close(t);
		return die_table(c, ret, src_name(src));
	}
	watch_pass(c, t, &w, false, interval);
	if (!c->json)
		fprintf(stderr, "watching '%s' (%llu keys) every %gs; columns: time key value change rate\n",
			src_name(src), (unsigned long long)info.used, interval);
	for (i = 0; !count || i < count; i++) {
		sleep_seconds(interval);
		watch_pass(c, t, &w, true, interval);
	}
	watch_free(&w);
	adict_close(t);
	return EXIT_OK;
}

/* watch NAME | -F FILE [--interval SECONDS] [--count N] */
int cmd_watch(struct ctx *c, const struct args *a)
{
	struct table_src src = { .file = arg_str(a, OPT_FILE) };
	const char *ival = arg_str(a, 'i'), *cnt = arg_str(a, 'n');
	unsigned long long count = 0;
	double interval = 1.0;

	if (ival && parse_seconds(ival, &interval))
		return usage_error(c, "bad --interval '%s': seconds, above 0 and at most 86400", ival);
	if (cnt && (parse_u64(cnt, &count) || !count))
		return usage_error(c, "bad --count '%s': a number of intervals, at least 1", cnt);
	if (a->npos != (src.file ? 0 : 1))
		return usage_error(c, "give a table NAME, or -F FILE");
	src.name = a->npos ? a->pos[0] : NULL;
	return watch_table(c, &src, interval, count);
}
