// SPDX-License-Identifier: MIT
/*
 * adictctl: dump files (Documentation/dump-format.rst), and the dump and
 * load commands.
 *
 * A dump is logical, not a copy of the table's memory: the table's name,
 * capacity, mode and grant, then its pairs sorted by key, all little-endian,
 * with a CRC-64 over the header and another over the whole file.  Restoring
 * re-inserts the pairs through libadict, so a dump survives any change of
 * the in-memory table format, and two dumps of equal tables are equal bytes.
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
 */
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

struct dump_header {
	__u32 version;
	__u32 header_bytes;
	__u64 capacity;
	__u64 count;
	__u32 mode;
	__u32 grant;
	__u32 flags;
	char name[ADICT_NAME_MAX];
};

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
	put_le32(b + 40, h->flags);
	memcpy(b + 48, h->name, strnlen(h->name, ADICT_NAME_MAX - 1));
	put_le64(b + DUMP_HEADER_CRC_OFF, crc64(0, b, DUMP_HEADER_CRC_OFF));
}

#define WRITE_CHUNK	256	/* pairs encoded per fwrite */

static int write_dump(FILE *f, const struct dump_header *h,
		      const struct kv *pairs)
{
	unsigned char buf[WRITE_CHUNK * DUMP_PAIR_BYTES];
	__u64 i, crc;
	size_t n;

	encode_header(buf, h);
	crc = crc64(0, buf, DUMP_HEADER_BYTES);
	if (fwrite(buf, DUMP_HEADER_BYTES, 1, f) != 1)
		return -EIO;
	for (i = 0; i < h->count; i += n) {
		size_t j;

		n = h->count - i < WRITE_CHUNK ? (size_t)(h->count - i) : WRITE_CHUNK;
		for (j = 0; j < n; j++) {
			put_le64(buf + j * DUMP_PAIR_BYTES, pairs[i + j].key);
			put_le64(buf + j * DUMP_PAIR_BYTES + 8, pairs[i + j].value);
		}
		crc = crc64(crc, buf, n * DUMP_PAIR_BYTES);
		if (fwrite(buf, DUMP_PAIR_BYTES, n, f) != n)
			return -EIO;
	}
	put_le64(buf, crc);
	return fwrite(buf, DUMP_TRAILER_BYTES, 1, f) == 1 ? 0 : -EIO;
}

/* ---- decoding and validation ---------------------------------------------- */

/* A dump in memory, validated: header decoded, pairs still encoded. */
struct dump_view {
	struct dump_header h;
	const unsigned char *pairs;
};

