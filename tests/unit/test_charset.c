/*
 * test_charset.c -- charset_to_utf8 (in-code paths, aliases, iconv,
 * unknown labels, output cap, cache), UTF-8 validation and encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <iconv.h>

#include "charset.h"

/* Convert with a cache; returns a NUL-terminated static copy. */
static const char *
conv(struct charset_cache *cc, const char *cs, const char *in, size_t n,
     unsigned *flags)
{
    static char out[1024];
    size_t w;

    *flags = 0;
    w = charset_to_utf8(cc, cs, strlen(cs), (const uint8_t *)in, n, out,
                        sizeof(out) - 1, flags);
    out[w] = '\0';
    return out;
}

static void
test_charset_utf8_and_ascii(void **state)
{
    struct charset_cache cc;
    unsigned f;

    (void)state;
    charset_cache_init(&cc);
    assert_string_equal(conv(&cc, "utf-8", "caf\xc3\xa9", 5, &f),
                        "caf\xc3\xa9");
    assert_int_equal(f, 0);
    assert_string_equal(conv(&cc, "UTF8", "a\xffz", 3, &f),
                        "a\xef\xbf\xbdz");
    assert_int_equal(f, CHARSET_BAD_BYTES);
    /* Overlong, surrogate, past U+10FFFF, truncated: all replaced. */
    assert_string_equal(conv(&cc, "utf-8", "\xc0\xaf\xed\xa0\x80\xf4\x90",
                             7, &f),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    /* us-ascii or no label: UTF-8 where valid, else windows-1252. */
    assert_string_equal(conv(&cc, "us-ascii", "\xc3\xa9 \xe9 \x80", 6, &f),
                        "\xc3\xa9 \xc3\xa9 \xe2\x82\xac");
    assert_int_equal(f, CHARSET_BAD_BYTES);
    assert_string_equal(conv(&cc, "", "plain", 5, &f), "plain");
    assert_int_equal(f, 0);
    assert_string_equal(conv(NULL, "utf-8", "", 0, &f), "");
    charset_cache_clear(&cc);
}

static void
test_charset_latin1_is_cp1252(void **state)
{
    unsigned f;

    (void)state;
    assert_string_equal(conv(NULL, "ISO-8859-1", "\xe9\x80\x93\xff", 4, &f),
                        "\xc3\xa9\xe2\x82\xac\xe2\x80\x9c\xc3\xbf");
    assert_int_equal(f, 0);
    assert_string_equal(conv(NULL, " \"latin1\" ", "\xe9", 1, &f),
                        "\xc3\xa9");
    assert_string_equal(conv(NULL, "windows-1252", "\x81\x9d", 2, &f),
                        "\xc2\x81\xc2\x9d");
    assert_int_equal(charset_cp1252(0x80), 0x20AC);
    assert_int_equal(charset_cp1252('A'), 'A');
    assert_int_equal(charset_cp1252(0xE9), 0xE9);
}

static void
test_charset_iconv(void **state)
{
    struct charset_cache cc;
    unsigned f;

    (void)state;
    charset_cache_init(&cc);
    /* (koi8-r and windows-1251 are tables now: see the sbcs test.) */
    assert_string_equal(conv(&cc, "iso-8859-5", "\xbf\xe0\xd8\xd2\xd5\xe2",
                             6, &f),
                        "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
    assert_int_equal(f, 0);
    assert_string_equal(conv(&cc, "ISO-2022-JP",
                             "\x1b$BF|K\\\x1b(B", 10, &f),
                        "\xe6\x97\xa5\xe6\x9c\xac");
    assert_int_equal(f, 0);
    /* gb2312 is decoded as its superset GB18030. */
    assert_string_equal(conv(&cc, "gb2312", "\xd6\xd0\xce\xc4", 4, &f),
                        "\xe4\xb8\xad\xe6\x96\x87");
    assert_string_equal(conv(&cc, "ks_c_5601-1987", "\xc7\xd1\xb1\xb9", 4,
                             &f),
                        "\xed\x95\x9c\xea\xb5\xad");
    assert_string_equal(conv(&cc, "Shift_JIS", "\x93\xfa\x96\x7b", 4, &f),
                        "\xe6\x97\xa5\xe6\x9c\xac");
    assert_string_equal(conv(&cc, "windows-1257", "\xc4\xe0", 2, &f),
                        "\xc3\x84\xc4\x85");
    /* Six charsets through four slots: eviction keeps working. */
    assert_int_equal(cc.n_slots, CHARSET_CACHE_SLOTS);
    assert_string_equal(conv(&cc, "iso-8859-5", "\xbf", 1, &f), "\xd0\x9f");
    /* Invalid input bytes become U+FFFD and conversion goes on. */
    assert_string_equal(conv(&cc, "shift_jis", "a\x85\x40z", 4, &f),
                        "a\xef\xbf\xbd@z");
    assert_true(f & CHARSET_BAD_BYTES);
    /* A truncated multi-byte sequence at the end. */
    assert_string_equal(conv(&cc, "gb2312", "a\xd6", 2, &f),
                        "a\xef\xbf\xbd");
    assert_true(f & CHARSET_BAD_BYTES);
    charset_cache_clear(&cc);
    charset_cache_clear(&cc);
    charset_cache_clear(NULL);
}

/* An invalid unit of UTF-16 or UTF-32 (a lone surrogate, a value past
 * U+10FFFF) becomes one U+FFFD and the characters after it are read at
 * their own offsets, in either byte order and under the other names. */
static void
test_charset_iconv_bad_unit_keeps_alignment(void **state)
{
    static const struct {
        const char *cs;
        const char *in;
        size_t n;
    } cases[] = {
        {"UTF-16BE", "\0A\xd8\0\0B\0C", 8},
        {"utf-16le", "A\0\0\xdc" "B\0C\0", 8},
        {"utf-16", "\xff\xfe" "A\0\0\xdc" "B\0C\0", 10},
        {"unicode", "\xfe\xff\0A\xdc\0\0B\0C", 10},
        {"utf16be", "\0A\xd8\0\0B\0C", 8},
        {"ucs-2be", "\0A\xd8\0\0B\0C", 8},
        {"UCS-2LE", "A\0\0\xdc" "B\0C\0", 8},
        {"utf-32be", "\0\0\0A\0\x11\0\0\0\0\0B\0\0\0C", 16},
        {"UTF-32LE", "A\0\0\0\0\xd8\0\0" "B\0\0\0C\0\0\0", 16},
        {"ucs-4be", "\0\0\0A\x80\0\0\0\0\0\0B\0\0\0C", 16},
        /* past U+10FFFF glibc writes old 4- to 6-byte forms, not UTF-8
         * (found by fuzz_charset) */
        {"ucs-4be", "\0\0\0A\0\x11\0\0\0\0\0B\0\0\0C", 16},
        {"ucs-4be", "\0\0\0A\x7f\xff\xff\xff\0\0\0B\0\0\0C", 16},
        {"ucs-4le", "A\0\0\0\0\0\0\x04" "B\0\0\0C\0\0\0", 16},
        {"wchar_t", "A\0\0\0\0\0\x20\0" "B\0\0\0C\0\0\0", 16},
    };
    struct charset_cache cc;
    unsigned f;

    (void)state;
    charset_cache_init(&cc);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *t = conv(&cc, cases[i].cs, cases[i].in, cases[i].n, &f);

        if (strcmp(t, "A\xef\xbf\xbd" "BC") != 0) {
            print_error("%s\n", cases[i].cs);
        }
        assert_string_equal(t, "A\xef\xbf\xbd" "BC");
        assert_int_equal(f, CHARSET_BAD_BYTES);
    }
    /* A unit cut short at the end is one U+FFFD too. */
    assert_string_equal(conv(&cc, "utf-16le", "A\0\0\xdc" "B", 5, &f),
                        "A\xef\xbf\xbd\xef\xbf\xbd");
    assert_int_equal(f, CHARSET_BAD_BYTES);
    charset_cache_clear(&cc);
}

/* The byte order a BOM set in one part does not carry over to the next
 * part in that charset: glibc's UTF-16/UTF-32 decoders keep it in the
 * descriptor, and iconv(cd, NULL, NULL, NULL, NULL) does not clear it, so
 * a cached descriptor read a BOM-less "utf-16" part after a big-endian
 * one as U+4100 where a fresh one reads 'A'.  Each part must decode as if
 * it came first, whatever came before it. */
static void
test_charset_bom_does_not_leak_between_parts(void **state)
{
    static const struct {
        const char *cs;
        const char *bom_part; /* sets the byte order opposite to the... */
        size_t bom_n;
        const char *part; /* ...one glibc assumes without a BOM */
        size_t n;
    } cases[] = {
        {"utf-16", "\xfe\xff\0A", 4, "A\0B\0", 4},
        {"utf-16", "\xff\xfe" "A\0", 4, "\0A\0B", 4},
        {"utf-32", "\0\0\xfe\xff\0\0\0A", 8, "A\0\0\0", 4},
        {"unicode", "\xfe\xff\0A", 4, "A\0B\0", 4},
    };
    char fresh[64];
    unsigned f;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct charset_cache cc;
        unsigned f_fresh;
        const char *t = conv(NULL, cases[i].cs, cases[i].part, cases[i].n,
                             &f_fresh);

        assert_true(strlen(t) < sizeof(fresh));
        memcpy(fresh, t, strlen(t) + 1);
        charset_cache_init(&cc);
        assert_string_equal(conv(&cc, cases[i].cs, cases[i].bom_part,
                                 cases[i].bom_n, &f),
                            "A");
        if (strcmp(conv(&cc, cases[i].cs, cases[i].part, cases[i].n, &f),
                   fresh) != 0) {
            print_error("case %zu (%s)\n", i, cases[i].cs);
        }
        assert_string_equal(conv(&cc, cases[i].cs, cases[i].part,
                                 cases[i].n, &f),
                            fresh);
        assert_int_equal(f, f_fresh);
        charset_cache_clear(&cc);
    }
}

