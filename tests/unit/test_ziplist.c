/*
 * test_ziplist.c -- zip member listing: central directory, local header
 * walk, prepended data, zip64 end records, data descriptors, encryption,
 * broken and truncated archives, the member cap.
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
#include "ziplist.h"

struct member_spec {
    const char *name;
    const char *data;
    uint16_t flags; /* general purpose bits */
};

static void
put(struct buf *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(buf_putc(b, (uint8_t)(v >> (8 * i))), CM_OK);
    }
}

/*
 * A stored (uncompressed) zip of the members, after `prefix` junk bytes.
 * With zip64 the classic end record's fields are saturated and zip64
 * records carry the real ones.  A member with bit 3 (data descriptor)
 * gets size 0 in its local header.
 */
static void
build_zip(struct buf *b, const struct member_spec *m, size_t n,
          size_t prefix, bool zip64)
{
    size_t *offs = calloc(n > 0 ? n : 1, sizeof(*offs));
    size_t cd_start;
    size_t cd_size;

    assert_non_null(offs);
    buf_reset(b);
    for (size_t i = 0; i < prefix; i++) {
        assert_int_equal(buf_putc(b, 'x'), CM_OK);
    }
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(m[i].name);
        size_t dl = strlen(m[i].data);
        bool has_dd = (m[i].flags & 0x8) != 0;

        offs[i] = b->len - prefix;
        put(b, 0x04034b50u, 4);
        put(b, 20, 2);
        put(b, m[i].flags, 2);
        put(b, 0, 2);  /* stored */
        put(b, 0, 4);  /* time, date */
        put(b, 0, 4);  /* crc (not checked) */
        put(b, has_dd ? 0 : dl, 4);
        put(b, has_dd ? 0 : dl, 4);
        put(b, nl, 2);
        put(b, 0, 2);
        assert_int_equal(buf_append(b, m[i].name, nl), CM_OK);
        assert_int_equal(buf_append(b, m[i].data, dl), CM_OK);
        if (has_dd) {
            put(b, 0x08074b50u, 4);
            put(b, 0, 4);
            put(b, dl, 4);
            put(b, dl, 4);
        }
    }
    cd_start = b->len - prefix;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(m[i].name);
        size_t dl = strlen(m[i].data);

        put(b, 0x02014b50u, 4);
        put(b, 20, 2);
        put(b, 20, 2);
        put(b, m[i].flags, 2);
        put(b, 0, 2);
        put(b, 0, 4);
        put(b, 0, 4);
        put(b, dl, 4);
        put(b, dl, 4);
        put(b, nl, 2);
        put(b, 0, 2);
        put(b, 0, 2);
        put(b, 0, 2);
        put(b, 0, 2);
        put(b, 0, 4);
        put(b, offs[i], 4);
        assert_int_equal(buf_append(b, m[i].name, nl), CM_OK);
    }
    cd_size = b->len - prefix - cd_start;
    if (zip64) {
        size_t rec = b->len - prefix;

        put(b, 0x06064b50u, 4);
        put(b, 44, 8);
        put(b, 45, 2);
        put(b, 45, 2);
        put(b, 0, 4);
        put(b, 0, 4);
        put(b, n, 8);
        put(b, n, 8);
        put(b, cd_size, 8);
        put(b, cd_start, 8);
        put(b, 0x07064b50u, 4);
        put(b, 0, 4);
        put(b, rec + prefix, 8);
        put(b, 1, 4);
    }
    put(b, 0x06054b50u, 4);
    put(b, 0, 4);
    put(b, zip64 ? 0xffff : n, 2);
    put(b, zip64 ? 0xffff : n, 2);
    put(b, zip64 ? 0xffffffffu : cd_size, 4);
    put(b, zip64 ? 0xffffffffu : cd_start, 4);
    put(b, 0, 2);
    free(offs);
}

/* All names listed, "D:" or "L:" for directory or local, joined by '|'. */
static unsigned
list_all(const uint8_t *p, size_t len, char *out, size_t max)
{
    struct ziplist z;
    struct ziplist_member m;
    size_t o = 0;

    out[0] = '\0';
    ziplist_init(&z, p, len);
    while (ziplist_next(&z, &m)) {
        int w = snprintf(out + o, max - o, "%s%s%.*s%s", o > 0 ? "|" : "",
                         m.is_from_directory ? "D:" : "L:", (int)m.name_len,
                         (const char *)m.name, m.is_encrypted ? "*" : "");

        assert_true(w > 0 && (size_t)w < max - o);
        o += (size_t)w;
    }
    return z.flags;
}

