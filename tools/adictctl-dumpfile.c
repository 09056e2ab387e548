// SPDX-License-Identifier: MIT
/*
 * adictctl: the dump formats (Documentation/dump-format.rst).
 *
 * A dump is logical, not a copy of the table's memory: the table's name,
 * capacity, mode and grant, then its pairs sorted by key.  The binary
 * format is little-endian with a CRC-64 over the header and another over
 * the whole file; the text format carries the same fields as lines, for
 * people and scripts.  Restoring re-inserts the pairs through libadict, so
 * a dump survives any change of the in-memory table format, and two binary
 * dumps of equal tables are equal bytes.
 *
 * Binary:
 *
 *   offset  size  field
 *        0     8  magic "ADICTDMP"
 *        8     4  version (1)
 *       12     4  header_bytes (128)
 *       16     8  capacity
 *       24     8  count (pairs)
 *       32     4  mode
 *       36     4  grant
 *       40     4  flags (DUMP_F_NAMED)
 *       44     4  reserved, 0
 *       48    64  name, NUL-padded
 *      112     8  reserved, 0
 *      120     8  header_crc: CRC-64/XZ of bytes 0..119
 *      128  16*n  pairs {key, value}, keys strictly ascending, none 0
 *  128+16n     8  crc: CRC-64/XZ of every byte before it
 *
 * Text:
 *
 *   # atomic-dict text dump 1
 *   # name: web
 *   # capacity: 1024
 *   # mode: 0660
 *   # grant: 0
 *   # count: 2
 *   1 10
 *   7 3
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adictctl.h"

#define DUMP_MAGIC		"ADICTDMP"
#define DUMP_VERSION		1
#define DUMP_HEADER_BYTES	128
#define DUMP_HEADER_CRC_OFF	120
#define DUMP_PAIR_BYTES		16
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
	memcpy(b + 48, h->name, strnlen(h->name, ADICT_NAME_MAX - 1));
	put_le64(b + DUMP_HEADER_CRC_OFF, crc64(0, b, DUMP_HEADER_CRC_OFF));
}

#define WRITE_CHUNK	256	/* pairs encoded per fwrite */

/* fwrite() sets errno on a write error; a short write without one is EIO. */
static int write_error(void)
{
	return errno ? -errno : -EIO;
}

int dump_write(FILE *f, const struct dump_header *h, const struct kv *pairs)
{
	unsigned char buf[WRITE_CHUNK * DUMP_PAIR_BYTES];
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
		for (j = 0; j < n; j++) {
			put_le64(buf + j * DUMP_PAIR_BYTES, pairs[i + j].key);
			put_le64(buf + j * DUMP_PAIR_BYTES + 8, pairs[i + j].value);
		}
		crc = crc64(crc, buf, n * DUMP_PAIR_BYTES);
		if (fwrite(buf, DUMP_PAIR_BYTES, n, f) != n)
			return write_error();
	}
	put_le64(buf, crc);
	return fwrite(buf, DUMP_TRAILER_BYTES, 1, f) == 1 ? 0 : write_error();
}

#define TEXT_MAGIC	"# atomic-dict text dump 1"

int dump_write_text(FILE *f, const struct dump_header *h,
		    const struct kv *pairs)
{
	__u64 i;

	errno = 0;
	fprintf(f, TEXT_MAGIC "\n# name: %s\n# capacity: %llu\n# mode: %04o\n# grant: %u\n# count: %llu\n",
		h->name, (unsigned long long)h->capacity, h->mode, h->grant,
		(unsigned long long)h->count);
	for (i = 0; i < h->count && !ferror(f); i++)
		fprintf(f, "%llu %llu\n", (unsigned long long)pairs[i].key,
			(unsigned long long)pairs[i].value);
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
	return NULL;
}

static const char *header_problem(const unsigned char *b,
				  const struct bin_header *bh)
{
	bool named = bh->h.name[0] != '\0';

	if (bh->header_bytes != DUMP_HEADER_BYTES)
		return "corrupt header: header size is not 128";
	if ((bh->flags & ~DUMP_FLAGS) || !zero(b + 44, 4) || !zero(b + 112, 8))
		return "corrupt header: unknown flags or reserved fields set";
	if (memchr(bh->h.name, '\0', ADICT_NAME_MAX) == NULL)
		return "corrupt header: the name is not NUL-terminated";
	if (named != !!(bh->flags & DUMP_F_NAMED))
		return "corrupt header: the name and the named flag disagree";
	return fields_problem(&bh->h);
}

