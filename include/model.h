/*
 * model.h -- the linear content model over hashed binary features, its
 * calibration to a 0..100 score, and the trainer that builds both.
 *
 * A message is a set of feature ids in [0, 2^hash_bits) (featureset.h).
 * Each head h has a bias and one weight per id.  The ids fall in two
 * blocks at the model's split (the feature set's dense facts below it,
 * its words, hosts and domains from it on), each normalised by its own
 * size, so a long text cannot drown the message's structure nor the
 * other way round:
 *     bias_h + sum_low(w_h) / sqrt(max(n_low, 1))
 *            + sum_high(w_h) / sqrt(max(n_high, 1))
 * (per-example normalisation: long messages do not win by volume).
 * Models of MODEL format 1 (older cartridges) have no split
 * (MODEL_SPLIT_NONE): every id is in the low block.
 * Heads: MODEL_HEAD_JUNK (ham vs spam+phish) and MODEL_HEAD_PHISH (spam vs
 * phish, trained on junk only).  The calibration maps the junk margin to
 * the score through monotone piecewise-linear knots.
 *
 * Two halves:
 *  - the loaded model (struct model): parsed from a cartridge MODEL section,
 *    validated, immutable, shared by all threads; weights int16 with one
 *    scale per head, stored densely so scoring is one load per feature;
 *  - training (struct model_weights): float weights, FTRL logistic
 *    regression, deterministic for a given seed, used by cmtool train and
 *    the tests only.
 */
#ifndef CM_MODEL_H
#define CM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum model_head {
    MODEL_HEAD_JUNK = 0, /* > 0: spam or phish */
    MODEL_HEAD_PHISH = 1 /* > 0: phish rather than spam */
};
#define MODEL_HEADS 2

/* Training labels. */
enum model_label {
    MODEL_LABEL_HAM = 0,
    MODEL_LABEL_SPAM = 1,
    MODEL_LABEL_PHISH = 2
};

/* ---- loaded model --------------------------------------------------- */

struct model;

/*
 * Parse and validate a MODEL section body (p, len): format, hash bits (must
 * equal hash_bits), feature-set version (must equal features_version),
 * bounded inflate, strictly increasing ids below 2^hash_bits, finite biases
 * and scales.  *out is a new model (model_free).  CM_EPARSE, CM_EVERSION,
 * CM_ELIMIT or CM_ENOMEM; *why (may be NULL) gets a static reason.
 */
enum cm_err model_parse(const uint8_t *p, size_t len, uint32_t features_version,
                        unsigned hash_bits, struct model **out,
                        const char **why);

void model_free(struct model *m);

unsigned model_hash_bits(const struct model *m);
uint32_t model_features_version(const struct model *m);

/* Non-zero weights of head h. */
size_t model_nonzero(const struct model *m, enum model_head h);

/* Bias of head h. */
double model_bias(const struct model *m, enum model_head h);

/* Weight of feature id in head h (0 for ids out of range). */
double model_weight(const struct model *m, enum model_head h, uint32_t id);

/* No split: one normalisation block (MODEL format 1). */
#define MODEL_SPLIT_NONE UINT32_MAX

/* The first id of the high normalisation block, or MODEL_SPLIT_NONE. */
uint32_t model_split(const struct model *m);

/* One message's normalisation: an id's weight counts times
 * factor[id >= split] in the margin (model_norm_factor). */
struct model_norm {
    double factor[2];
    uint32_t split;
};

void model_norm_of(const struct model *m, const uint32_t *ids, size_t n,
                   struct model_norm *out);

static inline double
model_norm_factor(const struct model_norm *nm, uint32_t id)
{
    return nm->factor[id >= nm->split];
}

/* Margins of every head for the feature set ids[0..n) (ids must be below
 * 2^hash_bits; duplicates count twice). */
void model_margins(const struct model *m, const uint32_t *ids, size_t n,
                   double margins[MODEL_HEADS]);

/* ---- calibration ---------------------------------------------------- */

#define MODEL_CAL_KNOTS_MAX 64u

struct model_calibration {
    size_t n_knots;                   /* 2..MODEL_CAL_KNOTS_MAX */
    float margin[MODEL_CAL_KNOTS_MAX]; /* strictly increasing */
    float score[MODEL_CAL_KNOTS_MAX];  /* non-decreasing, 0..100 */
    float phish_margin; /* phish head margin at or above which: phishing */
    float margin_96;    /* junk margin where the score reaches 96 (info) */
};

/* Parse a CALIBRATION section body.  CM_EPARSE with *why on bad input. */
enum cm_err model_calibration_parse(const uint8_t *p, size_t len,
                                    struct model_calibration *out,
                                    const char **why);

/* Append the CALIBRATION section body for cal to out. */
enum cm_err model_calibration_format(const struct model_calibration *cal,
                                     struct buf *out);

/* Score 0..100 for a junk margin: interpolated between knots, rounded
 * down, clamped to the first/last knot's score outside them. */
unsigned model_calibration_score(const struct model_calibration *cal,
                                 double margin);

/*
 * Fit a calibration from out-of-fold junk margins and labels
 * (is_junk[i]).  Knots follow a class-balanced logistic fit (score 50 at
 * even odds, 10 at odds 1:9, 0 at 1:999 and below), with score 96 moved up until at most max_ham_fp of the ham
 * margins reach it and score 100 kept for margins well beyond any ham.
 * phish margins (may be NULL, with is_phish) set phish_margin.
 * CM_EINVAL when either class is missing.
 */