static const struct member_spec two[] = {
    {"readme.txt", "hello", 0},
    {"invoice.pdf.exe", "MZ\x90", 0},
};

static void
test_ziplist_directory_and_local(void **state)
{
    struct buf b;
    char out[1024];
    unsigned flags;

    (void)state;
    buf_init(&b, 1u << 20);
    build_zip(&b, two, 2, 0, false);
    assert_true(ziplist_is_zip(b.data, b.len));
    flags = list_all(b.data, b.len, out, sizeof(out));
    assert_string_equal(out, "D:readme.txt|D:invoice.pdf.exe|"
                             "L:readme.txt|L:invoice.pdf.exe");
    assert_int_equal(flags, 0);
    buf_clear(&b);
}

/* A local header's member carries its packed bytes and method (for an
 * archive inside); a directory entry has none.  Without sizes (a data
 * descriptor) the bytes run to the next local header. */
static void
test_ziplist_member_data(void **state)
{
    static const struct member_spec m[] = {
        {"inner.zip", "PK..", 0x8},
        {"after.txt", "tail", 0},
    };
    struct buf b;
    struct ziplist z;
    struct ziplist_member zm;

    (void)state;
    buf_init(&b, 1u << 20);
    build_zip(&b, two, 2, 0, false);
    ziplist_init(&z, b.data, b.len);
    assert_true(ziplist_next(&z, &zm));
    assert_true(zm.is_from_directory);
    assert_null(zm.data);
    assert_true(ziplist_next(&z, &zm));
    assert_true(ziplist_next(&z, &zm));
    assert_false(zm.is_from_directory);
    assert_int_equal(zm.method, 0);
    assert_int_equal(zm.data_len, 5);
    assert_memory_equal(zm.data, "hello", 5);
    build_zip(&b, m, 2, 0, false);
    ziplist_init(&z, b.data, b.len);
    for (int i = 0; i < 3; i++) {
        assert_true(ziplist_next(&z, &zm));
    }
    assert_int_equal(zm.name_len, 9);
    assert_memory_equal(zm.name, "inner.zip", 9);
    assert_int_equal(zm.data_len, 4 + 16); /* data and its descriptor */
    assert_memory_equal(zm.data, "PK..", 4);
    buf_clear(&b);
}

static void
test_ziplist_encrypted_and_descriptor(void **state)
{
    static const struct member_spec m[] = {
        {"secret.js", "var x = 1;", 0x1 | 0x8},
        {"after.txt", "tail", 0},
    };
    struct buf b;
    char out[1024];
    unsigned flags;

    (void)state;
    buf_init(&b, 1u << 20);
    build_zip(&b, m, 2, 0, false);
    flags = list_all(b.data, b.len, out, sizeof(out));
    assert_string_equal(out, "D:secret.js*|D:after.txt|L:secret.js*|"
                             "L:after.txt");
    assert_true((flags & ZIPLIST_ENCRYPTED) != 0);
    buf_clear(&b);
}

static void
test_ziplist_prefix_and_zip64(void **state)
{
    struct buf b;
    char out[1024];
    unsigned flags;

    (void)state;
    buf_init(&b, 1u << 20);
    /* Prepended bytes: offsets in the records are off by 100. */
    build_zip(&b, two, 2, 100, false);
    assert_false(ziplist_is_zip(b.data, b.len));
    flags = list_all(b.data, b.len, out, sizeof(out));
    assert_string_equal(out, "D:readme.txt|D:invoice.pdf.exe|"
                             "L:readme.txt|L:invoice.pdf.exe");
    assert_int_equal(flags, 0);
    build_zip(&b, two, 2, 0, true);
    flags = list_all(b.data, b.len, out, sizeof(out));
    assert_string_equal(out, "D:readme.txt|D:invoice.pdf.exe|"
                             "L:readme.txt|L:invoice.pdf.exe");
    assert_int_equal(flags, ZIPLIST_ZIP64);
    buf_clear(&b);
}

static uint64_t
get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = n; i > 0; i--) {
        v = v << 8 | p[i - 1];
    }
    return v;
}

