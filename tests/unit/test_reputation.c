/*
 * test_reputation.c -- the REPUTATION section format and parser, the
 * longest-prefix and parent-domain lookups, the peer-IP rule, the check of
 * a parsed message, and the plain-text list parser (replist).
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
#include "mime.h"
#include "queuefile.h"
#include "replist.h"
#include "reputation.h"

/* Entries of a list text; the test fails on a parse error. */
static void
list_of(const char *text, struct replist *l)
{
    char err[256] = "";
    enum cm_err rc = replist_parse("t.list", (const uint8_t *)text,
                                   strlen(text), l, err, sizeof(err));

    if (rc != CM_OK) {
        fail_msg("list did not parse: %s", err);
    }
}

/* A database from list text. */
static struct reputation_db *
db_of(const char *text)
{
    struct replist l = {0};
    struct buf b;
    struct reputation_db *db = NULL;
    const char *why = NULL;

    list_of(text, &l);
    buf_init(&b, 1u << 24);
    assert_int_equal(reputation_format(l.e, l.n, &b), CM_OK);
    assert_int_equal(reputation_db_parse(b.data, b.len, &db, &why), CM_OK);
    buf_clear(&b);
    replist_clear(&l);
    return db;
}

static void
ip_of(const char *text, uint8_t out[16])
{
    assert_true(reputation_ip_parse(text, strlen(text), out));
}

static const char *const sample_list =
    "# sample\n"
    "block ip 10.0.0.0/8 1\n"
    "block ip 10.1.0.0/16 2 phishing\n"
    "allow ip 10.1.2.3 3\n"
    "block ip 2001:db8::/32 4 malware\n"
    "block ip 2001:db8:1::/48 5\n"
    "block domain Spam.Example. 6\n"
    "allow domain partner.example\n"
    "block urlhost bad.example 7 phishing\n"
    "block urlhost bad.example 9 malware  # repeated: the first wins\n";

