/*
 * test_rules_phish_fast.c -- rules_phish.c's short cuts against the code
 * they replaced, kept here: is_addr_char's byte table against its
 * compares, for every byte value, and contains_ci (first byte first,
 * lower case by table) against its plain search on random texts.
 *
 * rules_phish.c is included: its helpers are static.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/rules_phish.c"

/* is_addr_char as it was: a letter in either case (lower() then a-z),
 * a digit or one of ".-_+@". */
static bool
ref_is_addr_char(char c)
{
    return is_letter(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_' || c == '+' || c == '@';
}

static void
test_addr_char_table(void **state)
{
    (void)state;
    for (unsigned b = 0; b < 256; b++) {
        assert_int_equal(is_addr_char((char)b), ref_is_addr_char((char)b));
    }
}

/* contains_ci as it was: every position compared from its first byte
 * with lower() on both sides. */
static bool
ref_contains_ci(const char *hay, size_t hl, const char *needle, size_t nl)
{
    for (size_t i = 0; nl > 0 && i + nl <= hl; i++) {
        size_t k = 0;

        while (k < nl && lower(hay[i + k]) == lower(needle[k])) {
            k++;
        }
        if (k == nl) {
            return true;
        }
    }
    return false;
}

static uint32_t
rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Random haystacks and needles of few letters in both cases, '@', '.',
 * bytes >= 0x80 and NUL, needles often cut from the haystack, each at
 * the end of its own allocation. */
static void
test_contains_ci(void **state)
{
    static const char bytes[] = "aAbB@.\xc3\xa9\x80Zz[`";
    uint32_t seed = 0x94d049bbu;
    size_t hits = 0;

    (void)state;
    for (int iter = 0; iter < 100000; iter++) {
        char h[40];
        char nd[12];
        size_t hl = rnd(&seed) % sizeof(h);
        size_t nl = rnd(&seed) % sizeof(nd);
        char *hq;
        char *nq;
        bool want;

        for (size_t i = 0; i < hl; i++) {
            h[i] = rnd(&seed) % 16 == 0 ? '\0' : bytes[rnd(&seed) % 13];
        }
        for (size_t i = 0; i < nl; i++) {
            nd[i] = bytes[rnd(&seed) % 13];
        }
        if (hl > 0 && nl > 0 && nl <= hl && rnd(&seed) % 2 == 0) {
            size_t at = rnd(&seed) % (hl - nl + 1);

            for (size_t i = 0; i < nl; i++) { /* cut, case flipped */
                char c = h[at + i];

                nd[i] = (char)(is_letter(c) ? c ^ 0x20 : c);
            }
        }
        hq = malloc(hl > 0 ? hl : 1);
        nq = malloc(nl > 0 ? nl : 1);
        assert_true(hq != NULL && nq != NULL);
        memcpy(hq, h, hl);
        memcpy(nq, nd, nl);
        want = ref_contains_ci(hq, hl, nq, nl);
        assert_int_equal(contains_ci(hq, hl, nq, nl), want);
        hits += want;
        free(hq);
        free(nq);
    }
    assert_true(hits > 10000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_char_table),
        cmocka_unit_test(test_contains_ci),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