static const char *pairs_problem(const unsigned char *p, __u64 count,
				 __u64 *bad)
{
	__u64 i, key, prev = 0;

	for (i = 0; i < count; i++, prev = key) {
		key = get_le64(p + i * DUMP_PAIR_BYTES);
		*bad = i;
		if (!key)
			return "key 0";
		if (key <= prev)
			return "keys out of order or repeated";
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
	__u64 want, bad, i;

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
	if (bh.h.version != DUMP_VERSION) {
		errmsg("%s: dump format version %u; this adictctl reads version %d only",
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
	/* No overflow: count <= capacity <= 2^40. */
	want = DUMP_HEADER_BYTES + bh.h.count * DUMP_PAIR_BYTES + DUMP_TRAILER_BYTES;
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
	why = pairs_problem(b + DUMP_HEADER_BYTES, bh.h.count, &bad);
	if (why) {
		errmsg("%s: corrupt pairs: pair %llu: %s", path,
		       (unsigned long long)bad, why);
		return -EBADMSG;
	}
	d->h = bh.h;
	d->pairs = malloc((bh.h.count ? bh.h.count : 1) * sizeof(*d->pairs));
	if (!d->pairs)
		return -ENOMEM;
	for (i = 0; i < bh.h.count; i++) {
		const unsigned char *p = b + DUMP_HEADER_BYTES + i * DUMP_PAIR_BYTES;

		d->pairs[i].key = get_le64(p);
		d->pairs[i].value = get_le64(p + 8);
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

enum { TF_NAME, TF_CAPACITY, TF_MODE, TF_GRANT, TF_COUNT, TF_N };

/* One "# field: value" header line into @h; @seen marks the fields. */
static int text_header_field(struct text_reader *r, const char *line,
			     struct dump_header *h, unsigned int *seen)
{
	static const char *const fields[TF_N] = {
		"name", "capacity", "mode", "grant", "count",
	};
	unsigned long long v = 0;
	const char *val;
	unsigned int mode;
	int f;

	for (f = 0; f < TF_N; f++) {
		size_t n = strlen(fields[f]);

		if (!strncmp(line + 2, fields[f], n) && line[2 + n] == ':')
			break;
	}
	if (f == TF_N)
		return text_error(r, "unknown header field; expected name, capacity, mode, grant or count");
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

int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* "KEY VALUE" into @p. */
static int text_pair(struct text_reader *r, char *line, struct kv *p)
{
	unsigned long long k, v;
	char *sp = line + strcspn(line, " \t");

	if (!*sp)
		return text_error(r, "expected \"KEY VALUE\"");
	*sp++ = '\0';
	sp += strspn(sp, " \t");
	if (parse_key(line, &k))
		return text_error(r, "bad key: a non-zero decimal or 0x number below 2^64");
	if (parse_u64(sp, &v))
		return text_error(r, "bad value: a decimal or 0x number below 2^64");
	p->key = k;
	p->value = v;
	return 0;
}

/*
 * The text format: the magic line, the five header fields as "# F: V",
 * then "KEY VALUE" lines in any order; blank lines and other "#" lines
 * after the header are comments.  The count guards against truncation.
 */
static int parse_text(const char *path, char *b, size_t len, struct dump *d)
{
	struct text_reader r = { .path = path, .s = b, .end = b + len };
	unsigned int seen = 0;
	__u64 n = 0, i;
	char *line;
	const char *why;
	int ret;

	line = next_line(&r);
	if (!line || strcmp(line, TEXT_MAGIC))
		return text_error(&r, "not an adictctl text dump");
	memset(&d->h, 0, sizeof(d->h));
	d->h.version = 1;
	d->text = true;
	while ((line = next_line(&r)) && !strncmp(line, "# ", 2) &&
	       seen != (1U << TF_N) - 1) {
		ret = text_header_field(&r, line, &d->h, &seen);
		if (ret)
			return ret;
	}
	if (seen != (1U << TF_N) - 1)
		return text_error(&r, "the header needs all of name, capacity, mode, grant and count");
	why = fields_problem(&d->h);
	if (why)
		return text_error(&r, why);
	d->pairs = malloc((d->h.count ? d->h.count : 1) * sizeof(*d->pairs));
	if (!d->pairs)
		return -ENOMEM;
	for (; line; line = next_line(&r)) {
		if (!line[strspn(line, " \t\r")] || line[0] == '#')
			continue;
		if (n == d->h.count)
			return text_error(&r, "more pairs than the header's count");
		ret = text_pair(&r, line, &d->pairs[n]);
		if (ret)
			return ret;
		n++;
	}
	if (n != d->h.count) {
		errmsg("%s: truncated: %llu pairs, the header promises %llu",
		       path, (unsigned long long)n,
		       (unsigned long long)d->h.count);
		return -EBADMSG;
	}
	if (n)
		qsort(d->pairs, n, sizeof(*d->pairs), kv_cmp);
	for (i = 1; i < n; i++) {
		if (d->pairs[i].key == d->pairs[i - 1].key) {
			errmsg("%s: key %llu appears twice", path,
			       (unsigned long long)d->pairs[i].key);
			return -EBADMSG;
		}
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
	if (len >= sizeof(TEXT_MAGIC) - 1 &&
	    !memcmp(buf, TEXT_MAGIC, sizeof(TEXT_MAGIC) - 1))
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
	free(d->pairs);
	d->pairs = NULL;
}

int dump_store(struct adict *t, const struct dump *d, const char *what,
	       __u64 *done)
{
	struct progress pr;
	__u64 i;
	int ret = 0;

	progress_start(&pr, what, d->h.count);
	for (i = 0; i < d->h.count; i++) {
		ret = adict_store(t, d->pairs[i].key, d->pairs[i].value);
		if (ret)
			break;
		progress_step(&pr, i + 1);
	}
	progress_end(&pr);
	*done = i;
	return ret;
}
