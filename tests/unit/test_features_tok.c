/*
 * test_features_tok.c -- the body tokenizer (tok_next in features.c, its
 * 8-byte run of ASCII letters and digits, the early return of a plain
 * word and the ASCII byte path) against a reference that walks the text
 * one code point at a time, written from the tokenizer's contract with
 * features.c's own character classes: the same tokens, lengths, kinds,
 * positions and statistics on edge inputs (tokens at the length cap,
 * UTF-8 split across the 8-byte boundary, joiners before blanks and at
 * the end, digit runs, malformed UTF-8) and on pseudo-random texts.
 * Every text sits at the end of its own allocation, so an ASan build
 * catches a read past it.  Also ifind, the case-insensitive search, against
 * a reference that tries every position, and collapse_digits against one
 * that rewrites every run of digits into a second buffer.
 *
 * features.c is included: tok_next and its helpers are static.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/features.c"

#define TOK_CAP (CAPS_FEATURES_TOKEN_MAX_BYTES + 8)

/* The reference: skip to a word character counting '!' and zero-width
 * characters, then take word characters and joiners (zero-width ones
 * dropped, a CJK character a token of its own), folded, up to the byte
 * cap; strip joiners at the ends (a leading '$' stays); name the kind;
 * collapse digit runs. */
static void
ref_skip(struct tokenizer *t)
{
    while (t->pos < t->len) {
        uint32_t cp;
        size_t k = utf8_decode(t->p + t->pos, t->len - t->pos, &cp);

        if (is_word_char(cp)) {
            return;
        }
        t->st.excl += cp == '!';
        t->st.zero_width += is_zero_width(cp);
        t->pos += k;
    }
}

/* One code point of a token into out: what tok_next counts for it. */
struct ref_tok {
    size_t n;
    size_t letters;
    size_t upper;
    unsigned scripts;
    bool joiner;
    bool at;
    bool colon;
    bool is_long;
    bool digit;
};

static void
ref_take(struct tokenizer *t, struct ref_tok *r, uint32_t cp, char *out)
{
    char enc[4];
    size_t el;

    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
            r->letters++;
            r->upper += cp <= 'Z';
        } else if (cp >= '0' && cp <= '9') {
            r->digit = true;
        } else {
            r->joiner = true;
            r->at |= cp == '@';
            r->colon |= cp == ':';
        }
        cp = fold(cp);
    } else {
        note_script(&t->st, cp, &r->scripts);
        cp = cp == 0x2019 ? '\'' : fold(cp);
        r->joiner |= cp < 0x80;
    }
    el = utf8_encode(cp, enc);
    if (r->n + el <= CAPS_FEATURES_TOKEN_MAX_BYTES) {
        memcpy(out + r->n, enc, el);
        r->n += el;
    } else {
        r->is_long = true;
    }
}

static size_t
ref_trim(char *out, size_t n)
{
    size_t lead = 0;

    while (n > 0 && is_ascii_joiner((uint8_t)out[n - 1])) {
        n--;
    }
    while (lead < n && is_ascii_joiner((uint8_t)out[lead]) &&
           out[lead] != '$') {
        lead++;
    }
    memmove(out, out + lead, n - lead);
    return n - lead;
}

static bool
ref_next(struct tokenizer *t, char *out, size_t *out_len,
         enum tok_kind *kind)
{
    struct ref_tok r;
    size_t raw = 0;
    size_t n;

    memset(&r, 0, sizeof(r));
    ref_skip(t);
    if (t->pos >= t->len) {
        return false;
    }
    t->start = t->pos;
    while (t->pos < t->len) {
        uint32_t cp;
        size_t k = utf8_decode(t->p + t->pos, t->len - t->pos, &cp);

        if (is_cjk(cp)) {
            if (raw == 0) {
                note_script(&t->st, cp, &r.scripts);
                *out_len = utf8_encode(cp, out);
                *kind = TOK_CJK;
                t->has_digit = false;
                t->pos += k;
                t->st.tokens++;
                return true;
            }
            break;
        }
        if (is_zero_width(cp)) {
            t->st.zero_width++;
            t->pos += k;
            continue;
        }
        if (!is_word_char(cp) && !is_joiner(cp)) {
            break;
        }
        ref_take(t, &r, cp, out);
        raw += k;
        t->pos += k;
    }
    t->st.ascii_letters += r.letters;
    t->st.ascii_upper += r.upper;
    r.scripts |= r.letters > 0 ? 1u : 0u;
    n = ref_trim(out, r.n);
    t->st.tokens++;
    t->st.mixed_script_tokens += (r.scripts & 1u) != 0 &&
                                 (r.scripts & 6u) != 0;
    if ((r.colon && ifind(out, n, "://") != NULL) ||
        (n > 4 && iprefix(out, n, "www."))) {
        *kind = TOK_URL;
    } else if (r.at && memchr(out, '@', n) != NULL && n > 3) {
        *kind = TOK_EMAIL;
    } else {
        *kind = r.is_long ? TOK_LONG : TOK_WORD;
    }
    t->has_digit = r.digit;
    *out_len = r.digit ? collapse_digits(out, n) : n;
    return true;
}

