/*
 * test_lookalike.c -- look-alike hosts: punycode, mixed scripts,
 * confusables, brand labels, one edit, the exemptions (the protected
 * domain itself, its subdomains, another TLD of the same name, generic
 * words, non-brands), and brands in From display names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lookalike.h"
#include "url.h"

static struct lookalike_db *
make_db(void)
{
    static const char *const doms[] = {"paypal.com",    "microsoft.com",
                                       "amazon.com",    "apple.com",
                                       "example.org",   "mail.com",
                                       "sourceforge.net"};
    static const bool brand[] = {true, true, true, true, false, true, false};
    struct lookalike_db *db = NULL;

    assert_int_equal(lookalike_db_build(doms, brand, 7, &db), CM_OK);
    return db;
}

static enum lookalike_kind
check(const struct lookalike_db *db, const char *host)
{
    return lookalike_check(db, host, strlen(host), NULL);
}

static void
test_punycode(void **state)
{
    unsigned cp[16];
    size_t n;

    (void)state;
    n = lookalike_punycode_decode("bcher-kva", 9, cp, 16);
    assert_int_equal(n, 6);
    assert_int_equal(cp[0], 'b');
    assert_int_equal(cp[1], 0xFC);
    assert_int_equal(cp[5], 'r');
    n = lookalike_punycode_decode("e1afmkfd", 8, cp, 16);
    assert_int_equal(n, 6);
    assert_int_equal(cp[0], 0x43F); /* п */
    /* Too long for the output, bad digits, truncated. */
    assert_int_equal(lookalike_punycode_decode("bcher-kva", 9, cp, 3), 0);
    assert_int_equal(lookalike_punycode_decode("bcher-k!a", 9, cp, 16), 0);
    assert_int_equal(lookalike_punycode_decode("99999999999", 11, cp, 16),
                     0);
}

static void
test_protected_and_variants_pass(void **state)
{
    struct lookalike_db *db = make_db();

    (void)state;
    assert_int_equal(lookalike_db_count(db), 7);
    assert_true(lookalike_is_protected(db, "paypal.com", 10));
    assert_false(lookalike_is_protected(db, "paypal.co", 9));
    assert_int_equal(check(db, "paypal.com"), LOOKALIKE_NONE);
    assert_int_equal(check(db, "www.paypal.com"), LOOKALIKE_NONE);
    /* Another TLD of the brand's own name is the brand's. */
    assert_int_equal(check(db, "paypal.de"), LOOKALIKE_NONE);
    assert_int_equal(check(db, "shop.example.net"), LOOKALIKE_NONE);
    /* Non-brands and generic words are no brand labels. */
    assert_int_equal(check(db, "example-login.com"), LOOKALIKE_NONE);
    assert_int_equal(check(db, "mail.evil.tk"), LOOKALIKE_NONE);
    /* A lone brand label of another site is a host name, not a
     * disguise; with its TLD after it or hyphenated it is one. */
    assert_int_equal(check(db, "apple.news.example"), LOOKALIKE_NONE);
    assert_int_equal(check(db, "www.apple.com.news.example"),
                     LOOKALIKE_BRAND_LABEL);
    assert_int_equal(check(db, "apple-id.news.example"),
                     LOOKALIKE_BRAND_LABEL);
    assert_int_equal(check(db, "my-apple.news.example"),
                     LOOKALIKE_BRAND_LABEL);
    assert_int_equal(check(db, "192.168.1.1"), LOOKALIKE_NONE);
    assert_int_equal(check(db, ""), LOOKALIKE_NONE);
    /* A foreign-script name imitates nothing. */
    assert_int_equal(check(db, "xn--e1afmkfd.xn--p1ai"), LOOKALIKE_NONE);
    lookalike_db_free(db);
}

