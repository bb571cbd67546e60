/*
 * test_lookalike_fast.c -- lookalike.c's short cuts against simple
 * references kept here: check_edit_1 (whose walk rejects names on their
 * packed first two bytes, edit_heads) against the walk that read
 * each name through names[] and tested the same name first.  Over
 * databases of pseudo-random names (fixed seed), brands and not, the
 * answer and the name it reports (which) must agree for each name one
 * edit off (changed, dropped or added at every position), the names
 * themselves under other TLDs, and random names.  And the word lists
 * (lengths compared first) against the strlen scan, and next_code_point
 * (ASCII decoded where it is called) against the one function it was,
 * and host_is_mixed_script (an ASCII host without a '-' at once)
 * against its walk over every label, and ascii_skeleton (a plain ASCII
 * name's skeleton from its bytes) against the code point path.
 * Every query sits at the end of its own allocation, so an ASan build
 * catches a read past it.
 *
 * lookalike.c is included: check_edit_1 and the database are static.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/lookalike.c"

/* check_edit_1 as it was before edit_heads (and before the edit_ends
 * that packed the first and last bytes): every name read through
 * names[], the first or last byte kept. */
static bool
ref_check_edit_1(const struct lookalike_db *db, const char *reg, size_t rl,
                 size_t *which)
{
    size_t nl = name_len(reg, rl);
    size_t lo = rl > 1 ? rl - 1 : 0;
    size_t hi = rl + 1 < LOOKALIKE_DOMAIN_MAX ? rl + 1 : LOOKALIKE_DOMAIN_MAX;

    for (size_t i = db->edit_start[lo]; i < db->edit_start[hi + 1]; i++) {
        uint32_t j = db->edit_by_len[i];
        const char *p = db->names[j];
        size_t pl = strlen(p);
        size_t pn = name_len(p, pl);

        if (pn == nl && memcmp(p, reg, nl) == 0) {
            continue;
        }
        if (p[0] != reg[0] && p[pl - 1] != reg[rl - 1]) {
            continue;
        }
        if (is_edit_1(reg, rl, p, pl) && edit_is_slip(reg, rl, p, pl, pn)) {
            *which = j;
            return true;
        }
    }
    return false;
}

static uint32_t
rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static size_t n_hits; /* queries the reference found a name for */

static void
check_one(const struct lookalike_db *db, const char *h, size_t n)
{
    char *q;
    size_t wa = SIZE_MAX;
    size_t wb = SIZE_MAX;
    bool a;
    bool b;

    if (n == 0) {
        return; /* lookalike_check_reg never asks with rl == 0 */
    }
    q = malloc(n);
    assert_non_null(q);
    memcpy(q, h, n);
    a = check_edit_1(db, q, n, &wa);
    b = ref_check_edit_1(db, q, n, &wb);
    n_hits += b;
    if (a != b || wa != wb) {
        fail_msg("check_edit_1(\"%.*s\"): %d/%zu, want %d/%zu", (int)n, h,
                 (int)a, wa, (int)b, wb);
    }
    free(q);
}

/* A name of 3 to 12 letters (few, so that names collide and one edit
 * of one is often another's) and a TLD. */
static void
random_name(uint32_t *s, char *out, size_t cap)
{
    static const char *const tlds[] = {"com", "net", "co.uk", "de", "io",
                                       "c"};
    static const char letters[] = "abeilmnouv0137-";
    size_t n = 3 + rnd(s) % 10;
    size_t o = 0;

    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        out[o++] = letters[rnd(s) % (sizeof(letters) - 1)];
    }
    if (out[0] == '-') {
        out[0] = 'p';
    }
    if (out[o - 1] == '-') {
        out[o - 1] = 'x';
    }
    snprintf(out + o, cap - o, ".%s", tlds[rnd(s) % 6]);
}

