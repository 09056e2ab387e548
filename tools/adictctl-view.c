// SPDX-License-Identifier: MIT
/*
 * adictctl: the commands that look at tables without changing them:
 * list (the module's /proc listing), watch (keys whose values change) and
 * export --prometheus (the Prometheus text exposition format).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adictctl.h"

/* ---- list ----------------------------------------------------------------- */

/* One line of /proc/driver/atomic_dict (kmod/atomic_dict.c, adict_seq_show). */
struct proc_row {
	unsigned long long id, capacity, used, bytes;
	unsigned int uid, gid, mode, users;
	char name[ADICT_NAME_MAX];	/* "-" when anonymous */
	char state[16];			/* named, unlinked or anon */
};

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

static void print_row_json(const struct proc_row *r, bool first)
{
	fputs(first ? "{" : ", {", stdout);
	json_kv_u64(stdout, "id", r->id, false);
	json_kv_str(stdout, "name", strcmp(r->name, "-") ? r->name : "", true);
	json_kv_str(stdout, "state", r->state, true);
	json_kv_u64(stdout, "uid", r->uid, true);
	json_kv_u64(stdout, "gid", r->gid, true);
	json_kv_mode(stdout, r->mode, true);
	json_kv_u64(stdout, "capacity", r->capacity, true);
	json_kv_u64(stdout, "used", r->used, true);
	json_kv_u64(stdout, "bytes", r->bytes, true);
	json_kv_u64(stdout, "users", r->users, true);
	fputc('}', stdout);
}

static void print_row(const struct proc_row *r)
{
	double pct = r->capacity ? 100.0 * (double)r->used /
				   (double)r->capacity : 0;

	printf("%-6llu %-24s %-8s %6u %6u  %04o %12llu %12llu %5.1f%% %12llu %5u\n",
	       r->id, r->name, r->state, r->uid, r->gid, r->mode, r->capacity,
	       r->used, pct, r->bytes, r->users);
}

static int list_tables(const struct ctx *c, FILE *f, const char *path)
{
	struct proc_row r;
	char line[512];
	int lineno = 0, rows = 0, ret;

	if (c->json)
		fputc('[', stdout);
	else
		printf("%-6s %-24s %-8s %6s %6s  %4s %12s %12s %6s %12s %5s\n",
		       "ID", "NAME", "STATE", "UID", "GID", "MODE", "CAPACITY",
		       "USED", "USE", "BYTES", "USERS");
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		ret = parse_proc_line(line, &r);
		if (ret < 0) {
			errmsg("%s:%d: unexpected line; is adictctl from the module's release?",
			       path, lineno);
			return EXIT_FAIL;
		}
		if (!ret)
			continue;
		if (c->json)
			print_row_json(&r, !rows);
		else
			print_row(&r);
		rows++;
	}
	if (c->json)
		fputs("]\n", stdout);
	return EXIT_OK;
}

/* list: the tables of the device.  ADICTCTL_PROC overrides the path. */
int cmd_list(struct ctx *c, int argc, char **argv)
{
	static const struct optdef defs[] = { COMMON_OPTS };
	const char *path = getenv("ADICTCTL_PROC"), *arg;
	struct optparse p;
	FILE *f;
	int o, ret;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		if (o == OPT_POS)
			return usage_error(c, "unexpected argument '%s'", arg);
		if (!common_opt(c, o))
			return usage_hint(c);
	}
	if (c->help)
		return cmd_help(c);
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

int cmd_usage(struct ctx *c, int argc, char **argv)
{
	static const struct optdef defs[] = { COMMON_OPTS };
	struct adict_usage u;
	struct optparse p;
	const char *arg;
	bool exempt;
	int o, ret;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		if (o == OPT_POS)
			return usage_error(c, "unexpected argument '%s'", arg);
		if (!common_opt(c, o))
			return usage_hint(c);
	}
	if (c->help)
		return cmd_help(c);
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

/* The last value seen in each slot; keys never move, so a slot is a key. */
struct watch_state {
	__u64 nslots;
	__u64 *keys;
	__u64 *values;
};