static bool zero(const unsigned char *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

static void decode_header(const unsigned char *b, struct dump_header *h)
{
	h->version = get_le32(b + 8);
	h->header_bytes = get_le32(b + 12);
	h->capacity = get_le64(b + 16);
	h->count = get_le64(b + 24);
	h->mode = get_le32(b + 32);
	h->grant = get_le32(b + 36);
	h->flags = get_le32(b + 40);
	memcpy(h->name, b + 48, ADICT_NAME_MAX);
}

/* The header's fields make sense together (the checksum already matched). */
static const char *header_problem(const unsigned char *b,
				  const struct dump_header *h)
{
	bool named = h->name[0] != '\0';

	if (h->header_bytes != DUMP_HEADER_BYTES)
		return "corrupt header: header size is not 128";
	if ((h->flags & ~DUMP_FLAGS) || !zero(b + 44, 4) || !zero(b + 112, 8))
		return "corrupt header: unknown flags or reserved fields set";
	if (memchr(h->name, '\0', ADICT_NAME_MAX) == NULL)
		return "corrupt header: the name is not NUL-terminated";
	if (named != !!(h->flags & DUMP_F_NAMED))
		return "corrupt header: the name and the named flag disagree";
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
 * Validate the dump in @b.  Return: 0, or -EBADMSG with the reason printed
 * as "adictctl: PATH: reason".  Magic and version sit at the same offsets
 * in every version, so a newer file is told apart from a corrupt one.
 */
static int dump_parse(const char *path, const unsigned char *b, size_t len,
		      struct dump_view *v)
{
	const char *why;
	__u64 want, bad;

	if (len < DUMP_HEADER_BYTES) {
		errmsg("%s: truncated: %zu bytes, shorter than the %d-byte dump header",
		       path, len, DUMP_HEADER_BYTES);
		return -EBADMSG;
	}
	if (memcmp(b, DUMP_MAGIC, 8)) {
		errmsg("%s: not an adictctl dump (bad magic)", path);
		return -EBADMSG;
	}
	decode_header(b, &v->h);
	if (v->h.version != DUMP_VERSION) {
		errmsg("%s: dump format version %u; this adictctl reads version %d only",
		       path, v->h.version, DUMP_VERSION);
		return -EBADMSG;
	}
	if (get_le64(b + DUMP_HEADER_CRC_OFF) != crc64(0, b, DUMP_HEADER_CRC_OFF)) {
		errmsg("%s: header checksum mismatch: the file is corrupt", path);
		return -EBADMSG;
	}
	why = header_problem(b, &v->h);
	if (why) {
		errmsg("%s: %s", path, why);
		return -EBADMSG;
	}
	/* No overflow: count <= capacity <= 2^40. */
	want = DUMP_HEADER_BYTES + v->h.count * DUMP_PAIR_BYTES + DUMP_TRAILER_BYTES;
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
	v->pairs = b + DUMP_HEADER_BYTES;
	why = pairs_problem(v->pairs, v->h.count, &bad);
	if (why) {
		errmsg("%s: corrupt pairs: pair %llu: %s", path,
		       (unsigned long long)bad, why);
		return -EBADMSG;
	}
	return 0;
}

/* Read and validate @path; on success the caller frees *buf. */
static int dump_read(const struct ctx *c, const char *path,
		     unsigned char **buf, struct dump_view *v)
{
	size_t len;
	int ret;

	ret = read_file(path, buf, &len);
	if (ret)
		return die_file(c, ret, path);
	ret = dump_parse(path, *buf, len, v);
	if (ret) {
		free(*buf);
		return EXIT_BADFILE;
	}
	return 0;
}

/* ---- restoring ------------------------------------------------------------ */

/* Store every pair of @v into @t.  Return: 0, or -errno with *done set. */
static int store_pairs(struct adict *t, const struct dump_view *v, __u64 *done)
{
	const unsigned char *p = v->pairs;
	__u64 i;
	int ret;

	for (i = 0; i < v->h.count; i++, p += DUMP_PAIR_BYTES) {
		ret = adict_store(t, get_le64(p), get_le64(p + 8));
		if (ret) {
			*done = i;
			return ret;
		}
	}
	*done = i;
	return 0;
}

/* Create a memfd table for the dump @v and fill it. */
static int restore_memfd(const struct dump_view *v, __u64 capacity,
			 struct adict **tp)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD };
	__u64 done;
	int ret;

	ret = adict_create(tp, capacity, &o);
	if (ret)
		return ret;
	ret = store_pairs(*tp, v, &done);
	if (ret) {
		adict_close(*tp);
		*tp = NULL;
	}
	return ret;
}

int load_dump_memfd(const struct ctx *c, struct table_src *src,
		    struct adict **tp)
{
	struct dump_view v;
	unsigned char *buf;
	int ret;

	ret = dump_read(c, src->file, &buf, &v);
	if (ret)
		return ret;
	memcpy(src->saved_name, v.h.name, sizeof(src->saved_name));
	src->saved_mode = v.h.mode;
	src->saved_grant = v.h.grant;
	ret = restore_memfd(&v, v.h.capacity, tp);
	free(buf);
	if (ret) {
		errmsg("%s: cannot load the dump into a memfd table: %s",
		       src->file, strerror(-ret));
		return exit_code(ret);
	}
	return 0;
}

/* ---- the dump command ----------------------------------------------------- */

static int cmp_pair(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * Copy the table's pairs, sorted by key.  Each value is read atomically;
 * the set as a whole is not a snapshot if writers run meanwhile.
 */
int collect_pairs(struct adict *t, struct kv **out, __u64 *count)
{
	struct kv *p = NULL, *np;
	__u64 cursor = 0, n = 0, cap = 0, k, val;
	size_t i, j;

	while (adict_iter_next(t, &cursor, &k, &val) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			np = realloc(p, cap * sizeof(*p));
			if (!np) {
				free(p);
				return -ENOMEM;
			}
			p = np;
		}
		p[n].key = k;
		p[n++].value = val;
	}
	if (n)	/* qsort(NULL, 0, ...) is undefined */
		qsort(p, n, sizeof(*p), cmp_pair);
	/* Only a process scribbling on the table can repeat a key. */
	for (i = j = 0; i < n; i++)
		if (!j || p[i].key != p[j - 1].key)
			p[j++] = p[i];
	*out = p;
	*count = j;
	return 0;
}

