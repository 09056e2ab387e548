/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The atomics shim under the shared table core (adict/core.h).
 *
 * The core is compiled twice: into the kernel module and into libadict.
 * Everything it does to shared memory goes through the few operations below,
 * so the two builds differ only here.  Every read-modify-write is fully
 * ordered (sequentially consistent): in the kernel, value-returning atomics
 * and cmpxchg()/xchg() imply a full barrier (Documentation/atomic_t.txt); in
 * userspace the __atomic builtins are asked for __ATOMIC_SEQ_CST.
 *
 * The one weaker operation is adict_a_load_key() (and adict_a_load_key32()):
 * an acquire load of a row's key word.  It pairs with the fully ordered
 * cmpxchg that wrote the word (adict_a_cas(), adict_a_cas32()), so a reader
 * that sees a key's last word also sees its earlier words, the zeroed value
 * and every write made to it before.  Each operation exists for 64-bit and
 * for 32-bit words (suffix 32): u32 key words and u32 values.
 */
#ifndef ADICT_ATOMICS_H
#define ADICT_ATOMICS_H

#ifdef __KERNEL__
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/types.h>
#include <asm/barrier.h>

/* Shared memory words are plain __u64; atomic64_t is { s64 counter; }. */
#define adict__a64(p)	((atomic64_t *)(p))

static inline __u64 adict_a_load_key(const __u64 *p)
{
	return smp_load_acquire(p);	/* pairs with adict_a_cas() publishing */
}

static inline __u64 adict_a_load_relaxed(const __u64 *p)
{
	return READ_ONCE(*p);
}

static inline __u64 adict_a_load(const __u64 *p)
{
	__u64 v;

	smp_mb();	/* seq_cst load: order against earlier RMWs and stores */
	v = READ_ONCE(*p);
	smp_mb();	/* ... and against later ones */
	return v;
}

static inline __u64 adict_a_cas(__u64 *p, __u64 old, __u64 desired)
{
	return cmpxchg(p, old, desired);
}

static inline __u64 adict_a_xchg(__u64 *p, __u64 v)
{
	return xchg(p, v);
}

static inline __u64 adict_a_fetch_add(__u64 *p, __u64 v)
{
	return (__u64)atomic64_fetch_add((s64)v, adict__a64(p));
}

static inline __u64 adict_a_fetch_sub(__u64 *p, __u64 v)
{
	return (__u64)atomic64_fetch_sub((s64)v, adict__a64(p));
}

static inline __u64 adict_a_fetch_and(__u64 *p, __u64 v)
{
	return (__u64)atomic64_fetch_and((s64)v, adict__a64(p));
}

static inline __u64 adict_a_fetch_or(__u64 *p, __u64 v)
{
	return (__u64)atomic64_fetch_or((s64)v, adict__a64(p));
}

static inline __u64 adict_a_fetch_xor(__u64 *p, __u64 v)
{
	return (__u64)atomic64_fetch_xor((s64)v, adict__a64(p));
}

static inline __u64 adict_a_mulhi(__u64 a, __u64 b)
{
	return mul_u64_u64_shr(a, b, 64);
}

/* The same on 32-bit words (u32 key words and u32 values). */
#define adict__a32(p)	((atomic_t *)(p))

static inline __u32 adict_a_load_key32(const __u32 *p)
{
	return smp_load_acquire(p);	/* pairs with adict_a_cas32() */
}

static inline __u32 adict_a_load32(const __u32 *p)
{
	__u32 v;

	smp_mb();	/* seq_cst load, as adict_a_load() */
	v = READ_ONCE(*p);
	smp_mb();
	return v;
}

static inline __u32 adict_a_cas32(__u32 *p, __u32 old, __u32 desired)
{
	return cmpxchg(p, old, desired);
}

static inline __u32 adict_a_xchg32(__u32 *p, __u32 v)
{
	return xchg(p, v);
}

static inline __u32 adict_a_fetch_add32(__u32 *p, __u32 v)
{
	return (__u32)atomic_fetch_add((int)v, adict__a32(p));
}

static inline __u32 adict_a_fetch_sub32(__u32 *p, __u32 v)
{
	return (__u32)atomic_fetch_sub((int)v, adict__a32(p));
}

static inline __u32 adict_a_fetch_and32(__u32 *p, __u32 v)
{
	return (__u32)atomic_fetch_and((int)v, adict__a32(p));
}