static void
test_lookalikes_fire(void **state)
{
    struct lookalike_db *db = make_db();
    size_t which = 0;

    (void)state;
    assert_int_equal(lookalike_check(db, "paypa1.com", 10, &which),
                     LOOKALIKE_CONFUSABLE);
    assert_string_equal(lookalike_db_at(db, which), "paypal.com");
    assert_int_equal(check(db, "rnicrosoft.com"), LOOKALIKE_CONFUSABLE);
    assert_int_equal(check(db, "pay-pal.net"), LOOKALIKE_CONFUSABLE);
    assert_int_equal(check(db, "login.paypa1.com"), LOOKALIKE_CONFUSABLE);
    assert_int_equal(check(db, "paypal.com.secure-login.tk"),
                     LOOKALIKE_BRAND_LABEL);
    assert_int_equal(check(db, "paypal-verify.com"), LOOKALIKE_BRAND_LABEL);
    /* The brand's whole domain glued to the registered name by a hyphen
     * reads as that domain too. */
    assert_int_equal(check(db, "paypal.com-login.tk"), LOOKALIKE_BRAND_LABEL);
    assert_int_equal(check(db, "www.paypal.com-account.example"),
                     LOOKALIKE_BRAND_LABEL);
    assert_int_equal(check(db, "secure.apple-id.support"),
                     LOOKALIKE_BRAND_LABEL);
    assert_int_equal(lookalike_check(db, "amazom.com", 10, &which),
                     LOOKALIKE_EDIT_1);
    assert_string_equal(lookalike_db_at(db, which), "amazon.com");
    /* One edit from a protected name that is no brand (a frequent ham
     * sender's domain) is another site: "wirex.com" is not "wired.com",
     * "cnsnews.com" not "cbsnews.com". */
    assert_int_equal(check(db, "sourceforgge.net"), LOOKALIKE_NONE);
    assert_int_equal(check(db, "example.org"), LOOKALIKE_NONE);
    assert_int_equal(check(db, "exampla.org"), LOOKALIKE_NONE);
    /* One edit at the first byte (the last still agrees) or at the end
     * of a long brand's name; two edits, one at each end, are none. */
    assert_int_equal(check(db, "bicrosoft.com"), LOOKALIKE_EDIT_1);
    assert_int_equal(check(db, "xmicrosoft.com"), LOOKALIKE_EDIT_1);
    assert_int_equal(check(db, "icrosoft.com"), LOOKALIKE_EDIT_1);
    assert_int_equal(check(db, "microsoftx.com"), LOOKALIKE_EDIT_1);
    assert_int_equal(check(db, "bicrosoft.cox"), LOOKALIKE_NONE);
    /* Cyrillic а inside Latin: mixed scripts, even without a list. */
    assert_int_equal(check(db, "xn--pypal-4ve.com"), LOOKALIKE_MIXED_SCRIPT);
    assert_int_equal(lookalike_check(NULL, "xn--pypal-4ve.com", 17, NULL),
                     LOOKALIKE_MIXED_SCRIPT);
    assert_int_equal(check(db, "p\xd0\xb0ypal.com"), LOOKALIKE_MIXED_SCRIPT);
    /* All-Cyrillic letters that read as "apple". */
    assert_int_equal(check(db, "xn--80ak6aa92e.com"), LOOKALIKE_CONFUSABLE);
    assert_string_equal(lookalike_kind_name(LOOKALIKE_EDIT_1), "edit-1");
    lookalike_db_free(db);
}

/* One edit from a short brand is a lure only where the eye slips: a
 * confusable letter, a digit, a doubled or undoubled letter.  Any other
 * edit of "apple" or "chase" makes an ordinary word a real company may
 * well send from. */
static void
test_edit_1_ordinary_words(void **state)
{
    static const char *const doms[] = {
        "adobe.com",  "amazon.com", "apple.com",   "binance.com",
        "chase.com",  "google.com", "ledger.com",  "microsoft.com",
        "office.com", "paypal.com", "revolut.com", "skype.com"};
    static const char *const words[] = {
        "apply.com",   "ample.com",   "adore.com",   "phase.com",
        "cease.com",   "officer.com", "offices.com", "revolt.com",
        "finance.com", "skye.com",    "ledgers.com", "chaser.com",
        "amazin.com",  "adobo.com"};
    static const char *const lures[] = {
        "paypa1.com",     "arnazon.com", "rnicrosoft.com",
        "micros0ft.com",  "paypal-secure.com", "paypall.com",
        "gooogle.com",    "aple.com",    "amazom.com",
        "paypa7.com",     "paypal1.com", "skvpe.com",
        "adobc.com",      "microsofl.com"};
    bool brand[sizeof(doms) / sizeof(doms[0])];
    struct lookalike_db *db = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(brand) / sizeof(brand[0]); i++) {
        brand[i] = true;
    }
    assert_int_equal(lookalike_db_build(doms, brand,
                                        sizeof(doms) / sizeof(doms[0]), &db),
                     CM_OK);
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (check(db, words[i]) != LOOKALIKE_NONE) {
            fail_msg("%s fired as a look-alike", words[i]);
        }
    }
    for (size_t i = 0; i < sizeof(lures) / sizeof(lures[0]); i++) {
        if (check(db, lures[i]) == LOOKALIKE_NONE) {
            fail_msg("%s did not fire", lures[i]);
        }
    }
    lookalike_db_free(db);
}