static int watch_init(struct watch_state *w, __u64 nbuckets)
{
	w->nslots = nbuckets * ADICT_BUCKET_SLOTS;
	w->keys = calloc(w->nslots, sizeof(*w->keys));
	w->values = calloc(w->nslots, sizeof(*w->values));
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

static void print_change(const struct ctx *c, const char *when, __u64 key,
			 __u64 value, __u64 old, bool is_new, double interval,
			 bool first)
{
	long long delta = (long long)(value - old);

	if (c->json) {
		fputs(first ? "{" : ", {", stdout);
		json_kv_u64(stdout, "key", key, false);
		json_kv_u64(stdout, "value", value, true);
		fprintf(stdout, ", \"delta\": %lld", delta);
		json_kv_bool(stdout, "new", is_new, true);
		fputc('}', stdout);
	} else {
		printf("%s %20llu %20llu %+20lld %12.1f/s%s\n", when,
		       (unsigned long long)key, (unsigned long long)value, delta,
		       (double)delta / interval, is_new ? "  (new)" : "");
	}
}

/* Compare the table with the last pass; print what changed, remember it. */
static int watch_pass(const struct ctx *c, struct adict *t,
		      struct watch_state *w, bool report, double interval)
{
	__u64 cursor = 0, key, value, slot;
	char when[16];
	time_t now = time(NULL);
	struct tm tm;
	int changes = 0;

	strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&now, &tm));
	if (report && c->json)
		printf("{\"time\": %lld, \"changes\": [", (long long)now);
	while (adict_iter_next(t, &cursor, &key, &value) == 1) {
		bool is_new;

		slot = cursor - 1;
		if (slot >= w->nslots)
			break;
		is_new = w->keys[slot] != key;
		if (report && (is_new || w->values[slot] != value))
			print_change(c, when, key, value,
				     is_new ? 0 : w->values[slot], is_new,
				     interval, !changes++);
		w->keys[slot] = key;
		w->values[slot] = value;
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
		ret = watch_init(&w, info.nbuckets);
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
int cmd_watch(struct ctx *c, int argc, char **argv)
{
	static const struct optdef defs[] = {
		{ "interval", 'i', true }, { "count", 'n', true },
		{ "file", 'F', true }, COMMON_OPTS
	};
	struct table_src src = { 0 };
	unsigned long long count = 0;
	const char *pos[1], *arg;
	double interval = 1.0;
	struct optparse p;
	int o, n = 0, ret;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		ret = 0;
		switch (o) {
		case OPT_POS:
			ret = add_pos(c, pos, &n, 1, arg);
			break;
		case 'i':
			if (parse_seconds(arg, &interval))
				ret = usage_error(c, "bad --interval '%s': seconds, above 0 and at most 86400", arg);
			break;
		case 'n':
			if (parse_u64(arg, &count) || !count)
				ret = usage_error(c, "bad --count '%s': a number of intervals, at least 1", arg);
			break;
		case 'F':
			src.file = arg;
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
	return watch_table(c, &src, interval, count);
}

/* ---- export --prometheus -------------------------------------------------- */

struct export_opts {
	const char *metric;
	const char *label;
	const char *map;	/* file of "KEY LABELVALUE" lines */
	const char *type;	/* gauge or counter */
	const char *help;
	const char *out;
	bool all;		/* with a map: unmapped keys too */
	bool table_stats;
};

struct map_entry {
	__u64 key;
	char *label;
};

struct key_map {
	struct map_entry *e;
	size_t n;
};

static bool valid_metric_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_' && *s != ':')
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != ':')
			return false;
	return true;
}

static bool valid_label_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	if (s[0] == '_' && s[1] == '_')
		return false;	/* reserved for Prometheus itself */
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Label values escape \, " and newline; HELP text escapes \ and newline. */
static void prom_escaped(FILE *f, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

static void map_free(struct key_map *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->e[i].label);
	free(m->e);
}

