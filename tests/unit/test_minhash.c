/*
 * test_minhash.c -- one-permutation min-hashing of word shingles
 * (minhash.h): bins fill from the FINGERPRINT_SHINGLE_WORDS-th word on,
 * empty bins take a filled bin's value, word order counts, and the share
 * of agreeing bins tracks the share of common shingles.  The values
 * themselves are pinned by test_fingerprint.c
 * (test_fingerprint_sig_pinned) through fingerprint_sig_compute.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hashing.h"
#include "minhash.h"

#define TRIALS 200u

static unsigned
agree(const uint32_t a[FINGERPRINT_K], const uint32_t b[FINGERPRINT_K])
{
    unsigned n = 0;

    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        n += a[k] == b[k];
    }
    return n;
}

static void
test_minhash_no_shingle_before_enough_words(void **state)
{
    struct minhash mh;
    uint32_t out[FINGERPRINT_K];
    unsigned n_filled = 0;

    (void)state;
    minhash_init(&mh);
    for (unsigned i = 0; i + 1 < FINGERPRINT_SHINGLE_WORDS; i++) {
        minhash_add_word(&mh, 0x1234u + i);
        assert_int_equal(mh.filled, 0);
    }
    minhash_finish(&mh, out);
    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        assert_int_equal(out[k], UINT32_MAX);
    }
    /* One shingle: one bin, and densification copies it everywhere. */
    minhash_add_word(&mh, 0x9999u);
    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        n_filled += (mh.filled >> k) & 1u;
    }
    assert_int_equal(n_filled, 1);
    minhash_finish(&mh, out);
    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        assert_int_equal(out[k], out[0]);
        assert_true(out[k] < UINT32_MAX);
    }
}

static void
test_minhash_finish_densifies(void **state)
{
    struct minhash mh;
    struct hashing_rng rng;
    uint32_t out[FINGERPRINT_K];

    (void)state;
    minhash_init(&mh);
    hashing_rng_init(&rng, 3);
    /* A few shingles: some bins stay empty. */
    for (unsigned i = 0; i < 9; i++) {
        minhash_add_word(&mh, hashing_rng_next(&rng));
    }
    assert_true(mh.filled != 0xffffu);
    minhash_finish(&mh, out);
    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        bool is_copy = false;

        if (mh.filled & (1u << k)) {
            assert_int_equal(out[k], mh.min[k]);
            continue;
        }
        for (unsigned b = 0; b < FINGERPRINT_K; b++) {
            is_copy = is_copy ||
                      ((mh.filled & (1u << b)) && out[k] == mh.min[b]);
        }
        assert_true(is_copy);
    }
}

static void
test_minhash_word_order_counts(void **state)
{
    struct minhash a;
    struct minhash b;

    (void)state;
    minhash_init(&a);
    minhash_init(&b);
    for (unsigned i = 0; i < FINGERPRINT_SHINGLE_WORDS; i++) {
        minhash_add_word(&a, 0x100u + i);
        minhash_add_word(&b, 0x100u + FINGERPRINT_SHINGLE_WORDS - 1 - i);
    }
    assert_true(a.filled != b.filled ||
                memcmp(a.min, b.min, sizeof(a.min)) != 0);
}

/* Mean agreement of TRIALS pairs of n-word random streams whose words
 * differ at every position i with i % period == period - 1 (period 0:
 * none) and in the second half when split. */
static double
mean_agreement(unsigned n, unsigned period, bool split)
{
    struct hashing_rng rng;
    unsigned total = 0;

    hashing_rng_init(&rng, 11);
    for (unsigned t = 0; t < TRIALS; t++) {
        struct minhash a;
        struct minhash b;
        uint32_t sa[FINGERPRINT_K];
        uint32_t sb[FINGERPRINT_K];

        minhash_init(&a);
        minhash_init(&b);
        for (unsigned i = 0; i < n; i++) {
            uint64_t w = hashing_rng_next(&rng);
            bool is_diff = (period > 0 && i % period == period - 1) ||
                           (split && i >= n / 2);

            minhash_add_word(&a, w);
            minhash_add_word(&b, is_diff ? hashing_rng_next(&rng) : w);
        }
        minhash_finish(&a, sa);
        minhash_finish(&b, sb);
        total += agree(sa, sb);
    }
    return (double)total / TRIALS;
}

static void
test_minhash_agreement_tracks_overlap(void **state)
{
    double same = mean_agreement(60, 0, false);
    double near = mean_agreement(200, 100, false);
    double half = mean_agreement(200, 0, true);
    double none = mean_agreement(200, 1, false);

    (void)state;
    assert_true(same == FINGERPRINT_K);
    /* 2 words of 200 changed: 8 of 197 shingles, Jaccard ~0.92. */
    assert_true(near > 13.5 && near < 15.9);
    /* Second half differs: Jaccard ~(100-3)/(300-3) ~0.33, ~5.2 bins. */
    assert_true(half > 4.0 && half < 6.5);
    /* Nothing in common. */
    assert_true(none < 0.1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minhash_no_shingle_before_enough_words),
        cmocka_unit_test(test_minhash_finish_densifies),
        cmocka_unit_test(test_minhash_word_order_counts),
        cmocka_unit_test(test_minhash_agreement_tracks_overlap),
    };

    return cmocka_run_group_tests_name("minhash", tests, NULL, NULL);
}
