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
 * body_words (its plain words hashed as they are read, its other tokens
 * hashed from the buffer) against a loop of the reference tokenizer that
 * hashes every token with hashing_hash64: the same ids in the same
 * order, the same signature sketch and statistics.
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

/* Tokens body_words' tok_scan hashed as it read them (the edge and
 * random texts must reach that path, not only the buffer's hash). */
static size_t n_hashed;

/* body_words against a loop of ref_next that hashes each token from its
 * text: the same word ids in order, the same sketch and statistics. */
struct id_list {
    uint32_t ids[CAPS_FEATURES_TOKENS_MAX];
    size_t n;
};

static void
collect_id(void *ctx, enum features_ns ns, const char *text, size_t len,
           uint32_t id)
{
    struct id_list *l = ctx;

    (void)text;
    (void)len;
    assert_int_equal(ns, FEATURES_NS_WORD);
    if (l->n < CAPS_FEATURES_TOKENS_MAX) {
        l->ids[l->n++] = id;
    }
}

static void
ref_body_words(const char *text, size_t len, struct id_list *ids,
               struct tok_stats *st, struct minhash *mh)
{
    struct tokenizer t;
    char tok[TOK_CAP];
    size_t tl = 0;
    enum tok_kind kind = TOK_WORD;
    size_t count = 0;
    uint64_t seed = ns_seed(FEATURES_NS_WORD);
    uint64_t number = hashing_hash64("#", 1, MINHASH_SEED);
    uint64_t link = hashing_hash64("<u>", 3, MINHASH_SEED);
    size_t prev_end = 0;
    bool in_link = false;

    tok_init(&t, text, len);
    while (count < CAPS_FEATURES_TOKENS_MAX && ref_next(&t, tok, &tl, &kind)) {
        const char *p = tok;
        size_t pl = tl;
        uint64_t h;
        bool is_glued = false;

        if (in_link) {
            is_glued = true;
            for (size_t i = prev_end; i < t.start; i++) {
                if ((uint8_t)text[i] >= 0x80 || is_space((uint8_t)text[i])) {
                    is_glued = false;
                }
            }
        }
        prev_end = t.pos;
        in_link = is_glued || kind == TOK_URL || kind == TOK_EMAIL;
        if (kind == TOK_EMAIL) {
            p = "<email>";
        } else if (kind == TOK_URL) {
            p = "<url>";
        } else if (kind == TOK_LONG) {
            p = "<long>";
        }
        pl = p == tok ? tl : strlen(p);
        if ((pl < 2 && kind == TOK_WORD) ||
            (tl == 11 && memcmp(tok, "rodrigo-f-p", 11) == 0) ||
            (tl == 12 && memcmp(tok, "phishing@pot", 12) == 0)) {
            continue;
        }
        count++;
        h = hashing_hash64(p, pl, seed);
        ids->ids[ids->n++] = id_of(FEATURES_NS_WORD, h);
        if (!is_glued && mh->n_words < CAPS_FINGERPRINT_WORDS_MAX) {
            minhash_add_word(mh, kind == TOK_URL || kind == TOK_EMAIL
                                     ? link
                                     : t.has_digit ? number : h);
        }
    }
    *st = t.st;
}

static void
check_body_words(const uint8_t *text, size_t len)
{
    static struct id_list got;
    static struct id_list want;
    struct features_scratch *s = features_scratch_new();
    struct tok_stats st_got;
    struct tok_stats st_want;
    struct minhash mh_got;
    struct minhash mh_want;

    assert_non_null(s);
    got.n = 0;
    want.n = 0;
    s->trace = collect_id;
    s->trace_ctx = &got;
    minhash_init(&mh_got);
    minhash_init(&mh_want);
    body_words(s, (const char *)text, len, &st_got, &mh_got);
    ref_body_words((const char *)text, len, &want, &st_want, &mh_want);
    if (got.n != want.n ||
        memcmp(got.ids, want.ids, got.n * sizeof(got.ids[0])) != 0 ||
        !same_stats(&st_got, &st_want) || mh_got.n_words != mh_want.n_words ||
        mh_got.filled != mh_want.filled ||
        memcmp(mh_got.min, mh_want.min, sizeof(mh_got.min)) != 0 ||
        memcmp(mh_got.last, mh_want.last, sizeof(mh_got.last)) != 0) {
        print_text(text, len);
        fprintf(stderr, "body_words: %zu ids, reference %zu\n", got.n,
                want.n);
        features_scratch_free(s);
        fail();
    }
    features_scratch_free(s);
}