static void
test_display_name(void **state)
{
    static const struct {
        const char *name;
        const char *from_host;
        bool from_anyone; /* the From domain is a free mailbox */
        bool claims;
    } cases[] = {
        {"\"PayPal Service\" ", "evil.tk", false, true},
        {"\"PayPal Service\" ", "", false, true},
        {"\"PayPal Service\" ", "e.paypal.com", false, false},
        {"\"PayPal Service\" ", "paypal.de", false, false},
        {"John Smith ", "evil.tk", false, false},
        /* A non-brand's name in a display name says nothing. */
        {"Example ", "evil.tk", false, false},
        /* A protected domain that gives addresses to anyone does not
         * make its sender PayPal; its own name is no claim. */
        {"\"PayPal Service\" ", "mail.com", false, false},
        {"\"PayPal Service\" ", "mail.com", true, true},
        {"Apple ", "apple.com", true, false},
        /* Accents are dropped, and a brand may be two or three words. */
        {"Amaz\xc3\xb3n", "evil.tk", false, true},
        {"Pay Pal", "evil.tk", false, true},
        {"Am-a-Zon Team", "evil.tk", false, true},
        {"the Micro Soft Team", "evil.tk", false, true},
        {"Pay Ann Pal", "evil.tk", false, false},
        /* A capital I for a small l, or the other way round: one glyph
         * in most sans-serif faces. */
        {"PayPaI Service", "evil.tk", false, true},
        {"\"AppIe Support\" ", "evil.tk", false, true},
        {"MlCROSOFT", "evil.tk", false, true},
        {"AppIe", "apple.com", false, false},
        {"Ian Lloyd", "evil.tk", false, false},
    };
    struct lookalike_db *db = make_db();

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = lookalike_display_name(
            db, cases[i].name, strlen(cases[i].name), cases[i].from_host,
            strlen(cases[i].from_host), cases[i].from_anyone, NULL);

        if (got != cases[i].claims) {
            fail_msg("case %zu: \"%s\" from %s", i, cases[i].name,
                     cases[i].from_host);
        }
        /* Given url_registered_domain's answer for the host (as rules
         * read it once a message), the same verdict and brand. */
        {
            const char *h = cases[i].from_host;
            size_t hl = strlen(h);
            const char *reg = h;
            size_t rl = hl > 0 ? url_registered_domain(h, hl, &reg) : 0;
            size_t w1 = SIZE_MAX;
            size_t w2 = SIZE_MAX;

            assert_int_equal(lookalike_display_name_reg(
                                 db, cases[i].name, strlen(cases[i].name),
                                 reg, rl, cases[i].from_anyone, &w1),
                             got);
            (void)lookalike_display_name(db, cases[i].name,
                                         strlen(cases[i].name), h, hl,
                                         cases[i].from_anyone, &w2);
            assert_int_equal(w1, w2);
        }
    }
    assert_false(lookalike_display_name(NULL, "PayPal", 6, "evil.tk", 7,
                                        false, NULL));
    lookalike_db_free(db);
}

