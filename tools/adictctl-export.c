// SPDX-License-Identifier: MIT
/*
 * adictctl: export --prometheus, a table in the Prometheus text exposition
 * format (for node_exporter's textfile collector, or a scrape script).  A
 * composite key gives one label per word; --map names whole keys.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "adictctl.h"

/* ---- export --prometheus -------------------------------------------------- */

struct export_opts {
	const char *metric;
	const char *label;	/* one name, or one per key word, comma-joined */
	const char *map;	/* file of "KEY LABELVALUE" lines */
	const char *type;	/* gauge or counter */
	const char *help;
	const char *out;
	unsigned int out_mode;	/* --output-mode, or 0: from the table */
	bool all;		/* with a map: unmapped keys too */
	bool table_stats;
};

struct map_entry {
	struct tuple key;
	char *label;
};

/* The label names of a sample: one, or one per key word. */
#define LABEL_NAME_MAX	64
struct labels {
	unsigned int n;
	char name[ADICT_KEY_WORDS_MAX][LABEL_NAME_MAX];
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

static int map_add(struct key_map *m, const struct tuple *key, const char *label)
{
	struct map_entry *ne;

	ne = realloc(m->e, (m->n + 1) * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	m->e = ne;
	m->e[m->n].key = *key;
	m->e[m->n].label = strdup(label);
	if (!m->e[m->n].label)
		return -ENOMEM;
	m->n++;
	return 0;
}

/* Why line @s cannot join map @m, or NULL; fills *key and *label. */
static const char *map_line_problem(const struct key_map *m, char *s,
				    const struct geom *g, struct tuple *key,
				    char **label)
{
	char *sp;
	size_t i;
	int ret;

	sp = s + strcspn(s, " \t");
	if (!*sp)
		return "expected \"KEY LABEL\"";
	*sp = '\0';
	ret = tuple_parse(s, key);
	if (!ret)
		ret = tuple_check(key, g);
	if (ret == -EBADR)
		return "bad key: not as many words as the table's keys";
	if (ret)
		return "bad key: non-zero decimal or 0x words joined by commas (u32 words below 2^32)";
	*label = trim(sp + 1);
	if (!**label)
		return "empty label";
	for (i = 0; i < m->n; i++) {
		if (!key_cmp(m->e[i].key.w, key->w, key->n))
			return "key mapped twice";
		if (!strcmp(m->e[i].label, *label))
			return "label used twice (Prometheus refuses duplicate series)";
	}
	return NULL;
}

static int map_read(const struct ctx *c, const char *path,
		    const struct geom *g, struct key_map *m)
{
	char line[1024], *s, *label;
	const char *why;
	int lineno = 0, ret = 0;
	struct tuple key;
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
		why = map_line_problem(m, s, g, &key, &label);
		if (why) {
			errmsg("%s:%d: %s", path, lineno, why);
			ret = EXIT_USAGE;
		} else if (map_add(m, &key, label)) {
			ret = die_file(c, -ENOMEM, path);
		}
	}
	fclose(f);
	if (ret)
		map_free(m);
	return ret;
}

static bool map_has(const struct key_map *m, const __u64 *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!key_cmp(m->e[i].key.w, key, m->e[i].key.n))
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

/* One label per key word: metric{a="7",b="9"} value. */
static void prom_sample_words(FILE *f, const char *metric,
			      const struct labels *l, const __u64 *key,
			      __u64 value)
{
	unsigned int i;

	fprintf(f, "%s{", metric);
	for (i = 0; i < l->n; i++)
		fprintf(f, "%s%s=\"%llu\"", i ? "," : "", l->name[i],
			(unsigned long long)key[i]);
	fprintf(f, "} %llu\n", (unsigned long long)value);
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

/*
 * The samples: mapped keys in map order, then (no map, or --all) the rest.
 * Return: the number of samples, or -errno.
 */
static long long prom_samples(FILE *f, struct adict *t, const struct geom *g,
			      const struct export_opts *eo,
			      const struct labels *l, const struct key_map *m,
			      const char *what)
{
	long long samples = 0;
	char kt[TUPLE_TEXT_MAX];
	struct pairs p;
	__u64 i, v;
	size_t j;
	int ret;

	for (j = 0; j < m->n; j++) {
		ret = adict_tuple_find(t, m->e[j].key.w, &v);
		if (ret == -ENOENT)
			v = 0;	/* absent keys read as 0 */
		else if (ret)
			return ret;
		else if (!g->value_bytes)
			v = 1;	/* a set's present key */
		prom_sample(f, eo->metric, l->name[0], m->e[j].label, v);
		samples++;
	}
	if (m->n && !eo->all)
		return samples;
	ret = collect_pairs(t, what, &p);
	if (ret)
		return ret;
	for (i = 0; i < p.n; i++) {
		v = p.g.value_bytes ? pair_value(&p, i) : 1;
		if (map_has(m, pair_key(&p, i)))
			continue;
		if (l->n == 1) {
			tuple_format(pair_key(&p, i), geom_words(&p.g), kt, sizeof(kt));
			prom_sample(f, eo->metric, l->name[0], kt, v);
		} else {
			prom_sample_words(f, eo->metric, l, pair_key(&p, i), v);
		}
		samples++;
	}
	pairs_free(&p);
	return samples;
}

static void print_exported(const struct ctx *c, const struct export_opts *eo,
			   const char *table, long long samples)
{
	if (!c->json)
		return;
	fputc('{', stdout);
	json_kv_str(stdout, "file", eo->out, false);
	json_kv_str(stdout, "format", "prometheus", true);
	json_kv_str(stdout, "table", table, true);
	json_kv_str(stdout, "metric", eo->metric, true);
	json_kv_u64(stdout, "samples", (unsigned long long)samples, true);
	fputs("}\n", stdout);
}

/*
 * The label names for the table's keys: --label's one name for a one-word
 * key, or with --map; else one name per key word, given comma-joined, or
 * by default key1, key2, ...
 */
static int parse_labels(const struct ctx *c, const struct export_opts *eo,
			const struct geom *g, struct labels *l)
{
	unsigned int nw = eo->map ? 1 : geom_words(g), i, j;
	const char *s = eo->label, *end;

	l->n = 0;
	if (!s) {
		for (i = 0; i < nw; i++)
			snprintf(l->name[i], LABEL_NAME_MAX, nw == 1 ? "key" : "key%u",
				 i + 1);
		l->n = nw;
		return 0;
	}
	for (; ; s = end + 1) {
		end = strchrnul(s, ',');
		if (l->n == nw || end - s >= LABEL_NAME_MAX)
			break;
		memcpy(l->name[l->n], s, (size_t)(end - s));
		l->name[l->n][end - s] = '\0';
		if (!valid_label_name(l->name[l->n]))
			return usage_error(c, "bad --label '%s': letters, digits and '_', not starting with a digit or \"__\"", l->name[l->n]);
		for (j = 0; j < l->n; j++)
			if (!strcmp(l->name[j], l->name[l->n]))
				return usage_error(c, "--label '%s': '%s' given twice", eo->label, l->name[j]);
		l->n++;
		if (!*end)
			break;
	}
	if (l->n != nw || *end)
		return usage_error(c, eo->map ?
				   "--label '%s': with --map, one label name (the map names whole keys)" :
				   "--label '%s': give one label name per key word (%u), comma-joined",
				   eo->label, nw);
	return 0;
}

static int export_table(const struct ctx *c, struct table_src *src,
			const struct export_opts *eo)
{
	struct adict_table_info info;
	char help[160], what[96];
	struct key_map m = { 0 };
	struct labels l;
	struct out_file o;
	struct adict *t;
	long long samples;
	unsigned int mode;
	struct geom g;
	int ret;

	ret = open_table(c, src, ADICT_ATTACH_RDONLY, &t);
	if (ret)
		return ret;
	ret = adict_info(t, &info);
	if (ret) {
		adict_close(t);
		return die_table(c, ret, src_name(src));
	}
	geom_of_info(&info, &g);
	ret = parse_labels(c, eo, &g, &l);
	if (!ret && eo->map)
		ret = map_read(c, eo->map, &g, &m);
	if (ret) {
		adict_close(t);
		return ret;
	}
	mode = eo->out_mode ? eo->out_mode :
	       out_mode_of(src->file ? src->saved_mode :
			   info.backend == ADICT_BACKEND_DEVICE ? info.mode : 0);
	ret = out_open(&o, eo->out, mode);
	if (ret) {
		adict_close(t);
		map_free(&m);
		return die_out_open(c, ret, eo->out);
	}
	snprintf(help, sizeof(help), "Values of atomic_dict table %s.",
		 src_name(src));
	snprintf(what, sizeof(what), "export %s", src_name(src));
	if (eo->table_stats)
		prom_table_stats(o.f, src_name(src), &info);
	prom_family(o.f, eo->metric, eo->help ? eo->help : help, eo->type);
	samples = prom_samples(o.f, t, &g, eo, &l, &m, what);
	adict_close(t);
	map_free(&m);
	if (samples < 0) {
		out_abort(&o);
		return die_table(c, (int)samples, src_name(src));
	}
	ret = out_commit(&o);
	if (ret)
		return die_output(c, ret, o.shown);
	print_exported(c, eo, src_name(src), samples);
	return EXIT_OK;
}

static int export_check(const struct ctx *c, const struct export_opts *eo)
{
	char name[LABEL_NAME_MAX];
	const char *s, *end;

	if (!valid_metric_name(eo->metric))
		return usage_error(c, "bad --metric '%s': letters, digits, '_' and ':', not starting with a digit", eo->metric);
	/* Each name of --label; their number is checked against the table. */
	for (s = eo->label; s; s = *end ? end + 1 : NULL) {
		end = strchrnul(s, ',');
		if (end - s >= LABEL_NAME_MAX)
			return usage_error(c, "bad --label '%s': a name is at most %d bytes", eo->label, LABEL_NAME_MAX - 1);
		memcpy(name, s, (size_t)(end - s));
		name[end - s] = '\0';
		if (!valid_label_name(name))
			return usage_error(c, "bad --label '%s': letters, digits and '_', not starting with a digit or \"__\"", name);
	}
	if (strcmp(eo->type, "gauge") && strcmp(eo->type, "counter") &&
	    strcmp(eo->type, "untyped"))
		return usage_error(c, "bad --type '%s': gauge, counter or untyped", eo->type);
	if (eo->all && !eo->map)
		return usage_error(c, "--all only makes sense with --map");
	return 0;
}

/* export --prometheus NAME | -F FILE [options] */
int cmd_export(struct ctx *c, const struct args *a)
{
	struct export_opts eo = {
		.metric = arg_str(a, 'M') ? arg_str(a, 'M') : "atomic_dict_value",
		.label = arg_str(a, 'L'),
		.type = arg_str(a, 'T') ? arg_str(a, 'T') : "gauge",
		.map = arg_str(a, 'm'),
		.help = arg_str(a, 'H'),
		.out = arg_str(a, OPT_OUTPUT),
		.all = arg_flag(a, 'a'),
		.table_stats = !arg_flag(a, 's'),
	};
	struct table_src src = { .file = arg_str(a, OPT_FILE) };
	const char *omode = arg_str(a, OPT_OUTPUT_MODE);
	int ret;

	if (!arg_flag(a, 'P'))
		return usage_error(c, "choose the format: --prometheus (the only one so far)");
	if (a->npos != (src.file ? 0 : 1))
		return usage_error(c, "give a table NAME, or -F FILE");
	ret = export_check(c, &eo);
	if (ret)
		return ret;
	if (omode && (parse_mode(omode, &eo.out_mode) || !eo.out_mode))
		return usage_error(c, "bad --output-mode '%s': octal permission bits, 1 to 0777", omode);
	if (c->json && out_is_stdout(eo.out))
		return usage_error(c, "--json: the samples go to standard output; use -o FILE and --json describes what was written");
	src.name = a->npos ? a->pos[0] : NULL;
	return export_table(c, &src, &eo);
}
