/*
 * test_mime_unfold.c -- mime.c's unfold (static, so the file is included)
 * against a byte-at-a-time reference written from its contract: line
 * breaks dropped, control bytes and DEL blanked, surrounding blanks
 * trimmed, "=?" and 8-bit bytes reported, at most max bytes.  Every byte
 * that stops a plain run at every offset from a word boundary, every cap,
 * and pseudo-random values: the same bytes, length and flags, and nothing
 * written past max.  Also the word-at-a-time field-name tests beside it
 * (name_span, name_is) against byte loops, on exact-size buffers, and
 * next_field against the memchr-and-trim version it replaced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/mime.c"

#define VAL_MAX 200
#define GUARD 16

static size_t
ref_unfold(const uint8_t *raw, size_t n, char *dst, size_t max,
           bool *is_cut, bool *needs_decode)
{
    size_t i = 0;
    size_t o = 0;
    bool is_marked = false;

    while (i < n && (raw[i] == ' ' || raw[i] == '\t')) {
        i++;
    }
    while (i < n) {
        uint8_t c = raw[i];

        if (c == '\r' || c == '\n') {
            i++;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            c = ' ';
        } else if (c >= 0x80 || (c == '?' && i > 0 && raw[i - 1] == '=')) {
            is_marked = true;
        }
        if (o >= max) {
            /* An "=?" whose '=' is the first byte past max counts. */
            if (c == '=' && i + 1 < n && raw[i + 1] == '?') {
                is_marked = true;
            }
            *is_cut = true;
            break;
        }
        dst[o++] = (char)c;
        i++;
    }
    while (o > 0 && (dst[o - 1] == ' ' || dst[o - 1] == '\t')) {
        o--;
    }
    *needs_decode = is_marked;
    return o;
}

static void
check(const uint8_t *raw, size_t n, size_t max)
{
    char got[VAL_MAX + GUARD];
    char want[VAL_MAX];
    bool cut_got = false;
    bool cut_want = false;
    bool dec_got = false;
    bool dec_want = false;
    size_t n_got;
    size_t n_want;

    assert_true(max <= VAL_MAX);
    memset(got, 0x5A, sizeof(got));
    n_got = unfold(raw, n, got, max, &cut_got, &dec_got);
    n_want = ref_unfold(raw, n, want, max, &cut_want, &dec_want);
    assert_int_equal(n_got, n_want);
    assert_memory_equal(got, want, n_want);
    assert_int_equal(cut_got, cut_want);
    assert_int_equal(dec_got, dec_want);
    for (size_t k = max; k < sizeof(got); k++) {
        assert_int_equal(got[k], 0x5A);
    }
}

static uint32_t
next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void
test_unfold_every_offset(void **state)
{
    static const char *const cases[] = {
        "=?",   "?",    "=",    "\t",   " ",    "\r\n ", "\n\t", "\x01",
        "\x7f", "\xc3\xa9", "\r",   "= ?",  "==?",  "\t\t", "~",
    };
    static const char plain[] = "abcdefghijklmnopqrstuvwxyz0123456789";

    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t cl = strlen(cases[k]);

        for (size_t off = 0; off <= 20; off++) {
            for (size_t tail = 0; tail <= 17; tail += 17) {
                uint8_t raw[80];
                size_t n = 0;

                memcpy(raw, plain, off);
                n += off;
                memcpy(raw + n, cases[k], cl);
                n += cl;
                memcpy(raw + n, plain, tail);
                n += tail;
                for (size_t max = 0; max <= n + 1; max++) {
                    check(raw, n, max);
                }
            }
        }
    }
}

static void
test_unfold_random(void **state)
{
    static const char pick[] = "=?=?\r\n \t\x01\x7f\x80\xff";
    uint8_t raw[VAL_MAX];
    uint32_t seed = 2047;

    (void)state;
    for (int round = 0; round < 5000; round++) {
        size_t len = next_rand(&seed) % VAL_MAX;
        unsigned mix = next_rand(&seed) % 4; /* 0: few specials, 3: many */

        for (size_t i = 0; i < len; i++) {
            uint32_t r = next_rand(&seed);

            if (r % 64 < 1 + mix * 6) {
                raw[i] = (uint8_t)pick[(r >> 6) % (sizeof(pick) - 1)];
            } else {
                raw[i] = (uint8_t)(' ' + (r >> 6) % 95);
            }
        }
        check(raw, len, next_rand(&seed) % (VAL_MAX + 1));
        check(raw, len, VAL_MAX);
    }
}

static bool
ref_has_ctl(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] <= ' ' || p[i] == 0x7F) {
            return true;
        }
    }
    return false;
}

