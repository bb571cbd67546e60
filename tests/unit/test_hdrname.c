/*
 * test_hdrname.c -- the header-name -> feature-role table (hdrname.h).
 *
 * The expected lists below are the sender-side and bulk-marker lists as
 * features.c held them before the table (features v3): every name must
 * come back with exactly its roles (a name filed under another length
 * is never found), and near misses must come back as 0.  The lookup
 * (names compared and lower-cased eight bytes at a time) is also checked
 * against a byte-at-a-time reference over the same lists on thousands of
 * pseudo-random near names, each in a buffer of its exact length so a
 * sanitizer build sees any read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hdrname.h"

static const char *const sender[] = {
    "reply-to", "sender", "in-reply-to", "references", "mime-version",
    "content-transfer-encoding", "content-disposition", "content-language",
    "x-mailer", "user-agent", "x-priority", "x-msmail-priority", "importance",
    "priority", "x-mimeole", "organization", "thread-index", "thread-topic",
    "content-class", "dkim-signature", "domainkey-signature", "errors-to",
    "disposition-notification-to", "return-receipt-to",
    "x-confirm-reading-to", "x-originating-ip", "x-sender",
    "x-accept-language", "x-ms-has-attach", "x-ms-tnef-correlator",
    "x-antiabuse", "x-originating-email", "auto-submitted",
    "x-auto-response-suppress", "mail-followup-to", "mail-reply-to",
    "x-face", "face", "openpgp", "autocrypt", "x-url", "x-operating-system",
    "x-gm-message-state", "x-google-smtp-source", "x-google-dkim-signature",
    "x-library", "x-mailer-version", "comments", "keywords", "x-unsent"};

/* The first three mark the message as bulk mail. */
static const char *const bulk[] = {
    "list-unsubscribe", "list-unsubscribe-post", "list-id", "list-help",
    "list-subscribe", "list-post", "list-archive", "list-owner",
    "x-beenthere", "x-mailman-version", "mailing-list", "x-mailing-list",
    "x-loop", "feedback-id", "x-campaign", "x-campaignid", "x-report-abuse",
    "x-csa-complaints", "x-sg-eid", "x-ses-outgoing", "x-mc-user",
    "x-mailgun-sid", "x-sfmc-stack", "x-complaints-to", "x-abuse-report",
    "x-feedback-id", "x-job", "x-rpcampaign", "x-listmember"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static unsigned
roles_of(const char *name)
{
    return hdrname_roles(name, strlen(name));
}

/* The roles a name must have beyond sender/bulk membership. */
static unsigned
special_roles(const char *name)
{
    if (strcmp(name, "in-reply-to") == 0 || strcmp(name, "references") == 0) {
        return HDRNAME_THREAD;
    }
    if (strcmp(name, "x-mailer") == 0 || strcmp(name, "user-agent") == 0) {
        return HDRNAME_MAILER;
    }
    if (strcmp(name, "x-priority") == 0) {
        return HDRNAME_PRIORITY;
    }
    return 0;
}

static void
test_hdrname_sender_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(sender); i++) {
        assert_int_equal(roles_of(sender[i]),
                         HDRNAME_SENDER | special_roles(sender[i]));
    }
}

static void
test_hdrname_bulk_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(bulk); i++) {
        unsigned want = HDRNAME_BULK | (i <= 2 ? HDRNAME_BULK_LIST : 0u);

        assert_int_equal(roles_of(bulk[i]), want);
    }
}

static void
test_hdrname_single_roles(void **state)
{
    (void)state;
    assert_int_equal(roles_of("date"), HDRNAME_DATE);
    assert_int_equal(roles_of("message-id"), HDRNAME_MESSAGE_ID);
    assert_int_equal(roles_of("precedence"), HDRNAME_PRECEDENCE);
}

static void
test_hdrname_near_misses(void **state)
{
    static const char *const misses[] = {
        "", "d", "dat", "dates", "received", "to", "from", "subject",
        "x-mailerx", "x-maile", "list", "list-", "list-unsubscribe-", "zzzz",
        "aaaa", "x-spam-status", "content-type", "Date", "X-Mailer"};

    (void)state;
    for (size_t i = 0; i < COUNT(misses); i++) {
        assert_int_equal(roles_of(misses[i]), 0);
    }
    /* The length decides, not a terminator: a prefix of a listed name. */
    assert_int_equal(hdrname_roles("x-mailer-version", 8),
                     HDRNAME_SENDER | HDRNAME_MAILER);
    assert_int_equal(hdrname_roles("date", 3), 0);
    assert_int_equal(hdrname_roles(NULL, 0), 0);
}

/* Every listed name written with capitals (each letter, and the first
 * of each word as mail writes them) has its roles through
 * hdrname_roles_ci; the near misses have none either way. */
