/*
 * test_rules_archive.c -- rules_archive_is_dangerous one level down and in
 * the formats beyond zip and RAR: a zip deflated or stored in a zip, a
 * zip stored in a RAR, a zip in a gzip, tar and .tar.gz, cabinets; the
 * harmless counterparts stay harmless; padding that pushes a member past
 * the inflate cap, the cap on inner archives; a 7z with its names
 * encrypted.
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

#include "buf.h"
#include "caps.h"
#include "mime.h"
#include "rules.h"

/* v's n low bytes, little-endian; bytes past the eighth are 0. */
static void
put(struct buf *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t byte = (uint8_t)(i < 8 ? v >> (8 * i) : 0);

        assert_int_equal(buf_putc(b, byte), CM_OK);
    }
}

/* Deflate (p, n): raw (wbits -15) or gzip (31), appended to out. */
static void
deflate_into(struct buf *out, const uint8_t *p, size_t n, int wbits)
{
    z_stream z;
    size_t cap = n + n / 100 + 1024;
    uint8_t *tmp = malloc(cap);

    assert_non_null(tmp);
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = tmp;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(buf_append(out, tmp, z.total_out), CM_OK);
    deflateEnd(&z);
    free(tmp);
}

struct zmember {
    const char *name;
    const uint8_t *data;
    size_t len;
    bool deflated;
};

/* A zip of the members: local headers, central directory, end record. */
static void
build_zip(struct buf *b, const struct zmember *m, size_t n)
{
    size_t offs[8];
    size_t csz[8];
    size_t cd;

    assert_true(n <= 8);
    buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        struct buf packed;
        size_t nl = strlen(m[i].name);

        buf_init(&packed, 64u << 20);
        if (m[i].deflated) {
            deflate_into(&packed, m[i].data, m[i].len, -15);
        } else if (m[i].len > 0) {
            assert_int_equal(buf_append(&packed, m[i].data, m[i].len), CM_OK);
        }
        offs[i] = b->len;
        csz[i] = packed.len;
        put(b, 0x04034b50u, 4);
        put(b, 20, 2);
        put(b, 0, 2);
        put(b, m[i].deflated ? 8 : 0, 2);
        put(b, 0, 8); /* time, date, crc (not checked) */
        put(b, packed.len, 4);
        put(b, m[i].len, 4);
        put(b, nl, 2);
        put(b, 0, 2);
        assert_int_equal(buf_append(b, m[i].name, nl), CM_OK);
        if (packed.len > 0) {
            assert_int_equal(buf_append(b, packed.data, packed.len), CM_OK);
        }
        buf_clear(&packed);
    }
    cd = b->len;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(m[i].name);

        put(b, 0x02014b50u, 4);
        put(b, 20, 2);
        put(b, 20, 2);
        put(b, 0, 2);
        put(b, m[i].deflated ? 8 : 0, 2);
        put(b, 0, 8);
        put(b, csz[i], 4);
        put(b, m[i].len, 4);
        put(b, nl, 2);
        put(b, 0, 8);
        put(b, 0, 4);
        put(b, offs[i], 4);
        assert_int_equal(buf_append(b, m[i].name, nl), CM_OK);
    }
    put(b, 0x06054b50u, 4);
    put(b, 0, 4);
    put(b, n, 2);
    put(b, n, 2);
    put(b, b->len - cd - 12, 4);
    put(b, cd, 4);
    put(b, 0, 2);
}

/* A ustar archive of the names, each with a few bytes of data. */
static void
build_tar(struct buf *b, const char *const *names, size_t n)
{
    static const uint8_t zero[1024];

    buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        uint8_t h[512];
        unsigned sum = 0;

        memset(h, 0, sizeof(h));
        memcpy(h, names[i], strlen(names[i]));
        memcpy(h + 100, "0000644", 7);
        memcpy(h + 124, "00000000002", 11);
        h[156] = '0';
        memcpy(h + 257, "ustar\0" "00", 8);
        memset(h + 148, ' ', 8);
        for (size_t k = 0; k < sizeof(h); k++) {
            sum += h[k];
        }
        snprintf((char *)h + 148, 8, "%06o", sum);
        assert_int_equal(buf_append(b, h, sizeof(h)), CM_OK);
        assert_int_equal(buf_append(b, "MZ", 2), CM_OK);
        assert_int_equal(buf_append(b, zero, 510), CM_OK);
    }
    assert_int_equal(buf_append(b, zero, sizeof(zero)), CM_OK);
}