/* Bytes before the first ':', blank, control byte or DEL. */
static size_t
ref_name_span(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n && p[i] > ' ' && p[i] != 0x7F && p[i] != ':') {
        i++;
    }
    return i;
}

/* name_span with nothing readable past the name and with a word more,
 * and name_is (names without control bytes only, as next_field gives
 * it) against ci_eq, on near spellings of the names it is used for. */
static void
test_field_name_words(void **state)
{
    static const char *const lits[] = {"content-", "content-type",
                                       "content-transfer-encoding",
                                       "content-disposition", "subject"};
    static const uint8_t swap[] = {' ', '\t', 0x01, 0x7F, 0x0D, '-', '@',
                                   '`', '[', '{', 0xC3, 0xE3, 'M', 'm'};
    uint32_t seed = 5322;

    (void)state;
    for (int round = 0; round < 40000; round++) {
        const char *lit = lits[next_rand(&seed) % 5];
        size_t k = strlen(lit);
        uint8_t tmp[40];
        size_t n = k;
        uint8_t *name;
        uint8_t *padded;

        memcpy(tmp, lit, k);
        for (size_t i = 0; i < k; i++) {
            if (next_rand(&seed) % 2 != 0 && tmp[i] >= 'a' && tmp[i] <= 'z') {
                tmp[i] = (uint8_t)(tmp[i] - 32);
            }
        }
        switch (next_rand(&seed) % 4) {
        case 0:
            break;
        case 1:
            tmp[next_rand(&seed) % k] = swap[next_rand(&seed) % sizeof(swap)];
            break;
        case 2:
            n = 1 + next_rand(&seed) % k;
            break;
        default:
            tmp[n++] = swap[next_rand(&seed) % sizeof(swap)];
            break;
        }
        name = malloc(n); /* nothing past it to read */
        padded = malloc(n + 8);
        assert_non_null(name);
        assert_non_null(padded);
        memcpy(name, tmp, n);
        memcpy(padded, tmp, n);
        memset(padded + n, ' ', 8);
        assert_int_equal(name_span(name, n, 0) < n, ref_has_ctl(name, n));
        assert_int_equal(name_span(padded, n + 8, 0) < n,
                         ref_has_ctl(name, n));
        assert_int_equal(name_span(name, n, 0), ref_name_span(name, n));
        if (!ref_has_ctl(name, n)) {
            assert_int_equal(name_is(name, n, lit, k), ci_eq(name, n, lit));
        }
        free(name);
        free(padded);
    }
}

/* next_field as it was: the line end first, then a memchr for the ':'
 * in the line, the blanks before it trimmed and the name tested for
 * control bytes. */
static enum mime_field_res
ref_next_field(const uint8_t *p, size_t len, size_t pos,
               struct mime_field *f, size_t *next)
{
    size_t e;
    size_t le;
    const uint8_t *colon;
    size_t nl;

    if (pos >= len) {
        *next = len;
        return MIME_FIELD_EOF;
    }
    e = line_end(p, len, pos);
    le = e;
    if (le > pos && p[le - 1] == '\r') {
        le--;
    }
    if (le == pos) {
        *next = e < len ? e + 1 : len;
        return MIME_FIELD_END;
    }
    if (p[pos] == ' ' || p[pos] == '\t') {
        *next = e < len ? e + 1 : len;
        return MIME_FIELD_SKIP;
    }
    colon = memchr(p + pos, ':', le - pos);
    if (colon == NULL) {
        *next = pos;
        return MIME_FIELD_BODY;
    }
    nl = (size_t)(colon - (p + pos));
    while (nl > 0 && (p[pos + nl - 1] == ' ' || p[pos + nl - 1] == '\t')) {
        nl--;
    }
    if (nl == 0 || ref_has_ctl(p + pos, nl)) {
        *next = pos;
        return MIME_FIELD_BODY;
    }
    f->name = p + pos;
    f->name_len = nl;
    f->raw = colon + 1;
    while (e < len && e + 1 < len && (p[e + 1] == ' ' || p[e + 1] == '\t')) {
        e = line_end(p, len, e + 1);
    }
    le = e;
    if (le > (size_t)(f->raw - p) && p[le - 1] == '\r') {
        le--;
    }
    f->raw_len = le - (size_t)(f->raw - p);
    *next = e < len ? e + 1 : len;
    return MIME_FIELD_OK;
}

/* next_field against ref_next_field: every field of pseudo-random header
 * blocks of names, blanks, colons, control bytes, CR and LF, read as
 * read_headers reads them (from each result's next), each block at the
 * end of its own allocation. */
