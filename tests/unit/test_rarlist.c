/*
 * test_rarlist.c -- RAR member listing: RAR 4.x and 5.0 headers built
 * by hand from the format's field layout, Unicode and large-file
 * headers, encrypted members and headers, a self-extractor stub in
 * front, truncated and broken headers, the member cap.
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
#include "caps.h"
#include "rarlist.h"

/* v's n low bytes, little-endian; bytes past the eighth are 0. */
static void
put(struct buf *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t byte = (uint8_t)(i < 8 ? v >> (8 * i) : 0);

        assert_int_equal(buf_putc(b, byte), CM_OK);
    }
}

static void
put_bytes(struct buf *b, const void *p, size_t n)
{
    assert_int_equal(buf_append(b, p, n), CM_OK);
}

/* ---- RAR 4.x ---------------------------------------------------------- */

static void
rar4_start(struct buf *b, uint16_t main_flags)
{
    put_bytes(b, "Rar!\x1a\x07\x00", 7);
    put(b, 0, 2);          /* HEAD_CRC (not checked) */
    put(b, 0x73, 1);       /* main header */
    put(b, main_flags, 2);
    put(b, 13, 2);         /* HEAD_SIZE */
    put(b, 0, 6);          /* reserved */
}

/* A file header for name (name_len bytes) followed by data_len bytes. */
static void
rar4_file(struct buf *b, const char *name, size_t name_len, uint16_t flags,
          uint32_t data_len)
{
    bool is_large = (flags & 0x0100) != 0;

    put(b, 0, 2);
    put(b, 0x74, 1);
    put(b, flags | 0x8000u, 2);
    put(b, 32 + (is_large ? 8 : 0) + name_len, 2);
    put(b, data_len, 4); /* PACK_SIZE */
    put(b, data_len, 4); /* UNP_SIZE */
    put(b, 2, 1);        /* HOST_OS */
    put(b, 0, 4);        /* FILE_CRC */
    put(b, 0, 4);        /* FTIME */
    put(b, 29, 1);       /* UNP_VER */
    put(b, 0x30, 1);     /* METHOD: stored */
    put(b, name_len, 2);
    put(b, 0x20, 4);     /* ATTR */
    if (is_large) {
        put(b, 0, 8);
    }
    put_bytes(b, name, name_len);
    for (uint32_t i = 0; i < data_len; i++) {
        put(b, 'x', 1);
    }
}

static void
rar4_end(struct buf *b)
{
    put(b, 0, 2);
    put(b, 0x7b, 1);
    put(b, 0x4000, 2);
    put(b, 7, 2);
}

/* The names rarlist lists from b, joined with '|'. */
static char *
names_of(const struct buf *b, unsigned *flags)
{
    static char out[4096];
    struct rarlist r;
    struct rarlist_member m;
    size_t n = 0;

    out[0] = '\0';
    rarlist_init(&r, b->data, b->len);
    while (rarlist_next(&r, &m)) {
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%.*s%s",
                              n > 0 ? "|" : "", (int)m.name_len,
                              (const char *)m.name,
                              m.is_encrypted ? "(enc)" : "");
        assert_true(n < sizeof(out));
    }
    assert_false(rarlist_next(&r, &m));
    *flags = r.flags;
    return out;
}

static void
test_rarlist_rar4(void **state)
{
    struct buf b;
    unsigned flags;

    (void)state;
    buf_init(&b, 1u << 20);
    rar4_start(&b, 0);
    rar4_file(&b, "docs\\invoice.exe", 16, 0, 5);
    /* LHD_UNICODE: the 8-bit name, NUL, its encoded Unicode form. */
    rar4_file(&b, "readme.txt\0\x01\x02\x03", 14, 0x0200, 3);
    rar4_file(&b, "big.iso", 7, 0x0100, 0); /* LHD_LARGE */
    rar4_file(&b, "secret.js", 9, 0x0004, 2); /* LHD_PASSWORD */
    rar4_end(&b);
    assert_true(rarlist_is_rar(b.data, b.len));
    assert_string_equal(names_of(&b, &flags),
                        "docs\\invoice.exe|readme.txt|big.iso|secret.js(enc)");
    assert_int_equal(flags, RARLIST_ENCRYPTED);
    buf_clear(&b);
}

