/*
 * test_cgpstr.c -- CGP quoted strings: escape, escaped length, unquote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cgpstr.h"

static void
escape_str(const char *in, bool is_multiline, char *out, size_t cap)
{
    struct buf b;

    buf_init(&b, 4096);
    assert_int_equal(cgpstr_escape((const uint8_t *)in, strlen(in),
                                   is_multiline, &b),
                     CM_OK);
    assert_int_equal(b.len, cgpstr_escaped_len((const uint8_t *)in,
                                               strlen(in), is_multiline));
    assert_true(b.len < cap);
    memcpy(out, b.data == NULL ? (uint8_t *)"" : b.data, b.len);
    out[b.len] = '\0';
    buf_clear(&b);
}

static void
test_cgpstr_escape_basic(void **state)
{
    char out[256];

    (void)state;
    escape_str("X-Junk-Score: 92 [XXXX]", false, out, sizeof(out));
    assert_string_equal(out, "X-Junk-Score: 92 [XXXX]");
    escape_str("a\"b\\c\td", false, out, sizeof(out));
    assert_string_equal(out, "a\\\"b\\\\c\\td");
    escape_str("", false, out, sizeof(out));
    assert_string_equal(out, "");
}

static void
test_cgpstr_escape_control_bytes(void **state)
{
    char out[256];
    const uint8_t in[] = {0x00, 0x01, '\r', '\n', 0x1f, 0x7f, 'A'};
    struct buf b;

    (void)state;
    buf_init(&b, 256);
    assert_int_equal(cgpstr_escape(in, sizeof(in), false, &b), CM_OK);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    assert_string_equal(out, "\\000\\001\\013\\010\\031\\127A");
    buf_clear(&b);
}

static void
test_cgpstr_escape_multiline(void **state)
{
    char out[256];

    (void)state;
    escape_str("a\r\nb\nc\rd", true, out, sizeof(out));
    assert_string_equal(out, "a\\eb\\ecd");
    /* Not multi-line: CR and LF are numeric escapes, never raw. */
    escape_str("a\r\nb", false, out, sizeof(out));
    assert_string_equal(out, "a\\013\\010b");
}

static void
test_cgpstr_escape_utf8_passes(void **state)
{
    char out[64];

    (void)state;
    escape_str("caf\xc3\xa9 \xe2\x82\xac", false, out, sizeof(out));
    assert_string_equal(out, "caf\xc3\xa9 \xe2\x82\xac");
}

static void
test_cgpstr_escape_output_is_safe(void **state)
{
    uint8_t in[256];
    struct buf b;

    (void)state;
    for (size_t i = 0; i < 256; i++) {
        in[i] = (uint8_t)i;
    }
    buf_init(&b, 4096);
    assert_int_equal(cgpstr_escape(in, sizeof(in), false, &b), CM_OK);
    for (size_t i = 0; i < b.len; i++) {
        assert_true(b.data[i] >= 0x20 && b.data[i] != 0x7f);
        if (b.data[i] == '"') {
            /* Every quote is escaped: preceded by an odd backslash run. */
            size_t k = 0;
            while (k < i && b.data[i - 1 - k] == '\\') {
                k++;
            }
            assert_true(k % 2 == 1);
        }
    }
    buf_clear(&b);
}

/* Every byte value survives escape then unquote. */
static void
test_cgpstr_round_trip_all_bytes(void **state)
{
    uint8_t in[256];
    struct buf esc;
    struct buf dec;
    size_t used = 0;

    (void)state;
    for (size_t i = 0; i < 256; i++) {
        in[i] = (uint8_t)i;
    }
    buf_init(&esc, 4096);
    buf_init(&dec, 4096);
    assert_int_equal(buf_putc(&esc, '"'), CM_OK);
    assert_int_equal(cgpstr_escape(in, sizeof(in), false, &esc), CM_OK);
    assert_int_equal(buf_putc(&esc, '"'), CM_OK);
    assert_int_equal(buf_puts(&esc, " trailing"), CM_OK);
    assert_int_equal(cgpstr_unquote(esc.data, esc.len, &used, &dec), CM_OK);
    assert_int_equal(used, esc.len - strlen(" trailing"));
    assert_int_equal(dec.len, sizeof(in));
    assert_memory_equal(dec.data, in, sizeof(in));
    buf_clear(&esc);
    buf_clear(&dec);
}

