/*
 * test_trainrep.c -- cmtool train's REPUTATION builder: the rules for
 * derived blocks and allows (counts, senders, no opposite label), held-out
 * items left out, list entries overriding derived ones, determinism, and
 * the margin an item gets.
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
#include "mime.h"
#include "model.h"
#include "replist.h"
#include "reputation.h"
#include "trainrep.h"

#define ITEMS_MAX 128u

struct set {
    struct trainrep_item *items[ITEMS_MAX];
    struct trainrep_input in[ITEMS_MAX];
    size_t n;
};

/* Add n messages from sender domain dom (k distinct senders) linking to
 * url_host, with label. */
static void
add(struct set *s, size_t n, size_t senders, const char *dom,
    const char *url_host, uint8_t label, bool is_test)
{
    struct arena *a = arena_new(1u << 20);

    assert_non_null(a);
    for (size_t i = 0; i < n; i++) {
        char msg[512];
        struct mime_doc doc;
        size_t who = i % senders;

        snprintf(msg, sizeof(msg),
                 "From: user%zu@mail.%s\nSubject: x\n\nsee "
                 "http://www.%s/page%zu\n",
                 who, dom, url_host, i);
        arena_reset(a);
        assert_int_equal(mime_parse(a, (const uint8_t *)msg, strlen(msg),
                                    &doc),
                         CM_OK);
        assert_true(s->n < ITEMS_MAX);
        s->items[s->n] = trainrep_collect(&doc, NULL,
                                          (uint64_t)(who + 1) * 7919u +
                                              (uint64_t)dom[0]);
        assert_non_null(s->items[s->n]);
        s->in[s->n].rep = s->items[s->n];
        s->in[s->n].label = label;
        s->in[s->n].is_test = is_test;
        s->n++;
    }
    arena_free(a);
}

static void
set_free(struct set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        trainrep_item_free(s->items[i]);
    }
}

static struct reputation_db *
build(const struct set *s, const struct replist *lists,
      enum trainrep_derive derive, struct buf *b)
{
    struct reputation_db *db = NULL;
    const char *why = NULL;

    buf_reset(b);
    assert_int_equal(trainrep_build(s->in, s->n, lists, derive, b), CM_OK);
    assert_int_equal(reputation_db_parse(b->data, b->len, &db, &why), CM_OK);
    return db;
}

static const struct reputation_entry *
find(const struct reputation_db *db, enum reputation_kind kind,
     const char *host)
{
    return reputation_match_host(db, kind, host, strlen(host));
}

static void
test_trainrep_rules(void **state)
{
    static struct set s;
    struct buf b;
    struct reputation_db *db;
    const struct reputation_entry *e;

    (void)state;
    memset(&s, 0, sizeof(s));
    buf_init(&b, 1u << 20);
    /* Junk: 12 from 4 senders (blocked), 12 from 2 senders (too few),
     * 9 from 5 senders (too few messages), 12 from 4 senders whose URL
     * domain is also in one ham message (not blocked). */
    add(&s, 12, 4, "spam-a.example", "spam-a.example", MODEL_LABEL_SPAM,
        false);
    add(&s, 12, 2, "spam-b.example", "spam-b.example", MODEL_LABEL_SPAM,
        false);
    add(&s, 9, 5, "spam-c.example", "spam-c.example", MODEL_LABEL_PHISH,
        false);
    add(&s, 12, 4, "spam-d.example", "shared.example", MODEL_LABEL_PHISH,
        false);
    /* Ham: 25 from 5 senders (allowed), one linking to shared.example. */
    add(&s, 25, 5, "ham-a.example", "ham-a.example", MODEL_LABEL_HAM, false);
    add(&s, 1, 1, "ham-b.example", "shared.example", MODEL_LABEL_HAM, false);
    /* Held out: never counted. */
    add(&s, 30, 10, "held.example", "held.example", MODEL_LABEL_SPAM, true);

    db = build(&s, NULL, TRAINREP_DERIVE_ALL, &b);
    e = find(db, REPUTATION_SENDER_DOMAIN, "x.spam-a.example");
    assert_non_null(e);
    assert_int_equal(e->action, REPUTATION_BLOCK);
    assert_int_equal(e->category, REPUTATION_CAT_SPAM);
    assert_in_range(e->weight, TRAINREP_WEIGHT_MIN, TRAINREP_WEIGHT_MAX);
    assert_non_null(find(db, REPUTATION_URL_HOST, "spam-a.example"));
    assert_null(find(db, REPUTATION_SENDER_DOMAIN, "spam-b.example"));
    assert_null(find(db, REPUTATION_SENDER_DOMAIN, "spam-c.example"));
    e = find(db, REPUTATION_SENDER_DOMAIN, "spam-d.example");
    assert_non_null(e);
    assert_int_equal(e->category, REPUTATION_CAT_PHISHING);
    assert_null(find(db, REPUTATION_URL_HOST, "shared.example"));
    e = find(db, REPUTATION_URL_HOST, "ham-a.example");
    assert_non_null(e);
    assert_int_equal(e->action, REPUTATION_ALLOW);
    assert_in_range(-e->weight, TRAINREP_WEIGHT_MIN, TRAINREP_WEIGHT_MAX);
    assert_null(find(db, REPUTATION_SENDER_DOMAIN, "held.example"));
    /* A junk item of spam-a gets its block weights (sender and URL). */
    assert_true(trainrep_item_margin(db, s.items[0]) > 0);
    assert_int_equal(trainrep_item_margin(NULL, s.items[0]), 0);
    reputation_db_free(db);

    /* Blocks only, and none at all. */
    db = build(&s, NULL, TRAINREP_DERIVE_BLOCK, &b);
    assert_null(find(db, REPUTATION_URL_HOST, "ham-a.example"));
    assert_non_null(find(db, REPUTATION_URL_HOST, "spam-a.example"));
    reputation_db_free(db);
    db = build(&s, NULL, TRAINREP_DERIVE_NONE, &b);
    assert_int_equal(reputation_db_size(db), 0);
    reputation_db_free(db);
    buf_clear(&b);
    set_free(&s);
}