static void
set_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/*
 * Make build_zip's offsets after `prefix` bytes absolute, as a
 * self-extractor's builder does (zip -A): the directory's offset and
 * each entry's local header offset grow by prefix (build_zip already
 * writes the zip64 locator's offset absolute).
 */
static void
make_absolute(struct buf *b, size_t n, bool zip64, size_t prefix)
{
    size_t eocd = b->len - 22;
    uint8_t *off_field;
    size_t cd;

    if (zip64) {
        size_t rec = eocd - 20 - 56;

        off_field = b->data + rec + 48;
        cd = rec - (size_t)get_le(b->data + rec + 40, 8);
        set_le(off_field, get_le(off_field, 8) + prefix, 8);
    } else {
        off_field = b->data + eocd + 16;
        cd = eocd - (size_t)get_le(b->data + eocd + 12, 4);
        set_le(off_field, get_le(off_field, 4) + prefix, 4);
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t *h = b->data + cd;

        set_le(h + 42, get_le(h + 42, 4) + prefix, 4);
        cd += 46 + (size_t)get_le(h + 28, 2);
    }
}

/* Self-extracting archives: a stub before the zip, with offsets that
 * either count from the stub (absolute) or from the zip (relative); both
 * list every name from the directory and from the local headers. */
static void
test_ziplist_self_extractor(void **state)
{
    static const char *const all = "D:readme.txt|D:invoice.pdf.exe|"
                                   "L:readme.txt|L:invoice.pdf.exe";
    struct buf b;
    char out[1024];
    unsigned flags;

    (void)state;
    buf_init(&b, 1u << 20);
    /* Absolute offsets: the directory is where its offset says, so the
     * local walk must not start at 0 (the stub). */
    build_zip(&b, two, 2, 100, false);
    make_absolute(&b, 2, false, 100);
    flags = list_all(b.data, b.len, out, sizeof(out));
    assert_string_equal(out, all);
    assert_int_equal(flags, 0);
    /* zip64, absolute. */
    build_zip(&b, two, 2, 100, true);
    make_absolute(&b, 2, true, 100);
    flags = list_all(b.data, b.len, out, sizeof(out));
    assert_string_equal(out, all);
    assert_int_equal(flags, ZIPLIST_ZIP64);
    /* zip64, relative: the locator's offset of the zip64 end record is
     * short by the stub too. */
    build_zip(&b, two, 2, 100, true);
    set_le(b.data + b.len - 22 - 20 + 8,
           get_le(b.data + b.len - 22 - 20 + 8, 8) - 100, 8);
    flags = list_all(b.data, b.len, out, sizeof(out));
    assert_string_equal(out, all);
    assert_int_equal(flags, ZIPLIST_ZIP64);
    buf_clear(&b);
}

static void
test_ziplist_no_directory(void **state)
{
    struct buf b;
    char out[1024];
    unsigned flags;

    (void)state;
    buf_init(&b, 1u << 20);
    build_zip(&b, two, 2, 0, false);
    /* Cut inside the central directory: the local walk still lists. */
    flags = list_all(b.data, b.len - 40, out, sizeof(out));
    assert_string_equal(out, "L:readme.txt|L:invoice.pdf.exe");
    assert_true((flags & ZIPLIST_NO_DIRECTORY) != 0);
    /* Not a zip at all. */
    flags = list_all((const uint8_t *)"just some text, no archive", 26, out,
                     sizeof(out));
    assert_string_equal(out, "");
    assert_true((flags & ZIPLIST_NO_DIRECTORY) != 0);
    flags = list_all(NULL, 0, out, sizeof(out));
    assert_string_equal(out, "");
    assert_false(ziplist_is_zip(NULL, 0));
    assert_false(ziplist_is_zip((const uint8_t *)"PK", 2));
    assert_true(ziplist_is_zip((const uint8_t *)"PK\5\6", 4));
    buf_clear(&b);
}

static void
test_ziplist_broken_directory(void **state)
{
    struct buf b;
    char out[1024];
    unsigned flags;
    size_t cd;

    (void)state;
    buf_init(&b, 1u << 20);
    build_zip(&b, two, 2, 0, false);
    /* The second directory header's name length runs past the
     * directory: one name from it, then the local walk. */
    cd = b.len - 22 - (46 + 10) - (46 + 15);
    assert_int_equal(b.data[cd + 46 + 10], 'P');
    b.data[cd + 46 + 10 + 28] = 0xff;
    flags = list_all(b.data, b.len, out, sizeof(out));
    assert_string_equal(out, "D:readme.txt|L:readme.txt|"
                             "L:invoice.pdf.exe");
    assert_true((flags & ZIPLIST_BROKEN) != 0);
    buf_clear(&b);
}

