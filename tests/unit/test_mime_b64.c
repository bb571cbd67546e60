/*
 * test_mime_b64.c -- mime_b64_decode (mime-int.h) against a byte-at-a-time
 * reference written from its contract: well-formed bodies with line
 * breaks, every output cap, and pseudo-random bodies mixing the alphabet
 * with blanks, padding and junk, line breaks of every kind after any
 * number of quanta.  The decoder's fast path (whole quanta
 * through shifted tables, a four-byte store) must give the same bytes,
 * length and flags as the reference, and never write past out_max.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/mime-int.h"

#define BODY_MAX 600
#define OUT_MAX (BODY_MAX / 4 * 3 + 3)
#define GUARD 8

/* Sextet of an alphabet byte, 64 for a blank or line break, 65 for '=',
 * 255 for junk. */
static unsigned
ref_class(uint8_t c)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *q = c != 0 ? strchr(alpha, c) : NULL;

    if (q != NULL) {
        return (unsigned)(q - alpha);
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        return 64;
    }
    return c == '=' ? 65 : 255;
}

/* Flush the n sextets of acc at '=' or the end (n >= 2 makes n - 1
 * bytes; one sextet makes none and is bad); false when they do not fit. */
static bool
ref_flush(uint32_t acc, unsigned n, uint8_t *out, size_t *o, size_t max,
          bool *is_bad, bool *is_cut)
{
    if (n == 1) {
        *is_bad = true;
        return true;
    }
    /* A partial quantum is written whole or not at all. */
    if (max - *o < n - 1) {
        *is_cut = true;
        return false;
    }
    acc <<= 6 * (4 - n);
    for (unsigned k = 0; k + 1 < n; k++) {
        out[(*o)++] = (uint8_t)(acc >> (16 - 8 * k));
    }
    return true;
}

static size_t
ref_decode(const uint8_t *in, size_t len, uint8_t *out, size_t max,
           bool *is_bad, bool *is_cut)
{
    size_t o = 0;
    uint32_t acc = 0;
    unsigned n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned v = ref_class(in[i]);

        if (v < 64) {
            acc = (acc << 6) | v;
            if (++n == 4) {
                for (unsigned k = 0; k < 3; k++) {
                    if (o >= max) {
                        *is_cut = true;
                        return o;
                    }
                    out[o++] = (uint8_t)(acc >> (16 - 8 * k));
                }
                n = 0;
                acc = 0;
            }
        } else if (v == 255) {
            *is_bad = true;
        } else if (v == 65) {
            if (n > 0 && !ref_flush(acc, n, out, &o, max, is_bad, is_cut)) {
                return o;
            }
            n = 0;
            acc = 0;
        }
    }
    if (n > 0) {
        ref_flush(acc, n, out, &o, max, is_bad, is_cut);
    }
    return o;
}

/* Decode (in, len) with cap max both ways and compare; the bytes past max
 * in the decoder's buffer must be untouched. */
static void
check(const uint8_t *in, size_t len, size_t max)
{
    uint8_t got[OUT_MAX + GUARD];
    uint8_t want[OUT_MAX];
    bool bad_got = false;
    bool cut_got = false;
    bool bad_want = false;
    bool cut_want = false;
    size_t n_got;
    size_t n_want;

    assert_true(max <= OUT_MAX);
    memset(got, 0xA5, sizeof(got));
    n_got = mime_b64_decode(in, len, got, max, &bad_got, &cut_got);
    n_want = ref_decode(in, len, want, max, &bad_want, &cut_want);
    assert_int_equal(n_got, n_want);
    assert_memory_equal(got, want, n_want);
    assert_int_equal(bad_got, bad_want);
    assert_int_equal(cut_got, cut_want);
    for (size_t k = max; k < sizeof(got); k++) {
        assert_int_equal(got[k], 0xA5);
    }
}

/* Base64 of (p, n) in lines of `line` characters (0: one line). */
static size_t
encode(const uint8_t *p, size_t n, size_t line, uint8_t *out)
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    size_t col = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)p[i] << 16;
        size_t k = n - i < 3 ? n - i : 3;
        char q[4];

        w |= k > 1 ? (uint32_t)p[i + 1] << 8 : 0;
        w |= k > 2 ? p[i + 2] : 0;
        q[0] = alpha[w >> 18];
        q[1] = alpha[(w >> 12) & 63];
        q[2] = k > 1 ? alpha[(w >> 6) & 63] : '=';
        q[3] = k > 2 ? alpha[w & 63] : '=';
        for (size_t j = 0; j < 4; j++) {
            out[o++] = (uint8_t)q[j];
            if (line > 0 && ++col == line) {
                out[o++] = '\r';
                out[o++] = '\n';
                col = 0;
            }
        }
    }
    return o;
}