static void
test_trainrep_lists_win_and_deterministic(void **state)
{
    static struct set s;
    struct replist l = {0};
    char err[128];
    const char *text = "allow domain spam-a.example 1\n"
                       "block ip 192.0.2.0/24 4 malware\n";
    struct buf b1;
    struct buf b2;
    struct reputation_db *db;
    const struct reputation_entry *e;

    (void)state;
    memset(&s, 0, sizeof(s));
    add(&s, 12, 4, "spam-a.example", "spam-a.example", MODEL_LABEL_SPAM,
        false);
    add(&s, 3, 3, "ham-a.example", "ham-a.example", MODEL_LABEL_HAM, false);
    assert_int_equal(replist_parse("l", (const uint8_t *)text, strlen(text),
                                   &l, err, sizeof(err)),
                     CM_OK);
    buf_init(&b1, 1u << 20);
    buf_init(&b2, 1u << 20);
    db = build(&s, &l, TRAINREP_DERIVE_ALL, &b1);
    e = find(db, REPUTATION_SENDER_DOMAIN, "spam-a.example");
    assert_non_null(e);
    assert_int_equal(e->action, REPUTATION_ALLOW); /* the list's */
    assert_int_equal(e->weight, -100);
    assert_int_equal(reputation_db_count(db, REPUTATION_IPV4,
                                         REPUTATION_BLOCK), 1);
    reputation_db_free(db);
    db = build(&s, &l, TRAINREP_DERIVE_ALL, &b2);
    reputation_db_free(db);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.data, b2.data, b1.len);
    buf_clear(&b1);
    buf_clear(&b2);
    replist_clear(&l);
    set_free(&s);
}

/* A sender domain or URL host that is itself a public suffix ("co.uk",
 * "github.io": url_registered_domain returns it whole) earns no entry:
 * an entry covers its subdomains, so it would block (or allow) every
 * domain registered under it, unrelated to the messages counted. */