static void
test_edit_1_matches_walk(void **state)
{
    uint32_t seed = 0x68e31da4u;

    (void)state;
    for (size_t round = 0; round < 30; round++) {
        size_t n = 1 + round * 10;
        char (*names)[32] = calloc(n, sizeof(*names));
        const char **ptrs = calloc(n, sizeof(*ptrs));
        bool *brand = calloc(n, sizeof(*brand));
        struct lookalike_db *db = NULL;

        assert_true(names != NULL && ptrs != NULL && brand != NULL);
        for (size_t i = 0; i < n; i++) {
            random_name(&seed, names[i], sizeof(names[i]));
            ptrs[i] = names[i];
            brand[i] = rnd(&seed) % 4 != 0;
        }
        assert_int_equal(lookalike_db_build(ptrs, brand, n, &db), CM_OK);
        for (size_t i = 0; i < n; i++) {
            const char *d = names[i];
            size_t dl = strlen(d);
            char h[40];

            check_one(db, d, dl);
            snprintf(h, sizeof(h), "%.*s.org", (int)name_len(d, dl), d);
            check_one(db, h, strlen(h));
            for (size_t k = 0; k <= dl; k++) {
                static const char edits[] = "aeo01l.-z";

                for (size_t e = 0; e < sizeof(edits) - 1; e++) {
                    memcpy(h, d, k);
                    h[k] = edits[e];
                    memcpy(h + k + 1, d + k, dl - k);
                    check_one(db, h, dl + 1); /* added */
                    if (k < dl) {
                        memcpy(h, d, dl);
                        h[k] = edits[e];
                        check_one(db, h, dl); /* changed */
                    }
                }
                if (k < dl) {
                    memcpy(h, d, k);
                    memcpy(h + k, d + k + 1, dl - k - 1);
                    check_one(db, h, dl - 1); /* dropped */
                }
            }
        }
        for (size_t q = 0; q < 2000; q++) {
            char h[40];

            random_name(&seed, h, sizeof(h));
            check_one(db, h, strlen(h));
        }
        lookalike_db_free(db);
        free(names);
        free(ptrs);
        free(brand);
    }
    /* The queries reach the is_edit_1 branch, not only the rejects. */
    assert_true(n_hits > 1000);
}

/* The word lists of is_generic_name and is_common_display_word as they
 * were written, and the strlen scan in_word_list was. */
static const char *const generic_words[] = {
    "mail", "email", "news", "list", "lists", "info", "shop", "store",
    "bank", "home", "live", "blog", "site", "host", "link", "links",
    "online", "secure", "login", "account", "support", "service", "update",
    "cloud", "media", "group", "global", "click", "track", "admin",
    "portal", "webmail", "images", "static", "free", "best", "world",
    "digital", "direct", "server", "mailer", "example", "localhost",
    "news-letter", "newsletter", "web", "www", "mobile", "google-analytics",
    "office", "money", "today", "daily", "post", "yahoogroups", "groups",
    "forum", "press", "city", "health"};
static const char *const display_words[] = {"chase", "booking", "outlook",
                                            "blockchain", "santander"};

static bool
ref_in_list(const char *const *words, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(words[i]) == len && memcmp(words[i], s, len) == 0) {
            return true;
        }
    }
    return false;
}

static void
check_words(const char *w, size_t n)
{
    char *q = malloc(n > 0 ? n : 1);

    assert_non_null(q);
    memcpy(q, w, n);
    assert_int_equal(is_generic_name(q, n),
                     ref_in_list(generic_words,
                                 sizeof(generic_words) /
                                     sizeof(generic_words[0]),
                                 q, n));
    assert_int_equal(is_common_display_word(q, n),
                     ref_in_list(display_words,
                                 sizeof(display_words) /
                                     sizeof(display_words[0]),
                                 q, n));
    free(q);
}

/* Every listed word, shortened, lengthened and with each byte set to
 * every value. */
static void
test_word_lists(void **state)
{
    const char *const *lists[] = {generic_words, display_words};
    const size_t sizes[] = {sizeof(generic_words) / sizeof(generic_words[0]),
                            sizeof(display_words) / sizeof(display_words[0])};
    char w[40];

    (void)state;
    check_words("", 0);
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; i < sizes[l]; i++) {
            size_t n = strlen(lists[l][i]);

            memcpy(w, lists[l][i], n);
            check_words(w, n);
            check_words(w, n - 1);
            check_words(w + 1, n - 1);
            w[n] = 's';
            check_words(w, n + 1);
            for (size_t k = 0; k < n; k++) {
                for (unsigned c = 0; c < 256; c++) {
                    memcpy(w, lists[l][i], n);
                    w[k] = (char)c;
                    check_words(w, n);
                }
            }
        }
    }
}

