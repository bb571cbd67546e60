/*
 * test_numfmt.c -- numfmt_fixed2 writes what snprintf "%.2f" writes
 * (include/numfmt.h): exact ties, values just either side of a tie,
 * negative zero, tiny and huge values, and a million pseudo-random
 * doubles across the ranges it handles itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "numfmt.h"

static void
check(double x)
{
    char want[NUMFMT_FIXED2_MAX];
    char got[NUMFMT_FIXED2_MAX];
    int wn = snprintf(want, sizeof(want), "%.2f", x);
    size_t gn = numfmt_fixed2(x, got);

    if (strcmp(want, got) != 0) {
        fail_msg("%.17g: snprintf \"%s\", numfmt \"%s\"", x, want, got);
    }
    assert_int_equal(gn, (size_t)wn);
}

/* splitmix64: a fixed sequence, so a failure repeats. */
static uint64_t
next_u64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void
test_numfmt_fixed2_special(void **state)
{
    static const double xs[] = {
        0.0, 1.0, -1.0, 0.125, 0.375, 0.625, 0.875, -0.125, 2.5e-3,
        0.005, 0.015, 0.025, 0.285, 0.295, 1.005, 1.015, -1.005, 0.004,
        -0.004, -0.005, -0.0049999, 0.0050001, 99.995, 99.994999,
        999999999999999.9, 999999999999999.0, 1e15, -1e15, 1e16, 1e300,
        -1e300, 1e-300, -1e-300, 4.9e-324, -4.9e-324, 2.2250738585072014e-308,
        123456789.125, 123456789.375, 9007199254740991.0, 0.1, 0.2, 0.3,
        -6.53, -1.35, 3.14159, 1e-2, 1e-3, 5e-3, 45.675, 45.665};

    (void)state;
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        check(xs[i]);
    }
    check(-0.0);
    check(nextafter(0.125, 0.0));
    check(nextafter(0.125, 1.0));
    check(nextafter(1e15, 0.0));
    check(HUGE_VAL);
    check(-HUGE_VAL);
    check(NAN);
}

/* Every tie k/8 below 1000 and its two neighbours. */
static void
test_numfmt_fixed2_ties(void **state)
{
    (void)state;
    for (int k = -8000; k <= 8000; k++) {
        double x = k / 8.0;

        check(x);
        check(nextafter(x, -HUGE_VAL));
        check(nextafter(x, HUGE_VAL));
    }
}

static void
test_numfmt_fixed2_random(void **state)
{
    uint64_t s = 7;

    (void)state;
    for (int i = 0; i < 1000000; i++) {
        uint64_t r = next_u64(&s);
        double x;

        switch (i % 3) {
        case 0: /* any bit pattern */
            memcpy(&x, &r, sizeof(x));
            break;
        case 1: /* margins' range */
            x = ((double)(r >> 11) / 9007199254740992.0 - 0.5) * 100.0;
            break;
        default: /* whole magnitudes below 1e15 */
            x = ldexp((double)(r >> 11), (int)(r % 60) - 60);
            break;
        }
        check(x);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numfmt_fixed2_special),
        cmocka_unit_test(test_numfmt_fixed2_ties),
        cmocka_unit_test(test_numfmt_fixed2_random),
    };

    return cmocka_run_group_tests_name("numfmt", tests, NULL, NULL);
}
