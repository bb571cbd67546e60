/*
 * test_trainfp.c -- the fingerprint half of cmtool train: collecting a
 * message's signature and dangerous-attachment digests, grouping junk
 * campaigns, the ham veto, held-out items, and the section it writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "fingerprint.h"
#include "mime.h"
#include "model.h"
#include "trainfp.h"

/* Two unrelated campaign texts; %s and %u vary per copy. */
#define TEXT0                                                                \
    "Dear %s, we are pleased to inform you that your account has been "     \
    "selected for a special reward of $%u. To claim the reward please "     \
    "follow the secure link below and confirm your details within the "     \
    "next two days, otherwise the offer will expire and the funds will be " \
    "returned to the pool of unclaimed prizes. Kind regards, the team."
#define TEXT1                                                                \
    "Hello %s, the quarterly meeting of the board will take place in the "  \
    "main conference room on floor %u. Please bring the printed agenda, "   \
    "the budget review and your notes from the last session so that we "   \
    "can finish the discussion about the new office lease before lunch. "   \
    "Coffee and sandwiches will be provided for all attendees, thanks."

struct msg {
    char text[2048];
    struct mime_part part;
    struct mime_doc doc;
};

/* trainfp_collect, which must not fail here: the item or NULL. */
static struct trainfp_item *
collect_doc(const struct mime_doc *doc)
{
    struct trainfp_item *it = NULL;

    assert_int_equal(trainfp_collect(doc, &it), CM_OK);
    return it;
}

/* A message of text t (copy c) with an optional attachment. */
static struct trainfp_item *
collect(struct msg *m, size_t t, unsigned c, const char *att_name,
        const char *att_data)
{
    static const char *const names[] = {"Ann", "Bob", "Cid", "Dee", "Eve"};

    memset(m, 0, sizeof(*m));
    if (t == 0) {
        snprintf(m->text, sizeof(m->text), TEXT0, names[c % 5], 100 + c);
    } else {
        snprintf(m->text, sizeof(m->text), TEXT1, names[c % 5], 100 + c);
    }
    m->doc.text = m->text;
    m->doc.text_len = strlen(m->text);
    if (att_name != NULL) {
        m->part.content_type = "application/octet-stream";
        m->part.charset = "";
        m->part.filename = att_name;
        m->part.data = (const uint8_t *)att_data;
        m->part.data_len = strlen(att_data);
        m->part.is_attachment = true;
        m->doc.parts = &m->part;
        m->doc.n_parts = 1;
    }
    return collect_doc(&m->doc);
}

static void
test_trainfp_collect(void **state)
{
    struct msg m;
    struct trainfp_item *it;

    (void)state;
    /* Text long enough: an item. */
    it = collect(&m, 0, 0, NULL, NULL);
    assert_non_null(it);
    trainfp_item_free(it);
    /* Short text, harmless attachment: nothing to keep. */
    memset(&m, 0, sizeof(m));
    m.doc.text = "too short";
    m.doc.text_len = 9;
    it = (struct trainfp_item *)&m; /* must be overwritten */
    assert_int_equal(trainfp_collect(&m.doc, &it), CM_OK);
    assert_null(it);
    trainfp_item_free(NULL);
}

/* An item that cannot be allocated is CM_ENOMEM, not the NULL of "no
 * fingerprint data", which train took as a message without a campaign;
 * *out is left as it was. */
static void
test_trainfp_collect_enomem(void **state)
{
    struct msg m;
    struct trainfp_item *it = NULL;
    struct trainfp_item *const marker = (struct trainfp_item *)&m;

    (void)state;
    trainfp_item_free(collect(&m, 0, 0, NULL, NULL)); /* m: a campaign text */
    it = marker;
    trainfp_test_fail_nth_alloc(1);
    assert_int_equal(trainfp_collect(&m.doc, &it), CM_ENOMEM);
    assert_ptr_equal(it, marker);
    assert_int_equal(trainfp_collect(&m.doc, &it), CM_OK);
    assert_non_null(it);
    assert_ptr_not_equal(it, marker);
    trainfp_item_free(it);
}

struct set {
    struct msg m[16];
    struct trainfp_input in[16];
    size_t n;
};

