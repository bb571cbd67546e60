/*
 * minhash.h -- the sketch behind a body signature (fingerprint.c):
 * one-permutation min-hashing of the FINGERPRINT_SHINGLE_WORDS-word
 * shingles of a stream of word hashes into FINGERPRINT_K bins.
 *
 * For each shingle (the last FINGERPRINT_SHINGLE_WORDS words w0..w3,
 * oldest first) one hash h = hashing_mix64(MINHASH_SEED ^ (w0 * C0 +
 * w1 * C1 + w2 * C2 + w3 * C3)) (C0..C3: MINHASH_C0..3); its top 4 bits
 * pick a bin and its low 32 bits lower that bin's minimum when smaller.
 * minhash_finish then fills each bin no shingle fell into from a filled
 * one, chosen by a probe sequence that depends only on the empty bin's
 * index ("optimal densification", Shrivastava 2017), so two texts fill
 * their empty bins alike and the share of agreeing bins still estimates
 * the share of common shingles.
 *
 * Why not K independent min-hashes: those cost K hash evaluations per
 * word, and the body scan ran them on every word of every message
 * (issue #7: the hottest loop of scoring).  This costs one.  These values
 * are baked into every cartridge's FINGERPRINTS section: changing them
 * bumps FINGERPRINT_FORMAT (fingerprint.h).
 *
 * State: the caller's struct only.  Any thread.  Engine layer.
 */
#ifndef CM_MINHASH_H
#define CM_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"
#include "hashing.h"

/* The shingle seed (also fingerprint.c's word-hash seed). */
#define MINHASH_SEED 0x6670u

/* Odd multipliers of the shingle's words, oldest first. */
#define MINHASH_C0 0x9e3779b97f4a7c15ull
#define MINHASH_C1 0xc2b2ae3d27d4eb4full
#define MINHASH_C2 0x165667b19e3779f9ull
#define MINHASH_C3 0xd6e8feb86659fd93ull

struct minhash {
    uint64_t last[FINGERPRINT_SHINGLE_WORDS]; /* last words, oldest first */
    size_t n_words;                           /* words added so far */
    uint32_t min[FINGERPRINT_K];              /* UINT32_MAX until lowered */
    uint32_t filled;                          /* bit k: bin k got a shingle */
};

/* Empty bins. */
void minhash_init(struct minhash *mh);

/* Add one word; a shingle is hashed from the FINGERPRINT_SHINGLE_WORDS-th
 * word on.  Defined below, static inline: it runs once per body word and
 * the call cost a fifth of it (issue #7). */
static inline void minhash_add_word(struct minhash *mh, uint64_t word_hash);

/* Bins at least one shingle fell into, 0..FINGERPRINT_K: how many
 * distinct shingles the text had, roughly. */
unsigned minhash_filled(const struct minhash *mh);

/* The K values: each bin's minimum, empty bins densified (see above).
 * All UINT32_MAX when no shingle was added.  mh is left as it was. */
void minhash_finish(const struct minhash *mh, uint32_t out[FINGERPRINT_K]);

/* ---- inline definition --------------------------------------------- */

#define MINHASH_BIN_SHIFT 60u

static inline void
minhash_add_word(struct minhash *mh, uint64_t word_hash)
{
    uint64_t *w = mh->last;
    uint64_t sum;
    uint64_t h;
    unsigned bin;
    uint32_t v;

    /* A shift register, not a ring: no index arithmetic per word. */
    w[0] = w[1];
    w[1] = w[2];
    w[2] = w[3];
    w[3] = word_hash;
    mh->n_words++;
    if (mh->n_words < FINGERPRINT_SHINGLE_WORDS) {
        return;
    }
    /* The shingle of the last words, oldest first: distinct odd
     * multipliers keep word order, the mixer spreads the sum. */
    sum = w[0] * MINHASH_C0 + w[1] * MINHASH_C1 + w[2] * MINHASH_C2 +
          w[3] * MINHASH_C3;
    h = hashing_mix64(MINHASH_SEED ^ sum);
    bin = (unsigned)(h >> MINHASH_BIN_SHIFT);
    v = (uint32_t)h;
    mh->filled |= 1u << bin;
    if (v < mh->min[bin]) {
        mh->min[bin] = v;
    }
}

#endif
