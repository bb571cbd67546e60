/*
 * hdrname.c -- header field name -> feature roles (see hdrname.h).
 *
 * The names are grouped by length, so a lookup indexes the group of its
 * name's length (none for most trace and content fields) and compares
 * the first byte of each of the few names there before the rest: a
 * handful of byte compares per header field (issue #7: the binary search
 * over all names this replaced spent about 190 instructions on each).  The
 * unit test (tests/unit/test_hdrname.c) looks up every name with its
 * roles, so a name put in the group of another length fails it.
 */
#include "hdrname.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct hdrname_entry {
    const char *name; /* lower case; its length is its group's */
    unsigned roles;
};

struct hdrname_group {
    const struct hdrname_entry *e;
    size_t n;
};

#define HN(s, r) {s, r}

/*
 * One array per name length, each sorted by bytes.
 *
 * HDRNAME_SENDER: fields written by the sender's side (MUA, list server,
 * ESP): presence says something about how the mail was made.  Everything
 * else (trace fields, the collecting mailbox's own fields, other filters'
 * verdicts) is ignored by construction.
 * HDRNAME_BULK: bulk-sending markers; restricted ids, never spam evidence.
 */
static const struct hdrname_entry len4[] = {
    HN("date", HDRNAME_DATE),
    HN("face", HDRNAME_SENDER),
};
static const struct hdrname_entry len5[] = {
    HN("x-job", HDRNAME_BULK),
    HN("x-url", HDRNAME_SENDER),
};
static const struct hdrname_entry len6[] = {
    HN("sender", HDRNAME_SENDER),
    HN("x-face", HDRNAME_SENDER),
    HN("x-loop", HDRNAME_BULK),
};
static const struct hdrname_entry len7[] = {
    HN("list-id", HDRNAME_BULK | HDRNAME_BULK_LIST),
    HN("openpgp", HDRNAME_SENDER),
};
static const struct hdrname_entry len8[] = {
    HN("comments", HDRNAME_SENDER),
    HN("keywords", HDRNAME_SENDER),
    HN("priority", HDRNAME_SENDER),
    HN("reply-to", HDRNAME_SENDER),
    HN("x-mailer", HDRNAME_SENDER | HDRNAME_MAILER),
    HN("x-sender", HDRNAME_SENDER),
    HN("x-sg-eid", HDRNAME_BULK),
    HN("x-unsent", HDRNAME_SENDER),
};
static const struct hdrname_entry len9[] = {
    HN("autocrypt", HDRNAME_SENDER),
    HN("errors-to", HDRNAME_SENDER),
    HN("list-help", HDRNAME_BULK),
    HN("list-post", HDRNAME_BULK),
    HN("x-library", HDRNAME_SENDER),
    HN("x-mc-user", HDRNAME_BULK),
    HN("x-mimeole", HDRNAME_SENDER),
};
static const struct hdrname_entry len10[] = {
    HN("importance", HDRNAME_SENDER),
    HN("list-owner", HDRNAME_BULK),
    HN("message-id", HDRNAME_MESSAGE_ID),
    HN("precedence", HDRNAME_PRECEDENCE),
    HN("references", HDRNAME_SENDER | HDRNAME_THREAD),
    HN("user-agent", HDRNAME_SENDER | HDRNAME_MAILER),
    HN("x-campaign", HDRNAME_BULK),
    HN("x-priority", HDRNAME_SENDER | HDRNAME_PRIORITY),
};
static const struct hdrname_entry len11[] = {
    HN("feedback-id", HDRNAME_BULK),
    HN("in-reply-to", HDRNAME_SENDER | HDRNAME_THREAD),
    HN("x-antiabuse", HDRNAME_SENDER),
    HN("x-beenthere", HDRNAME_BULK),
};
static const struct hdrname_entry len12[] = {
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
};
static const struct hdrname_entry len13[] = {
    HN("content-class", HDRNAME_SENDER),
    HN("mail-reply-to", HDRNAME_SENDER),
    HN("x-feedback-id", HDRNAME_BULK),
    HN("x-mailgun-sid", HDRNAME_BULK),
};
static const struct hdrname_entry len14[] = {
    HN("auto-submitted", HDRNAME_SENDER),
    HN("dkim-signature", HDRNAME_SENDER),
    HN("list-subscribe", HDRNAME_BULK),
    HN("x-abuse-report", HDRNAME_BULK),
    HN("x-mailing-list", HDRNAME_BULK),
    HN("x-report-abuse", HDRNAME_BULK),
    HN("x-ses-outgoing", HDRNAME_BULK),
};
static const struct hdrname_entry len15[] = {
    HN("x-complaints-to", HDRNAME_BULK),
    HN("x-ms-has-attach", HDRNAME_SENDER),
};
static const struct hdrname_entry len16[] = {
    HN("content-language", HDRNAME_SENDER),
    HN("list-unsubscribe", HDRNAME_BULK | HDRNAME_BULK_LIST),
    HN("mail-followup-to", HDRNAME_SENDER),
    HN("x-csa-complaints", HDRNAME_BULK),
    HN("x-mailer-version", HDRNAME_SENDER),
    HN("x-originating-ip", HDRNAME_SENDER),
};
static const struct hdrname_entry len17[] = {
    HN("return-receipt-to", HDRNAME_SENDER),
    HN("x-accept-language", HDRNAME_SENDER),
    HN("x-mailman-version", HDRNAME_BULK),
    HN("x-msmail-priority", HDRNAME_SENDER),
};
static const struct hdrname_entry len18[] = {
    HN("x-gm-message-state", HDRNAME_SENDER),
    HN("x-operating-system", HDRNAME_SENDER),
};
static const struct hdrname_entry len19[] = {
    HN("content-disposition", HDRNAME_SENDER),
    HN("domainkey-signature", HDRNAME_SENDER),
    HN("x-originating-email", HDRNAME_SENDER),
};
static const struct hdrname_entry len20[] = {
    HN("x-confirm-reading-to", HDRNAME_SENDER),
    HN("x-google-smtp-source", HDRNAME_SENDER),
    HN("x-ms-tnef-correlator", HDRNAME_SENDER),
};
static const struct hdrname_entry len21[] = {
    HN("list-unsubscribe-post", HDRNAME_BULK | HDRNAME_BULK_LIST),
};
static const struct hdrname_entry len23[] = {
    HN("x-google-dkim-signature", HDRNAME_SENDER),
};
static const struct hdrname_entry len24[] = {
    HN("x-auto-response-suppress", HDRNAME_SENDER),
};
static const struct hdrname_entry len25[] = {
    HN("content-transfer-encoding", HDRNAME_SENDER),
};
static const struct hdrname_entry len27[] = {
    HN("disposition-notification-to", HDRNAME_SENDER),
};