static void
add(struct set *s, size_t t, unsigned c, uint8_t label, bool is_test,
    const char *att_name, const char *att_data)
{
    s->in[s->n].fp = collect(&s->m[s->n], t, c, att_name, att_data);
    s->in[s->n].label = label;
    s->in[s->n].is_test = is_test;
    s->n++;
}

static void
set_free(struct set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        trainfp_item_free((struct trainfp_item *)(uintptr_t)s->in[i].fp);
    }
}

static struct fingerprint_db *
build(const struct set *s)
{
    struct buf b;
    struct fingerprint_db *db = NULL;
    const char *why = NULL;

    buf_init(&b, 1u << 20);
    assert_int_equal(trainfp_build(s->in, s->n, &b), CM_OK);
    assert_int_equal(fingerprint_db_parse(b.data, b.len, &db, &why), CM_OK);
    buf_clear(&b);
    return db;
}

static void
test_trainfp_groups_and_ham_veto(void **state)
{
    struct set *s = calloc(1, sizeof(*s));
    struct fingerprint_db *db;
    const struct fingerprint_entry *e;

    (void)state;
    assert_non_null(s);
    /* Campaign 0: three spam copies → one body entry.  Two of them carry
     * a .exe attachment → one attachment entry. */
    add(s, 0, 0, MODEL_LABEL_SPAM, false, "a.pdf.exe", "MZ one");
    add(s, 0, 1, MODEL_LABEL_PHISH, false, "a.pdf.exe", "MZ one");
    add(s, 0, 2, MODEL_LABEL_PHISH, false, NULL, NULL);
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_BODY), 1);
    e = fingerprint_db_at(db, 0);
    /* Two of three are phish: the entry is phishing. */
    assert_int_equal(e->category, FINGERPRINT_CAT_PHISHING);
    assert_int_equal(e->weight, TRAINFP_PHISH_WEIGHT);
    assert_string_equal(e->sub, "campaign");
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_ATTACHMENT), 1);
    fingerprint_db_free(db);
    /* Campaign 1: only two junk copies (and one held out): no entry. */
    add(s, 1, 0, MODEL_LABEL_SPAM, false, NULL, NULL);
    add(s, 1, 1, MODEL_LABEL_SPAM, false, NULL, NULL);
    add(s, 1, 2, MODEL_LABEL_SPAM, true, NULL, NULL);
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_BODY), 1);
    fingerprint_db_free(db);
    /* A third training copy makes it a group. */
    add(s, 1, 3, MODEL_LABEL_SPAM, false, NULL, NULL);
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_BODY), 2);
    fingerprint_db_free(db);
    /* A ham copy of campaign 1 vetoes it, and ham carrying the same
     * attachment bytes vetoes that digest. */
    add(s, 1, 4, MODEL_LABEL_HAM, false, "tool.exe", "MZ one");
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_BODY), 1);
    assert_int_equal(fingerprint_db_at(db, 0)->category,
                     FINGERPRINT_CAT_PHISHING);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_ATTACHMENT), 0);
    fingerprint_db_free(db);
    set_free(s);
    free(s);
}