/* Tokenize text (copied to the end of its own allocation) both ways;
 * every token and the state after it must agree.  body_words' own
 * tok_scan (hashing as it reads) must agree too, and its hash must be
 * hashing_hash64's; then body_words as a whole is checked. */
static void
check_text(const uint8_t *text, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    struct tokenizer a;
    struct tokenizer b;
    struct tokenizer c;
    char ta[TOK_CAP];
    char tb[TOK_CAP];
    char tc[TOK_CAP];
    size_t la = 0;
    size_t lb = 0;
    size_t lc = 0;
    enum tok_kind ka = TOK_WORD;
    enum tok_kind kb = TOK_WORD;
    enum tok_kind kc = TOK_WORD;
    bool ra;
    bool rb;
    bool rc;
    uint64_t seed = 0x5eedu + len;

    assert_non_null(copy);
    memcpy(copy, text, len);
    tok_init(&a, (const char *)copy, len);
    tok_init(&b, (const char *)copy, len);
    tok_init(&c, (const char *)copy, len);
    do {
        uint64_t h = 0;
        bool hashed = true;

        ra = tok_next(&a, ta, &la, &ka);
        rb = ref_next(&b, tb, &lb, &kb);
        rc = tok_scan(&c, tc, &lc, &kc, seed, &h, &hashed);
        if (rc != ra || (rc && (lc != la || memcmp(tc, ta, lc) != 0 ||
                                kc != ka || c.start != a.start ||
                                c.has_digit != a.has_digit)) ||
            c.pos != a.pos || !same_stats(&c.st, &a.st) ||
            (hashed && (!rc || kc != TOK_WORD || c.has_digit ||
                        hashing_finish(h, lc) !=
                            hashing_hash64(tc, lc, seed)))) {
            print_text(text, len);
            fprintf(stderr, "tok_scan with hash %d '%.*s' hashed %d\n", rc,
                    (int)lc, tc, hashed);
            free(copy);
            fail();
        }
        n_hashed += hashed;
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
    check_body_words(copy, len);
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
    /* The plain words' path ran, not only the buffer's hash. */
}

/* Plain words of every length around the 8-byte runs, with capitals and
 * digits, between blanks, punctuation, joiners and the odd UTF-8
 * character: the texts body_words mostly sees, where its plain-word
 * path (hashing as it reads) runs, against the reference. */
static void
test_body_plain_random(void **state)
{
    static const char *const words[] = {
        "a", "Z", "q", "ab", "Hi", "the", "and", "mail", "HELLO", "World",
        "abcdefg", "abcdefgh", "abcdefghi", "ABCDEFGHIJKLMNOP", "x7", "mp3",
        "12", "2024", "10am", "abcdefgh12345", "PayPal", "aaaaaaaaaaaaaaa"};
    static const char *const gaps[] = {
        " ", " ", " ", "  ", "\n", ". ", ", ", "!", "-", "'", ".", "/",
        "@", ":", "\xc3\xa9", "\xe2\x80\x8b", "\xc2\xa0", "("};
    uint32_t seed = 0x2545f491u;
    uint8_t text[600];
    size_t before = n_hashed;

    (void)state;
    for (unsigned iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        size_t target = rnd(&seed) % 200;

        while (len < target) {
            const char *w = words[rnd(&seed) % (sizeof(words) /
                                                 sizeof(words[0]))];
            const char *g = gaps[rnd(&seed) % (sizeof(gaps) /
                                                sizeof(gaps[0]))];
            size_t wl = strlen(w);
            size_t gl = strlen(g);

            if (len + wl + gl > sizeof(text)) {
                break;
            }
            memcpy(text + len, w, wl);
            len += wl;
            if (rnd(&seed) % 8 != 0) { /* sometimes words touch */
                memcpy(text + len, g, gl);
                len += gl;
            }
        }
        check_text(text, len);
    }
    /* Most words took the plain path, not only the buffer's hash. */
    assert_true(n_hashed - before > 40000);
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

/* file_ext's reference: trailing blanks and dots dropped, then the
 * last dot anywhere, and an extension of at most 8 bytes after it. */
static size_t
ref_file_ext(const char *name, size_t len, const char **ext)
{
    const char *dot = NULL;

    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '.')) {
        len--;
    }
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '.') {
            dot = name + i;
        }
    }
    if (dot == NULL || (size_t)(name + len - dot - 1) > 8) {
        return 0;
    }
    *ext = dot + 1;
    return (size_t)(name + len - dot - 1);
}