static void
test_reputation_round_trip(void **state)
{
    struct replist l = {0};
    struct buf a;
    struct buf b;
    struct reputation_db *db = NULL;
    const char *why = NULL;
    struct reputation_item *copy;

    (void)state;
    list_of(sample_list, &l);
    assert_int_equal(l.n, 9);
    buf_init(&a, 1u << 20);
    buf_init(&b, 1u << 20);
    assert_int_equal(reputation_format(l.e, l.n, &a), CM_OK);
    assert_int_equal(reputation_db_parse(a.data, a.len, &db, &why), CM_OK);
    assert_int_equal(reputation_db_size(db), 8);
    assert_int_equal(reputation_db_count(db, REPUTATION_IPV4,
                                         REPUTATION_BLOCK), 2);
    assert_int_equal(reputation_db_count(db, REPUTATION_IPV4,
                                         REPUTATION_ALLOW), 1);
    assert_int_equal(reputation_db_count(db, REPUTATION_IPV6,
                                         REPUTATION_BLOCK), 2);
    /* Canonical order: the longest IPv4 prefix first. */
    assert_int_equal(reputation_db_at(db, 0)->prefix, 32);
    {
        const struct reputation_entry *e = reputation_match_host(
            db, REPUTATION_URL_HOST, "bad.example", 11);

        assert_non_null(e);
        assert_int_equal(e->weight, 700);
        assert_int_equal(e->category, REPUTATION_CAT_PHISHING);
    }
    /* The parsed entries format back to the same bytes, in any order. */
    copy = calloc(reputation_db_size(db), sizeof(*copy));
    assert_non_null(copy);
    for (size_t i = 0; i < reputation_db_size(db); i++) {
        reputation_entry_item(reputation_db_at(db, i),
                              &copy[reputation_db_size(db) - 1 - i]);
    }
    assert_int_equal(reputation_format(copy, reputation_db_size(db), &b),
                     CM_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    free(copy);
    reputation_db_free(db);
    buf_clear(&a);
    buf_clear(&b);
    replist_clear(&l);
}

/* A one-entry section with the given entry bytes after the header. */
static size_t
section(uint8_t *out, uint32_t version, uint32_t n, const uint8_t *body,
        size_t body_len)
{
    memcpy(out, "CMRP", 4);
    for (unsigned i = 0; i < 4; i++) {
        out[4 + i] = (uint8_t)(version >> (8 * i));
        out[8 + i] = (uint8_t)(n >> (8 * i));
    }
    memcpy(out + 12, body, body_len);
    return 12 + body_len;
}

static void
expect_refused(const uint8_t *p, size_t len, enum cm_err want)
{
    struct reputation_db *db = NULL;
    const char *why = NULL;

    assert_int_equal(reputation_db_parse(p, len, &db, &why), want);
    assert_null(db);
    assert_non_null(why);
}

/*
 * A key length byte above REPUTATION_KEY_MAX (254, 255) is refused before
 * the key is copied: reputation_item.key holds REPUTATION_KEY_MAX + 1
 * bytes, so copying 255 wrote one byte past it (into the struct's tail
 * padding, invisible to ASan) before reputation_item_is_valid refused the
 * entry.  The reason names the length, which only the early check gives.
 */
static void
test_reputation_key_len_over_max_refused_before_copy(void **state)
{
    static uint8_t body[7 + 255];
    static uint8_t p[12 + sizeof(body)];
    struct reputation_db *db = NULL;
    const char *why = NULL;

    (void)state;
    for (unsigned kl = REPUTATION_KEY_MAX + 1; kl <= 255; kl++) {
        memset(body, 'a', sizeof(body));
        body[0] = 3; /* sender domain */
        body[1] = 2; /* block */
        body[2] = 1; /* spam */
        body[3] = 0;
        body[4] = 100;
        body[5] = 0;
        body[6] = (uint8_t)kl;
        db = NULL;
        why = NULL;
        assert_int_equal(reputation_db_parse(p,
                                             section(p, 1, 1, body,
                                                     7 + kl),
                                             &db, &why),
                         CM_EPARSE);
        assert_null(db);
        assert_non_null(why);
        assert_non_null(strstr(why, "REPUTATION_KEY_MAX"));
    }
    /* The longest allowed key still loads. */
    body[6] = (uint8_t)REPUTATION_KEY_MAX;
    assert_int_equal(reputation_db_parse(p,
                                         section(p, 1, 1, body,
                                                 7 + REPUTATION_KEY_MAX),
                                         &db, &why),
                     CM_OK);
    assert_int_equal(reputation_db_size(db), 1);
    reputation_db_free(db);
}

static void
test_reputation_bad_sections_refused(void **state)
{
    /* block ip 192.0.2.0/24 weight 500 spam */
    static const uint8_t good[] = {1, 2, 1, 24, 0xf4, 0x01, 4, 192, 0, 2, 0};
    uint8_t p[128];
    uint8_t e[sizeof(good)];
    size_t n;
    struct reputation_db *db = NULL;
    const char *why = NULL;

    (void)state;
    n = section(p, 1, 1, good, sizeof(good));
    assert_int_equal(reputation_db_parse(p, n, &db, &why), CM_OK);
    reputation_db_free(db);

    expect_refused((const uint8_t *)"CMRX\1\0\0\0\0\0\0\0", 12, CM_EPARSE);
    n = section(p, 2, 1, good, sizeof(good));
    expect_refused(p, n, CM_EVERSION);
    n = section(p, 1, 1, good, sizeof(good));
    expect_refused(p, n - 1, CM_EPARSE);       /* truncated */
    p[n] = 0;
    expect_refused(p, n + 1, CM_EPARSE);       /* a byte left over */
    n = section(p, 1, 2, good, sizeof(good));  /* count says 2 */
    expect_refused(p, n, CM_EPARSE);
    n = section(p, 1, 2000000, good, sizeof(good));
    expect_refused(p, n, CM_ELIMIT);

    memcpy(e, good, sizeof(e));
    e[10] = 1; /* host bit past /24 */
    expect_refused(p, section(p, 1, 1, e, sizeof(e)), CM_EPARSE);
    memcpy(e, good, sizeof(e));
    e[3] = 0; /* /0 */
    expect_refused(p, section(p, 1, 1, e, sizeof(e)), CM_EPARSE);
    memcpy(e, good, sizeof(e));
    e[1] = 1; /* allow with a category and a positive weight */
    expect_refused(p, section(p, 1, 1, e, sizeof(e)), CM_EPARSE);
    memcpy(e, good, sizeof(e));
    e[4] = 0xe9;
    e[5] = 0x03; /* weight 1001 */
    expect_refused(p, section(p, 1, 1, e, sizeof(e)), CM_EPARSE);
    memcpy(e, good, sizeof(e));
    e[0] = 9; /* unknown kind */
    expect_refused(p, section(p, 1, 1, e, sizeof(e)), CM_EPARSE);
    {
        /* Two domain entries out of order, then repeated. */
        uint8_t two[] = {3, 2, 1, 0, 100, 0, 1, 'b', 3, 2, 1, 0, 100, 0, 1,
                         'a'};

        expect_refused(p, section(p, 1, 2, two, sizeof(two)), CM_EPARSE);
        two[15] = 'b';
        expect_refused(p, section(p, 1, 2, two, sizeof(two)), CM_EPARSE);
        two[15] = 'c';
        assert_int_equal(reputation_db_parse(p,
                                             section(p, 1, 2, two,
                                                     sizeof(two)),
                                             &db, &why),
                         CM_OK);
        reputation_db_free(db);
        two[7] = 'B'; /* upper case is not a key */
        two[15] = 'c';
        expect_refused(p, section(p, 1, 2, two, sizeof(two)), CM_EPARSE);
    }
}

static void
test_reputation_longest_prefix(void **state)
{
    struct reputation_db *db = db_of(sample_list);
    uint8_t a[16];

    (void)state;
    ip_of("10.1.2.3", a);
    assert_int_equal(reputation_match_ip(db, a)->weight, -300);
    ip_of("10.1.9.9", a);
    assert_int_equal(reputation_match_ip(db, a)->weight, 200);
    ip_of("10.200.0.1", a);
    assert_int_equal(reputation_match_ip(db, a)->weight, 100);
    ip_of("11.0.0.1", a);
    assert_null(reputation_match_ip(db, a));
    ip_of("::ffff:10.1.2.3", a);
    assert_int_equal(reputation_match_ip(db, a)->weight, -300);
    ip_of("2001:db8:1::7", a);
    assert_int_equal(reputation_match_ip(db, a)->weight, 500);
    ip_of("2001:db8:2::7", a);
    assert_int_equal(reputation_match_ip(db, a)->weight, 400);
    ip_of("2001:db9::1", a);
    assert_null(reputation_match_ip(db, a));
    assert_null(reputation_match_ip(NULL, a));
    reputation_db_free(db);
}

static void
test_reputation_parent_domains(void **state)
{
    struct reputation_db *db = db_of(sample_list);

    (void)state;
    assert_non_null(reputation_match_host(db, REPUTATION_SENDER_DOMAIN,
                                          "spam.example", 12));
    assert_non_null(reputation_match_host(db, REPUTATION_SENDER_DOMAIN,
                                          "a.b.spam.example.", 17));
    assert_null(reputation_match_host(db, REPUTATION_SENDER_DOMAIN,
                                      "notspam.example", 15));
    assert_null(reputation_match_host(db, REPUTATION_SENDER_DOMAIN,
                                      "example", 7));
    /* Kinds stay apart: a sender domain is not a URL host. */
    assert_null(reputation_match_host(db, REPUTATION_URL_HOST,
                                      "spam.example", 12));
    assert_non_null(reputation_match_host(db, REPUTATION_URL_HOST,
                                          "x.bad.example", 13));
    {
        /* Labels piled on the left do not hide the domain. */
        const char *deep = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.bad.example";

        assert_non_null(reputation_match_host(db, REPUTATION_URL_HOST, deep,
                                              strlen(deep)));
    }
    reputation_db_free(db);
}

/* Check a message (envelope lines optional) against db. */
static void
check_message(const struct reputation_db *db, const char *msg,
              struct reputation_hits *hits)
{
    struct arena *a = arena_new(1u << 22);
    struct mime_doc doc;
    struct envelope env;
    size_t off = 0;
    unsigned flags = 0;

    assert_non_null(a);
    queuefile_parse((const uint8_t *)msg, strlen(msg), &env, &off, &flags);
    assert_int_equal(mime_parse(a, (const uint8_t *)msg + off,
                                strlen(msg) - off, &doc),
                     CM_OK);
    reputation_check(db, &doc, &env, hits);
    arena_free(a);
}

static void
test_reputation_peer_ip_rule(void **state)
{
    struct reputation_db *db = db_of("block ip 198.51.100.0/24 4\n"
                                     "block ip 203.0.113.9 3\n");
    struct reputation_hits h;

    (void)state;
    /* The envelope's peer IP. */
    check_message(db,
                  "S <a@x.example> SMTP [198.51.100.7]\n"
                  "R <b@y.example>\n\n"
                  "From: a@x.example\nSubject: hi\n\nbody\n",
                  &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.total, 400);
    /* No usable envelope IP: the topmost Received with a public from-IP,
     * past a private relay; the forged lower one is not read. */
    check_message(db,
                  "S <a@x.example> SMTP [0.0.0.0]\n"
                  "R <b@y.example>\n\n"
                  "Received: from relay (relay [10.0.0.5]) by mx; now\n"
                  "Received: from out.example (out.example [203.0.113.9]) "
                  "by relay; now\n"
                  "Received: from forged ([198.51.100.1]) by out; now\n"
                  "From: a@x.example\nSubject: hi\n\nbody\n",
                  &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.total, 300);
    /* An address after " by " is the receiver's, not the sender's. */
    check_message(db,
                  "Received: from out.example by mx [198.51.100.2]; now\n"
                  "From: a@x.example\nSubject: hi\n\nbody\n",
                  &h);
    assert_int_equal(h.n, 0);
    /* A header our side wrote without the client's address (no from
     * clause, or one without a bracketed address) is not a private
     * relay: the walk stops there and the forged header below it is
     * not the peer. */
    check_message(db,
                  "Received: from out.example by mx; now\n"
                  "Received: from forged ([198.51.100.1]) by out; now\n"
                  "From: a@x.example\nSubject: hi\n\nbody\n",
                  &h);
    assert_int_equal(h.n, 0);
    check_message(db,
                  "Received: by mx (Postfix, from userid 0); now\n"
                  "Received: from forged ([198.51.100.1]) by out; now\n"
                  "From: a@x.example\nSubject: hi\n\nbody\n",
                  &h);
    assert_int_equal(h.n, 0);
    /* Past a private relay and a loopback hop (a content filter
     * re-injecting) the next header is still ours. */
    check_message(db,
                  "Received: from localhost (localhost [127.0.0.1]) by mx; "
                  "now\n"
                  "Received: from relay (relay [10.0.0.5]) by mx; now\n"
                  "Received: from out.example (out.example [203.0.113.9]) "
                  "by relay; now\n"
                  "From: a@x.example\nSubject: hi\n\nbody\n",
                  &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.total, 300);
    reputation_db_free(db);
}

/* A client may greet with an address literal ("EHLO [10.0.0.1]", RFC
 * 5321 4.1.3), and MTAs write the greeting into the from clause next to
 * the address they saw: Postfix and sendmail "from HELO (rDNS [ip])",
 * Exim and CGP "from [ip] (helo=HELO)" / "(HELO HELO)".  The greeting is
 * the sender's to choose; the connecting address is not. */
static void
test_reputation_peer_ip_helo_literal(void **state)
{
    struct reputation_db *db = db_of("block ip 203.0.113.0/24 4\n"
                                     "allow ip 192.0.2.7 3\n");
    struct reputation_hits h;
    static const char *const top[] = {
        /* Postfix: a private greeting must not send the rule to the
         * forged header below. */
        "Received: from [10.0.0.1] (unknown [203.0.113.5]) by mx; now\n",
        /* Postfix: an allow-listed greeting must not earn its allow. */
        "Received: from [192.0.2.7] (unknown [203.0.113.5]) by mx; now\n",
        /* sendmail without rDNS */
        "Received: from [192.0.2.7] ([203.0.113.5]) by mx; now\n",
        /* Exim, with and without rDNS */
        "Received: from [203.0.113.5] (helo=[192.0.2.7]) by mx; now\n",
        "Received: from host.example ([203.0.113.5] helo=[192.0.2.7]) "
        "by mx; now\n",
        /* CommuniGate Pro */
        "Received: from [203.0.113.5] (HELO [192.0.2.7]) by mx; now\n",
        "Received: from host.example ([203.0.113.5] verified) by mx; now\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        char msg[1024];

        snprintf(msg, sizeof(msg),
                 "%s"
                 "Received: from forged ([192.0.2.7]) by x; now\n"
                 "From: a@x.example\nSubject: hi\n\nbody\n",
                 top[i]);
        check_message(db, msg, &h);
        assert_int_equal(h.n, 1);
        if (h.total != 400) {
            fail_msg("case %zu: total %d, want 400 (203.0.113.5)", i,
                     h.total);
        }
    }
    reputation_db_free(db);
}

/* Only REPUTATION_HITS_MAX hits are kept, but a block is never the one
 * left out: eight allow-listed links before a blocked one used to fill
 * the list, and the block (its weight and its category) was dropped. */
static void
test_reputation_block_not_hidden_by_allows(void **state)
{
    struct reputation_db *db;
    struct reputation_hits h;
    char text[256] = "";

    (void)state;
    db = db_of("allow urlhost a1.example 1\nallow urlhost a2.example 1\n"
               "allow urlhost a3.example 1\nallow urlhost a4.example 1\n"
               "allow urlhost a5.example 1\nallow urlhost a6.example 1\n"
               "allow urlhost a7.example 1\nallow urlhost a8.example 1\n"
               "block urlhost evil.example 8 phishing\n");
    check_message(db,
                  "From: a@x.example\nSubject: hi\n\n"
                  "http://a1.example/ http://a2.example/ http://a3.example/ "
                  "http://a4.example/ http://a5.example/ http://a6.example/ "
                  "http://a7.example/ http://a8.example/ "
                  "http://evil.example/login\n",
                  &h);
    assert_int_equal(h.n, REPUTATION_HITS_MAX);
    assert_non_null(h.strongest_block);
    assert_int_equal(h.strongest_block->weight, 800);
    assert_int_equal(h.total, 7 * -100 + 800); /* an allow made room */
    reputation_hits_format(&h, true, text, sizeof(text));
    assert_non_null(strstr(text, "url:evil.example:+8.00"));
    reputation_db_free(db);

    /* Full of light blocks: a heavier one takes the lightest's place
     * (the last of equals, b8), which then does not come back. */
    db = db_of("block urlhost b1.example 0.5\nblock urlhost b2.example 0.5\n"
               "block urlhost b3.example 0.5\nblock urlhost b4.example 0.5\n"
               "block urlhost b5.example 0.5\nblock urlhost b6.example 0.5\n"
               "block urlhost b7.example 0.5\nblock urlhost b8.example 0.5\n"
               "block urlhost evil.example 3 malware\n");
    check_message(db,
                  "From: a@x.example\nSubject: hi\n\n"
                  "http://b1.example/ http://b2.example/ http://b3.example/ "
                  "http://b4.example/ http://b5.example/ http://b6.example/ "
                  "http://b7.example/ http://b8.example/ "
                  "http://evil.example/ http://b8.example/x\n",
                  &h);
    assert_int_equal(h.n, REPUTATION_HITS_MAX);
    assert_non_null(h.strongest_block);
    assert_int_equal(h.strongest_block->category, REPUTATION_CAT_MALWARE);
    assert_int_equal(h.total, 7 * 50 + 300);
    reputation_db_free(db);
}

/* Every URL the parse kept is checked: 128 harmless links in front of
 * a blocked one (the model's URL cap) used to push it out of reach. */
static void
test_reputation_block_after_many_urls(void **state)
{
    struct reputation_db *db = db_of("block urlhost evil.example 8 "
                                     "phishing\n");
    struct reputation_hits h;
    struct buf msg;

    (void)state;
    buf_init(&msg, 1u << 20);
    buf_printf(&msg, "From: a@x.example\nSubject: hi\n\n");
    for (unsigned i = 0; i < CAPS_FEATURES_URLS_MAX; i++) {
        buf_printf(&msg, "http://h%u.example/\n", i);
    }
    buf_printf(&msg, "http://evil.example/login\n");
    assert_true(buf_append(&msg, (const uint8_t *)"", 1) == CM_OK);
    check_message(db, (const char *)msg.data, &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.total, 800);
    assert_non_null(h.strongest_block);
    buf_clear(&msg);
    reputation_db_free(db);
}

/* The from clause is read as the server wrote it, before RFC 2047
 * decoding: an encoded-word greeting ("EHLO =?us-ascii?q?...?=", which
 * no MTA decodes) must not turn into parentheses and brackets that
 * name another client or a verified name. */
static void
test_reputation_received_not_decoded(void **state)
{
    struct reputation_db *db = db_of("block ip 203.0.113.0/24 4\n"
                                     "allow ip 192.0.2.7 3\n");
    struct reputation_hits h;
    struct mime_header mh;
    uint8_t ip[16];
    uint8_t want[16];
    const char *name;
    size_t len;

    (void)state;
    check_message(db,
                  "Received: from [203.0.113.5] (HELO "
                  "=?us-ascii?q?x_=28mail=2Ebank=2Eexample_=5B192=2E0=2E2=2E"
                  "7=5D=29?=) by mx; now\n"
                  "From: a@x.example\nSubject: hi\n\nbody\n",
                  &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.total, 400);
    reputation_db_free(db);

    /* Likewise the verified name, for a header given both forms. */
    mh.name = "Received";
    mh.name_len = 8;
    mh.value = "from [203.0.113.5] (HELO x) (mail.bank.example "
               "[192.0.2.7]) by mx";
    mh.value_len = strlen(mh.value);
    mh.raw_value = "from [203.0.113.5] (HELO =?us-ascii?q?x=29_=28mail=2Eba"
                   "nk=2Eexample_=5B192=2E0=2E2=2E7=5D?=) by mx";
    mh.raw_value_len = strlen(mh.raw_value);
    ip_of("203.0.113.5", want);
    assert_true(reputation_received_client(&mh, ip, &name, &len));
    assert_memory_equal(ip, want, 16);
    assert_null(name);
}

static void
test_reputation_check_message(void **state)
{
    struct reputation_db *db = db_of(sample_list);
    struct reputation_hits h;
    char text[128] = "";

    (void)state;
    check_message(db,
                  "From: \"Spam\" <x@mail.spam.example>\n"
                  "Return-Path: <bounce@partner.example>\n"
                  "Subject: hi\n\n"
                  "see http://www.bad.example/a and http://bad.example/b "
                  "and http://good.example/\n",
                  &h);
    assert_int_equal(h.n, 3); /* dom block, dom allow, one url (once) */
    assert_int_equal(h.total, 600 - 500 + 700);
    assert_non_null(h.strongest_block);
    assert_int_equal(h.strongest_block->weight, 700);
    reputation_hits_format(&h, false, text, sizeof(text));
    assert_string_equal(text, "rep=dom:+6.00,dom:-5.00,url:+7.00");
    text[0] = '\0';
    reputation_hits_format(&h, true, text, 40);
    /* What does not fit is left out whole. */
    assert_string_equal(text, "rep-hits=dom:spam.example:+6.00");
    /* An encoded word decoding to an allowed address after the real one
     * is not the sender: "<a@partner.example>" earns no allow. */
    check_message(db,
                  "From: <x@spam.example> "
                  "=?us-ascii?q?=3Ca=40partner.example=3E?=\n"
                  "Subject: hi\n\nbody\n",
                  &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.total, 600);
    reputation_db_free(db);
    /* A list names an IDN host by its ASCII form; a link that writes it
     * in Unicode (Cyrillic 'a' in p\u0430ypal) is the same host. */
    db = db_of("block urlhost xn--pypal-4ve.com 5 phishing\n");
    check_message(db,
                  "From: a@x.example\nContent-Type: text/html\n\n"
                  "<a href=\"https://p\xd0\xb0ypal.com/login\">x</a>\n",
                  &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.total, 500);
    reputation_db_free(db);
    /* So is a sender domain. */
    db = db_of("block domain xn--pypal-4ve.com 4\n");
    check_message(db, "From: service@p\xd0\xb0ypal.com\n\nbody\n", &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.total, 400);
    /* No database: no hits. */
    check_message(NULL, "From: x@spam.example\n\nbody\n", &h);
    assert_int_equal(h.n, 0);
    assert_int_equal(h.total, 0);
    reputation_db_free(db);
}

static void
test_reputation_local_addresses(void **state)
{
    static const char *const local[] = {
        "0.0.0.0", "10.2.3.4", "127.0.0.1", "169.254.1.1", "172.16.0.1",
        "172.31.255.255", "192.168.1.1", "100.64.0.1", "::", "::1",
        "fe80::1", "fd00::1",
        /* IETF protocol assignments (DS-Lite's 192.0.0.1/.2) and the
         * benchmarking range (proxies' fake-IP 198.18/15): never a
         * sender on the Internet (RFC 6890). */
        "192.0.0.2", "198.18.0.1", "198.19.255.255", "::ffff:198.18.3.4"};
    static const char *const public[] = {"172.32.0.1", "100.128.0.1",
                                         "8.8.8.8", "2001:db8::1",
                                         "192.0.1.1", "198.17.255.255",
                                         "198.20.0.1"};
    uint8_t a[16];

    (void)state;
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        ip_of(local[i], a);
        assert_true(reputation_ip_is_local(a));
    }
    for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++) {
        ip_of(public[i], a);
        assert_false(reputation_ip_is_local(a));
    }
    assert_false(reputation_ip_parse("1.2.3", 5, a));
    assert_false(reputation_ip_parse("", 0, a));
}

