/*
 * test_fingerprint.c -- body signatures, digests, URL normalisation, the
 * FINGERPRINTS section format and parser, and the indexed lookups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "caps.h"
#include "fingerprint.h"
#include "mime.h"

/* A campaign text of ~60 words with a recipient name, an amount and a
 * link that vary per copy. */
static void
campaign(char *out, size_t max, const char *name, unsigned amount,
         const char *link)
{
    snprintf(out, max,
             "Dear %s,\n\nWe are pleased to inform you that your account "
             "has been selected for a special reward of $%u. To claim "
             "the reward please follow the secure link below and confirm "
             "your details within the next two days, otherwise the offer "
             "will expire and the funds will be returned to the pool of "
             "unclaimed prizes.\n\n%s\n\nThank you for being a valued "
             "member of our community. Kind regards, the rewards team.",
             name, amount, link);
}

static void
test_fingerprint_sig_near_duplicates_match(void **state)
{
    char a[2048];
    char b[2048];
    struct fingerprint_sig sa;
    struct fingerprint_sig sb;

    (void)state;
    campaign(a, sizeof(a), "John", 500, "http://x.example/r?id=1");
    campaign(b, sizeof(b), "Mary", 750,
             "https://other.example/claim?u=mary@example.org");
    assert_true(fingerprint_sig_compute(a, strlen(a), &sa));
    assert_true(fingerprint_sig_compute(b, strlen(b), &sb));
    assert_true(fingerprint_agree(&sa, &sb) >= FINGERPRINT_MATCH_MIN);
}

static void
test_fingerprint_sig_unrelated_differ(void **state)
{
    char a[2048];
    const char *b =
        "The quarterly meeting of the board will take place in the main "
        "conference room on the third floor. Please bring the printed "
        "agenda, the budget review and your notes from the last session "
        "so that we can finish the discussion about the new office lease "
        "before lunch. Coffee and sandwiches will be provided for all "
        "attendees, and parking is free in the visitor area.";
    struct fingerprint_sig sa;
    struct fingerprint_sig sb;

    (void)state;
    campaign(a, sizeof(a), "John", 500, "http://x.example/");
    assert_true(fingerprint_sig_compute(a, strlen(a), &sa));
    assert_true(fingerprint_sig_compute(b, strlen(b), &sb));
    assert_true(fingerprint_agree(&sa, &sb) < 4);
}

static void
test_fingerprint_sig_normalisation(void **state)
{
    /* Case, digits, spacing, NBSP and zero-width characters do not
     * change the signature; a different word does at some positions. */
    const char *base =
        "one two three four five six seven eight nine ten eleven twelve "
        "thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
        "twenty alpha beta gamma delta epsilon zeta eta theta iota kappa "
        "order 12345 now";
    const char *same =
        "ONE two\t\tthree four\xc2\xa0" "five six sev\xe2\x80\x8b" "en "
        "eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty alpha beta gamma delta "
        "epsilon zeta eta theta iota kappa order 99 now";
    struct fingerprint_sig s1;
    struct fingerprint_sig s2;
    struct fingerprint_sig s3;

    (void)state;
    assert_true(fingerprint_sig_compute(base, strlen(base), &s1));
    assert_true(fingerprint_sig_compute(same, strlen(same), &s2));
    assert_int_equal(fingerprint_agree(&s1, &s2), FINGERPRINT_K);
    assert_true(fingerprint_sig_compute(base, strlen(base), &s3));
    assert_memory_equal(&s1, &s3, sizeof(s1));
}

static void
test_fingerprint_sig_too_short(void **state)
{
    char t[512];
    size_t n = 0;
    struct fingerprint_sig s;

    (void)state;
    memset(&s, 0x5a, sizeof(s));
    /* FINGERPRINT_MIN_WORDS - 1 words: no signature, *sig untouched. */
    for (unsigned i = 0; i + 1 < FINGERPRINT_MIN_WORDS; i++) {
        n += (size_t)snprintf(t + n, sizeof(t) - n, "w%c ", 'a' + i % 26);
    }
    assert_false(fingerprint_sig_compute(t, n, &s));
    assert_int_equal(s.h[0], 0x5a5a5a5au);
    assert_false(fingerprint_sig_compute("", 0, &s));
    /* At the threshold it gets one. */
    n += (size_t)snprintf(t + n, sizeof(t) - n, "last");
    assert_true(fingerprint_sig_compute(t, n, &s));
}

/*
 * A text of many words but few distinct shingles gets no signature: it
 * would share it with every other such text.  Every number is "#" and
 * every link "<u>" to the signature, so any two bodies that are only a
 * list of numbers (order numbers, a table) or only links had one and the
 * same signature (16 of 16 bins agreeing), as had any two copies of one
 * repeated phrase; an entry made from one (a reported message's own, or
 * a group of three) matched them all.
 */
