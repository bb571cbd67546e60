/*
 * test_html_scan.c -- html.c's scanning shortcuts against references
 * written from what they replace: attribute names looked up by length
 * and first letter (attr_kind) against a folded, cut copy compared with
 * every name; the bytes skipped before an attribute (html_attr_gap)
 * against the tests they replace; element names read with one bound
 * (read_name) against the loop before it; known elements found by their
 * hash's slot (tag_lookup) against a search of the whole table; inline
 * styles (style_hidden) against the declaration-by-declaration parse
 * before it; the end of a text run found eight bytes at a time (run_end)
 * against the byte-by-byte loop.  Edge inputs (every case, one byte off,
 * longer than the 16-byte cut, '=' first; a stop byte and a blank in
 * every lane, at the end, before non-ASCII) and pseudo-random ones
 * (fixed seed).  Every input sits at the end of its own allocation, so
 * an ASan build catches a read past it.
 *
 * html.c is included: the helpers are static.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/html.c"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/* A copy of (s, n) at the end of its own allocation. */
static uint8_t *
tail_copy(const void *s, size_t n)
{
    uint8_t *p = malloc(n > 0 ? n : 1);

    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

/* ---- attribute names --------------------------------------------- */

/* The reference: the name lower-cased and cut at HTML_NAME_MAX bytes, as
 * read_name copied it, compared with every name of enum html_attr. */
static int
ref_attr_kind(const uint8_t *p, size_t n)
{
    char name[HTML_NAME_MAX + 1];
    size_t k = 0;

    for (; k < n && k < HTML_NAME_MAX; k++) {
        name[k] = (char)html_lower(p[k]);
    }
    name[k] = '\0';
    for (int a = 0; a < HTML_ATTR_COUNT; a++) {
        if (strcmp(name, html_attr_names[a]) == 0) {
            return a;
        }
    }
    return -1;
}

static void
check_attr(const char *s, size_t n)
{
    uint8_t *p = tail_copy(s, n);

    if (attr_kind(p, n) != ref_attr_kind(p, n)) {
        fail_msg("attribute name '%.*s': %d, reference %d", (int)n, s,
                 attr_kind(p, n), ref_attr_kind(p, n));
    }
    free(p);
}

static void
test_attr_kind_edges(void **state)
{
    static const char *const extra[] = {
        "hre",  "hreff", "hrEf",  "HREF",    "hidden-",   "http-equi",
        "http_equiv", "srcset", "sr", "s", "=href", "=",
        "backgroundbackgroundx", "stylestylestylest", "colour", "conten",
        "opened", "methods", "actio", "typ", "siz", "styl",
    };
    char buf[64];

    (void)state;
    for (int a = 0; a < HTML_ATTR_COUNT; a++) {
        const char *lit = html_attr_names[a];
        size_t n = strlen(lit);
        check_attr(lit, n);
        /* Every case of every byte, one at a time, and all upper. */
        for (size_t i = 0; i < n; i++) {
            memcpy(buf, lit, n);
            buf[i] = (char)(buf[i] ^ 0x20);
            check_attr(buf, n);
            buf[i] = (char)(buf[i] + 1);
            check_attr(buf, n);
        }
        for (size_t i = 0; i < n; i++) {
            buf[i] = (char)(lit[i] >= 'a' ? lit[i] - 32 : lit[i]);
        }
        check_attr(buf, n);
        check_attr(lit, n - 1);
        memcpy(buf, lit, n);
        buf[n] = 'x';
        check_attr(buf, n + 1);
    }
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        check_attr(extra[i], strlen(extra[i]));
    }
}

static void
test_attr_kind_random(void **state)
{
    static const char alphabet[] = "hrefsctyldionmpwgbqu-=HREFSCTYLDIONMP";
    char buf[24];

    (void)state;
    for (int t = 0; t < 200000; t++) {
        size_t n = 1 + rng() % 12;
        if (rng() % 4 == 0) {
            /* A near miss of a real name. */
            const char *lit = html_attr_names[rng() % HTML_ATTR_COUNT];
            n = strlen(lit);
            memcpy(buf, lit, n);
            buf[rng() % n] = alphabet[rng() % (sizeof(alphabet) - 1)];
        } else {
            for (size_t i = 0; i < n; i++) {
                buf[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
            }
        }
        check_attr(buf, n);
    }
}

/* The bytes read_attrs skips before a name: its old test, every byte. */
static void
test_attr_gap_table(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 256; c++) {
        bool want = html_is_space((uint8_t)c) || c == '/';
        if ((html_attr_gap[c] != 0) != want) {
            fail_msg("byte 0x%02X", c);
        }
    }
}