/* One byte through glibc's iconv the way conv_iconv does it: U+FFFD
 * and CHARSET_BAD_BYTES for a byte it rejects. */
static size_t
iconv_byte(const char *glibc_name, uint8_t b, char *out, unsigned *flags)
{
    iconv_t cd = iconv_open("UTF-8", glibc_name);
    char *ip = (char *)&b;
    size_t il = 1;
    char *op = out;
    size_t ol = 8;

    assert_true(cd != (iconv_t)-1);
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
        memcpy(out, "\xef\xbf\xbd", 3);
        op = out + 3;
        *flags |= CHARSET_BAD_BYTES;
    }
    iconv_close(cd);
    return (size_t)(op - out);
}

/* The single-byte charsets decoded in code: every byte of every table as
 * glibc converts it, under each label; and every output cap the same as
 * through iconv ("ms-cyrl" is glibc's other name for CP1251 and is not in
 * the alias table, so it still goes to iconv). */
static void
test_charset_sbcs_matches_iconv(void **state)
{
    static const char *const pairs[][2] = {
        {"windows-1250", "CP1250"}, {"cp1250", "CP1250"},
        {"windows-1251", "CP1251"}, {"CP1251", "CP1251"},
        {"windows-1256", "CP1256"}, {"cp1256", "CP1256"},
        {"koi8-r", "KOI8-R"},       {"KOI8R", "KOI8-R"},
        {"iso-8859-2", "ISO-8859-2"}, {"iso8859-2", "ISO-8859-2"},
        {"iso_8859-2", "ISO-8859-2"}, {"latin2", "ISO-8859-2"},
        {"l2", "ISO-8859-2"},       {"iso-8859-15", "ISO-8859-15"},
        {"iso8859-15", "ISO-8859-15"}, {"iso_8859-15", "ISO-8859-15"},
        {"latin-9", "ISO-8859-15"}, {"\"Latin9\"", "ISO-8859-15"},
    };
    struct charset_cache cc;
    uint8_t in[256 + 8];
    char a[3 * sizeof(in) + 4];
    char b[3 * sizeof(in) + 4];

    (void)state;
    charset_cache_init(&cc);
    for (size_t l = 0; l < sizeof(pairs) / sizeof(pairs[0]); l++) {
        for (unsigned v = 0; v < 256; v++) {
            uint8_t byte = (uint8_t)v;
            unsigned fa = 0;
            unsigned fb = 0;
            size_t na = charset_to_utf8(&cc, pairs[l][0], strlen(pairs[l][0]),
                                        &byte, 1, a, sizeof(a), &fa);
            size_t nb = iconv_byte(pairs[l][1], byte, b, &fb);

            assert_int_equal(na, nb);
            assert_memory_equal(a, b, na);
            assert_int_equal(fa, fb);
        }
    }
    for (size_t i = 0; i < 256; i++) {
        in[i] = (uint8_t)(255 - i); /* 0x98 (undefined) included */
    }
    memcpy(in + 256, "abc\xc0\xe0xyz", 8);
    for (size_t max = 0; max <= sizeof(a); max += max < 40 ? 1 : 37) {
        unsigned fa = 0;
        unsigned fb = 0;
        size_t na = charset_to_utf8(&cc, "windows-1251", 12, in, sizeof(in),
                                    a, max, &fa);
        size_t nb = charset_to_utf8(&cc, "ms-cyrl", 7, in, sizeof(in), b, max,
                                    &fb);

        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
        assert_int_equal(fa, fb);
    }
    charset_cache_clear(&cc);
}