/* Word i of text k (0 or 1) of form f: numbers, links, one phrase. */
static int
few_word(char *out, size_t max, size_t f, unsigned k, unsigned i)
{
    unsigned v = 1000 + 7 * i + k;

    switch (f) {
    case 0:
        return k == 0 ? snprintf(out, max, "%u ", v)
                      : snprintf(out, max, "order-%u ", v);
    case 1:
        return k == 0 ? snprintf(out, max, "http://shop%u.example/ ", v)
                      : snprintf(out, max, "see www.news%u.example/a ", v);
    default:
        return snprintf(out, max, "buy now ");
    }
}

static void
test_fingerprint_sig_few_shingles(void **state)
{
    (void)state;
    for (size_t f = 0; f < 3; f++) {
        char t[2][2048];
        struct fingerprint_sig s[2];
        bool has[2];

        for (unsigned k = 0; k < 2; k++) {
            size_t n = 0;

            for (unsigned i = 0; i < 2 * FINGERPRINT_MIN_WORDS; i++) {
                n += (size_t)few_word(t[k] + n, sizeof(t[k]) - n, f, k, i);
            }
            has[k] = fingerprint_sig_compute(t[k], n, &s[k]);
        }
        if (has[0] || has[1]) {
            fail_msg("form %zu: a signature (%d, %d); the two agree at "
                     "%u of %u",
                     f, has[0], has[1],
                     has[0] && has[1] ? fingerprint_agree(&s[0], &s[1])
                                      : 0,
                     FINGERPRINT_K);
        }
    }
}

/*
 * The signature of a text that takes every path of the word scan (upper
 * case, digits, a token over the feature token limit, a link, an
 * address, "www.", NBSP and U+2003 separators, a zero-width space and a
 * BOM inside words, UTF-8 letters, punctuation), pinned: signatures are
 * baked into cartridges, so a faster scan must give the same values.
 * The values were computed when the words became the feature tokenizer's
 * (FINGERPRINT_FORMAT 2; bins 13 and 14 share a value: one of them was
 * empty and densified from the other).
 */
static void
test_fingerprint_sig_pinned(void **state)
{
    static const char text[] =
        "Dear CUSTOMER, your Account #12345 has been SUSPENDED!!! "
        "Please verify\xc2\xa0your de\xe2\x80\x8btails at "
        "http://example.com/x?id=9 "
        "or www.Example.org or write to help@example.com "
        "today\xe2\x80\x83now. "
        "Supercalifragilisticexpialidociousandevenlongerthanthatwordhere "
        "caf\xc3\xa9 na\xc3\xafve \xef\xbb\xbfstart x:y a--b c//d "
        "one two three four five six seven eight nine ten eleven twelve "
        "thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
        "twenty";
    static const uint32_t want[FINGERPRINT_K] = {
        0x29ae53edu, 0x49683b0du, 0x5b362291u, 0x1a9a96a6u,
        0x0d2f1d73u, 0x2178dc1eu, 0x2f004586u, 0x22730980u,
        0x6846a223u, 0x1c8703dbu, 0x229b46e6u, 0x30c06fd9u,
        0xa52e523du, 0x3a9f4da6u, 0x3a9f4da6u, 0x880d7ef0u};
    struct fingerprint_sig s;

    (void)state;
    assert_true(fingerprint_sig_compute(text, sizeof(text) - 1, &s));
    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        assert_int_equal(s.h[k], want[k]);
    }
}

static void
test_fingerprint_sig_word_cap(void **state)
{
    /* Words past CAPS_FINGERPRINT_WORDS_MAX are not read: two texts that
     * differ only there have the same signature. */
    size_t words = CAPS_FINGERPRINT_WORDS_MAX + 50;
    size_t max = words * 12 + 64;
    char *a = malloc(max);
    char *b = malloc(max);
    size_t n = 0;
    struct fingerprint_sig sa;
    struct fingerprint_sig sb;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < words; i++) {
        n += (size_t)snprintf(a + n, max - n, "w%c%c%c ",
                              'a' + (int)(i % 26), 'a' + (int)(i / 26 % 26),
                              'a' + (int)(i / 676 % 26));
    }
    memcpy(b, a, n + 1);
    memcpy(b + n - 20, "zzzz zzzz zzzz zzzz ", 20);
    assert_true(fingerprint_sig_compute(a, n, &sa));
    assert_true(fingerprint_sig_compute(b, n, &sb));
    assert_memory_equal(&sa, &sb, sizeof(sa));
    free(a);
    free(b);
}