/* next_code_point as it was, one function for every byte. */
static unsigned
ref_next_code_point(const char *text, size_t len, size_t *i)
{
    unsigned char b = (unsigned char)text[*i];
    size_t extra = (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2
                                          : (b & 0xF8) == 0xF0 ? 3
                                                               : 0;
    unsigned v = extra == 1 ? b & 0x1Fu : extra == 2 ? b & 0x0Fu : b & 0x07u;

    if (b < 0x80) {
        (*i)++;
        return b;
    }
    if (extra == 0 || *i + extra >= len) {
        (*i)++;
        return 0xFFFDu;
    }
    for (size_t k = 1; k <= extra; k++) {
        unsigned char c = (unsigned char)text[*i + k];

        if ((c & 0xC0) != 0x80) {
            (*i)++;
            return 0xFFFDu;
        }
        v = (v << 6) | (c & 0x3Fu);
    }
    *i += extra + 1;
    return v;
}

/* Random texts of ASCII, lead and continuation bytes (valid and cut
 * sequences), decoded from every position by both. */
static void
test_next_code_point(void **state)
{
    static const unsigned char bytes[] = {'a', 'Z', ' ', 0x7F, 0x80, 0xBF,
                                          0xC3, 0xA9, 0xE2, 0x80, 0x8B,
                                          0xF0, 0x9D, 0x90, 0x8F, 0xF8,
                                          0xFF, 0xC0};
    uint32_t seed = 0x3c6ef372u;
    char t[24];

    (void)state;
    for (int iter = 0; iter < 50000; iter++) {
        size_t n = 1 + rnd(&seed) % sizeof(t);
        char *q;

        for (size_t k = 0; k < n; k++) {
            t[k] = (char)bytes[rnd(&seed) % sizeof(bytes)];
        }
        q = malloc(n);
        assert_non_null(q);
        memcpy(q, t, n);
        for (size_t at = 0; at < n; at++) {
            size_t a = at;
            size_t b = at;

            assert_int_equal(next_code_point(q, n, &a),
                             ref_next_code_point(q, n, &b));
            assert_int_equal(a, b);
        }
        free(q);
    }
}

/* host_is_mixed_script as it was: every label asked is_idn_label. */
static bool
ref_host_is_mixed_script(const char *host, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && host[i] != '.') {
            continue;
        }
        if (is_idn_label(host + start, i - start)) {
            unsigned cp[LOOKALIKE_LABEL_CPS];
            size_t n = label_code_points(host + start, i - start, cp,
                                         LOOKALIKE_LABEL_CPS);

            if (is_mixed_script(cp, n)) {
                return true;
            }
        }
        start = i + 1;
    }
    return false;
}

/* Hosts of pieces: punycode labels that decode to mixed and to single
 * scripts, cut ones, Cyrillic and Latin letters in UTF-8, hyphens. */
static void
test_mixed_script_host(void **state)
{
    static const char *const pieces[] = {
        "xn--pypal-4ve", "xn--80ak6aa92e", "xn--", "xn--a", "xn-", "x",
        "n", "-", "--", ".", ".", "pay", "p\xd0\xb0y", "\xd0\xb0",
        "\xce\xbf", "a", "com", "xn--bcher-kva", "\xc3\xa9", "0"};
    uint32_t seed = 0x7f4a7c15u;
    char h[128];
    size_t hits = 0;

    (void)state;
    for (int iter = 0; iter < 50000; iter++) {
        size_t n = 0;
        size_t k = rnd(&seed) % 8;
        char *q;

        for (size_t i = 0; i < k; i++) {
            const char *p = pieces[rnd(&seed) %
                                   (sizeof(pieces) / sizeof(pieces[0]))];
            size_t pl = strlen(p);

            if (n + pl > sizeof(h)) {
                break;
            }
            memcpy(h + n, p, pl);
            n += pl;
        }
        q = malloc(n > 0 ? n : 1);
        assert_non_null(q);
        memcpy(q, h, n);
        assert_int_equal(host_is_mixed_script(q, n),
                         ref_host_is_mixed_script(q, n));
        hits += ref_host_is_mixed_script(q, n);
        free(q);
    }
    assert_true(hits > 1000);
}

