/*
 * minhash.c -- one-permutation min-hashing of word shingles for body
 * signatures (see minhash.h).
 */
#include "minhash.h"

#include <string.h>

#include "hashing.h"

_Static_assert(FINGERPRINT_K == 16u, "the bin is the top 4 hash bits");
_Static_assert(FINGERPRINT_SHINGLE_WORDS == 4u, "four multipliers");

/* Random probes for an empty bin's donor before the scan to the right
 * (reached only when nearly every bin is empty; it keeps the loop
 * bounded). */
#define MINHASH_PROBES 64u

void
minhash_init(struct minhash *mh)
{
    memset(mh, 0, sizeof(*mh));
    memset(mh->min, 0xff, sizeof(mh->min));
}

unsigned
minhash_filled(const struct minhash *mh)
{
    unsigned n = 0;

    for (uint32_t f = mh->filled; f != 0; f &= f - 1) {
        n++;
    }
    return n;
}

/* The filled bin whose value empty bin j takes: the first filled one of
 * j's own probe sequence, else the next filled one to the right. */
static unsigned
donor(uint32_t filled, unsigned j)
{
    for (unsigned t = 1; t <= MINHASH_PROBES; t++) {
        uint64_t r = hashing_mix64(MINHASH_SEED ^ ((uint64_t)j << 32 | t));
        unsigned b = (unsigned)(r >> MINHASH_BIN_SHIFT);

        if (filled & (1u << b)) {
            return b;
        }
    }
    for (unsigned d = 1; d < FINGERPRINT_K; d++) {
        unsigned b = (j + d) % FINGERPRINT_K;

        if (filled & (1u << b)) {
            return b;
        }
    }
    return j;
}

void
minhash_finish(const struct minhash *mh, uint32_t out[FINGERPRINT_K])
{
    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        out[k] = mh->min[k];
        if (mh->filled != 0 && (mh->filled & (1u << k)) == 0) {
            out[k] = mh->min[donor(mh->filled, k)];
        }
    }
}