/* ---- element names ------------------------------------------------ */

/* read_name over (s, n) as the tokenizer calls it. */
static size_t
name_of(const uint8_t *s, size_t n, char *buf, uint32_t *hash)
{
    struct html_state st;

    memset(&st, 0, sizeof(st));
    st.p = s;
    st.len = n;
    return read_name(&st, 0, buf, hash);
}

/* The reference: read_name before one bound stood for the input's end
 * and the cut (its '=' case was for attribute names only). */
static size_t
ref_read_name(const uint8_t *p, size_t len, size_t i, char *buf,
              uint32_t *hash)
{
    size_t k = 0;
    uint32_t h = 2166136261u;

    memset(buf, 0, HTML_NAME_MAX);
    while (i < len && k < HTML_NAME_MAX) {
        uint8_t c = html_name_fold[p[i]];
        if (c == 0) {
            break;
        }
        buf[k++] = (char)c;
        h = (h ^ c) * 16777619u;
        i++;
    }
    while (i < len) {
        uint8_t c = html_name_fold[p[i]];
        if (c == 0) {
            break;
        }
        h = (h ^ c) * 16777619u;
        i++;
    }
    buf[k] = '\0';
    *hash = h;
    return i;
}

static void
test_read_name_random(void **state)
{
    /* Letters of both cases, digits, bytes above 0x7F and every byte
     * that ends a name. */
    static const uint8_t bytes[] = {
        'a', 'b', 'q', 'z', 'A', 'Q', 'Z', '1', '-', ':', 0x80, 0xC3, 0xFF,
        0, '\t', '\n', '\v', '\f', '\r', ' ', '/', '>', '=',
    };
    uint8_t buf[48];

    (void)state;
    for (int t = 0; t < 300000; t++) {
        size_t n = 1 + rng() % 40;
        size_t named = rng() % (n + 1);
        uint8_t *p;
        char got[HTML_NAME_MAX + 1];
        char want[HTML_NAME_MAX + 1];
        uint32_t hg;
        uint32_t hw;

        /* A name of `named` letters and name bytes, then anything. */
        buf[0] = (uint8_t)('a' + rng() % 26);
        for (size_t i = 1; i < n; i++) {
            buf[i] = bytes[rng() % (i < named ? 11 : sizeof(bytes))];
        }
        p = tail_copy(buf, n);
        memset(got, 0x55, sizeof(got));
        if (name_of(p, n, got, &hg) != ref_read_name(p, n, 0, want, &hw) ||
            hg != hw || memcmp(got, want, sizeof(got)) != 0) {
            fail_msg("name '%.*s'", (int)n, (const char *)p);
        }
        free(p);
    }
}

/* The reference: every entry of html_tags, by hash and name. */
static const struct html_tag_info *
ref_tag_lookup(const char *name, uint32_t hash)
{
    for (size_t k = 0; k < HTML_N_TAGS; k++) {
        if (html_tags[k].hash == hash &&
            strcmp(html_tags[k].name, name) == 0) {
            return &html_tags[k];
        }
    }
    return NULL;
}

static void
check_tag(const char *s, size_t n)
{
    uint8_t *p = tail_copy(s, n);
    char name[HTML_NAME_MAX + 1];
    uint32_t h;

    name_of(p, n, name, &h);
    if (tag_lookup(name, h) != ref_tag_lookup(name, h)) {
        fail_msg("element name '%.*s'", (int)n, s);
    }
    free(p);
}

static void
test_tag_lookup_every_element(void **state)
{
    char buf[32];

    (void)state;
    for (size_t k = 0; k < HTML_N_TAGS; k++) {
        const char *lit = html_tags[k].name;
        size_t n = strlen(lit);
        uint8_t *p = tail_copy(lit, n);
        char name[HTML_NAME_MAX + 1];
        uint32_t h;

        /* The table's hash is read_name's, and the lookup finds it. */
        name_of(p, n, name, &h);
        assert_int_equal(h, html_tags[k].hash);
        assert_ptr_equal(tag_lookup(name, h), &html_tags[k]);
        free(p);
        for (size_t i = 0; i < n; i++) {
            buf[i] = (char)(lit[i] >= 'a' && lit[i] <= 'z' ? lit[i] - 32
                                                            : lit[i]);
        }
        check_tag(buf, n);
        check_tag(lit, n - 1);
        memcpy(buf, lit, n);
        buf[n] = 'x';
        check_tag(buf, n + 1);
        buf[n - 1] = (char)(buf[n - 1] + 1);
        check_tag(buf, n);
    }
}