static void
test_trainfp_deterministic(void **state)
{
    struct set *s = calloc(1, sizeof(*s));
    struct buf a;
    struct buf b;

    (void)state;
    assert_non_null(s);
    for (unsigned c = 0; c < 5; c++) {
        add(s, c % 2, c, MODEL_LABEL_SPAM, false, "x.js", c < 2 ? "j1" : "j2");
    }
    add(s, 0, 7, MODEL_LABEL_SPAM, false, NULL, NULL);
    buf_init(&a, 1u << 20);
    buf_init(&b, 1u << 20);
    assert_int_equal(trainfp_build(s->in, s->n, &a), CM_OK);
    assert_int_equal(trainfp_build(s->in, s->n, &b), CM_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    buf_clear(&a);
    buf_clear(&b);
    set_free(s);
    free(s);
}

/* A stored zip of one member "invoice.exe\0.pdf" (no data): a local
 * header, its central directory entry and the end record. */
static const uint8_t zip_nul_name[] = {
    'P', 'K', 3, 4, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 16, 0, 0, 0, 'i', 'n', 'v', 'o', 'i', 'c', 'e', '.', 'e',
    'x', 'e', 0, '.', 'p', 'd', 'f',
    'P', 'K', 1, 2, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    'i', 'n', 'v', 'o', 'i', 'c', 'e', '.', 'e', 'x', 'e', 0, '.', 'p', 'd',
    'f',
    'P', 'K', 5, 6, 0, 0, 0, 0, 1, 0, 1, 0, 62, 0, 0, 0, 46, 0, 0, 0, 0, 0,
};

/* A zip member named "invoice.exe\0.pdf" unpacks as invoice.exe (tools
 * end names at the NUL) and the engine's executable-in-zip rule says so:
 * training must call the attachment dangerous too, so two junk copies
 * give an attachment entry, as a plain .exe does. */
static void
test_trainfp_zip_member_cut_at_nul(void **state)
{
    struct set *s = calloc(1, sizeof(*s));
    struct fingerprint_db *db;

    (void)state;
    assert_non_null(s);
    for (unsigned c = 0; c < 3; c++) {
        struct msg *m = &s->m[s->n];

        add(s, 0, c, MODEL_LABEL_SPAM, false, NULL, NULL);
        trainfp_item_free((struct trainfp_item *)(uintptr_t)s->in[s->n - 1]
                              .fp);
        m->part.content_type = "application/zip";
        m->part.charset = "";
        m->part.filename = "files.zip";
        m->part.data = zip_nul_name;
        m->part.data_len = sizeof(zip_nul_name);
        m->part.is_attachment = c < 2;
        m->doc.parts = &m->part;
        m->doc.n_parts = 1;
        s->in[s->n - 1].fp = collect_doc(&m->doc);
    }
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_ATTACHMENT), 1);
    fingerprint_db_free(db);
    set_free(s);
    free(s);
}

/* ---- reported junk and URL digests ------------------------------------ */

struct umsg {
    struct msg m;
    struct mime_url urls[2];
};

/* The next input of s: one URL (and its host) from sender. */
static void
add_url(struct set *s, struct umsg *u, uint8_t label, uint64_t sender,
        const char *url, const char *host)
{
    memset(u, 0, sizeof(*u));
    /* A text too short for a signature: only the URL counts. */
    u->m.doc.text = "short";
    u->m.doc.text_len = 5;
    u->urls[0].url = url;
    u->urls[0].url_len = strlen(url);
    u->urls[0].host = host;
    u->urls[0].host_len = strlen(host);
    u->m.doc.urls = u->urls;
    u->m.doc.n_urls = 1;
    s->in[s->n].fp = collect_doc(&u->m.doc);
    s->in[s->n].label = label;
    s->in[s->n].sender = sender;
    s->n++;
}

static void
test_trainfp_reported(void **state)
{
    struct set *s = calloc(1, sizeof(*s));
    struct fingerprint_db *db;
    const struct fingerprint_entry *e;
    static char big[1024];

    (void)state;
    assert_non_null(s);
    memset(big, 'P', sizeof(big) - 1);
    /* One reported phish: its own body entry, and its (non-image, big
     * enough) attachment becomes a digest of the report's category. */
    add(s, 0, 0, MODEL_LABEL_PHISH, false, "invoice.pdf", big);
    s->in[0].is_reported = true;
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_BODY), 1);
    e = fingerprint_db_at(db, 0);
    assert_int_equal(e->category, FINGERPRINT_CAT_PHISHING);
    assert_string_equal(e->sub, "reported");
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_ATTACHMENT), 1);
    e = fingerprint_db_at(db, 1);
    assert_int_equal(e->kind, FINGERPRINT_ATTACHMENT);
    assert_int_equal(e->category, FINGERPRINT_CAT_PHISHING);
    assert_string_equal(e->sub, "reported-attachment");
    fingerprint_db_free(db);
    /* The same message not reported: one sighting is no campaign, and a
     * harmless attachment of unreported junk is no entry. */
    s->in[0].is_reported = false;
    db = build(s);
    assert_int_equal(fingerprint_db_size(db), 0);
    fingerprint_db_free(db);
    /* Reported twice (two copies): still one entry. */
    s->in[0].is_reported = true;
    add(s, 0, 1, MODEL_LABEL_PHISH, false, NULL, NULL);
    s->in[1].is_reported = true;
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_BODY), 1);
    fingerprint_db_free(db);
    /* Training ham matching it, or holding the attachment, vetoes. */
    add(s, 0, 2, MODEL_LABEL_HAM, false, "invoice.pdf", big);
    db = build(s);
    assert_int_equal(fingerprint_db_size(db), 0);
    fingerprint_db_free(db);
    set_free(s);
    free(s);
}

