/*
 * hashing.c -- the splitmix64 PRNG (see hashing.h; the hash, the mixer and
 * combine are static inline there, as features call them per token).
 * No state but the caller's generator; any thread.
 */
#include "hashing.h"

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