/* The header for @count pairs of the table @src, described by @in. */
static void dump_header_of(const struct table_src *src,
			   const struct adict_table_info *in, __u64 count,
			   struct dump_header *h)
{
	memset(h, 0, sizeof(*h));
	h->capacity = in->capacity;
	h->count = count;
	if (src->file) {	/* a re-dump keeps what the dump saved */
		h->mode = src->saved_mode;
		h->grant = src->saved_grant;
	} else if (in->backend == ADICT_BACKEND_DEVICE) {
		h->mode = in->mode;
		h->grant = in->grant;
	}
	snprintf(h->name, sizeof(h->name), "%s", src_name(src) ? src_name(src) : "");
	if (h->name[0])
		h->flags |= DUMP_F_NAMED;
}

static void print_pairs(const struct ctx *c, const struct dump_header *h,
			const struct kv *p)
{
	__u64 i;

	if (!c->json) {
		for (i = 0; i < h->count; i++)
			printf("%llu %llu\n", (unsigned long long)p[i].key,
			       (unsigned long long)p[i].value);
		return;
	}
	fputc('{', stdout);
	json_kv_str(stdout, "name", h->name, false);
	json_kv_u64(stdout, "capacity", h->capacity, true);
	json_kv_u64(stdout, "count", h->count, true);
	fputs(", \"pairs\": [", stdout);
	for (i = 0; i < h->count; i++) {
		fputs(i ? ", {" : "{", stdout);
		json_kv_u64(stdout, "key", p[i].key, false);
		json_kv_u64(stdout, "value", p[i].value, true);
		fputc('}', stdout);
	}
	fputs("]}\n", stdout);
}

static int save_dump(const struct ctx *c, const char *out,
		     const struct dump_header *h, const struct kv *p)
{
	struct out_file o;
	int ret;

	if ((!out || !strcmp(out, "-")) && isatty(STDOUT_FILENO)) {
		errmsg("not writing a binary dump to a terminal; use -o FILE, or --text");
		return EXIT_USAGE;
	}
	ret = out_open(&o, out);
	if (ret)
		return die_file(c, ret, out);
	ret = write_dump(o.f, h, p);
	if (ret) {
		out_abort(&o);
		return die_file(c, ret, out ? out : "standard output");
	}
	ret = out_commit(&o);
	if (ret)
		return die_file(c, ret, out ? out : "standard output");
	if (out && strcmp(out, "-") && !c->json)
		fprintf(stderr, "adictctl: saved %llu keys of table '%s' to %s\n",
			(unsigned long long)h->count, h->name, out);
	return EXIT_OK;
}

static int dump_table(const struct ctx *c, struct table_src *src,
		      const char *out, bool text)
{
	struct adict_table_info info;
	struct dump_header h;
	struct kv *p = NULL;
	struct adict *t;
	__u64 n;
	int ret;

	ret = open_table(c, src, ADICT_ATTACH_RDONLY, &t);
	if (ret)
		return ret;
	ret = adict_info(t, &info);
	if (!ret)
		ret = collect_pairs(t, &p, &n);
	adict_close(t);
	if (ret)
		return die_table(c, ret, src->name);
	if (n > info.capacity) {
		free(p);
		return die_table(c, -EBADMSG, src->name);
	}
	dump_header_of(src, &info, n, &h);
	if (text)
		print_pairs(c, &h, p);
	else
		ret = save_dump(c, out, &h, p);
	free(p);
	return ret;
}

static void describe_dump(const struct ctx *c, const char *path,
			  const struct dump_header *h)
{
	if (c->json) {
		fputc('{', stdout);
		json_kv_str(stdout, "file", path, false);
		json_kv_u64(stdout, "version", h->version, true);
		json_kv_str(stdout, "name", h->name, true);
		json_kv_u64(stdout, "capacity", h->capacity, true);
		json_kv_u64(stdout, "count", h->count, true);
		json_kv_mode(stdout, h->mode, true);
		json_kv_u64(stdout, "grant", h->grant, true);
		json_kv_bool(stdout, "valid", true, true);
		fputs("}\n", stdout);
		return;
	}
	printf("%s: valid adictctl dump, version %u\n", path, h->version);
	printf("name:      %s\n", h->name[0] ? h->name : "(anonymous)");
	printf("capacity:  %llu keys\n", (unsigned long long)h->capacity);
	printf("keys:      %llu\n", (unsigned long long)h->count);
	printf("mode:      0%03o\n", h->mode);
}

