// SPDX-License-Identifier: MIT
/*
 * adictctl: row geometries and composite keys (format v2).
 *
 * A table's key is key64 u64 words followed by key32 u32 words, every word
 * non-zero; its value is 64 bits, 32 bits or none (a set).  On the command
 * line a geometry is "--key u64,u64,u32 --value u32" and a key is its
 * words joined by commas, "7,9,3".  Pairs are kept as flat arrays of rows:
 * the key words (u32 words widened, as the adict_tuple_*() calls take
 * them), then the value.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adictctl.h"

/* ---- geometry ------------------------------------------------------------- */

const struct geom geom_default = { .key64 = 1, .key32 = 0, .value_bytes = 8 };

bool geom_valid(const struct geom *g)
{
	struct adict_layout l;

	return adict_layout_init(&l, g->key64, g->key32, g->value_bytes);
}

bool geom_eq(const struct geom *a, const struct geom *b)
{
	return a->key64 == b->key64 && a->key32 == b->key32 &&
	       a->value_bytes == b->value_bytes;
}

void geom_of_info(const struct adict_table_info *in, struct geom *g)
{
	g->key64 = in->key64;
	g->key32 = in->key32;
	g->value_bytes = in->value_bytes;
}

/*
 * "u64,u64,u32": the u64 words first, then the u32 words.
 * Return: 0, or -EINVAL (not that form; or no valid row with @value_bytes).
 */
int geom_parse_key(const char *s, struct geom *g)
{
	unsigned int k64 = 0, k32 = 0;
	const char *end;

	for (; *s; s = *end ? end + 1 : end) {
		end = strchrnul(s, ',');
		if (end - s == 3 && !strncmp(s, "u64", 3) && !k32)
			k64++;
		else if (end - s == 3 && !strncmp(s, "u32", 3))
			k32++;
		else
			return -EINVAL;
		if (k64 > ADICT_KEY64_MAX || k32 > ADICT_KEY32_MAX)
			return -EINVAL;
		if (*end && !end[1])
			return -EINVAL;	/* a trailing comma */
	}
	if (!k64 && !k32)
		return -EINVAL;
	g->key64 = k64;
	g->key32 = k32;
	return 0;
}

int geom_parse_value(const char *s, unsigned int *value_bytes)
{
	if (!strcmp(s, "u64"))
		*value_bytes = 8;
	else if (!strcmp(s, "u32"))
		*value_bytes = 4;
	else if (!strcmp(s, "none"))
		*value_bytes = 0;
	else
		return -EINVAL;
	return 0;
}

void geom_key_name(const struct geom *g, char *buf, size_t len)
{
	unsigned int i;
	size_t n = 0;

	buf[0] = '\0';
	for (i = 0; i < geom_words(g); i++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
				      i ? "," : "", i < g->key64 ? "u64" : "u32");
}

const char *geom_value_name(unsigned int value_bytes)
{
	return value_bytes == 8 ? "u64" : value_bytes == 4 ? "u32" : "none";
}

/* ---- keys ----------------------------------------------------------------- */

/*
 * The words of "7,9,3", syntax only (the geometry is checked by
 * tuple_check() once the table is open).  Return: 0, -EINVAL (not numbers
 * and commas), -ERANGE (a word above 2^64 - 1), -EDOM (a word 0) or -E2BIG
 * (more than ADICT_KEY_WORDS_MAX words).
 */
int tuple_parse(const char *s, struct tuple *k)
{
	char word[32];
	const char *end;
	unsigned long long v;
	size_t len;
	int ret;

	k->n = 0;
	for (;; s = end + 1) {
		end = strchrnul(s, ',');
		len = (size_t)(end - s);
		if (!len || len >= sizeof(word))
			return len ? -ERANGE : -EINVAL;
		if (k->n == ADICT_KEY_WORDS_MAX)
			return -E2BIG;
		memcpy(word, s, len);
		word[len] = '\0';
		ret = parse_key(word, &v);
		if (ret)
			return ret;
		k->w[k->n++] = v;
		if (!*end)
			return 0;
	}
}

/* The words fit @g: their number, and the u32 words below 2^32. */
int tuple_check(const struct tuple *k, const struct geom *g)
{
	unsigned int i;

	if (k->n != geom_words(g))
		return -EBADR;
	for (i = g->key64; i < k->n; i++)
		if (k->w[i] > 0xffffffffULL)
			return -EOVERFLOW;
	return 0;
}