enum cm_err model_calibrate(const double *margins, const bool *is_junk,
                            const double *phish_margins, const bool *is_phish,
                            size_t n, double max_ham_fp,
                            struct model_calibration *out);

/*
 * Move the score-96 knot up to margin m96 (when it is higher) and keep the
 * score-100 knot beyond it, at least as far past it as 96 is past 50.
 * Used when evidence besides the out-of-fold ham (mail from unseen
 * sources) says 96 must be harder to reach.
 */
void model_calibration_raise_96(struct model_calibration *cal, double m96);

/*
 * The margin that items carrying at most share of the total weight reach:
 * items are taken from the highest margin down, and the result lies just
 * above the first item whose weight would take the running sum past
 * share * total.  With all weights 1 it is the usual "at most
 * floor(share * n) items at or above".  Used with weights 1/(messages of
 * the item's sender), so that the share counts senders, not messages: one
 * newsletter's fifty issues are one stream of mail, not fifty.  margin and
 * weight are not modified; n > 0, weights > 0.  CM_ENOMEM or CM_EINVAL.
 */
enum cm_err model_margin_at_weighted_share(const double *margin,
                                           const double *weight, size_t n,
                                           double share, double *out);

/* ---- training ------------------------------------------------------- */

/* Examples in compressed-row form: example i has the feature ids
 * ids[off[i] .. off[i+1]) and label label[i]; weight[i] (may be NULL for
 * all 1) scales its gradient; n_norm[i] (may be NULL) is the feature count
 * used for normalisation when ids were pruned after extraction (the
 * scorer sees the whole set), and n_norm_high[i] (may be NULL: counted
 * from the ids) how many of those were at or above the split. */
struct model_dataset {
    const uint32_t *ids;
    const size_t *off; /* n + 1 entries */
    const uint8_t *label;  /* enum model_label */
    const float *weight;
    const uint32_t *n_norm;
    const uint32_t *n_norm_high;
    size_t n;
};

/* narrow[] value of a fact common in ham (see common_clip). */
#define MODEL_NARROW_COMMON 2u

struct model_train_params {
    unsigned hash_bits;  /* ids must be below 2^hash_bits */
    unsigned passes;     /* shuffled passes over the examples */
    uint64_t seed;       /* shuffle seed */
    float alpha;         /* FTRL-Proximal learning rate scale */
    float beta;          /* FTRL-Proximal rate smoothing */
    float l1;            /* L1: ids whose evidence stays below it get 0 */
    float l2;            /* L2 shrinkage */
    float clip;          /* weights are kept in [-clip, clip] */
    /* ids below restricted_ids may only take weights in
     * [restricted_min, 0] (bulk markers: never spam evidence). */
    uint32_t restricted_ids;
    float restricted_min;
    /* ids in [restricted_ids, dense_ids_end) are kept in
     * [-dense_clip, dense_clip]. */
    uint32_t dense_ids_end;
    float dense_clip;
    /* When not NULL, ids with narrow[id] != 0 (facts the trainer found
     * to describe sources rather than mail) are kept in
     * [-common_clip, common_clip] when narrow[id] is MODEL_NARROW_COMMON,
     * else in [-narrow_clip, narrow_clip], instead of their range's
     * limits. */
    const uint8_t *narrow;
    float narrow_clip;
    float common_clip;
    float ham_weight;    /* gradient weight of ham in the junk head */
    float phish_weight;  /* gradient weight of phish in the phish head */
    /* First id of the high normalisation block (MODEL_SPLIT_NONE: one
     * block, written as MODEL format 1). */
    uint32_t norm_split;
};

/* Defaults that cmtool train uses. */
void model_train_params_default(struct model_train_params *p,
                                unsigned hash_bits);

/* Float weights being trained: w[h][id] for each head. */
struct model_weights {
    unsigned hash_bits;
    uint32_t split; /* normalisation blocks, as trained */
    float *w[MODEL_HEADS];
    float bias[MODEL_HEADS];
};

/* Zeroed weights for 2^hash_bits ids.  CM_ENOMEM. */
enum cm_err model_weights_init(struct model_weights *mw, unsigned hash_bits);
void model_weights_clear(struct model_weights *mw);

/*
 * Train mw from scratch (its weights are overwritten) on the examples
 * ds[idx[0..n_idx)] (all examples when idx is NULL) with FTRL-Proximal
 * logistic regression (per-id adaptive rates, L1 for sparsity, L2).
 * Temporary state: two floats per id and head.  Deterministic: same
 * inputs and params, same weights.  CM_ENOMEM or CM_EINVAL.
 */
enum cm_err model_train(struct model_weights *mw,
                        const struct model_dataset *ds, const size_t *idx,
                        size_t n_idx, const struct model_train_params *p);

/* Margins of the float weights (same formula as model_margins, with
 * n_norm features for normalisation, n_norm_high of them at or above the
 * split). */
void model_weights_margins(const struct model_weights *mw,
                           const uint32_t *ids, size_t n, size_t n_norm,
                           size_t n_norm_high, double margins[MODEL_HEADS]);

/*
 * Append the MODEL section body for mw (quantised to int16, zlib
 * compressed) to out: format 1 without a split, 2 with one.
 * features_version is recorded and checked at load.
 */
enum cm_err model_format(const struct model_weights *mw,
                         uint32_t features_version, struct buf *out);

#endif