static void
test_display_name_hidden_marks(void **state)
{
    struct lookalike_db *db = make_db();
    /* Syriac marks, a zero-width joiner, a soft hyphen and an accent
     * inside "PayPal"; a Cyrillic letter is a different word. */
    const char *n1 = "P\xdc\xbf" "a\xdc\xbfyP\xdc\xbf" "al Service ";
    const char *n2 = "Pay\xe2\x80\x8dPal ";
    const char *n3 = "Pay\xc2\xadPa\xcc\x81l ";
    const char *f1 = "Pay\xd0\xa0" "al ";

    (void)state;
    assert_true(lookalike_display_name(db, n1, strlen(n1), "evil.tk", 7,
                                       false, NULL));
    assert_true(lookalike_display_name(db, n2, strlen(n2), "evil.tk", 7,
                                       false, NULL));
    assert_true(lookalike_display_name(db, n3, strlen(n3), "evil.tk", 7,
                                       false, NULL));
    assert_false(lookalike_display_name(db, f1, strlen(f1), "evil.tk", 7,
                                        false, NULL));
    lookalike_db_free(db);
}

/* Fullwidth and mathematical styled letters read as the ASCII ones. */
static void
test_display_name_styled_letters(void **state)
{
    struct lookalike_db *db = make_db();
    /* "ＰａｙＰａｌ Service" */
    const char *n1 = "\xef\xbc\xb0\xef\xbd\x81\xef\xbd\x99\xef\xbc\xb0"
                     "\xef\xbd\x81\xef\xbd\x8c Service";
    /* Mathematical bold "PayPal" */
    const char *n2 = "\xf0\x9d\x90\x8f\xf0\x9d\x90\x9a\xf0\x9d\x90\xb2"
                     "\xf0\x9d\x90\x8f\xf0\x9d\x90\x9a\xf0\x9d\x90\xa5";
    /* Fullwidth "Pay" and another word: no brand. */
    const char *f1 = "\xef\xbc\xb0\xef\xbd\x81\xef\xbd\x99 Day";

    (void)state;
    assert_true(lookalike_display_name(db, n1, strlen(n1), "evil.tk", 7,
                                       false, NULL));
    assert_true(lookalike_display_name(db, n2, strlen(n2), "evil.tk", 7,
                                       false, NULL));
    assert_false(lookalike_display_name(db, f1, strlen(f1), "evil.tk", 7,
                                        false, NULL));
    lookalike_db_free(db);
}

static void
test_build_skips_and_dedupes(void **state)
{
    static const char *const doms[] = {"b.com", "a.com", "NOT VALID",
                                       "b.com", "nodot", NULL};
    struct lookalike_db *db = NULL;

    (void)state;
    assert_int_equal(lookalike_db_build(doms, NULL, 6, &db), CM_OK);
    assert_int_equal(lookalike_db_count(db), 2);
    assert_string_equal(lookalike_db_at(db, 0), "a.com");
    assert_string_equal(lookalike_db_at(db, 1), "b.com");
    assert_null(lookalike_db_at(db, 2));
    assert_false(lookalike_is_brand(db, 0));
    lookalike_db_free(db);
    lookalike_db_free(NULL);
}

static void
test_text_mixed_script(void **state)
{
    /* Latin + Cyrillic о, Greek ο + Latin, at the end of the text. */
    static const char t1[] = "Win an iPh\xd0\xbene";
    static const char t2[] = "\xce\xbfrder now";
    static const char t3[] = "ok  Suppor\xd1\x82";
    /* Words of one script each, a digit or a hyphen between scripts,
     * malformed and truncated UTF-8 ending a word. */
    static const char f1[] = "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5"
                             "\xd1\x82 hello";
    static const char f2[] = "iPhone-\xd0\xbe 15\xd0\xbe";
    static const char f3[] = "ab\xff\xd0\xbe";
    static const char f4[] = "ab\xd0";

    (void)state;
    assert_true(lookalike_text_mixed_script(t1, sizeof(t1) - 1));
    assert_true(lookalike_text_mixed_script(t2, sizeof(t2) - 1));
    assert_true(lookalike_text_mixed_script(t3, sizeof(t3) - 1));
    assert_false(lookalike_text_mixed_script(f1, sizeof(f1) - 1));
    assert_false(lookalike_text_mixed_script(f2, sizeof(f2) - 1));
    assert_false(lookalike_text_mixed_script(f3, sizeof(f3) - 1));
    assert_false(lookalike_text_mixed_script(f4, sizeof(f4) - 1));
    assert_false(lookalike_text_mixed_script("", 0));
    /* Whole 8-byte blocks: the Cyrillic letter inside the second block,
     * and a long text of ASCII only. */
    assert_true(lookalike_text_mixed_script(
        "Your account: ver\xd1\x96" "fy it today", 30));
    assert_false(lookalike_text_mixed_script(
        "Your account: verify it today, \x01\x7f", 33));
}