static void
test_fingerprint_digest_sha256(void **state)
{
    static const uint8_t abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    uint8_t d[FINGERPRINT_DIGEST_LEN];

    (void)state;
    assert_true(fingerprint_digest((const uint8_t *)"abc", 3, d));
    assert_memory_equal(d, abc, sizeof(abc));
    assert_true(fingerprint_digest(NULL, 0, d));
}

static void
test_fingerprint_url_normalise(void **state)
{
    char out[256];
    const char *u;
    uint8_t d1[FINGERPRINT_DIGEST_LEN];
    uint8_t d2[FINGERPRINT_DIGEST_LEN];

    static const struct {
        const char *url;
        const char *want;
    } cases[] = {
        {"HTTPS://User@WWW.Example.COM:8443/Path/To?a=1&utm_source=x&b=2#frag",
         "www.example.com/Path/To?a=1&b=2"},
        {"http://example.com?utm_medium=e&fbclid=zz", "example.com/"},
        {"www.example.com/p?q", "www.example.com/p?q"},
        {"//cdn.example.net/x.js", "cdn.example.net/x.js"},
        /* The path ends at the first of '?' and '#'; a ':' in it is
         * data. */
        {"http://example.com/a:b#frag?x=1", "example.com/a:b"},
        {"http://example.com/a?x=1#f&y=2", "example.com/a?x=1"},
        {"http://example.com#top", "example.com/"},
        {"http://example.com/p?a=1&&b=2&", "example.com/p?a=1&b=2"},
        /* Browsers skip every '/' and '\\' after "https:" and read a
         * '\\' as '/': the host is not repeated as the path, and the
         * path is the one the browser asks for. */
        {"https:///evil.example/p?a=1", "evil.example/p?a=1"},
        {"https:\\\\evil.example/p?a=1", "evil.example/p?a=1"},
        {"https:/\\evil.example/p", "evil.example/p"},
        {"https://evil.example\\p\\q?a=1", "evil.example/p/q?a=1"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        u = cases[i].url;
        assert_int_equal(fingerprint_url_normalise(u, strlen(u), out,
                                                   sizeof(out)),
                         strlen(cases[i].want));
        assert_string_equal(out, cases[i].want);
    }
    /* No host: nothing to digest. */
    u = "mailto:a@example.com";
    assert_int_equal(fingerprint_url_normalise(u, strlen(u), out,
                                               sizeof(out)), 0);
    u = "/relative/path";
    assert_int_equal(fingerprint_url_normalise(u, strlen(u), out,
                                               sizeof(out)), 0);
    assert_false(fingerprint_url_digest(u, strlen(u), d1));
    /* Cut at the buffer, still NUL-terminated. */
    u = "http://example.com/a-long-path";
    assert_int_equal(fingerprint_url_normalise(u, strlen(u), out, 8), 7);
    assert_string_equal(out, "example");
    /* http and https, tracking and fragments: one digest. */
    u = "http://example.com/x?id=7";
    assert_true(fingerprint_url_digest(u, strlen(u), d1));
    u = "https://EXAMPLE.com/x?id=7&utm_campaign=z#top";
    assert_true(fingerprint_url_digest(u, strlen(u), d2));
    assert_memory_equal(d1, d2, sizeof(d1));
}

/* What a browser requests for a URL, and what the server reads, does not
 * change with the spelling of an unreserved character (%69 is 'i', RFC
 * 3986 2.3), the case of an escape's hex digits (6.2.2.1) or a "." or
 * ".." segment (a browser removes them before it asks, WHATWG URL path
 * state, %2e included): each spelling of a listed URL has its digest. */
static void
test_fingerprint_url_normalise_escapes_and_dots(void **state)
{
    char out[256];
    static const struct {
        const char *url;
        const char *want;
    } cases[] = {
        {"http://bad.example/log%69n", "bad.example/login"},
        {"http://bad.example/%6C%6F%67%69%6E?id=%37",
         "bad.example/login?id=7"},
        {"http://bad.example/a%7eb%2d%2E%5F", "bad.example/a~b-._"},
        /* Reserved and other bytes stay escaped, hex in upper case. */
        {"http://bad.example/a%2fb?u=http%3a%2f%2fx",
         "bad.example/a%2Fb?u=http%3A%2F%2Fx"},
        {"http://bad.example/%e2%82%ac%zz%4", "bad.example/%E2%82%AC%zz%4"},
        {"http://bad.example/x/../login", "bad.example/login"},
        {"http://bad.example/./x/./login", "bad.example/x/login"},
        {"http://bad.example/a/b/../../login", "bad.example/login"},
        {"http://bad.example/../../login", "bad.example/login"},
        {"http://bad.example/x/%2e%2E/login", "bad.example/login"},
        {"http://bad.example\\x\\..\\login", "bad.example/login"},
        {"http://bad.example/x/..", "bad.example/"},
        {"http://bad.example/x/.", "bad.example/x/"},
        {"http://bad.example/.", "bad.example/"},
        /* Not dot segments. */
        {"http://bad.example/.x/..y/...", "bad.example/.x/..y/..."},
        {"http://bad.example/a//b", "bad.example/a//b"},
        /* An escaped tracking parameter is still one. */
        {"http://bad.example/p?utm%5Fsource=x&a=1", "bad.example/p?a=1"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *u = cases[i].url;
        size_t n = fingerprint_url_normalise(u, strlen(u), out, sizeof(out));

        if (n != strlen(cases[i].want) || strcmp(out, cases[i].want) != 0) {
            fail_msg("%s: \"%s\", want \"%s\"", u, out, cases[i].want);
        }
    }
}

/* Three entries, one of each kind, in reverse order plus a repeat. */
static size_t
sample_entries(struct fingerprint_entry *e)
{
    char t[2048];

    memset(e, 0, 4 * sizeof(*e));
    e[0].kind = FINGERPRINT_URL;
    e[0].category = FINGERPRINT_CAT_PHISHING;
    e[0].weight = 98;
    snprintf(e[0].sub, sizeof(e[0].sub), "known-url");
    assert_true(fingerprint_url_digest("http://bad.example/login", 24,
                                       e[0].digest));
    e[1].kind = FINGERPRINT_ATTACHMENT;
    e[1].category = FINGERPRINT_CAT_MALWARE;
    e[1].weight = 99;
    snprintf(e[1].sub, sizeof(e[1].sub), "known-attachment");
    assert_true(fingerprint_digest((const uint8_t *)"MZ payload", 10,
                                   e[1].digest));
    e[2].kind = FINGERPRINT_BODY;
    e[2].category = FINGERPRINT_CAT_SPAM;
    e[2].weight = 97;
    snprintf(e[2].sub, sizeof(e[2].sub), "campaign");
    campaign(t, sizeof(t), "John", 500, "http://x.example/");
    assert_true(fingerprint_sig_compute(t, strlen(t), &e[2].sig));
    e[3] = e[1]; /* repeat: dropped by format */
    e[3].weight = 50;
    return 4;
}

static struct fingerprint_db *
parse_ok(const struct buf *b)
{
    struct fingerprint_db *db = NULL;
    const char *why = NULL;

    assert_int_equal(fingerprint_db_parse(b->data, b->len, &db, &why), CM_OK);
    assert_non_null(db);
    return db;
}

static void
test_fingerprint_db_round_trip(void **state)
{
    struct fingerprint_entry e[4];
    size_t n = sample_entries(e);
    struct buf b;
    struct fingerprint_db *db;
    const struct fingerprint_entry *hit;
    char t[2048];
    struct fingerprint_sig sig;
    uint8_t d[FINGERPRINT_DIGEST_LEN];

    (void)state;
    buf_init(&b, 1u << 20);
    assert_int_equal(fingerprint_db_format(e, n, FINGERPRINT_MATCH_MIN, &b),
                     CM_OK);
    db = parse_ok(&b);
    assert_int_equal(fingerprint_db_size(db), 3);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_BODY), 1);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_ATTACHMENT), 1);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_URL), 1);
    assert_int_equal(fingerprint_db_match_min(db), FINGERPRINT_MATCH_MIN);
    assert_int_equal(fingerprint_db_at(db, 0)->kind, FINGERPRINT_BODY);
    assert_null(fingerprint_db_at(db, 3));
    /* A near-duplicate of the campaign hits the body entry. */
    campaign(t, sizeof(t), "Zed", 9, "http://y.example/?id=42");
    assert_true(fingerprint_sig_compute(t, strlen(t), &sig));
    hit = fingerprint_db_match_body(db, &sig);
    assert_non_null(hit);
    assert_int_equal(hit->category, FINGERPRINT_CAT_SPAM);
    assert_int_equal(hit->weight, 97);
    assert_string_equal(hit->sub, "campaign");
    /* The first of two repeated payloads was kept. */
    hit = fingerprint_db_match_digest(db, FINGERPRINT_ATTACHMENT,
                                      e[1].digest);
    assert_non_null(hit);
    assert_int_equal(hit->weight, 99);
    hit = fingerprint_db_match_digest(db, FINGERPRINT_URL, e[0].digest);
    assert_non_null(hit);
    assert_string_equal(hit->sub, "known-url");
    /* The URL digest is not an attachment digest, and others miss. */
    assert_null(fingerprint_db_match_digest(db, FINGERPRINT_ATTACHMENT,
                                            e[0].digest));
    assert_true(fingerprint_digest((const uint8_t *)"other", 5, d));
    assert_null(fingerprint_db_match_digest(db, FINGERPRINT_ATTACHMENT, d));
    assert_null(fingerprint_db_match_digest(db, FINGERPRINT_BODY, d));
    fingerprint_db_free(db);
    buf_clear(&b);
    fingerprint_db_free(NULL);
}