/* Multi-line text round-trips with CR dropped and LF as \e. */
static void
test_cgpstr_round_trip_multiline(void **state)
{
    const char *in = "A: 1\r\nB: \"2\"\r\n\tfolded\\";
    const char *want = "A: 1\nB: \"2\"\n\tfolded\\";
    struct buf esc;
    struct buf dec;
    size_t used = 0;

    (void)state;
    buf_init(&esc, 4096);
    buf_init(&dec, 4096);
    buf_putc(&esc, '"');
    assert_int_equal(cgpstr_escape((const uint8_t *)in, strlen(in), true,
                                   &esc),
                     CM_OK);
    buf_putc(&esc, '"');
    assert_int_equal(cgpstr_unquote(esc.data, esc.len, &used, &dec), CM_OK);
    assert_int_equal(used, esc.len);
    assert_int_equal(dec.len, strlen(want));
    assert_memory_equal(dec.data, want, dec.len);
    buf_clear(&esc);
    buf_clear(&dec);
}

/* At the cap the output stops before a whole escape, never inside one. */
static void
test_cgpstr_escape_cap_never_splits(void **state)
{
    const uint8_t in[] = {'a', 'b', 0x01, 'c', '"', 'd'};
    /* escaped: "ab\001c\"d" = 2 + 4 + 1 + 2 + 1 = 10 bytes */

    (void)state;
    assert_int_equal(cgpstr_escaped_len(in, sizeof(in), false), 10);
    for (size_t max = 0; max <= 10; max++) {
        struct buf b;
        enum cm_err rc;

        buf_init(&b, max);
        rc = cgpstr_escape(in, sizeof(in), false, &b);
        if (max == 10) {
            assert_int_equal(rc, CM_OK);
            assert_false(b.is_capped);
        } else {
            assert_int_equal(rc, CM_ELIMIT);
            assert_true(b.is_capped);
        }
        assert_true(b.len <= max);
        /* The prefix must be one of the piece boundaries. */
        assert_true(b.len == 0 || b.len == 1 || b.len == 2 || b.len == 6 ||
                    b.len == 7 || b.len == 9 || b.len == 10);
        if (max >= 2 && max < 6) {
            assert_int_equal(b.len, 2);
        }
        if (max == 8) {
            assert_int_equal(b.len, 7);
        }
        buf_clear(&b);
    }
}

/* The cap never cuts a UTF-8 character either: the output stops before
 * the character that does not fit whole. */
static void
test_cgpstr_escape_cap_never_splits_utf8(void **state)
{
    /* "a" U+00E9 U+20AC U+1F600 "b": 1 + 2 + 3 + 4 + 1 bytes */
    const uint8_t in[] = {'a',  0xc3, 0xa9, 0xe2, 0x82, 0xac,
                          0xf0, 0x9f, 0x98, 0x80, 'b'};

    (void)state;
    for (size_t max = 0; max <= sizeof(in); max++) {
        struct buf b;
        enum cm_err rc;

        buf_init(&b, max);
        rc = cgpstr_escape(in, sizeof(in), false, &b);
        assert_int_equal(rc, max == sizeof(in) ? CM_OK : CM_ELIMIT);
        assert_true(b.len <= max);
        assert_true(b.len == 0 || b.len == 1 || b.len == 3 || b.len == 6 ||
                    b.len == 10 || b.len == 11);
        if (b.len > 0) {
            assert_memory_equal(b.data, in, b.len);
        }
        buf_clear(&b);
    }
}

static void
test_cgpstr_escape_appends(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 64);
    buf_puts(&b, "pre:");
    assert_int_equal(cgpstr_escape((const uint8_t *)"\\", 1, false, &b),
                     CM_OK);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "pre:\\\\", 6);
    buf_clear(&b);
}

static void
test_cgpstr_unquote_escapes(void **state)
{
    const char *in = "\"q\\\"b\\\\r\\rn\\ne\\et\\td\\065\\255\"";
    const char want[] = "q\"b\\r\rn\ne\nt\tdA\xff";
    struct buf b;
    size_t used = 0;

    (void)state;
    buf_init(&b, 256);
    assert_int_equal(cgpstr_unquote((const uint8_t *)in, strlen(in), &used,
                                    &b),
                     CM_OK);
    assert_int_equal(used, strlen(in));
    assert_int_equal(b.len, sizeof(want) - 1);
    assert_memory_equal(b.data, want, b.len);
    buf_clear(&b);
}