/* A gzip file of (p, n), without a name in its header. */
static void
build_gzip(struct buf *b, const uint8_t *p, size_t n)
{
    buf_reset(b);
    deflate_into(b, p, n, 31);
}

static bool
is_dangerous(const char *filename, const struct buf *b)
{
    struct mime_part part;

    memset(&part, 0, sizeof(part));
    part.filename = filename;
    part.is_attachment = true;
    part.data = b->data;
    part.data_len = b->len;
    return rules_archive_is_dangerous(&part);
}

/* The zip that malware mail puts in a zip: deflated (as every archiver
 * writes it) or stored; a harmless inner zip is no alarm. */
static void
test_archive_zip_in_zip(void **state)
{
    struct buf inner;
    struct buf outer;
    struct zmember in[2] = {
        {"readme.txt", (const uint8_t *)"hello", 5, true},
        {"invoice.exe", (const uint8_t *)"MZ\x90\0", 4, true}};
    struct zmember out[2] = {{"notes.txt", (const uint8_t *)"x", 1, false},
                             {"documents.zip", NULL, 0, true}};

    (void)state;
    buf_init(&inner, 1u << 20);
    buf_init(&outer, 1u << 20);
    build_zip(&inner, in, 2);
    out[1].data = inner.data;
    out[1].len = inner.len;
    build_zip(&outer, out, 2);
    assert_true(is_dangerous("scan.zip", &outer));
    out[1].deflated = false;
    build_zip(&outer, out, 2);
    assert_true(is_dangerous("scan.zip", &outer));
    /* Stored and named harmlessly: its magic says zip. */
    out[1].name = "documents.dat";
    build_zip(&outer, out, 2);
    assert_true(is_dangerous("scan.zip", &outer));
    /* The same with a text file inside. */
    in[1].name = "invoice.pdf";
    build_zip(&inner, in, 2);
    out[1].data = inner.data;
    out[1].len = inner.len;
    out[1].name = "documents.zip";
    out[1].deflated = true;
    build_zip(&outer, out, 2);
    assert_false(is_dangerous("scan.zip", &outer));
    buf_clear(&inner);
    buf_clear(&outer);
}

/* One level only: a zip in a zip in a zip is judged by the names the
 * second level shows (the third zip's name is harmless). */
static void
test_archive_one_level(void **state)
{
    struct buf a;
    struct buf b2;
    struct buf c;
    struct zmember m = {"run.exe", (const uint8_t *)"MZ", 2, true};

    (void)state;
    buf_init(&a, 1u << 20);
    buf_init(&b2, 1u << 20);
    buf_init(&c, 1u << 20);
    build_zip(&a, &m, 1);
    m = (struct zmember){"level3.zip", a.data, a.len, true};
    build_zip(&b2, &m, 1);
    m = (struct zmember){"level2.zip", b2.data, b2.len, true};
    build_zip(&c, &m, 1);
    assert_true(is_dangerous("x.zip", &b2));
    assert_false(is_dangerous("x.zip", &c));
    buf_clear(&a);
    buf_clear(&b2);
    buf_clear(&c);
}

/* A stored RAR member is the inner zip as it is. */
static void
test_archive_zip_in_rar(void **state)
{
    struct buf inner;
    struct buf rar;
    struct zmember m = {"invoice.js", (const uint8_t *)"x", 1, true};
    static const char name[] = "invoice.zip";

    (void)state;
    buf_init(&inner, 1u << 20);
    buf_init(&rar, 1u << 20);
    build_zip(&inner, &m, 1);
    assert_int_equal(buf_append(&rar, "Rar!\x1a\x07\x00", 7), CM_OK);
    put(&rar, 0, 2);
    put(&rar, 0x73, 1);
    put(&rar, 0, 2);
    put(&rar, 13, 2);
    put(&rar, 0, 6);
    put(&rar, 0, 2);
    put(&rar, 0x74, 1);
    put(&rar, 0x8000, 2);
    put(&rar, 32 + strlen(name), 2);
    put(&rar, inner.len, 4);
    put(&rar, inner.len, 4);
    put(&rar, 2, 1);
    put(&rar, 0, 8);
    put(&rar, 29, 1);
    put(&rar, 0x30, 1); /* stored */
    put(&rar, strlen(name), 2);
    put(&rar, 0x20, 4);
    assert_int_equal(buf_append(&rar, name, strlen(name)), CM_OK);
    assert_int_equal(buf_append(&rar, inner.data, inner.len), CM_OK);
    assert_true(is_dangerous("mail.rar", &rar));
    /* Compressed with RAR's own method: not ours to unpack. */
    rar.data[7 + 13 + 25] = 0x33;
    assert_false(is_dangerous("mail.rar", &rar));
    buf_clear(&inner);
    buf_clear(&rar);
}