/* Spellings mail writes that are not a table label: case, '_' for '-',
 * an "x-" prefix, and any '-' or '_' left out all decode as the label
 * they spell, byte for byte and flag for flag.  That holds for labels
 * only iconv knows too: utf_16 is UTF-16, not an unknown charset. */
static void
test_charset_label_spellings(void **state)
{
    static const char *const pairs[][2] = {
        {"utf_8", "utf-8"},          {"UTF_8", "utf-8"},
        {"x-utf-8", "utf-8"},        {"X-UTF8", "utf-8"},
        {"cp-1250", "windows-1250"}, {"cp-1251", "windows-1251"},
        {"CP_1251", "windows-1251"}, {"cp-1252", "windows-1252"},
        {"cp-1256", "windows-1256"}, {"windows_1251", "windows-1251"},
        {"windows1251", "windows-1251"}, {"x-cp1251", "windows-1251"},
        {"x-windows-1250", "windows-1250"}, {"latin-1", "iso-8859-1"},
        {"latin_1", "iso-8859-1"},   {"latin-2", "iso-8859-2"},
        {"Latin_2", "iso-8859-2"},   {"iso8859-1", "iso-8859-1"},
        {"iso_8859-1", "iso-8859-1"}, {"ISO_8859_1", "iso-8859-1"},
        {"iso_8859_2", "iso-8859-2"}, {"iso_8859_15", "iso-8859-15"},
        {"koi8_r", "koi8-r"},        {"x-koi8-r", "koi8-r"},
        {"x-us-ascii", "us-ascii"},  {"shift-jis", "shift_jis"},
        {"x-shift_jis", "shift_jis"}, {"gb_2312", "gb2312"},
        {"ks_c_5601_1987", "ks_c_5601-1987"}, {"big5_hkscs", "big5"},
        {"iso88591", "iso-8859-1"},  {"ISO88591", "latin1"},
        {"iso88592", "iso-8859-2"},  {"iso885915", "iso-8859-15"},
        {"win-1250", "windows-1250"}, {"win1251", "windows-1251"},
        {"win-1251", "windows-1251"}, {"WIN_1252", "windows-1252"},
        {"usascii", "us-ascii"},     {"shiftjis", "shift_jis"},
        {"utf_16", "utf-16"},        {"UTF_16LE", "utf-16le"},
        {"utf_16be", "UTF-16BE"},    {"utf_32", "utf-32"},
        {"iso_2022_jp", "iso-2022-jp"}, {"windows_1255", "windows-1255"},
        {"koi8_u", "koi8-u"},
    };
    uint8_t in[256];
    char a[3 * sizeof(in) + 4];
    char b[3 * sizeof(in) + 4];

    (void)state;
    for (size_t i = 0; i < sizeof(in); i++) {
        in[i] = (uint8_t)i;
    }
    for (size_t l = 0; l < sizeof(pairs) / sizeof(pairs[0]); l++) {
        const char *x = pairs[l][0];
        const char *y = pairs[l][1];
        unsigned fa = 0;
        unsigned fb = 0;
        size_t na = charset_to_utf8(NULL, x, strlen(x), in, sizeof(in), a,
                                    sizeof(a), &fa);
        size_t nb = charset_to_utf8(NULL, y, strlen(y), in, sizeof(in), b,
                                    sizeof(b), &fb);

        if (fa != fb || na != nb || memcmp(a, b, na) != 0) {
            print_error("%s is not %s\n", x, y);
        }
        assert_int_equal(fa, fb);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
        assert_true(charset_is_utf8_label(x, strlen(x)) ==
                    charset_is_utf8_label(y, strlen(y)));
    }
}

