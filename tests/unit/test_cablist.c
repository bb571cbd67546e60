/*
 * test_cablist.c -- cabinet member listing: CFFILE names, the count in
 * the header, entries cut short or without their NUL.
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
#include "cablist.h"

static void
put(struct buf *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(buf_putc(b, (uint8_t)(v >> (8 * i))), CM_OK);
    }
}

/* A cabinet of one folder naming n members; cFiles says count. */
static void
build_cab(struct buf *b, const char *const *names, size_t n, size_t count)
{
    size_t files_at = 36 + 8; /* header, one CFFOLDER */

    buf_reset(b);
    assert_int_equal(buf_append(b, "MSCF", 4), CM_OK);
    put(b, 0, 4);
    put(b, 0, 4); /* cbCabinet: not read */
    put(b, 0, 4);
    put(b, files_at, 4);
    put(b, 0, 4);
    put(b, 0x0103, 2);
    put(b, 1, 2);
    put(b, count, 2);
    put(b, 0, 2);
    put(b, 0, 2);
    put(b, 0, 2);
    put(b, 0, 4); /* CFFOLDER: coffCabStart */
    put(b, 1, 2);
    put(b, 1, 2); /* MSZIP: names stay in the clear */
    for (size_t i = 0; i < n; i++) {
        put(b, 100, 4);
        put(b, 0, 4);
        put(b, 0, 2);
        put(b, 0, 4);
        put(b, 0x20, 2);
        assert_int_equal(buf_append(b, names[i], strlen(names[i]) + 1),
                         CM_OK);
    }
    assert_int_equal(buf_append(b, "compressed data", 15), CM_OK);
}

static unsigned
list_all(const uint8_t *p, size_t len, char *out, size_t max)
{
    struct cablist c;
    struct cablist_member m;
    size_t o = 0;

    out[0] = '\0';
    cablist_init(&c, p, len);
    while (cablist_next(&c, &m)) {
        assert_true(o + m.name_len + 2 < max);
        if (o > 0) {
            out[o++] = '|';
        }
        memcpy(out + o, m.name, m.name_len);
        o += m.name_len;
        out[o] = '\0';
    }
    assert_false(cablist_next(&c, &m));
    return c.flags;
}

static void
test_cablist_names(void **state)
{
    static const char *const names[] = {"readme.txt", "setup\\invoice.exe"};
    struct buf b;
    char out[1024];

    (void)state;
    buf_init(&b, 1u << 16);
    build_cab(&b, names, 2, 2);
    assert_true(cablist_is_cab(b.data, b.len));
    assert_int_equal(list_all(b.data, b.len, out, sizeof(out)), 0);
    assert_string_equal(out, "readme.txt|setup\\invoice.exe");
    /* The count in the header is what is listed: the rest is data. */
    build_cab(&b, names, 2, 1);
    assert_int_equal(list_all(b.data, b.len, out, sizeof(out)), 0);
    assert_string_equal(out, "readme.txt");
    buf_clear(&b);
}

/* More entries promised than the bytes hold, a name without its NUL, an
 * entry offset past the end: what is whole is listed, then broken. */
static void
test_cablist_broken(void **state)
{
    static const char *const names[] = {"a.txt", "b.js"};
    struct buf b;
    char out[1024];
    size_t cut;

    (void)state;
    buf_init(&b, 1u << 16);
    build_cab(&b, names, 2, 3);
    assert_int_equal(list_all(b.data, b.len, out, sizeof(out)),
                     CABLIST_BROKEN);
    assert_string_equal(out, "a.txt|b.js");
    build_cab(&b, names, 2, 2);
    cut = b.len - 15 - 1; /* b.js without its NUL */
    assert_int_equal(list_all(b.data, cut, out, sizeof(out)),
                     CABLIST_BROKEN);
    assert_string_equal(out, "a.txt");
    b.data[16] = 0xff; /* coffFiles far past the end */
    assert_int_equal(list_all(b.data, b.len, out, sizeof(out)),
                     CABLIST_BROKEN);
    assert_string_equal(out, "");
    assert_int_equal(list_all(b.data, 20, out, sizeof(out)), CABLIST_BROKEN);
    assert_false(cablist_is_cab((const uint8_t *)"MSCF\1\0\0\0", 8));
    assert_false(cablist_is_cab(NULL, 0));
    buf_clear(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cablist_names),
        cmocka_unit_test(test_cablist_broken),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