static void
print_text(const uint8_t *p, size_t len)
{
    fprintf(stderr, "text (%zu bytes):", len);
    for (size_t i = 0; i < len; i++) {
        fprintf(stderr, " %02x", p[i]);
    }
    fprintf(stderr, "\n");
}

static bool
same_stats(const struct tok_stats *a, const struct tok_stats *b)
{
    return a->ascii_letters == b->ascii_letters &&
           a->ascii_upper == b->ascii_upper && a->excl == b->excl &&
           a->zero_width == b->zero_width && a->latin_ext == b->latin_ext &&
           a->cyrillic == b->cyrillic && a->greek == b->greek &&
           a->cjk == b->cjk && a->arabic_hebrew == b->arabic_hebrew &&
           a->other_script == b->other_script &&
           a->mixed_script_tokens == b->mixed_script_tokens &&
           a->tokens == b->tokens;
}

/* Tokenize text (copied to the end of its own allocation) both ways;
 * every token and the state after it must agree. */
static void
check_text(const uint8_t *text, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    struct tokenizer a;
    struct tokenizer b;
    char ta[TOK_CAP];
    char tb[TOK_CAP];
    size_t la = 0;
    size_t lb = 0;
    enum tok_kind ka = TOK_WORD;
    enum tok_kind kb = TOK_WORD;
    bool ra;
    bool rb;

    assert_non_null(copy);
    memcpy(copy, text, len);
    tok_init(&a, (const char *)copy, len);
    tok_init(&b, (const char *)copy, len);
    do {
        ra = tok_next(&a, ta, &la, &ka);
        rb = ref_next(&b, tb, &lb, &kb);
        if (ra != rb ||
            (ra && (la != lb || memcmp(ta, tb, la) != 0 || ka != kb ||
                    a.start != b.start || a.has_digit != b.has_digit)) ||
            a.pos != b.pos || !same_stats(&a.st, &b.st)) {
            print_text(text, len);
            fprintf(stderr,
                    "tok_next %d '%.*s' kind %d at %zu..%zu; "
                    "reference %d '%.*s' kind %d at %zu..%zu\n",
                    ra, (int)la, ta, ka, a.start, a.pos, rb, (int)lb, tb, kb,
                    b.start, b.pos);
            free(copy);
            fail();
        }
    } while (ra);
    free(copy);
}

static void
check_str(const char *s)
{
    check_text((const uint8_t *)s, strlen(s));
}