static void
test_charset_unknown(void **state)
{
    struct charset_cache cc;
    unsigned f;

    (void)state;
    charset_cache_init(&cc);
    assert_string_equal(conv(&cc, "x-no-such-charset", "caf\xe9", 4, &f),
                        "caf\xc3\xa9");
    assert_true(f & CHARSET_UNKNOWN);
    /* Remembered as unknown: same answer from the cache. */
    assert_string_equal(conv(&cc, "x-no-such-charset", "\xe9", 1, &f),
                        "\xc3\xa9");
    assert_true(f & CHARSET_UNKNOWN);
    /* Labels that could steer iconv are refused outright. */
    assert_string_equal(conv(&cc, "utf-8//IGNORE", "a\xff", 2, &f),
                        "a\xc3\xbf");
    assert_true(f & CHARSET_UNKNOWN);
    assert_string_equal(conv(&cc, "utf 8", "a", 1, &f), "a");
    assert_true(f & CHARSET_UNKNOWN);
    {
        char longname[200];
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        assert_string_equal(conv(&cc, longname, "x", 1, &f), "x");
        assert_true(f & CHARSET_UNKNOWN);
    }
    charset_cache_clear(&cc);
}

static void
test_charset_output_cap(void **state)
{
    char out[8];
    unsigned f = 0;
    size_t w;

    (void)state;
    /* At the cap: exactly fits. */
    w = charset_to_utf8(NULL, "utf-8", 5, (const uint8_t *)"ab\xc3\xa9", 4,
                        out, 4, &f);
    assert_int_equal(w, 4);
    assert_int_equal(f, 0);
    /* One short: the 2-byte character is left out whole. */
    w = charset_to_utf8(NULL, "utf-8", 5, (const uint8_t *)"ab\xc3\xa9", 4,
                        out, 3, &f);
    assert_int_equal(w, 2);
    assert_true(f & CHARSET_OUT_CAPPED);
    f = 0;
    w = charset_to_utf8(NULL, "latin1", 6, (const uint8_t *)"a\xe9", 2, out,
                        2, &f);
    assert_int_equal(w, 1);
    assert_true(f & CHARSET_OUT_CAPPED);
    f = 0;
    w = charset_to_utf8(NULL, "iso-8859-5", 10, (const uint8_t *)"\xbf\xe0", 2,
                        out, 3, &f);
    assert_int_equal(w, 2);
    assert_true(f & CHARSET_OUT_CAPPED);
    f = 0;
    w = charset_to_utf8(NULL, "utf-8", 5, (const uint8_t *)"abcdefghijk", 11,
                        out, 8, &f);
    assert_int_equal(w, 8);
    assert_true(f & CHARSET_OUT_CAPPED);
}

