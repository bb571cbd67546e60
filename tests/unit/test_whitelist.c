/*
 * test_whitelist.c -- whitelist.cfg: every entry type, CIDR edges, bad
 * entries reported with their lines (golden list), caps, matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "caps.h"
#include "fsutil.h"
#include "mime.h"
#include "queuefile.h"
#include "whitelist.h"

struct problems {
    struct buf text;
    size_t n;
    size_t n_warnings;
};

static void
collect(void *ctx, const struct config_problem *p)
{
    struct problems *ps = ctx;
    const char *base = strrchr(p->file, '/');

    base = base == NULL ? p->file : base + 1;
    buf_printf(&ps->text, "%s:%u: %s: %s\n", base, p->line, p->key,
               p->problem);
    ps->n++;
    ps->n_warnings += p->is_warning;
}

static const char *
problems_text(const struct problems *ps)
{
    return ps->text.data == NULL ? "" : (const char *)ps->text.data;
}

static struct whitelist *
parse_text(const char *text, struct problems *ps, size_t *n_errors)
{
    struct whitelist *wl = NULL;

    buf_init(&ps->text, 1 << 20);
    ps->n = 0;
    ps->n_warnings = 0;
    assert_int_equal(whitelist_parse("wl.cfg", (const uint8_t *)text,
                                     strlen(text), &wl, collect, ps,
                                     n_errors),
                     CM_OK);
    assert_non_null(wl);
    return wl;
}

static struct whitelist *
load_ok(const char *path, struct problems *ps)
{
    struct whitelist *wl = NULL;
    size_t n_errors = 99;

    buf_init(&ps->text, 1 << 20);
    ps->n = 0;
    ps->n_warnings = 0;
    assert_int_equal(whitelist_load(path, &wl, collect, ps, &n_errors),
                     CM_OK);
    assert_int_equal(n_errors, ps->n - ps->n_warnings);
    return wl;
}

static void
env_init(struct envelope *env, const char *ip, const char *from,
         const char *rcpt)
{
    memset(env, 0, sizeof(*env));
    if (ip != NULL) {
        snprintf(env->peer_ip, sizeof(env->peer_ip), "%s", ip);
        env->has_peer_ip = true;
    }
    if (from != NULL) {
        snprintf(env->return_path, sizeof(env->return_path), "%s", from);
        env->has_return_path = true;
    }
    if (rcpt != NULL) {
        snprintf(env->rcpts[0], sizeof(env->rcpts[0]), "%s", "a@b.example");
        snprintf(env->rcpts[1], sizeof(env->rcpts[1]), "%s", rcpt);
        env->n_rcpts = 2;
    }
}

static bool
ip_matches(const struct whitelist *wl, const char *ip)
{
    struct envelope env;
    const char *what = NULL;
    bool is_match;

    env_init(&env, ip, NULL, NULL);
    is_match = whitelist_match_envelope(wl, &env, &what);
    if (is_match) {
        assert_string_equal(what, "host address");
    }
    return is_match;
}

static char *
read_all(const char *path)
{
    struct buf b;
    bool is_truncated;
    char *out;

    buf_init(&b, 1 << 20);
    assert_int_equal(fsutil_read_file(path, 1 << 20, &b, &is_truncated,
                                      NULL),
                     CM_OK);
    out = malloc(b.len + 1);
    assert_non_null(out);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    buf_clear(&b);
    return out;
}

static void
test_whitelist_good_file(void **state)
{
    struct problems ps;
    struct whitelist *wl = load_ok("testdata/whitelist/good.cfg", &ps);

    (void)state;
    if (ps.n != 0) {
        print_error("%s", problems_text(&ps));
    }
    assert_int_equal(ps.n, 0);
    assert_int_equal(whitelist_count(wl), 14);
    assert_true(whitelist_needs_message(wl));
    whitelist_free(wl);
    buf_clear(&ps.text);
}

static void
test_whitelist_sample_has_no_entries(void **state)
{
    struct problems ps;
    struct whitelist *wl = load_ok("conf/whitelist.cfg", &ps);
    char *text;

    (void)state;
    assert_int_equal(ps.n, 0);
    assert_int_equal(whitelist_count(wl), 0);
    assert_false(whitelist_needs_message(wl));
    whitelist_free(wl);
    buf_clear(&ps.text);

    /* The commented examples are valid once uncommented. */
    text = read_all("conf/whitelist.cfg");
    for (char *p = text; (p = strstr(p, "\n# type")) != NULL; p++) {
        memcpy(p, "\n  ", 3);
    }
    wl = parse_text(text, &ps, NULL);
    if (ps.n != 0) {
        print_error("%s", problems_text(&ps));
    }
    assert_int_equal(ps.n, 0);
    assert_int_equal(whitelist_count(wl), 7);
    whitelist_free(wl);
    buf_clear(&ps.text);
    free(text);
}

