/*
 * test_sevenzip.c -- 7z signature and encrypted-header test, on archives
 * whose start header the test writes around next-header descriptors
 * taken from 7-Zip 26.02 output (7z a -p -mhe=on, 7z a -p, 7z a).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "sevenzip.h"

/* kEncodedHeader, PackInfo, then a folder of AES-256 + LZMA (-mhe=on). */
static const char aes_desc[] =
    "1706200109809000070b0100022406f1070112530f3b151ef5b0d3146a0e236f38"
    "bd2a8fb023030101055d0010000001000c808980a60a01cc54c6090000";
/* kEncodedHeader with an LZMA-only folder (no password, or a password
 * without -mhe: the names are compressed, not encrypted). */
static const char lzma_desc[] =
    "17061501096b00070b01000123030101055d001000000c80860a01947bfa1d0000";

static void
put(struct buf *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(buf_putc(b, (uint8_t)(v >> (8 * i))), CM_OK);
    }
}

/* Signature header, packed bytes of `packed` length, then the descriptor
 * (hex); next_size as the start header says it. */
static void
build_7z(struct buf *b, size_t packed, const char *hex, uint64_t next_size)
{
    size_t hl = strlen(hex) / 2;

    buf_reset(b);
    assert_int_equal(buf_append(b, "7z\xbc\xaf\x27\x1c\x00\x04", 8), CM_OK);
    put(b, 0, 4);
    put(b, packed, 8);
    put(b, next_size == 0 ? hl : next_size, 8);
    put(b, 0, 4);
    for (size_t i = 0; i < packed; i++) {
        put(b, (uint8_t)(i * 31), 1);
    }
    for (size_t i = 0; i < hl; i++) {
        unsigned v;

        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        put(b, v, 1);
    }
}

static void
test_sevenzip_encrypted_header(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 1u << 16);
    build_7z(&b, 144, aes_desc, 0);
    assert_true(sevenzip_is_7z(b.data, b.len));
    assert_true(sevenzip_headers_encrypted(b.data, b.len));
    build_7z(&b, 107, lzma_desc, 0);
    assert_true(sevenzip_is_7z(b.data, b.len));
    assert_false(sevenzip_headers_encrypted(b.data, b.len));
    buf_clear(&b);
}

/* Offsets and sizes past the data are not followed; the descriptor is
 * read no further than the data or its own size. */
static void
test_sevenzip_bounds(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 1u << 16);
    build_7z(&b, 144, aes_desc, 0);
    assert_false(sevenzip_headers_encrypted(b.data, b.len - 55));
    b.data[12] = 0xff; /* NextHeaderOffset past the end */
    assert_false(sevenzip_headers_encrypted(b.data, b.len));
    b.data[19] = 0xff; /* ... and past 2^63 */
    assert_false(sevenzip_headers_encrypted(b.data, b.len));
    build_7z(&b, 144, aes_desc, 5); /* the AES record is past 5 bytes */
    assert_false(sevenzip_headers_encrypted(b.data, b.len));
    build_7z(&b, 144, aes_desc, UINT64_MAX);
    assert_true(sevenzip_headers_encrypted(b.data, b.len));
    assert_false(sevenzip_is_7z(b.data, 5));
    assert_false(sevenzip_headers_encrypted(b.data, 31));
    assert_false(sevenzip_is_7z(NULL, 0));
    buf_clear(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sevenzip_encrypted_header),
        cmocka_unit_test(test_sevenzip_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