/* Digest lookups by content check the entry filters before digesting:
 * the filters survive format and parse, matching bytes and URLs are
 * found, a wrong filter hides an entry (so the filter is consulted), and
 * an entry without one is still found. */
static void
test_fingerprint_db_filters(void **state)
{
    static const char url[] = "https://Bad.example:443/login?utm_source=x";
    static const uint8_t att[] = "MZ payload";
    struct fingerprint_entry e[4];
    struct buf b;
    struct fingerprint_db *db;
    const struct fingerprint_entry *hit;

    (void)state;
    sample_entries(e);
    e[0].filter = fingerprint_url_filter("http://bad.example/login", 24);
    e[1].filter = fingerprint_attachment_filter(sizeof(att) - 1);
    assert_true(e[0].filter != 0);
    assert_int_equal(e[0].filter, fingerprint_url_filter(url, strlen(url)));
    assert_int_equal(fingerprint_url_filter("mailto:a@b.example", 18), 0);
    buf_init(&b, 1u << 20);
    assert_int_equal(fingerprint_db_format(e, 3, FINGERPRINT_MATCH_MIN, &b),
                     CM_OK);
    db = parse_ok(&b);
    hit = fingerprint_db_match_url(db, url, strlen(url));
    assert_non_null(hit);
    assert_int_equal(hit->filter, e[0].filter);
    hit = fingerprint_db_match_attachment(db, att, sizeof(att) - 1);
    assert_non_null(hit);
    assert_int_equal(hit->filter, sizeof(att) - 1);
    assert_null(fingerprint_db_match_attachment(db, (const uint8_t *)"MZ", 2));
    /* Same length (the filter fits), other bytes: the digest decides. */
    assert_null(fingerprint_db_match_attachment(
        db, (const uint8_t *)"MZ paylode", sizeof(att) - 1));
    assert_null(fingerprint_db_match_url(db, "http://good.example/login",
                                         25));
    fingerprint_db_free(db);
    /* Same digests, wrong filters: not found (no digest computed). */
    e[0].filter ^= 1;
    e[1].filter = 3;
    db = fingerprint_db_new(e, 3, FINGERPRINT_MATCH_MIN);
    assert_non_null(db);
    assert_null(fingerprint_db_match_url(db, url, strlen(url)));
    assert_null(fingerprint_db_match_attachment(db, att, sizeof(att) - 1));
    fingerprint_db_free(db);
    /* No filters: every lookup digests. */
    e[0].filter = 0;
    e[1].filter = 0;
    db = fingerprint_db_new(e, 3, FINGERPRINT_MATCH_MIN);
    assert_non_null(fingerprint_db_match_url(db, url, strlen(url)));
    assert_non_null(fingerprint_db_match_attachment(db, att, sizeof(att) - 1));
    fingerprint_db_free(db);
    assert_null(fingerprint_db_match_url(NULL, url, strlen(url)));
    buf_clear(&b);
}

