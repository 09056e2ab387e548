// SPDX-License-Identifier: MIT
/*
 * Composite keys and every row geometry through libadict's adict_tuple_*()
 * calls: each geometry class (u64 and u32 key words, u64, u32 and no
 * values, the smallest and the largest rows), the errors, four processes
 * racing to insert the same 2- and 3-word keys (each key in exactly one
 * row, exact totals, new exactly once), and a SIGKILL storm in the middle
 * of inserts (no key lost or doubled, at most one part-written row a kill).
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "adict.h"
#include "testutil.h"

struct geom {
	unsigned int k64, k32, vb, row_bytes, rows;
};

/* Every class: u64 words only, u32 only, mixed; each value width. */
static const struct geom geoms[] = {
	{ 1, 0, 8, 16, 4 },	/* the default, through the tuple calls */
	{ 1, 0, 4, 16, 4 },
	{ 1, 0, 0, 8, 8 },
	{ 0, 1, 4, 8, 8 },
	{ 0, 2, 0, 8, 8 },
	{ 2, 0, 8, 24, 2 },
	{ 1, 1, 4, 16, 4 },
	{ 1, 1, 8, 24, 2 },
	{ 2, 1, 4, 24, 2 },
	{ 0, 3, 8, 24, 2 },
	{ 0, 3, 0, 12, 5 },
	{ 7, 0, 8, 64, 1 },
	{ 0, 16, 0, 64, 1 },
	{ 8, 0, 0, 64, 1 },
};

static int mk(struct adict **t, __u64 cap, unsigned int k64, unsigned int k32,
	      unsigned int vb)
{
	struct adict_opts o = {
		.sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD,
		.key64 = k64, .key32 = k32, .value_bytes = vb,
	};

	return adict_create(t, cap, &o);
}

/* Key number @i (from 1) of a geometry: every word non-zero and distinct. */
static void key_of(const struct adict *t, __u64 i, __u64 *key)
{
	unsigned int w, n = adict_key_words(t), k64 = t->core.layout.key64;

	for (w = 0; w < n; w++) {
		__u64 x = i * 0x9e3779b97f4a7c15ULL + w * 0x51ed27;

		/* the last word carries i, so keys differ there too */
		if (w == n - 1)
			x = i;
		key[w] = w < k64 ? (x ? x : 1) : ((x & 0xffffffff) ? x & 0xffffffff : 7);
	}
}

static void every_geometry_should_insert_find_and_iterate_whole_keys(void)
{
	unsigned int g;

	for (g = 0; g < sizeof(geoms) / sizeof(geoms[0]); g++) {
		const struct geom *ge = &geoms[g];
		__u64 cap = 700, i, key[ADICT_KEY_WORDS_MAX], v, cursor = 0;
		struct adict_table_info info;
		unsigned int seen = 0, bad = 0;
		char *mark;
		struct adict *t;

		CHECK_EQ(0, mk(&t, cap, ge->k64, ge->k32, ge->vb));
		if (!t)
			continue;
		CHECK_EQ(0, adict_info(t, &info));
		CHECK_EQ(ge->k64, info.key64);
		CHECK_EQ(ge->k32, info.key32);
		CHECK_EQ(ge->vb, info.value_bytes);
		CHECK_EQ(ge->row_bytes, info.row_bytes);
		CHECK_EQ(ge->rows, info.bucket_rows);
		CHECK_EQ(ge->k64 + ge->k32, adict_key_words(t));
		for (i = 1; i <= cap; i++) {
			key_of(t, i, key);
			bad |= adict_tuple_insert(t, key) != 1;
			if (ge->vb)
				bad |= adict_tuple_add(t, key, i, NULL) != 0;
		}
		CHECK_EQ(0, bad);
		/* full: a new key is ENOSPC, old keys still work */
		key_of(t, cap + 1, key);
		CHECK_EQ(-ENOSPC, adict_tuple_insert(t, key));
		CHECK_EQ(-ENOENT, adict_tuple_find(t, key, &v));
		for (i = 1; i <= cap; i++) {
			key_of(t, i, key);
			bad |= adict_tuple_insert(t, key) != 0;
			bad |= adict_tuple_find(t, key, &v) != 0;
			bad |= v != (ge->vb ? i : 0);
		}
		CHECK_EQ(0, bad);
		/* iteration: each key once, whole, with its value */
		mark = calloc(cap + 1, 1);
		while (adict_tuple_iter_next(t, &cursor, key, &v) == 1) {
			unsigned int n = adict_key_words(t);
			__u64 want[ADICT_KEY_WORDS_MAX];

			i = key[n - 1];
			key_of(t, i, want);
			if (i < 1 || i > cap || mark[i] ||
			    memcmp(want, key, n * sizeof(__u64)) ||
			    v != (ge->vb ? i : 0))
				bad = 1;
			else
				mark[i] = 1;
			seen++;
		}
		free(mark);
		CHECK_EQ(0, bad);
		CHECK_EQ(cap, seen);
		CHECK_EQ(0, adict_recount(t, &v));
		CHECK_EQ(cap, v);
		if (tu_failed_now)
			printf("#   geometry k64=%u k32=%u value=%u\n", ge->k64,
			       ge->k32, ge->vb);
		adict_close(t);
	}
}

