/*
 * trainfp.h -- the campaign-fingerprint half of cmtool train (SPEC §4):
 * per-message fingerprint data collected next to the features, and the
 * FINGERPRINTS section built from the training set.
 *
 * Body fingerprints: near-duplicate groups (fingerprint.h rule, at least
 * m of K min-hashes) of at least TRAINFP_GROUP_MIN training spam/phish
 * messages, one entry per group (the member that matches the most
 * others), dropped when any training ham matches it; the biggest groups
 * are kept, at most CAPS_TRAIN_FINGERPRINTS_MAX.  Reported junk (inputs
 * marked is_reported: the "feedback" source cmtool feedback writes) is
 * trusted: each one no group entry covers gets its own entry, unless
 * training ham matches it (at most CAPS_TRAIN_REPORTED_MAX).
 * Attachment digests (those the engine digests: every attachment):
 * attachments of training junk with a dangerous name
 * (features_is_dangerous_name) or an archive holding one (malware, as the
 * engine judges it: rules_archive_is_dangerous), and of
 * reported junk any other attachment that is no image and at least
 * TRAINFP_ATTACHMENT_MIN_BYTES (the report's category), unless the same
 * bytes are in training ham; at most CAPS_TRAIN_DIGESTS_MAX.  URL
 * digests (fingerprint_url_digest, the engine's normalisation: host
 * lower-cased, scheme, port, fragment and tracking parameters dropped,
 * path and other query kept, escapes and dot segments normalised) of
 * the first CAPS_FINGERPRINT_DIGESTS_MAX
 * URLs of a message: a URL with a path (no front page) in training junk
 * from at least TRAINFP_URL_SENDERS_MIN distinct senders, on a host junk
 * links under at most TRAINFP_URL_HOST_URLS_MAX distinct URLs, whose
 * digest and host never occur in training ham; most senders first, at
 * most CAPS_TRAIN_URLS_MAX.  The output depends only on the inputs and their
 * order (no clock, no threads).
 *
 * Programs layer: trainfp_build reports its counts on stderr.
 */
#ifndef CM_TRAINFP_H
#define CM_TRAINFP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf;
struct fingerprint_db;
struct mime_doc;
struct trainfp_item;

#define TRAINFP_GROUP_MIN 3u
#define TRAINFP_SPAM_WEIGHT 97u
#define TRAINFP_PHISH_WEIGHT 98u
#define TRAINFP_MALWARE_WEIGHT 99u
/* A reported message's non-dangerous attachment smaller than this is no
 * campaign marker (spacer images, empty files). */
#define TRAINFP_ATTACHMENT_MIN_BYTES 512u
/* Distinct senders a URL must come from before it is a campaign URL, and
 * the most distinct URLs training junk may link on its host (more: a real
 * site that junk refers to, not a campaign's own). */
#define TRAINFP_URL_SENDERS_MIN 4u
#define TRAINFP_URL_HOST_URLS_MAX 3u
/* Seed of the URL host hashes (only compared within one training). */
#define TRAINFP_HOST_SEED 0x686f7374ull

/* One message's fingerprint data (body signature, digests of its
 * attachments and URLs) into *out, NULL when it has none; the caller
 * frees it with trainfp_item_free.  CM_ENOMEM (*out untouched) when it
 * cannot be allocated: a training set that went on without it would
 * lose the message's campaign from the section.  Any thread. */
enum cm_err trainfp_collect(const struct mime_doc *doc,
                            struct trainfp_item **out);
void trainfp_item_free(struct trainfp_item *it);

/* Test hook, process-wide: the nth item allocation of trainfp_collect
 * from now on fails as calloc would (0 disables). */
void trainfp_test_fail_nth_alloc(unsigned nth);

struct trainfp_input {
    const struct trainfp_item *fp; /* may be NULL */
    uint8_t label;                 /* enum model_label */
    bool is_test; /* held out: not used to build, measured against */
    bool is_reported; /* from user feedback (cmtool feedback): trusted */
    uint64_t sender;  /* hash of the From address: URL digests need
                         several distinct senders */
};

/*
 * The score a fingerprint hit raises fp's message to, as engine_depth
 * does: the highest weight among the body, attachment and URL entries
 * of db it matches; 0 when none (or fp is NULL).  For cmtool train's
 * held-out report.  No allocation; any thread.
 */
unsigned trainfp_hit_weight(const struct fingerprint_db *db,
                            const struct trainfp_item *fp);

/*
 * Build the FINGERPRINTS body from the inputs that are not is_test and
 * append it to section; then score the is_test ones against it and print
 * both summaries to stderr.  CM_ENOMEM, or an error of the format.
 */
enum cm_err trainfp_build(const struct trainfp_input *in, size_t n,
                          struct buf *section);

#endif