static void
test_next_field_matches_reference(void **state)
{
    static const char *const pieces[] = {
        "Subject", "X-Long-Header-Name-Here", "a", ":", ": v", " ", "\t",
        "\r\n", "\n", "\r", "\x01", "\x7f", "\xc3\xa9", "=?x?=",
        "value text", "\r\n ", "\n\t", "-", "From ", "::"};
    static const char *const edges[] = {
        "", "\n", "\r", "\r\n", "\r\r\n", ":", "a:", "a :", "a\t:",
        "a b:", "a\r:", "a\x7f:", " a:", "a", "a \n:", "abcdefgh:",
        "abcdefghijklmnop :x\r\n\tmore\r\n", "a:\r", "a:\n "};
    uint32_t seed = 2822;

    (void)state;
    for (int round = 0; round < 30000; round++) {
        uint8_t tmp[160];
        size_t len = 0;
        uint8_t *p;
        size_t pos = 0;
        size_t n_edges = sizeof(edges) / sizeof(edges[0]);

        if ((size_t)round < n_edges) {
            len = strlen(edges[round]);
            memcpy(tmp, edges[round], len);
        } else {
            for (size_t k = next_rand(&seed) % 16; k > 0; k--) {
                const char *pc =
                    pieces[next_rand(&seed) % (sizeof(pieces) /
                                               sizeof(pieces[0]))];
                size_t pl = strlen(pc);

                if (len + pl > sizeof(tmp)) {
                    break;
                }
                memcpy(tmp + len, pc, pl);
                len += pl;
            }
        }
        p = malloc(len > 0 ? len : 1);
        assert_non_null(p);
        memcpy(p, tmp, len);
        for (;;) {
            struct mime_field fg;
            struct mime_field fw;
            size_t ng = 0;
            size_t nw = 0;
            enum mime_field_res rg = next_field(p, len, pos, &fg, &ng);
            enum mime_field_res rw = ref_next_field(p, len, pos, &fw, &nw);

            assert_int_equal(rg, rw);
            assert_int_equal(ng, nw);
            if (rw == MIME_FIELD_OK) {
                assert_ptr_equal(fg.name, fw.name);
                assert_int_equal(fg.name_len, fw.name_len);
                assert_ptr_equal(fg.raw, fw.raw);
                assert_int_equal(fg.raw_len, fw.raw_len);
            }
            if (rw == MIME_FIELD_EOF || rw == MIME_FIELD_BODY) {
                break;
            }
            assert_true(nw > pos);
            pos = nw;
        }
        free(p);
    }
}

/* same_name (words compared first, then a fold per byte) against a fold
 * per byte: names of 0 to 30 bytes from a small alphabet with capitals,
 * '@' and '`' (which differ from each other by the bit of case), each
 * header name and query at the end of its own allocation. */
static void
test_same_name_matches_fold(void **state)
{
    static const char alpha[] = "aAbB-@`zZ[{09\xc3\xe3";
    uint32_t seed = 7405;

    (void)state;
    for (int round = 0; round < 60000; round++) {
        size_t n = next_rand(&seed) % 31;
        size_t qn = next_rand(&seed) % 8 == 0 ? next_rand(&seed) % 31 : n;
        char *hn = malloc(n + 1);
        char *q = malloc(qn + 1);
        struct mime_header h;
        bool want = n == qn;

        assert_non_null(hn);
        assert_non_null(q);
        for (size_t i = 0; i < n; i++) {
            hn[i] = alpha[next_rand(&seed) % (sizeof(alpha) - 1)];
        }
        for (size_t i = 0; i < qn; i++) {
            uint32_t r = next_rand(&seed) % 16;
            char c = i < n ? hn[i] : 'a';

            if (r == 0) {
                c = alpha[next_rand(&seed) % (sizeof(alpha) - 1)];
            } else if (r < 6 && c >= 'a' && c <= 'z') {
                c = (char)(c - 32);
            } else if (r < 6 && c >= 'A' && c <= 'Z') {
                c = (char)(c + 32);
            }
            q[i] = c;
        }
        hn[n] = '\0';
        q[qn] = '\0';
        for (size_t i = 0; want && i < n; i++) {
            want = mime_lower((uint8_t)hn[i]) == mime_lower((uint8_t)q[i]);
        }
        h.name = hn;
        h.name_len = n;
        assert_int_equal(same_name(&h, q, qn), want);
        free(hn);
        free(q);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unfold_every_offset),
        cmocka_unit_test(test_unfold_random),
        cmocka_unit_test(test_field_name_words),
        cmocka_unit_test(test_next_field_matches_reference),
        cmocka_unit_test(test_same_name_matches_fold),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
