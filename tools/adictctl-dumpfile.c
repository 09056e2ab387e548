// SPDX-License-Identifier: MIT
/*
 * adictctl: the dump formats (Documentation/dump-format.rst).
 *
 * A dump is logical, not a copy of the table's memory: the table's name,
 * capacity, mode, grant and row geometry, then its pairs sorted by key.
 * The binary format is little-endian with a CRC-64 over the header and
 * another over the whole file; the text format carries the same fields as
 * lines, for people and scripts.  Restoring re-inserts the pairs through
 * libadict, so a dump survives any change of the in-memory table format,
 * and two binary dumps of equal tables are equal bytes.  dump writes
 * version 2; load reads versions 1 (one u64 key word, a u64 value) and 2.
 *
 * Binary, version 2 (version 1: key64, key32, value_bytes are reserved
 * zeros and every record is a u64 key and a u64 value):
 *
 *   offset  size  field
 *        0     8  magic "ADICTDMP"
 *        8     4  version (2)
 *       12     4  header_bytes (128)
 *       16     8  capacity
 *       24     8  count (pairs)
 *       32     4  mode
 *       36     4  grant
 *       40     4  flags (DUMP_F_NAMED)
 *       44     4  key64: u64 key words
 *       48    64  name, NUL-padded
 *      112     4  key32: u32 key words
 *      116     4  value_bytes: 8, 4 or 0 (a set)
 *      120     8  header_crc: CRC-64/XZ of bytes 0..119
 *      128  R*n  records: key64 u64 words, key32 u32 words, the value
 *                 (value_bytes bytes); R = 8*key64 + 4*key32 + value_bytes;
 *                 keys strictly ascending word by word, no word 0
 *  128+R*n     8  crc: CRC-64/XZ of every byte before it
 *
 * Text, version 2 (version 1: no key and value lines, "KEY VALUE" pairs):
 *
 *   # atomic-dict text dump 2
 *   # name: web
 *   # capacity: 1024
 *   # mode: 0660
 *   # grant: 0
 *   # key: u64,u32
 *   # value: u32
 *   # count: 2
 *   1,4 10
 *   7,2 3
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adictctl.h"

#define DUMP_MAGIC		"ADICTDMP"
#define DUMP_HEADER_BYTES	128
#define DUMP_HEADER_CRC_OFF	120
#define DUMP_V1_PAIR_BYTES	16
#define DUMP_TRAILER_BYTES	8
#define DUMP_F_NAMED		(1U << 0)
#define DUMP_FLAGS		(DUMP_F_NAMED)

/* ---- CRC-64/XZ (ECMA-182 polynomial, reflected; check 0x995dc9bbdf1939fa) */

#define CRC64_POLY	0xc96c5795d7870f42ULL

static __u64 crc64_table[256];

static void crc64_init(void)
{
	unsigned int i, bit;
	__u64 c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (bit = 0; bit < 8; bit++)
			c = (c & 1) ? (c >> 1) ^ CRC64_POLY : c >> 1;
		crc64_table[i] = c;
	}
}