/* tuple_parse() and tuple_check() errors as a usage message. */
int tuple_error(const struct ctx *c, const char *s, int err,
		const struct geom *g)
{
	char kn[ADICT_KEY_WORDS_MAX * 4 + 1];

	switch (err) {
	case -EDOM:
		if (!strchr(s, ','))
			return usage_error(c, "key 0 is not allowed: key 0 marks an empty slot");
		return usage_error(c, "key '%s': a key word 0 is not allowed (0 marks an empty row)", s);
	case -ERANGE:
		return usage_error(c, "key '%s': a word does not fit in 64 bits", s);
	case -E2BIG:
		return usage_error(c, "key '%s': more than %d words", s,
				   ADICT_KEY_WORDS_MAX);
	case -EBADR:
		geom_key_name(g, kn, sizeof(kn));
		return usage_error(c, "key '%s' does not fit the table: its keys are %u word%s (%s)",
				   s, geom_words(g), geom_words(g) == 1 ? "" : "s", kn);
	case -EOVERFLOW:
		geom_key_name(g, kn, sizeof(kn));
		return usage_error(c, "key '%s': a u32 word is above 4294967295 (the table's keys are %s)",
				   s, kn);
	}
	return usage_error(c, "bad key '%s': non-zero decimal or 0x numbers joined by commas, as 7 or 7,9", s);
}

void tuple_format(const __u64 *w, unsigned int n, char *buf, size_t len)
{
	unsigned int i;
	size_t o = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%llu",
				      i ? "," : "", (unsigned long long)w[i]);
}

/* "key": a number for a one-word key, an array of numbers otherwise. */
void json_kv_tuple(FILE *f, const char *k, const __u64 *w, unsigned int n,
		   bool comma)
{
	unsigned int i;

	if (n == 1) {
		json_kv_u64(f, k, w[0], comma);
		return;
	}
	fprintf(f, "%s\"%s\": [", comma ? ", " : "", k);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long)w[i]);
	fputc(']', f);
}

/* ---- values --------------------------------------------------------------- */

/* A value (or, with @delta, a delta in two's complement) fits the table. */
bool value_fits(const struct geom *g, unsigned long long v, bool delta)
{
	if (g->value_bytes != 4)
		return true;
	return v <= 0xffffffffULL || (delta && v >= 0ULL - 0xffffffffULL);
}

/* The value a table of @g holds after storing @v: modulo its width. */
unsigned long long value_wrap(const struct geom *g, unsigned long long v)
{
	return g->value_bytes == 4 ? v & 0xffffffffULL : v;
}

/* ---- pairs ---------------------------------------------------------------- */

void pairs_init(struct pairs *p, const struct geom *g)
{
	memset(p, 0, sizeof(*p));
	p->g = *g;
	p->stride = geom_words(g) + 1;
}

int pairs_reserve(struct pairs *p, __u64 n)
{
	__u64 *nw;

	if (n <= p->cap)
		return 0;
	if (n > (__u64)SIZE_MAX / sizeof(__u64) / p->stride)
		return -ENOMEM;
	nw = realloc(p->w, (size_t)(n * p->stride) * sizeof(__u64));
	if (!nw)
		return -ENOMEM;
	p->w = nw;
	p->cap = n;
	return 0;
}

int pairs_push(struct pairs *p, const __u64 *key, __u64 value)
{
	int ret;

	if (p->n == p->cap) {
		ret = pairs_reserve(p, p->cap ? 2 * p->cap : 1024);
		if (ret)
			return ret;
	}
	memcpy(pair_key(p, p->n), key, (p->stride - 1) * sizeof(__u64));
	pair_key(p, p->n)[p->stride - 1] = value;
	p->n++;
	return 0;
}

void pairs_free(struct pairs *p)
{
	free(p->w);
	p->w = NULL;
	p->n = p->cap = 0;
}

/* Keys in the order of their words, each compared as a number. */
int key_cmp(const __u64 *a, const __u64 *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static int pair_cmp(const void *a, const void *b, void *arg)
{
	return key_cmp(a, b, *(const unsigned int *)arg);
}

void pairs_sort(struct pairs *p)
{
	unsigned int n = p->stride - 1;

	if (p->n)	/* qsort(NULL, 0, ...) is undefined */
		qsort_r(p->w, (size_t)p->n, p->stride * sizeof(__u64),
			pair_cmp, &n);
}

/* After pairs_sort(): the index of the first key that repeats, or -1. */
long long pairs_repeat(const struct pairs *p)
{
	__u64 i;

	for (i = 1; i < p->n; i++)
		if (!key_cmp(pair_key(p, i - 1), pair_key(p, i), p->stride - 1))
			return (long long)i;
	return -1;
}