static void
test_trainfp_reported_small_or_image(void **state)
{
    struct set *s = calloc(1, sizeof(*s));
    struct fingerprint_db *db;
    static char big[1024];

    (void)state;
    assert_non_null(s);
    memset(big, 'G', sizeof(big) - 1);
    add(s, 0, 0, MODEL_LABEL_SPAM, false, "tiny.txt", "too small");
    s->in[0].is_reported = true;
    /* A brand logo: an image, however big, is no campaign marker. */
    trainfp_item_free(collect(&s->m[1], 1, 0, NULL, NULL));
    s->m[1].part.content_type = "image/png";
    s->m[1].part.charset = "";
    s->m[1].part.filename = "logo.png";
    s->m[1].part.data = (const uint8_t *)big;
    s->m[1].part.data_len = sizeof(big) - 1;
    s->m[1].part.is_attachment = true;
    s->m[1].doc.parts = &s->m[1].part;
    s->m[1].doc.n_parts = 1;
    s->in[1].fp = collect_doc(&s->m[1].doc);
    s->in[1].label = MODEL_LABEL_SPAM;
    s->in[1].is_reported = true;
    s->n = 2;
    db = build(s);
    /* Two body entries, no attachment entry. */
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_BODY), 2);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_ATTACHMENT), 0);
    fingerprint_db_free(db);
    set_free(s);
    free(s);
}

static void
test_trainfp_urls(void **state)
{
    struct set *s = calloc(1, sizeof(*s));
    struct umsg *u = calloc(16, sizeof(*u));
    struct fingerprint_db *db;
    uint8_t d[FINGERPRINT_DIGEST_LEN];
    const struct fingerprint_entry *e;
    const char *url = "http://pills.example/buy?id=1&utm_source=x";
    const char *host = "pills.example";

    (void)state;
    assert_non_null(s);
    assert_non_null(u);
    /* Four junk messages, three senders: no URL entry yet. */
    add_url(s, &u[0], MODEL_LABEL_SPAM, 1, url, host);
    add_url(s, &u[1], MODEL_LABEL_SPAM, 1, url, host);
    add_url(s, &u[2], MODEL_LABEL_PHISH, 2, url, host);
    add_url(s, &u[3], MODEL_LABEL_SPAM, 3, url, host);
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_URL), 0);
    fingerprint_db_free(db);
    /* A fourth sender (same URL over https, tracking parameter changed:
     * the same normalised URL). */
    add_url(s, &u[4], MODEL_LABEL_SPAM, 4,
            "https://PILLS.example/buy?id=1&utm_source=y", "pills.example");
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_URL), 1);
    assert_true(fingerprint_url_digest(url, strlen(url), d));
    e = fingerprint_db_match_digest(db, FINGERPRINT_URL, d);
    assert_non_null(e);
    assert_int_equal(e->category, FINGERPRINT_CAT_SPAM);
    assert_string_equal(e->sub, "campaign-url");
    fingerprint_db_free(db);
    /* Junk linking the host under three distinct URLs in all is still a
     * campaign's host; under four it is a real site junk refers to. */
    add_url(s, &u[5], MODEL_LABEL_SPAM, 5, "http://pills.example/a", host);
    add_url(s, &u[6], MODEL_LABEL_SPAM, 5, "http://pills.example/b", host);
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_URL), 1);
    fingerprint_db_free(db);
    add_url(s, &u[7], MODEL_LABEL_SPAM, 5, "http://pills.example/c", host);
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_URL), 0);
    fingerprint_db_free(db);
    set_free(s);
    s->n = 0;
    /* A front page never becomes an entry, however often sent. */
    for (unsigned k = 0; k < 6; k++) {
        add_url(s, &u[k], MODEL_LABEL_SPAM, k, "http://front.example/",
                "front.example");
    }
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_URL), 0);
    fingerprint_db_free(db);
    set_free(s);
    s->n = 0;
    for (unsigned k = 0; k < 5; k++) {
        add_url(s, &u[k], MODEL_LABEL_PHISH, k, url, host);
    }
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_URL), 1);
    assert_int_equal(fingerprint_db_at(db, 0)->category,
                     FINGERPRINT_CAT_PHISHING);
    fingerprint_db_free(db);
    /* Ham with another URL on the same host vetoes it. */
    add_url(s, &u[5], MODEL_LABEL_HAM, 9, "http://pills.example/about",
            host);
    db = build(s);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_URL), 0);
    fingerprint_db_free(db);
    for (size_t i = 0; i < s->n; i++) {
        trainfp_item_free((struct trainfp_item *)(uintptr_t)s->in[i].fp);
    }
    free(u);
    free(s);
}