static int verify_dump(const struct ctx *c, const char *path)
{
	struct dump_view v;
	unsigned char *buf;
	int ret;

	ret = dump_read(c, path, &buf, &v);
	if (ret)
		return ret;
	describe_dump(c, path, &v.h);
	free(buf);
	return EXIT_OK;
}

/* dump NAME | -F FILE [-o OUT] [--text];  dump --verify FILE */
int cmd_dump(struct ctx *c, int argc, char **argv)
{
	static const struct optdef defs[] = {
		{ "output", 'o', true }, { "text", 't', false },
		{ "verify", 'V', true }, { "file", 'F', true }, COMMON_OPTS
	};
	struct table_src src = { 0 };
	const char *pos[1], *arg, *out = NULL, *verify = NULL;
	struct optparse p;
	bool text = false;
	int o, n = 0, ret;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		ret = 0;
		switch (o) {
		case OPT_POS:
			ret = add_pos(c, pos, &n, 1, arg);
			break;
		case 'o':
			out = arg;
			break;
		case 't':
			text = true;
			break;
		case 'V':
			verify = arg;
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
	if (verify)
		return n || src.file || out || text ?
		       usage_error(c, "--verify FILE takes nothing else") :
		       verify_dump(c, verify);
	if (n != (src.file ? 0 : 1))
		return usage_error(c, "give a table NAME, or -F FILE");
	if (text && out)
		return usage_error(c, "--text prints to standard output; drop -o");
	src.name = n ? pos[0] : NULL;
	return dump_table(c, &src, out, text);
}

/* ---- the load command ----------------------------------------------------- */

struct load_opts {
	const char *file;
	const char *name;	/* --name, else the saved name */
	__u64 capacity;		/* --capacity, else the saved one */
	unsigned int mode;	/* --mode, else the saved one */
	bool mode_set;
	bool existing;		/* store into an existing table */
	bool memfd;		/* --backend memfd */
};

static void print_loaded(const struct ctx *c, const struct load_opts *lo,
			 const char *name, __u64 count, __u64 capacity)
{
	const char *backend = lo->memfd ? "memfd" : "device";

	if (c->json) {
		fputc('{', stdout);
		json_kv_str(stdout, "file", lo->file, false);
		json_kv_str(stdout, "name", lo->memfd ? "" : name, true);
		json_kv_str(stdout, "backend", backend, true);
		json_kv_u64(stdout, "capacity", capacity, true);
		json_kv_u64(stdout, "loaded", count, true);
		fputs("}\n", stdout);
	} else if (lo->memfd) {
		printf("%s: %llu keys restore into a table of capacity %llu (memfd table, discarded at exit)\n",
		       lo->file, (unsigned long long)count,
		       (unsigned long long)capacity);
	} else {
		printf("loaded %llu keys into table '%s' (device, capacity %llu)\n",
		       (unsigned long long)count, name,
		       (unsigned long long)capacity);
	}
}

/* Create (or, with --existing, attach) the device table to restore into. */
static int target_table(const struct ctx *c, const struct load_opts *lo,
			const struct dump_view *v, const char *name,
			__u64 capacity, struct adict **tp)
{
	struct adict_opts o = {
		.sz = sizeof(o),
		.name = name,
		.backend = ADICT_BACKEND_DEVICE,
		.mode = lo->mode_set ? lo->mode : v->h.mode,
		.grant = v->h.grant,
	};
	int ret;

	ret = check_name(c, name);
	if (ret)
		return ret;
	if (lo->existing)
		ret = adict_attach(tp, name, 0);
	else
		ret = adict_create(tp, capacity, &o);
	if (ret == -EEXIST) {
		errmsg("table '%s' already exists; restore into it with --existing, or unlink it first",
		       name);
		return EXIT_EXISTS;
	}
	return ret ? die_table(c, ret, name) : 0;
}

static int load_device(const struct ctx *c, const struct load_opts *lo,
		       const struct dump_view *v, __u64 capacity)
{
	const char *name = lo->name ? lo->name : v->h.name;
	struct adict_table_info info;
	struct adict *t;
	__u64 done;
	int ret;

	if (!name[0]) {
		errmsg("%s holds an anonymous table; give it a name with --name NAME",
		       lo->file);
		return EXIT_USAGE;
	}
	ret = target_table(c, lo, v, name, capacity, &t);
	if (ret)
		return ret;
	ret = store_pairs(t, v, &done);
	if (!ret)
		ret = adict_info(t, &info);
	adict_close(t);
	if (ret) {
		errmsg("stored %llu of %llu keys into '%s', then:",
		       (unsigned long long)done,
		       (unsigned long long)v->h.count, name);
		if (!lo->existing && !adict_unlink(name))
			errmsg("removed the name of the half-restored table '%s'", name);
		return die_table(c, ret, name);
	}
	print_loaded(c, lo, name, done, info.capacity);
	return EXIT_OK;
}

static int load_memfd(const struct ctx *c, const struct load_opts *lo,
		      const struct dump_view *v, __u64 capacity)
{
	struct adict *t;
	int ret;

	ret = restore_memfd(v, capacity, &t);
	if (ret) {
		errmsg("%s: does not restore into a table of capacity %llu: %s",
		       lo->file, (unsigned long long)capacity, strerror(-ret));
		return exit_code(ret);
	}
	adict_close(t);
	print_loaded(c, lo, "", v->h.count, capacity);
	return EXIT_OK;
}

static int load_parse_opt(struct ctx *c, int o, const char *arg,
			  struct load_opts *lo)
{
	unsigned long long v;
	char *end;

	switch (o) {
	case 'n':
		lo->name = arg;
		return 0;
	case 'c':
		if (parse_u64(arg, &v) || !v || v > ADICT_CAPACITY_MAX)
			return usage_error(c, "bad --capacity '%s': 1 to 2^40 keys", arg);
		lo->capacity = v;
		return 0;
	case 'm':
		v = strtoul(arg, &end, 8);
		if (*end || end == arg || v > 0777 || arg[0] == '-')
			return usage_error(c, "bad --mode '%s': octal, 0 to 0777", arg);
		lo->mode = (unsigned int)v;
		lo->mode_set = true;
		return 0;
	case 'e':
		lo->existing = true;
		return 0;
	case 'b':
		if (strcmp(arg, "memfd") && strcmp(arg, "device"))
			return usage_error(c, "bad --backend '%s': device or memfd", arg);
		lo->memfd = !strcmp(arg, "memfd");
		return 0;
	}
	return common_opt(c, o) ? 0 : usage_hint(c);
}

/* load FILE [--name N] [--capacity N] [--mode M] [--existing] [--backend B] */
int cmd_load(struct ctx *c, int argc, char **argv)
{
	static const struct optdef defs[] = {
		{ "name", 'n', true }, { "capacity", 'c', true },
		{ "mode", 'm', true }, { "existing", 'e', false },
		{ "backend", 'b', true }, COMMON_OPTS
	};
	struct load_opts lo = { 0 };
	const char *pos[1], *arg;
	struct dump_view v;
	struct optparse p;
	unsigned char *buf;
	__u64 capacity;
	int o, n = 0, ret;

	opt_init(&p, argc, argv);
	while ((o = opt_next(&p, defs, &arg)) != OPT_END) {
		ret = o == OPT_POS ? add_pos(c, pos, &n, 1, arg) :
		      load_parse_opt(c, o, arg, &lo);
		if (ret)
			return ret;
	}
	if (c->help)
		return cmd_help(c);
	if (n != 1)
		return usage_error(c, "give the dump FILE");
	if (lo.memfd && (lo.name || lo.existing || lo.mode_set))
		return usage_error(c, "a memfd table has no name, mode or existing table");
	lo.file = pos[0];
	ret = dump_read(c, lo.file, &buf, &v);
	if (ret)
		return ret;
	capacity = lo.capacity ? lo.capacity : v.h.capacity;
	if (capacity < v.h.count) {
		free(buf);
		return usage_error(c, "--capacity %llu is below the dump's %llu keys",
				   (unsigned long long)capacity,
				   (unsigned long long)v.h.count);
	}
	ret = lo.memfd ? load_memfd(c, &lo, &v, capacity) :
			 load_device(c, &lo, &v, capacity);
	free(buf);
	return ret;
}
