/*
 * minhash.c -- shingle min-hashing for body signatures (see minhash.h).
 *
 * The AVX2 kernel computes exactly what the portable one does.  AVX2 has
 * no 64-bit multiply, so each 64-bit product (mod 2^64) is built from
 * three 32x32->64 products: x*m = xl*ml + ((xh*ml + xl*mh) << 32).  The
 * four 64-bit lanes of a vector are four hash functions k; their top
 * halves are packed eight to a vector and folded into the minima with one
 * unsigned 32-bit min.  GCC and Clang only (target attribute and CPU
 * check); anything else uses the portable kernel.
 */
#include "minhash.h"

#include <string.h>

#include "hashing.h"

_Static_assert(FINGERPRINT_K == 16u, "the AVX2 kernel does 16 functions");
_Static_assert(FINGERPRINT_SHINGLE_WORDS == 4u, "ring index masks");

/* The per-function offsets (k + 1) * HASHING_K1, k = 0..15. */
#define MINHASH_OFF(k) ((uint64_t)(k) * HASHING_K1)
static const uint64_t minhash_offsets[FINGERPRINT_K] = {
    MINHASH_OFF(1),  MINHASH_OFF(2),  MINHASH_OFF(3),  MINHASH_OFF(4),
    MINHASH_OFF(5),  MINHASH_OFF(6),  MINHASH_OFF(7),  MINHASH_OFF(8),
    MINHASH_OFF(9),  MINHASH_OFF(10), MINHASH_OFF(11), MINHASH_OFF(12),
    MINHASH_OFF(13), MINHASH_OFF(14), MINHASH_OFF(15), MINHASH_OFF(16)};
#undef MINHASH_OFF

static void
update_portable(uint32_t min[FINGERPRINT_K], uint64_t sh)
{
    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        uint32_t h = (uint32_t)(hashing_mix64(sh + minhash_offsets[k]) >> 32);

        if (h < min[k]) {
            min[k] = h;
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define MINHASH_AVX2 1
#include <immintrin.h>

#define MINHASH_AVX2_FN __attribute__((target("avx2")))

/* The low 64 bits of x * m per lane, m given as its 32-bit halves. */
MINHASH_AVX2_FN static inline __m256i
mul64(__m256i x, __m256i m_lo, __m256i m_hi)
{
    __m256i lo = _mm256_mul_epu32(x, m_lo);
    __m256i cross = _mm256_add_epi64(
        _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m_lo),
        _mm256_mul_epu32(x, m_hi));

    return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

/* hashing_mix64 on four lanes. */
MINHASH_AVX2_FN static inline __m256i
mix64x4(__m256i x)
{
    const __m256i m1_lo = _mm256_set1_epi64x(0x1ce4e5b9);
    const __m256i m1_hi = _mm256_set1_epi64x(0xbf58476d);
    const __m256i m2_lo = _mm256_set1_epi64x(0x133111eb);
    const __m256i m2_hi = _mm256_set1_epi64x(0x94d049bb);

    x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 30));
    x = mul64(x, m1_lo, m1_hi);
    x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 27));
    x = mul64(x, m2_lo, m2_hi);
    return _mm256_xor_si256(x, _mm256_srli_epi64(x, 31));
}

/* Functions 8*half .. 8*half+7: two vectors of four mixes, their top
 * halves interleaved by a blend ([h0 h4 h1 h5 h2 h6 h3 h7]) and put back
 * in order by a permute, then one min against the stored minima. */
MINHASH_AVX2_FN static void
update_avx2(uint32_t min[FINGERPRINT_K], uint64_t sh)
{
    const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    const __m256i s = _mm256_set1_epi64x((long long)sh);

    for (unsigned half = 0; half < 2; half++) {
        const uint64_t *off = minhash_offsets + 8 * half;
        __m256i a = mix64x4(_mm256_add_epi64(
            s, _mm256_loadu_si256((const __m256i *)(const void *)off)));
        __m256i b = mix64x4(_mm256_add_epi64(
            s, _mm256_loadu_si256((const __m256i *)(const void *)(off + 4))));
        __m256i h = _mm256_permutevar8x32_epi32(
            _mm256_blend_epi32(_mm256_srli_epi64(a, 32), b, 0xaa), order);
        __m256i *m = (__m256i *)(void *)(min + 8 * half);

        _mm256_storeu_si256(m, _mm256_min_epu32(_mm256_loadu_si256(m), h));
    }
}
#else
#define MINHASH_AVX2 0
#endif

bool
minhash_has_avx2(void)
{
#if MINHASH_AVX2
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

void
minhash_init_portable(struct minhash *mh)
{
    memset(mh, 0, sizeof(*mh));
    memset(mh->min, 0xff, sizeof(mh->min));
}

void
minhash_init(struct minhash *mh)
{
    minhash_init_portable(mh);
    mh->use_avx2 = minhash_has_avx2();
}

void
minhash_add_word(struct minhash *mh, uint64_t word_hash)
{
    uint64_t sh = MINHASH_SEED;

    mh->ring[mh->n_words % FINGERPRINT_SHINGLE_WORDS] = word_hash;
    mh->n_words++;
    if (mh->n_words < FINGERPRINT_SHINGLE_WORDS) {
        return;
    }
    /* The shingle of the last words, oldest first. */
    for (size_t i = 0; i < FINGERPRINT_SHINGLE_WORDS; i++) {
        size_t at = (mh->n_words + i) % FINGERPRINT_SHINGLE_WORDS;

        sh = hashing_combine(sh, mh->ring[at]);
    }
#if MINHASH_AVX2
    if (mh->use_avx2) {
        update_avx2(mh->min, sh);
        return;
    }
#endif
    update_portable(mh->min, sh);
}
