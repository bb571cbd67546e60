/*
 * test_fingerprint_norm.c -- the URL normaliser's inner steps
 * (fingerprint.c) against references that walk their input one byte at a
 * time: out_put_text (runs up to a '%' or, in a path, a '\\' found by
 * memchr) on edge inputs and on pseudo-random texts of the bytes it looks
 * at, into outputs of every size down to one byte.  Each input sits at
 * the end of its own allocation, so an ASan build catches a read past it.
 * out_remove_dot_segments (skipped when the path has no "/.") against
 * the walk over every segment.  And is_tracking_param's names, lengths
 * compared first.
 *
 * fingerprint.c is included: its steps are static.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/fingerprint.c"

#define OUT_MAX 96

/* out_put_text as it was: the run found by a compare per byte. */
static void
ref_put_text(struct out_text *o, const char *s, size_t n, bool is_path)
{
    size_t i = 0;

    while (i < n) {
        size_t run = 0;

        while (i + run < n && s[i + run] != '%' &&
               !(is_path && s[i + run] == '\\')) {
            run++;
        }
        out_put(o, s + i, run);
        i += run;
        if (i >= n) {
            break;
        }
        if (s[i] == '\\') {
            out_put(o, "/", 1);
            i++;
        } else if (i + 2 < n && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out_put_escape(o, s + i);
            i += 3;
        } else {
            out_put(o, "%", 1);
            i++;
        }
    }
}

/* Both ways into outputs of max bytes (a prefix already written); the
 * outputs must agree byte for byte, the NUL included. */
static void
check_put(const char *text, size_t n, bool is_path, size_t max)
{
    char *copy = malloc(n > 0 ? n : 1);
    char a[OUT_MAX];
    char b[OUT_MAX];
    struct out_text oa = {a, max, 0};
    struct out_text ob = {b, max, 0};

    assert_non_null(copy);
    memcpy(copy, text, n);
    memset(a, 'A', sizeof(a));
    memset(b, 'A', sizeof(b));
    a[0] = '\0';
    b[0] = '\0';
    out_put(&oa, "h", 1);
    out_put(&ob, "h", 1);
    out_put_text(&oa, copy, n, is_path);
    ref_put_text(&ob, copy, n, is_path);
    if (oa.len != ob.len || memcmp(a, b, sizeof(a)) != 0) {
        fprintf(stderr, "out_put_text '%.*s' path %d max %zu: '%s' / '%s'\n",
                (int)n, text, is_path, max, a, b);
        free(copy);
        fail();
    }
    free(copy);
}

static void
check_str(const char *s)
{
    for (size_t max = 1; max <= OUT_MAX; max++) {
        check_put(s, strlen(s), false, max);
        check_put(s, strlen(s), true, max);
    }
}

static void
test_put_text_edges(void **state)
{
    (void)state;
    check_str("");
    check_str("%");
    check_str("\\");
    check_str("%4");
    check_str("%41");
    check_str("%4g");
    check_str("/a\\b%2Fc%7e%7E%zz%");
    check_str("/log%69n\\..\\x%2e%2E/");
    check_str("plain/path/with/no/escapes/at/all.html");
    check_str("\\\\\\%%%%41%%\\");
}

static uint32_t
rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void
test_put_text_random(void **state)
{
    static const char alphabet[] = "%\\/aZ09fF.-~?&#=g ";
    uint32_t seed = 0x6b43a9b5u;
    char text[80];

    (void)state;
    for (unsigned iter = 0; iter < 40000; iter++) {
        size_t n = rnd(&seed) % sizeof(text);

        for (size_t i = 0; i < n; i++) {
            text[i] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1u)];
        }
        check_put(text, n, rnd(&seed) % 2 != 0,
                  1u + rnd(&seed) % OUT_MAX);
    }
}

/* out_remove_dot_segments as it was: the walk over every segment,
 * without the "/." test first. */
