/*
 * engine.h -- scores one message on one cartridge snapshot (SPEC §4).
 *
 * The only entry point the helper workers, RATE, cmtool and the tests use.
 * Pure: no I/O, no globals, no clock except through the budget.  Each
 * calling thread owns one struct engine_scratch (arena and feature
 * buffers) and reuses it message after message.
 */
#ifndef CM_ENGINE_H
#define CM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "budget.h"
#include "cartridge.h"
#include "err.h"
#include "queuefile.h"

struct whitelist;
struct engine_scratch;
struct sitelayer;

enum engine_category {
    ENGINE_CAT_LEGIT = 0,
    ENGINE_CAT_SPAM,
    ENGINE_CAT_PHISHING,
    ENGINE_CAT_MALWARE,
    ENGINE_CAT_BULK
};

/* What the engine scores: the RFC 822 message bytes and its envelope. */
struct message {
    const uint8_t *data; /* the RFC 822 message (envelope already skipped) */
    size_t len;
    const struct envelope *env; /* NULL or an empty envelope when unknown */
    bool is_truncated;          /* cut at Max_Body_Length */
};

#define ENGINE_NAME_MAX 32
#define ENGINE_ANALYSIS_MAX 512

struct verdict {
    unsigned score; /* 0..100 */
    enum engine_category category;
    char category_name[ENGINE_NAME_MAX];    /* "legit", "spam", ... */
    char subcategory_name[ENGINE_NAME_MAX]; /* "" when none */
    bool rescan;            /* default cartridge, truncation or caps hit */
    bool is_whitelisted;    /* a whitelist entry forced score 0 */
    uint64_t cartridge_version;
    unsigned mime_flags;    /* enum mime_flag bits, for the analysis */
    char analysis[ENGINE_ANALYSIS_MAX]; /* printable ASCII, no quotes */
};

/* Name of a category ("legit", "spam", "phishing", "malware", "bulk"). */
const char *engine_category_name(enum engine_category cat);

/* Engine version string, e.g. "1.0.0". */
const char *engine_version(void);

/* Per-thread working memory; NULL on ENOMEM. */
struct engine_scratch *engine_scratch_new(void);
void engine_scratch_free(struct engine_scratch *s);

/*
 * Score m on cartridge c (a snapshot the caller holds a reference to) with
 * the site whitelist wl (NULL for none) within budget b (NULL for none).
 * Fills *out.  Errors: CM_ETIMEOUT (budget overrun), CM_ENOMEM; any other
 * input problem still yields a verdict.  Any thread, one scratch each.
 */
enum cm_err engine_score(const struct cartridge *c, const struct whitelist *wl,
                         const struct message *m, const struct budget *b,
                         struct engine_scratch *s, struct verdict *out);

/* engine_score with the site's learned layer (sitelayer.h; NULL = none)
 * added to the cartridge model's junk margin before calibration. */
enum cm_err engine_score_site(const struct cartridge *c,
                              const struct sitelayer *site,
                              const struct whitelist *wl,
                              const struct message *m, const struct budget *b,
                              struct engine_scratch *s, struct verdict *out);

/*
 * RATE --explain: append to v->analysis (within ENGINE_ANALYSIS_MAX, as
 * printable ASCII without quotes) the reputation entries m matched
 * (" rep-hits=ip:192.0.2.0/24:+5.00,..."; none without hits), then
 * " top=" and the features of m that moved the junk margin most,
 * "ns:text:+w" by decreasing |w|.  Parses m
 * again with a feature trace: for the shell, not the mail path.
 */
void engine_explain(const struct cartridge *c, const struct message *m,
                    struct engine_scratch *s, struct verdict *v);

/*
 * What LEARN needs of one message: its feature ids (valid until the next
 * call with s), the junk margin of cartridge model plus site layer plus
 * reputation (as engine_score_site adds them), and
 * the junk margins at which the cartridge's calibration gives score 96
 * (*spam_target) and score 10 (*ham_target).
 */
enum cm_err engine_learn_view(const struct cartridge *c,
                              const struct sitelayer *site,
                              const struct message *m,
                              struct engine_scratch *s, const uint32_t **ids,
                              size_t *n_ids, double *margin,
                              double *spam_target, double *ham_target);

#endif
