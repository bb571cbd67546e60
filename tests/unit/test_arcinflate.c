/*
 * test_arcinflate.c -- bounded inflate: raw deflate and gzip round trips,
 * the output cap (a bomb stops there, with the input it took), corrupt
 * and truncated streams.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "arcinflate.h"
#include "caps.h"

/* Deflate (p, n) raw (windowBits -15) or as gzip (31) into a new buffer. */
static uint8_t *
deflate_to(const uint8_t *p, size_t n, int wbits, size_t *out_len)
{
    z_stream z;
    size_t cap = n + n / 100 + 1024;
    uint8_t *out = malloc(cap);

    assert_non_null(out);
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

static void
test_arcinflate_round_trip(void **state)
{
    static const int wbits[] = {-15, 31};
    static const enum arcinflate_mode modes[] = {ARCINFLATE_RAW,
                                                 ARCINFLATE_GZIP};
    size_t n = 200000;
    uint8_t *text = malloc(n);

    (void)state;
    assert_non_null(text);
    for (size_t i = 0; i < n; i++) {
        text[i] = (uint8_t)(i * 7 + i / 13);
    }
    for (size_t k = 0; k < 2; k++) {
        struct arcinflate_out o;
        size_t zl;
        uint8_t *z = deflate_to(text, n, wbits[k], &zl);

        assert_int_equal(arcinflate(z, zl, modes[k], 1u << 20, &o), CM_OK);
        assert_false(o.is_capped);
        assert_false(o.is_broken);
        assert_int_equal(o.out.len, n);
        assert_int_equal(o.in_used, zl);
        assert_memory_equal(o.out.data, text, n);
        arcinflate_free(&o);
        free(z);
    }
    free(text);
}

/* 64 MiB of zeros deflate to ~64 KiB: inflating stops at the cap (never
 * past CAPS_ARCINFLATE_MAX_BYTES, whatever max the caller asks), having
 * read only the input that made it. */
static void
test_arcinflate_cap(void **state)
{
    size_t n = 64u << 20;
    uint8_t *zeros = calloc(n, 1);
    struct arcinflate_out o;
    size_t zl;
    uint8_t *z;

    (void)state;
    assert_non_null(zeros);
    z = deflate_to(zeros, n, -15, &zl);
    free(zeros);
    assert_int_equal(arcinflate(z, zl, ARCINFLATE_RAW, 100000, &o), CM_OK);
    assert_true(o.is_capped);
    assert_int_equal(o.out.len, 100000);
    assert_true(o.in_used < zl);
    arcinflate_free(&o);
    assert_int_equal(arcinflate(z, zl, ARCINFLATE_RAW, SIZE_MAX, &o), CM_OK);
    assert_true(o.is_capped);
    assert_int_equal(o.out.len, CAPS_ARCINFLATE_MAX_BYTES);
    assert_true(o.out.len / o.in_used >= 100u);
    arcinflate_free(&o);
    free(z);
}

/* A stream cut short or damaged keeps what inflated before; garbage
 * gives nothing; the wrong mode is garbage. */
static void
test_arcinflate_broken(void **state)
{
    const char *text = "invoice.exe invoice.exe invoice.exe and more text";
    struct arcinflate_out o;
    size_t zl;
    uint8_t *z = deflate_to((const uint8_t *)text, strlen(text), 31, &zl);

    (void)state;
    assert_int_equal(arcinflate(z, zl - 8, ARCINFLATE_GZIP, 4096, &o),
                     CM_OK); /* no trailer: the data is all there */
    assert_true(o.is_broken);
    assert_int_equal(o.out.len, strlen(text));
    arcinflate_free(&o);
    assert_int_equal(arcinflate(z, zl / 2, ARCINFLATE_GZIP, 4096, &o),
                     CM_OK);
    assert_true(o.is_broken);
    assert_true(o.out.len < strlen(text));
    arcinflate_free(&o);
    assert_int_equal(arcinflate(z, zl, ARCINFLATE_RAW, 4096, &o), CM_OK);
    assert_true(o.is_broken);
    arcinflate_free(&o);
    assert_int_equal(arcinflate((const uint8_t *)"", 0, ARCINFLATE_RAW,
                                4096, &o), CM_OK);
    assert_true(o.is_broken);
    assert_int_equal(o.out.len, 0);
    arcinflate_free(&o);
    free(z);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arcinflate_round_trip),
        cmocka_unit_test(test_arcinflate_cap),
        cmocka_unit_test(test_arcinflate_broken),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