static void
test_trainrep_public_suffix(void **state)
{
    static struct set s;
    struct arena *a = arena_new(1u << 20);
    struct buf b;
    struct reputation_db *db;

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_non_null(a);
    buf_init(&b, 1u << 20);
    for (size_t i = 0; i < 12; i++) {
        char msg[256];
        struct mime_doc doc;

        snprintf(msg, sizeof(msg),
                 "From: user%zu@co.uk\nSubject: x\n\nsee "
                 "http://github.io/page%zu\n",
                 i % 4, i);
        arena_reset(a);
        assert_int_equal(mime_parse(a, (const uint8_t *)msg, strlen(msg),
                                    &doc),
                         CM_OK);
        s.items[s.n] = trainrep_collect(&doc, NULL, i % 4 + 1);
        assert_non_null(s.items[s.n]);
        s.in[s.n].rep = s.items[s.n];
        s.in[s.n].label = MODEL_LABEL_SPAM;
        s.n++;
    }
    add(&s, 25, 5, "ham-a.example", "ham-a.example", MODEL_LABEL_HAM, false);
    db = build(&s, NULL, TRAINREP_DERIVE_ALL, &b);
    assert_null(find(db, REPUTATION_SENDER_DOMAIN, "bbc.co.uk"));
    assert_null(find(db, REPUTATION_SENDER_DOMAIN, "co.uk"));
    assert_null(find(db, REPUTATION_URL_HOST, "someone.github.io"));
    /* The ordinary domain still gets its entry. */
    assert_non_null(find(db, REPUTATION_SENDER_DOMAIN, "ham-a.example"));
    reputation_db_free(db);
    buf_clear(&b);
    set_free(&s);
    arena_free(a);
}

/* A message whose last link's host comes after `filler` other hosts.
 * The engine's reputation check reads every URL the parse kept (up to
 * MIME_MAX_URLS), so the trainer must too. */
static struct trainrep_item *
collect_many(struct arena *a, const char *from, size_t filler,
             const char *last, uint64_t sender)
{
    struct buf msg;
    struct mime_doc doc;
    struct trainrep_item *it;
    char line[128];

    buf_init(&msg, 1u << 20);
    snprintf(line, sizeof(line), "From: %s\nSubject: x\n\n", from);
    assert_int_equal(buf_append(&msg, line, strlen(line)), CM_OK);
    for (size_t i = 0; i < filler; i++) {
        snprintf(line, sizeof(line), "http://www.filler%zu.example/\n", i);
        assert_int_equal(buf_append(&msg, line, strlen(line)), CM_OK);
    }
    snprintf(line, sizeof(line), "http://www.%s/x\n", last);
    assert_int_equal(buf_append(&msg, line, strlen(line)), CM_OK);
    arena_reset(a);
    assert_int_equal(mime_parse(a, msg.data, msg.len, &doc), CM_OK);
    it = trainrep_collect(&doc, NULL, sender);
    assert_non_null(it);
    buf_clear(&msg);
    return it;
}

/* A domain junk links to and ham links to only after 40 other hosts is
 * in ham: no block entry for it (keeping 16 hosts per message derived a
 * block the engine then applied to that very ham), and a listed host
 * past the 16th counts in the item's margin as it does in the engine. */
static void
test_trainrep_many_hosts(void **state)
{
    static struct set s;
    struct arena *a = arena_new(1u << 22);
    struct replist l = {0};
    char err[128];
    const char *text = "block urlhost late.example 3\n";
    struct reputation_db *db;
    struct buf b;

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_non_null(a);
    buf_init(&b, 1u << 20);
    add(&s, 12, 4, "spam-a.example", "shared.example", MODEL_LABEL_SPAM,
        false);
    for (size_t i = 0; i < 3; i++) {
        s.items[s.n] = collect_many(a, "news@ham-a.example", 40,
                                    "shared.example", 1000u + i);
        s.in[s.n].rep = s.items[s.n];
        s.in[s.n].label = MODEL_LABEL_HAM;
        s.n++;
    }
    db = build(&s, NULL, TRAINREP_DERIVE_ALL, &b);
    assert_non_null(find(db, REPUTATION_SENDER_DOMAIN, "spam-a.example"));
    assert_null(find(db, REPUTATION_URL_HOST, "shared.example"));
    reputation_db_free(db);

    assert_int_equal(replist_parse("l", (const uint8_t *)text, strlen(text),
                                   &l, err, sizeof(err)),
                     CM_OK);
    db = build(&s, &l, TRAINREP_DERIVE_NONE, &b);
    {
        struct trainrep_item *it =
            collect_many(a, "x@ham-b.example", 40, "late.example", 7);

        assert_int_equal(trainrep_item_margin(db, it), 300);
        trainrep_item_free(it);
    }
    reputation_db_free(db);
    replist_clear(&l);
    buf_clear(&b);
    set_free(&s);
    arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trainrep_rules),
        cmocka_unit_test(test_trainrep_public_suffix),
        cmocka_unit_test(test_trainrep_many_hosts),
        cmocka_unit_test(test_trainrep_lists_win_and_deterministic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
