/*
 * test_features.c -- unit tests for features: tokenisation, namespaces,
 * what must never become a feature (verdict headers, recipients, trace
 * fields, corpus tags), dedupe, caps, bulk markers in the restricted
 * range, attachment and link flags, stable ids.  Messages are synthetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "caps.h"
#include "featureset.h"
#include "fingerprint.h"
#include "mime.h"
#include "queuefile.h"

#define TRACE_MAX 20000u

struct trace {
    char text[TRACE_MAX][64];
    enum features_ns ns[TRACE_MAX];
    uint32_t id[TRACE_MAX];
    size_t n;
};

struct fx {
    struct arena *a;
    struct features_scratch *fs;
    struct trace *tr;
    uint32_t ids[CAPS_FEATURES_MAX];
    size_t n;
    unsigned flags;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->a = arena_new(CAPS_ARENA_MAX_BYTES);
    f->fs = features_scratch_new();
    f->tr = calloc(1, sizeof(*f->tr));
    assert_non_null(f->a);
    assert_non_null(f->fs);
    assert_non_null(f->tr);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    arena_free(f->a);
    features_scratch_free(f->fs);
    free(f->tr);
    free(f);
    return 0;
}

static void
on_feature(void *ctx, enum features_ns ns, const char *text, size_t len,
           uint32_t id)
{
    struct trace *t = ctx;

    if (t->n >= TRACE_MAX) {
        return;
    }
    if (len > 63) {
        len = 63;
    }
    memcpy(t->text[t->n], text, len);
    t->text[t->n][len] = '\0';
    t->ns[t->n] = ns;
    t->id[t->n] = id;
    t->n++;
}

/* Extract msg (a NUL-terminated message) into f->ids, tracing. */
static void
extract(struct fx *f, const char *msg)
{
    struct mime_doc doc;
    struct envelope env;
    size_t off = 0;
    unsigned qf = 0;
    const uint32_t *ids = NULL;

    arena_reset(f->a);
    f->tr->n = 0;
    queuefile_parse((const uint8_t *)msg, strlen(msg), &env, &off, &qf);
    assert_int_equal(mime_parse(f->a, (const uint8_t *)msg + off,
                                strlen(msg) - off, &doc),
                     CM_OK);
    features_extract(&doc, &env, f->fs, on_feature, f->tr, &ids, &f->n,
                     &f->flags);
    memcpy(f->ids, ids, f->n * sizeof(uint32_t));
}