static void
test_tag_lookup_random(void **state)
{
    static const char alphabet[] = "abdefhilmnoprstu123456";
    char buf[24];

    (void)state;
    for (int t = 0; t < 200000; t++) {
        size_t n = 1 + rng() % 20;
        for (size_t i = 0; i < n; i++) {
            buf[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
        }
        check_tag(buf, n);
    }
}

/* ---- inline styles ------------------------------------------------ */

/* The reference: style_hidden before css_prop_kind, as it was. */
static bool
ref_style_hidden(struct html_view v, enum html_font *font)
{
    const uint8_t *s = v.p;
    size_t n = v.len;
    size_t i = 0;
    bool is_zero_box = false;
    bool is_overflow_hidden = false;

    while (i < n) {
        const uint8_t *prop = s + i;
        size_t prop_len;
        const uint8_t *val = NULL;
        size_t val_len = 0;
        size_t j = i;
        while (j < n && s[j] != ':' && s[j] != ';') {
            j++;
        }
        prop_len = j - i;
        view_trim(&prop, &prop_len);
        if (j < n && s[j] == ':') {
            size_t k = j + 1;
            while (k < n && s[k] != ';') {
                k++;
            }
            val = s + j + 1;
            val_len = k - j - 1;
            view_trim(&val, &val_len);
            j = k;
        }
        i = j < n ? j + 1 : n;
        if (val == NULL) {
            continue;
        }
        if (prop_len == 7 && view_prefix(prop, prop_len, "display")) {
            if (view_prefix(val, val_len, "none")) {
                return true;
            }
        } else if (prop_len == 10 &&
                   view_prefix(prop, prop_len, "visibility")) {
            if (view_prefix(val, val_len, "hidden") ||
                view_prefix(val, val_len, "collapse")) {
                return true;
            }
        } else if (prop_len == 9 && view_prefix(prop, prop_len, "font-size")) {
            enum html_font f = css_font_size(val, val_len);
            if (f != HTML_FONT_INHERIT) {
                *font = f;
            }
        } else if (prop_len == 7 && view_prefix(prop, prop_len, "opacity")) {
            if (css_zero(val, val_len)) {
                return true;
            }
        } else if (prop_len == 8 && view_prefix(prop, prop_len, "mso-hide")) {
            if (view_prefix(val, val_len, "all")) {
                return true;
            }
        } else if ((prop_len == 5 && view_prefix(prop, prop_len, "width")) ||
                   (prop_len == 6 && view_prefix(prop, prop_len, "height")) ||
                   (prop_len == 9 &&
                    view_prefix(prop, prop_len, "max-width")) ||
                   (prop_len == 10 &&
                    view_prefix(prop, prop_len, "max-height"))) {
            if (css_zero(val, val_len)) {
                is_zero_box = true;
            }
        } else if (prop_len == 8 && view_prefix(prop, prop_len, "overflow")) {
            if (view_prefix(val, val_len, "hidden")) {
                is_overflow_hidden = true;
            }
        }
    }
    return is_zero_box && is_overflow_hidden;
}

static void
check_style(const char *s, size_t n)
{
    uint8_t *p = tail_copy(s, n);
    struct html_view v = {p, n};
    enum html_font f1 = HTML_FONT_INHERIT;
    enum html_font f2 = HTML_FONT_INHERIT;
    bool h1 = style_hidden(v, &f1);
    bool h2 = ref_style_hidden(v, &f2);

    if (h1 != h2 || f1 != f2) {
        fail_msg("style '%.*s': hidden %d font %d, reference %d %d", (int)n,
                 s, h1, f1, h2, f2);
    }
    free(p);
}

/* Pieces of styles: the properties looked at (any case, near misses),
 * values that hide or set a size, separators and blanks. */
static const char *const style_parts[] = {
    "display", "DISPLAY", "Display", "visibility", "font-size", "opacity",
    "mso-hide", "width", "height", "max-width", "max-height", "overflow",
    "displa", "widths", "font-sizes", "color", "x", "-", "margin",
    ":", ":", ";", ";", " ", "\t", "\n", "\v", "\0",
    "none", "NONE", "hidden", "collapse", "all", "0", "0px", "1px", "0.5",
    "12px", "2em", "0.1em", "50%", "1%", "small", "x-large", "inherit",
    "!important", "block", "visible", "auto", "10", "pt", "rem",
};

/* A random one of style_parts[first, first + count) appended ("\0" is
 * one NUL byte). */
static size_t
put_style_part(char *buf, size_t n, size_t max, size_t first, size_t count)
{
    const char *part = style_parts[first + rng() % count];
    size_t m = part[0] == '\0' ? 1 : strlen(part);

    if (n + m > max) {
        return n;
    }
    memcpy(buf + n, part, m);
    return n + m;
}

static void
test_style_hidden_random(void **state)
{
    enum { N_PARTS = sizeof(style_parts) / sizeof(style_parts[0]) };
    char buf[256];

    (void)state;
    check_style("", 0);
    for (int t = 0; t < 300000; t++) {
        size_t n = 0;
        size_t parts = rng() % 16;
        for (size_t k = 0; k < parts; k++) {
            if (rng() % 2 == 0) {
                n = put_style_part(buf, n, sizeof(buf), 0, N_PARTS);
                continue;
            }
            /* A declaration: property, blanks, ':', value, ';'. */
            n = put_style_part(buf, n, sizeof(buf), 0, 19);
            if (rng() % 3 == 0) {
                n = put_style_part(buf, n, sizeof(buf), 23, 5);
            }
            n = put_style_part(buf, n, sizeof(buf), 19, 1);
            n = put_style_part(buf, n, sizeof(buf), 28, N_PARTS - 28);
            n = put_style_part(buf, n, sizeof(buf), 21, 1);
        }
        check_style(buf, n);
    }
}

/* ---- text runs ---------------------------------------------------- */

/* The reference: text()'s loop before run_end, one byte at a time. */
static size_t
ref_run_end(const uint8_t *p, size_t j, size_t len, bool blanks)
{
    for (;;) {
        while (j < len && !html_special[p[j]]) {
            j++;
        }
        if (j + 1 < len && p[j] == ' ' && p[j + 1] < 0x80 &&
            !html_special[p[j + 1]] && blanks) {
            j += 2;
            continue;
        }
        return j;
    }
}

static void
check_run(const uint8_t *s, size_t n)
{
    uint8_t *p = tail_copy(s, n);

    for (size_t j = 0; j < n; j++) {
        for (int blanks = 0; blanks < 2; blanks++) {
            size_t got = run_end(p, j, n, blanks != 0);
            size_t want = ref_run_end(p, j, n, blanks != 0);
            if (got != want) {
                fail_msg("run from %zu of %zu (blanks %d): %zu, reference "
                         "%zu",
                         j, n, blanks, got, want);
            }
        }
    }
    free(p);
}

/* Bytes a run meets: each special one, blanks, ASCII around them, the
 * lead bytes and others above 0x7F. */
static const uint8_t run_bytes[] = {
    'a', 'b', 'Z', '0', '.', '!', ' ', ' ', '\t', '\n', '\r', '\v', '\f',
    0,   1,   0x1F, '&', '<', '>', 0x7F, 0x80, 0xA0, 0xC2, 0xE2, 0xEF,
    0xD0, 0xFF, 0x21, 0x20 | 0x80, '&' | 0x80, '<' | 0x80,
};

static void
test_run_end_edges(void **state)
{
    uint8_t buf[40];

    (void)state;
    /* Every run byte, then a blank and every run byte, in every lane of
     * two words. */
    for (size_t a = 0; a < sizeof(run_bytes); a++) {
        for (size_t b = 0; b < sizeof(run_bytes); b++) {
            for (size_t at = 0; at + 2 <= 20; at++) {
                memset(buf, 'x', sizeof(buf));
                buf[at] = run_bytes[a];
                buf[at + 1] = run_bytes[b];
                check_run(buf, 20);
                buf[at] = ' ';
                check_run(buf, 20);
                check_run(buf, at + 1);
                check_run(buf, at + 2);
            }
        }
    }
}

static void
test_run_end_random(void **state)
{
    uint8_t buf[64];

    (void)state;
    for (int t = 0; t < 100000; t++) {
        size_t n = rng() % sizeof(buf);
        unsigned mix = rng() % 4;
        for (size_t i = 0; i < n; i++) {
            uint32_t r = rng();
            if (mix == 0) {
                buf[i] = (uint8_t)r;
            } else if (r % 8 < mix) {
                buf[i] = run_bytes[(r >> 8) % sizeof(run_bytes)];
            } else {
                buf[i] = (uint8_t)('a' + (r >> 8) % 26);
            }
        }
        check_run(buf, n);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attr_kind_edges),
        cmocka_unit_test(test_attr_kind_random),
        cmocka_unit_test(test_attr_gap_table),
        cmocka_unit_test(test_read_name_random),
        cmocka_unit_test(test_tag_lookup_every_element),
        cmocka_unit_test(test_tag_lookup_random),
        cmocka_unit_test(test_style_hidden_random),
        cmocka_unit_test(test_run_end_edges),
        cmocka_unit_test(test_run_end_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