/* Bad entries: reported with their lines and skipped; the good ones
 * around them load.  Golden list: testdata/whitelist/bad.expected. */
static void
test_whitelist_bad_file(void **state)
{
    struct problems ps;
    struct whitelist *wl = load_ok("testdata/whitelist/bad.cfg", &ps);
    char *want = read_all("testdata/whitelist/bad.expected");

    (void)state;
    if (strcmp(problems_text(&ps), want) != 0) {
        print_error("got:\n%s", problems_text(&ps));
    }
    assert_string_equal(problems_text(&ps), want);
    /* The helo entry (warning only) and 192.0.2.9 remain. */
    assert_int_equal(whitelist_count(wl), 2);
    assert_true(ip_matches(wl, "192.0.2.9"));
    assert_false(ip_matches(wl, "1.2.3.4"));
    whitelist_free(wl);
    buf_clear(&ps.text);
    free(want);
}

static void
test_whitelist_ipv4_cidr(void **state)
{
    struct problems ps;
    struct whitelist *wl;

    (void)state;
    wl = parse_text("type=host; address=[192.0.2.1];\n"
                    "type=host; address=[198.51.100.0/24];\n"
                    "type=host; address=[203.0.113.4/31];\n"
                    "type=host; address=[203.0.113.9/32];\n"
                    "type=host; address=[10.];\n"
                    "type=host; address=[172.16.5];\n",
                    &ps, NULL);
    assert_int_equal(ps.n, 0);
    assert_int_equal(whitelist_count(wl), 6);
    assert_false(whitelist_needs_message(wl));
    assert_true(ip_matches(wl, "192.0.2.1"));
    assert_false(ip_matches(wl, "192.0.2.2"));
    assert_true(ip_matches(wl, "198.51.100.0"));
    assert_true(ip_matches(wl, "198.51.100.255"));
    assert_false(ip_matches(wl, "198.51.101.0"));
    /* /31: two addresses. */
    assert_true(ip_matches(wl, "203.0.113.4"));
    assert_true(ip_matches(wl, "203.0.113.5"));
    assert_false(ip_matches(wl, "203.0.113.6"));
    assert_false(ip_matches(wl, "203.0.113.3"));
    /* /32 */
    assert_true(ip_matches(wl, "203.0.113.9"));
    assert_false(ip_matches(wl, "203.0.113.8"));
    /* Whole-octet prefixes. */
    assert_true(ip_matches(wl, "10.200.3.4"));
    assert_false(ip_matches(wl, "11.0.0.1"));
    assert_true(ip_matches(wl, "172.16.5.200"));
    assert_false(ip_matches(wl, "172.16.6.1"));
    /* An IPv4-mapped IPv6 peer matches IPv4 entries. */
    assert_true(ip_matches(wl, "::ffff:192.0.2.1"));
    /* No or garbage peer IP. */
    assert_false(ip_matches(wl, NULL));
    assert_false(ip_matches(wl, "not-an-ip"));
    assert_false(ip_matches(wl, ""));
    whitelist_free(wl);
    buf_clear(&ps.text);

    /* /1: the smallest mask allowed. */
    wl = parse_text("type=host; address=[128.0.0.0/1];", &ps, NULL);
    assert_true(ip_matches(wl, "200.1.1.1"));
    assert_true(ip_matches(wl, "128.0.0.0"));
    assert_false(ip_matches(wl, "127.255.255.255"));
    whitelist_free(wl);
    buf_clear(&ps.text);
}