static char *trim(char *s)
{
	char *end;

	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int map_add(struct key_map *m, __u64 key, const char *label)
{
	struct map_entry *ne;

	ne = realloc(m->e, (m->n + 1) * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	m->e = ne;
	m->e[m->n].key = key;
	m->e[m->n].label = strdup(label);
	if (!m->e[m->n].label)
		return -ENOMEM;
	m->n++;
	return 0;
}

/* Why line @s cannot join map @m, or NULL; fills *key and *label. */
static const char *map_line_problem(const struct key_map *m, char *s,
				    __u64 *key, char **label)
{
	unsigned long long k;
	char *sp;
	size_t i;

	sp = s + strcspn(s, " \t");
	if (!*sp)
		return "expected \"KEY LABEL\"";
	*sp = '\0';
	if (parse_key(s, &k))
		return "bad key: a non-zero decimal or 0x number";
	*label = trim(sp + 1);
	if (!**label)
		return "empty label";
	for (i = 0; i < m->n; i++) {
		if (m->e[i].key == k)
			return "key mapped twice";
		if (!strcmp(m->e[i].label, *label))
			return "label used twice (Prometheus refuses duplicate series)";
	}
	*key = k;
	return NULL;
}

static int map_read(const struct ctx *c, const char *path, struct key_map *m)
{
	char line[1024], *s, *label;
	const char *why;
	int lineno = 0, ret = 0;
	__u64 key;
	FILE *f;

	memset(m, 0, sizeof(*m));
	f = fopen(path, "re");
	if (!f)
		return die_file(c, -errno, path);
	while (!ret && fgets(line, sizeof(line), f)) {
		lineno++;
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		why = map_line_problem(m, s, &key, &label);
		if (why) {
			errmsg("%s:%d: %s", path, lineno, why);
			ret = EXIT_USAGE;
		} else if (map_add(m, key, label)) {
			ret = die_file(c, -ENOMEM, path);
		}
	}
	fclose(f);
	if (ret)
		map_free(m);
	return ret;
}

static bool map_has(const struct key_map *m, __u64 key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].key == key)
			return true;
	return false;
}

static void prom_family(FILE *f, const char *metric, const char *help,
			const char *type)
{
	fprintf(f, "# HELP %s ", metric);
	prom_escaped(f, help, false);
	fprintf(f, "\n# TYPE %s %s\n", metric, type);
}

static void prom_sample(FILE *f, const char *metric, const char *label,
			const char *value_label, __u64 value)
{
	fprintf(f, "%s{%s=\"", metric, label);
	prom_escaped(f, value_label, true);
	fprintf(f, "\"} %llu\n", (unsigned long long)value);
}

static void prom_table_stats(FILE *f, const char *table,
			     const struct adict_table_info *in)
{
	prom_family(f, "atomic_dict_table_capacity_keys",
		    "Keys the atomic_dict table accepts.", "gauge");
	prom_sample(f, "atomic_dict_table_capacity_keys", "table", table,
		    in->capacity);
	prom_family(f, "atomic_dict_table_used_keys",
		    "Keys present in the atomic_dict table (never removed).",
		    "gauge");
	prom_sample(f, "atomic_dict_table_used_keys", "table", table, in->used);
}

/* The samples: mapped keys in map order, then (no map, or --all) the rest. */
static int prom_samples(FILE *f, struct adict *t, const struct export_opts *eo,
			const struct key_map *m)
{
	char num[24];
	struct kv *p;
	__u64 i, n, v;
	size_t j;
	int ret;

	for (j = 0; j < m->n; j++) {
		ret = adict_find(t, m->e[j].key, &v);
		if (ret == -ENOENT)
			v = 0;	/* absent keys read as 0 */
		else if (ret)
			return ret;
		prom_sample(f, eo->metric, eo->label, m->e[j].label, v);
	}
	if (m->n && !eo->all)
		return 0;
	ret = collect_pairs(t, &p, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (map_has(m, p[i].key))
			continue;
		snprintf(num, sizeof(num), "%llu", (unsigned long long)p[i].key);
		prom_sample(f, eo->metric, eo->label, num, p[i].value);
	}
	free(p);
	return 0;
}