/* tar, .tar.gz and .tgz (no name in the gzip header: the attachment's
 * says tar), a zip in a gzip; harmless names stay harmless. */
static void
test_archive_tar_and_gzip(void **state)
{
    static const char *const bad[] = {"README", "bin/setup.lnk"};
    static const char *const good[] = {"README", "src/main.c"};
    struct buf tar;
    struct buf gz;
    struct buf zip;
    struct zmember m = {"payload.scr", (const uint8_t *)"MZ", 2, true};

    (void)state;
    buf_init(&tar, 1u << 20);
    buf_init(&gz, 1u << 20);
    buf_init(&zip, 1u << 20);
    build_tar(&tar, bad, 2);
    assert_true(is_dangerous("files.tar", &tar));
    assert_true(is_dangerous("", &tar)); /* by its checksum */
    build_gzip(&gz, tar.data, tar.len);
    assert_true(is_dangerous("files.tar.gz", &gz));
    assert_true(is_dangerous("files.tgz", &gz));
    /* Not said to be a tar: not inflated. */
    assert_false(is_dangerous("files.gz", &gz));
    build_tar(&tar, good, 2);
    build_gzip(&gz, tar.data, tar.len);
    assert_false(is_dangerous("files.tar.gz", &gz));
    build_zip(&zip, &m, 1);
    build_gzip(&gz, zip.data, zip.len);
    assert_true(is_dangerous("docs.zip.gz", &gz));
    buf_clear(&tar);
    buf_clear(&gz);
    buf_clear(&zip);
}

static void
test_archive_cab(void **state)
{
    struct buf b;
    static const char *const names[] = {"data.txt", "invoice.vbs"};

    (void)state;
    buf_init(&b, 1u << 16);
    assert_int_equal(buf_append(&b, "MSCF", 4), CM_OK);
    put(&b, 0, 12);
    put(&b, 44, 4);
    put(&b, 0, 4);
    put(&b, 0x0103, 2);
    put(&b, 1, 2);
    put(&b, 2, 2);
    put(&b, 0, 6);
    put(&b, 0, 8); /* CFFOLDER */
    for (size_t i = 0; i < 2; i++) {
        put(&b, 10, 4);
        put(&b, 0, 12);
        assert_int_equal(buf_append(&b, names[i], strlen(names[i]) + 1),
                         CM_OK);
    }
    assert_true(is_dangerous("update.cab", &b));
    assert_true(is_dangerous("", &b)); /* by its magic */
    b.data[44 + 16 + 9 + 16 + 9] = 't'; /* invoice.vbt */
    assert_false(is_dangerous("update.cab", &b));
    buf_clear(&b);
}

/*
 * Megabytes of zeros stored in front push the executable past the inflate
 * cap of the deflated inner zip: a ratio no document reaches says
 * padding, and that is dangerous.  Real data in front (noise, a ratio
 * near 1) leaves the executable unseen, and the archive harmless: the
 * cap's limit, stated.
 */
static void
test_archive_padding(void **state)
{
    size_t pad = CAPS_ARCINFLATE_MAX_BYTES + 4096;
    uint8_t *zeros = calloc(pad, 1);
    uint8_t *noise = malloc(pad);
    struct buf inner;
    struct buf outer;
    struct zmember in[2] = {{"a.bin", NULL, 0, false},
                            {"invoice.exe", (const uint8_t *)"x", 1, true}};
    struct zmember out = {"inner.zip", NULL, 0, true};
    uint32_t x = 12345;

    (void)state;
    assert_non_null(zeros);
    assert_non_null(noise);
    for (size_t i = 0; i < pad; i++) {
        x = x * 1103515245u + 12345u;
        noise[i] = (uint8_t)(x >> 24);
    }
    buf_init(&inner, 64u << 20);
    buf_init(&outer, 64u << 20);
    in[0].data = zeros;
    in[0].len = pad;
    build_zip(&inner, in, 2);
    out.data = inner.data;
    out.len = inner.len;
    build_zip(&outer, &out, 1);
    assert_true(is_dangerous("x.zip", &outer));
    in[0].data = noise;
    build_zip(&inner, in, 2);
    out.data = inner.data;
    out.len = inner.len;
    build_zip(&outer, &out, 1);
    assert_false(is_dangerous("x.zip", &outer));
    buf_clear(&inner);
    buf_clear(&outer);
    free(zeros);
    free(noise);
}