static void u32_values_should_wrap_and_zero_extend(void)
{
	__u64 key[2] = { 5, 6 }, v;
	struct adict *t;

	CHECK_EQ(0, mk(&t, 10, 1, 1, 4));
	CHECK_EQ(0, adict_tuple_sub(t, key, 1, &v));
	CHECK_EQ(0, v);
	CHECK_EQ(0, adict_tuple_load(t, key, &v));
	CHECK_EQ(0xffffffffULL, v);
	CHECK_EQ(0, adict_tuple_add(t, key, 2, &v));
	CHECK_EQ(0xffffffffULL, v);
	CHECK_EQ(0, adict_tuple_load(t, key, &v));
	CHECK_EQ(1, v);
	/* arguments are taken modulo 2^32 */
	CHECK_EQ(0, adict_tuple_add(t, key, 0x100000002ULL, NULL));
	CHECK_EQ(0, adict_tuple_load(t, key, &v));
	CHECK_EQ(3, v);
	CHECK_EQ(0, adict_tuple_store(t, key, 0x1234567800000009ULL, NULL));
	CHECK_EQ(0, adict_tuple_load(t, key, &v));
	CHECK_EQ(9, v);
	/* CAS: an expected value above 2^32 - 1 matches nothing */
	CHECK_EQ(0, adict_tuple_cas(t, key, 0x100000009ULL, 1, &v));
	CHECK_EQ(9, v);
	CHECK_EQ(1, adict_tuple_cas(t, key, 9, 10, &v));
	CHECK_EQ(0, adict_tuple_load(t, key, &v));
	CHECK_EQ(10, v);
	CHECK_EQ(0, adict_tuple_xor(t, key, 0xffffffffffffffffULL, &v));
	CHECK_EQ(0, adict_tuple_load(t, key, &v));
	CHECK_EQ(0xfffffff5ULL, v);
	adict_close(t);
}

