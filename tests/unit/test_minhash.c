/*
 * test_minhash.c -- shingle min-hashing (minhash.h): the kernel picked for
 * this CPU (AVX2 where there is one) must give exactly the minima of the
 * portable kernel, after every word, since both feed the signatures baked
 * into cartridges.  The portable kernel's own values are pinned by
 * test_fingerprint.c (test_fingerprint_sig_pinned) through
 * fingerprint_sig_compute.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hashing.h"
#include "minhash.h"

static void
assert_same_minima(const struct minhash *a, const struct minhash *b)
{
    assert_int_equal(a->n_words, b->n_words);
    assert_memory_equal(a->min, b->min, sizeof(a->min));
}

static void
test_minhash_no_shingle_before_enough_words(void **state)
{
    struct minhash mh;

    (void)state;
    minhash_init(&mh);
    for (unsigned i = 0; i + 1 < FINGERPRINT_SHINGLE_WORDS; i++) {
        minhash_add_word(&mh, 0x1234u + i);
        for (unsigned k = 0; k < FINGERPRINT_K; k++) {
            assert_int_equal(mh.min[k], UINT32_MAX);
        }
    }
    minhash_add_word(&mh, 0x9999u);
    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        assert_true(mh.min[k] < UINT32_MAX);
    }
}

static void
test_minhash_kernels_agree_random(void **state)
{
    struct minhash fast;
    struct minhash portable;
    struct hashing_rng rng;

    (void)state;
    minhash_init(&fast);
    minhash_init_portable(&portable);
    assert_false(portable.use_avx2);
    assert_true(fast.use_avx2 == minhash_has_avx2());
    hashing_rng_init(&rng, 7);
    for (unsigned i = 0; i < 5000; i++) {
        uint64_t w = hashing_rng_next(&rng);

        minhash_add_word(&fast, w);
        minhash_add_word(&portable, w);
        assert_same_minima(&fast, &portable);
    }
}

/* Words whose shingles put all-zero and all-one bits and carries into the
 * 64-bit products the AVX2 kernel assembles from 32-bit halves. */
static void
test_minhash_kernels_agree_edges(void **state)
{
    static const uint64_t words[] = {
        0, UINT64_MAX, 0, 0, 0, UINT64_MAX, UINT64_MAX, UINT64_MAX,
        0x00000000ffffffffull, 0xffffffff00000000ull, 1, 2, 3,
        0x8000000000000000ull, 0x7fffffffffffffffull, HASHING_K1,
        0x1ce4e5b9u, 0xbf58476d00000000ull, 0, 0, 0, 0};
    struct minhash fast;
    struct minhash portable;

    (void)state;
    minhash_init(&fast);
    minhash_init_portable(&portable);
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        minhash_add_word(&fast, words[i]);
        minhash_add_word(&portable, words[i]);
        assert_same_minima(&fast, &portable);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minhash_no_shingle_before_enough_words),
        cmocka_unit_test(test_minhash_kernels_agree_random),
        cmocka_unit_test(test_minhash_kernels_agree_edges),
    };

    return cmocka_run_group_tests_name("minhash", tests, NULL, NULL);
}