static void
test_ziplist_member_cap(void **state)
{
    size_t n = CAPS_ZIPLIST_MEMBERS_MAX + 5;
    size_t n_made = n > 2001 ? n : 2001;
    struct member_spec *m = calloc(n_made, sizeof(*m));
    char (*names)[16] = calloc(n_made, sizeof(*names));
    struct buf b;
    struct ziplist z;
    struct ziplist_member mm;
    size_t count = 0;
    bool has_exe = false;

    (void)state;
    assert_non_null(m);
    assert_non_null(names);
    for (size_t i = 0; i < n_made; i++) {
        snprintf(names[i], sizeof(names[i]), "f%zu.txt", i);
        m[i].name = names[i];
        m[i].data = "";
    }
    buf_init(&b, 1u << 24);
    /* More members than a classic end record counts: zip64 records. */
    build_zip(&b, m, n, 0, true);
    ziplist_init(&z, b.data, b.len);
    while (ziplist_next(&z, &mm)) {
        assert_true(mm.is_from_directory);
        count++;
    }
    assert_int_equal(count, CAPS_ZIPLIST_MEMBERS_MAX);
    assert_true((z.flags & ZIPLIST_CAPPED) != 0);
    /* At the cap exactly: all listed from the directory, then the local
     * walk hits the cap. */
    build_zip(&b, m, CAPS_ZIPLIST_MEMBERS_MAX, 0, false);
    ziplist_init(&z, b.data, b.len);
    count = 0;
    while (ziplist_next(&z, &mm)) {
        count++;
    }
    assert_int_equal(count, CAPS_ZIPLIST_MEMBERS_MAX);
    /* as many members as the format counts are not over the cap (the
     * rules call a capped listing dangerous) */
    assert_int_equal(z.flags & ZIPLIST_CAPPED, 0);
    /* 40,000 members: each listed from the directory and again from its
     * local header, and none past the cap (the cap once counted both
     * listings together, so this stopped, capped, at 65,535 names) */
    build_zip(&b, m, 40000, 0, false);
    ziplist_init(&z, b.data, b.len);
    count = 0;
    while (ziplist_next(&z, &mm)) {
        count++;
    }
    assert_int_equal(count, 80000);
    assert_int_equal(z.flags & ZIPLIST_CAPPED, 0);
    /* 2,000 harmless members in front of an executable (1,024 were
     * listed once): it is listed. */
    snprintf(names[2000], sizeof(names[2000]), "invoice.exe");
    build_zip(&b, m, 2001, 0, false);
    ziplist_init(&z, b.data, b.len);
    while (ziplist_next(&z, &mm)) {
        has_exe = has_exe || (mm.name_len == 11 &&
                              memcmp(mm.name, "invoice.exe", 11) == 0);
    }
    assert_true(has_exe);
    buf_clear(&b);
    free(m);
    free(names);
}

static void
test_ziplist_every_truncation(void **state)
{
    struct buf b;
    char out[4096];

    (void)state;
    buf_init(&b, 1u << 20);
    build_zip(&b, two, 2, 0, true);
    for (size_t cut = 0; cut <= b.len; cut++) {
        /* A private copy so ASan sees reads past the cut. */
        uint8_t *p = malloc(cut > 0 ? cut : 1);

        assert_non_null(p);
        memcpy(p, b.data, cut);
        list_all(p, cut, out, sizeof(out));
        free(p);
    }
    buf_clear(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ziplist_directory_and_local),
        cmocka_unit_test(test_ziplist_member_data),
        cmocka_unit_test(test_ziplist_encrypted_and_descriptor),
        cmocka_unit_test(test_ziplist_prefix_and_zip64),
        cmocka_unit_test(test_ziplist_self_extractor),
        cmocka_unit_test(test_ziplist_no_directory),
        cmocka_unit_test(test_ziplist_broken_directory),
        cmocka_unit_test(test_ziplist_member_cap),
        cmocka_unit_test(test_ziplist_every_truncation),
    };

    return cmocka_run_group_tests_name("ziplist", tests, NULL, NULL);
}
