/*
 * test_swar.c -- every helper of swar.h against a byte-by-byte reference:
 * each byte value in each lane position among neighbours chosen to make
 * carries and borrows (the values next to the one tested for, 0, 0x7F,
 * 0x80, 0xFF), and random words (fixed seed).  The exact tests must
 * match the reference in every lane; the "lowest" ones in whether any
 * lane is marked and in the lowest marked lane, and mark nothing but
 * bit 7 of lanes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "swar.h"

#define HIGHS UINT64_C(0x8080808080808080)

static uint32_t
next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* The reference: a mask of the lanes of b[0..8) for which is(byte)
 * holds, lane k at bit 8k+7. */
enum test_kind { T_EQ, T_LT, T_IN, T_HIGH, T_ZERO, T_ASCII, T_LETTER };

struct test {
    enum test_kind kind;
    uint8_t a; /* c, n or lo */
    uint8_t b; /* hi */
};

static bool
ref_is(const struct test *t, uint8_t v)
{
    switch (t->kind) {
    case T_EQ:
        return v == t->a;
    case T_LT:
        return v < t->a;
    case T_IN:
        return v >= t->a && v <= t->b;
    case T_HIGH:
        return v >= 0x80;
    case T_ZERO:
        return v == 0;
    case T_ASCII:
        return v < 0x80;
    case T_LETTER:
        return (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z');
    }
    return false;
}

static uint64_t
ref_mask(const struct test *t, const uint8_t *b)
{
    uint64_t m = 0;

    for (size_t k = 0; k < 8; k++) {
        if (ref_is(t, b[k])) {
            m |= (uint64_t)0x80 << (8 * k);
        }
    }
    return m;
}

static uint64_t
exact_of(const struct test *t, uint64_t x)
{
    switch (t->kind) {
    case T_EQ:
        return swar_eq(x, t->a);
    case T_LT:
        return swar_lt(x, t->a);
    case T_IN:
        return swar_in(x, t->a, t->b);
    case T_HIGH:
        return swar_high(x);
    case T_ZERO:
        return swar_eq(x, 0);
    case T_ASCII:
        return swar_ascii(x);
    case T_LETTER:
        return swar_letter(x);
    }
    return 0;
}

/* The "lowest" helper of the kind, or false when there is none. */
static bool
lowest_of(const struct test *t, uint64_t x, uint64_t *m)
{
    switch (t->kind) {
    case T_EQ:
        *m = swar_eq_lowest(x, t->a);
        return true;
    case T_LT:
        if (t->a == 0) {
            return false; /* documented for 0 < n <= 0x80 */
        }
        *m = swar_lt_lowest(x, t->a);
        return true;
    case T_ZERO:
        *m = swar_zero_lowest(x);
        return true;
    case T_IN:
    case T_HIGH:
    case T_ASCII:
    case T_LETTER:
        break;
    }
    return false;
}

static unsigned long checks;

/* One word b[0..8) under test t (both loads agree on a little-endian
 * host; the lane order is swar_load_le's). */
static void
check_word(const struct test *t, const uint8_t *b)
{
    uint64_t x = swar_load_le(b);
    uint64_t want = ref_mask(t, b);
    uint64_t got = exact_of(t, x);
    uint64_t low;

    if (got != want) {
        fail_msg("exact kind %d (%u, %u) on %016llx: %016llx, want %016llx",
                 (int)t->kind, t->a, t->b, (unsigned long long)x,
                 (unsigned long long)got, (unsigned long long)want);
    }
    if (lowest_of(t, x, &low)) {
        bool ok = (low & ~HIGHS) == 0 && (low != 0) == (want != 0) &&
                  (want == 0 ||
                   swar_lowest_lane(low) == swar_lowest_lane(want));

        if (!ok) {
            fail_msg("lowest kind %d (%u) on %016llx: %016llx, want %016llx "
                     "at its lowest lane",
                     (int)t->kind, t->a, (unsigned long long)x,
                     (unsigned long long)low, (unsigned long long)want);
        }
    }
    checks++;
}

/* Every byte value in every lane, the other lanes drawn from values
 * around t's (where carries and borrows happen) and random ones. */
static void
check_all_lanes(const struct test *t, uint32_t *seed)
{
    uint8_t near[10] = {t->a, (uint8_t)(t->a - 1), (uint8_t)(t->a + 1),
                        (uint8_t)(t->a ^ 1), t->b, (uint8_t)(t->b + 1),
                        0, 0x7F, 0x80, 0xFF};

    for (size_t k = 0; k < 8; k++) {
        for (unsigned v = 0; v < 256; v++) {
            uint8_t b[8];

            for (size_t j = 0; j < 8; j++) {
                uint32_t r = next_rand(seed);

                b[j] = r % 4 == 0 ? (uint8_t)(r >> 8) : near[(r >> 8) % 10];
            }
            b[k] = (uint8_t)v;
            check_word(t, b);
        }
    }
}

static void
test_swar_eq_all_bytes(void **state)
{
    uint32_t seed = 2024;

    (void)state;
    for (unsigned c = 0; c < 256; c++) {
        struct test t = {T_EQ, (uint8_t)c, (uint8_t)c};

        check_all_lanes(&t, &seed);
    }
    {
        struct test z = {T_ZERO, 0, 0};

        check_all_lanes(&z, &seed);
    }
}

static void
test_swar_lt_all_bytes(void **state)
{
    uint32_t seed = 77;

    (void)state;
    for (unsigned n = 0; n <= 0x80; n++) {
        struct test t = {T_LT, (uint8_t)n, (uint8_t)n};

        check_all_lanes(&t, &seed);
    }
}

static void
test_swar_in_high_letter_all_bytes(void **state)
{
    uint32_t seed = 99;
    struct test h = {T_HIGH, 0x80, 0x80};
    struct test a = {T_ASCII, 0x80, 0x7F};
    struct test l = {T_LETTER, 'A', 'z'};

    (void)state;
    check_all_lanes(&h, &seed);
    check_all_lanes(&a, &seed);
    check_all_lanes(&l, &seed);
    for (unsigned lo = 0; lo < 0x80; lo += 3) {
        for (unsigned hi = lo; hi < 0x80; hi += 5) {
            struct test t = {T_IN, (uint8_t)lo, (uint8_t)hi};

            check_all_lanes(&t, &seed);
        }
    }
    for (unsigned lo = 0; lo < 0x80; lo++) {
        struct test t = {T_IN, (uint8_t)lo, 0x7F};
        struct test u = {T_IN, 0, (uint8_t)lo};

        check_all_lanes(&t, &seed);
        check_all_lanes(&u, &seed);
    }
}

/* Random words under random tests of every kind. */
static void
test_swar_random_words(void **state)
{
    uint32_t seed = 12345;

    (void)state;
    for (int round = 0; round < 200000; round++) {
        uint32_t r = next_rand(&seed);
        struct test t;
        uint8_t b[8];

        t.kind = (enum test_kind)(r % 7);
        t.a = (uint8_t)(r >> 8);
        t.b = (uint8_t)(r >> 16);
        if (t.kind == T_LT) {
            t.a = (uint8_t)(t.a % 0x81);
        } else if (t.kind == T_IN) {
            t.a &= 0x7F;
            t.b &= 0x7F;
            if (t.a > t.b) {
                uint8_t s = t.a;

                t.a = t.b;
                t.b = s;
            }
        }
        for (size_t j = 0; j < 8; j++) {
            uint32_t q = next_rand(&seed);

            /* Half the words near the tested value, for borrows. */
            b[j] = (q & 1) != 0 ? (uint8_t)(q >> 8)
                                : (uint8_t)(t.a + (q >> 8) % 3 - 1);
        }
        check_word(&t, b);
    }
}

static void
test_swar_load_lower_and_lanes(void **state)
{
    uint8_t b[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    uint32_t seed = 5;

    (void)state;
    /* swar_load_le: p[k] in lane k; swar_load: the bytes as they lie. */
    for (size_t off = 0; off < 2; off++) {
        uint64_t x = swar_load_le(b + off);
        uint64_t h = swar_load(b + off);

        for (size_t k = 0; k < 8; k++) {
            assert_int_equal((x >> (8 * k)) & 0xFF, b[off + k]);
        }
        assert_memory_equal(&h, b + off, 8);
        assert_int_equal(SWAR_HOST_LE, x == h);
    }
    assert_true(swar_bytes(0x5A) == UINT64_C(0x5A5A5A5A5A5A5A5A));
    /* swar_lowest_lane and swar_count over every set of lanes. */
    for (unsigned set = 0; set < 256; set++) {
        uint64_t m = 0;
        size_t n = 0;
        size_t first = 8;

        for (size_t k = 0; k < 8; k++) {
            if ((set >> k) & 1u) {
                m |= (uint64_t)0x80 << (8 * k);
                n++;
                first = first < k ? first : k;
            }
        }
        assert_int_equal(swar_count(m), n);
        if (m != 0) {
            assert_int_equal(swar_lowest_lane(m), first);
        }
    }
    for (size_t k = 0; k < 8; k++) {
        uint64_t want = 0;

        for (size_t j = 0; j < k; j++) {
            want |= (uint64_t)0xFF << (8 * j);
        }
        assert_true(swar_lanes_below(k) == want);
    }
    /* swar_lower: every byte in every lane, against tolower of ASCII. */
    for (size_t k = 0; k < 8; k++) {
        for (unsigned v = 0; v < 256; v++) {
            uint8_t w[8];
            uint8_t want[8];
            uint64_t got;

            for (size_t j = 0; j < 8; j++) {
                w[j] = (uint8_t)next_rand(&seed);
            }
            w[k] = (uint8_t)v;
            for (size_t j = 0; j < 8; j++) {
                want[j] = w[j] >= 'A' && w[j] <= 'Z' ? (uint8_t)(w[j] | 0x20)
                                                      : w[j];
            }
            got = swar_lower(swar_load_le(w));
            for (size_t j = 0; j < 8; j++) {
                assert_int_equal((got >> (8 * j)) & 0xFF, want[j]);
            }
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swar_eq_all_bytes),
        cmocka_unit_test(test_swar_lt_all_bytes),
        cmocka_unit_test(test_swar_in_high_letter_all_bytes),
        cmocka_unit_test(test_swar_random_words),
        cmocka_unit_test(test_swar_load_lower_and_lanes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