/* After a self-extractor's stub (WinRAR finds the archive there too);
 * not past the search limit. */
static void
test_rarlist_after_stub(void **state)
{
    struct buf b;
    unsigned flags;

    (void)state;
    buf_init(&b, 4u << 20);
    put_bytes(&b, "MZ", 2);
    for (size_t i = 0; i < 300000; i++) {
        put(&b, i % 251 == 0 ? 'R' : 0x90, 1);
    }
    rar4_start(&b, 0);
    rar4_file(&b, "setup.scr", 9, 0, 4);
    rar4_end(&b);
    assert_string_equal(names_of(&b, &flags), "setup.scr");
    buf_clear(&b);

    buf_init(&b, 4u << 20);
    for (size_t i = 0; i < CAPS_RARLIST_SIGNATURE_SEARCH_BYTES; i++) {
        put(&b, 0, 1);
    }
    rar4_start(&b, 0);
    rar4_file(&b, "setup.scr", 9, 0, 4);
    assert_false(rarlist_is_rar(b.data, b.len));
    assert_string_equal(names_of(&b, &flags), "");
    buf_clear(&b);
}

/* MHD_PASSWORD: every header after the main one is encrypted (the
 * password-protected archives mailed with the password in the text). */
static void
test_rarlist_encrypted_headers(void **state)
{
    struct buf b;
    unsigned flags;

    (void)state;
    buf_init(&b, 1u << 20);
    rar4_start(&b, 0x0080);
    put_bytes(&b, "\xbe\xc9\x7c\x15\x5b\x11\x6b\x20", 8); /* salt, ... */
    assert_string_equal(names_of(&b, &flags), "");
    assert_int_equal(flags, RARLIST_HEADERS_ENCRYPTED);
    buf_clear(&b);
}

/* A member whose data runs past the end (a cut attachment) is listed;
 * a header that does not fit, or is shorter than its own fields, ends
 * the listing as broken; every truncation of a good archive ends. */
static void
test_rarlist_truncated_and_broken(void **state)
{
    struct buf b;
    struct buf cut;
    unsigned flags;

    (void)state;
    buf_init(&b, 1u << 20);
    rar4_start(&b, 0);
    rar4_file(&b, "a.exe", 5, 0, 100);
    b.len -= 50;
    assert_string_equal(names_of(&b, &flags), "a.exe");
    assert_int_equal(flags, RARLIST_BROKEN);
    buf_clear(&b);

    buf_init(&b, 1u << 20);
    rar4_start(&b, 0);
    put(&b, 0, 2);
    put(&b, 0x74, 1);
    put(&b, 0, 2);
    put(&b, 20, 2); /* a file header shorter than its fields */
    put(&b, 0, 13);
    assert_string_equal(names_of(&b, &flags), "");
    assert_int_equal(flags, RARLIST_BROKEN);
    buf_clear(&b);

    buf_init(&b, 1u << 20);
    rar4_start(&b, 0);
    rar4_file(&b, "one.txt", 7, 0, 3);
    rar4_file(&b, "two.txt", 7, 0, 3);
    rar4_end(&b);
    for (size_t n = 0; n <= b.len; n++) {
        buf_init(&cut, 1u << 20);
        put_bytes(&cut, b.data, n);
        (void)names_of(&cut, &flags);
        buf_clear(&cut);
    }
    buf_clear(&b);
}

/* ---- RAR 5.0 ---------------------------------------------------------- */

static void
vint(struct buf *b, uint64_t v)
{
    do {
        put(b, (v & 0x7f) | (v > 0x7f ? 0x80 : 0), 1);
        v >>= 7;
    } while (v > 0);
}

/* A header: CRC32, size, then body (type, flags, ... as given). */
static void
rar5_header(struct buf *b, const struct buf *body)
{
    put(b, 0, 4);
    vint(b, body->len);
    put_bytes(b, body->data, body->len);
}

