/*
 * hashing.c -- feature hash, mixer and splitmix64 PRNG (see hashing.h).
 *
 * The hash reads its input as little-endian 64-bit words whatever the host,
 * folds each word into the state with a multiply and a rotate, folds the
 * tail bytes and the length in last, and finishes with hashing_mix64 (the
 * splitmix64 finaliser, a bijection with full avalanche).  It is built for
 * short tokens (most features hash 2..20 bytes) where a single multiply per
 * word and one finaliser keep it in the nanoseconds.  No state; any thread.
 */
#include "hashing.h"

#define HASHING_K1 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio, odd */
#define HASHING_K2 0xc2b2ae3d27d4eb4full /* odd constant with mixed bits */
#define HASHING_K3 0x165667b19e3779f9ull

static uint64_t
rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64u - r));
}

static uint64_t
load_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8u * i);
    }
    return v;
}

uint64_t
hashing_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

uint64_t
hashing_hash64(const void *p, size_t len, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = seed ^ HASHING_K3;
    uint64_t tail = 0;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        h ^= load_le64(b + i) * HASHING_K2;
        h = rotl64(h, 29) * HASHING_K1;
    }
    for (unsigned k = 0; i < len; i++, k++) {
        tail |= (uint64_t)b[i] << (8u * k);
    }
    h ^= tail * HASHING_K2;
    h = rotl64(h, 29) * HASHING_K1;
    h ^= (uint64_t)len * HASHING_K3;
    return hashing_mix64(h);
}

uint64_t
hashing_combine(uint64_t a, uint64_t b)
{
    return hashing_mix64(rotl64(a, 17) * HASHING_K1 ^ b);
}

void
hashing_rng_init(struct hashing_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t
hashing_rng_next(struct hashing_rng *r)
{
    r->state += HASHING_K1;
    return hashing_mix64(r->state);
}

uint64_t
hashing_rng_below(struct hashing_rng *r, uint64_t bound)
{
    /* Multiply-shift on the high 32 bits: cheap, bias < bound / 2^32. */
    uint64_t x = hashing_rng_next(r) >> 32;

    if (bound <= 1) {
        return 0;
    }
    if (bound <= UINT32_MAX) {
        return (x * bound) >> 32;
    }
    return hashing_rng_next(r) % bound;
}