static void
test_tok_edges(void **state)
{
    char buf[256];

    (void)state;
    check_str("");
    check_str("a");
    check_str("Hello, World! end.");
    check_str("end.");
    check_str("abcdefgh.");
    check_str("abcdefgh. next");
    check_str("abcdefg.");
    check_str("abcdefghijklmnop-qrstuvwx yz");
    check_str("e-mail o'neil paypal.com $5 50% a/b x:y a&b c++");
    check_str("visit www.example.com or https://example.com/x?y=1");
    check_str("mail bob@example.org, or @@@ x@y");
    check_str("call 555-123-4567 order 00012345 year 2024 mp3 10am");
    check_str("ABCDEFGHIJ1234567890abcdefghij");
    check_str("...leading-joiners... and trailing---");
    check_str("$$$money$$$ 100$");
    check_str("caf\xc3\xa9 CAF\xc3\x89 na\xc3\xafve");
    check_str("iPh\xd0\xbene \xce\x91\xce\xb8\xce\xae\xce\xbd\xce\xb1");
    check_str("P\xe2\x80\x8b" "ayPal Pay\xe2\x80\x8d" "Pal");
    check_str("don\xe2\x80\x99t stop");
    check_str("\xe4\xb8\xad\xe6\x96\x87" "abc\xe4\xb8\xad");
    check_str("abcdefg\xc3\xa9xyz");
    check_str("abcdefgh\xc3\xa9xyz");
    check_str("abcdef\xc3");
    check_str("abcdefgh\xe2\x80");
    check_str("\xff\x80 abc\xc0\xaf def\xed\xa0\x80");
    check_str("nbsp\xc2\xa0word emoji\xf0\x9f\x98\x80word");
    /* Tokens at, one past and far past the cap, of ASCII and UTF-8,
     * with the cap falling inside a run of eight and inside a
     * character. */
    for (size_t n = CAPS_FEATURES_TOKEN_MAX_BYTES - 9;
         n <= CAPS_FEATURES_TOKEN_MAX_BYTES + 9; n++) {
        memset(buf, 'a', n);
        buf[n] = '\0';
        check_str(buf);
        buf[n] = ' ';
        memcpy(buf + n + 1, "next.", 6);
        check_str(buf);
        memcpy(buf + n, "\xc3\xa9" "b.c", 6);
        check_str(buf);
        memcpy(buf + n, "12345", 6);
        check_str(buf);
        buf[n / 2] = '.';
        check_str(buf);
    }
}

/* Pieces the random texts are made of: letters, digits, joiners,
 * blanks, punctuation, multi-byte characters of several scripts,
 * invisible ones, and malformed UTF-8. */
static const char *const pieces[] = {
    "a", "Z", "q", "K", "0", "7", "9", ".", "-", "'", "_", "@", "$", "%",
    "/", ":", "&", "+", " ", "\t", "\n", "!", ",", ";", "?", "(", "\"",
    "\xc3\xa9", "\xc3\x89", "\xd0\xbe", "\xd0\x9e", "\xce\xb1", "\xce\x91",
    "\xe2\x80\x8b", "\xe2\x80\x8d", "\xe2\x80\x99", "\xe4\xb8\xad",
    "\xc2\xa0", "\xc2\xa3", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
    "\xef\xbd\x90", "\xd7\x90", "\xc3", "\xe2\x80", "\x80", "\xff",
    "www.", "://", "abcdefgh", "ABCDEFGH", "12345678", "abc123"};