/* The error message a bad list gives. */
static void
expect_list_error(const char *text, const char *want)
{
    struct replist l = {0};
    char err[256] = "";

    assert_int_not_equal(replist_parse("t.list", (const uint8_t *)text,
                                       strlen(text), &l, err, sizeof(err)),
                         CM_OK);
    if (strstr(err, want) == NULL) {
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    }
    replist_clear(&l);
}

/* The same key allowed and blocked: the first line silently won.  Now
 * replist_check names the later line and the earlier one, across
 * files too; the same action twice (another weight) is not refused. */
static void
test_replist_conflicts(void **state)
{
    struct replist l = {0};
    char err[256] = "";

    (void)state;
    list_of("block domain x.example 5\n"
            "allow ip 192.0.2.0/24\n"
            "# comment\n"
            "allow domain X.example.\n",
            &l);
    assert_int_equal(replist_check(&l, err, sizeof(err)), CM_EPARSE);
    if (strstr(err, "t.list:4:") != err || strstr(err, "t.list:1") == NULL ||
        strstr(err, "x.example") == NULL) {
        fail_msg("conflict message: %s", err);
    }
    replist_clear(&l);

    /* Across files, and an IP written two ways. */
    assert_int_equal(replist_parse("a.list",
                                   (const uint8_t *)"block ip 192.0.2.0/24\n",
                                   22, &l, err, sizeof(err)),
                     CM_OK);
    assert_int_equal(replist_parse("b.list",
                                   (const uint8_t *)"\nallow ip "
                                                    "::ffff:192.0.2.0/120\n",
                                   31, &l, err, sizeof(err)),
                     CM_OK);
    assert_int_equal(replist_check(&l, err, sizeof(err)), CM_EPARSE);
    if (strstr(err, "b.list:2:") != err || strstr(err, "a.list:1") == NULL) {
        fail_msg("conflict message: %s", err);
    }
    replist_clear(&l);

    /* Same action, other weight or category; other prefixes; entries
     * not read from a list (a cartridge's, --merge) are not checked. */
    list_of("block urlhost bad.example 7 phishing\n"
            "block urlhost bad.example 9 malware\n"
            "block ip 10.0.0.0/8\nallow ip 10.0.0.0/16\n",
            &l);
    {
        struct reputation_item it = l.e[0];

        it.action = REPUTATION_ALLOW;
        it.category = REPUTATION_CAT_NONE;
        it.weight = -100;
        assert_int_equal(replist_add(&l, &it), CM_OK);
    }
    err[0] = '\0';
    assert_int_equal(replist_check(&l, err, sizeof(err)), CM_OK);
    assert_string_equal(err, "");
    replist_clear(&l);
}

