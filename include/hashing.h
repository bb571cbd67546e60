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

/* 64-bit hash of (p, len) under seed; p may be NULL when len is 0. */
uint64_t hashing_hash64(const void *p, size_t len, uint64_t seed);

/* Bijective 64-bit finaliser: every input bit flips each output bit with
 * probability about 1/2. */
uint64_t hashing_mix64(uint64_t x);

/* Order-sensitive combination of two hashes (a then b). */
uint64_t hashing_combine(uint64_t a, uint64_t b);

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

#endif
