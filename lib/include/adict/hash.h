/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The keyed hash of table format v2 (ADICT_HASH_AES4_SIP13), compiled into
 * the kernel module and into libadict like adict/core.h, which is its only
 * user.  Documentation/format.rst, "Hash and probe sequence", is the
 * definition; this is the implementation.
 *
 *   keys of at most 16 bytes: four AES rounds (AESENC) over the key's
 *   message words under five round keys derived from the table's seed;
 *   longer keys: SipHash-1-3 keyed by the seed.
 *
 * Four rounds cost about as much as v1's unkeyed fmix64 did, where the CPU
 * has AES instructions (x86-64 AES-NI, used by userspace only: the kernel
 * does not touch vector registers on this path).  Everywhere else, the
 * kernel included, the same rounds are computed by adict_aesenc_soft(),
 * written from FIPS-197; a host test checks it against the instruction.
 */
#ifndef ADICT_HASH_H
#define ADICT_HASH_H

#ifdef __KERNEL__
#include <linux/compiler.h>
#include <linux/types.h>
#else
#include <stdbool.h>
#include <string.h>
#include <linux/types.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif
#endif

#ifndef ADICT_AES_ROUNDS
#define ADICT_AES_ROUNDS	4
#endif

/*
 * The hash key of one table, derived once from its 128-bit seed by
 * adict_hash_key_init() and then only read.
 */
struct adict_hash_key {
	__u64 rk[ADICT_AES_ROUNDS + 1][2];	/* AES round keys */
	__u64 sip[4];		/* SipHash state after keying */
	bool hw_aes;		/* use the AESENC instruction (userspace) */
};

/*
 * SipHash-1-3 (Aumasson and Bernstein's SipHash with one compression round
 * per 8-byte block and three finalization rounds), written from the paper.
 * The seed is the SipHash key: seed[0] is k0, seed[1] is k1.
 */
#define ADICT_SIP_ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))
#define ADICT_SIPROUND(v0, v1, v2, v3) do {				\
	(v0) += (v1); (v1) = ADICT_SIP_ROTL(v1, 13); (v1) ^= (v0);	\
	(v0) = ADICT_SIP_ROTL(v0, 32);					\
	(v2) += (v3); (v3) = ADICT_SIP_ROTL(v3, 16); (v3) ^= (v2);	\
	(v0) += (v3); (v3) = ADICT_SIP_ROTL(v3, 21); (v3) ^= (v0);	\
	(v2) += (v1); (v1) = ADICT_SIP_ROTL(v1, 17); (v1) ^= (v2);	\
	(v2) = ADICT_SIP_ROTL(v2, 32);					\
} while (0)

/* The SipRound after its first line (which reads only v0 and v1). */
#define ADICT_SIPROUND_REST(v0, v1, v2, v3) do {			\
	(v2) += (v3); (v3) = ADICT_SIP_ROTL(v3, 16); (v3) ^= (v2);	\
	(v0) += (v3); (v3) = ADICT_SIP_ROTL(v3, 21); (v3) ^= (v0);	\
	(v2) += (v1); (v1) = ADICT_SIP_ROTL(v1, 17); (v1) ^= (v2);	\
	(v2) = ADICT_SIP_ROTL(v2, 32);					\
} while (0)

/*
 * The state after keying.  Every message has at least one block, and the
 * first line of its first SipRound reads only v0 and v1, which the seed
 * alone determines: it is done here too, so each hash starts with
 * ADICT_SIPROUND_REST().
 */
static inline void adict_sip_init(__u64 sip[4], const __u64 seed[2])
{
	__u64 v0 = seed[0] ^ 0x736f6d6570736575ULL;
	__u64 v1 = seed[1] ^ 0x646f72616e646f6dULL;

	v0 += v1;
	v1 = ADICT_SIP_ROTL(v1, 13);
	v1 ^= v0;
	v0 = ADICT_SIP_ROTL(v0, 32);
	sip[0] = v0;
	sip[1] = v1;
	sip[2] = seed[0] ^ 0x6c7967656e657261ULL;
	sip[3] = seed[1] ^ 0x7465646279746573ULL;
}

/*
 * SipHash-1-3 of a message of @len bytes, given as @nw little-endian u64
 * words (nw = len / 8 + 1; the last word holds the len % 8 tail bytes and
 * is completed here with the length in its top byte).
 */