static void
rar5_start(struct buf *b)
{
    struct buf h;

    put_bytes(b, "Rar!\x1a\x07\x01\x00", 8);
    buf_init(&h, 256);
    vint(&h, 1); /* main archive header */
    vint(&h, 0); /* header flags */
    vint(&h, 0); /* archive flags */
    rar5_header(b, &h);
    buf_clear(&h);
}

/* A file header (with a CRC32 and mtime, a long-form size vint) and its
 * data; with is_encrypted an extra area holding a file encryption
 * record. */
static void
rar5_file(struct buf *b, const char *name, uint64_t data_len,
          bool is_encrypted)
{
    struct buf h;
    size_t name_len = strlen(name);
    struct buf extra;

    buf_init(&h, 1024);
    buf_init(&extra, 256);
    if (is_encrypted) {
        /* record: size, type 1 (encryption), version, flags, ... */
        vint(&extra, 3 + 16);
        vint(&extra, 1);
        vint(&extra, 0);
        vint(&extra, 0);
        put(&extra, 0, 16);
    }
    vint(&h, 2);                                /* file header */
    vint(&h, 0x2 | (is_encrypted ? 0x1 : 0x0)); /* data, extra */
    if (is_encrypted) {
        vint(&h, extra.len);
    }
    put(&h, 0x80 | (data_len & 0x7f), 1); /* data size, padded vint */
    put(&h, 0x80 | ((data_len >> 7) & 0x7f), 1);
    put(&h, (data_len >> 14) & 0x7f, 1);
    vint(&h, 0x2 | 0x4); /* file flags: mtime, CRC32 */
    vint(&h, data_len);  /* unpacked size */
    vint(&h, 0x20);      /* attributes */
    put(&h, 0, 4);       /* mtime */
    put(&h, 0, 4);       /* CRC32 */
    vint(&h, 0);         /* compression */
    vint(&h, 1);         /* host OS */
    vint(&h, name_len);
    put_bytes(&h, name, name_len);
    if (is_encrypted) {
        put_bytes(&h, extra.data, extra.len);
    }
    rar5_header(b, &h);
    for (uint64_t i = 0; i < data_len; i++) {
        put(b, 'y', 1);
    }
    buf_clear(&h);
    buf_clear(&extra);
}

static void
rar5_simple(struct buf *b, uint64_t type)
{
    struct buf h;

    buf_init(&h, 64);
    vint(&h, type);
    vint(&h, 0);
    vint(&h, 0);
    rar5_header(b, &h);
    buf_clear(&h);
}

static void
test_rarlist_rar5(void **state)
{
    struct buf b;
    unsigned flags;

    (void)state;
    buf_init(&b, 1u << 20);
    rar5_start(&b);
    rar5_file(&b, "photos/IMG_2231.jpg", 200, false);
    rar5_file(&b, "payment.vbs", 40, true);
    rar5_simple(&b, 5); /* end of archive */
    rar5_file(&b, "after-end.exe", 1, false);
    assert_true(rarlist_is_rar(b.data, b.len));
    assert_string_equal(names_of(&b, &flags),
                        "photos/IMG_2231.jpg|payment.vbs(enc)");
    assert_int_equal(flags, RARLIST_V5 | RARLIST_ENCRYPTED);
    buf_clear(&b);

    /* An archive encryption header: nothing after it is readable. */
    buf_init(&b, 1u << 20);
    put_bytes(&b, "Rar!\x1a\x07\x01\x00", 8);
    rar5_simple(&b, 4);
    put(&b, 0xaa, 64);
    assert_string_equal(names_of(&b, &flags), "");
    assert_int_equal(flags, RARLIST_V5 | RARLIST_HEADERS_ENCRYPTED);
    buf_clear(&b);

    /* Every truncation ends; a name or size past the header is broken. */
    buf_init(&b, 1u << 20);
    rar5_start(&b);
    rar5_file(&b, "a.txt", 3, true);
    rar5_file(&b, "b.txt", 3, false);
    for (size_t n = 0; n <= b.len; n++) {
        struct buf cut;

        buf_init(&cut, 1u << 20);
        put_bytes(&cut, b.data, n);
        (void)names_of(&cut, &flags);
        buf_clear(&cut);
    }
    buf_clear(&b);
}