static void
test_whitelist_ipv6_cidr(void **state)
{
    struct problems ps;
    struct whitelist *wl;
    size_t n_errors = 0;

    (void)state;
    wl = parse_text("type=host; address=[2001:db8::1];\n"
                    "type=host; address=[2001:db8:1::/48];\n"
                    "type=host; address=[fe80::/10];\n"
                    "type=host; address=[2001:db8:2::/128];\n",
                    &ps, &n_errors);
    assert_int_equal(n_errors, 0);
    assert_true(ip_matches(wl, "2001:db8::1"));
    assert_true(ip_matches(wl, "2001:DB8:0:0::1"));
    assert_false(ip_matches(wl, "2001:db8::2"));
    assert_true(ip_matches(wl, "2001:db8:1:ffff::1"));
    assert_false(ip_matches(wl, "2001:db8:2::1"));
    assert_true(ip_matches(wl, "2001:db8:2::"));
    assert_true(ip_matches(wl, "febf::1"));
    assert_false(ip_matches(wl, "fec0::1"));
    /* An IPv4 peer never matches an IPv6 network by accident. */
    assert_false(ip_matches(wl, "32.1.13.184"));
    whitelist_free(wl);
    buf_clear(&ps.text);

    /* /0 is refused for both families; /129 and /33 are bad masks. */
    wl = parse_text("type=host; address=[::/0];\n"
                    "type=host; address=[0.0.0.0/0];\n"
                    "type=host; address=[::/129];\n"
                    "type=host; address=[1.2.3.4/33];\n"
                    "type=host; address=[1.2.3.4/];\n",
                    &ps, &n_errors);
    assert_int_equal(n_errors, 5);
    assert_int_equal(whitelist_count(wl), 0);
    assert_non_null(strstr(problems_text(&ps), "wl.cfg:1: address: a /0"));
    assert_non_null(strstr(problems_text(&ps), "wl.cfg:2: address: a /0"));
    whitelist_free(wl);
    buf_clear(&ps.text);

    /* IPv4 peers are compared as ::ffff:a.b.c.d, but the /0 of IPv4 in
     * that notation is refused too, and an IPv6 network whose range
     * holds ::ffff:0:0/96 (::/8, ::/64) does not take in every IPv4
     * sender: reputation lists keep the two families apart as well. */
    wl = parse_text("type=host; address=[::ffff:0.0.0.0/96];\n"
                    "type=host; address=[::ffff:0:0/96];\n",
                    &ps, &n_errors);
    assert_int_equal(n_errors, 2);
    assert_int_equal(whitelist_count(wl), 0);
    assert_non_null(strstr(problems_text(&ps), "wl.cfg:1: address: "));
    assert_non_null(strstr(problems_text(&ps), "wl.cfg:2: address: "));
    whitelist_free(wl);
    buf_clear(&ps.text);
    wl = parse_text("type=host; address=[::/8];\n"
                    "type=host; address=[::/64];\n"
                    "type=host; address=[::fffe:0:0/95];\n",
                    &ps, &n_errors);
    assert_int_equal(n_errors, 0);
    assert_int_equal(whitelist_count(wl), 3);
    assert_false(ip_matches(wl, "192.0.2.1"));
    assert_false(ip_matches(wl, "::ffff:192.0.2.1"));
    assert_true(ip_matches(wl, "::1"));
    assert_true(ip_matches(wl, "::fffe:1:2"));
    whitelist_free(wl);
    buf_clear(&ps.text);
    wl = parse_text("type=host; address=[::ffff:0.0.0.0/97];", &ps, NULL);
    assert_true(ip_matches(wl, "127.0.0.1"));
    assert_false(ip_matches(wl, "128.0.0.1"));
    whitelist_free(wl);
    buf_clear(&ps.text);
}

/* Addresses a mail administrator could misread, refused with the line:
 * an octet with a leading zero (octal to inet_aton), a network whose
 * address has host bits set, the deprecated IPv4-compatible ::a.b.c.d
 * (never an IPv4 sender), a mask with a leading zero. */
static void
test_whitelist_ambiguous_addresses(void **state)
{
    struct problems ps;
    struct whitelist *wl;
    size_t n_errors = 0;
    const char *t;

    (void)state;
    wl = parse_text("type=host; address=[010.1.2.3];\n"
                    "type=host; address=[10.01.2.0/24];\n"
                    "type=host; address=[010.1.];\n"
                    "type=host; address=[10.1.2.3/8];\n"
                    "type=host; address=[::10.0.0.0];\n"
                    "type=host; address=[::10.0.0.0/104];\n"
                    "type=host; address=[10.0.0.0/08];\n"
                    "type=host; address=[2001:db8::1/32];\n",
                    &ps, &n_errors);
    t = problems_text(&ps);
    assert_int_equal(n_errors, 8);
    assert_int_equal(whitelist_count(wl), 0);
    assert_non_null(strstr(t, "wl.cfg:1: address: an IPv4 octet with a "
                              "leading zero"));
    assert_non_null(strstr(t, "wl.cfg:2: address: an IPv4 octet"));
    assert_non_null(strstr(t, "wl.cfg:3: address: an IPv4 octet"));
    assert_non_null(strstr(t, "wl.cfg:4: address: host bits set"));
    assert_non_null(strstr(t, "wl.cfg:5: address: IPv4-compatible"));
    assert_non_null(strstr(t, "wl.cfg:6: address: IPv4-compatible"));
    assert_non_null(strstr(t, "wl.cfg:7: address: prefix length with a "
                              "leading zero"));
    assert_non_null(strstr(t, "wl.cfg:8: address: host bits set"));
    whitelist_free(wl);
    buf_clear(&ps.text);

    /* The IPv4-mapped form is the way to write IPv4 in IPv6 notation. */
    wl = parse_text("type=host; address=[::ffff:10.0.0.0/104];\n"
                    "type=host; address=[0.0.0.1];\n",
                    &ps, &n_errors);
    assert_int_equal(n_errors, 0);
    assert_true(ip_matches(wl, "10.1.2.3"));
    assert_true(ip_matches(wl, "0.0.0.1"));
    assert_false(ip_matches(wl, "::1"));
    assert_false(ip_matches(wl, "11.0.0.1"));
    whitelist_free(wl);
    buf_clear(&ps.text);
}