/* More training signatures of a class than a section may hold entries
 * (CAPS_FINGERPRINT_ENTRIES_MAX; the training caps allow
 * CAPS_TRAIN_MESSAGES_MAX messages): the build still works, and the ham
 * among them still vetoes. */
static void
test_trainfp_many_signatures(void **state)
{
    size_t n_ham = CAPS_FINGERPRINT_ENTRIES_MAX + 1;
    struct trainfp_input *in = calloc(n_ham + 4, sizeof(*in));
    struct msg *m = calloc(3, sizeof(*m));
    struct trainfp_item *it[3];
    struct buf b;
    struct fingerprint_db *db = NULL;
    const char *why = NULL;

    (void)state;
    assert_non_null(in);
    assert_non_null(m);
    it[0] = collect(&m[0], 1, 0, NULL, NULL); /* the ham text */
    it[1] = collect(&m[1], 0, 0, NULL, NULL); /* a campaign */
    it[2] = collect(&m[2], 0, 1, NULL, NULL);
    for (size_t i = 0; i < n_ham; i++) {
        in[i].fp = it[0];
        in[i].label = MODEL_LABEL_HAM;
    }
    for (size_t i = 0; i < 3; i++) {
        in[n_ham + i].fp = it[1 + i % 2];
        in[n_ham + i].label = MODEL_LABEL_SPAM;
    }
    buf_init(&b, 1u << 20);
    assert_int_equal(trainfp_build(in, n_ham + 3, &b), CM_OK);
    assert_int_equal(fingerprint_db_parse(b.data, b.len, &db, &why), CM_OK);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_BODY), 1);
    fingerprint_db_free(db);
    /* One junk copy of the ham text: still vetoed. */
    in[n_ham + 3].fp = it[0];
    in[n_ham + 3].label = MODEL_LABEL_SPAM;
    in[n_ham + 2].fp = it[0];
    in[n_ham + 1].fp = it[0];
    b.len = 0;
    assert_int_equal(trainfp_build(in, n_ham + 4, &b), CM_OK);
    assert_int_equal(fingerprint_db_parse(b.data, b.len, &db, &why), CM_OK);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_BODY), 0);
    fingerprint_db_free(db);
    buf_clear(&b);
    for (size_t i = 0; i < 3; i++) {
        trainfp_item_free(it[i]);
    }
    free(m);
    free(in);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trainfp_collect),
        cmocka_unit_test(test_trainfp_collect_enomem),
        cmocka_unit_test(test_trainfp_groups_and_ham_veto),
        cmocka_unit_test(test_trainfp_deterministic),
        cmocka_unit_test(test_trainfp_zip_member_cut_at_nul),
        cmocka_unit_test(test_trainfp_reported),
        cmocka_unit_test(test_trainfp_reported_small_or_image),
        cmocka_unit_test(test_trainfp_urls),
        cmocka_unit_test(test_trainfp_many_signatures),
    };

    return cmocka_run_group_tests_name("trainfp", tests, NULL, NULL);
}