static int export_table(const struct ctx *c, struct table_src *src,
			const struct export_opts *eo, const struct key_map *m)
{
	struct adict_table_info info;
	char help[160];
	struct out_file o;
	struct adict *t;
	int ret;

	ret = open_table(c, src, ADICT_ATTACH_RDONLY, &t);
	if (ret)
		return ret;
	ret = adict_info(t, &info);
	if (ret) {
		adict_close(t);
		return die_table(c, ret, src_name(src));
	}
	ret = out_open(&o, eo->out);
	if (ret) {
		adict_close(t);
		return die_file(c, ret, eo->out);
	}
	snprintf(help, sizeof(help), "Values of atomic_dict table %s.",
		 src_name(src));
	if (eo->table_stats)
		prom_table_stats(o.f, src_name(src), &info);
	prom_family(o.f, eo->metric, eo->help ? eo->help : help, eo->type);
	ret = prom_samples(o.f, t, eo, m);
	adict_close(t);
	if (ret) {
		out_abort(&o);
		return die_table(c, ret, src_name(src));
	}
	ret = out_commit(&o);
	return ret ? die_file(c, ret, eo->out ? eo->out : "standard output") : 0;
}

static int export_opt(struct ctx *c, int o, const char *arg,
		      struct export_opts *eo, struct table_src *src,
		      bool *prometheus)
{
	switch (o) {
	case 'P':
		*prometheus = true;
		break;
	case 'M':
		eo->metric = arg;
		break;
	case 'L':
		eo->label = arg;
		break;
	case 'm':
		eo->map = arg;
		break;
	case 'T':
		eo->type = arg;
		break;
	case 'H':
		eo->help = arg;
		break;
	case 'a':
		eo->all = true;
		break;
	case 's':
		eo->table_stats = false;
		break;
	case 'o':
		eo->out = arg;
		break;
	case 'F':
		src->file = arg;
		break;
	default:
		return common_opt(c, o) ? 0 : usage_hint(c);
	}
	return 0;
}

static int export_check(const struct ctx *c, const struct export_opts *eo)
{
	if (!valid_metric_name(eo->metric))
		return usage_error(c, "bad --metric '%s': letters, digits, '_' and ':', not starting with a digit", eo->metric);
	if (!valid_label_name(eo->label))
		return usage_error(c, "bad --label '%s': letters, digits and '_', not starting with a digit or \"__\"", eo->label);
	if (strcmp(eo->type, "gauge") && strcmp(eo->type, "counter") &&
	    strcmp(eo->type, "untyped"))
		return usage_error(c, "bad --type '%s': gauge, counter or untyped", eo->type);
	if (eo->all && !eo->map)
		return usage_error(c, "--all only makes sense with --map");
	return 0;
}

/* export --prometheus NAME | -F FILE [options] */
int cmd_export(struct ctx *c, int argc, char **argv)
{
	static const struct optdef defs[] = {
		{ "prometheus", 'P', false }, { "metric", 'M', true },
		{ "label", 'L', true }, { "map", 'm', true },
		{ "type", 'T', true }, { "help-text", 'H', true },
		{ "all", 'a', false }, { "no-table-stats", 's', false },
		{ "output", 'o', true }, { "file", 'F', true }, COMMON_OPTS
	};
	struct export_opts eo = {
		.metric = "atomic_dict_value", .label = "key", .type = "gauge",
		.table_stats = true,
	};
	struct table_src src = { 0 };
	const char *pos[1], *arg;
	struct key_map m = { 0 };
	bool prometheus = false;
	struct optparse p;
	int o, n = 0, ret;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		ret = o == OPT_POS ? add_pos(c, pos, &n, 1, arg) :
		      export_opt(c, o, arg, &eo, &src, &prometheus);
		if (ret)
			return ret;
	}
	if (c->help)
		return cmd_help(c);
	if (!prometheus)
		return usage_error(c, "choose the format: --prometheus (the only one so far)");
	if (n != (src.file ? 0 : 1))
		return usage_error(c, "give a table NAME, or -F FILE");
	ret = export_check(c, &eo);
	if (ret)
		return ret;
	if (eo.map) {
		ret = map_read(c, eo.map, &m);
		if (ret)
			return ret;
	}
	src.name = n ? pos[0] : NULL;
	ret = export_table(c, &src, &eo, &m);
	map_free(&m);
	return ret;
}
