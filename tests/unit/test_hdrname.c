/*
 * test_hdrname.c -- the header-name -> feature-role table (hdrname.h).
 *
 * The expected lists below are the sender-side and bulk-marker lists as
 * features.c held them before the table (features v3): every name must
 * come back with exactly its roles (a name filed under another length
 * is never found), and near misses must come back as 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hdrname_sender_fields),
        cmocka_unit_test(test_hdrname_bulk_fields),
        cmocka_unit_test(test_hdrname_single_roles),
        cmocka_unit_test(test_hdrname_near_misses),
        cmocka_unit_test(test_hdrname_roles_ci),
    };

    return cmocka_run_group_tests_name("hdrname", tests, NULL, NULL);
}