/* Only CAPS_ARCHIVE_INNER_MAX inner archives are opened: an executable
 * in the one after them is not seen (the work is bounded). */
static void
test_archive_inner_cap(void **state)
{
    struct buf good;
    struct buf bad;
    struct buf outer;
    struct zmember g = {"a.txt", (const uint8_t *)"x", 1, true};
    struct zmember e = {"a.exe", (const uint8_t *)"x", 1, true};
    size_t n = CAPS_ARCHIVE_INNER_MAX + 2;

    (void)state;
    buf_init(&good, 1u << 16);
    buf_init(&bad, 1u << 16);
    buf_init(&outer, 1u << 20);
    build_zip(&good, &g, 1);
    build_zip(&bad, &e, 1);
    /* build_zip takes 8 members at most: the outer zip here has local
     * headers only (ziplist walks them).  A good zip comes last: a
     * stored zip at the end shows its own directory to the outer one's
     * end-record search. */
    buf_reset(&outer);
    for (size_t i = 0; i < n; i++) {
        const struct buf *in = i == CAPS_ARCHIVE_INNER_MAX ? &bad : &good;

        put(&outer, 0x04034b50u, 4);
        put(&outer, 20, 2);
        put(&outer, 0, 2);
        put(&outer, 0, 2);
        put(&outer, 0, 8);
        put(&outer, in->len, 4);
        put(&outer, in->len, 4);
        put(&outer, 5, 2);
        put(&outer, 0, 2);
        assert_int_equal(buf_append(&outer, "i.zip", 5), CM_OK);
        assert_int_equal(buf_append(&outer, in->data, in->len), CM_OK);
    }
    assert_false(is_dangerous("x.zip", &outer));
    /* The same executable as the first inner archive is seen. */
    outer.len = 0;
    put(&outer, 0x04034b50u, 4);
    put(&outer, 20, 2);
    put(&outer, 0, 2);
    put(&outer, 0, 2);
    put(&outer, 0, 8);
    put(&outer, bad.len, 4);
    put(&outer, bad.len, 4);
    put(&outer, 5, 2);
    put(&outer, 0, 2);
    assert_int_equal(buf_append(&outer, "i.zip", 5), CM_OK);
    assert_int_equal(buf_append(&outer, bad.data, bad.len), CM_OK);
    assert_true(is_dangerous("x.zip", &outer));
    buf_clear(&good);
    buf_clear(&bad);
    buf_clear(&outer);
}

/* A 7z is not read unless its header is encrypted (names hidden, as in
 * a RAR with encrypted headers): by magic or name, either way. */
static void
test_archive_7z(void **state)
{
    static const char aes_desc[] =
        "1706200109809000070b0100022406f1070112530f3b151ef5b0d3146a0e236f"
        "38bd2a8fb023030101055d0010000001000c808980a60a01cc54c6090000";
    struct buf b;
    size_t hl = strlen(aes_desc) / 2;

    (void)state;
    buf_init(&b, 1u << 16);
    assert_int_equal(buf_append(&b, "7z\xbc\xaf\x27\x1c\x00\x04", 8),
                     CM_OK);
    put(&b, 0, 4);
    put(&b, 16, 8);
    put(&b, hl, 8);
    put(&b, 0, 4);
    put(&b, 0, 16);
    for (size_t i = 0; i < hl; i++) {
        unsigned v;

        assert_int_equal(sscanf(aes_desc + 2 * i, "%2x", &v), 1);
        put(&b, v, 1);
    }
    assert_true(is_dangerous("docs.7z", &b));
    assert_true(is_dangerous("", &b));
    b.data[32 + 16 + 14] = 0x21; /* the AES coder id damaged */
    assert_false(is_dangerous("docs.7z", &b));
    buf_clear(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_archive_zip_in_zip),
        cmocka_unit_test(test_archive_one_level),
        cmocka_unit_test(test_archive_zip_in_rar),
        cmocka_unit_test(test_archive_tar_and_gzip),
        cmocka_unit_test(test_archive_cab),
        cmocka_unit_test(test_archive_padding),
        cmocka_unit_test(test_archive_inner_cap),
        cmocka_unit_test(test_archive_7z),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