/* file_ext (the last 9 bytes looked at) against the reference (the
 * whole name walked) on random names of letters, dots, blanks and
 * slashes, each at the end of its own allocation. */
static void
test_file_ext(void **state)
{
    static const char alphabet[] = "ab.. /x.";
    uint32_t seed = 0x1234567u;

    (void)state;
    for (unsigned iter = 0; iter < 50000; iter++) {
        size_t len = rnd(&seed) % 24;
        char *name = malloc(len > 0 ? len : 1);
        const char *e1 = NULL;
        const char *e2 = NULL;
        size_t l1;
        size_t l2;

        assert_non_null(name);
        for (size_t i = 0; i < len; i++) {
            name[i] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
        }
        l1 = file_ext(name, len, &e1);
        l2 = ref_file_ext(name, len, &e2);
        assert_int_equal(l1, l2);
        if (l1 > 0) {
            assert_ptr_equal(e1, e2);
        }
        free(name);
    }
    assert_int_equal(file_ext("invoice.pdf", 11, &(const char *){NULL}), 3);
    assert_int_equal(file_ext("a.12345678", 10, &(const char *){NULL}), 8);
    assert_int_equal(file_ext("a.123456789", 11, &(const char *){NULL}), 0);
    assert_int_equal(file_ext("x.exe . ", 8, &(const char *){NULL}), 3);
}

/* count_in_and_has as a host uses it (eight bytes a step) against a count byte by byte, on
 * random hosts of dots, dashes, their neighbours ',' '/' and the same
 * bytes with bit 7 set, each at the end of its own allocation. */
static void
test_host_dots(void **state)
{
    static const char alphabet[] = "a.-x./,\xae\xad\x00\x7f\x80n";
    uint32_t seed = 0x7654321u;

    (void)state;
    for (unsigned iter = 0; iter < 50000; iter++) {
        size_t len = rnd(&seed) % 40;
        char *host = malloc(len > 0 ? len : 1);
        size_t dots = 0;
        bool dash = false;
        bool got_dash = true;

        assert_non_null(host);
        for (size_t i = 0; i < len; i++) {
            host[i] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
            dots += host[i] == '.';
            dash = dash || host[i] == '-';
        }
        assert_int_equal(count_in_and_has(host, len, '.', '.', '-', &got_dash),
                         dots);
        assert_int_equal(got_dash, dash);
        /* The search it spares finds nothing without a dash. */
        if (!dash) {
            assert_null(ifind(host, len, "xn--"));
        }
        free(host);
    }
}

/* count_in_and_has as the subject uses it (eight bytes a step) against a count byte by byte, on
 * random subjects of digits, '$', their neighbours '/' ':' '#' '%' and
 * the same bytes with bit 7 set, each at the end of its own allocation:
 * the digits counted exactly, '$' seen or not. */
static void
test_digits_dollars(void **state)
{
    static const char alphabet[] = "0951/:#$%a\xb0\xb9\xa4\xa5\x00 ";
    uint32_t seed = 0x2468aceu;

    (void)state;
    for (unsigned iter = 0; iter < 50000; iter++) {
        size_t len = rnd(&seed) % 40;
        char *subj = malloc(len > 0 ? len : 1);
        size_t digits = 0;
        size_t dollars = 0;
        bool got = false;

        assert_non_null(subj);
        for (size_t i = 0; i < len; i++) {
            subj[i] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
            digits += subj[i] >= '0' && subj[i] <= '9';
            dollars += subj[i] == '$';
        }
        assert_int_equal(count_in_and_has(subj, len, '0', '9', '$', &got),
                         digits);
        assert_int_equal(got, dollars > 0);
        free(subj);
    }
}

/* has_scheme_sep against ifind(p, n, "://") on random texts of ':', '/'
 * and others, each at the end of its own allocation. */