static void
test_hdrname_roles_ci(void **state)
{
    static const char *const misses[] = {"", "Received", "To", "Subject",
                                         "X-Mailerx", "X-SPAM-STATUS",
                                         "Content-Type", "List-"};

    (void)state;
    for (size_t k = 0; k < COUNT(sender) + COUNT(bulk); k++) {
        const char *n = k < COUNT(sender) ? sender[k]
                                          : bulk[k - COUNT(sender)];
        size_t len = strlen(n);
        char up[64];
        char title[64];

        assert_true(len < sizeof(up));
        for (size_t i = 0; i <= len; i++) {
            char c = n[i];
            bool is_start = i == 0 || n[i - 1] == '-';

            up[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
            title[i] = is_start ? up[i] : c;
        }
        assert_int_equal(hdrname_roles_ci(up, len), roles_of(n));
        assert_int_equal(hdrname_roles_ci(title, len), roles_of(n));
        assert_int_equal(hdrname_roles_ci(n, len), roles_of(n));
        assert_true(roles_of(n) != 0);
    }
    assert_int_equal(hdrname_roles_ci("Date", 4), HDRNAME_DATE);
    assert_int_equal(hdrname_roles_ci("MESSAGE-ID", 10), HDRNAME_MESSAGE_ID);
    for (size_t i = 0; i < COUNT(misses); i++) {
        assert_int_equal(hdrname_roles_ci(misses[i], strlen(misses[i])), 0);
    }
}

static uint8_t
ref_fold(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool
ref_same(const char *name, size_t len, const char *n, bool is_ci)
{
    if (strlen(n) != len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)name[i];

        if ((is_ci ? ref_fold(c) : c) != (uint8_t)n[i]) {
            return false;
        }
    }
    return true;
}

/* The roles from the lists above, one byte at a time. */
static unsigned
ref_roles(const char *name, size_t len, bool is_ci)
{
    static const char *const single[] = {"date", "message-id", "precedence"};
    static const unsigned single_roles[] = {HDRNAME_DATE, HDRNAME_MESSAGE_ID,
                                            HDRNAME_PRECEDENCE};

    for (size_t i = 0; i < COUNT(sender); i++) {
        if (ref_same(name, len, sender[i], is_ci)) {
            return HDRNAME_SENDER | special_roles(sender[i]);
        }
    }
    for (size_t i = 0; i < COUNT(bulk); i++) {
        if (ref_same(name, len, bulk[i], is_ci)) {
            return HDRNAME_BULK | (i <= 2 ? HDRNAME_BULK_LIST : 0u);
        }
    }
    for (size_t i = 0; i < COUNT(single); i++) {
        if (ref_same(name, len, single[i], is_ci)) {
            return single_roles[i];
        }
    }
    return 0;
}

static uint32_t
next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Listed names with letters in random case, a byte replaced (by bytes
 * that equal a name byte once 0x20 is set or cleared, among others), one
 * byte cut or added, and random bytes: both lookups as the reference. */
static void
test_hdrname_random_near_names(void **state)
{
    static const uint8_t swap[] = {0x0D, '-', '@', '`', '[', '{', 0xC1,
                                   0xE1, 0xC5, 'A', 'z', 0,    0x80, 0xFF};
    uint32_t seed = 1877;

    (void)state;
    for (int round = 0; round < 30000; round++) {
        uint32_t r = next_rand(&seed);
        size_t pick = r % (COUNT(sender) + COUNT(bulk) + 1);
        char tmp[40];
        size_t len;
        char *name;

        if (pick < COUNT(sender) + COUNT(bulk)) {
            const char *n = pick < COUNT(sender)
                                ? sender[pick]
                                : bulk[pick - COUNT(sender)];

            len = strlen(n);
            memcpy(tmp, n, len);
            for (size_t i = 0; i < len; i++) {
                if (next_rand(&seed) % 2 != 0) {
                    tmp[i] = (char)(tmp[i] >= 'a' && tmp[i] <= 'z'
                                        ? tmp[i] - 32
                                        : tmp[i]);
                }
            }
            switch (next_rand(&seed) % 4) {
            case 0:
                break;
            case 1:
                tmp[next_rand(&seed) % len] =
                    (char)swap[next_rand(&seed) % sizeof(swap)];
                break;
            case 2:
                len--;
                break;
            default:
                tmp[len++] = (char)swap[next_rand(&seed) % sizeof(swap)];
                break;
            }
        } else {
            len = next_rand(&seed) % 32;
            for (size_t i = 0; i < len; i++) {
                tmp[i] = (char)("x-mailer"[next_rand(&seed) % 8]);
            }
        }
        name = malloc(len > 0 ? len : 1);
        assert_non_null(name);
        memcpy(name, tmp, len);
        assert_int_equal(hdrname_roles_ci(name, len), ref_roles(name, len, true));
        assert_int_equal(hdrname_roles(name, len), ref_roles(name, len, false));
        free(name);
    }
}

/* Every listed name with NUL bytes after it, up to the longest length
 * looked up: its words read as those of the name (zero-padded), so only
 * the length tells them apart, in any slot the lookup probes. */
static void
test_hdrname_nul_padded(void **state)
{
    (void)state;
    for (size_t k = 0; k < COUNT(sender) + COUNT(bulk); k++) {
        const char *n = k < COUNT(sender) ? sender[k]
                                          : bulk[k - COUNT(sender)];
        size_t len = strlen(n);

        for (size_t pad = 1; len + pad < 32; pad++) {
            char *name = calloc(len + pad, 1);

            assert_non_null(name);
            memcpy(name, n, len);
            assert_int_equal(hdrname_roles(name, len + pad), 0);
            assert_int_equal(hdrname_roles_ci(name, len + pad), 0);
            free(name);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hdrname_sender_fields),
        cmocka_unit_test(test_hdrname_bulk_fields),
        cmocka_unit_test(test_hdrname_single_roles),
        cmocka_unit_test(test_hdrname_near_misses),
        cmocka_unit_test(test_hdrname_roles_ci),
        cmocka_unit_test(test_hdrname_random_near_names),
        cmocka_unit_test(test_hdrname_nul_padded),
    };

    return cmocka_run_group_tests_name("hdrname", tests, NULL, NULL);
}