static void
test_whitelist_envelope(void **state)
{
    struct problems ps;
    struct whitelist *wl;
    struct envelope env;
    const char *what = NULL;

    (void)state;
    wl = parse_text("type = envelope; command = [mail from]; "
                    "value = [@trusted\\.example$];\n"
                    "type = envelope; command = [MAIL FROM]; "
                    "value = [^<>$];\n"
                    "type = envelope; command = [rcpt to]; "
                    "value = [^<abuse@example\\.com>$];\n",
                    &ps, NULL);
    assert_int_equal(ps.n, 0);
    assert_false(whitelist_needs_message(wl));
    env_init(&env, "192.0.2.1", "bob@trusted.example", NULL);
    assert_true(whitelist_match_envelope(wl, &env, &what));
    assert_string_equal(what, "envelope mail from");
    env_init(&env, NULL, "bob@TRUSTED.example", NULL);
    assert_true(whitelist_match_envelope(wl, &env, NULL));
    env_init(&env, NULL, "bob@untrusted.example.org", NULL);
    assert_false(whitelist_match_envelope(wl, &env, NULL));
    /* The null sender matches "^<>$" through the bracketed form. */
    env_init(&env, NULL, "", NULL);
    assert_true(whitelist_match_envelope(wl, &env, NULL));
    /* No return-path at all: nothing to match. */
    env_init(&env, NULL, NULL, NULL);
    assert_false(whitelist_match_envelope(wl, &env, NULL));
    /* Any recipient, in the bracketed form. */
    env_init(&env, NULL, "x@y.example", "abuse@example.com");
    what = NULL;
    assert_true(whitelist_match_envelope(wl, &env, &what));
    assert_string_equal(what, "envelope rcpt to");
    env_init(&env, NULL, "x@y.example", "abuse@example.com.evil");
    assert_false(whitelist_match_envelope(wl, &env, NULL));
    assert_false(whitelist_match_envelope(wl, NULL, NULL));
    assert_false(whitelist_match_envelope(NULL, &env, NULL));
    assert_false(whitelist_match_message(wl, NULL, NULL));
    whitelist_free(wl);
    buf_clear(&ps.text);
}

static void
test_whitelist_helo_never_matches(void **state)
{
    struct problems ps;
    struct whitelist *wl;
    struct envelope env;
    size_t n_errors = 9;

    (void)state;
    wl = parse_text("type=envelope; command=[helo]; value=[.*];", &ps,
                    &n_errors);
    assert_int_equal(n_errors, 0);
    assert_int_equal(ps.n_warnings, 1);
    assert_int_equal(whitelist_count(wl), 1);
    env_init(&env, "192.0.2.1", "a@b.example", "c@d.example");
    assert_false(whitelist_match_envelope(wl, &env, NULL));
    whitelist_free(wl);
    buf_clear(&ps.text);
}

/* A header's decoded value and, when decoding changed it, the value as
 * written (raw NULL: nothing was decoded). */
static void
set_value(struct mime_header *h, const char *value, const char *raw)
{
    h->value = value;
    h->value_len = strlen(value);
    h->raw_value = raw != NULL ? raw : value;
    h->raw_value_len = strlen(h->raw_value);
}