static void
test_replist_errors(void **state)
{
    char long_line[CAPS_REPUTATION_LINE_MAX + 20];

    (void)state;
    expect_list_error("# ok\n\nfrobnicate ip 1.2.3.4\n", "t.list:3: action");
    expect_list_error("block host x.example\n", "t.list:1: kind");
    expect_list_error("block ip 1.2.3.4/33\n", "t.list:1: prefix length");
    expect_list_error("block ip 1.2.3.4/24\n", "host bits");
    expect_list_error("block ip 1.2.3.0/0\n", "/0");
    expect_list_error("block ip 1.2.3.999\n", "not an IPv4");
    expect_list_error("block ip ::/129\n", "1..128");
    /* prefix lengths are plain decimal: no leading zero, sign or blank */
    expect_list_error("block ip 10.0.0.0/08\n", "t.list:1: prefix length");
    expect_list_error("block ip 2001:db8::/032\n", "prefix length");
    /* an IPv4 octet is plain decimal too: 010 is octal to inet_aton */
    expect_list_error("block ip 010.1.2.3\n",
                      "t.list:1: an IPv4 octet with a leading zero");
    expect_list_error("block ip ::ffff:10.01.0.0/112\n", "leading zero");
    /* the deprecated IPv4-compatible form never matched an IPv4 sender */
    expect_list_error("block ip ::10.0.0.0\n", "t.list:1: IPv4-compatible");
    expect_list_error("block ip ::10.0.0.0/104\n", "IPv4-compatible");
    expect_list_error("block ip 10.0.0.0/+8\n", "prefix length");
    expect_list_error("block ip 10.0.0.0/\n", "prefix length");
    /* the ipv6: tag belongs on an IPv6 address; on a dotted IPv4 one it
     * made /104 pass as 10.0.0.0/8 */
    expect_list_error("block ip ipv6:10.0.0.0/104\n", "t.list:1: ipv6:");
    expect_list_error("block ip ipv6:10.0.0.0\n", "ipv6:");
    expect_list_error("block ip 1.2.3.4 -2\n", "positive");
    expect_list_error("block ip 1.2.3.4 11\n", "weight");
    expect_list_error("block ip 1.2.3.4 0\n", "weight");
    expect_list_error("block ip 1.2.3.4 1.234\n", "weight");
    expect_list_error("allow domain x.example 2 spam\n", "no category");
    expect_list_error("block domain x.example 2 spam spam\n", "t.list:1:");
    expect_list_error("block domain x..example\n", "bad host name");
    expect_list_error("block urlhost bad/host\n", "bad host name");
    expect_list_error("block urlhost\n", "expected ACTION KIND VALUE");
    expect_list_error("block domain a 1 spam x\n", "too many words");
    expect_list_error("block domain a\001b\n", "control character");
    memset(long_line, 'a', sizeof(long_line) - 1);
    long_line[sizeof(long_line) - 1] = '\0';
    expect_list_error(long_line, "line too long");
}

