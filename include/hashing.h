/*
 * hashing.h -- stable non-cryptographic hashing and a seeded PRNG.
 *
 * hashing_hash64() names features: its values are baked into every trained
 * cartridge, so they must never change for a given feature-set version
 * (featureset.h FEATURES_VERSION) and must not depend on the host's byte
 * order or word size.  The PRNG (splitmix64) makes training deterministic:
 * same seed, same shuffles, same cartridge.  Not for anything an attacker
 * must not predict or collide on purpose.  Pure functions; any thread.
 */
#ifndef CM_HASHING_H
#define CM_HASHING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The hash, the mixer and combine are static inline: features hash every
 * token, and a call per 2..20-byte token cost more than the hash itself.
 * The definitions are below the prototypes' comments. */

/* 64-bit hash of (p, len) under seed; p may be NULL when len is 0. */
static inline uint64_t hashing_hash64(const void *p, size_t len,
                                      uint64_t seed);

/* hashing_hash64 of (p, len) where p can be read for len + 8 bytes (a
 * buffer with slack): the same value, with the 0..7-byte tail read as
 * one load and a mask instead of loads picked by a branch on its length
 * (issue #7: the body's words are hashed from such a buffer). */
static inline uint64_t hashing_hash64_padded(const void *p, size_t len,
                                             uint64_t seed);

/* hashing_hash64 in steps, for a caller that holds the input's 8-byte
 * little-endian words in registers as it reads them (issue #7: the body
 * scanner folds each word of a token as it classifies it, instead of
 * storing the token and loading it again):
 *   h = hashing_start(seed);
 *   h = hashing_step(h, word) for each whole 8-byte word, in order;
 *   h = hashing_step(h, tail) for the 0..7 bytes left, zero-extended
 *       (0 when none are left: the tail step always runs);
 *   value = hashing_finish(h, len).
 * The same value as hashing_hash64(p, len, seed). */
static inline uint64_t hashing_start(uint64_t seed);
static inline uint64_t hashing_step(uint64_t h, uint64_t word);
static inline uint64_t hashing_finish(uint64_t h, size_t len);

/* Bijective 64-bit finaliser: every input bit flips each output bit with
 * probability about 1/2. */
static inline uint64_t hashing_mix64(uint64_t x);

/* Order-sensitive combination of two hashes (a then b). */
static inline uint64_t hashing_combine(uint64_t a, uint64_t b);

/* splitmix64 generator; the state is the whole generator. */
struct hashing_rng {
    uint64_t state;
};

void hashing_rng_init(struct hashing_rng *r, uint64_t seed);

/* Next 64 random bits. */
uint64_t hashing_rng_next(struct hashing_rng *r);

/* Uniform integer in [0, bound) for bound >= 1 (bias below 2^-32 for
 * bounds under 2^32). */
uint64_t hashing_rng_below(struct hashing_rng *r, uint64_t bound);

/* ---- inline definitions ---------------------------------------------
 *
 * The hash reads its input as little-endian 64-bit words whatever the
 * host, folds each word into the state with a multiply and a rotate,
 * folds the tail bytes and the length in last, and finishes with
 * hashing_mix64 (the splitmix64 finaliser, a bijection with full
 * avalanche).  On a little-endian host the words and the tail are read
 * with fixed-size memcpy loads (single moves; the 1..7-byte tail as two
 * overlapping loads whose overlap ORs identical bytes); elsewhere byte by
 * byte.  Both give the same value, pinned by tests/unit/test_hashing.c. */

#define HASHING_K1 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio, odd */
#define HASHING_K2 0xc2b2ae3d27d4eb4full /* odd constant with mixed bits */
#define HASHING_K3 0x165667b19e3779f9ull

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HASHING_LITTLE_ENDIAN 1
#else
#define HASHING_LITTLE_ENDIAN 0
#endif

static inline uint64_t
hashing_rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64u - r));
}

/* The 8 bytes at p as a little-endian number. */
static inline uint64_t
hashing_load64(const uint8_t *p)
{
    uint64_t v = 0;

#if HASHING_LITTLE_ENDIAN
    memcpy(&v, p, sizeof(v));
#else
    for (unsigned i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8u * i);
    }
#endif
    return v;
}

/* The n (0..7) bytes at b + off as a little-endian number (b is not
 * offset when n is 0: it may be NULL then). */
static inline uint64_t
hashing_load_tail(const uint8_t *b, size_t off, size_t n)
{
    const uint8_t *p;
    uint64_t v = 0;

    if (n == 0) {
        return 0;
    }
    p = b + off;
#if HASHING_LITTLE_ENDIAN
    if (n >= 4) {
        uint32_t lo;
        uint32_t hi;

        memcpy(&lo, p, sizeof(lo));
        memcpy(&hi, p + n - 4, sizeof(hi));
        v = (uint64_t)lo | ((uint64_t)hi << (8u * (n - 4)));
    } else {
        v = (uint64_t)p[0] | ((uint64_t)p[n / 2] << (8u * (n / 2))) |
            ((uint64_t)p[n - 1] << (8u * (n - 1)));
    }
#else
    for (size_t k = 0; k < n; k++) {
        v |= (uint64_t)p[k] << (8u * k);
    }
#endif
    return v;
}

static inline uint64_t
hashing_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static inline uint64_t
hashing_start(uint64_t seed)
{
    return seed ^ HASHING_K3;
}

static inline uint64_t
hashing_step(uint64_t h, uint64_t word)
{
    h ^= word * HASHING_K2;
    return hashing_rotl64(h, 29) * HASHING_K1;
}

static inline uint64_t
hashing_finish(uint64_t h, size_t len)
{
    h ^= (uint64_t)len * HASHING_K3;
    return hashing_mix64(h);
}

static inline uint64_t
hashing_hash64(const void *p, size_t len, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = hashing_start(seed);
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        h = hashing_step(h, hashing_load64(b + i));
    }
    h = hashing_step(h, hashing_load_tail(b, i, len - i));
    return hashing_finish(h, len);
}

static inline uint64_t
hashing_hash64_padded(const void *p, size_t len, uint64_t seed)
{
#if HASHING_LITTLE_ENDIAN
    const uint8_t *b = p;
    uint64_t h = hashing_start(seed);
    size_t i = 0;
    size_t n;

    for (; i + 8 <= len; i += 8) {
        h = hashing_step(h, hashing_load64(b + i));
    }
    n = len - i; /* 0..7: the mask keeps the n bytes of the tail */
    h = hashing_step(h, hashing_load64(b + i) &
                            (((uint64_t)1 << (8u * n)) - 1u));
    return hashing_finish(h, len);
#else
    return hashing_hash64(p, len, seed);
#endif
}

static inline uint64_t
hashing_combine(uint64_t a, uint64_t b)
{
    return hashing_mix64(hashing_rotl64(a, 17) * HASHING_K1 ^ b);
}

#endif