static uint32_t
rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void
test_tok_random(void **state)
{
    uint32_t seed = 0x9e3779b9u;
    uint8_t text[600];

    (void)state;
    for (unsigned iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        size_t target = rnd(&seed) % 160;
        /* Mostly long words, sometimes any piece: runs cross the cap
         * and the 8-byte boundaries at every offset. */
        unsigned word_bias = rnd(&seed) % 4;

        while (len < target) {
            const char *p;
            size_t pl;

            if (word_bias > 0 && rnd(&seed) % 3 != 0) {
                p = pieces[rnd(&seed) % 7];
            } else {
                p = pieces[rnd(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];
            }
            pl = strlen(p);
            if (len + pl > sizeof(text)) {
                break;
            }
            memcpy(text + len, p, pl);
            len += pl;
        }
        check_text(text, len);
    }
}

/* collapse_digits' reference: each maximal run of digits, copied or,
 * from three digits on, written as '#' and its length (1..9, else
 * 'n'), into a second buffer. */
static size_t
ref_collapse(const char *b, size_t len, char *out)
{
    size_t o = 0;
    size_t i = 0;

    while (i < len) {
        size_t j = i;

        while (j < len && b[j] >= '0' && b[j] <= '9') {
            j++;
        }
        if (j - i >= 3) {
            out[o++] = '#';
            out[o++] = j - i <= 9 ? (char)('0' + (j - i)) : 'n';
        } else if (j == i) {
            out[o++] = b[j++];
        } else {
            memcpy(out + o, b + i, j - i);
            o += j - i;
        }
        i = j;
    }
    return o;
}

/* collapse_digits (a counter finds the first run of three, then the
 * runs are rewritten in place) against the reference on short texts of
 * digits, letters and bytes around '0'..'9' ('/', ':', 0xb0..0xb9). */
static void
test_collapse_digits(void **state)
{
    static const char alphabet[] = "0123456789a/:\xb0\xb9";
    uint32_t seed = 0x51ed270bu;

    (void)state;
    for (unsigned iter = 0; iter < 50000; iter++) {
        size_t len = rnd(&seed) % 48;
        char *b = malloc(len > 0 ? len : 1);
        char want[48];
        size_t wl;
        size_t got;

        assert_non_null(b);
        for (size_t i = 0; i < len; i++) {
            /* Digits most of the time: runs of every length. */
            b[i] = rnd(&seed) % 4 != 0
                       ? (char)('0' + rnd(&seed) % 10)
                       : alphabet[rnd(&seed) % (sizeof(alphabet) - 1u)];
        }
        wl = ref_collapse(b, len, want);
        got = collapse_digits(b, len);
        if (got != wl || memcmp(b, want, wl) != 0) {
            fprintf(stderr, "collapse_digits: '%.*s' want '%.*s'\n",
                    (int)got, b, (int)wl, want);
            free(b);
            fail();
        }
        free(b);
    }
}

/* lower() and lower_copy by table: every byte as the compare would
 * fold it (only 'A'..'Z' change). */
static void
test_lower_table(void **state)
{
    char src[256];
    char dst[257];

    (void)state;
    for (unsigned c = 0; c < 256; c++) {
        unsigned want = c >= 'A' && c <= 'Z' ? c + 32u : c;

        assert_int_equal(lower((uint8_t)c), want);
        src[c] = (char)c;
    }
    assert_int_equal(lower_copy(dst, sizeof(dst), src, sizeof(src)), 256);
    for (unsigned c = 0; c < 256; c++) {
        assert_int_equal((uint8_t)dst[c], lower((uint8_t)c));
    }
    assert_int_equal(dst[256], '\0');
}

/* ifind's reference: every position, each byte folded. */
static const char *
ref_ifind(const char *h, size_t hlen, const char *needle)
{
    size_t nl = strlen(needle);

    if (nl == 0) {
        return NULL;
    }
    for (size_t i = 0; i + nl <= hlen; i++) {
        size_t k = 0;

        while (k < nl &&
               lower((uint8_t)h[i + k]) == lower((uint8_t)needle[k])) {
            k++;
        }
        if (k == nl) {
            return h + i;
        }
    }
    return NULL;
}

/* ifind (memchr on a byte of the needle that is no letter, or a folded
 * first byte) against the reference, on haystacks of the needles' own
 * bytes in both cases, each at the end of its own allocation. */
static void
test_ifind(void **state)
{
    static const char *const needles[] = {
        "xn--", "://", "[spam]", "list-unsubscribe=one-click", "www.",
        "-", "a", "ab", "x-", "--", "Aa"};
    static const char alphabet[] = "xXnN-:/[]sSpPaAmM=.wW1 ";
    uint32_t seed = 0x2545f491u;

    (void)state;
    for (unsigned iter = 0; iter < 50000; iter++) {
        size_t hlen = rnd(&seed) % 40;
        const char *needle = needles[rnd(&seed) % (sizeof(needles) /
                                                   sizeof(needles[0]))];
        char *h = malloc(hlen > 0 ? hlen : 1);
        char *hay;

        assert_non_null(h);
        hay = h;
        for (size_t i = 0; i < hlen; i++) {
            /* Now and then a piece of the needle itself. */
            if (rnd(&seed) % 4 == 0) {
                size_t k = rnd(&seed) % strlen(needle);

                h[i] = rnd(&seed) % 2 ? needle[k]
                                      : (char)(needle[k] ^ 0x20);
            } else {
                h[i] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1u)];
            }
        }
        if (ifind(hay, hlen, needle) != ref_ifind(hay, hlen, needle)) {
            fprintf(stderr, "ifind '%.*s' '%s'\n", (int)hlen, hay, needle);
            free(h);
            fail();
        }
        free(h);
    }
    assert_non_null(ifind("foo.XN--p1ai", 12, "xn--"));
    assert_null(ifind("xn-", 3, "xn--"));
    assert_null(ifind("", 0, "://"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tok_edges),
        cmocka_unit_test(test_tok_random),
        cmocka_unit_test(test_ifind),
        cmocka_unit_test(test_collapse_digits),
        cmocka_unit_test(test_lower_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