/* A list saved by a Windows editor starts with a UTF-8 byte order mark:
 * it is no part of the first line (as config.c skips it in its files);
 * anywhere else it is still text. */
static void
test_replist_bom(void **state)
{
    struct replist l = {0};

    (void)state;
    list_of("\xef\xbb\xbf" "block ip 192.0.2.1\r\n"
            "allow domain partner.example\r\n",
            &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.e[0].kind, REPUTATION_IPV4);
    replist_clear(&l);
    list_of("\xef\xbb\xbf# comment\n", &l);
    assert_int_equal(l.n, 0);
    expect_list_error("block ip 192.0.2.1\n\xef\xbb\xbf"
                      "allow domain x.example\n",
                      "t.list:2: action");
}

static void
test_replist_forms(void **state)
{
    struct replist l = {0};

    (void)state;
    list_of("block ip 192.0.2.0/24\r\n"
            "  allow   ip\t2001:DB8::/32 -2.5\n"
            "block urlhost X.Example 0.5\n"
            "block domain y.example phishing\n"
            "allow urlhost z.example 3 # trailing comment\n"
            "block ip ::ffff:10.0.0.0/104\n"
            "block ip ipv6:2001:db8:2::/48\n"
            "block ip 10.64.0.0/10\n",
            &l);
    assert_int_equal(l.n, 8);
    /* an IPv4-mapped IPv6 prefix is the IPv4 prefix it covers */
    assert_int_equal(l.e[5].kind, REPUTATION_IPV4);
    assert_int_equal(l.e[5].prefix, 8);
    assert_int_equal(l.e[6].kind, REPUTATION_IPV6);
    assert_int_equal(l.e[6].prefix, 48);
    assert_int_equal(l.e[7].prefix, 10);
    assert_int_equal(l.e[0].kind, REPUTATION_IPV4);
    assert_int_equal(l.e[0].weight, REPUTATION_BLOCK_DEFAULT_CENTI);
    assert_int_equal(l.e[0].category, REPUTATION_CAT_SPAM);
    assert_int_equal(l.e[1].kind, REPUTATION_IPV6);
    assert_int_equal(l.e[1].weight, -250);
    assert_string_equal((const char *)l.e[2].key, "x.example");
    assert_int_equal(l.e[2].weight, 50);
    assert_int_equal(l.e[3].category, REPUTATION_CAT_PHISHING);
    assert_int_equal(l.e[4].weight, -300);
    {
        char text[REPUTATION_TEXT_MAX];

        reputation_item_text(&l.e[0], text, sizeof(text));
        assert_string_equal(text, "block ip 192.0.2.0/24 5.00 spam");
        reputation_item_text(&l.e[1], text, sizeof(text));
        assert_string_equal(text, "allow ip 2001:db8::/32 -2.50");
    }
    replist_clear(&l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reputation_round_trip),
        cmocka_unit_test(test_reputation_bad_sections_refused),
        cmocka_unit_test(test_reputation_key_len_over_max_refused_before_copy),
        cmocka_unit_test(test_reputation_longest_prefix),
        cmocka_unit_test(test_reputation_parent_domains),
        cmocka_unit_test(test_reputation_peer_ip_rule),
        cmocka_unit_test(test_reputation_peer_ip_helo_literal),
        cmocka_unit_test(test_reputation_check_message),
        cmocka_unit_test(test_reputation_block_not_hidden_by_allows),
        cmocka_unit_test(test_reputation_received_not_decoded),
        cmocka_unit_test(test_reputation_block_after_many_urls),
        cmocka_unit_test(test_reputation_local_addresses),
        cmocka_unit_test(test_replist_errors),
        cmocka_unit_test(test_replist_conflicts),
        cmocka_unit_test(test_replist_forms),
        cmocka_unit_test(test_replist_bom),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