static void
ref_remove_dot_segments(struct out_text *o, size_t from)
{
    char *p = o->p + from;
    size_t n = o->len - from;
    size_t r = 0;
    size_t w = 0;

    if (n == 0 || p[0] != '/') {
        return;
    }
    while (r < n) {
        size_t e = r + 1;
        bool is_dot;
        bool is_dotdot;

        while (e < n && p[e] != '/') {
            e++;
        }
        is_dot = e - r == 2 && p[r + 1] == '.';
        is_dotdot = e - r == 3 && p[r + 1] == '.' && p[r + 2] == '.';
        if (is_dotdot) {
            while (w > 0 && p[--w] != '/') {
            }
        }
        if (!is_dot && !is_dotdot) {
            memmove(p + w, p + r, e - r);
            w += e - r;
        } else if (e == n) {
            p[w++] = '/';
        }
        r = e;
    }
    o->len = from + w;
    o->p[o->len] = '\0';
}

static void
check_dots(const char *path, size_t n)
{
    char a[OUT_MAX + 8];
    char b[OUT_MAX + 8];
    struct out_text oa = {a, sizeof(a), 0};
    struct out_text ob = {b, sizeof(b), 0};

    memset(a, 'A', sizeof(a));
    memset(b, 'A', sizeof(b));
    a[0] = '\0';
    b[0] = '\0';
    out_put(&oa, "host", 4);
    out_put(&ob, "host", 4);
    out_put(&oa, path, n);
    out_put(&ob, path, n);
    out_remove_dot_segments(&oa, 4);
    ref_remove_dot_segments(&ob, 4);
    if (oa.len != ob.len || memcmp(a, b, sizeof(a)) != 0) {
        fprintf(stderr, "dot segments of '%.*s': '%s' / '%s'\n", (int)n,
                path, a, b);
        fail();
    }
}

static void
test_dot_segments(void **state)
{
    static const char *const edges[] = {
        "", "/", ".", "/.", "/..", "/./", "/../", "/a/./b", "/a/../b",
        "/a/b/..", "/a/b/.", "/a.b/c.d", "/.a", "/..a", "/a./", "/a../b",
        "/...", "//./", "/a/.//../b", "a/./b", "/x.html", "/x/y.tar.gz",
        "/a/b/c/../../../../d", "/."};
    static const char alphabet[] = "/..a";
    uint32_t seed = 0x2f6b9d11u;
    char path[40];

    (void)state;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        check_dots(edges[i], strlen(edges[i]));
    }
    for (unsigned iter = 0; iter < 40000; iter++) {
        size_t n = rnd(&seed) % sizeof(path);

        for (size_t i = 0; i < n; i++) {
            path[i] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1u)];
        }
        if (n > 0 && rnd(&seed) % 4 != 0) {
            path[0] = '/';
        }
        check_dots(path, n);
    }
}

/* Every tracking name in any case, and no name one byte longer or
 * shorter (the lengths are compared first). */
static void
test_tracking_params(void **state)
{
    static const char *const names[] = {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid",
        "_hsenc", "_hsmi", "mkt_tok", "yclid", "igshid", "ref_src"};
    char b[16];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]);

        memcpy(b, names[i], n);
        assert_true(is_tracking_param(b, n));
        b[0] = (char)(b[0] >= 'a' && b[0] <= 'z' ? b[0] - 32 : b[0]);
        b[n - 1] = (char)(b[n - 1] - 32);
        assert_true(is_tracking_param(b, n));
        assert_false(is_tracking_param(b, n - 1));
        b[n] = 'x';
        assert_false(is_tracking_param(b, n + 1));
    }
    assert_true(is_tracking_param("utm_", 4));
    assert_true(is_tracking_param("UTM_source", 10));
    assert_false(is_tracking_param("utm", 3));
    assert_false(is_tracking_param("id", 2));
    assert_false(is_tracking_param("", 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_text_edges),
        cmocka_unit_test(test_dot_segments),
        cmocka_unit_test(test_put_text_random),
        cmocka_unit_test(test_tracking_params),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