/* A URL as mime_parse recorded it (host and flags kept) finds the same
 * entries as the URL text does; a mailto or a host-less link none. */
static void
test_fingerprint_db_match_mime_url(void **state)
{
    static const char msg[] =
        "Content-Type: text/html\n\n"
        "<a href=\"https://Bad.example:443/login?utm_source=x\">a</a> "
        "<a href=\"http://good.example/login\">b</a> "
        "<a href=\"mailto:bad.example\">c</a> <a href=\"/login\">d</a>\n";
    struct fingerprint_entry e[4];
    struct fingerprint_db *db;
    struct arena *a = arena_new(CAPS_ARENA_MAX_BYTES);
    struct mime_doc doc;
    size_t n_hits = 0;

    (void)state;
    assert_non_null(a);
    sample_entries(e);
    e[0].filter = fingerprint_url_filter("http://bad.example/login", 24);
    db = fingerprint_db_new(e, 3, FINGERPRINT_MATCH_MIN);
    assert_non_null(db);
    assert_int_equal(mime_parse(a, (const uint8_t *)msg, sizeof(msg) - 1,
                                &doc),
                     CM_OK);
    assert_true(doc.n_urls >= 3);
    for (size_t i = 0; i < doc.n_urls; i++) {
        const struct mime_url *u = &doc.urls[i];
        const struct fingerprint_entry *hit =
            fingerprint_db_match_mime_url(db, u);

        assert_ptr_equal(hit, fingerprint_db_match_url(db, u->url,
                                                       u->url_len));
        n_hits += hit != NULL;
    }
    assert_int_equal(n_hits, 1);
    assert_ptr_equal(fingerprint_db_match_mime_url(db, &doc.urls[0]),
                     fingerprint_db_at(db, 2));
    assert_null(fingerprint_db_match_mime_url(NULL, &doc.urls[0]));
    fingerprint_db_free(db);
    arena_free(a);
}