static bool
has(const struct fx *f, enum features_ns ns, const char *text)
{
    for (size_t i = 0; i < f->tr->n; i++) {
        if (f->tr->ns[i] == ns && strcmp(f->tr->text[i], text) == 0) {
            return true;
        }
    }
    return false;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* Sorted copy of the id set, for comparing two messages. */
static size_t
sorted_ids(const struct fx *f, uint32_t *out)
{
    memcpy(out, f->ids, f->n * sizeof(uint32_t));
    qsort(out, f->n, sizeof(uint32_t), cmp_u32);
    return f->n;
}

static void
assert_same_ids(struct fx *f, const char *a, const char *b)
{
    static uint32_t x[CAPS_FEATURES_MAX];
    static uint32_t y[CAPS_FEATURES_MAX];
    size_t nx;
    size_t ny;

    extract(f, a);
    nx = sorted_ids(f, x);
    extract(f, b);
    ny = sorted_ids(f, y);
    assert_int_equal(nx, ny);
    assert_memory_equal(x, y, nx * sizeof(uint32_t));
}

static const char base_msg[] =
    "From: Alice Example <alice@mail.example.org>\n"
    "To: Bob <bob@example.net>\n"
    "Subject: Hello world\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
    "Message-ID: <abc123@mail.example.org>\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "Hello Bob, the meeting moved to Tuesday.\n";

static void
test_features_tokens_normalised(void **state)
{
    struct fx *f = *state;

    extract(f, "From: a@example.org\n"
               "Subject: x\n"
               "\n"
               "Hello HELLO, it's 2024 and call 555-1234 now!!! "
               "fr\xe2\x80\x8b" "ee "
               "\xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2 "
               "\xe6\x97\xa5\xe6\x9c\xac "
               "mail me: someone@example.com or see http://x.example/a "
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
               "(paypal.com). a\n");
    assert_true(has(f, FEATURES_NS_WORD, "hello"));
    assert_false(has(f, FEATURES_NS_WORD, "HELLO"));
    assert_true(has(f, FEATURES_NS_WORD, "it's"));
    assert_true(has(f, FEATURES_NS_WORD, "#4"));        /* 2024 */
    assert_true(has(f, FEATURES_NS_WORD, "#3-#4"));     /* 555-1234 */
    assert_true(has(f, FEATURES_NS_WORD, "now"));       /* "!!!" trimmed */
    assert_true(has(f, FEATURES_NS_WORD, "free"));      /* zero-width gone */
    assert_true(has(f, FEATURES_NS_WORD,                /* Cyrillic folded */
                    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"));
    assert_true(has(f, FEATURES_NS_WORD, "\xe6\x97\xa5")); /* CJK: 1 each */
    assert_true(has(f, FEATURES_NS_WORD, "\xe6\x9c\xac"));
    assert_true(has(f, FEATURES_NS_WORD, "<email>"));
    assert_false(has(f, FEATURES_NS_WORD, "someone@example.com"));
    assert_true(has(f, FEATURES_NS_WORD, "<url>"));
    assert_true(has(f, FEATURES_NS_WORD, "<long>"));
    assert_true(has(f, FEATURES_NS_WORD, "paypal.com"));
    assert_false(has(f, FEATURES_NS_WORD, "a")); /* one letter: nothing */
    assert_true(has(f, FEATURES_NS_TEXT, "zero-width:1"));
}

/* Long words go through the tokenizer eight bytes at a time: the same
 * folding, digit collapsing, length cap and letter counts as byte by
 * byte, wherever a capital, a digit or the end falls. */
static void
test_features_tokens_word_at_a_time(void **state)
{
    struct fx *f = *state;

    extract(f, "From: a@example.org\n"
               "Subject: x\n"
               "\n"
               "InternationalBusinessMachines abcdefgH abcdefgh1 xY "
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcd0123456789 "
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcde0123456789 "
               "e-mailing mixedCASEwords12345 abcdefghijklmnopqrstuvwxyz "
               "end\n");
    assert_true(has(f, FEATURES_NS_WORD, "internationalbusinessmachines"));
    assert_true(has(f, FEATURES_NS_WORD, "abcdefgh"));
    assert_true(has(f, FEATURES_NS_WORD, "abcdefgh1"));
    assert_true(has(f, FEATURES_NS_WORD, "xy"));
    /* 40 bytes: kept (digits collapsed); 41: a long token. */
    assert_true(has(f, FEATURES_NS_WORD, "abcdefghijklmnopqrstuvwxyzabcd#n"));
    assert_true(has(f, FEATURES_NS_WORD, "<long>"));
    assert_true(has(f, FEATURES_NS_WORD, "e-mailing"));
    assert_true(has(f, FEATURES_NS_WORD, "mixedcasewords#5"));
    assert_true(has(f, FEATURES_NS_WORD, "abcdefghijklmnopqrstuvwxyz"));
    assert_true(has(f, FEATURES_NS_WORD, "end"));
    /* 159 ASCII letters, 61 capitals: 38% -> caps bucket 3. */
    assert_true(has(f, FEATURES_NS_TEXT, "caps:3"));
}

/* Joiners at a token's ends are trimmed, inner ones kept; U+2019 is an
 * apostrophe, trimmed at the ends as well.  The trim is skipped for
 * tokens that hold no ASCII joiner at all. */
static void
test_features_tokens_joiner_ends(void **state)
{
    struct fx *f = *state;

    extract(f, "From: a@example.org\n"
               "Subject: x\n"
               "\n"
               "'quoted' -dashed- $55 don\xe2\x80\x99t "
               "\xe2\x80\x99tis\xe2\x80\x99 e-mail. ..dots.. plainword\n");
    assert_true(has(f, FEATURES_NS_WORD, "quoted"));
    assert_true(has(f, FEATURES_NS_WORD, "dashed"));
    /* A token starts at a letter or digit: "$55" is "55". */
    assert_true(has(f, FEATURES_NS_WORD, "55"));
    assert_true(has(f, FEATURES_NS_WORD, "don't"));
    assert_true(has(f, FEATURES_NS_WORD, "tis"));
    assert_false(has(f, FEATURES_NS_WORD, "'tis'"));
    assert_true(has(f, FEATURES_NS_WORD, "e-mail"));
    assert_true(has(f, FEATURES_NS_WORD, "dots"));
    assert_true(has(f, FEATURES_NS_WORD, "plainword"));
}

/* One joiner between a word and a blank, plain punctuation or the end of
 * the text is trimmed like any trailing joiner, whichever joiner it is
 * ('@' and ':' make no address or link), long word or short. */
static void
test_features_tokens_joiner_before_end(void **state)
{
    struct fx *f = *state;

    extract(f, "From: a@example.org\n"
               "Subject: x\n"
               "\n"
               "Sentence end. Ask someone@ now: 2024. www. 1.5 "
               "(quoted-text). Internationalisation$ \"said.\" "
               "fin/\n"
               "tail.");
    assert_true(has(f, FEATURES_NS_WORD, "sentence"));
    assert_true(has(f, FEATURES_NS_WORD, "end"));
    assert_false(has(f, FEATURES_NS_WORD, "end."));
    assert_true(has(f, FEATURES_NS_WORD, "someone"));
    assert_false(has(f, FEATURES_NS_WORD, "<email>"));
    assert_true(has(f, FEATURES_NS_WORD, "now"));
    assert_false(has(f, FEATURES_NS_WORD, "<url>"));
    assert_true(has(f, FEATURES_NS_WORD, "#4"));
    assert_true(has(f, FEATURES_NS_WORD, "www"));
    assert_true(has(f, FEATURES_NS_WORD, "1.5"));
    assert_true(has(f, FEATURES_NS_WORD, "quoted-text"));
    assert_true(has(f, FEATURES_NS_WORD, "internationalisation"));
    assert_true(has(f, FEATURES_NS_WORD, "said"));
    assert_true(has(f, FEATURES_NS_WORD, "fin"));
    assert_true(has(f, FEATURES_NS_WORD, "tail"));
}

/* Link shorteners by registered domain, any case; a longer name that
 * starts like one is none. */
static void
test_features_shortener(void **state)
{
    struct fx *f = *state;

    extract(f, "From: a@example.org\n"
               "Subject: x\n"
               "\n"
               "see http://Bit.LY/abc now\n");
    assert_true(has(f, FEATURES_NS_URL, "shortener"));
    extract(f, "From: a@example.org\n"
               "Subject: x\n"
               "\n"
               "see https://www.tinyurl.com/x and http://t.co/y\n");
    assert_true(has(f, FEATURES_NS_URL, "shortener"));
    extract(f, "From: a@example.org\n"
               "Subject: x\n"
               "\n"
               "see http://bit.lyx/abc and http://t.com/ and "
               "http://example.org/bit.ly\n");
    assert_false(has(f, FEATURES_NS_URL, "shortener"));
}

static void
test_features_namespaces_distinct(void **state)
{
    struct fx *f = *state;
    uint32_t subj_id = 0;
    uint32_t word_id = 0;

    extract(f, "From: a@example.org\nSubject: lottery\n\nlottery\n");
    for (size_t i = 0; i < f->tr->n; i++) {
        if (strcmp(f->tr->text[i], "lottery") == 0) {
            if (f->tr->ns[i] == FEATURES_NS_SUBJECT) {
                subj_id = f->tr->id[i];
            } else if (f->tr->ns[i] == FEATURES_NS_WORD) {
                word_id = f->tr->id[i];
            }
        }
    }
    assert_true(subj_id != 0 && word_id != 0);
    assert_true(subj_id != word_id);
    assert_string_equal(features_ns_name(FEATURES_NS_SUBJECT), "subj");
    assert_string_equal(features_ns_name(FEATURES_NS_BULK), "bulk");
}

static void
test_features_stable_ids(void **state)
{
    struct fx *f = *state;
    uint32_t id = 0;

    /* Pinned: changing what an id means needs a new FEATURES_VERSION. */
    assert_int_equal(FEATURES_VERSION, 4);
    extract(f, "From: a@example.org\nSubject: x\n\nhello\n");
    for (size_t i = 0; i < f->tr->n; i++) {
        if (f->tr->ns[i] == FEATURES_NS_WORD &&
            strcmp(f->tr->text[i], "hello") == 0) {
            id = f->tr->id[i];
        }
    }
    assert_int_equal(id, 1914967u);
    for (size_t i = 0; i < f->n; i++) {
        assert_true(f->ids[i] < (1u << FEATURES_HASH_BITS));
    }
}

/* The id of the first feature of namespace ns traced, or 0. */
static uint32_t
first_id(const struct fx *f, enum features_ns ns)
{
    for (size_t i = 0; i < f->tr->n; i++) {
        if (f->tr->ns[i] == ns) {
            return f->tr->id[i];
        }
    }
    return 0;
}

/* One pinned id per namespace: each namespace hashes with its own seed
 * (a table filled at compile time), and none may move. */
static void
test_features_stable_ids_every_ns(void **state)
{
    static const struct {
        enum features_ns ns;
        uint32_t id;
    } pins[] = {
        {FEATURES_NS_WORD, 1914967u},
        {FEATURES_NS_SUBJECT, 1931518u},
        {FEATURES_NS_URL_HOST, 1440218u},
        {FEATURES_NS_URL_DOMAIN, 3084773u},
        {FEATURES_NS_URL, 60178u},
        {FEATURES_NS_FROM, 30023u},
        {FEATURES_NS_FROM_NAME, 2590339u},
        {FEATURES_NS_HEADER, 49860u},
        {FEATURES_NS_MAILER, 39474u},
        {FEATURES_NS_SUBJECT_SHAPE, 45838u},
        {FEATURES_NS_MIME, 65141u},
        {FEATURES_NS_TEXT, 14181u},
        {FEATURES_NS_BULK, 3608u},
        {FEATURES_NS_FROM_DOMAIN, 1667057u},
        {FEATURES_NS_URL_PATH, 2689330u},
    };
    struct fx *f = *state;

    extract(f, "From: Alice Example <alice@mail.example.org>\n"
               "Subject: Win a prize now\n"
               "X-Mailer: Mailer 1.0\n"
               "List-Unsubscribe: <mailto:u@example.org>\n"
               "MIME-Version: 1.0\n"
               "Content-Type: text/plain\n"
               "\n"
               "hello see http://www.example.com/path/words?x=1 now\n");
    for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
        assert_int_equal(first_id(f, pins[i].ns), pins[i].id);
    }
}

static void
test_features_verdict_headers_ignored(void **state)
{
    struct fx *f = *state;
    char with[2048];

    snprintf(with, sizeof(with),
             "X-Spam-Status: Yes, score=25.1 required=5.0\n"
             "X-Spam-Flag: YES\n"
             "X-Spam-Level: ***************\n"
             "X-Virus-Scanned: ClamAV\n"
             "X-MS-Exchange-Organization-SCL: 9\n"
             "X-Microsoft-Antispam: BCL:9;\n"
             "X-Forefront-Antispam-Report: SFV:SPM;\n"
             "X-Foo-Spam-Score: 99\n"
             "Authentication-Results: mx.example; spf=fail\n"
             "Received-SPF: fail\n"
             "%s",
             base_msg);
    assert_same_ids(f, base_msg, with);
}

static void
test_features_no_recipient_or_trace_features(void **state)
{
    struct fx *f = *state;
    char other[2048];

    snprintf(other, sizeof(other),
             "Received: from relay.corp.example (relay [10.1.2.3]) by "
             "mx.example with ESMTP; Tue, 2 Jan 2007 01:02:03 -0500\n"
             "Received: from a (b [192.0.2.1]) by c; Wed, 3 Jan 2007\n"
             "Delivered-To: phishing@pot\n"
             "X-Original-To: someone@example.net\n"
             "%s",
             base_msg);
    /* Different recipients, dates and trace lines: same features. */
    {
        char *p = strstr(other, "To: Bob <bob@example.net>");
        char *q = strstr(other, "Date: Mon, 1 Jan 2024");

        assert_non_null(p);
        memcpy(p, "To: Eve <eve@example.com>", 25);
        assert_non_null(q);
        memcpy(q, "Date: Sun, 7 Jul 1999", 21);
    }
    assert_same_ids(f, base_msg, other);
}

static void
test_features_corpus_tags_dropped(void **state)
{
    struct fx *f = *state;

    assert_same_ids(f,
                    "From: a@example.org\nSubject: cheap watches\n\nbody\n",
                    "From: a@example.org\nSubject: [SPAM]  cheap watches\n"
                    "\nbody\n");
    /* In any case, twice, and as the subject's very last bytes. */
    assert_same_ids(f,
                    "From: a@example.org\nSubject: cheap watches\n\nbody\n",
                    "From: a@example.org\nSubject: cheap [Spam] watches"
                    "[sPAM]\n\nbody\n");
    /* phishing_pot's anonymised recipient never becomes a word. */
    extract(f, "From: a@example.org\nSubject: x\n\n"
               "Hi Rodrigo-f-p there phishing@pot\n");
    assert_true(has(f, FEATURES_NS_WORD, "there"));
    for (size_t i = 0; i < f->tr->n; i++) {
        assert_null(strstr(f->tr->text[i], "rodrigo"));
        assert_null(strstr(f->tr->text[i], "pot"));
        assert_null(strstr(f->tr->text[i], "<email>"));
    }
}

static void
test_features_dedupe(void **state)
{
    struct fx *f = *state;

    extract(f, "From: a@example.org\nSubject: buy buy buy\n\n"
               "buy now buy now buy now buy now buy now buy now\n");
    for (size_t i = 0; i < f->n; i++) {
        for (size_t j = i + 1; j < f->n; j++) {
            assert_true(f->ids[i] != f->ids[j]);
        }
    }
    assert_false(f->flags & FEATURES_CAPPED);
}

static void
test_features_cap(void **state)
{
    struct fx *f = *state;
    size_t words = CAPS_FEATURES_TOKENS_MAX + 100;
    char *msg = malloc(words * 6 + 128);
    size_t n = 0;

    n += (size_t)snprintf(msg, 128, "From: a@example.org\nSubject: x\n\n");
    /* Distinct letter-only words: aaaa, aaab, ... */
    for (size_t i = 0; i < words; i++) {
        size_t v = i;

        for (int k = 0; k < 4; k++) {
            msg[n++] = (char)('a' + v % 26);
            v /= 26;
        }
        msg[n++] = ' ';
    }
    msg[n] = '\0';
    extract(f, msg);
    assert_int_equal(f->n, CAPS_FEATURES_MAX);
    assert_true(f->flags & FEATURES_CAPPED);
    free(msg);
}

static void
test_features_bulk_markers_restricted(void **state)
{
    struct fx *f = *state;
    size_t restricted = 0;

    extract(f, "From: News <news@example.org>\n"
               "Subject: Weekly news\n"
               "List-Unsubscribe: <https://example.org/u>\n"
               "List-Id: weekly.example.org\n"
               "Precedence: bulk\n"
               "\nThis week.\n");
    assert_true(f->flags & FEATURES_HAS_BULK_MARKERS);
    for (size_t i = 0; i < f->tr->n; i++) {
        enum features_ns ns = f->tr->ns[i];
        uint32_t id = f->tr->id[i];

        if (ns == FEATURES_NS_BULK) {
            assert_true(id < FEATURES_RESTRICTED_IDS);
            restricted++;
        } else if (ns == FEATURES_NS_WORD || ns == FEATURES_NS_SUBJECT ||
                   ns == FEATURES_NS_FROM_NAME ||
                   ns == FEATURES_NS_FROM_DOMAIN) {
            assert_true(id >= FEATURES_DENSE_IDS_END);
        } else {
            assert_true(id >= FEATURES_RESTRICTED_IDS &&
                        id < FEATURES_DENSE_IDS_END);
        }
    }
    /* Two header names, precedence, and the unsubscribe link's facts. */
    assert_int_equal(restricted, 5);
    assert_true(has(f, FEATURES_NS_BULK, "precedence:bulk"));
    assert_true(has(f, FEATURES_NS_BULK, "legit:unsub-own-domain"));
    extract(f, base_msg);
    assert_false(f->flags & FEATURES_HAS_BULK_MARKERS);
}

/* "Unsubscribe jane.doe@example.org": the recipient's own address in
 * link text says where the mail went, not where the link goes (every
 * ESP's unsubscribe and profile links show it).  Another address, or
 * the recipient's domain as a site, still claims a destination. */
static void
test_features_anchor_recipient_address(void **state)
{
    struct fx *f = *state;
    static const char fmt[] =
        "From: Church <office@church.example.org>\n"
        "To: Jane Doe <jane.doe@example.org>\n"
        "Subject: this week\n"
        "Content-Type: text/html\n"
        "\n"
        "<a href=\"https://visitor.esp.example/do?p=un\">%s</a>\n";
    char msg[512];

    snprintf(msg, sizeof(msg), fmt, "Unsubscribe jane.doe@example.org");
    extract(f, msg);
    assert_false(f->flags & FEATURES_DECEPTIVE_LINK);
    assert_false(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
    snprintf(msg, sizeof(msg), fmt, "Write to service@paypal.example");
    extract(f, msg);
    assert_true(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
    snprintf(msg, sizeof(msg), fmt, "webmail.example.org");
    extract(f, msg);
    assert_true(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
}

/* A click tracker on the sender's own registered domain is deceptive
 * text but not a foreign link; the same text linking elsewhere is. */
static void
test_features_deceptive_link_own_domain(void **state)
{
    struct fx *f = *state;
    static const char fmt[] =
        "From: News <news@%s>\n"
        "Subject: this week\n"
        "Content-Type: text/html\n"
        "\n"
        "<a href=\"http://click.mailer.example.com/t/1\">www.shop.example"
        ".org</a>\n";
    char msg[512];

    snprintf(msg, sizeof(msg), fmt, "mail.example.com");
    extract(f, msg);
    assert_true(f->flags & FEATURES_DECEPTIVE_LINK);
    assert_false(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
    snprintf(msg, sizeof(msg), fmt, "shop.example.org");
    extract(f, msg);
    assert_true(f->flags & FEATURES_DECEPTIVE_LINK);
    assert_true(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
}

/* Link text naming a file ("Q3 Report.docx", "index.html") shows no
 * domain, though it has a dot and a letter-only last part: a shared
 * document's link is not deceptive.  A domain on a country or generic
 * TLD still is. */
static void
test_features_deceptive_link_file_name(void **state)
{
    struct fx *f = *state;
    static const char fmt[] =
        "From: Ann <ann@example.com>\n"
        "Subject: the report\n"
        "Content-Type: text/html\n"
        "\n"
        "<a href=\"https://docs.storage.example.net/s/1\">%s</a>\n";
    static const char *const files[] = {"Q3 Report.docx", "report.pdf",
                                        "index.html", "photos.zip",
                                        "Budget 2024.XLSX", "notes.txt."};
    static const char *const domains[] = {"www.shop.example.org",
                                          "paypal.com", "readme.md"};
    char msg[512];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(msg, sizeof(msg), fmt, files[i]);
        extract(f, msg);
        assert_false(f->flags & FEATURES_DECEPTIVE_LINK);
    }
    for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
        snprintf(msg, sizeof(msg), fmt, domains[i]);
        extract(f, msg);
        assert_true(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
    }
}

/* Link text in fullwidth forms ("\uff50\uff41\uff59\uff50\uff41\uff4c.com",
 * an ideographic full stop for the dot) reads as the ASCII domain; it
 * shows paypal.com as plainly as ASCII does. */
static void
test_features_deceptive_link_fullwidth(void **state)
{
    struct fx *f = *state;
    static const char fmt[] =
        "From: Service <service@mailer.example>\n"
        "Subject: account\n"
        "Content-Type: text/html; charset=utf-8\n"
        "\n"
        "<a href=\"https://%s/x\">%s</a>\n";
    static const char *const texts[] = {
        /* "paypal.com", fullwidth letters */
        "\xef\xbd\x90\xef\xbd\x81\xef\xbd\x99\xef\xbd\x90\xef\xbd\x81"
        "\xef\xbd\x8c.com",
        /* "PAYPAL.COM", fullwidth capitals and full stop */
        "\xef\xbc\xb0\xef\xbc\xa1\xef\xbc\xb9\xef\xbc\xb0\xef\xbc\xa1"
        "\xef\xbc\xac\xef\xbc\x8e\xef\xbc\xa3\xef\xbc\xaf\xef\xbc\xad",
        /* "paypal\u3002com" */
        "paypal\xe3\x80\x82" "com",
        /* "www.paypal.com" written as one run of fullwidth forms */
        "\xef\xbd\x97\xef\xbd\x97\xef\xbd\x97\xef\xbc\x8e" "paypal.com"};
    char msg[512];

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        snprintf(msg, sizeof(msg), fmt, "login.evil.example", texts[i]);
        extract(f, msg);
        assert_true(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
        /* The same text linking to the site it shows is no trick. */
        snprintf(msg, sizeof(msg), fmt, "www.paypal.com", texts[i]);
        extract(f, msg);
        assert_false(f->flags & FEATURES_DECEPTIVE_LINK);
    }
}

/* Link text showing an IDN ("p\u0430ypal.com" with a Cyrillic a) shows
 * the host a browser resolves for it, xn--pypal-4ve.com: another
 * domain than a link to evil.example, the same as a link to itself. */
static void
test_features_deceptive_link_idn(void **state)
{
    struct fx *f = *state;
    static const char fmt[] =
        "From: Service <service@mailer.example>\n"
        "Subject: account\n"
        "Content-Type: text/html; charset=utf-8\n"
        "\n"
        "<a href=\"https://%s/x\">%s</a>\n";
    char msg[512];

    snprintf(msg, sizeof(msg), fmt, "login.evil.example",
             "p\xd0\xb0ypal.com");
    extract(f, msg);
    assert_true(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
    snprintf(msg, sizeof(msg), fmt, "login.evil.example",
             "www.P\xd0\x90YPAL.com");
    extract(f, msg);
    assert_true(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
    snprintf(msg, sizeof(msg), fmt, "xn--pypal-4ve.com", "p\xd0\xb0ypal.com");
    extract(f, msg);
    assert_false(f->flags & FEATURES_DECEPTIVE_LINK);
    snprintf(msg, sizeof(msg), fmt, "www.xn--bcher-kva.de",
             "B\xc3\xbc" "cher.de");
    extract(f, msg);
    assert_false(f->flags & FEATURES_DECEPTIVE_LINK);
    snprintf(msg, sizeof(msg), fmt, "b\xc3\xbc" "cher.de",
             "b\xc3\xbc" "cher.de");
    extract(f, msg);
    assert_false(f->flags & FEATURES_DECEPTIVE_LINK);
    /* Words that are no host stay none: a non-Latin last label, a file. */
    snprintf(msg, sizeof(msg), fmt, "login.evil.example",
             "\xd1\x82.\xd0\xb5. R\xc3\xa9sum\xc3\xa9.pdf");
    extract(f, msg);
    assert_false(f->flags & FEATURES_DECEPTIVE_LINK);
}

/* Link text showing an address shows its domain: "service@paypal.com"
 * on a link to evil.example is as deceptive as "paypal.com". */
static void
test_features_deceptive_link_address(void **state)
{
    struct fx *f = *state;
    static const char fmt[] =
        "From: Service <service@mailer.example>\n"
        "Subject: account\n"
        "Content-Type: text/html\n"
        "\n"
        "<a href=\"https://%s/x\">%s</a>\n";
    char msg[512];

    snprintf(msg, sizeof(msg), fmt, "login.evil.example",
             "Service@PayPal.com");
    extract(f, msg);
    assert_true(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
    snprintf(msg, sizeof(msg), fmt, "login.evil.example",
             "write to service@paypal.com.");
    extract(f, msg);
    assert_true(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
    snprintf(msg, sizeof(msg), fmt, "www.shop.example.org",
             "help@shop.example.org");
    extract(f, msg);
    assert_false(f->flags & FEATURES_DECEPTIVE_LINK);
}

static void
test_features_attachments_and_links(void **state)
{
    struct fx *f = *state;

    extract(f, "From: a@example.org\n"
               "Subject: invoice\n"
               "MIME-Version: 1.0\n"
               "Content-Type: multipart/mixed; boundary=\"b\"\n"
               "\n"
               "--b\n"
               "Content-Type: text/html\n"
               "\n"
               "<a href=\"http://198.51.100.7/login\">www.mybank.com</a>\n"
               "--b\n"
               "Content-Type: application/octet-stream; name=\"doc.pdf.exe\"\n"
               "Content-Disposition: attachment; filename=\"doc.pdf.exe\"\n"
               "Content-Transfer-Encoding: base64\n"
               "\n"
               "TVqQAAMAAAAEAAAA\n"
               "--b--\n");
    assert_true(f->flags & FEATURES_DANGEROUS_ATTACHMENT);
    assert_true(f->flags & FEATURES_DECEPTIVE_LINK);
    assert_true(f->flags & FEATURES_DECEPTIVE_FOREIGN_LINK);
    assert_true(has(f, FEATURES_NS_MIME, "att-ext:exe"));
    assert_true(has(f, FEATURES_NS_MIME, "att-double-ext"));
    assert_true(has(f, FEATURES_NS_URL, "ip-host"));
    assert_true(has(f, FEATURES_NS_MIME, "top:multipart/mixed"));

    assert_true(features_is_dangerous_name("a.exe", 5));
    assert_true(features_is_dangerous_name("A.SCR", 5));
    assert_true(features_is_dangerous_name("x.pdf.js", 8));
    assert_true(features_is_dangerous_name("invoice.doc   .lnk", 18));
    assert_true(features_is_dangerous_name("disk.iso ", 9));
    assert_false(features_is_dangerous_name("report.pdf", 10));
    assert_false(features_is_dangerous_name("exe", 3));
    assert_false(features_is_dangerous_name("", 0));
    assert_false(features_is_dangerous_name("a.executable", 12));
}

/* Letter words of URL paths and queries: lower-cased, 3..20 letters, at
 * most 8 a URL, never from the host; their own namespace. */
static void
test_features_url_path_words(void **state)
{
    struct fx *f = *state;
    size_t n_path = 0;

    extract(f, "From: a@example.org\n"
               "Subject: account\n"
               "Content-Type: text/html\n"
               "\n"
               "<a href=\"https://secure.example.com/Account/Verify-Login.php"
               "?session=x1&amp;id=42\">here</a>\n"
               "<a href=\"https://news.example.net/a/bb/ccc/dddd/eeee/ffff/"
               "gggg/hhhh/iiii/jjjj/kkkk/averyveryverylongwordthatgoesonandon"
               "\">x</a>\n");
    assert_true(has(f, FEATURES_NS_URL_PATH, "account"));
    assert_true(has(f, FEATURES_NS_URL_PATH, "verify"));
    assert_true(has(f, FEATURES_NS_URL_PATH, "login"));
    assert_true(has(f, FEATURES_NS_URL_PATH, "php"));
    assert_true(has(f, FEATURES_NS_URL_PATH, "session"));
    /* Too short, too long, host parts. */
    assert_false(has(f, FEATURES_NS_URL_PATH, "id"));
    assert_false(has(f, FEATURES_NS_URL_PATH, "bb"));
    assert_false(has(f, FEATURES_NS_URL_PATH, "secure"));
    assert_false(has(f, FEATURES_NS_URL_PATH, "example"));
    assert_false(has(f, FEATURES_NS_URL_PATH,
                     "averyveryverylongwordthatgoesonandon"));
    /* The second URL has 11 candidate words: 8 are kept. */
    assert_true(has(f, FEATURES_NS_URL_PATH, "ccc"));
    assert_true(has(f, FEATURES_NS_URL_PATH, "jjjj"));
    assert_false(has(f, FEATURES_NS_URL_PATH, "kkkk"));
    for (size_t i = 0; i < f->tr->n; i++) {
        n_path += f->tr->ns[i] == FEATURES_NS_URL_PATH;
    }
    assert_true(n_path <= 16);
    assert_string_equal(features_ns_name(FEATURES_NS_URL_PATH), "url-path");
}

/* Share of web links on the From address's registered domain: subdomains
 * count as the sender's, mailto and IP links do not count at all. */
static void
test_features_links_to_sender_domain(void **state)
{
    struct fx *f = *state;
    static const char head[] = "From: Shop <news@mailings.shop.example>\n"
                               "Subject: offers\n"
                               "Content-Type: text/html\n"
                               "\n";
    char msg[1024];

    snprintf(msg, sizeof(msg), "%s%s", head,
             "<a href=\"https://www.shop.example/a\">a</a>"
             "<a href=\"https://click.shop.example/b\">b</a>"
             "<a href=\"mailto:help@other.example\">c</a>"
             "<a href=\"http://198.51.100.7/d\">d</a>\n");
    extract(f, msg);
    assert_true(has(f, FEATURES_NS_URL, "from-dom:all"));
    snprintf(msg, sizeof(msg), "%s%s", head,
             "<a href=\"https://www.shop.example/a\">a</a>"
             "<a href=\"https://tracker.example/b\">b</a>\n");
    extract(f, msg);
    assert_true(has(f, FEATURES_NS_URL, "from-dom:most"));
    snprintf(msg, sizeof(msg), "%s%s", head,
             "<a href=\"https://www.shop.example/a\">a</a>"
             "<a href=\"https://tracker.example/b\">b</a>"
             "<a href=\"https://cdn.example/c\">c</a>\n");
    extract(f, msg);
    assert_true(has(f, FEATURES_NS_URL, "from-dom:some"));
    snprintf(msg, sizeof(msg), "%s%s", head,
             "<a href=\"https://login.shop.example.evil.example/a\">a</a>\n");
    extract(f, msg);
    assert_true(has(f, FEATURES_NS_URL, "from-dom:none"));
    /* No web link: no fact at all. */
    snprintf(msg, sizeof(msg), "%s%s", head,
             "<a href=\"mailto:a@shop.example\">a</a>\n");
    extract(f, msg);
    assert_false(has(f, FEATURES_NS_URL, "from-dom:none"));
    assert_false(has(f, FEATURES_NS_URL, "from-dom:all"));
}

static void
test_features_sender_legitimacy(void **state)
{
    struct fx *f = *state;

    extract(f, "From: Shop <news@mailings.shop.example>\n"
               "Subject: offers\n"
               "List-Unsubscribe: <mailto:u@bounce.example?subject=x>,\n"
               " <https://links.shop.example/unsub?id=1>\n"
               "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
               "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
               " d=shop.example; s=k1; bh=abc=; b=def\n"
               "\nOffers.\n");
    assert_true(has(f, FEATURES_NS_BULK, "legit:unsub-own-domain"));
    assert_true(has(f, FEATURES_NS_BULK, "legit:unsub-mailto"));
    assert_true(has(f, FEATURES_NS_BULK, "legit:unsub-https"));
    assert_true(has(f, FEATURES_NS_BULK, "legit:one-click"));
    assert_true(has(f, FEATURES_NS_BULK, "legit:dkim-from-domain"));
    for (size_t i = 0; i < f->tr->n; i++) {
        if (f->tr->ns[i] == FEATURES_NS_BULK) {
            assert_true(f->tr->id[i] < FEATURES_RESTRICTED_IDS);
        }
    }
    /* Another domain's unsubscribe link and signature: no legitimacy. */
    extract(f, "From: Bank <alerts@bank.example>\n"
               "Subject: verify\n"
               "List-Unsubscribe: <http://evil.example/u>\n"
               "List-Unsubscribe-Post: List-Unsubscribe=Nope\n"
               "DKIM-Signature: v=1; d=evil.example; s=k; b=xd=bank.example\n"
               "\nVerify.\n");
    assert_true(has(f, FEATURES_NS_BULK, "legit:unsub-http"));
    assert_false(has(f, FEATURES_NS_BULK, "legit:unsub-own-domain"));
    assert_false(has(f, FEATURES_NS_BULK, "legit:dkim-from-domain"));
    /* Malformed values: no crash, no facts. */
    extract(f, "From: x@y.example\n"
               "List-Unsubscribe: <mailto:\n"
               "DKIM-Signature: d=\n"
               "\nhi\n");
    assert_false(has(f, FEATURES_NS_BULK, "legit:unsub-mailto"));
    assert_false(has(f, FEATURES_NS_BULK, "legit:dkim-from-domain"));
}

/* A comment before the address ("(PayPal) x@evil.example", RFC 5322
 * CFWS) is the name a mail client shows, and the address follows it. */
static void
test_features_from_comment_first(void **state)
{
    struct fx *f = *state;

    extract(f, "From: (PayPal) x1@evil.example\n\nhi\n");
    assert_false(has(f, FEATURES_NS_FROM, "no-domain"));
    assert_false(has(f, FEATURES_NS_FROM, "no-name"));
    assert_true(has(f, FEATURES_NS_FROM_DOMAIN, "evil.example"));
    assert_true(has(f, FEATURES_NS_FROM, "local-digits:1"));
    /* An address in the comment is the name's, not where mail comes
     * from. */
    extract(f, "From: (support@paypal.com) x1@evil.example\n\nhi\n");
    assert_true(has(f, FEATURES_NS_FROM_DOMAIN, "evil.example"));
    assert_true(has(f, FEATURES_NS_FROM, "name-has-address"));
    assert_true(has(f, FEATURES_NS_HEADER, "name-addr-domain:diff"));
    /* The older form, comment after, as before. */
    extract(f, "From: x1@evil.example (PayPal)\n\nhi\n");
    assert_true(has(f, FEATURES_NS_FROM_DOMAIN, "evil.example"));
    assert_false(has(f, FEATURES_NS_FROM, "no-name"));
}

static void
test_features_header_relations(void **state)
{
    struct fx *f = *state;

    extract(f, "From: \"support@paypal.com\" <x1234567@mailer.example.ru>\n"
               "Reply-To: collect@other.example\n"
               "Return-Path: <bounce@mailer.example.ru>\n"
               "Subject: RE: your account\n"
               "X-Mailer: Microsoft Outlook Express 6.00.2900.2180\n"
               "\nbody\n");
    assert_true(has(f, FEATURES_NS_FROM, "name-has-address"));
    assert_true(has(f, FEATURES_NS_HEADER, "name-addr-domain:diff"));
    assert_true(has(f, FEATURES_NS_HEADER, "reply-to:diff"));
    assert_true(has(f, FEATURES_NS_HEADER, "message-id:missing"));
    assert_true(has(f, FEATURES_NS_HEADER, "date:missing"));
    assert_true(has(f, FEATURES_NS_HEADER, "reply-without-references"));
    assert_true(has(f, FEATURES_NS_FROM_DOMAIN, "example.ru"));
    assert_true(has(f, FEATURES_NS_FROM, "local-digits:3"));
    assert_true(has(f, FEATURES_NS_MAILER, "outlook"));
    assert_false(has(f, FEATURES_NS_MAILER, "#1.#2.#4.#4")); /* versions */
    assert_true(has(f, FEATURES_NS_SUBJECT_SHAPE, "reply"));
    /* An encoded word decoding to "<dse@docusign.net>" after the real
     * address is not where the mail comes from (RFC 2047 5), for From
     * and Reply-To alike; the display name is still read decoded. */
    extract(f, "From: =?utf-8?q?Docu=20Sign?= <x1@mailer.example.ru> "
               "=?us-ascii?q?=3Cdse=40docusign.net=3E?=\n"
               "Reply-To: <y@mailer.example.ru> "
               "=?us-ascii?q?=3Cz=40other.example=3E?=\n"
               "\nbody\n");
    assert_true(has(f, FEATURES_NS_FROM_DOMAIN, "example.ru"));
    assert_false(has(f, FEATURES_NS_FROM_DOMAIN, "docusign.net"));
    assert_true(has(f, FEATURES_NS_HEADER, "reply-to:same"));
    /* An IDN sender domain by its ASCII name, as link hosts are. */
    extract(f, "From: service@p\xd0\xb0ypal.com\n\nbody\n");
    assert_true(has(f, FEATURES_NS_FROM_DOMAIN, "xn--pypal-4ve.com"));
}

static void
test_features_envelope_not_used(void **state)
{
    struct fx *f = *state;

    /* The corpus has no envelopes, so no feature may depend on one. */
    assert_same_ids(f,
                    "P I 12-01-2024 12:00:00 0000 ____ ____ "
                    "<bounce@lists.example.com>\n"
                    "R W 12-01-2024 12:00:00 0000 ____ _FY_ <u@example.net>\n"
                    "S SMTP [192.0.2.1]\n"
                    "\n"
                    "From: a@example.com\nSubject: x\n\nbody\n",
                    "From: a@example.com\nSubject: x\n\nbody\n");
}

static void
test_features_deterministic_and_empty(void **state)
{
    struct fx *f = *state;
    static uint32_t a[CAPS_FEATURES_MAX];
    size_t n;

    extract(f, base_msg);
    n = f->n;
    memcpy(a, f->ids, n * sizeof(uint32_t));
    extract(f, base_msg);
    assert_int_equal(f->n, n);
    assert_memory_equal(a, f->ids, n * sizeof(uint32_t));
    /* Garbage and empty input still give a (small) feature set. */
    extract(f, "");
    assert_true(f->n > 0);
    assert_true(has(f, FEATURES_NS_FROM, "missing"));
    extract(f, "\x01\x02\xff\xfe garbage without headers");
    assert_true(f->n > 0);
}

/* A campaign body of 40+ words; the number and the link vary per copy. */
static void
campaign_msg(char *out, size_t max, const char *number, const char *link)
{
    snprintf(out, max,
             "From: a@example.org\n"
             "Subject: x\n"
             "\n"
             "Dear customer, your parcel %s is waiting at our depot. Please "
             "confirm the delivery address at %s within two days or the "
             "parcel will be returned to the sender and the fee will not "
             "be refunded. Thank you for choosing our service, we hope to "
             "see you again soon.\n",
             number, link);
}

/* The campaign signature comes out of the word pass: equal to the one of
 * the text on its own, blind to numbers and links, reset per message. */
static void
test_features_body_sig(void **state)
{
    struct fx *f = *state;
    char msg[1024];
    struct mime_doc doc;
    struct fingerprint_sig a;
    struct fingerprint_sig b;
    struct fingerprint_sig t;

    campaign_msg(msg, sizeof(msg), "12345", "http://x.example/track?id=9");
    extract(f, msg);
    assert_true(features_body_sig(f->fs, &a));
    arena_reset(f->a);
    assert_int_equal(mime_parse(f->a, (const uint8_t *)msg, strlen(msg),
                                &doc),
                     CM_OK);
    assert_true(features_text_sig(doc.text, doc.text_len, &t));
    assert_memory_equal(&a, &t, sizeof(a));
    campaign_msg(msg, sizeof(msg), "77", "https://y.example/t?u=me@x.org");
    extract(f, msg);
    assert_true(features_body_sig(f->fs, &b));
    assert_memory_equal(&a, &b, sizeof(a));
    /* Different words: some bins differ. */
    campaign_msg(msg, sizeof(msg), "parcel", "elsewhere");
    extract(f, msg);
    assert_true(features_body_sig(f->fs, &b));
    assert_true(fingerprint_agree(&a, &b) < FINGERPRINT_K);
    /* Too few words: none, whatever the previous message had. */
    extract(f, base_msg);
    assert_false(features_body_sig(f->fs, &b));
    assert_false(features_text_sig("", 0, &b));
}

static size_t
addr_dom(const char *value, char *dst, size_t cap)
{
    return features_address_domain(value, strlen(value), dst, cap);
}

static void
test_features_address_domain(void **state)
{
    char d[64];

    (void)state;
    assert_int_equal(addr_dom("Ann <ann@Example.ORG>", d, sizeof(d)), 11);
    assert_string_equal(d, "example.org");
    assert_int_equal(addr_dom("ann@example.org (Ann)", d, sizeof(d)), 11);
    assert_string_equal(d, "example.org");
    /* The mailbox is the one after the last '<', as for the rules: an
     * address shown in the display name is not the sender's. */
    assert_int_equal(addr_dom("\"PayPal <pp@paypal.com>\" <x@evil.tk>", d,
                              sizeof(d)),
                     7);
    assert_string_equal(d, "evil.tk");
    assert_int_equal(addr_dom("no address", d, sizeof(d)), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_features_body_sig, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_features_tokens_normalised,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_shortener, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_features_tokens_joiner_before_end,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_tokens_joiner_ends,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_tokens_word_at_a_time,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_namespaces_distinct,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_stable_ids, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_features_stable_ids_every_ns,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_verdict_headers_ignored,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_features_no_recipient_or_trace_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_corpus_tags_dropped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_dedupe, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_features_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_bulk_markers_restricted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_features_deceptive_link_own_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_features_anchor_recipient_address, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_features_deceptive_link_file_name, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_features_deceptive_link_fullwidth, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_features_deceptive_link_idn, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_features_deceptive_link_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_attachments_and_links,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_url_path_words, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_features_links_to_sender_domain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_sender_legitimacy,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_from_comment_first,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_header_relations, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_features_envelope_not_used,
                                        setup, teardown),
        cmocka_unit_test(test_features_address_domain),
        cmocka_unit_test_setup_teardown(test_features_deterministic_and_empty,
                                        setup, teardown),
    };

    return cmocka_run_group_tests_name("features", tests, NULL, NULL);
}