static void
test_whitelist_message(void **state)
{
    struct problems ps;
    struct whitelist *wl;
    struct mime_header headers[] = {
        {"Received", 8,
         "from mx.partner.example (mx1.relay.example [192.0.2.7]) by us",
         0, NULL, 0},
        {"Received", 8, "from evil.example by mx.partner.example", 0, NULL, 0},
        {"from", 4, "News <letter@news.example.com>", 0, NULL, 0},
        {"Subject", 7, "hello", 0, NULL, 0},
        {"X-Mailer", 8, "Other", 0, NULL, 0},
        {"X-Mailer", 8, "Our  Mailer 7", 0, NULL, 0},
    };
    struct mime_doc doc;
    const char *what = NULL;

    (void)state;
    memset(&doc, 0, sizeof(doc));
    doc.headers = headers;
    doc.n_headers = 5; /* without the second X-Mailer */
    set_value(&headers[0], headers[0].value, NULL);
    set_value(&headers[1], headers[1].value, NULL);
    doc.text = "Hello,\nthe <h1>Daily [build] report</h1> follows.";
    doc.text_len = strlen(doc.text);

    wl = parse_text("type=header; header=[From]; "
                    "value=[@news\\.example\\.com>?$];",
                    &ps, NULL);
    assert_true(whitelist_needs_message(wl));
    assert_true(whitelist_match_message(wl, &doc, &what));
    assert_string_equal(what, "header");
    headers[2].value = "Spam <a@news.example.com.evil>";
    assert_false(whitelist_match_message(wl, &doc, NULL));
    /* An encoded word decoding to the listed address after the real
     * one: matched as written, so not whitelisted (RFC 2047 5). */
    set_value(&headers[2], "<x@evil.example> <letter@news.example.com>",
              "<x@evil.example> "
              "=?us-ascii?q?=3Cletter=40news.example.com=3E?=");
    assert_false(whitelist_match_message(wl, &doc, NULL));
    /* An encoded display name leaves the mailbox alone: decoded. */
    set_value(&headers[2], "N\xc3\xa9ws <letter@news.example.com>",
              "=?utf-8?q?N=C3=A9ws?= <letter@news.example.com>");
    assert_true(whitelist_match_message(wl, &doc, NULL));
    set_value(&headers[2], "News <letter@news.example.com>", NULL);
    whitelist_free(wl);
    buf_clear(&ps.text);

    /* Every header of the name is tried. */
    wl = parse_text("type=header; header=[x-mailer]; "
                    "value=[^Our[[:space:]]+Mailer [0-9]+$];",
                    &ps, NULL);
    assert_false(whitelist_match_message(wl, &doc, NULL));
    doc.n_headers = 6;
    assert_true(whitelist_match_message(wl, &doc, NULL));
    whitelist_free(wl);
    buf_clear(&ps.text);

    wl = parse_text("type=body; regex=[<h1>Daily [[]build] report</h1>];",
                    &ps, NULL);
    assert_true(whitelist_match_message(wl, &doc, &what));
    assert_string_equal(what, "body");
    doc.text = "nothing here";
    assert_false(whitelist_match_message(wl, &doc, NULL));
    doc.text = NULL;
    assert_false(whitelist_match_message(wl, &doc, NULL));
    whitelist_free(wl);
    buf_clear(&ps.text);

    /* Host names from the topmost Received header only: the name the
     * server looked up, not the client's greeting ("mx.partner.example"
     * here is the HELO of a Postfix-style "from HELO (rDNS [ip])"). */
    wl = parse_text("type=host; address=[relay.example];", &ps, NULL);
    assert_true(whitelist_needs_message(wl));
    assert_true(whitelist_match_message(wl, &doc, &what));
    assert_string_equal(what, "host name");
    whitelist_free(wl);
    buf_clear(&ps.text);
    wl = parse_text("type=host; address=[RELAY.example];", &ps, NULL);
    assert_true(whitelist_match_message(wl, &doc, NULL));
    whitelist_free(wl);
    buf_clear(&ps.text);
    /* A fully qualified name with its root dot names the same host. */
    wl = parse_text("type=host; address=[mx1.relay.example.];", &ps, NULL);
    assert_int_equal(whitelist_count(wl), 1);
    assert_true(whitelist_match_message(wl, &doc, NULL));
    whitelist_free(wl);
    buf_clear(&ps.text);
    wl = parse_text("type=host; address=[evil.example];"
                    "type=host; address=[partner.example];"
                    "type=host; address=[elay.example];"
                    "type=host; address=[192.0.2.7];",
                    &ps, NULL);
    assert_false(whitelist_match_message(wl, &doc, NULL));
    whitelist_free(wl);
    buf_clear(&ps.text);
}

/* A host-name entry matches only a name the receiving server verified
 * (the reverse DNS it shows), never the client's HELO/EHLO name: a
 * spammer saying "EHLO mail.trusted-bank.example" is not whitelisted. */