static void
test_fingerprint_db_empty(void **state)
{
    struct buf b;
    struct fingerprint_db *db;
    struct fingerprint_sig sig;
    uint8_t d[FINGERPRINT_DIGEST_LEN] = {0};

    (void)state;
    memset(&sig, 0, sizeof(sig));
    buf_init(&b, 1024);
    assert_int_equal(fingerprint_db_format(NULL, 0, 12, &b), CM_OK);
    db = parse_ok(&b);
    assert_int_equal(fingerprint_db_size(db), 0);
    assert_int_equal(fingerprint_db_match_min(db), 12);
    assert_null(fingerprint_db_match_body(db, &sig));
    assert_null(fingerprint_db_match_digest(db, FINGERPRINT_URL, d));
    fingerprint_db_free(db);
    buf_clear(&b);
}

/* Parse b after patching byte at off to v; expect rc. */
static void
expect_refused(const struct buf *b, size_t off, uint8_t v, enum cm_err rc)
{
    uint8_t *p = malloc(b->len);
    struct fingerprint_db *db = NULL;
    const char *why = NULL;

    assert_non_null(p);
    memcpy(p, b->data, b->len);
    p[off] = v;
    assert_int_equal(fingerprint_db_parse(p, b->len, &db, &why), rc);
    assert_null(db);
    assert_non_null(why);
    free(p);
}

static void
test_fingerprint_db_parse_refuses(void **state)
{
    struct fingerprint_entry e[4];
    size_t n = sample_entries(e);
    struct buf b;
    struct fingerprint_db *db = NULL;
    const char *why = NULL;
    /* Header 20 bytes; the first entry (body, sub "campaign") follows. */
    size_t e0 = 20;

    (void)state;
    buf_init(&b, 1u << 20);
    assert_int_equal(fingerprint_db_format(e, n, FINGERPRINT_MATCH_MIN, &b),
                     CM_OK);
    expect_refused(&b, 0, 'X', CM_EPARSE);          /* magic */
    expect_refused(&b, 4, 1, CM_EVERSION);          /* version 1 sigs */
    expect_refused(&b, 4, 3, CM_EVERSION);          /* version */
    expect_refused(&b, 8, 15, CM_EVERSION);         /* k */
    expect_refused(&b, 10, 8, CM_EPARSE);           /* m <= K/2 */
    expect_refused(&b, 10, 17, CM_EPARSE);          /* m > K */
    expect_refused(&b, 12, 5, CM_EVERSION);         /* shingle */
    expect_refused(&b, 14, 3, CM_EVERSION);         /* min words */
    expect_refused(&b, 16, 4, CM_EPARSE);           /* n > entries */
    expect_refused(&b, 19, 0x7f, CM_ELIMIT);        /* n > cap */
    expect_refused(&b, e0, 0, CM_EPARSE);           /* kind 0 */
    expect_refused(&b, e0, 4, CM_EPARSE);           /* kind 4 */
    expect_refused(&b, e0 + 1, 0, CM_EPARSE);       /* category 0 */
    expect_refused(&b, e0 + 1, 4, CM_EPARSE);       /* category 4 */
    expect_refused(&b, e0 + 2, 0, CM_EPARSE);       /* weight 0 */
    expect_refused(&b, e0 + 2, 101, CM_EPARSE);     /* weight 101 */
    expect_refused(&b, e0 + 3, 32, CM_EPARSE);      /* sub too long */
    expect_refused(&b, e0 + 4, 'A', CM_EPARSE);     /* sub character */
    expect_refused(&b, e0 + 4, 0, CM_EPARSE);       /* NUL in sub */
    {
        /* Truncations at every length are refused. */
        for (size_t cut = 0; cut < b.len; cut++) {
            assert_int_not_equal(fingerprint_db_parse(b.data, cut, &db, &why),
                                 CM_OK);
            assert_null(db);
        }
    }
    {
        /* Trailing bytes. */
        struct buf t;

        buf_init(&t, 1u << 20);
        assert_int_equal(buf_append(&t, b.data, b.len), CM_OK);
        assert_int_equal(buf_putc(&t, 0), CM_OK);
        assert_int_equal(fingerprint_db_parse(t.data, t.len, &db, &why),
                         CM_EPARSE);
        buf_clear(&t);
    }
    buf_clear(&b);
}

