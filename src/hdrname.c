/*
 * hdrname.c -- header field name -> feature roles (see hdrname.h).
 *
 * The table is sorted by (length, bytes), so a lookup is a binary search
 * whose compares mostly stop at the length: about seven short compares
 * per header field instead of up to eighty strcmp calls.  The unit test
 * (tests/unit/test_hdrname.c) looks up every name with its roles, so a
 * table out of order fails it.
 */
#include "hdrname.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct hdrname_entry {
    const char *name;
    size_t len;
    unsigned roles;
};

#define HN(s, r) {s, sizeof(s) - 1u, r}

/*
 * Sorted by length, then by bytes (memcmp order).
 *
 * HDRNAME_SENDER: fields written by the sender's side (MUA, list server,
 * ESP): presence says something about how the mail was made.  Everything
 * else (trace fields, the collecting mailbox's own fields, other filters'
 * verdicts) is ignored by construction.
 * HDRNAME_BULK: bulk-sending markers; restricted ids, never spam evidence.
 */
static const struct hdrname_entry hdrname_table[] = {
    HN("date", HDRNAME_DATE),
    HN("face", HDRNAME_SENDER),
    HN("x-job", HDRNAME_BULK),
    HN("x-url", HDRNAME_SENDER),
    HN("sender", HDRNAME_SENDER),
    HN("x-face", HDRNAME_SENDER),
    HN("x-loop", HDRNAME_BULK),
    HN("list-id", HDRNAME_BULK | HDRNAME_BULK_LIST),
    HN("openpgp", HDRNAME_SENDER),
    HN("comments", HDRNAME_SENDER),
    HN("keywords", HDRNAME_SENDER),
    HN("priority", HDRNAME_SENDER),
    HN("reply-to", HDRNAME_SENDER),
    HN("x-mailer", HDRNAME_SENDER | HDRNAME_MAILER),
    HN("x-sender", HDRNAME_SENDER),
    HN("x-sg-eid", HDRNAME_BULK),
    HN("x-unsent", HDRNAME_SENDER),
    HN("autocrypt", HDRNAME_SENDER),
    HN("errors-to", HDRNAME_SENDER),
    HN("list-help", HDRNAME_BULK),
    HN("list-post", HDRNAME_BULK),
    HN("x-library", HDRNAME_SENDER),
    HN("x-mc-user", HDRNAME_BULK),
    HN("x-mimeole", HDRNAME_SENDER),
    HN("importance", HDRNAME_SENDER),
    HN("list-owner", HDRNAME_BULK),
    HN("message-id", HDRNAME_MESSAGE_ID),
    HN("precedence", HDRNAME_PRECEDENCE),
    HN("references", HDRNAME_SENDER | HDRNAME_THREAD),
    HN("user-agent", HDRNAME_SENDER | HDRNAME_MAILER),
    HN("x-campaign", HDRNAME_BULK),
    HN("x-priority", HDRNAME_SENDER | HDRNAME_PRIORITY),
    HN("feedback-id", HDRNAME_BULK),
    HN("in-reply-to", HDRNAME_SENDER | HDRNAME_THREAD),
    HN("x-antiabuse", HDRNAME_SENDER),
    HN("x-beenthere", HDRNAME_BULK),
    HN("list-archive", HDRNAME_BULK),
    HN("mailing-list", HDRNAME_BULK),
    HN("mime-version", HDRNAME_SENDER),
    HN("organization", HDRNAME_SENDER),
    HN("thread-index", HDRNAME_SENDER),
    HN("thread-topic", HDRNAME_SENDER),
    HN("x-campaignid", HDRNAME_BULK),
    HN("x-listmember", HDRNAME_BULK),
    HN("x-rpcampaign", HDRNAME_BULK),
    HN("x-sfmc-stack", HDRNAME_BULK),
    HN("content-class", HDRNAME_SENDER),
    HN("mail-reply-to", HDRNAME_SENDER),
    HN("x-feedback-id", HDRNAME_BULK),
    HN("x-mailgun-sid", HDRNAME_BULK),
    HN("auto-submitted", HDRNAME_SENDER),
    HN("dkim-signature", HDRNAME_SENDER),
    HN("list-subscribe", HDRNAME_BULK),
    HN("x-abuse-report", HDRNAME_BULK),
    HN("x-mailing-list", HDRNAME_BULK),
    HN("x-report-abuse", HDRNAME_BULK),
    HN("x-ses-outgoing", HDRNAME_BULK),
    HN("x-complaints-to", HDRNAME_BULK),
    HN("x-ms-has-attach", HDRNAME_SENDER),
    HN("content-language", HDRNAME_SENDER),
    HN("list-unsubscribe", HDRNAME_BULK | HDRNAME_BULK_LIST),
    HN("mail-followup-to", HDRNAME_SENDER),
    HN("x-csa-complaints", HDRNAME_BULK),
    HN("x-mailer-version", HDRNAME_SENDER),
    HN("x-originating-ip", HDRNAME_SENDER),
    HN("return-receipt-to", HDRNAME_SENDER),
    HN("x-accept-language", HDRNAME_SENDER),
    HN("x-mailman-version", HDRNAME_BULK),
    HN("x-msmail-priority", HDRNAME_SENDER),
    HN("x-gm-message-state", HDRNAME_SENDER),
    HN("x-operating-system", HDRNAME_SENDER),
    HN("content-disposition", HDRNAME_SENDER),
    HN("domainkey-signature", HDRNAME_SENDER),
    HN("x-originating-email", HDRNAME_SENDER),
    HN("x-confirm-reading-to", HDRNAME_SENDER),
    HN("x-google-smtp-source", HDRNAME_SENDER),
    HN("x-ms-tnef-correlator", HDRNAME_SENDER),
    HN("list-unsubscribe-post", HDRNAME_BULK | HDRNAME_BULK_LIST),
    HN("x-google-dkim-signature", HDRNAME_SENDER),
    HN("x-auto-response-suppress", HDRNAME_SENDER),
    HN("content-transfer-encoding", HDRNAME_SENDER),
    HN("disposition-notification-to", HDRNAME_SENDER),
};

/* <0, 0, >0 as (name, len) sorts before, equal to or after e; with
 * is_folded, name's ASCII capitals compare as lower case. */
static int
compare(const char *name, size_t len, const struct hdrname_entry *e,
        bool is_folded)
{
    if (len != e->len) {
        return len < e->len ? -1 : 1;
    }
    if (!is_folded) {
        return memcmp(name, e->name, len);
    }
    for (size_t k = 0; k < len; k++) {
        uint8_t a = (uint8_t)name[k];
        uint8_t b = (uint8_t)e->name[k]; /* lower case already */

        if (a == b) {
            continue;
        }
        if (a >= 'A' && a <= 'Z') {
            a = (uint8_t)(a + 32);
        }
        if (a != b) {
            return a < b ? -1 : 1;
        }
    }
    return 0;
}

static unsigned
search(const char *name, size_t len, bool is_folded)
{
    size_t lo = 0;
    size_t hi = sizeof(hdrname_table) / sizeof(hdrname_table[0]);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare(name, len, &hdrname_table[mid], is_folded);

        if (c == 0) {
            return hdrname_table[mid].roles;
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return 0;
}

unsigned
hdrname_roles(const char *name, size_t len)
{
    return search(name, len, false);
}

unsigned
hdrname_roles_ci(const char *name, size_t len)
{
    return search(name, len, true);
}