static void bad_keys_geometries_and_calls_should_be_einval(void)
{
	struct adict_opts o = { .sz = sizeof(o), .backend = ADICT_BACKEND_MEMFD };
	__u64 key[3] = { 1, 2, 3 }, v;
	struct adict *t;

	/* geometries */
	o.key64 = 9;
	CHECK_EQ(-EINVAL, adict_create(&t, 10, &o));
	o.key64 = 0, o.key32 = 17;
	CHECK_EQ(-EINVAL, adict_create(&t, 10, &o));
	o.key64 = 8, o.key32 = 0, o.value_bytes = 8;	/* 72-byte row */
	CHECK_EQ(-EINVAL, adict_create(&t, 10, &o));
	o.key64 = 1, o.value_bytes = 2;
	CHECK_EQ(-EINVAL, adict_create(&t, 10, &o));
	o.key64 = 0, o.key32 = 0, o.value_bytes = 4;	/* value but no key */
	CHECK_EQ(-EINVAL, adict_create(&t, 10, &o));
	/* a caller of the 0.1 size gets the default geometry */
	memset(&o, 0, sizeof(o));
	o.sz = offsetof(struct adict_opts, key32);
	o.backend = ADICT_BACKEND_MEMFD;
	CHECK_EQ(0, adict_create(&t, 10, &o));
	CHECK_EQ(1, adict_key_words(t));
	CHECK(!t->core.wide);
	adict_close(t);
	o.sz = offsetof(struct adict_opts, key32) - 1;
	CHECK_EQ(-EINVAL, adict_create(&t, 10, &o));

	/* keys: a zero word, a u32 word of 2^32 or more */
	CHECK_EQ(0, mk(&t, 10, 2, 1, 8));
	key[1] = 0;
	CHECK_EQ(-EINVAL, adict_tuple_insert(t, key));
	key[1] = 2, key[2] = 0;
	CHECK_EQ(-EINVAL, adict_tuple_add(t, key, 1, NULL));
	key[2] = 1ULL << 32;
	CHECK_EQ(-EINVAL, adict_tuple_find(t, key, &v));
	key[2] = 3;
	CHECK_EQ(1, adict_tuple_insert(t, key));
	/* the one-word calls refuse a composite table */
	CHECK_EQ(-EINVAL, adict_add(t, 1, 1, NULL));
	CHECK_EQ(-EINVAL, adict_load(t, 1, &v));
	CHECK_EQ(-EINVAL, adict_find(t, 1, &v));
	CHECK_EQ(-EINVAL, adict_insert(t, 1));
	CHECK_EQ(-EINVAL, adict_cas(t, 1, 0, 1, NULL));
	CHECK_EQ(-EINVAL, adict_store(t, 1, 1));
	CHECK_EQ(-EINVAL, adict_add_batch(t, key, NULL, 1, NULL));
	v = 0;
	CHECK_EQ(-EINVAL, adict_iter_next(t, &v, key, key));
	CHECK_EQ(0, adict_recount(t, &v));
	CHECK_EQ(1, v);
	adict_close(t);

	/* a set takes insert, find and load only */
	CHECK_EQ(0, mk(&t, 10, 0, 2, 0));
	key[0] = 4, key[1] = 5;
	CHECK_EQ(-EINVAL, adict_tuple_add(t, key, 1, NULL));
	CHECK_EQ(-EINVAL, adict_tuple_cas(t, key, 0, 1, NULL));
	CHECK_EQ(-ENOENT, adict_tuple_find(t, key, &v));	/* nothing inserted */
	CHECK_EQ(0, adict_tuple_load(t, key, &v));
	CHECK_EQ(0, v);
	CHECK_EQ(0, adict_tuple_insert(t, key));	/* load inserted it */
	CHECK_EQ(0, adict_tuple_find(t, key, &v));
	adict_close(t);
}

/* The default geometry: the tuple calls and the u64 calls are one table. */
static void tuple_calls_on_the_default_geometry_should_match_u64_calls(void)
{
	struct adict *t;
	__u64 key = 77, v;

	CHECK_EQ(0, mk(&t, 10, 0, 0, 0));
	CHECK_EQ(0, adict_add(t, 77, 5, NULL));
	CHECK_EQ(0, adict_tuple_add(t, &key, 2, &v));
	CHECK_EQ(5, v);
	CHECK_EQ(0, adict_load(t, 77, &v));
	CHECK_EQ(7, v);
	CHECK_EQ(0, adict_tuple_insert(t, &key));
	/* the one-word hash is the general one's (the AES rounds) */
	CHECK_EQ(adict_hash(&t->core, 77), adict_khash(&t->core, &key));
	adict_close(t);
}

/* SipHash-1-3 as written from the paper: check the generic c/d rounds
 * code against the paper's SipHash-2-4 vector, then core.h against it. */