/* Writes a section by hand: two digests of one kind in the given order. */
static void
two_digests(struct buf *b, uint8_t first, uint8_t second)
{
    static const uint8_t hdr[20] = {'C', 'M', 'F', 'P', 2, 0, 0, 0, 16, 0,
                                    10,  0,   4,   0,   30, 0, 2, 0, 0, 0};
    uint8_t d[32];

    buf_reset(b);
    assert_int_equal(buf_append(b, hdr, sizeof(hdr)), CM_OK);
    for (int i = 0; i < 2; i++) {
        uint8_t ent[4] = {FINGERPRINT_ATTACHMENT, FINGERPRINT_CAT_MALWARE, 99,
                          0};

        uint8_t filter[8] = {10, 0, 0, 0, 0, 0, 0, 0};

        memset(d, i == 0 ? first : second, sizeof(d));
        assert_int_equal(buf_append(b, ent, sizeof(ent)), CM_OK);
        assert_int_equal(buf_append(b, d, sizeof(d)), CM_OK);
        assert_int_equal(buf_append(b, filter, sizeof(filter)), CM_OK);
    }
}

static void
test_fingerprint_db_parse_order(void **state)
{
    struct buf b;
    struct fingerprint_db *db = NULL;
    const char *why = NULL;

    (void)state;
    buf_init(&b, 4096);
    two_digests(&b, 1, 2);
    db = parse_ok(&b);
    fingerprint_db_free(db);
    db = NULL;
    two_digests(&b, 2, 1);
    assert_int_equal(fingerprint_db_parse(b.data, b.len, &db, &why),
                     CM_EPARSE);
    assert_string_equal(why, "FINGERPRINTS entries out of order or repeated");
    two_digests(&b, 3, 3);
    assert_int_equal(fingerprint_db_parse(b.data, b.len, &db, &why),
                     CM_EPARSE);
    assert_null(db);
    buf_clear(&b);
}

static void
test_fingerprint_format_refuses(void **state)
{
    struct fingerprint_entry e[4];
    struct buf b;

    (void)state;
    buf_init(&b, 1u << 20);
    sample_entries(e);
    assert_int_equal(fingerprint_db_format(e, 1, 8, &b), CM_EPARSE);
    assert_int_equal(fingerprint_db_format(e, 1, 17, &b), CM_EPARSE);
    e[0].weight = 0;
    assert_int_equal(fingerprint_db_format(e, 1, 10, &b), CM_EPARSE);
    sample_entries(e);
    snprintf(e[0].sub, sizeof(e[0].sub), "Bad Sub");
    assert_int_equal(fingerprint_db_format(e, 1, 10, &b), CM_EPARSE);
    sample_entries(e);
    e[0].category = 0;
    assert_int_equal(fingerprint_db_format(e, 1, 10, &b), CM_EPARSE);
    sample_entries(e);
    e[0].kind = 9;
    assert_int_equal(fingerprint_db_format(e, 1, 10, &b), CM_EPARSE);
    assert_int_equal(
        fingerprint_db_format(e, CAPS_FINGERPRINT_ENTRIES_MAX + 1, 10, &b),
        CM_ELIMIT);
    assert_int_equal(b.len, 0);
    buf_clear(&b);
}

static void
count_match(void *ctx, size_t index, unsigned agree)
{
    size_t *counts = ctx;

    assert_true(agree >= FINGERPRINT_MATCH_MIN);
    counts[index]++;
}

static void
test_fingerprint_db_precedence_and_each(void **state)
{
    /* Three entries: a spam one equal to the query, a malware one that
     * agrees at exactly m positions (the last ones), and one at m - 1. */
    struct fingerprint_entry e[3];
    struct fingerprint_sig q;
    struct fingerprint_db *db;
    const struct fingerprint_entry *hit;
    size_t counts[3] = {0};

    (void)state;
    memset(e, 0, sizeof(e));
    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        q.h[k] = 1000 + k;
    }
    for (int i = 0; i < 3; i++) {
        e[i].kind = FINGERPRINT_BODY;
        e[i].weight = 90;
        e[i].sig = q;
    }
    e[0].category = FINGERPRINT_CAT_SPAM;
    e[1].category = FINGERPRINT_CAT_MALWARE;
    e[2].category = FINGERPRINT_CAT_MALWARE;
    for (unsigned k = 0; k < FINGERPRINT_K - FINGERPRINT_MATCH_MIN; k++) {
        e[1].sig.h[k] = 7;
    }
    for (unsigned k = 0; k <= FINGERPRINT_K - FINGERPRINT_MATCH_MIN; k++) {
        e[2].sig.h[k] = 8;
    }
    db = fingerprint_db_new(e, 3, FINGERPRINT_MATCH_MIN);
    assert_non_null(db);
    hit = fingerprint_db_match_body(db, &q);
    assert_non_null(hit);
    assert_int_equal(hit->category, FINGERPRINT_CAT_MALWARE);
    assert_int_equal(fingerprint_db_each_body(db, &q, SIZE_MAX, count_match,
                                              counts),
                     2);
    /* db_new sorted the entries: find them by category and agreement. */
    for (size_t i = 0; i < 3; i++) {
        const struct fingerprint_entry *x = fingerprint_db_at(db, i);
        unsigned agree = fingerprint_agree(&x->sig, &q);

        assert_int_equal(counts[i], agree >= FINGERPRINT_MATCH_MIN ? 1 : 0);
    }
    fingerprint_db_free(db);
    /* Invalid m, unknown kinds and too many entries: no database. */
    assert_null(fingerprint_db_new(e, 3, FINGERPRINT_K / 2));
    e[0].kind = 0;
    assert_null(fingerprint_db_new(e, 3, FINGERPRINT_MATCH_MIN));
    assert_null(fingerprint_db_new(e, CAPS_FINGERPRINT_ENTRIES_MAX + 1,
                                   FINGERPRINT_MATCH_MIN));
}