static void
test_charset_utf8_helpers(void **state)
{
    char b[4];

    (void)state;
    assert_true(charset_utf8_valid((const uint8_t *)"", 0));
    assert_true(charset_utf8_valid((const uint8_t *)"plain ascii text!", 17));
    assert_true(charset_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4));
    assert_false(charset_utf8_valid((const uint8_t *)"\xf0\x9f\x98", 3));
    assert_false(charset_utf8_valid((const uint8_t *)"\xe0\x80\x80", 3));
    assert_false(charset_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));
    assert_false(charset_utf8_valid((const uint8_t *)"\xc1\xbf", 2));
    assert_int_equal(charset_utf8_put('A', b), 1);
    assert_int_equal(charset_utf8_put(0xE9, b), 2);
    assert_memory_equal(b, "\xc3\xa9", 2);
    assert_int_equal(charset_utf8_put(0x20AC, b), 3);
    assert_int_equal(charset_utf8_put(0x1F600, b), 4);
    assert_memory_equal(b, "\xf0\x9f\x98\x80", 4);
    assert_int_equal(charset_utf8_put(0xD800, b), 3);
    assert_memory_equal(b, "\xef\xbf\xbd", 3);
    assert_int_equal(charset_utf8_put(0x110000, b), 3);
    assert_memory_equal(b, "\xef\xbf\xbd", 3);
    assert_true(charset_is_utf8_label("UTF-8", 5));
    assert_true(charset_is_utf8_label("", 0));
    assert_true(charset_is_utf8_label("us-ascii", 8));
    assert_false(charset_is_utf8_label("koi8-r", 6));
    assert_false(charset_is_utf8_label("iso-8859-1", 10));
}