static __u64 sip_ref(const __u64 seed[2], const unsigned char *m, size_t len,
		     int c, int d)
{
	__u64 v0 = seed[0] ^ 0x736f6d6570736575ULL, v1 = seed[1] ^ 0x646f72616e646f6dULL;
	__u64 v2 = seed[0] ^ 0x6c7967656e657261ULL, v3 = seed[1] ^ 0x7465646279746573ULL;
	__u64 b = (__u64)len << 56, x;
	size_t i, j;
	int r;

	for (i = 0; i + 8 <= len; i += 8) {
		for (x = 0, j = 0; j < 8; j++)
			x |= (__u64)m[i + j] << (8 * j);
		v3 ^= x;
		for (r = 0; r < c; r++)
			ADICT_SIPROUND(v0, v1, v2, v3);
		v0 ^= x;
	}
	for (j = 0; i + j < len; j++)
		b |= (__u64)m[i + j] << (8 * j);
	v3 ^= b;
	for (r = 0; r < c; r++)
		ADICT_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (r = 0; r < d; r++)
		ADICT_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The AES hash of format.rst, from sip_ref() and the round under test. */
static __u64 aes4_ref(const __u64 seed[2], const unsigned char *m, size_t len)
{
	unsigned char n8[8] = { 0 };
	__u64 rk[ADICT_AES_ROUNDS + 1][2], s[2] = { 0, 0 };
	unsigned int i, j;

	for (i = 0; i <= ADICT_AES_ROUNDS; i++)
		for (j = 0; j < 2; j++) {
			n8[0] = 2 * i + j;
			rk[i][j] = sip_ref(seed, n8, 8, 1, 3);
		}
	memcpy(s, m, len);	/* len <= 16; zero-padded; x86 is little-endian */
	s[0] ^= rk[0][0];
	s[1] ^= rk[0][1];
	for (i = 1; i <= ADICT_AES_ROUNDS; i++)
		adict_aesenc_soft(s, rk[i]);
	return s[0];
}

static void load16(__u64 s[2], const unsigned char *b)
{
	memcpy(s, b, 16);
}

static void hash_should_match_the_papers_and_the_row_bytes(void)
{
	/* FIPS-197 appendix B: the state at the start of round 1, round key 1,
	 * and the state at the start of round 2 (= AESENC of the first two) */
	static const unsigned char r1[16] = {
		0x19, 0x3d, 0xe3, 0xbe, 0xa0, 0xf4, 0xe2, 0x2b,
		0x9a, 0xc6, 0x8d, 0x2a, 0xe9, 0xf8, 0x48, 0x08 };
	static const unsigned char k1[16] = {
		0xa0, 0xfa, 0xfe, 0x17, 0x88, 0x54, 0x2c, 0xb1,
		0x23, 0xa3, 0x39, 0x39, 0x2a, 0x6c, 0x76, 0x05 };
	static const unsigned char r2[16] = {
		0xa4, 0x9c, 0x7f, 0xf2, 0x68, 0x9f, 0x35, 0x2b,
		0x6b, 0x5b, 0xea, 0x43, 0x02, 0x6a, 0x50, 0x49 };
	unsigned char msg[64];
	__u64 seed[2], key[ADICT_KEY_WORDS_MAX], s = 9, st[2], rk[2], want[2];
	unsigned int g, i;

	for (i = 0; i < 16; i++)
		((unsigned char *)seed)[i] = i;
	for (i = 0; i < 15; i++)
		msg[i] = i;
	/* the SipHash paper's appendix A: SipHash-2-4, key 00..0f, message 00..0e */
	CHECK_EQ(0xa129ca6149be45e5ULL, sip_ref(seed, msg, 15, 2, 4));
	load16(st, r1);
	load16(rk, k1);
	load16(want, r2);
	adict_aesenc_soft(st, rk);
	CHECK_EQ(want[0], st[0]);
	CHECK_EQ(want[1], st[1]);
	for (g = 0; g < sizeof(geoms) / sizeof(geoms[0]); g++) {
		struct adict_core c = { 0 };
		unsigned int n = geoms[g].k64 + geoms[g].k32, w, bad = 0;

		CHECK(adict_layout_init(&c.layout, geoms[g].k64, geoms[g].k32,
					geoms[g].vb));
		adict_hash_key_init(&c.hk, seed);
		for (i = 0; i < 200; i++) {
			unsigned char *p = msg;
			size_t len = c.layout.key_bytes;

			for (w = 0; w < n; w++) {
				key[w] = tu_rand(&s);
				if (w >= geoms[g].k64)
					key[w] &= 0xffffffff;
				memcpy(p, &key[w], w < geoms[g].k64 ? 8 : 4);
				p += w < geoms[g].k64 ? 8 : 4;
			}
			bad |= adict_khash(&c, key) != (len <= 16 ?
				aes4_ref(seed, msg, len) :
				sip_ref(seed, msg, len, 1, 3));
			if (n == 1 && geoms[g].k64)
				bad |= adict_hash(&c, key[0]) != adict_khash(&c, key);
		}
		CHECK_EQ(0, bad);
	}
}

/*
 * Known answers, seed bytes 00..0f, on both paths where the CPU has AES-NI.
 * The KUnit case hash_test_should_give_the_known_answers checks the kernel
 * against the same numbers.
 */
static void hash_should_give_the_known_answers(void)
{
	struct adict_core c = { 0 };
	__u64 seed[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	__u64 k2[2] = { 1, 2 }, k3[3] = { 1, 2, 3 };
	int pass;

	adict_hash_key_init(&c.hk, seed);
	for (pass = 0; pass < 2; pass++) {
		CHECK(adict_layout_init(&c.layout, 1, 0, 8));
		CHECK_EQ(0x20e513200f84a2bbULL, adict_hash(&c, 1));
		CHECK_EQ(0x6d8f373eb8b02e82ULL, adict_hash(&c, 0xdeadbeef));
		CHECK(adict_layout_init(&c.layout, 2, 0, 8));
		CHECK_EQ(0xc82b506893d9cdf0ULL, adict_khash(&c, k2));
		CHECK(adict_layout_init(&c.layout, 3, 0, 8));
		CHECK_EQ(0x8294b6c0dcf24eceULL, adict_khash(&c, k3));
		c.hk.hw_aes = false;	/* the second pass: the C rounds */
	}
}

#if defined(__x86_64__)
/* What userspace runs where the CPU has AES-NI must equal the C rounds. */
static void soft_aes_should_match_the_aesenc_instruction(void)
{
	struct adict_hash_key hk;
	__u64 s = 0x5eed, seed[2], st[2], rk[2], h_hw, h_sw;
	unsigned int i, bad = 0;

	if (!adict_cpu_has_aes()) {
		printf("# SKIP soft_aes_should_match_the_aesenc_instruction: "
		       "this CPU has no AES-NI (only the C rounds run here)\n");
		return;
	}
	for (i = 0; i < 100000; i++) {
		adict_v2di x, k;

		st[0] = tu_rand(&s);
		st[1] = tu_rand(&s);
		rk[0] = tu_rand(&s);
		rk[1] = tu_rand(&s);
		memcpy(&x, st, 16);
		memcpy(&k, rk, 16);
		__asm__("aesenc %1, %0" : "+x" (x) : "x" (k));
		adict_aesenc_soft(st, rk);
		bad += memcmp(&x, st, 16) != 0;
	}
	CHECK_EQ(0, bad);
	for (i = 0; i < 10000; i++) {
		seed[0] = tu_rand(&s);
		seed[1] = tu_rand(&s);
		adict_hash_key_init(&hk, seed);
		CHECK(hk.hw_aes);
		st[0] = tu_rand(&s);
		st[1] = i & 1 ? 0 : tu_rand(&s);
		h_hw = adict_aes4(&hk, st[0], st[1]);
		hk.hw_aes = false;
		h_sw = adict_aes4(&hk, st[0], st[1]);
		bad += h_hw != h_sw;
	}
	CHECK_EQ(0, bad);
}
#endif

/* Shared between the racers and the parent. */
struct race_shm {
	__u64 news[8];
	__u64 bad[8];
};

#define RACE_KEYS	3001	/* prime: each stride below is a permutation */

static void racers_on_same_keys_should_leave_one_row_each(unsigned int k64,
							  unsigned int k32)
{
	struct race_shm *shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	__u64 key[ADICT_KEY_WORDS_MAX], v, cursor = 0, news = 0, n = 0, i;
	__u64 wrong = 0;
	struct adict *t;
	int p, status;

	CHECK(shm != MAP_FAILED);
	CHECK_EQ(0, mk(&t, RACE_KEYS, k64, k32, 8));
	for (p = 0; p < 4; p++) {
		if (fork() == 0) {
			__u64 j, k;

			int r;

			/* every process: every key, in its own order */
			for (j = 0; j < RACE_KEYS; j++) {
				k = (j * (2 * p + 1) + p * 977) % RACE_KEYS + 1;
				key_of(t, k, key);
				r = adict_tuple_insert(t, key);

				if (r < 0)
					shm->bad[p]++;
				shm->news[p] += r == 1;
				if (adict_tuple_add(t, key, 1, NULL))
					shm->bad[p]++;
			}
			_exit(0);
		}
	}
	for (p = 0; p < 4; p++) {
		wait(&status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (p = 0; p < 4; p++) {
		news += shm->news[p];
		CHECK_EQ(0, shm->bad[p]);
	}
	CHECK_EQ(RACE_KEYS, news);	/* each key new exactly once */
	while (adict_tuple_iter_next(t, &cursor, key, &v) == 1) {
		n++;
		wrong += v != 4;	/* exact totals, so one row a key */
	}
	CHECK_EQ(0, wrong);
	CHECK_EQ(RACE_KEYS, n);
	for (i = 1; i <= RACE_KEYS; i++) {
		key_of(t, i, key);
		wrong += adict_tuple_find(t, key, &v) != 0 || v != 4;
	}
	CHECK_EQ(0, wrong);
	CHECK_EQ(RACE_KEYS, *t->core.kused);
	adict_close(t);
	munmap(shm, sizeof(*shm));
}

static void four_processes_racing_on_two_word_keys_should_leave_one_row_each(void)
{
	racers_on_same_keys_should_leave_one_row_each(2, 0);
}

static void four_processes_racing_on_three_word_keys_should_leave_one_row_each(void)
{
	racers_on_same_keys_should_leave_one_row_each(1, 2);
}

#define STORM_KEYS	20000
#define STORM_KILLS	40

/*
 * Workers insert keys 1..STORM_KEYS (in their own orders) and are killed at
 * random moments, again and again.  Each worker records, after each insert
 * returns, how far it got; a key whose insert returned must be there.
 */
static void sigkill_storm_mid_insert_should_lose_or_double_no_key(void)
{
	__u64 *done = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	__u64 key[ADICT_KEY_WORDS_MAX], v, cursor = 0, n = 0, i, rows;
	__u64 s = 12345;
	struct adict *t;
	unsigned int round;
	char *mark;
	int status;

	CHECK(done != MAP_FAILED);
	CHECK_EQ(0, mk(&t, STORM_KEYS, 2, 1, 4));
	for (round = 0; round < STORM_KILLS; round++) {
		pid_t pid = fork();

		if (pid == 0) {
			__u64 j;

			for (j = 0; j < STORM_KEYS; j++) {
				__u64 k = (j * 7919 + round * 104729) % STORM_KEYS + 1;

				key_of(t, k, key);
				if (adict_tuple_add(t, key, 1, NULL) == 0)
					__atomic_store_n(&done[round % 500], k,
							 __ATOMIC_RELEASE);
			}
			_exit(0);
		}
		usleep(200 + tu_rand(&s) % 3000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		/* the last key it saw succeed must be in the table */
		if (done[round % 500]) {
			key_of(t, done[round % 500], key);
			CHECK_EQ(0, adict_tuple_find(t, key, &v));
		}
	}
	/* no complete key twice; part-written rows at most one a kill */
	mark = calloc(STORM_KEYS + 1, 1);
	while (adict_tuple_iter_next(t, &cursor, key, &v) == 1) {
		i = key[2];
		CHECK(i >= 1 && i <= STORM_KEYS && !mark[i]);
		if (i >= 1 && i <= STORM_KEYS)
			mark[i] = 1;
		n++;
	}
	CHECK_EQ(0, adict_recount(t, &rows));
	CHECK_EQ(n, rows);
	CHECK(*t->core.kused <= n && n - *t->core.kused <= STORM_KILLS);
	/* now insert every key: each lands in exactly one row */
	for (i = 1; i <= STORM_KEYS; i++) {
		key_of(t, i, key);
		CHECK(adict_tuple_insert(t, key) >= 0);
	}
	memset(mark, 0, STORM_KEYS + 1);
	cursor = 0, n = 0;
	while (adict_tuple_iter_next(t, &cursor, key, &v) == 1) {
		i = key[2];
		CHECK(i >= 1 && i <= STORM_KEYS && !mark[i]);
		if (i >= 1 && i <= STORM_KEYS)
			mark[i] = 1;
		n++;
	}
	CHECK_EQ(STORM_KEYS, n);
	free(mark);
	adict_close(t);
	munmap(done, 4096);
}

int main(int argc, char **argv)
{
	int threads_only = argc > 1 && !strcmp(argv[1], "--threads-only");

	RUN(every_geometry_should_insert_find_and_iterate_whole_keys);
	RUN(u32_values_should_wrap_and_zero_extend);
	RUN(bad_keys_geometries_and_calls_should_be_einval);
	RUN(tuple_calls_on_the_default_geometry_should_match_u64_calls);
	RUN(hash_should_match_the_papers_and_the_row_bytes);
	RUN(hash_should_give_the_known_answers);
#if defined(__x86_64__)
	RUN(soft_aes_should_match_the_aesenc_instruction);
#endif
	if (!threads_only) {
		RUN(four_processes_racing_on_two_word_keys_should_leave_one_row_each);
		RUN(four_processes_racing_on_three_word_keys_should_leave_one_row_each);
		RUN(sigkill_storm_mid_insert_should_lose_or_double_no_key);
	}
	return tu_done();
}