static inline __u64 adict_sip_msg(const __u64 sip[4], const __u64 *m,
				  unsigned int nw, unsigned int len)
{
	__u64 v0 = sip[0], v1 = sip[1], v2 = sip[2], v3 = sip[3], b;
	unsigned int i;

	for (i = 0; i < nw; i++) {
		b = m[i];
		if (i == nw - 1)
			b |= (__u64)len << 56;
		v3 ^= b;
		if (i == 0)
			ADICT_SIPROUND_REST(v0, v1, v2, v3);
		else
			ADICT_SIPROUND(v0, v1, v2, v3);
		v0 ^= b;
	}
	v2 ^= 0xff;
	ADICT_SIPROUND(v0, v1, v2, v3);
	ADICT_SIPROUND(v0, v1, v2, v3);
	ADICT_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* SipHash-1-3 of the 8 bytes of @x: how the AES round keys are derived. */
static inline __u64 adict_sip_u64(const __u64 sip[4], __u64 x)
{
	__u64 m[2] = { x, 0 };

	return adict_sip_msg(sip, m, 2, 8);
}

#define ADICT_ROR32(x, n)	(((x) >> (n)) | ((x) << (32 - (n))))

/* Four bytes doubled in GF(2^8) (the AES polynomial), at once. */
static __always_inline __u32 adict_aes_xtime4(__u32 x)
{
	return ((x & 0x7f7f7f7fU) << 1) ^ (((x >> 7) & 0x01010101U) * 0x1b);
}

/*
 * adict_aesenc_soft - one AES encryption round, as the AESENC instruction
 * computes it: ShiftRows, SubBytes, MixColumns, then the round key XORed
 * in.  The state is 16 bytes, s[0] bytes 0-7 and s[1] bytes 8-15
 * (little-endian), byte r + 4c being row r of column c (FIPS-197 order).
 */
static inline void adict_aesenc_soft(__u64 s[2], const __u64 rk[2])
{
	/* FIPS-197's S-box: the inverse in GF(2^8), then the affine map */
	static const __u8 sbox[256] = {
		0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5,
		0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
		0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0,
		0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
		0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc,
		0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
		0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a,
		0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
		0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0,
		0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
		0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b,
		0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
		0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85,
		0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
		0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5,
		0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
		0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17,
		0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
		0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88,
		0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
		0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c,
		0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
		0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9,
		0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
		0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6,
		0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
		0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e,
		0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
		0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94,
		0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
		0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68,
		0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
	};
	__u32 col[4], a, a1;
	unsigned int c, r, i;

	for (c = 0; c < 4; c++) {
		col[c] = 0;
		for (r = 0; r < 4; r++) {
			/* ShiftRows: row r of column c comes from column c + r */
			i = r + 4 * ((c + r) & 3);
			col[c] |= (__u32)sbox[(__u8)(s[i >> 3] >> (8 * (i & 7)))]
				  << (8 * r);
		}
	}
	/*
	 * MixColumns on each column (byte r of the u32 is row r):
	 * b_r = 2 a_r ^ 3 a_{r+1} ^ a_{r+2} ^ a_{r+3}
	 *     = 2 (a_r ^ a_{r+1}) ^ a_{r+1} ^ a_{r+2} ^ a_{r+3}, indices mod 4.
	 */
	for (c = 0; c < 4; c++) {
		a = col[c];
		a1 = ADICT_ROR32(a, 8);		/* byte r is a_{r+1} */
		col[c] = adict_aes_xtime4(a ^ a1) ^ a1 ^ ADICT_ROR32(a, 16) ^
			 ADICT_ROR32(a, 24);
	}
	s[0] = ((__u64)col[0] | (__u64)col[1] << 32) ^ rk[0];
	s[1] = ((__u64)col[2] | (__u64)col[3] << 32) ^ rk[1];
}

#if !defined(__KERNEL__) && defined(__x86_64__)
typedef long long adict_v2di __attribute__((__vector_size__(16)));

/* Does this CPU have AES-NI?  (CPUID leaf 1, ECX bit 25.) */
static inline bool adict_cpu_has_aes(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & (1U << 25));
}
#else
static inline bool adict_cpu_has_aes(void)
{
	return false;
}
#endif

/*
 * adict_aes4 - the hash of a key of at most 16 bytes, given as two
 * little-endian message words (the key bytes as a row stores them, then
 * zeros): the state (m0, m1) XOR rk[0], four AESENC rounds under rk[1..4],
 * then the two halves XORed.
 */
static __always_inline __u64 adict_aes4(const struct adict_hash_key *hk,
					__u64 m0, __u64 m1)
{
	__u64 s[2];
	unsigned int i;

#if !defined(__KERNEL__) && defined(__x86_64__)
	if (__builtin_expect(hk->hw_aes, 1)) {
		adict_v2di x, k;

		x[0] = (long long)m0;
		x[1] = (long long)m1;
		memcpy(&k, hk->rk[0], sizeof(k));
		x ^= k;
		for (i = 1; i <= ADICT_AES_ROUNDS; i++) {
			memcpy(&k, hk->rk[i], sizeof(k));
			__asm__("aesenc %1, %0" : "+x" (x) : "x" (k));
		}
		return (__u64)x[0];
	}
#endif
	s[0] = m0 ^ hk->rk[0][0];
	s[1] = m1 ^ hk->rk[0][1];
	for (i = 1; i <= ADICT_AES_ROUNDS; i++)
		adict_aesenc_soft(s, hk->rk[i]);
	return s[0];
}

/*
 * adict_hash_key_init - derive a table's hash key from its seed.
 *
 * rk[i][j] = SipHash-1-3(seed, the 8-byte little-endian number 2i + j).
 * Userspace uses the AESENC instruction when the CPU has it; the result is
 * the same either way.
 */
static inline void adict_hash_key_init(struct adict_hash_key *hk,
				       const __u64 seed[2])
{
	unsigned int i, j;

	adict_sip_init(hk->sip, seed);
	for (i = 0; i <= ADICT_AES_ROUNDS; i++)
		for (j = 0; j < 2; j++)
			hk->rk[i][j] = adict_sip_u64(hk->sip, 2 * i + j);
	hk->hw_aes = adict_cpu_has_aes();
}

#endif /* ADICT_HASH_H */
