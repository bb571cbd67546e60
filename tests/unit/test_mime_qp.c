/*
 * test_mime_qp.c -- mime_qp_decode (mime-int.h) against a byte-at-a-time
 * reference written from its contract: every byte that ends a literal run
 * ('=', CR, LF, control bytes) and tab at every offset from a word
 * boundary, every output cap, and pseudo-random bodies and header words.
 * The decoder's literal runs (scanned and copied eight bytes at a time)
 * must give the same bytes, length and flags as the reference, and never
 * write past out_max.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/mime-int.h"

#define BODY_MAX 300
#define GUARD 16

static bool
ref_wsp(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static int
ref_hex(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* One byte at a time: "=XX", soft breaks, hard breaks (transport blanks
 * before them dropped), an invalid '=' kept and flagged, everything else
 * copied ('_' as a blank in a header word). */
static size_t
ref_decode(const uint8_t *in, size_t len, uint8_t *out, size_t max,
           bool is_header, bool *is_bad, bool *is_cut)
{
    size_t i = 0;
    size_t o = 0;
    size_t keep = 0;

    while (i < len) {
        uint8_t c = in[i];

        if (c == '=') {
            size_t j = i + 1;

            if (i + 2 < len && ref_hex(in[i + 1]) >= 0 &&
                ref_hex(in[i + 2]) >= 0) {
                if (o >= max) {
                    *is_cut = true;
                    return o;
                }
                out[o++] = (uint8_t)(ref_hex(in[i + 1]) * 16 +
                                     ref_hex(in[i + 2]));
                keep = o;
                i += 3;
                continue;
            }
            while (j < len && ref_wsp(in[j])) {
                j++;
            }
            if (j >= len) {
                return o;
            }
            if (in[j] == '\n') {
                i = j + 1;
                continue;
            }
            if (in[j] == '\r' && (j + 1 >= len || in[j + 1] == '\n')) {
                i = j + 2 <= len ? j + 2 : len;
                continue;
            }
            *is_bad = true;
            if (o >= max) {
                *is_cut = true;
                return o;
            }
            out[o++] = '=';
            keep = o;
            i++;
            continue;
        }
        if (c == '\n' || (c == '\r' && i + 1 < len && in[i + 1] == '\n')) {
            size_t n = c == '\r' ? 2 : 1;

            o = keep;
            if (max - o < n) {
                *is_cut = true;
                return o;
            }
            if (n == 2) {
                out[o++] = '\r';
            }
            out[o++] = '\n';
            keep = o;
            i += n;
            continue;
        }
        if (o >= max) {
            *is_cut = true;
            return o;
        }
        if (is_header && c == '_') {
            c = ' ';
        }
        out[o++] = c;
        if (!ref_wsp(c) || is_header) {
            keep = o;
        }
        i++;
    }
    return o;
}

/* Decode (in, len) with cap max both ways and compare; the bytes past max
 * in the decoder's buffer must be untouched. */
static void
check(const uint8_t *in, size_t len, size_t max, bool is_header)
{
    uint8_t got[BODY_MAX + GUARD];
    uint8_t want[BODY_MAX];
    bool bad_got = false;
    bool cut_got = false;
    bool bad_want = false;
    bool cut_want = false;
    size_t n_got;
    size_t n_want;

    assert_true(max <= BODY_MAX);
    memset(got, 0xA5, sizeof(got));
    n_got = mime_qp_decode(in, len, got, max, is_header, &bad_got, &cut_got);
    n_want = ref_decode(in, len, want, max, is_header, &bad_want, &cut_want);
    assert_int_equal(n_got, n_want);
    assert_memory_equal(got, want, n_want);
    assert_int_equal(bad_got, bad_want);
    assert_int_equal(cut_got, cut_want);
    for (size_t k = max; k < sizeof(got); k++) {
        assert_int_equal(got[k], 0xA5);
    }
}

static uint32_t
next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Each special sequence after every number of plain bytes up to two
 * words and a half, followed by more plain text, under every cap. */
static void
test_qp_every_offset(void **state)
{
    static const char *const cases[] = {
        "=41",  "=\n",  " \n",   "\n",   "=3D", "==3D", "\t",  "=zz",
        "=4a",  "=4g",  "=\r\n", "\r\n", "\r",  "=\t\n", "  ",  "\x01",
        "\x7f", "\xe9", "_",     " \t ", "=",   "= ",  "\t\r\n", "=2",
    };
    static const char plain[] = "abcdefghijklmnopqrstuvwxyz0123456789";

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t cl = strlen(cases[k]);

        for (size_t off = 0; off <= 20; off++) {
            for (size_t tail = 0; tail <= 17; tail += 17) {
                uint8_t in[80];
                size_t n = 0;

                memcpy(in, plain, off);
                n += off;
                memcpy(in + n, cases[k], cl);
                n += cl;
                memcpy(in + n, plain, tail);
                n += tail;
                for (size_t max = 0; max <= n + 1; max++) {
                    check(in, n, max, false);
                    check(in, n, max, true);
                }
            }
        }
    }
}

static void
test_qp_random(void **state)
{
    static const char pick[] = "==\r\n \t_\x01\x7f\x80\xff"
                               "0123456789abcdefABCDEFgG";
    uint8_t body[BODY_MAX];
    uint32_t seed = 4242;

    (void)state;
    for (int round = 0; round < 5000; round++) {
        size_t len = next_rand(&seed) % BODY_MAX;
        unsigned mix = next_rand(&seed) % 4; /* 0: few specials, 3: many */

        for (size_t i = 0; i < len; i++) {
            uint32_t r = next_rand(&seed);

            if (r % 64 < 1 + mix * 6) {
                body[i] = (uint8_t)pick[(r >> 6) % (sizeof(pick) - 1)];
            } else {
                body[i] = (uint8_t)(' ' + (r >> 6) % 95);
            }
        }
        check(body, len, next_rand(&seed) % (BODY_MAX + 1), round % 2);
        check(body, len, BODY_MAX, round % 2);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qp_every_offset),
        cmocka_unit_test(test_qp_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
