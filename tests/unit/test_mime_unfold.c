/*
 * test_mime_unfold.c -- mime.c's unfold (static, so the file is included)
 * against a byte-at-a-time reference written from its contract: line
 * breaks dropped, control bytes and DEL blanked, surrounding blanks
 * trimmed, "=?" and 8-bit bytes reported, at most max bytes.  Every byte
 * that stops a plain run at every offset from a word boundary, every cap,
 * and pseudo-random values: the same bytes, length and flags, and nothing
 * written past max.  Also the word-at-a-time field-name tests beside it
 * (name_has_ctl, name_is) against byte loops, on exact-size buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/mime.c"

#define VAL_MAX 200
#define GUARD 16

static size_t
ref_unfold(const uint8_t *raw, size_t n, char *dst, size_t max,
           bool *is_cut, bool *needs_decode)
{
    size_t i = 0;
    size_t o = 0;
    bool is_marked = false;

    while (i < n && (raw[i] == ' ' || raw[i] == '\t')) {
        i++;
    }
    while (i < n) {
        uint8_t c = raw[i];

        if (c == '\r' || c == '\n') {
            i++;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            c = ' ';
        } else if (c >= 0x80 || (c == '?' && i > 0 && raw[i - 1] == '=')) {
            is_marked = true;
        }
        if (o >= max) {
            /* An "=?" whose '=' is the first byte past max counts. */
            if (c == '=' && i + 1 < n && raw[i + 1] == '?') {
                is_marked = true;
            }
            *is_cut = true;
            break;
        }
        dst[o++] = (char)c;
        i++;
    }
    while (o > 0 && (dst[o - 1] == ' ' || dst[o - 1] == '\t')) {
        o--;
    }
    *needs_decode = is_marked;
    return o;
}

static void
check(const uint8_t *raw, size_t n, size_t max)
{
    char got[VAL_MAX + GUARD];
    char want[VAL_MAX];
    bool cut_got = false;
    bool cut_want = false;
    bool dec_got = false;
    bool dec_want = false;
    size_t n_got;
    size_t n_want;

    assert_true(max <= VAL_MAX);
    memset(got, 0x5A, sizeof(got));
    n_got = unfold(raw, n, got, max, &cut_got, &dec_got);
    n_want = ref_unfold(raw, n, want, max, &cut_want, &dec_want);
    assert_int_equal(n_got, n_want);
    assert_memory_equal(got, want, n_want);
    assert_int_equal(cut_got, cut_want);
    assert_int_equal(dec_got, dec_want);
    for (size_t k = max; k < sizeof(got); k++) {
        assert_int_equal(got[k], 0x5A);
    }
}

static uint32_t
next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void
test_unfold_every_offset(void **state)
{
    static const char *const cases[] = {
        "=?",   "?",    "=",    "\t",   " ",    "\r\n ", "\n\t", "\x01",
        "\x7f", "\xc3\xa9", "\r",   "= ?",  "==?",  "\t\t", "~",
    };
    static const char plain[] = "abcdefghijklmnopqrstuvwxyz0123456789";

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t cl = strlen(cases[k]);

        for (size_t off = 0; off <= 20; off++) {
            for (size_t tail = 0; tail <= 17; tail += 17) {
                uint8_t raw[80];
                size_t n = 0;

                memcpy(raw, plain, off);
                n += off;
                memcpy(raw + n, cases[k], cl);
                n += cl;
                memcpy(raw + n, plain, tail);
                n += tail;
                for (size_t max = 0; max <= n + 1; max++) {
                    check(raw, n, max);
                }
            }
        }
    }
}

static void
test_unfold_random(void **state)
{
    static const char pick[] = "=?=?\r\n \t\x01\x7f\x80\xff";
    uint8_t raw[VAL_MAX];
    uint32_t seed = 2047;

    (void)state;
    for (int round = 0; round < 5000; round++) {
        size_t len = next_rand(&seed) % VAL_MAX;
        unsigned mix = next_rand(&seed) % 4; /* 0: few specials, 3: many */

        for (size_t i = 0; i < len; i++) {
            uint32_t r = next_rand(&seed);

            if (r % 64 < 1 + mix * 6) {
                raw[i] = (uint8_t)pick[(r >> 6) % (sizeof(pick) - 1)];
            } else {
                raw[i] = (uint8_t)(' ' + (r >> 6) % 95);
            }
        }
        check(raw, len, next_rand(&seed) % (VAL_MAX + 1));
        check(raw, len, VAL_MAX);
    }
}

static bool
ref_has_ctl(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] <= ' ' || p[i] == 0x7F) {
            return true;
        }
    }
    return false;
}

/* name_has_ctl with nothing readable past the name and with a word more,
 * and name_is (names without control bytes only, as next_field gives
 * it) against ci_eq, on near spellings of the names it is used for. */
static void
test_field_name_words(void **state)
{
    static const char *const lits[] = {"content-", "content-type",
                                       "content-transfer-encoding",
                                       "content-disposition", "subject"};
    static const uint8_t swap[] = {' ', '\t', 0x01, 0x7F, 0x0D, '-', '@',
                                   '`', '[', '{', 0xC3, 0xE3, 'M', 'm'};
    uint32_t seed = 5322;

    (void)state;
    for (int round = 0; round < 40000; round++) {
        const char *lit = lits[next_rand(&seed) % 5];
        size_t k = strlen(lit);
        uint8_t tmp[40];
        size_t n = k;
        uint8_t *name;
        uint8_t *padded;

        memcpy(tmp, lit, k);
        for (size_t i = 0; i < k; i++) {
            if (next_rand(&seed) % 2 != 0 && tmp[i] >= 'a' && tmp[i] <= 'z') {
                tmp[i] = (uint8_t)(tmp[i] - 32);
            }
        }
        switch (next_rand(&seed) % 4) {
        case 0:
            break;
        case 1:
            tmp[next_rand(&seed) % k] = swap[next_rand(&seed) % sizeof(swap)];
            break;
        case 2:
            n = 1 + next_rand(&seed) % k;
            break;
        default:
            tmp[n++] = swap[next_rand(&seed) % sizeof(swap)];
            break;
        }
        name = malloc(n); /* nothing past it to read */
        padded = malloc(n + 8);
        assert_non_null(name);
        assert_non_null(padded);
        memcpy(name, tmp, n);
        memcpy(padded, tmp, n);
        memset(padded + n, ' ', 8);
        assert_int_equal(name_has_ctl(name, n, n), ref_has_ctl(name, n));
        assert_int_equal(name_has_ctl(padded, n, n + 8),
                         ref_has_ctl(name, n));
        if (!ref_has_ctl(name, n)) {
            assert_int_equal(name_is(name, n, lit, k), ci_eq(name, n, lit));
        }
        free(name);
        free(padded);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unfold_every_offset),
        cmocka_unit_test(test_unfold_random),
        cmocka_unit_test(test_field_name_words),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