static void
test_whitelist_host_name_not_helo(void **state)
{
    static const char *const forged[] = {
        /* Postfix: HELO, then "unknown" or another rDNS name */
        "from mail.trusted-bank.example (unknown [203.0.113.5]) by mx",
        "from mail.trusted-bank.example (host.evil.example "
        "[203.0.113.5]) by mx",
        /* sendmail: no rDNS, or one that did not resolve back */
        "from mail.trusted-bank.example ([203.0.113.5]) by mx",
        "from x (mail.trusted-bank.example [203.0.113.5] (may be "
        "forged)) by mx",
        /* Exim without and with rDNS */
        "from [203.0.113.5] (helo=mail.trusted-bank.example) by mx",
        "from host.evil.example ([203.0.113.5] "
        "helo=mail.trusted-bank.example) by mx",
        /* CommuniGate Pro */
        "from [203.0.113.5] (HELO mail.trusted-bank.example) by mx",
        "from [203.0.113.5] (account u@trusted-bank.example HELO x) by mx",
        "from [203.0.113.5] (account u@trusted-bank.example [192.0.2.1]) "
        "by mx",
        /* no address at all */
        "from mail.trusted-bank.example by mx",
        /* the marker words, but not where Exim and CGP write them */
        "from mail.trusted-bank.example ([203.0.113.5] not verified) by mx",
        "from mail.trusted-bank.example ([203.0.113.5] RDNS failed) "
        "(x helo=y) by mx",
        "from mail.trusted-bank.example ([203.0.113.5] verifiedx) by mx",
    };
    static const char *const verified[] = {
        /* Postfix and sendmail */
        "from helo.evil (mail.trusted-bank.example [192.0.2.7]) by mx",
        "from x (mail.trusted-bank.example [IPv6:2001:db8::7]) by mx",
        /* Exim, also with the client's port */
        "from mail.trusted-bank.example ([192.0.2.7] helo=x) by mx",
        "from mail.trusted-bank.example ([192.0.2.7]:2565 helo=x) by mx",
        /* CommuniGate Pro */
        "from mail.trusted-bank.example ([192.0.2.7] verified) by mx",
    };
    struct mime_header h = {"Received", 8, NULL, 0, NULL, 0};
    struct mime_doc doc;
    struct problems ps;
    struct whitelist *wl;

    (void)state;
    memset(&doc, 0, sizeof(doc));
    doc.headers = &h;
    doc.n_headers = 1;
    wl = parse_text("type=host; address=[trusted-bank.example];", &ps, NULL);
    for (size_t i = 0; i < sizeof(forged) / sizeof(*forged); i++) {
        set_value(&h, forged[i], NULL);
        if (whitelist_match_message(wl, &doc, NULL)) {
            fail_msg("forged case %zu matched: %s", i, forged[i]);
        }
    }
    for (size_t i = 0; i < sizeof(verified) / sizeof(*verified); i++) {
        set_value(&h, verified[i], NULL);
        if (!whitelist_match_message(wl, &doc, NULL)) {
            fail_msg("verified case %zu did not match: %s", i, verified[i]);
        }
    }
    whitelist_free(wl);
    buf_clear(&ps.text);
}

/* Layout: several entries a line, entries across lines, comments,
 * missing final ';', CRLF, brackets inside regexes. */
static void
test_whitelist_syntax_forms(void **state)
{
    struct problems ps;
    struct whitelist *wl;
    struct mime_doc doc;

    (void)state;
    wl = parse_text("# comment\r\n"
                    "type = host; address = [192.0.2.1]; type = host; "
                    "address = 192.0.2.2\r\n"
                    "  # indented comment\n"
                    "TYPE = Body ;\n"
                    "   Regex = [a\\]b] \n"
                    "type=host;address=[192.0.2.3];# trailing comment\n"
                    ";;\n",
                    &ps, NULL);
    if (ps.n != 0) {
        print_error("%s", problems_text(&ps));
    }
    assert_int_equal(ps.n, 0);
    assert_int_equal(whitelist_count(wl), 4);
    assert_true(ip_matches(wl, "192.0.2.1"));
    assert_true(ip_matches(wl, "192.0.2.2"));
    assert_true(ip_matches(wl, "192.0.2.3"));
    memset(&doc, 0, sizeof(doc));
    doc.text = "xx a]b yy";
    assert_true(whitelist_match_message(wl, &doc, NULL));
    doc.text = "x";
    assert_false(whitelist_match_message(wl, &doc, NULL));
    whitelist_free(wl);
    buf_clear(&ps.text);
}

/* A file saved by a Windows editor starts with a UTF-8 byte order mark;
 * CGPCloudmark.cfg and cartridge.cfg skip it, and here it made line 1 a
 * syntax error: its entry was dropped, or a comment there failed
 * CHECK-CONFIG.  Only at the very start: elsewhere it is no field. */
static void
test_whitelist_byte_order_mark(void **state)
{
    struct problems ps;
    struct whitelist *wl;
    size_t n_errors = 99;

    (void)state;
    wl = parse_text("\xef\xbb\xbftype = host; address = [192.0.2.1];\n"
                    "type = host; address = [192.0.2.2];\n",
                    &ps, &n_errors);
    assert_int_equal(n_errors, 0);
    assert_int_equal(whitelist_count(wl), 2);
    assert_true(ip_matches(wl, "192.0.2.1"));
    whitelist_free(wl);
    buf_clear(&ps.text);
    wl = parse_text("\xef\xbb\xbf# our networks\n"
                    "type = host; address = [192.0.2.1];\n",
                    &ps, &n_errors);
    assert_int_equal(n_errors, 0);
    assert_int_equal(whitelist_count(wl), 1);
    whitelist_free(wl);
    buf_clear(&ps.text);
    wl = parse_text("type = host; address = [192.0.2.1];\n"
                    "\xef\xbb\xbftype = host; address = [192.0.2.2];\n",
                    &ps, &n_errors);
    assert_int_equal(n_errors, 1);
    assert_non_null(strstr(problems_text(&ps), "wl.cfg:2: "));
    whitelist_free(wl);
    buf_clear(&ps.text);
}

