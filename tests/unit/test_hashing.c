/*
 * test_hashing.c -- unit tests for hashing: the values are baked into
 * every trained cartridge, so they are pinned here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hashing.h"

static void
test_hashing_stable_values(void **state)
{
    (void)state;
    assert_true(hashing_hash64("", 0, 0) == 0x506a6a9aefea3facull);
    assert_true(hashing_hash64(NULL, 0, 0) == 0x506a6a9aefea3facull);
    assert_true(hashing_hash64("hello", 5, 0) == 0x90c2549a25b0ca1full);
    assert_true(hashing_hash64("hello", 5, 1) == 0x0e01d96e597b391aull);
    assert_true(hashing_hash64("the quick brown fox", 19, 42) ==
                0x96113a61e215da43ull);
    assert_true(hashing_mix64(1) == 0x5692161d100b05e5ull);
    assert_true(hashing_combine(1, 2) == 0x9504a4471d7211abull);
}

static void
test_hashing_length_and_seed_matter(void **state)
{
    const char z[16] = {0};

    (void)state;
    /* Zero bytes of different lengths must not collide (tail folding). */
    for (size_t i = 0; i < 16; i++) {
        for (size_t j = i + 1; j < 16; j++) {
            assert_true(hashing_hash64(z, i, 0) != hashing_hash64(z, j, 0));
        }
    }
    assert_true(hashing_hash64("abc", 3, 1) != hashing_hash64("abc", 3, 2));
    assert_true(hashing_combine(1, 2) != hashing_combine(2, 1));
}

static void
test_hashing_alignment_independent(void **state)
{
    char buf[64];
    const char *text = "alignment does not change the hash";
    size_t len = strlen(text);
    uint64_t want = hashing_hash64(text, len, 9);

    (void)state;
    for (size_t off = 0; off < 8; off++) {
        memcpy(buf + off, text, len);
        assert_true(hashing_hash64(buf + off, len, 9) == want);
    }
}

/* The hash as first written: byte by byte, no word loads.  The inline
 * version (word and overlapping tail loads) must give the same value for
 * every length and alignment, since the values are in every cartridge. */
static uint64_t
reference_hash64(const uint8_t *b, size_t len, uint64_t seed)
{
    uint64_t h = seed ^ 0x165667b19e3779f9ull;
    uint64_t tail = 0;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t v = 0;

        for (unsigned k = 0; k < 8; k++) {
            v |= (uint64_t)b[i + k] << (8u * k);
        }
        h ^= v * 0xc2b2ae3d27d4eb4full;
        h = ((h << 29) | (h >> 35)) * 0x9e3779b97f4a7c15ull;
    }
    for (unsigned k = 0; i < len; i++, k++) {
        tail |= (uint64_t)b[i] << (8u * k);
    }
    h ^= tail * 0xc2b2ae3d27d4eb4full;
    h = ((h << 29) | (h >> 35)) * 0x9e3779b97f4a7c15ull;
    h ^= (uint64_t)len * 0x165667b19e3779f9ull;
    return hashing_mix64(h);
}

static void
test_hashing_matches_bytewise_reference(void **state)
{
    uint8_t buf[96];
    struct hashing_rng r;

    (void)state;
    hashing_rng_init(&r, 11);
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)hashing_rng_next(&r);
    }
    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; len + off <= 80; len++) {
            assert_true(hashing_hash64(buf + off, len, off * 31 + len) ==
                        reference_hash64(buf + off, len, off * 31 + len));
        }
    }
}

/* The padded variant gives hashing_hash64's value whatever the slack
 * bytes after the text hold, at every length and offset. */
static void
test_hashing_padded_same_value(void **state)
{
    uint8_t buf[64 + 8];
    struct hashing_rng r;

    (void)state;
    hashing_rng_init(&r, 7);
    for (size_t round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            buf[i] = (uint8_t)hashing_rng_next(&r);
        }
        for (size_t off = 0; off < 8; off++) {
            for (size_t len = 0; off + len + 8 <= sizeof(buf); len++) {
                uint64_t seed = hashing_rng_next(&r);

                assert_true(hashing_hash64_padded(buf + off, len, seed) ==
                            hashing_hash64(buf + off, len, seed));
            }
        }
    }
}

/* hashing_start, hashing_step over the little-endian words and the
 * zero-extended tail, and hashing_finish give hashing_hash64's value. */
static void
test_hashing_steps_same_value(void **state)
{
    uint8_t buf[64];
    struct hashing_rng r;

    (void)state;
    hashing_rng_init(&r, 13);
    for (size_t round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            buf[i] = (uint8_t)hashing_rng_next(&r);
        }
        for (size_t len = 0; len <= sizeof(buf); len++) {
            uint64_t seed = hashing_rng_next(&r);
            uint64_t h = hashing_start(seed);
            uint64_t tail = 0;
            size_t i = 0;

            for (; i + 8 <= len; i += 8) {
                uint64_t w = 0;

                for (unsigned k = 0; k < 8; k++) {
                    w |= (uint64_t)buf[i + k] << (8u * k);
                }
                h = hashing_step(h, w);
            }
            for (unsigned k = 0; i + k < len; k++) {
                tail |= (uint64_t)buf[i + k] << (8u * k);
            }
            h = hashing_step(h, tail);
            assert_true(hashing_finish(h, len) ==
                        hashing_hash64(buf, len, seed));
        }
    }
}

static void
test_hashing_rng_deterministic(void **state)
{
    struct hashing_rng a;
    struct hashing_rng b;

    (void)state;
    hashing_rng_init(&a, 7);
    assert_true(hashing_rng_next(&a) == 0x63cbe1e459320dd7ull);
    assert_true(hashing_rng_next(&a) == 0x044c3cd7f43c661cull);
    hashing_rng_init(&a, 123);
    hashing_rng_init(&b, 123);
    for (int i = 0; i < 100; i++) {
        assert_true(hashing_rng_next(&a) == hashing_rng_next(&b));
    }
}

static void
test_hashing_rng_below_in_range(void **state)
{
    struct hashing_rng r;
    size_t seen[10] = {0};

    (void)state;
    hashing_rng_init(&r, 5);
    for (int i = 0; i < 10000; i++) {
        uint64_t v = hashing_rng_below(&r, 10);

        assert_true(v < 10);
        seen[v]++;
    }
    for (int i = 0; i < 10; i++) {
        assert_true(seen[i] > 800 && seen[i] < 1200);
    }
    assert_true(hashing_rng_below(&r, 1) == 0);
    assert_true(hashing_rng_below(&r, 0) == 0);
    assert_true(hashing_rng_below(&r, UINT64_MAX) < UINT64_MAX);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hashing_stable_values),
        cmocka_unit_test(test_hashing_length_and_seed_matter),
        cmocka_unit_test(test_hashing_alignment_independent),
        cmocka_unit_test(test_hashing_matches_bytewise_reference),
        cmocka_unit_test(test_hashing_padded_same_value),
        cmocka_unit_test(test_hashing_steps_same_value),
        cmocka_unit_test(test_hashing_rng_deterministic),
        cmocka_unit_test(test_hashing_rng_below_in_range),
    };

    return cmocka_run_group_tests_name("hashing", tests, NULL, NULL);
}