/* lookalike_check_reg given url_registered_domain's answer decides as
 * lookalike_check, and names the same imitated domain. */
static void
test_check_reg_matches_check(void **state)
{
    static const char *const hosts[] = {
        "paypal.com", "www.paypal.com", "paypa1.com", "amazom.com",
        "paypal.com.secure.tk", "paypal-login.evil.tk", "paypal-verify.com",
        "outlook.example.biz", "xn--pypal-4ve.com", "10.0.0.1", "",
        "mail.example.co.uk", "appleid.apple.com.x.co.uk", "sourceforge.net",
        "sourcef0rge.net", "micros0ft.com", "examp1e.org", "a"};
    struct lookalike_db *db = make_db();

    (void)state;
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        const char *h = hosts[i];
        size_t len = strlen(h);
        const char *reg = h;
        size_t rl = len > 0 ? url_registered_domain(h, len, &reg) : 0;
        size_t w1 = 0;
        size_t w2 = 0;

        assert_int_equal(lookalike_check_reg(db, h, len, reg, rl, &w1),
                         lookalike_check(db, h, len, &w2));
        assert_int_equal(w1, w2);
    }
    /* Without a registered domain nothing is imitated. */
    assert_int_equal(lookalike_check_reg(db, "paypa1.com", 10, "paypa1.com",
                                         0, NULL),
                     LOOKALIKE_NONE);
    lookalike_db_free(db);
}

static void
test_display_name_common_words(void **state)
{
    /* Chase the bank is a brand in host labels, not in "Chase Miller". */
    static const char *const doms[] = {"chase.com", "booking.com"};
    static const bool brand[] = {true, true};
    struct lookalike_db *db = NULL;
    const char *n1 = "Chase Miller ";
    const char *n2 = "Salon Booking ";

    (void)state;
    assert_int_equal(lookalike_db_build(doms, brand, 2, &db), CM_OK);
    assert_false(lookalike_display_name(db, n1, strlen(n1), "gmail.com", 9,
                                        true, NULL));
    assert_false(lookalike_display_name(db, n2, strlen(n2), "salon.example",
                                        13, false, NULL));
    assert_int_equal(check(db, "chase-secure.example"),
                     LOOKALIKE_BRAND_LABEL);
    lookalike_db_free(db);
}

static void
test_text_disguised(void **state)
{
    /* Syriac mark on a Latin letter, an overlay stroke, a zero-width
     * joiner and a BOM between letters, a soft hyphen between digits. */
    static const char t1[] = "A\xdc\xbfmazon Service";
    static const char t2[] = "Fa\xcc\xb7lha na entrega";
    static const char t3[] = "P\xe2\x80\x8d\xe2\x80\x8drime";
    static const char t4[] = "I\xef\xbb\xbf" "D";
    static const char t5[] = "12\xc2\xad" "34";
    /* Accents of Latin languages, composed or not; invisibles at a word's
     * edge (newsletter preheaders pad with them); Arabic marks on Arabic
     * letters; malformed and truncated UTF-8. */
    static const char f1[] = "Cafe\xcc\x81 cr\xc3\xa8me";
    static const char f2[] = "Hello \xe2\x80\x8c\xe2\x80\x8c world\xe2\x80\x8b";
    static const char f3[] = "\xd8\xb3\xd9\x8e\xd9\x84\xd8\xa7\xd9\x85";
    static const char f4[] = "ab\xff\xcc";
    static const char f5[] = "ab\xe2\x80";

    (void)state;
    assert_true(lookalike_text_disguised(t1, sizeof(t1) - 1));
    assert_true(lookalike_text_disguised(t2, sizeof(t2) - 1));
    assert_true(lookalike_text_disguised(t3, sizeof(t3) - 1));
    assert_true(lookalike_text_disguised(t4, sizeof(t4) - 1));
    assert_true(lookalike_text_disguised(t5, sizeof(t5) - 1));
    assert_false(lookalike_text_disguised(f1, sizeof(f1) - 1));
    assert_false(lookalike_text_disguised(f2, sizeof(f2) - 1));
    assert_false(lookalike_text_disguised(f3, sizeof(f3) - 1));
    assert_false(lookalike_text_disguised(f4, sizeof(f4) - 1));
    assert_false(lookalike_text_disguised(f5, sizeof(f5) - 1));
    assert_false(lookalike_text_disguised("", 0));
}

