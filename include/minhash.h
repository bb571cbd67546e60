/*
 * minhash.h -- the running minima behind a body signature (fingerprint.c):
 * FINGERPRINT_K hash functions over the FINGERPRINT_SHINGLE_WORDS-word
 * shingles of a stream of word hashes.
 *
 * For each shingle (the last FINGERPRINT_SHINGLE_WORDS words, oldest
 * first) sh = combine(...combine(MINHASH_SEED, w0)..., w3), and for k in
 * 0..K-1 the top 32 bits of hashing_mix64(sh + (k + 1) * HASHING_K1) lower
 * min[k] when smaller.  These values are baked into every cartridge's
 * FINGERPRINTS section: they never change.
 *
 * This is the hottest loop of scoring (issue #7: 16 64-bit mixes per
 * word), so there are two kernels with identical results: the portable
 * one, and on x86-64 CPUs with AVX2 one that mixes four hash functions
 * per instruction.  minhash_init picks the best the CPU has.
 *
 * State: the caller's struct only.  Any thread.  Engine layer.
 */
#ifndef CM_MINHASH_H
#define CM_MINHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

/* The shingle seed (also fingerprint.c's word-hash seed). */
#define MINHASH_SEED 0x6670u

struct minhash {
    uint64_t ring[FINGERPRINT_SHINGLE_WORDS]; /* last words, by n % size */
    size_t n_words;                           /* words added so far */
    uint32_t min[FINGERPRINT_K];              /* UINT32_MAX until lowered */
    bool use_avx2;
};

/* Empty minima; the AVX2 kernel when the CPU has it. */
void minhash_init(struct minhash *mh);

/* Empty minima, always the portable kernel (tests compare the two). */
void minhash_init_portable(struct minhash *mh);

/* Whether minhash_init would pick the AVX2 kernel on this CPU. */
bool minhash_has_avx2(void);

/* Add one word; a shingle is hashed from the FINGERPRINT_SHINGLE_WORDS-th
 * word on. */
void minhash_add_word(struct minhash *mh, uint64_t word_hash);

#endif