/* Continue @crc (0 to start) over @len bytes. */
static __u64 crc64(__u64 crc, const unsigned char *p, size_t len)
{
	if (!crc64_table[1])
		crc64_init();
	crc = ~crc;
	while (len--)
		crc = crc64_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- little-endian fields ------------------------------------------------- */

static void put_le32(unsigned char *p, __u32 v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, __u64 v)
{
	put_le32(p, (__u32)v);
	put_le32(p + 4, (__u32)(v >> 32));
}

static __u32 get_le32(const unsigned char *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 |
	       (__u32)p[3] << 24;
}

static __u64 get_le64(const unsigned char *p)
{
	return get_le32(p) | (__u64)get_le32(p + 4) << 32;
}

/* ---- encoding ------------------------------------------------------------- */

/* Bytes of one record of geometry @g. */
static unsigned int record_bytes(const struct geom *g)
{
	return 8 * g->key64 + 4 * g->key32 + g->value_bytes;
}

static void encode_header(unsigned char *b, const struct dump_header *h)
{
	memset(b, 0, DUMP_HEADER_BYTES);
	memcpy(b, DUMP_MAGIC, 8);
	put_le32(b + 8, DUMP_VERSION);
	put_le32(b + 12, DUMP_HEADER_BYTES);
	put_le64(b + 16, h->capacity);
	put_le64(b + 24, h->count);
	put_le32(b + 32, h->mode);
	put_le32(b + 36, h->grant);
	put_le32(b + 40, h->name[0] ? DUMP_F_NAMED : 0);
	put_le32(b + 44, h->g.key64);
	memcpy(b + 48, h->name, strnlen(h->name, ADICT_NAME_MAX - 1));
	put_le32(b + 112, h->g.key32);
	put_le32(b + 116, h->g.value_bytes);
	put_le64(b + DUMP_HEADER_CRC_OFF, crc64(0, b, DUMP_HEADER_CRC_OFF));
}

/* One record: the key's words at their widths, then the value. */
static void encode_record(unsigned char *b, const struct geom *g,
			  const __u64 *key, __u64 value)
{
	unsigned int i;

	for (i = 0; i < g->key64; i++, b += 8)
		put_le64(b, key[i]);
	for (; i < geom_words(g); i++, b += 4)
		put_le32(b, (__u32)key[i]);
	if (g->value_bytes == 8)
		put_le64(b, value);
	else if (g->value_bytes == 4)
		put_le32(b, (__u32)value);
}

#define WRITE_CHUNK	256	/* records encoded per fwrite */

/* fwrite() sets errno on a write error; a short write without one is EIO. */
static int write_error(void)
{
	return errno ? -errno : -EIO;
}

int dump_write(FILE *f, const struct dump_header *h, const struct pairs *p)
{
	unsigned int rb = record_bytes(&h->g);
	unsigned char buf[WRITE_CHUNK * 72];	/* a record is at most 72 bytes */
	__u64 i, crc;
	size_t n;

	errno = 0;
	encode_header(buf, h);
	crc = crc64(0, buf, DUMP_HEADER_BYTES);
	if (fwrite(buf, DUMP_HEADER_BYTES, 1, f) != 1)
		return write_error();
	for (i = 0; i < h->count; i += n) {
		size_t j;

		n = h->count - i < WRITE_CHUNK ? (size_t)(h->count - i) : WRITE_CHUNK;
		for (j = 0; j < n; j++)
			encode_record(buf + j * rb, &h->g, pair_key(p, i + j),
				      pair_value(p, i + j));
		crc = crc64(crc, buf, n * rb);
		if (fwrite(buf, n * rb, 1, f) != 1)
			return write_error();
	}
	put_le64(buf, crc);
	return fwrite(buf, DUMP_TRAILER_BYTES, 1, f) == 1 ? 0 : write_error();
}

#define TEXT_MAGIC1	"# atomic-dict text dump 1"
#define TEXT_MAGIC	"# atomic-dict text dump 2"
#define TEXT_MAGIC_STEM	"# atomic-dict text dump "

int dump_write_text(FILE *f, const struct dump_header *h,
		    const struct pairs *p)
{
	char kn[4 * ADICT_KEY_WORDS_MAX + 1], key[TUPLE_TEXT_MAX];
	__u64 i;

	errno = 0;
	geom_key_name(&h->g, kn, sizeof(kn));
	fprintf(f, TEXT_MAGIC "\n# name: %s\n# capacity: %llu\n# mode: %04o\n# grant: %u\n# key: %s\n# value: %s\n# count: %llu\n",
		h->name, (unsigned long long)h->capacity, h->mode, h->grant,
		kn, geom_value_name(h->g.value_bytes),
		(unsigned long long)h->count);
	for (i = 0; i < h->count && !ferror(f); i++) {
		tuple_format(pair_key(p, i), geom_words(&h->g), key, sizeof(key));
		if (h->g.value_bytes)
			fprintf(f, "%s %llu\n", key,
				(unsigned long long)pair_value(p, i));
		else
			fprintf(f, "%s\n", key);
	}
	return ferror(f) ? write_error() : 0;
}

/* ---- decoding and validation ---------------------------------------------- */

/* The binary header's fields as stored, before validation. */
struct bin_header {
	struct dump_header h;
	__u32 header_bytes;
	__u32 flags;
};

static bool zero(const unsigned char *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

static void decode_header(const unsigned char *b, struct bin_header *bh)
{
	struct dump_header *h = &bh->h;

	h->version = get_le32(b + 8);
	bh->header_bytes = get_le32(b + 12);
	h->capacity = get_le64(b + 16);
	h->count = get_le64(b + 24);
	h->mode = get_le32(b + 32);
	h->grant = get_le32(b + 36);
	bh->flags = get_le32(b + 40);
	memcpy(h->name, b + 48, ADICT_NAME_MAX);
	if (h->version == 1) {
		h->g = geom_default;
	} else {
		h->g.key64 = get_le32(b + 44);
		h->g.key32 = get_le32(b + 112);
		h->g.value_bytes = get_le32(b + 116);
	}
}

/* The header's fields make sense together (the checksum already matched). */
static const char *fields_problem(const struct dump_header *h)
{
	if (!h->capacity || h->capacity > ADICT_CAPACITY_MAX)
		return "corrupt header: capacity out of range";
	if (h->count > h->capacity)
		return "corrupt header: more pairs than capacity";
	if (h->mode & ~0777U)
		return "corrupt header: mode out of range";
	if (h->grant & ~(__u32)ADICT_GRANT_ALL)
		return "corrupt header: unknown operations in grant";
	if (!geom_valid(&h->g))
		return "corrupt header: not a valid row geometry (key64, key32, value_bytes)";
	return NULL;
}

static const char *header_problem(const unsigned char *b,
				  const struct bin_header *bh)
{
	bool named = bh->h.name[0] != '\0';

	if (bh->header_bytes != DUMP_HEADER_BYTES)
		return "corrupt header: header size is not 128";
	if ((bh->flags & ~DUMP_FLAGS) ||
	    (bh->h.version == 1 && (!zero(b + 44, 4) || !zero(b + 112, 8))))
		return "corrupt header: unknown flags or reserved fields set";
	if (memchr(bh->h.name, '\0', ADICT_NAME_MAX) == NULL)
		return "corrupt header: the name is not NUL-terminated";
	if (named != !!(bh->flags & DUMP_F_NAMED))
		return "corrupt header: the name and the named flag disagree";
	return fields_problem(&bh->h);
}

/* Record @i of the records at @p into @key and *value. */
static void decode_record(const unsigned char *p, const struct geom *g,
			  __u64 *key, __u64 *value)
{
	unsigned int i;

	for (i = 0; i < g->key64; i++, p += 8)
		key[i] = get_le64(p);
	for (; i < geom_words(g); i++, p += 4)
		key[i] = get_le32(p);
	*value = g->value_bytes == 8 ? get_le64(p) :
		 g->value_bytes == 4 ? get_le32(p) : 0;
}

/* Decode and check the records: no word 0, keys strictly ascending. */
static const char *records_problem(const unsigned char *b, struct pairs *p,
				   __u64 count, __u64 *bad)
{
	unsigned int rb = record_bytes(&p->g), nw = geom_words(&p->g), w;
	__u64 i, value, key[ADICT_KEY_WORDS_MAX];

	for (i = 0; i < count; i++) {
		*bad = i;
		decode_record(b + i * rb, &p->g, key, &value);
		for (w = 0; w < nw; w++)
			if (!key[w])
				return nw == 1 ? "key 0" : "a key word 0";
		if (i && key_cmp(pair_key(p, i - 1), key, nw) >= 0)
			return "keys out of order or repeated";
		if (pairs_push(p, key, value))	/* room was reserved */
			return "out of memory";
	}
	return NULL;
}

/*
 * Validate the binary dump in @b and decode it into @d.  Return: 0,
 * -EBADMSG with the reason printed as "adictctl: PATH: reason", or
 * -ENOMEM.  Magic and version sit at the same offsets in every version,
 * so a newer file is told apart from a corrupt one.
 */
static int parse_binary(const char *path, const unsigned char *b, size_t len,
			struct dump *d)
{
	struct bin_header bh;
	const char *why;
	__u64 want, bad;
	unsigned int rb;

	if (len < DUMP_HEADER_BYTES) {
		errmsg("%s: truncated: %zu bytes, shorter than the %d-byte dump header",
		       path, len, DUMP_HEADER_BYTES);
		return -EBADMSG;
	}
	if (memcmp(b, DUMP_MAGIC, 8)) {
		errmsg("%s: not an adictctl dump (bad magic)", path);
		return -EBADMSG;
	}
	decode_header(b, &bh);
	if (bh.h.version != 1 && bh.h.version != DUMP_VERSION) {
		errmsg("%s: dump format version %u; this adictctl reads versions 1 and %d",
		       path, bh.h.version, DUMP_VERSION);
		return -EBADMSG;
	}
	if (get_le64(b + DUMP_HEADER_CRC_OFF) != crc64(0, b, DUMP_HEADER_CRC_OFF)) {
		errmsg("%s: header checksum mismatch: the file is corrupt", path);
		return -EBADMSG;
	}
	why = header_problem(b, &bh);
	if (why) {
		errmsg("%s: %s", path, why);
		return -EBADMSG;
	}
	rb = record_bytes(&bh.h.g);
	if (bh.h.version == 1)
		rb = DUMP_V1_PAIR_BYTES;
	/* No overflow: count <= capacity <= 2^40, rb <= 72. */
	want = DUMP_HEADER_BYTES + bh.h.count * rb + DUMP_TRAILER_BYTES;
	if (len < want) {
		errmsg("%s: truncated: %zu bytes, the header promises %llu",
		       path, len, (unsigned long long)want);
		return -EBADMSG;
	}
	if (len > want) {
		errmsg("%s: %llu bytes of unexpected data after the checksum",
		       path, (unsigned long long)(len - want));
		return -EBADMSG;
	}
	if (get_le64(b + want - DUMP_TRAILER_BYTES) !=
	    crc64(0, b, want - DUMP_TRAILER_BYTES)) {
		errmsg("%s: checksum mismatch: the file is corrupt", path);
		return -EBADMSG;
	}
	d->h = bh.h;
	pairs_init(&d->p, &bh.h.g);
	if (pairs_reserve(&d->p, bh.h.count ? bh.h.count : 1))
		return -ENOMEM;
	why = records_problem(b + DUMP_HEADER_BYTES, &d->p, bh.h.count, &bad);
	if (why) {
		errmsg("%s: corrupt pairs: pair %llu: %s", path,
		       (unsigned long long)bad, why);
		return -EBADMSG;
	}
	return 0;
}

/* ---- the text format ------------------------------------------------------ */

struct text_reader {
	const char *path;
	char *s, *end;		/* the unread part of the file */
	unsigned int lineno;
};

/* The next line, NUL-terminated in place, or NULL at the end. */
static char *next_line(struct text_reader *r)
{
	char *line = r->s, *nl;

	if (r->s >= r->end)
		return NULL;
	nl = memchr(r->s, '\n', (size_t)(r->end - r->s));
	if (nl) {
		*nl = '\0';
		r->s = nl + 1;
	} else {
		*r->end = '\0';	/* read_file() leaves a byte for this */
		r->s = r->end;
	}
	r->lineno++;
	return line;
}

static int text_error(const struct text_reader *r, const char *why)
{
	errmsg("%s:%u: %s", r->path, r->lineno, why);
	return -EBADMSG;
}

enum { TF_NAME, TF_CAPACITY, TF_MODE, TF_GRANT, TF_COUNT, TF_KEY, TF_VALUE,
       TF_N };

/* The fields each text version's header needs. */
#define TF_V1	((1U << TF_KEY) - 1)
#define TF_V2	((1U << TF_N) - 1)

/* One "# field: value" header line into @h; @seen marks the fields. */
static int text_header_field(struct text_reader *r, const char *line,
			     struct dump_header *h, unsigned int *seen)
{
	static const char *const fields[TF_N] = {
		"name", "capacity", "mode", "grant", "count", "key", "value",
	};
	unsigned int nf = h->version == 1 ? TF_KEY : TF_N;
	unsigned long long v = 0;
	const char *val;
	unsigned int mode;
	unsigned int f;

	for (f = 0; f < nf; f++) {
		size_t n = strlen(fields[f]);

		if (!strncmp(line + 2, fields[f], n) && line[2 + n] == ':')
			break;
	}
	if (f == nf)
		return text_error(r, h->version == 1 ?
				  "unknown header field; expected name, capacity, mode, grant or count" :
				  "unknown header field; expected name, capacity, mode, grant, key, value or count");
	if (*seen & (1U << f))
		return text_error(r, "header field given twice");
	*seen |= 1U << f;
	val = line + 3 + strlen(fields[f]);
	val += strspn(val, " ");
	switch (f) {
	case TF_NAME:
		if (strlen(val) >= ADICT_NAME_MAX || strpbrk(val, " \t"))
			return text_error(r, "bad name: at most 63 bytes, no blanks");
		snprintf(h->name, sizeof(h->name), "%s", val);
		return 0;
	case TF_MODE:
		if (parse_mode(val, &mode))
			return text_error(r, "bad mode: octal, 0 to 0777");
		h->mode = mode;
		return 0;
	case TF_KEY:
		if (geom_parse_key(val, &h->g))
			return text_error(r, "bad key: u64 and u32 words, u64 first, as u64,u32");
		return 0;
	case TF_VALUE:
		if (geom_parse_value(val, &h->g.value_bytes))
			return text_error(r, "bad value: u64, u32 or none");
		return 0;
	}
	if (parse_u64(val, &v))
		return text_error(r, "bad number");
	if (f == TF_CAPACITY)
		h->capacity = v;
	else if (f == TF_COUNT)
		h->count = v;
	else if (v > 0xffffffffULL)
		return text_error(r, "bad grant");
	else
		h->grant = (__u32)v;
	return 0;
}

/* "KEY VALUE" (a set: "KEY") into @p; KEY is "7" or "7,9". */
static int text_pair(struct text_reader *r, char *line, struct pairs *p)
{
	bool set = !p->g.value_bytes;
	unsigned long long v = 0;
	char *sp = line + strcspn(line, " \t\r");
	struct tuple k;
	int ret;

	if (*sp) {
		*sp++ = '\0';
		sp += strspn(sp, " \t\r");
	}
	if (set && *sp)
		return text_error(r, "expected \"KEY\": the table is a set, with no value");
	if (!set && !*sp)
		return text_error(r, "expected \"KEY VALUE\"");
	ret = tuple_parse(line, &k);
	if (!ret)
		ret = tuple_check(&k, &p->g);
	if (ret == -EBADR)
		return text_error(r, "bad key: not as many words as the header's key");
	if (ret)
		return text_error(r, "bad key: non-zero decimal or 0x words below 2^64 (u32 words below 2^32), joined by commas");
	if (!set) {
		char *rest = sp + strcspn(sp, " \t\r");

		if (rest[strspn(rest, " \t\r")])
			return text_error(r, "expected \"KEY VALUE\" and nothing after it");
		*rest = '\0';
		if (parse_u64(sp, &v) || !value_fits(&p->g, v, false))
			return text_error(r, p->g.value_bytes == 4 ?
					  "bad value: a decimal or 0x number below 2^32" :
					  "bad value: a decimal or 0x number below 2^64");
	}
	return pairs_push(p, k.w, v) ? -ENOMEM : 0;
}

/*
 * The text format: the magic line, the header fields as "# F: V", then
 * pair lines in any order; blank lines and other "#" lines after the
 * header are comments.  The count guards against truncation.
 */
static int parse_text(const char *path, char *b, size_t len, struct dump *d)
{
	struct text_reader r = { .path = path, .s = b, .end = b + len };
	unsigned int seen = 0, want;
	char *line;
	const char *why;
	long long rep;
	char key[TUPLE_TEXT_MAX];
	int ret;

	line = next_line(&r);
	memset(&d->h, 0, sizeof(d->h));
	if (line && !strcmp(line, TEXT_MAGIC1))
		d->h.version = 1;
	else if (line && !strcmp(line, TEXT_MAGIC))
		d->h.version = 2;
	else if (line && !strncmp(line, TEXT_MAGIC_STEM, sizeof(TEXT_MAGIC_STEM) - 1))
		return text_error(&r, "text dump version unknown; this adictctl reads versions 1 and 2");
	else
		return text_error(&r, "not an adictctl text dump");
	d->h.g = geom_default;
	d->text = true;
	want = d->h.version == 1 ? TF_V1 : TF_V2;
	while ((line = next_line(&r)) && !strncmp(line, "# ", 2) &&
	       seen != want) {
		ret = text_header_field(&r, line, &d->h, &seen);
		if (ret)
			return ret;
	}
	if (seen != want)
		return text_error(&r, d->h.version == 1 ?
				  "the header needs all of name, capacity, mode, grant and count" :
				  "the header needs all of name, capacity, mode, grant, key, value and count");
	why = fields_problem(&d->h);
	if (why)
		return text_error(&r, why);
	pairs_init(&d->p, &d->h.g);
	if (pairs_reserve(&d->p, d->h.count ? d->h.count : 1))
		return -ENOMEM;
	for (; line; line = next_line(&r)) {
		if (!line[strspn(line, " \t\r")] || line[0] == '#')
			continue;
		if (d->p.n == d->h.count)
			return text_error(&r, "more pairs than the header's count");
		ret = text_pair(&r, line, &d->p);
		if (ret)
			return ret;
	}
	if (d->p.n != d->h.count) {
		errmsg("%s: truncated: %llu pairs, the header promises %llu",
		       path, (unsigned long long)d->p.n,
		       (unsigned long long)d->h.count);
		return -EBADMSG;
	}
	pairs_sort(&d->p);
	rep = pairs_repeat(&d->p);
	if (rep >= 0) {
		tuple_format(pair_key(&d->p, (__u64)rep), geom_words(&d->h.g),
			     key, sizeof(key));
		errmsg("%s: key %s appears twice", path, key);
		return -EBADMSG;
	}
	return 0;
}

/* ---- reading either format ------------------------------------------------ */

int dump_read(const struct ctx *c, const char *path, struct dump *d)
{
	unsigned char *buf;
	size_t len;
	int ret;

	memset(d, 0, sizeof(*d));
	ret = read_file(path, &buf, &len);
	if (ret)
		return die_file(c, ret, path);
	/* The text magic starts with '#', which no binary dump does. */
	if (len >= sizeof(TEXT_MAGIC_STEM) - 1 &&
	    !memcmp(buf, TEXT_MAGIC_STEM, sizeof(TEXT_MAGIC_STEM) - 1))
		ret = parse_text(path, (char *)buf, len, d);
	else
		ret = parse_binary(path, buf, len, d);
	free(buf);
	if (ret) {
		dump_free(d);
		return ret == -EBADMSG ? EXIT_BADFILE : die_file(c, ret, path);
	}
	return 0;
}

void dump_free(struct dump *d)
{
	pairs_free(&d->p);
}

int dump_store(struct adict *t, const struct dump *d, const char *what,
	       __u64 *done)
{
	struct progress pr;
	__u64 i;
	int ret = 0;

	progress_start(&pr, what, d->h.count);
	for (i = 0; i < d->h.count; i++) {
		ret = d->h.g.value_bytes ?
		      adict_tuple_store(t, pair_key(&d->p, i),
					pair_value(&d->p, i), NULL) :
		      adict_tuple_insert(t, pair_key(&d->p, i));
		if (ret < 0)
			break;
		ret = 0;
		progress_step(&pr, i + 1);
	}
	progress_end(&pr);
	*done = i;
	return ret;
}
