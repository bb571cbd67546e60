/*
 * test_tarlist.c -- tar member listing: ustar and v7 headers, GNU long
 * names, pax path records, base-256 sizes, the end blocks, damaged and
 * truncated archives.
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
#include "tarlist.h"

/* One 512-byte header: name, octal size, type; ustar magic when asked;
 * the checksum filled in. */
static void
put_header(struct buf *b, const char *name, uint64_t size, char type,
           bool ustar)
{
    uint8_t h[512];
    unsigned sum = 0;

    memset(h, 0, sizeof(h));
    memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
    snprintf((char *)h + 100, 8, "%07o", 0644);
    for (size_t i = 0; i < 11; i++) { /* 11 octal digits, then NUL */
        h[124 + 10 - i] = (uint8_t)('0' + ((size >> (3 * i)) & 7u));
    }
    h[156] = (uint8_t)type;
    if (ustar) {
        memcpy(h + 257, "ustar\0" "00", 8);
    }
    memset(h + 148, ' ', 8);
    for (size_t i = 0; i < 512; i++) {
        sum += h[i];
    }
    snprintf((char *)h + 148, 8, "%06o", sum);
    assert_int_equal(buf_append(b, h, sizeof(h)), CM_OK);
}

/* Data padded to a whole block. */
static void
put_data(struct buf *b, const void *p, size_t n)
{
    static const uint8_t zero[512];

    assert_int_equal(buf_append(b, p, n), CM_OK);
    if (n % 512 != 0) {
        assert_int_equal(buf_append(b, zero, 512 - n % 512), CM_OK);
    }
}

static void
put_file(struct buf *b, const char *name, const char *data)
{
    put_header(b, name, strlen(data), '0', true);
    put_data(b, data, strlen(data));
}

static void
put_end(struct buf *b)
{
    static const uint8_t zero[1024];

    assert_int_equal(buf_append(b, zero, sizeof(zero)), CM_OK);
}

/* All names listed, joined by '|'. */
static unsigned
list_all(const uint8_t *p, size_t len, char *out, size_t max)
{
    struct tarlist t;
    struct tarlist_member m;
    size_t o = 0;

    out[0] = '\0';
    tarlist_init(&t, p, len);
    while (tarlist_next(&t, &m)) {
        assert_true(o + m.name_len + 2 < max);
        if (o > 0) {
            out[o++] = '|';
        }
        memcpy(out + o, m.name, m.name_len);
        o += m.name_len;
        out[o] = '\0';
    }
    return t.flags;
}

static void
test_tarlist_names(void **state)
{
    struct buf b;
    char out[2048];

    (void)state;
    buf_init(&b, 1u << 20);
    put_header(&b, "docs/", 0, '5', true);
    put_file(&b, "docs/readme.txt", "hello\n");
    put_file(&b, "docs/invoice.exe", "MZ");
    put_end(&b);
    assert_true(tarlist_is_tar(b.data, b.len));
    assert_int_equal(list_all(b.data, b.len, out, sizeof(out)), 0);
    assert_string_equal(out, "docs/|docs/readme.txt|docs/invoice.exe");
    /* An old v7 header (no magic) lists the same; no end blocks needed. */
    buf_reset(&b);
    put_header(&b, "a.js", 3, '\0', false);
    put_data(&b, "x=1", 3);
    assert_true(tarlist_is_tar(b.data, b.len));
    assert_int_equal(list_all(b.data, b.len, out, sizeof(out)), 0);
    assert_string_equal(out, "a.js");
    buf_clear(&b);
}

/* A long name in a GNU 'L' header or a pax "path" record names the next
 * member; the 100-byte field then holds a cut name (tar writes
 * "././@LongLink" or a truncated path there). */
static void
test_tarlist_long_names(void **state)
{
    struct buf b;
    char out[2048];
    char longname[300];

    (void)state;
    memset(longname, 'a', sizeof(longname));
    memcpy(longname + sizeof(longname) - 12, "/invoice.scr", 12);
    buf_init(&b, 1u << 20);
    put_header(&b, "././@LongLink", sizeof(longname) + 1, 'L', true);
    put_data(&b, longname, sizeof(longname)); /* the NUL is padding */
    put_file(&b, "aaaaaaaa", "x");
    put_header(&b, "PaxHeaders/x", 28, 'x', true);
    put_data(&b, "12 a=bcdefg\n16 path=run.vbs\n", 28);
    put_file(&b, "run.txt", "x");
    put_file(&b, "after.txt", "x");
    /* A record whose length does not cover its own digits and space
     * ends the pax data: "1 path=" must not read past the record. */
    put_header(&b, "PaxHeaders/y", 7, 'x', true);
    put_data(&b, "1 path=", 7);
    put_file(&b, "last.txt", "x");
    put_end(&b);
    assert_int_equal(list_all(b.data, b.len, out, sizeof(out)), 0);
    assert_int_equal(strlen(out), 300 + strlen("|run.vbs|after.txt|last.txt"));
    assert_memory_equal(out + 288, "/invoice.scr|run.vbs|after.txt|last.txt",
                        39);
    buf_clear(&b);
}

/* Base-256 sizes (GNU, files past 8 GiB) are read; one larger than the
 * data ends the listing broken, after naming its member. */
static void
test_tarlist_sizes(void **state)
{
    struct buf b;
    char out[2048];

    (void)state;
    buf_init(&b, 1u << 20);
    put_file(&b, "a.txt", "x");
    put_header(&b, "big.iso", 0, '0', true);
    /* size 0x10000_0000 in base-256, checksum redone */
    {
        uint8_t *h = b.data + b.len - 512;
        unsigned sum = 0;

        memset(h + 124, 0, 12);
        h[124] = 0x80;
        h[119 + 12] = 0x01; /* byte 7 of 8: 2^32 */
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++) {
            sum += h[i];
        }
        snprintf((char *)h + 148, 8, "%06o", sum);
    }
    put_end(&b);
    assert_int_equal(list_all(b.data, b.len, out, sizeof(out)),
                     TARLIST_BROKEN);
    assert_string_equal(out, "a.txt|big.iso");
    buf_clear(&b);
}

/* A wrong checksum is no tar (tarlist_is_tar) and ends a listing there;
 * a cut archive lists what is whole. */
static void
test_tarlist_damaged(void **state)
{
    struct buf b;
    char out[2048];

    (void)state;
    buf_init(&b, 1u << 20);
    put_file(&b, "a.txt", "x");
    put_file(&b, "b.exe", "x");
    b.data[512 + 512] ^= 1; /* b.exe's name: checksum now wrong */
    assert_int_equal(list_all(b.data, b.len, out, sizeof(out)),
                     TARLIST_BROKEN);
    assert_string_equal(out, "a.txt");
    b.data[0] ^= 1;
    assert_false(tarlist_is_tar(b.data, b.len));
    assert_false(tarlist_is_tar(b.data, 511));
    assert_false(tarlist_is_tar(NULL, 0));
    b.data[0] ^= 1;
    b.data[1024] ^= 1;
    /* Cut inside the first member's data: it is listed, no more. */
    assert_int_equal(list_all(b.data, 600, out, sizeof(out)), 0);
    assert_string_equal(out, "a.txt");
    assert_int_equal(list_all(b.data, 100, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* Text is no tar: its "checksum" is no octal number. */
    memset(b.data, 'A', 512);
    assert_false(tarlist_is_tar(b.data, b.len));
    buf_clear(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tarlist_names),
        cmocka_unit_test(test_tarlist_long_names),
        cmocka_unit_test(test_tarlist_sizes),
        cmocka_unit_test(test_tarlist_damaged),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