static inline __u32 adict_a_fetch_or32(__u32 *p, __u32 v)
{
	return (__u32)atomic_fetch_or((int)v, adict__a32(p));
}

static inline __u32 adict_a_fetch_xor32(__u32 *p, __u32 v)
{
	return (__u32)atomic_fetch_xor((int)v, adict__a32(p));
}

static inline int adict_a_ctz(unsigned int x)	/* x != 0 */
{
	return __ffs(x);
}

/* Make the compiler forget what it knows of @x (no code emitted). */
#define adict_a_hide(x)	OPTIMIZER_HIDE_VAR(x)

/* A slow path kept out of line; unused in some users of the header. */
#define adict_a_noinline	noinline __maybe_unused

/*
 * adict_a_relax - called by long loops of the core on table @c (its struct
 * adict_core) once per bucket visited, @i counting from 1.  The kernel must
 * stay preemptible whatever a table holds (a probe of a table scribbled
 * over by a read-write user visits every bucket): every
 * ADICT_A_RELAX_BUCKETS buckets it records @c in adict_long_probe (the
 * module then knows that table is slow), lets the scheduler in, and asks
 * the loop to stop when the task has a fatal signal pending.
 * Callers run in process context with no spinlock held.
 * Return: true to abandon the loop (the core then returns -EINTR).
 */
#define ADICT_A_RELAX_BUCKETS	1024

extern const void *adict_long_probe;	/* kmod/atomic_dict.c */

static inline bool adict_a_relax(const void *c, __u64 i)
{
	if (i % ADICT_A_RELAX_BUCKETS)
		return false;
	WRITE_ONCE(adict_long_probe, c);
	cond_resched();
	return fatal_signal_pending(current);
}

#else /* !__KERNEL__ */
#include <linux/types.h>

/*
 * ADICT_A_STEP(p): run before every access to shared memory at @p.  Empty,
 * unless a test defines it before including this header:
 * tests/host/test_interleave.c uses it to run the real core one atomic
 * step at a time and enumerate every interleaving of several inserters.
 */
#ifndef ADICT_A_STEP
#define ADICT_A_STEP(p)	do { } while (0)
#endif

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif

static inline __u64 adict_a_load_key(const __u64 *p)
{
	ADICT_A_STEP(p);
	return __atomic_load_n(p, __ATOMIC_ACQUIRE); /* pairs with adict_a_cas() */
}