static void
test_fingerprint_db_run_cap(void **state)
{
    /* More than CAPS_FINGERPRINT_RUN_MAX entries share the query's first
     * min-hash; the matching one is still found through a later probe. */
    size_t n = CAPS_FINGERPRINT_RUN_MAX + 10;
    struct fingerprint_entry *e = calloc(n, sizeof(*e));
    struct fingerprint_sig q;
    struct fingerprint_db *db;
    const struct fingerprint_entry *hit;

    (void)state;
    assert_non_null(e);
    for (unsigned k = 0; k < FINGERPRINT_K; k++) {
        q.h[k] = 0xffff0000u + k;
    }
    for (size_t i = 0; i < n; i++) {
        e[i].kind = FINGERPRINT_BODY;
        e[i].category = FINGERPRINT_CAT_SPAM;
        e[i].weight = 97;
        for (unsigned k = 0; k < FINGERPRINT_K; k++) {
            e[i].sig.h[k] = (uint32_t)(i * 100 + k);
        }
        e[i].sig.h[0] = q.h[0];
    }
    /* The last in index order, so a capped first run cannot reach it. */
    e[n - 1].sig = q;
    e[n - 1].category = FINGERPRINT_CAT_PHISHING;
    db = fingerprint_db_new(e, n, FINGERPRINT_MATCH_MIN);
    assert_non_null(db);
    hit = fingerprint_db_match_body(db, &q);
    assert_non_null(hit);
    assert_int_equal(hit->category, FINGERPRINT_CAT_PHISHING);
    fingerprint_db_free(db);
    free(e);
}

static void
test_fingerprint_names(void **state)
{
    (void)state;
    assert_string_equal(fingerprint_kind_name(FINGERPRINT_BODY), "body");
    assert_string_equal(fingerprint_kind_name(FINGERPRINT_ATTACHMENT),
                        "attachment");
    assert_string_equal(fingerprint_kind_name(FINGERPRINT_URL), "url");
    assert_string_equal(fingerprint_category_name(FINGERPRINT_CAT_SPAM),
                        "spam");
    assert_string_equal(fingerprint_category_name(FINGERPRINT_CAT_PHISHING),
                        "phishing");
    assert_string_equal(fingerprint_category_name(FINGERPRINT_CAT_MALWARE),
                        "malware");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_sig_near_duplicates_match),
        cmocka_unit_test(test_fingerprint_sig_unrelated_differ),
        cmocka_unit_test(test_fingerprint_sig_normalisation),
        cmocka_unit_test(test_fingerprint_sig_too_short),
        cmocka_unit_test(test_fingerprint_sig_few_shingles),
        cmocka_unit_test(test_fingerprint_sig_pinned),
        cmocka_unit_test(test_fingerprint_sig_word_cap),
        cmocka_unit_test(test_fingerprint_digest_sha256),
        cmocka_unit_test(test_fingerprint_url_normalise),
        cmocka_unit_test(test_fingerprint_url_normalise_escapes_and_dots),
        cmocka_unit_test(test_fingerprint_db_round_trip),
        cmocka_unit_test(test_fingerprint_db_empty),
        cmocka_unit_test(test_fingerprint_db_parse_refuses),
        cmocka_unit_test(test_fingerprint_db_parse_order),
        cmocka_unit_test(test_fingerprint_db_filters),
        cmocka_unit_test(test_fingerprint_db_match_mime_url),
        cmocka_unit_test(test_fingerprint_format_refuses),
        cmocka_unit_test(test_fingerprint_db_precedence_and_each),
        cmocka_unit_test(test_fingerprint_db_run_cap),
        cmocka_unit_test(test_fingerprint_names),
    };

    return cmocka_run_group_tests_name("fingerprint", tests, NULL, NULL);
}
