/*
 * trainrep.h -- the reputation half of cmtool train (SPEC §4): the
 * REPUTATION section built from administrator lists (replist.h) and,
 * when asked, from the training data.
 *
 * Data-derived entries (conservative; registered domains only, never IPs:
 * a corpus's Received lines describe its collector and its era; never a
 * public suffix such as co.uk, which would cover every domain under it):
 *   block  a sender registered domain (From) or URL registered domain
 *          seen in at least TRAINREP_JUNK_MIN training junk messages from
 *          at least TRAINREP_SENDERS_MIN distinct From addresses and in
 *          no training ham; category phishing when most of those
 *          messages are phish, else spam;
 *   allow  one seen in at least TRAINREP_HAM_MIN ham messages from at
 *          least TRAINREP_SENDERS_MIN senders and in no junk.
 * Weight: TRAINREP_SCALE × the smoothed log-odds ln(((j+1)/(J+2)) /
 * ((h+1)/(H+2))) (j, h its junk and ham messages; J, H all of them),
 * clipped to [TRAINREP_WEIGHT_MIN, TRAINREP_WEIGHT_MAX] hundredths, sign
 * by action.  The heaviest CAPS_TRAIN_REPUTATION_MAX are kept (ties by
 * key).  List entries come first, so a list entry overrides a derived
 * one for the same key.  The output depends only on the inputs.
 *
 * Programs layer: trainrep_build reports its counts on stderr.
 */
#ifndef CM_TRAINREP_H
#define CM_TRAINREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf;
struct envelope;
struct mime_doc;
struct replist;
struct reputation_db;
struct trainrep_item;

#define TRAINREP_JUNK_MIN 10u
#define TRAINREP_HAM_MIN 20u
#define TRAINREP_SENDERS_MIN 3u
#define TRAINREP_SCALE 0.5
#define TRAINREP_WEIGHT_MIN 25
#define TRAINREP_WEIGHT_MAX 250

/* What the reputation check reads of one message (peer IP, sender and
 * every URL host it looks up), or NULL on ENOMEM.  sender: the trainer's From-address
 * hash.  Any thread. */
struct trainrep_item *trainrep_collect(const struct mime_doc *doc,
                                       const struct envelope *env,
                                       uint64_t sender);

/* Test hook, process-wide: the nth allocation of trainrep_collect from now on
 * fails as malloc would (0 disables). */
void trainrep_test_fail_nth_alloc(unsigned nth);
void trainrep_item_free(struct trainrep_item *it);

/* The weight (hundredths, clipped like reputation_check) db gives the
 * message it was collected from. */
int trainrep_item_margin(const struct reputation_db *db,
                         const struct trainrep_item *it);

/* Which derived entries to make. */
enum trainrep_derive {
    TRAINREP_DERIVE_NONE = 0,
    TRAINREP_DERIVE_BLOCK = 1, /* blocks only */
    TRAINREP_DERIVE_ALL = 2    /* blocks and allows */
};

struct trainrep_input {
    const struct trainrep_item *rep; /* may be NULL */
    uint8_t label;                   /* enum model_label */
    bool is_test;                    /* held out: not used to build */
};

/*
 * Append a REPUTATION body to section: the entries of lists (may be NULL)
 * and the entries derived (as derive says) from the inputs that are not
 * is_test.  CM_ENOMEM, or an error of the format.
 */
enum cm_err trainrep_build(const struct trainrep_input *in, size_t n,
                           const struct replist *lists,
                           enum trainrep_derive derive,
                           struct buf *section);

#endif