/* More members than the cap: the listing stops there, capped; exactly
 * the cap is listed whole. */
static void
test_rarlist_member_cap(void **state)
{
    struct buf b;
    struct rarlist r;
    struct rarlist_member m;
    size_t n;

    (void)state;
    for (unsigned extra = 0; extra <= 1; extra++) {
        buf_init(&b, 8u << 20);
        rar4_start(&b, 0);
        for (size_t i = 0; i < CAPS_RARLIST_MEMBERS_MAX + extra; i++) {
            rar4_file(&b, "a.txt", 5, 0, 0);
        }
        rar4_end(&b);
        rarlist_init(&r, b.data, b.len);
        n = 0;
        while (rarlist_next(&r, &m)) {
            n++;
        }
        assert_int_equal(n, CAPS_RARLIST_MEMBERS_MAX);
        assert_int_equal((r.flags & RARLIST_CAPPED) != 0, extra == 1);
        buf_clear(&b);
    }
}

/* Not a RAR archive: nothing listed. */
/* Each member comes with its packed bytes and whether they are stored
 * (an inner archive is then readable as it is): RAR 4.x method 0x30,
 * RAR 5.0 compression method 0; data cut at the end of the archive. */
static void
test_rarlist_member_data(void **state)
{
    struct buf b;
    struct rarlist r;
    struct rarlist_member m;
    size_t method_at;

    (void)state;
    buf_init(&b, 1u << 16);
    rar4_start(&b, 0);
    method_at = b.len + 25;
    rar4_file(&b, "a.zip", 5, 0, 3);
    rar4_file(&b, "b.zip", 5, 0, 4);
    rarlist_init(&r, b.data, b.len);
    assert_true(rarlist_next(&r, &m));
    assert_int_equal(m.data_len, 3);
    assert_memory_equal(m.data, "xxx", 3);
    assert_true(m.is_stored);
    assert_true(rarlist_next(&r, &m));
    assert_int_equal(m.data_len, 4);
    assert_ptr_equal(m.data + 4, b.data + b.len);
    b.data[method_at] = 0x33; /* method 3: compressed */
    rarlist_init(&r, b.data, b.len - 1);
    assert_true(rarlist_next(&r, &m));
    assert_false(m.is_stored);
    assert_true(rarlist_next(&r, &m));
    assert_int_equal(m.data_len, 3); /* cut at the end */
    buf_reset(&b);
    rar5_start(&b);
    rar5_file(&b, "c.zip", 5, false);
    rarlist_init(&r, b.data, b.len);
    assert_true(rarlist_next(&r, &m));
    assert_int_equal(m.data_len, 5);
    assert_memory_equal(m.data, "yyyyy", 5);
    assert_true(m.is_stored);
    buf_clear(&b);
}

static void
test_rarlist_not_rar(void **state)
{
    static const uint8_t zip[] = "PK\x03\x04 not a rar";
    struct rarlist r;
    struct rarlist_member m;

    (void)state;
    assert_false(rarlist_is_rar(zip, sizeof(zip)));
    assert_false(rarlist_is_rar(NULL, 0));
    rarlist_init(&r, zip, sizeof(zip));
    assert_false(rarlist_next(&r, &m));
    rarlist_init(&r, (const uint8_t *)"Rar!\x1a\x07", 6);
    assert_false(rarlist_next(&r, &m));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rarlist_rar4),
        cmocka_unit_test(test_rarlist_after_stub),
        cmocka_unit_test(test_rarlist_encrypted_headers),
        cmocka_unit_test(test_rarlist_truncated_and_broken),
        cmocka_unit_test(test_rarlist_rar5),
        cmocka_unit_test(test_rarlist_member_cap),
        cmocka_unit_test(test_rarlist_member_data),
        cmocka_unit_test(test_rarlist_not_rar),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