/* UTF-8 of (in, n) one byte at a time: ASCII and valid sequences
 * copied, any other byte as U+FFFD; *is_valid when there was none. */
static size_t
ref_utf8(const uint8_t *in, size_t n, char *out, bool *is_valid)
{
    size_t o = 0;

    *is_valid = true;
    for (size_t i = 0; i < n;) {
        size_t k = in[i] < 0x80 ? 1 : charset_utf8_seq_len(in + i, n - i);

        if (k == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            *is_valid = false;
            continue;
        }
        memcpy(out + o, in + i, k);
        o += k;
        i += k;
    }
    return o;
}

static uint32_t
next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* ASCII is skipped 64 and 8 bytes at a time (ascii_run): an 8-bit byte,
 * lone or in a sequence, at every offset of texts of every length up to
 * past three blocks, and random texts, each in a buffer of its exact
 * length: validation and conversion as one byte at a time. */
static void
test_charset_ascii_runs_every_offset(void **state)
{
    static const char *const hi[] = {"\xe9", "\x80", "\xc3\xa9",
                                     "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    static char out[1024];
    static char want[1024];
    uint32_t seed = 31;

    (void)state;
    for (size_t len = 0; len <= 200; len++) {
        for (size_t h = 0; h < sizeof(hi) / sizeof(hi[0]); h++) {
            size_t hl = strlen(hi[h]);

            for (size_t pos = 0; pos <= len; pos++) {
                size_t n = pos < len ? len + hl - 1 : len;
                uint8_t *in = malloc(n > 0 ? n : 1);
                unsigned f = 0;
                bool is_valid;
                size_t wl;
                size_t w;

                assert_non_null(in);
                memset(in, 'a', n);
                if (pos < len) {
                    memcpy(in + pos, hi[h], hl);
                }
                wl = ref_utf8(in, n, want, &is_valid);
                assert_int_equal(charset_utf8_valid(in, n), is_valid);
                w = charset_to_utf8(NULL, "utf-8", 5, in, n, out,
                                    sizeof(out), &f);
                assert_int_equal(w, wl);
                assert_memory_equal(out, want, wl);
                assert_int_equal(f, is_valid ? 0u : CHARSET_BAD_BYTES);
                free(in);
            }
        }
    }
    for (int round = 0; round < 3000; round++) {
        size_t n = next_rand(&seed) % 300;
        uint8_t *in = malloc(n > 0 ? n : 1);
        unsigned f = 0;
        bool is_valid;
        size_t wl;
        size_t w;

        assert_non_null(in);
        for (size_t i = 0; i < n; i++) {
            uint32_t r = next_rand(&seed);

            in[i] = r % 40 == 0 ? (uint8_t)(0x80 + (r >> 8) % 128)
                                : (uint8_t)(' ' + (r >> 8) % 95);
        }
        wl = ref_utf8(in, n, want, &is_valid);
        assert_int_equal(charset_utf8_valid(in, n), is_valid);
        w = charset_to_utf8(NULL, "utf-8", 5, in, n, out, sizeof(out), &f);
        assert_int_equal(w, wl);
        assert_memory_equal(out, want, wl);
        free(in);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_charset_utf8_and_ascii),
        cmocka_unit_test(test_charset_latin1_is_cp1252),
        cmocka_unit_test(test_charset_iconv),
        cmocka_unit_test(test_charset_iconv_bad_unit_keeps_alignment),
        cmocka_unit_test(test_charset_sbcs_matches_iconv),
        cmocka_unit_test(test_charset_bom_does_not_leak_between_parts),
        cmocka_unit_test(test_charset_label_spellings),
        cmocka_unit_test(test_charset_unknown),
        cmocka_unit_test(test_charset_output_cap),
        cmocka_unit_test(test_charset_utf8_helpers),
        cmocka_unit_test(test_charset_ascii_runs_every_offset),
    };

    return cmocka_run_group_tests_name("charset", tests, NULL, NULL);
}