#define GROUP(a) {a, sizeof(a) / sizeof((a)[0])}

/* The names of each length; none of 0..3, 22 or 26 bytes. */
static const struct hdrname_group by_len[] = {
    [4] = GROUP(len4),
    [5] = GROUP(len5),
    [6] = GROUP(len6),
    [7] = GROUP(len7),
    [8] = GROUP(len8),
    [9] = GROUP(len9),
    [10] = GROUP(len10),
    [11] = GROUP(len11),
    [12] = GROUP(len12),
    [13] = GROUP(len13),
    [14] = GROUP(len14),
    [15] = GROUP(len15),
    [16] = GROUP(len16),
    [17] = GROUP(len17),
    [18] = GROUP(len18),
    [19] = GROUP(len19),
    [20] = GROUP(len20),
    [21] = GROUP(len21),
    [23] = GROUP(len23),
    [24] = GROUP(len24),
    [25] = GROUP(len25),
    [27] = GROUP(len27),
};

/* ASCII capitals as lower case: header names are case-insensitive. */
static uint8_t
fold(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Whether name (len bytes, len >= 1) is e's name, with is_folded its
 * ASCII capitals compared as lower case.  The first byte was compared
 * already. */
static bool
same_rest(const char *name, size_t len, const struct hdrname_entry *e,
          bool is_folded)
{
    if (!is_folded) {
        return memcmp(name + 1, e->name + 1, len - 1u) == 0;
    }
    for (size_t k = 1; k < len; k++) {
        if (fold((uint8_t)name[k]) != (uint8_t)e->name[k]) {
            return false;
        }
    }
    return true;
}

static unsigned
search(const char *name, size_t len, bool is_folded)
{
    const struct hdrname_group *g;
    uint8_t first;

    if (len >= sizeof(by_len) / sizeof(by_len[0]) || by_len[len].n == 0) {
        return 0;
    }
    g = &by_len[len];
    first = is_folded ? fold((uint8_t)name[0]) : (uint8_t)name[0];
    for (size_t i = 0; i < g->n; i++) {
        if ((uint8_t)g->e[i].name[0] == first &&
            same_rest(name, len, &g->e[i], is_folded)) {
            return g->e[i].roles;
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