/* ascii_skeleton as it was: every name through label_code_points and
 * the code point skeleton. */
static size_t
ref_skeleton(const unsigned *cp, size_t n, char *out, size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        char c = confusable_ascii(cp[i]);

        if (c == 0) {
            return 0;
        }
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c + 32);
        }
        if (c == '-') {
            continue;
        }
        c = fold_ascii(c);
        if (k > 0 && ((out[k - 1] == 'r' && c == 'n') ||
                      (out[k - 1] == 'v' && c == 'v'))) {
            out[k - 1] = c == 'n' ? 'm' : 'w';
            continue;
        }
        if (k + 1 >= max) {
            return 0;
        }
        out[k++] = c;
    }
    out[k] = '\0';
    return k;
}

static size_t
ref_ascii_skeleton(const char *s, size_t len, char *out, size_t max)
{
    unsigned cp[LOOKALIKE_LABEL_CPS];
    size_t n = label_code_points(s, len, cp, LOOKALIKE_LABEL_CPS);

    return n > 0 ? ref_skeleton(cp, n, out, max) : 0;
}

/* Names of letters the skeleton folds or joins, digits, hyphens, upper
 * case, NUL, UTF-8 and punycode, up to past LOOKALIKE_LABEL_CPS, into
 * outputs of every size up to the one check_skeleton gives. */
static void
test_skeleton(void **state)
{
    static const char *const pieces[] = {
        "r", "n", "rn", "v", "vv", "-", "0", "1", "3", "4", "5", "i", "I",
        "|", "A", "Z", "z", "m", "w", ".", "\x00", "\xd0\xb0", "\xc3\xa9",
        "\xff", "xn--", "pypal-4ve", "paypal"};
    uint32_t seed = 0x510e527fu;
    char name[LOOKALIKE_LABEL_CPS + 40];

    (void)state;
    /* Plain names about LOOKALIKE_LABEL_CPS long: where label_code_points
     * gave up, and so must the byte path. */
    for (size_t n = LOOKALIKE_LABEL_CPS - 2; n <= LOOKALIKE_LABEL_CPS + 2;
         n++) {
        char a[LOOKALIKE_DOMAIN_MAX + 1];
        char b[LOOKALIKE_DOMAIN_MAX + 1];

        memset(name, 'p', n);
        assert_int_equal(ascii_skeleton(name, n, a, sizeof(a)),
                         ref_ascii_skeleton(name, n, b, sizeof(b)));
    }
    for (int iter = 0; iter < 60000; iter++) {
        size_t n = 0;
        size_t k = rnd(&seed) % 24;
        size_t max;
        char a[LOOKALIKE_DOMAIN_MAX + 1];
        char b[LOOKALIKE_DOMAIN_MAX + 1];
        size_t an;
        size_t bn;
        char *q;

        if (iter % 50 == 0) {
            k = LOOKALIKE_LABEL_CPS - 2 + rnd(&seed) % 5; /* long ones */
        }
        for (size_t i = 0; i < k; i++) {
            const char *p = pieces[rnd(&seed) %
                                   (sizeof(pieces) / sizeof(pieces[0]))];
            size_t pl = p[0] == '\0' ? 1 : strlen(p);

            if (n + pl > sizeof(name)) {
                break;
            }
            memcpy(name + n, p, pl);
            n += pl;
        }
        max = iter % 3 == 0 ? 1 + rnd(&seed) % 12 : sizeof(a);
        q = malloc(n > 0 ? n : 1);
        assert_non_null(q);
        memcpy(q, name, n);
        memset(a, 'A', sizeof(a));
        memset(b, 'A', sizeof(b));
        an = ascii_skeleton(q, n, a, max);
        bn = ref_ascii_skeleton(q, n, b, max);
        assert_int_equal(an, bn);
        if (an > 0) {
            assert_memory_equal(a, b, an + 1);
        }
        free(q);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit_1_matches_walk),
        cmocka_unit_test(test_word_lists),
        cmocka_unit_test(test_next_code_point),
        cmocka_unit_test(test_mixed_script_host),
        cmocka_unit_test(test_skeleton),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
