/*
 * test_mime_uu.c -- mime_uu_find (mime_uu.c, included for its static
 * line tests) against the line-by-line search it replaced: every line
 * start from `from` on is tried, where mime_uu_find jumps from 'b' to
 * 'b'.  Edge texts and pseudo-random ones built of "begin" lines,
 * encoded lines, "end" lines, stray 'b's and line breaks, searched from
 * every line start, each text at the end of its own allocation; the
 * answer and every offset of the block must agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/mime_uu.c"

/* mime_uu_find as it was: a memchr per line. */
static bool
ref_uu_find(const uint8_t *p, size_t len, size_t from,
            struct mime_uu_block *b)
{
    size_t at = from;

    while (at < len) {
        size_t end = line_end_at(p, len, at);
        size_t next = end < len ? end + 1 : len;

        if (end - at < 6 || p[at] != 'b' || !is_begin_line(p, at, end, b) ||
            !is_encoded_line(p, next, line_end_at(p, len, next))) {
            at = next;
            continue;
        }
        b->begin_at = at;
        b->data_at = next;
        while (next < len) {
            size_t e = line_end_at(p, len, next);
            size_t after = e < len ? e + 1 : len;

            if (is_end_line(p, next, e)) {
                b->data_end = next;
                b->end_at = after;
                return true;
            }
            if (!is_encoded_line(p, next, e) &&
                trim_end(p, next, e) - next > 1) {
                break;
            }
            next = after;
        }
        b->data_end = next;
        b->end_at = next;
        return true;
    }
    return false;
}

static void
check_from(const uint8_t *p, size_t len, size_t from)
{
    struct mime_uu_block got;
    struct mime_uu_block want;
    bool is_got;
    bool is_want;

    memset(&got, 0, sizeof(got));
    memset(&want, 0, sizeof(want));
    is_got = mime_uu_find(p, len, from, &got);
    is_want = ref_uu_find(p, len, from, &want);
    assert_int_equal(is_got, is_want);
    if (is_want) {
        assert_int_equal(got.begin_at, want.begin_at);
        assert_int_equal(got.name_at, want.name_at);
        assert_int_equal(got.name_len, want.name_len);
        assert_int_equal(got.data_at, want.data_at);
        assert_int_equal(got.data_end, want.data_end);
        assert_int_equal(got.end_at, want.end_at);
    }
}

/* The text (tmp, len) in an allocation of its own size, searched from
 * 0 and from every line start. */
static void
check(const uint8_t *tmp, size_t len)
{
    uint8_t *p = malloc(len > 0 ? len : 1);

    assert_non_null(p);
    memcpy(p, tmp, len);
    check_from(p, len, 0);
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n') {
            check_from(p, len, i + 1);
        }
    }
    free(p);
}

static uint32_t
next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void
test_mime_uu_find_matches_reference(void **state)
{
    static const char *const edges[] = {
        "",
        "b",
        "begin",
        "begin ",
        "begin 644 a\n",
        "begin 644 a\n#0V%T\n`\nend\n",
        "begin 644 a\r\n#0V%T\r\n`\r\nend\r\n",
        "xbegin 644 a\n#0V%T\nend\n",
        "text\nbegin 644 a\n#0V%T\nend",
        "begin 644 a\n#0V%T\nbegin 644 b\n#0V%T\nend\n",
        "bb\nb\nbegin 0755 x y\n#0V%T  \nend  \n",
        "begin 64 a\n#0V%T\nend\n",
        "begin 644 \n#0V%T\nend\n",
        "\nbegin 644 a\n#0V%T\nnot encoded at all\nend\n"};
    static const char *const pieces[] = {
        "begin 644 a.exe\n", "begin 0644 x\r\n", "begin 644 \n",
        "#0V%T\n", "M86)C9&5F9VAI:FML;6YO<'%R<W1U=G=X>7HP,3(S-#4V-S@Y\n",
        "`\n", "end\n", "end", "b", "\n", "\r\n", "text ", "begin", " ",
        "abc\n", "bbb", "xbegin 644 a\n", "bbegin 644 a\n", " begin 644 a\n",
        "\rbegin 644 a\n"};
    uint32_t seed = 644;

    (void)state;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        check((const uint8_t *)edges[i], strlen(edges[i]));
    }
    for (int round = 0; round < 20000; round++) {
        uint8_t tmp[400];
        size_t len = 0;

        for (size_t k = next_rand(&seed) % 14; k > 0; k--) {
            const char *pc =
                pieces[next_rand(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];
            size_t pl = strlen(pc);

            if (len + pl > sizeof(tmp)) {
                break;
            }
            memcpy(tmp + len, pc, pl);
            len += pl;
        }
        check(tmp, len);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mime_uu_find_matches_reference),
    };

    return cmocka_run_group_tests_name("mime_uu", tests, NULL, NULL);
}