static void
test_whitelist_value_cap(void **state)
{
    struct problems ps;
    struct whitelist *wl;
    char text[CAPS_WHITELIST_VALUE_MAX + 64];
    size_t n_errors = 0;

    (void)state;
    for (size_t extra = 0; extra < 2; extra++) {
        size_t n = (size_t)snprintf(text, sizeof(text), "type=body; regex=[");
        for (size_t i = 0; i < CAPS_WHITELIST_VALUE_MAX + extra; i++) {
            text[n++] = 'a';
        }
        memcpy(text + n, "];", 3);
        wl = parse_text(text, &ps, &n_errors);
        assert_int_equal(n_errors, extra);
        assert_int_equal(whitelist_count(wl), 1 - extra);
        whitelist_free(wl);
        buf_clear(&ps.text);
    }
}

static void
test_whitelist_entries_cap(void **state)
{
    struct buf b;
    struct problems ps;
    struct whitelist *wl;
    size_t n_errors = 0;

    (void)state;
    for (size_t extra = 0; extra < 2; extra++) {
        buf_init(&b, 1 << 22);
        for (size_t i = 0; i < CAPS_WHITELIST_ENTRIES_MAX + extra; i++) {
            buf_printf(&b, "type=host; address=[10.%zu.%zu.1];\n",
                       i / 256 % 256, i % 256);
        }
        wl = parse_text((const char *)b.data, &ps, &n_errors);
        assert_int_equal(whitelist_count(wl), CAPS_WHITELIST_ENTRIES_MAX);
        assert_int_equal(n_errors, extra);
        whitelist_free(wl);
        buf_clear(&ps.text);
        buf_clear(&b);
    }
}

static void
test_whitelist_nul_and_missing_file(void **state)
{
    struct problems ps;
    struct whitelist *wl = NULL;
    const char text[] = "type=host; address=[1.2.3.4\0];\n"
                        "type=host; address=[192.0.2.1];";
    size_t n_errors = 0;
    char tmpl[] = "/tmp/test_whitelist.XXXXXX";
    char *dir;
    char path[256];

    (void)state;
    buf_init(&ps.text, 1 << 16);
    ps.n = 0;
    ps.n_warnings = 0;
    assert_int_equal(whitelist_parse("wl.cfg", (const uint8_t *)text,
                                     sizeof(text) - 1, &wl, collect, &ps,
                                     &n_errors),
                     CM_OK);
    assert_int_equal(n_errors, 1);
    assert_int_equal(whitelist_count(wl), 1);
    whitelist_free(wl);
    buf_clear(&ps.text);

    /* Missing file: empty whitelist, no problem. */
    wl = load_ok("/nonexistent/whitelist.cfg", &ps);
    assert_int_equal(ps.n, 0);
    assert_int_equal(whitelist_count(wl), 0);
    whitelist_free(wl);
    buf_clear(&ps.text);

    /* A directory: empty whitelist and an error. */
    dir = mkdtemp(tmpl);
    assert_non_null(dir);
    wl = load_ok(dir, &ps);
    assert_int_equal(ps.n, 1);
    assert_non_null(strstr(problems_text(&ps), "cannot read"));
    whitelist_free(wl);
    buf_clear(&ps.text);
    /* Too big: empty whitelist and an error. */
    snprintf(path, sizeof(path), "%s/big.cfg", dir);
    {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fseek(f, CAPS_WHITELIST_FILE_MAX_BYTES, SEEK_SET),
                         0);
        fputc('\n', f);
        fclose(f);
    }
    wl = load_ok(path, &ps);
    assert_int_equal(ps.n, 1);
    assert_non_null(strstr(problems_text(&ps), "larger than"));
    whitelist_free(wl);
    buf_clear(&ps.text);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);

    whitelist_free(NULL);
    assert_int_equal(whitelist_count(NULL), 0);
    assert_false(whitelist_needs_message(NULL));
}

/* Regexes that would be slow to compile or to match are refused. */
static void
test_whitelist_regex_cost(void **state)
{
    static const struct {
        const char *regex;
        bool is_ok;
    } cases[] = {
        {"^(a|b)\\1$", false},           /* back-reference */
        {"(x)\\9", false},
        {"\\\\1", true},                /* an escaped backslash, then 1 */
        {"[\\1]", true},                 /* inside brackets: literal */
        {"((a{100}){100}){100}", false},
        {"(a{100}){100}", true},         /* exactly the cap */
        {"(a{100}){101}", false},        /* one past it */
        {"a{2,10001}", false},
        {"a{99999999999999999999}", false},
        {"[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}", true},
        {"[{]100000[}]", true},          /* braces in brackets */
        {"[]{]{5}", true},
        {"[[:digit:]]{5000}", true},
        /* glibc compiles x+ as xx*: each '+' doubles (fuzz_whitelist). */
        {"a++++++++++++++++++++++++++++++++++++++++", false},
        {"((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)", false},
        {"^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]+$", true},
        {"(a{100}){50}+", true},          /* 10000: the cap */
        {"(a{100}){50}++", false},
    };
    struct problems ps;
    struct whitelist *wl;
    char text[256];
    size_t n_errors = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "type=body; regex=[%s];",
                 cases[i].regex);
        wl = parse_text(text, &ps, &n_errors);
        if ((n_errors == 0) != cases[i].is_ok) {
            print_error("%s: %s", cases[i].regex, problems_text(&ps));
        }
        assert_int_equal(n_errors, cases[i].is_ok ? 0 : 1);
        assert_int_equal(whitelist_count(wl), cases[i].is_ok ? 1 : 0);
        whitelist_free(wl);
        buf_clear(&ps.text);
    }
}