static uint32_t
next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void
test_b64_well_formed(void **state)
{
    uint8_t data[300];
    uint8_t body[BODY_MAX];
    uint8_t out[OUT_MAX];
    uint32_t seed = 7;
    bool is_bad = false;
    bool is_cut = false;
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)next_rand(&seed);
    }
    /* The round trip for every length mod 3 and three line widths. */
    for (size_t len = 0; len <= 40; len++) {
        static const size_t lines[] = {0, 76, 8};

        for (size_t l = 0; l < 3; l++) {
            size_t bl = encode(data, len, lines[l], body);

            is_bad = false;
            is_cut = false;
            n = mime_b64_decode(body, bl, out, sizeof(out), &is_bad, &is_cut);
            assert_int_equal(n, len);
            assert_memory_equal(out, data, len);
            assert_false(is_bad);
            assert_false(is_cut);
            check(body, bl, sizeof(out));
        }
    }
    /* A long body under every cap: the fast path stops one quantum
     * early, the byte-wise path fills the buffer to its last byte. */
    n = encode(data, sizeof(data), 76, body);
    for (size_t max = 0; max <= sizeof(data) + 3; max++) {
        check(body, n, max);
    }
    is_cut = false;
    assert_int_equal(mime_b64_decode(body, n, out, 100, &is_bad, &is_cut),
                     100);
    assert_true(is_cut);
    assert_memory_equal(out, data, 100);
}

/* Line breaks between whole quanta (skipped on the fast path) of every
 * kind the wild has -- CRLF, bare LF, a lone CR, CR CR LF, blanks before
 * the break, a break as the last bytes -- after every number of quanta
 * per line, under every cap. */
static void
test_b64_line_breaks(void **state)
{
    static const char *const breaks[] = {"\r\n", "\n", "\r", "\r\r\n",
                                         " \r\n", "\t\n", "\n\n"};
    uint8_t data[120];
    uint8_t flat[BODY_MAX];
    uint8_t body[BODY_MAX];
    uint32_t seed = 99;
    size_t fl;

    (void)state;
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)next_rand(&seed);
    }
    fl = encode(data, sizeof(data), 0, flat); /* 160 bytes, no padding */
    for (size_t b = 0; b < sizeof(breaks) / sizeof(breaks[0]); b++) {
        size_t bl = strlen(breaks[b]);

        for (size_t quanta = 1; quanta <= 6; quanta++) {
            size_t n = 0;

            for (size_t i = 0; i < fl; i++) {
                body[n++] = flat[i];
                if ((i + 1) % (4 * quanta) == 0) {
                    memcpy(body + n, breaks[b], bl);
                    n += bl;
                }
            }
            for (size_t max = 0; max <= sizeof(data); max += 7) {
                check(body, n, max);
            }
            check(body, n, OUT_MAX);
            /* Cut just after a break, and a break in the last bytes. */
            check(body, 4 * quanta + bl, OUT_MAX);
            check(body, 4 * quanta + 1, OUT_MAX);
        }
    }
}

static void
test_b64_random_junk(void **state)
{
    static const char pick[] = "AZaz09+/=\r\n \t!*-.\x80\xff\0";
    uint8_t body[BODY_MAX];
    uint32_t seed = 12345;

    (void)state;
    for (int round = 0; round < 3000; round++) {
        size_t len = next_rand(&seed) % BODY_MAX;
        unsigned junk = next_rand(&seed) % 4; /* 0: none, 3: a lot */

        for (size_t i = 0; i < len; i++) {
            uint32_t r = next_rand(&seed);

            if (r % 64 < junk * 4) {
                body[i] = (uint8_t)pick[(r >> 6) % (sizeof(pick) - 1)];
            } else {
                body[i] = (uint8_t)(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789+/")[(r >> 6) % 64];
            }
        }
        check(body, len, next_rand(&seed) % (OUT_MAX + 1));
        check(body, len, OUT_MAX);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_well_formed),
        cmocka_unit_test(test_b64_line_breaks),
        cmocka_unit_test(test_b64_random_junk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