static inline __u64 adict_a_load_relaxed(const __u64 *p)
{
	ADICT_A_STEP(p);
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline __u64 adict_a_load(const __u64 *p)
{
	ADICT_A_STEP(p);
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static inline __u64 adict_a_cas(__u64 *p, __u64 old, __u64 desired)
{
	ADICT_A_STEP(p);
	__atomic_compare_exchange_n(p, &old, desired, 0, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return old;	/* the observed value */
}

static inline __u64 adict_a_xchg(__u64 *p, __u64 v)
{
	ADICT_A_STEP(p);
	return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}

static inline __u64 adict_a_fetch_add(__u64 *p, __u64 v)
{
	ADICT_A_STEP(p);
	return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

static inline __u64 adict_a_fetch_sub(__u64 *p, __u64 v)
{
	ADICT_A_STEP(p);
	return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST);
}

static inline __u64 adict_a_fetch_and(__u64 *p, __u64 v)
{
	ADICT_A_STEP(p);
	return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
}

static inline __u64 adict_a_fetch_or(__u64 *p, __u64 v)
{
	ADICT_A_STEP(p);
	return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}

static inline __u64 adict_a_fetch_xor(__u64 *p, __u64 v)
{
	ADICT_A_STEP(p);
	return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);
}

/* __extension__: no -pedantic warning in users' C99/C11 builds. */
__extension__ typedef unsigned __int128 adict_a_u128;

static inline __u64 adict_a_mulhi(__u64 a, __u64 b)
{
	return (__u64)(((adict_a_u128)a * b) >> 64);
}

/* The same on 32-bit words (u32 key words and u32 values). */
static inline __u32 adict_a_load_key32(const __u32 *p)
{
	ADICT_A_STEP(p);
	return __atomic_load_n(p, __ATOMIC_ACQUIRE); /* pairs with adict_a_cas32() */
}

static inline __u32 adict_a_load32(const __u32 *p)
{
	ADICT_A_STEP(p);
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static inline __u32 adict_a_cas32(__u32 *p, __u32 old, __u32 desired)
{
	ADICT_A_STEP(p);
	__atomic_compare_exchange_n(p, &old, desired, 0, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return old;	/* the observed value */
}

static inline __u32 adict_a_xchg32(__u32 *p, __u32 v)
{
	ADICT_A_STEP(p);
	return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}

static inline __u32 adict_a_fetch_add32(__u32 *p, __u32 v)
{
	ADICT_A_STEP(p);
	return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

static inline __u32 adict_a_fetch_sub32(__u32 *p, __u32 v)
{
	ADICT_A_STEP(p);
	return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST);
}

static inline __u32 adict_a_fetch_and32(__u32 *p, __u32 v)
{
	ADICT_A_STEP(p);
	return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
}

static inline __u32 adict_a_fetch_or32(__u32 *p, __u32 v)
{
	ADICT_A_STEP(p);
	return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}

static inline __u32 adict_a_fetch_xor32(__u32 *p, __u32 v)
{
	ADICT_A_STEP(p);
	return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);
}

static inline int adict_a_ctz(unsigned int x)	/* x != 0 */
{
	return __builtin_ctz(x);
}

/* Make the compiler forget what it knows of @x (no code emitted). */
#define adict_a_hide(x)	__asm__ ("" : "+r" (x))

/* A slow path kept out of line; unused in some users of the header. */
#define adict_a_noinline	__attribute__((__noinline__, __unused__))

/* Userspace is preempted anyway: nothing to do, and never abandon a loop. */
static inline bool adict_a_relax(const void *c, __u64 i)
{
	(void)c;
	(void)i;
	return false;
}

/*
 * x86-64 userspace: compare the four keys of a bucket with SSE2 (part of the
 * x86-64 baseline, so no flag or CPU check is needed).  The core's portable
 * scan (adict_core_bucket_scan()) costs about twenty integer instructions
 * that all wait on the bucket's cache miss; on a table larger than the caches
 * those occupy the integer registers that would otherwise let the next
 * lookups' misses start, and this form is markedly faster there (measured in
 * Documentation/bench.rst).  The kernel never uses vector registers here,
 * and ThreadSanitizer builds (which cannot see these loads) and
 * -DADICT_GENERIC_SCAN take the portable scan.
 *
 * Each key is read by one 16-byte aligned load of its slot (buckets are
 * 64-byte aligned: the data area starts on a page boundary of the mapping,
 * and the core only ever passes buckets of it); x86 reads each aligned
 * quadword of such a load atomically, and loads are acquire loads (TSO), as
 * adict_a_load_key() requires.
 */
#if defined(__x86_64__) && defined(__SSE2__) && \
	!defined(ADICT_GENERIC_SCAN) && !defined(__SANITIZE_THREAD__)
#include <emmintrin.h>
#include <xmmintrin.h>

#define ADICT_A_BUCKET_MATCH	1

/*
 * Bit j of the result set when slot j of the bucket at @slots holds @key;
 * bit j of *@empty set when slot j is empty (key word 0), from the same
 * loads.  Callers that do not use *@empty pay nothing for it (the compiler
 * drops it).
 */
static __always_inline unsigned int
adict_a_bucket_match(const void *slots, __u64 key, unsigned int *empty)
{
	const __m128i *s = (const __m128i *)slots;
	__m128i k = _mm_set1_epi64x((long long)key);
	/* keys of slots 0,1 and 2,3 side by side (low quadword of each slot) */
	__m128i k01 = _mm_unpacklo_epi64(_mm_load_si128(s),
					 _mm_load_si128(s + 1));
	__m128i k23 = _mm_unpacklo_epi64(_mm_load_si128(s + 2),
					 _mm_load_si128(s + 3));
	__m128i z = _mm_setzero_si128(), ones = _mm_set1_epi32(-1);
	/*
	 * Compare 32-bit halves, then pack each result to 16 bits: 32-bit lane
	 * j holds both halves' results of key j, all ones only if both match.
	 */
	__m128i eq = _mm_packs_epi32(_mm_cmpeq_epi32(k01, k),
				     _mm_cmpeq_epi32(k23, k));
	__m128i ez = _mm_packs_epi32(_mm_cmpeq_epi32(k01, z),
				     _mm_cmpeq_epi32(k23, z));

	*empty = (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(
		_mm_cmpeq_epi32(ez, ones)));
	return (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(
		_mm_cmpeq_epi32(eq, ones)));
}
#endif
#endif /* __KERNEL__ */

#endif /* ADICT_ATOMICS_H */