/* Every regex is matched in one pass over the text: glibc's regexec
 * tries each start position of an unanchored pattern, so a plain
 * "unsubscribe.*newsletter" over a megabyte of "unsubscribe " took two
 * and a half minutes of a worker (quadratic); a message could hold every
 * worker that long.  Anchored as ^.*(...) the same search is linear.
 * The cases around it check the anchoring keeps what each pattern
 * matches. */
static void
test_whitelist_regex_one_pass(void **state)
{
    static const struct {
        const char *regex;
        const char *text;
        bool is_match;
    } cases[] = {
        {"unsubscribe.*newsletter", "a\nunsubscribe\nthe newsletter", true},
        {"^Hello", "Hello, world", true},
        {"^Hello", "Say Hello", false},            /* ^ is the text's start */
        {"^Say|world$", "Hello, world", true},     /* each branch as written */
        {"^Say|^world", "Hello, world", false},
        {"report$", "the report\nfollows", false}, /* $ is the text's end */
        {"a)b", "x a)b y", true},                  /* glibc: a lone ) is literal */
        {"a)b", "x ab) y", false},
        {"(a)b)", "ab)", true},
        {"[)]x", "a)x", true},
        {"\\)x", "a)x", true},
        {"x*", "anything", true},                  /* an empty match counts */
        {"caf.", "caf\xc3\xa9", true},            /* a byte above 0x7f */
        {"\xc3\xa9t\xc3\xa9", "ETE \xc3\xa9t\xc3\xa9", true},
    };
    struct problems ps;
    struct whitelist *wl;
    struct mime_doc doc;
    char entry[256];
    size_t n_errors = 0;
    size_t big_len = (size_t)1 << 20;
    char *big;

    (void)state;
    memset(&doc, 0, sizeof(doc));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(entry, sizeof(entry), "type=body; regex=[%s];",
                 cases[i].regex);
        wl = parse_text(entry, &ps, &n_errors);
        assert_int_equal(n_errors, 0);
        doc.text = cases[i].text;
        doc.text_len = strlen(doc.text);
        if (whitelist_match_message(wl, &doc, NULL) != cases[i].is_match) {
            fail_msg("%s on \"%s\": expected %s", cases[i].regex,
                     cases[i].text, cases[i].is_match ? "a match" : "none");
        }
        whitelist_free(wl);
        buf_clear(&ps.text);
    }

    big = malloc(big_len + 1);
    assert_non_null(big);
    for (size_t i = 0; i < big_len; i++) {
        big[i] = "unsubscribe "[i % 12];
    }
    big[big_len] = '\0';
    doc.text = big;
    doc.text_len = big_len;
    wl = parse_text("type=body; regex=[unsubscribe.*newsletter];"
                    "type=body; regex=[([a-z]+ )+newsletter];",
                    &ps, &n_errors);
    assert_int_equal(n_errors, 0);
    assert_false(whitelist_match_message(wl, &doc, NULL));
    memcpy(big + big_len - 11, "newsletter!", 11);
    assert_true(whitelist_match_message(wl, &doc, NULL));
    whitelist_free(wl);
    buf_clear(&ps.text);
    free(big);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whitelist_good_file),
        cmocka_unit_test(test_whitelist_sample_has_no_entries),
        cmocka_unit_test(test_whitelist_bad_file),
        cmocka_unit_test(test_whitelist_ipv4_cidr),
        cmocka_unit_test(test_whitelist_ipv6_cidr),
        cmocka_unit_test(test_whitelist_ambiguous_addresses),
        cmocka_unit_test(test_whitelist_envelope),
        cmocka_unit_test(test_whitelist_helo_never_matches),
        cmocka_unit_test(test_whitelist_message),
        cmocka_unit_test(test_whitelist_host_name_not_helo),
        cmocka_unit_test(test_whitelist_syntax_forms),
        cmocka_unit_test(test_whitelist_byte_order_mark),
        cmocka_unit_test(test_whitelist_value_cap),
        cmocka_unit_test(test_whitelist_entries_cap),
        cmocka_unit_test(test_whitelist_nul_and_missing_file),
        cmocka_unit_test(test_whitelist_regex_cost),
        cmocka_unit_test(test_whitelist_regex_one_pass),
    };

    return cmocka_run_group_tests_name("whitelist", tests, NULL, NULL);
}
