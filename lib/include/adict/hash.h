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

#define ADICT_ROL32(x, n)	(((x) << (n)) | ((x) >> (32 - (n))))

/*
 * adict_aesenc_soft - one AES encryption round, as the AESENC instruction
 * computes it: ShiftRows, SubBytes, MixColumns, then the round key XORed
 * in.  The state is 16 bytes, s[0] bytes 0-7 and s[1] bytes 8-15
 * (little-endian), byte r + 4c being row r of column c (FIPS-197 order).
 *
 * The usual table form: te[x] packs column (2 S(x), S(x), S(x), 3 S(x)),
 * row 0 in the low byte, with S FIPS-197's S-box; MixColumns' matrix is
 * circulant, so the byte that lands in row r contributes te[x] rotated left
 * by 8 r bits.  ShiftRows takes row r of output column c from input column
 * c + r.
 */
static inline void adict_aesenc_soft(__u64 s[2], const __u64 rk[2])
{
	static const __u32 te[256] = {
		0xa56363c6, 0x847c7cf8, 0x997777ee, 0x8d7b7bf6,
		0x0df2f2ff, 0xbd6b6bd6, 0xb16f6fde, 0x54c5c591,
		0x50303060, 0x03010102, 0xa96767ce, 0x7d2b2b56,
		0x19fefee7, 0x62d7d7b5, 0xe6abab4d, 0x9a7676ec,
		0x45caca8f, 0x9d82821f, 0x40c9c989, 0x877d7dfa,
		0x15fafaef, 0xeb5959b2, 0xc947478e, 0x0bf0f0fb,
		0xecadad41, 0x67d4d4b3, 0xfda2a25f, 0xeaafaf45,
		0xbf9c9c23, 0xf7a4a453, 0x967272e4, 0x5bc0c09b,
		0xc2b7b775, 0x1cfdfde1, 0xae93933d, 0x6a26264c,
		0x5a36366c, 0x413f3f7e, 0x02f7f7f5, 0x4fcccc83,
		0x5c343468, 0xf4a5a551, 0x34e5e5d1, 0x08f1f1f9,
		0x937171e2, 0x73d8d8ab, 0x53313162, 0x3f15152a,
		0x0c040408, 0x52c7c795, 0x65232346, 0x5ec3c39d,
		0x28181830, 0xa1969637, 0x0f05050a, 0xb59a9a2f,
		0x0907070e, 0x36121224, 0x9b80801b, 0x3de2e2df,
		0x26ebebcd, 0x6927274e, 0xcdb2b27f, 0x9f7575ea,
		0x1b090912, 0x9e83831d, 0x742c2c58, 0x2e1a1a34,
		0x2d1b1b36, 0xb26e6edc, 0xee5a5ab4, 0xfba0a05b,
		0xf65252a4, 0x4d3b3b76, 0x61d6d6b7, 0xceb3b37d,
		0x7b292952, 0x3ee3e3dd, 0x712f2f5e, 0x97848413,
		0xf55353a6, 0x68d1d1b9, 0x00000000, 0x2cededc1,
		0x60202040, 0x1ffcfce3, 0xc8b1b179, 0xed5b5bb6,
		0xbe6a6ad4, 0x46cbcb8d, 0xd9bebe67, 0x4b393972,
		0xde4a4a94, 0xd44c4c98, 0xe85858b0, 0x4acfcf85,
		0x6bd0d0bb, 0x2aefefc5, 0xe5aaaa4f, 0x16fbfbed,
		0xc5434386, 0xd74d4d9a, 0x55333366, 0x94858511,
		0xcf45458a, 0x10f9f9e9, 0x06020204, 0x817f7ffe,
		0xf05050a0, 0x443c3c78, 0xba9f9f25, 0xe3a8a84b,
		0xf35151a2, 0xfea3a35d, 0xc0404080, 0x8a8f8f05,
		0xad92923f, 0xbc9d9d21, 0x48383870, 0x04f5f5f1,
		0xdfbcbc63, 0xc1b6b677, 0x75dadaaf, 0x63212142,
		0x30101020, 0x1affffe5, 0x0ef3f3fd, 0x6dd2d2bf,
		0x4ccdcd81, 0x140c0c18, 0x35131326, 0x2fececc3,
		0xe15f5fbe, 0xa2979735, 0xcc444488, 0x3917172e,
		0x57c4c493, 0xf2a7a755, 0x827e7efc, 0x473d3d7a,
		0xac6464c8, 0xe75d5dba, 0x2b191932, 0x957373e6,
		0xa06060c0, 0x98818119, 0xd14f4f9e, 0x7fdcdca3,
		0x66222244, 0x7e2a2a54, 0xab90903b, 0x8388880b,
		0xca46468c, 0x29eeeec7, 0xd3b8b86b, 0x3c141428,
		0x79dedea7, 0xe25e5ebc, 0x1d0b0b16, 0x76dbdbad,
		0x3be0e0db, 0x56323264, 0x4e3a3a74, 0x1e0a0a14,
		0xdb494992, 0x0a06060c, 0x6c242448, 0xe45c5cb8,
		0x5dc2c29f, 0x6ed3d3bd, 0xefacac43, 0xa66262c4,
		0xa8919139, 0xa4959531, 0x37e4e4d3, 0x8b7979f2,
		0x32e7e7d5, 0x43c8c88b, 0x5937376e, 0xb76d6dda,
		0x8c8d8d01, 0x64d5d5b1, 0xd24e4e9c, 0xe0a9a949,
		0xb46c6cd8, 0xfa5656ac, 0x07f4f4f3, 0x25eaeacf,
		0xaf6565ca, 0x8e7a7af4, 0xe9aeae47, 0x18080810,
		0xd5baba6f, 0x887878f0, 0x6f25254a, 0x722e2e5c,
		0x241c1c38, 0xf1a6a657, 0xc7b4b473, 0x51c6c697,
		0x23e8e8cb, 0x7cdddda1, 0x9c7474e8, 0x211f1f3e,
		0xdd4b4b96, 0xdcbdbd61, 0x868b8b0d, 0x858a8a0f,
		0x907070e0, 0x423e3e7c, 0xc4b5b571, 0xaa6666cc,
		0xd8484890, 0x05030306, 0x01f6f6f7, 0x120e0e1c,
		0xa36161c2, 0x5f35356a, 0xf95757ae, 0xd0b9b969,
		0x91868617, 0x58c1c199, 0x271d1d3a, 0xb99e9e27,
		0x38e1e1d9, 0x13f8f8eb, 0xb398982b, 0x33111122,
		0xbb6969d2, 0x70d9d9a9, 0x898e8e07, 0xa7949433,
		0xb69b9b2d, 0x221e1e3c, 0x92878715, 0x20e9e9c9,
		0x49cece87, 0xff5555aa, 0x78282850, 0x7adfdfa5,
		0x8f8c8c03, 0xf8a1a159, 0x80898909, 0x170d0d1a,
		0xdabfbf65, 0x31e6e6d7, 0xc6424284, 0xb86868d0,
		0xc3414182, 0xb0999929, 0x772d2d5a, 0x110f0f1e,
		0xcbb0b07b, 0xfc5454a8, 0xd6bbbb6d, 0x3a16162c,
	};
	__u32 col[4];

#define ADICT_AES_BYTE(i)	((__u8)(s[(i) >> 3] >> (8 * ((i) & 7))))
#define ADICT_AES_COL(c, a0, a1, a2, a3)				\
	(col[c] = te[ADICT_AES_BYTE(a0)] ^				\
		  ADICT_ROL32(te[ADICT_AES_BYTE(a1)], 8) ^		\
		  ADICT_ROL32(te[ADICT_AES_BYTE(a2)], 16) ^		\
		  ADICT_ROL32(te[ADICT_AES_BYTE(a3)], 24))
	/* column c takes row r from byte r + 4 ((c + r) mod 4) */
	ADICT_AES_COL(0, 0, 5, 10, 15);
	ADICT_AES_COL(1, 4, 9, 14, 3);
	ADICT_AES_COL(2, 8, 13, 2, 7);
	ADICT_AES_COL(3, 12, 1, 6, 11);
#undef ADICT_AES_COL
#undef ADICT_AES_BYTE
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