static void
test_has_scheme_sep(void **state)
{
    static const char alphabet[] = "://a:/.";
    uint32_t seed = 0x1357bdfu;

    (void)state;
    for (unsigned iter = 0; iter < 50000; iter++) {
        size_t len = rnd(&seed) % 16;
        char *p = malloc(len > 0 ? len : 1);

        assert_non_null(p);
        for (size_t i = 0; i < len; i++) {
            p[i] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
        }
        assert_int_equal(has_scheme_sep(p, len), ifind(p, len, "://") != NULL);
        free(p);
    }
    assert_true(has_scheme_sep("http://x", 8));
    assert_true(has_scheme_sep("a://", 4));
    assert_false(has_scheme_sep("a:/", 3));
    assert_false(has_scheme_sep(":/:/", 4));
}

/* The text emit_bucket_n hashes: the prefix and the bucket in decimal,
 * one digit or several, as snprintf writes it. */
struct last_emit {
    char text[64];
    size_t len;
    uint32_t id;
};

static void
keep_emit(void *ctx, enum features_ns ns, const char *text, size_t len,
          uint32_t id)
{
    struct last_emit *e = ctx;

    (void)ns;
    assert_true(len < sizeof(e->text));
    memcpy(e->text, text, len);
    e->len = len;
    e->id = id;
}

static void
test_emit_bucket(void **state)
{
    struct features_scratch *s = features_scratch_new();
    struct last_emit e;

    (void)state;
    assert_non_null(s);
    s->trace = keep_emit;
    s->trace_ctx = &e;
    for (unsigned b = 0; b < 1200; b = b < 20 ? b + 1 : b * 3 + 7) {
        char want[64];
        int wl = snprintf(want, sizeof(want), "parts:%u", b);

        emit_bucket(s, FEATURES_NS_MIME, "parts:", b);
        assert_int_equal(e.len, (size_t)wl);
        assert_memory_equal(e.text, want, e.len);
        assert_int_equal(e.id,
                         id_of(FEATURES_NS_MIME,
                               hashing_hash64(want, (size_t)wl,
                                              ns_seed(FEATURES_NS_MIME))));
    }
    features_scratch_free(s);
}

/* addr_domain's reference: the last '@' found by a walk from the start. */
static size_t
ref_addr_domain(const char *a, size_t len, char *dst, size_t cap)
{
    const char *at = NULL;
    size_t dl;

    for (size_t i = 0; i < len; i++) {
        if (a[i] == '@') {
            at = a + i;
        }
    }
    if (at == NULL) {
        return 0;
    }
    dl = len - (size_t)(at - a) - 1;
    while (dl > 0 && (at[dl] == '.' || at[dl] == '>' || at[dl] == ' ')) {
        dl--;
    }
    if (dl == 0 || dl >= cap) {
        return 0;
    }
    dl = lower_copy(dst, cap, at + 1, dl);
    for (size_t i = 0; i < dl; i++) {
        uint8_t c = (uint8_t)dst[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c >= 0x80)) {
            return 0;
        }
    }
    return url_host_to_ascii(dst, dl, cap);
}

/* addr_domain (the last '@' looked for from the end) against the
 * reference on random addresses of letters, '@', dots, '>' and blanks:
 * the same length and the same bytes written. */
static void
test_addr_domain(void **state)
{
    static const char alphabet[] = "aZ@@..> -x1";
    uint32_t seed = 0x7654321u;

    (void)state;
    for (unsigned iter = 0; iter < 50000; iter++) {
        size_t len = rnd(&seed) % 30;
        char *a = malloc(len > 0 ? len : 1);
        char d1[24];
        char d2[24];
        size_t l1;
        size_t l2;

        assert_non_null(a);
        for (size_t i = 0; i < len; i++) {
            a[i] = alphabet[rnd(&seed) % (sizeof(alphabet) - 1)];
        }
        memset(d1, 0x55, sizeof(d1));
        memset(d2, 0x55, sizeof(d2));
        l1 = addr_domain(a, len, d1, sizeof(d1));
        l2 = ref_addr_domain(a, len, d2, sizeof(d2));
        assert_int_equal(l1, l2);
        assert_memory_equal(d1, d2, sizeof(d1));
        free(a);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tok_edges),
        cmocka_unit_test(test_tok_random),
        cmocka_unit_test(test_body_plain_random),
        cmocka_unit_test(test_ifind),
        cmocka_unit_test(test_collapse_digits),
        cmocka_unit_test(test_lower_table),
        cmocka_unit_test(test_file_ext),
        cmocka_unit_test(test_emit_bucket),
        cmocka_unit_test(test_addr_domain),
        cmocka_unit_test(test_host_dots),
        cmocka_unit_test(test_digits_dollars),
        cmocka_unit_test(test_has_scheme_sep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
