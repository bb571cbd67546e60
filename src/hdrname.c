/*
 * hdrname.c -- header field name -> feature roles (see hdrname.h).
 *
 * The names are grouped by length and stored zero-padded to whole words;
 * on first use they go into a hash set keyed by length and first word,
 * so a lookup lower-cases the name eight bytes at a time and mostly reads
 * one slot (issue #7: the binary search over all names that came first
 * spent about 190 instructions on each field, a byte-wise compare 120,
 * the scan of the names of its length about 100).  The
 * unit test (tests/unit/test_hdrname.c) looks up every name with its
 * roles, so a name put in the group of another length fails it.
 */
#include "hdrname.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "byteorder.h"
#include "swar.h"

/* Names are compared eight bytes at a time: stored zero-padded to whole
 * words, the longest (27 bytes) in HDRNAME_WORDS. */
#define HDRNAME_WORDS 4

struct hdrname_entry {
    char name[HDRNAME_WORDS * 8]; /* lower case, zero-padded; its length is
                                     its group's */
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

/* The four bytes at p as a number whose low byte is p[0] (swar_load_le
 * reads eight that way). */
static uint64_t
load_le4(const char *p)
{
    return byteorder_le32((const uint8_t *)p);
}

/*
 * Word k of the name (len bytes, 4 <= len < 8 * HDRNAME_WORDS) as its
 * table entry holds it: a whole word, or the last bytes zero-padded, read
 * without a byte past the name: the last eight bytes shifted down when
 * the name has that many, else two overlapping four-byte loads.  With
 * is_folded, ASCII capitals as lower case.
 */
/* name_word, same_rest and search are inlined where called, so each is compiled
 * with is_folded and the word's index constant (issue #7: a call for the
 * first word cost as much as its load and fold). */
#if defined(__GNUC__)
#define HN_ALWAYS_INLINE __attribute__((always_inline))
#else
#define HN_ALWAYS_INLINE
#endif

static inline HN_ALWAYS_INLINE uint64_t
name_word(const char *name, size_t len, size_t k, bool is_folded)
{
    uint64_t w;

    if (8 * k + 8 <= len) {
        w = swar_load_le(name + 8 * k);
    } else if (len >= 8) {
        w = swar_load_le(name + len - 8) >> (8 * (8 - len % 8));
    } else {
        w = load_le4(name) | load_le4(name + len - 4) << (8 * (len - 4));
    }
    return is_folded ? swar_lower(w) : w;
}

/* Whether the name's words after the first (which matched) are e's. */
static inline HN_ALWAYS_INLINE bool
same_rest(const char *name, size_t len, const struct hdrname_entry *e,
          bool is_folded)
{
    for (size_t k = 1; 8 * k < len; k++) {
        if (name_word(name, len, k, is_folded) !=
            swar_load_le(e->name + 8 * k)) {
            return false;
        }
    }
    return true;
}

/*
 * Every entry in an open-addressing hash set keyed by its length and
 * first word, built once on first use and read-only after (pthread_once:
 * RATE's workers share it).  A lookup hashes the name's first word and
 * mostly reads one slot, where scanning its length's group compared the
 * first word of each of its names (issue #7: about five per field, all
 * eight of "received"'s).
 */
#define HDRNAME_SLOTS 256u /* a power of two, over twice the 82 names: a
                             probe for a missing name ends soon */

struct hdrname_slot {
    uint64_t first; /* the entry's first word */
    const struct hdrname_entry *e; /* NULL for an empty slot */
    size_t len;
};

static struct hdrname_slot slots[HDRNAME_SLOTS];
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;
/* Set (release) once slots is built: a lookup then skips the
 * pthread_once call (its acquire load pairs with the store). */
static atomic_bool slots_ready;

/* The first slot to probe for a name of len bytes whose first word is w
 * (a multiplicative hash: its top bits depend on all of w's). */
static size_t
slot_of(uint64_t w, size_t len)
{
    uint64_t h = (w ^ len) * UINT64_C(0x9E3779B97F4A7C15);

    return (size_t)(h >> 56) & (HDRNAME_SLOTS - 1);
}

static void
slots_build(void)
{
    for (size_t len = 0; len < sizeof(by_len) / sizeof(by_len[0]); len++) {
        for (size_t k = 0; k < by_len[len].n; k++) {
            const struct hdrname_entry *e = &by_len[len].e[k];
            uint64_t first = swar_load_le(e->name);
            size_t s = slot_of(first, len);

            while (slots[s].e != NULL) {
                s = (s + 1) & (HDRNAME_SLOTS - 1);
            }
            slots[s].first = first;
            slots[s].e = e;
            slots[s].len = len;
        }
    }
    atomic_store_explicit(&slots_ready, true, memory_order_release);
}

/* The roles of the name of len bytes (is_folded: with its ASCII capitals
 * as lower case): its first word looked up in the slots, the rest
 * compared only on a match. */
static inline HN_ALWAYS_INLINE unsigned
search(const char *name, size_t len, bool is_folded)
{
    uint64_t first;
    size_t s;

    /* The lengths name_word reads; the slots answer for those of no name. */
    if (len < 4 || len >= 8 * HDRNAME_WORDS) {
        return 0;
    }
    if (!atomic_load_explicit(&slots_ready, memory_order_acquire)) {
        (void)pthread_once(&slots_once, slots_build);
    }
    first = name_word(name, len, 0, is_folded);
    for (s = slot_of(first, len); slots[s].e != NULL;
         s = (s + 1) & (HDRNAME_SLOTS - 1)) {
        const struct hdrname_slot *t = &slots[s];

        if (t->first == first && t->len == len &&
            same_rest(name, len, t->e, is_folded)) {
            return t->e->roles;
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