static void
test_cgpstr_unquote_empty_and_raw(void **state)
{
    struct buf b;
    size_t used = 0;

    (void)state;
    buf_init(&b, 256);
    assert_int_equal(cgpstr_unquote((const uint8_t *)"\"\"x", 3, &used, &b),
                     CM_OK);
    assert_int_equal(used, 2);
    assert_int_equal(b.len, 0);
    /* Raw bytes (even control bytes) between the quotes are kept. */
    assert_int_equal(cgpstr_unquote((const uint8_t *)"\"a\tb\x01\"", 6,
                                    &used, &b),
                     CM_OK);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "a\tb\x01", 4);
    buf_clear(&b);
}

static void
test_cgpstr_unquote_errors(void **state)
{
    static const char *const bad[] = {
        "",           /* nothing */
        "abc",        /* not quoted */
        "\"abc",      /* no closing quote */
        "\"a\\\"",    /* escaped quote is not a closing one */
        "\"a\\x\"",   /* unknown escape */
        "\"a\\256\"", /* > 255 */
        "\"a\\12\"",  /* two digits */
        "\"a\\1x3\"", /* not digits */
        "\"a\\",      /* backslash at end */
        "\"a\\E\"",   /* escapes are lower case */
    };
    struct buf b;

    (void)state;
    buf_init(&b, 256);
    buf_puts(&b, "keep");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t used = 77;

        assert_int_equal(cgpstr_unquote((const uint8_t *)bad[i],
                                        strlen(bad[i]), &used, &b),
                         CM_EPARSE);
        assert_int_equal(used, 77);
        /* The buffer is as it was before the call. */
        assert_int_equal(b.len, 4);
        assert_string_equal((const char *)b.data, "keep");
    }
    buf_clear(&b);
}

static void
test_cgpstr_unquote_cap(void **state)
{
    const char *in = "\"abcdef\"";
    struct buf b;
    size_t used = 0;

    (void)state;
    /* At the cap: fits exactly. */
    buf_init(&b, 6);
    assert_int_equal(cgpstr_unquote((const uint8_t *)in, strlen(in), &used,
                                    &b),
                     CM_OK);
    assert_int_equal(b.len, 6);
    buf_clear(&b);
    /* One byte short: CM_ELIMIT and nothing kept. */
    buf_init(&b, 5);
    assert_int_equal(cgpstr_unquote((const uint8_t *)in, strlen(in), &used,
                                    &b),
                     CM_ELIMIT);
    assert_int_equal(b.len, 0);
    buf_clear(&b);
    /* The cap is hit on an escape. */
    buf_init(&b, 2);
    assert_int_equal(cgpstr_unquote((const uint8_t *)"\"ab\\t\"", 6, &used,
                                    &b),
                     CM_ELIMIT);
    buf_clear(&b);
}

static void
test_cgpstr_escape_enomem(void **state)
{
    struct buf b;
    uint8_t big[600];

    (void)state;
    memset(big, 'a', sizeof(big));
    buf_init(&b, 4096);
    buf_test_fail_nth_alloc(1);
    assert_int_equal(cgpstr_escape(big, sizeof(big), false, &b), CM_ENOMEM);
    buf_test_fail_nth_alloc(0);
    buf_clear(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cgpstr_escape_basic),
        cmocka_unit_test(test_cgpstr_escape_control_bytes),
        cmocka_unit_test(test_cgpstr_escape_multiline),
        cmocka_unit_test(test_cgpstr_escape_utf8_passes),
        cmocka_unit_test(test_cgpstr_escape_output_is_safe),
        cmocka_unit_test(test_cgpstr_round_trip_all_bytes),
        cmocka_unit_test(test_cgpstr_round_trip_multiline),
        cmocka_unit_test(test_cgpstr_escape_cap_never_splits),
        cmocka_unit_test(test_cgpstr_escape_cap_never_splits_utf8),
        cmocka_unit_test(test_cgpstr_escape_appends),
        cmocka_unit_test(test_cgpstr_unquote_escapes),
        cmocka_unit_test(test_cgpstr_unquote_empty_and_raw),
        cmocka_unit_test(test_cgpstr_unquote_errors),
        cmocka_unit_test(test_cgpstr_unquote_cap),
        cmocka_unit_test(test_cgpstr_escape_enomem),
    };

    return cmocka_run_group_tests_name("cgpstr", tests, NULL, NULL);
}