/* lookalike_is_protected (a hash set) against a scan of every name:
 * each name, its prefixes and one-byte changes, and random names, over
 * databases of 0 to 300 pseudo-random names. */
static bool
ref_is_protected(const struct lookalike_db *db, const char *s, size_t n)
{
    for (size_t i = 0; i < lookalike_db_count(db); i++) {
        const char *d = lookalike_db_at(db, i);

        if (strlen(d) == n && memcmp(d, s, n) == 0) {
            return true;
        }
    }
    return false;
}

static void
random_domain(uint32_t *r, char *out, size_t cap)
{
    static const char *const tlds[] = {"com", "net", "co.uk", "de", "io"};
    size_t n;
    size_t o = 0;

    *r = *r * 1103515245u + 12345u;
    n = 1 + (*r >> 16) % 6;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        *r = *r * 1103515245u + 12345u;
        out[o++] = "abcdeh0-"[(*r >> 16) % 8];
    }
    if (out[o - 1] == '-') {
        out[o - 1] = 'x';
    }
    *r = *r * 1103515245u + 12345u;
    snprintf(out + o, cap - o, ".%s", tlds[(*r >> 16) % 5]);
}

static void
test_is_protected_matches_scan(void **state)
{
    uint32_t r = 0x51edu;

    (void)state;
    for (size_t round = 0; round < 40; round++) {
        size_t n = round * 8;
        char (*names)[32] = calloc(n + 1, sizeof(*names));
        const char **ptrs = calloc(n + 1, sizeof(*ptrs));
        struct lookalike_db *db = NULL;

        assert_true(names != NULL && ptrs != NULL);
        for (size_t i = 0; i < n; i++) {
            random_domain(&r, names[i], sizeof(names[i]));
            ptrs[i] = names[i];
        }
        assert_int_equal(lookalike_db_build(ptrs, NULL, n, &db), CM_OK);
        for (size_t q = 0; q < 400; q++) {
            char h[40];
            size_t hl;

            if (n > 0 && q % 2 == 0) {
                r = r * 1103515245u + 12345u;
                snprintf(h, sizeof(h), "%s", names[(r >> 16) % n]);
                hl = strlen(h);
                r = r * 1103515245u + 12345u;
                if ((r >> 16) % 3 == 0) {
                    h[(r >> 20) % hl] ^= 1; /* one byte changed */
                } else if ((r >> 16) % 3 == 1) {
                    hl -= (r >> 20) % hl; /* a prefix */
                }
            } else {
                random_domain(&r, h, sizeof(h));
                hl = strlen(h);
            }
            assert_int_equal(lookalike_is_protected(db, h, hl),
                             ref_is_protected(db, h, hl));
        }
        lookalike_db_free(db);
        free(names);
        free(ptrs);
    }
    assert_false(lookalike_is_protected(NULL, "a.com", 5));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_punycode),
        cmocka_unit_test(test_protected_and_variants_pass),
        cmocka_unit_test(test_lookalikes_fire),
        cmocka_unit_test(test_edit_1_ordinary_words),
        cmocka_unit_test(test_is_protected_matches_scan),
        cmocka_unit_test(test_display_name),
        cmocka_unit_test(test_display_name_hidden_marks),
        cmocka_unit_test(test_display_name_styled_letters),
        cmocka_unit_test(test_display_name_common_words),
        cmocka_unit_test(test_text_disguised),
        cmocka_unit_test(test_text_mixed_script),
        cmocka_unit_test(test_build_skips_and_dedupes),
        cmocka_unit_test(test_check_reg_matches_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
