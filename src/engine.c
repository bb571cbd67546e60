/*
 * engine.c -- scores one message on one cartridge snapshot (SPEC §4; see
 * engine.h).
 *
 * Phases, with the time budget checked between them (CM_ETIMEOUT):
 *   1. envelope whitelist (host / envelope entries) → score 0;
 *   2. mime_parse into the scratch arena (reset per message); when the
 *      system refused the arena memory (not its budget) the partial view
 *      is not scored: CM_ENOMEM, so the helper fails open;
 *   3. message whitelist (header / body entries) → score 0;
 *   4. features_extract (the same code cmtool train uses);
 *   5. model heads → junk margin and phish margin;
 *   5b. reputation: the cartridge's REPUTATION entries matched by the
 *      peer IP, sender domains and URL hosts (reputation.h) add their
 *      weights to the junk margin, like the site layer; after step 7 a
 *      block of at least REPUTATION_STRONG_CENTI sets its category when
 *      the score reaches RULES_LEGIT_BELOW and the category ranks higher
 *      or the message was bulk ("rep=ip:+5.00" in the analysis);
 *   6. heuristic rules (rules.h: dangerous attachments, executables in
 *      zips, look-alike domains, credential forms, deceptive links, bulk
 *      markers): the weights of the fired ones, from the cartridge's
 *      RULES section, are added to the junk margin;
 *   7. calibration: junk margin → score 0..100, then rules_classify:
 *      fired rules' floors (malware rules: 99), score < 50 → legit
 *      (subcategory "newsletter" with bulk markers), otherwise the
 *      highest ranked of the fired rules' categories and the phishing
 *      head's vote from 96 up (malware > phishing > spam > bulk; bulk
 *      only below 96), spam when none; the fired rules go into the analysis
 *      ("rules=lookalike-domain,credential-form");
 *   8. depth (engine_depth): a campaign fingerprint of the cartridge
 *      (near-duplicate body, attachment or URL digest) raises the score to
 *      the entry's weight and sets its category when it ranks at least as
 *      high as the current one (malware > phishing > spam > bulk, legit)
 *      and the score is at least RULES_LEGIT_BELOW;
 *      of the attachment and URL digests that hit, the highest ranked
 *      (then heaviest) one counts, not the first found; added to the
 *      analysis ("fp=body:spam:campaign").
 * rescan is set for the embedded default cartridge, a truncated message,
 * or any MIME cap hit, so CGP may ask again with more data or a newer
 * cartridge (the feature cap only drops the tail of a very long text:
 * asking again would not change it).
 *
 * State: none of its own; everything per message lives in the caller's
 * engine_scratch.  Pure: no I/O, no logging, no clock but the budget.
 */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "caps.h"
#include "featureset.h"
#include "fingerprint.h"
#include "mime.h"
#include "model.h"
#include "numfmt.h"
#include "reputation.h"
#include "rules.h"
#include "sitelayer.h"
#include "whitelist.h"

#define ENGINE_VERSION "1.0.0"

_Static_assert((int)ENGINE_CAT_PHISHING == (int)RULES_CAT_PHISHING &&
                   (int)ENGINE_CAT_MALWARE == (int)RULES_CAT_MALWARE &&
                   (int)ENGINE_CAT_BULK == (int)RULES_CAT_BULK &&
                   (int)ENGINE_CAT_SPAM == (int)RULES_CAT_SPAM,
               "rules.h category codes are engine categories");

/* MIME flags that mean part of the message was not looked at. */
#define ENGINE_RESCAN_MIME_FLAGS                                             \
    (MIME_DEPTH_CAPPED | MIME_PARTS_CAPPED | MIME_HEADERS_CAPPED |           \
     MIME_TEXT_CAPPED | MIME_URLS_CAPPED | MIME_ATTS_CAPPED |                \
     MIME_ARENA_FULL | MIME_TRUNCATED | MIME_PART_CAPPED)

struct engine_scratch {
    struct arena *arena;
    struct features_scratch *fs;
};

const char *
engine_category_name(enum engine_category cat)
{
    switch (cat) {
    case ENGINE_CAT_LEGIT:
        return "legit";
    case ENGINE_CAT_SPAM:
        return "spam";
    case ENGINE_CAT_PHISHING:
        return "phishing";
    case ENGINE_CAT_MALWARE:
        return "malware";
    case ENGINE_CAT_BULK:
        return "bulk";
    }
    return "unknown";
}

const char *
engine_version(void)
{
    return ENGINE_VERSION;
}

struct engine_scratch *
engine_scratch_new(void)
{
    struct engine_scratch *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    s->arena = arena_new(CAPS_ARENA_MAX_BYTES);
    s->fs = features_scratch_new();
    if (s->arena == NULL || s->fs == NULL) {
        engine_scratch_free(s);
        return NULL;
    }
    return s;
}

void
engine_scratch_free(struct engine_scratch *s)
{
    if (s == NULL) {
        return;
    }
    arena_free(s->arena);
    features_scratch_free(s->fs);
    free(s);
}

/* src into dst (cap > 0 bytes), cut to fit and NUL-terminated: what
 * snprintf "%s" did here, without parsing a format twice per message
 * (issue #7). */
static void
copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Append (p, n) to the text at dst (capacity cap > 0, length o), cut as
 * snprintf cuts (at most cap - 1 bytes kept) and NUL-terminated; returns
 * the new length. */
static size_t
text_put(char *dst, size_t cap, size_t o, const char *p, size_t n)
{
    size_t room;

    if (o >= cap) {
        return o; /* not a text this function wrote */
    }
    room = cap - 1u - o;
    if (n > room) {
        n = room;
    }
    memcpy(dst + o, p, n);
    o += n;
    dst[o] = '\0';
    return o;
}

/* Append v in base 10 or 16 (lower-case digits, no leading zeros), as
 * %zu and %x write it. */
static size_t
text_put_uint(char *dst, size_t cap, size_t o, uint64_t v, unsigned base)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[24];
    size_t k = sizeof(tmp);

    do {
        tmp[--k] = digits[v % base];
        v /= base;
    } while (v > 0);
    return text_put(dst, cap, o, tmp + k, sizeof(tmp) - k);
}

static void
set_category(struct verdict *out, enum engine_category cat, const char *sub)
{
    out->category = cat;
    copy_name(out->category_name, sizeof(out->category_name),
              engine_category_name(cat));
    copy_name(out->subcategory_name, sizeof(out->subcategory_name), sub);
}

static void
whitelisted(struct verdict *out, const char *what)
{
    out->score = 0;
    out->is_whitelisted = true;
    set_category(out, ENGINE_CAT_LEGIT, "whitelisted");
    /* what is a static description of the entry type (no input bytes);
     * keep only the characters the analysis string allows. */
    {
        char w[32];
        size_t n = 0;

        for (size_t i = 0; what != NULL && what[i] != '\0' && n + 1 < sizeof(w);
             i++) {
            char ch = what[i];

            if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
                w[n++] = ch;
            }
        }
        w[n] = '\0';
        snprintf(out->analysis, sizeof(out->analysis), "wl=%s",
                 n > 0 ? w : "yes");
    }
}

/* ---- depth: campaign fingerprints and archives ------------------------ */

static unsigned
category_rank(enum engine_category cat)
{
    switch (cat) {
    case ENGINE_CAT_MALWARE:
        return 3;
    case ENGINE_CAT_PHISHING:
        return 2;
    case ENGINE_CAT_SPAM:
        return 1;
    case ENGINE_CAT_LEGIT:
    case ENGINE_CAT_BULK:
        return 0;
    }
    return 0;
}

/* Raise v to score and, when cat ranks at least as high as v's category
 * and the score is past the legit line (below it a message is legit, as
 * classify and reputation_raise have it), to cat/sub; note what (static
 * text, [a-z0-9:=-]) in the analysis. */
static void
depth_raise(struct verdict *v, enum engine_category cat, const char *sub,
            unsigned score, const char *what)
{
    size_t al = strlen(v->analysis);

    if (v->score < score) {
        v->score = score;
    }
    if (v->score >= RULES_LEGIT_BELOW &&
        category_rank(cat) >= category_rank(v->category)) {
        set_category(v, cat, sub);
    }
    al = text_put(v->analysis, sizeof(v->analysis), al, " ", 1);
    text_put(v->analysis, sizeof(v->analysis), al, what, strlen(what));
}

/* A strong reputation block decides the category of a message it made
 * junk (phase 9). */
static void
reputation_raise(struct verdict *v, const struct reputation_hits *rep)
{
    static const enum engine_category cats[] = {
        ENGINE_CAT_SPAM, ENGINE_CAT_SPAM, ENGINE_CAT_PHISHING,
        ENGINE_CAT_MALWARE};
    const struct reputation_entry *e = rep->strongest_block;
    enum engine_category cat;

    if (e == NULL || e->weight < REPUTATION_STRONG_CENTI ||
        v->score < RULES_LEGIT_BELOW) {
        return;
    }
    cat = cats[e->category <= 3 ? e->category : 1];
    if (category_rank(cat) > category_rank(v->category) ||
        v->category == ENGINE_CAT_BULK) {
        set_category(v, cat, "reputation");
    }
}

/* The engine category of a fingerprint entry's category code. */
static enum engine_category
fingerprint_engine_category(const struct fingerprint_entry *e)
{
    static const enum engine_category cats[] = {
        ENGINE_CAT_SPAM, ENGINE_CAT_SPAM, ENGINE_CAT_PHISHING,
        ENGINE_CAT_MALWARE};

    return cats[e->category <= 3 ? e->category : 1];
}

static void
depth_fingerprint_hit(struct verdict *v, const struct fingerprint_entry *e)
{
    const char *kind = fingerprint_kind_name((enum fingerprint_kind)e->kind);
    const char *cat =
        fingerprint_category_name((enum fingerprint_category)e->category);
    char what[80];
    size_t o = 0;

    /* "fp=%s:%s%s%s" (kind, category, ":" and the subcategory when
     * there is one), cut to what as snprintf cut it (issue #7). */
    o = text_put(what, sizeof(what), o, "fp=", 3);
    o = text_put(what, sizeof(what), o, kind, strlen(kind));
    o = text_put(what, sizeof(what), o, ":", 1);
    o = text_put(what, sizeof(what), o, cat, strlen(cat));
    if (e->sub[0] != '\0') {
        o = text_put(what, sizeof(what), o, ":", 1);
        text_put(what, sizeof(what), o, e->sub, strlen(e->sub));
    }
    depth_raise(v, fingerprint_engine_category(e), e->sub, e->weight, what);
}

/* Whether hit e decides over best (NULL for none yet): the higher ranked
 * category, then the higher weight; the first of equals stays. */
static bool
digest_hit_is_better(const struct fingerprint_entry *e,
                     const struct fingerprint_entry *best)
{
    unsigned er;
    unsigned br;

    if (e == NULL) {
        return false;
    }
    if (best == NULL) {
        return true;
    }
    er = category_rank(fingerprint_engine_category(e));
    br = category_rank(fingerprint_engine_category(best));
    return er > br || (er == br && e->weight > best->weight);
}

/* Attachment and URL digests against the cartridge's entries: of all
 * the hits, the one with the highest ranked category (then weight), so a
 * spam flyer attached beside a malware link does not hide the link; stops
 * early when the budget runs out (the caller reports it). */
static const struct fingerprint_entry *
depth_digest_hit(const struct fingerprint_db *db, const struct mime_doc *doc,
                 const struct budget *b)
{
    size_t n_done = 0;
    const struct fingerprint_entry *best = NULL;

    if (fingerprint_db_count(db, FINGERPRINT_ATTACHMENT) > 0) {
        for (size_t i = 0; i < doc->n_parts &&
                           n_done < CAPS_FINGERPRINT_DIGESTS_MAX &&
                           !budget_expired(b);
             i++) {
            const struct mime_part *p = &doc->parts[i];
            const struct fingerprint_entry *e;

            if (!p->is_attachment || p->data == NULL) {
                continue;
            }
            n_done++;
            e = fingerprint_db_match_attachment(db, p->data, p->data_len);
            if (digest_hit_is_better(e, best)) {
                best = e;
            }
        }
    }
    if (fingerprint_db_count(db, FINGERPRINT_URL) > 0) {
        for (size_t i = 0; i < doc->n_urls &&
                           i < CAPS_FINGERPRINT_DIGESTS_MAX;
             i++) {
            const struct fingerprint_entry *e =
                fingerprint_db_match_mime_url(db, &doc->urls[i]);

            if (digest_hit_is_better(e, best)) {
                best = e;
            }
        }
    }
    return best;
}

/*
 * Phase 8: campaign fingerprints and archives, after the model's verdict
 * (see the top of the file).  CM_ETIMEOUT when the budget ran out.
 */
static enum cm_err
engine_depth(const struct cartridge *c, const struct mime_doc *doc,
             const struct features_scratch *fs, const struct budget *b,
             struct verdict *v)
{
    const struct fingerprint_db *db = cartridge_fingerprints(c);
    const struct fingerprint_entry *e;
    struct fingerprint_sig sig;

    if (db == NULL) {
        return CM_OK;
    }
    /* The body signature was collected by features_extract's word pass. */
    if (fingerprint_db_count(db, FINGERPRINT_BODY) > 0 &&
        features_body_sig(fs, &sig)) {
        e = fingerprint_db_match_body(db, &sig);
        if (e != NULL) {
            depth_fingerprint_hit(v, e);
        }
    }
    e = depth_digest_hit(db, doc, b);
    if (e != NULL) {
        depth_fingerprint_hit(v, e);
    }
    return budget_expired(b) ? CM_ETIMEOUT : CM_OK;
}

enum cm_err
engine_score(const struct cartridge *c, const struct whitelist *wl,
             const struct message *m, const struct budget *b,
             struct engine_scratch *s, struct verdict *out)
{
    return engine_score_site(c, NULL, wl, m, b, s, out);
}

/* Score and category from the junk and phish margins and the fired
 * rules (a rule's floor may raise the score). */
static void
classify(struct verdict *v, const struct rules *rules, uint32_t fired,
         const struct model_calibration *cal,
         const double margins[MODEL_HEADS])
{
    unsigned score = model_calibration_score(cal, margins[MODEL_HEAD_JUNK]);
    enum rules_category rcat = RULES_CAT_LEGIT;
    const char *sub = "";

    rules_classify(rules, fired, margins[MODEL_HEAD_PHISH] >= cal->phish_margin,
                   &score, &rcat, &sub);
    set_category(v, (enum engine_category)rcat, sub);
    v->score = score;
}

/* The analysis string's start: "f=%zu m=%.2f p=%.2f mf=0x%x ff=0x%x",
 * put together without printf's format parsing and floating-point path
 * (about 2,000 instructions a message, issue #7); same text. */
static void
analysis_start(struct verdict *v, size_t n_ids,
               const double margins[MODEL_HEADS], unsigned mime_flags,
               unsigned features_flags)
{
    char m_junk[NUMFMT_FIXED2_MAX];
    char m_phish[NUMFMT_FIXED2_MAX];
    size_t jl = numfmt_fixed2(margins[MODEL_HEAD_JUNK], m_junk);
    size_t pl = numfmt_fixed2(margins[MODEL_HEAD_PHISH], m_phish);
    char *a = v->analysis;
    size_t cap = sizeof(v->analysis);
    size_t o = 0;

    o = text_put(a, cap, o, "f=", 2);
    o = text_put_uint(a, cap, o, n_ids, 10);
    o = text_put(a, cap, o, " m=", 3);
    o = text_put(a, cap, o, m_junk, jl);
    o = text_put(a, cap, o, " p=", 3);
    o = text_put(a, cap, o, m_phish, pl);
    o = text_put(a, cap, o, " mf=0x", 6);
    o = text_put_uint(a, cap, o, mime_flags, 16);
    o = text_put(a, cap, o, " ff=0x", 6);
    text_put_uint(a, cap, o, features_flags, 16);
}

enum cm_err
engine_score_site(const struct cartridge *c, const struct sitelayer *site,
                  const struct whitelist *wl, const struct message *m,
                  const struct budget *b, struct engine_scratch *s,
                  struct verdict *out)
{
    double site_margin;
    struct reputation_hits rep;
    struct verdict v;
    struct mime_doc doc;
    const char *what = NULL;
    const uint32_t *ids = NULL;
    size_t n_ids = 0;
    unsigned fflags = 0;
    double margins[MODEL_HEADS];
    const struct model_calibration *cal = cartridge_calibration(c);
    const struct rules *rules = cartridge_rules(c);
    uint32_t fired;
    enum cm_err rc;

    memset(&v, 0, sizeof(v));
    v.cartridge_version = cartridge_version(c);
    v.rescan = cartridge_is_default(c) || m->is_truncated;
    set_category(&v, ENGINE_CAT_LEGIT, "");
    if (budget_expired(b)) {
        return CM_ETIMEOUT;
    }
    if (wl != NULL && m->env != NULL &&
        whitelist_match_envelope(wl, m->env, &what)) {
        whitelisted(&v, what);
        *out = v;
        return CM_OK;
    }
    arena_reset(s->arena);
    rc = mime_parse(s->arena, m->data, m->len, &doc);
    if (rc == CM_OK && arena_is_out_of_memory(s->arena)) {
        rc = CM_ENOMEM; /* fail open, never score what memory left */
    }
    if (rc != CM_OK) {
        return rc;
    }
    if (m->is_truncated) {
        doc.flags |= MIME_TRUNCATED;
    }
    v.mime_flags = doc.flags;
    if ((doc.flags & ENGINE_RESCAN_MIME_FLAGS) != 0) {
        v.rescan = true;
    }
    if (budget_expired(b)) {
        return CM_ETIMEOUT;
    }
    if (wl != NULL && whitelist_needs_message(wl) &&
        whitelist_match_message(wl, &doc, &what)) {
        whitelisted(&v, what);
        *out = v;
        return CM_OK;
    }
    features_extract(&doc, m->env, s->fs, NULL, NULL, &ids, &n_ids,
                     &fflags);
    if (budget_expired(b)) {
        return CM_ETIMEOUT;
    }
    model_margins(cartridge_model(c), ids, n_ids, margins);
    site_margin = sitelayer_margin(site, ids, n_ids);
    margins[MODEL_HEAD_JUNK] += site_margin;
    reputation_check(cartridge_reputation(c), &doc, m->env, &rep);
    margins[MODEL_HEAD_JUNK] += rep.total / 100.0;
    fired = rules_detect(rules, &doc, fflags, NULL);
    margins[MODEL_HEAD_JUNK] += rules_margin(rules, fired);
    classify(&v, rules, fired, cal, margins);
    analysis_start(&v, n_ids, margins, doc.flags, fflags);
    rules_describe(rules, fired, false, v.analysis, sizeof(v.analysis));
    if (site_margin != 0.0) {
        size_t used = strlen(v.analysis);
        snprintf(v.analysis + used, sizeof(v.analysis) - used, " sl=%.2f",
                 site_margin);
    }
    reputation_hits_format(&rep, false, v.analysis, sizeof(v.analysis));
    reputation_raise(&v, &rep);
    rc = engine_depth(c, &doc, s->fs, b, &v);
    if (rc != CM_OK) {
        return rc;
    }
    *out = v;
    return CM_OK;
}

/* Junk margin where the calibration reaches score (linear between knots,
 * as model_calibration_score maps them). */
static double
margin_for_score(const struct model_calibration *cal, float score)
{
    for (size_t i = 0; i < cal->n_knots; i++) {
        if (cal->score[i] >= score) {
            float s0;
            float m0;

            if (i == 0 || cal->score[i] == cal->score[i - 1]) {
                return cal->margin[i];
            }
            s0 = cal->score[i - 1];
            m0 = cal->margin[i - 1];
            return m0 + (double)(score - s0) / (cal->score[i] - s0) *
                            (cal->margin[i] - m0);
        }
    }
    return cal->margin[cal->n_knots - 1];
}

enum cm_err
engine_learn_view(const struct cartridge *c, const struct sitelayer *site,
                  const struct message *m, struct engine_scratch *s,
                  const uint32_t **ids, size_t *n_ids, double *margin,
                  double *spam_target, double *ham_target)
{
    const struct model_calibration *cal = cartridge_calibration(c);
    struct mime_doc doc;
    double margins[MODEL_HEADS];
    struct reputation_hits rep;
    unsigned fflags = 0;
    enum cm_err rc;

    arena_reset(s->arena);
    rc = mime_parse(s->arena, m->data, m->len, &doc);
    if (rc == CM_OK && arena_is_out_of_memory(s->arena)) {
        rc = CM_ENOMEM; /* LEARN must not learn a half-parsed message */
    }
    if (rc != CM_OK) {
        return rc;
    }
    features_extract(&doc, m->env, s->fs, NULL, NULL, ids, n_ids, &fflags);
    model_margins(cartridge_model(c), *ids, *n_ids, margins);
    /* The margin the message is scored at, reputation and rules included,
     * so LEARN moves the site layer only as far as the verdict needs. */
    reputation_check(cartridge_reputation(c), &doc, m->env, &rep);
    *margin = margins[MODEL_HEAD_JUNK] + sitelayer_margin(site, *ids, *n_ids) +
              rep.total / 100.0 +
              rules_margin(cartridge_rules(c),
                           rules_detect(cartridge_rules(c), &doc, fflags,
                                        NULL));
    /* A little past the knots, so the learned message lands inside the
     * bar rather than on its edge. */
    *spam_target = margin_for_score(cal, 96.0f) + 0.25;
    *ham_target = margin_for_score(cal, 10.0f) - 0.25;
    return CM_OK;
}

/* ---- RATE --explain --------------------------------------------------- */

#define EXPLAIN_TOP 8u
#define EXPLAIN_NAME_MAX 40u

/* Names of the features as they are emitted (before dedupe), and
 * by_id: their indexes ordered by id, then emission (explain_index). */
struct explain_names {
    uint32_t id[CAPS_FEATURES_MAX];
    uint8_t ns[CAPS_FEATURES_MAX];
    char name[CAPS_FEATURES_MAX][EXPLAIN_NAME_MAX];
    uint16_t by_id[CAPS_FEATURES_MAX];
    size_t n;
};

/* Namespaces in the per-namespace summary ("ns="), largest share first. */
#define EXPLAIN_NS_TOP 6u
#define EXPLAIN_NS_MAX 32u

/* "ns:text", bytes outside printable ASCII, quotes, backslashes and
 * commas as '?', so the analysis stays one plain field. */
static void
explain_trace(void *ctx, enum features_ns ns, const char *text, size_t len,
              uint32_t id)
{
    struct explain_names *en = ctx;
    char *dst;
    int used;

    if (en->n >= CAPS_FEATURES_MAX) {
        return;
    }
    dst = en->name[en->n];
    used = snprintf(dst, EXPLAIN_NAME_MAX, "%s:", features_ns_name(ns));
    for (size_t i = 0; i < len && used >= 0 &&
                       (size_t)used + 1 < EXPLAIN_NAME_MAX;
         i++) {
        unsigned char ch = (unsigned char)text[i];
        dst[used++] = ch > ' ' && ch < 0x7f && ch != '"' && ch != '\\' &&
                              ch != ','
                          ? (char)ch
                          : '?';
    }
    if (used >= 0 && (size_t)used < EXPLAIN_NAME_MAX) {
        dst[used] = '\0';
    }
    en->ns[en->n] = (uint8_t)(ns < EXPLAIN_NS_MAX ? ns : 0);
    en->id[en->n++] = id;
}

_Static_assert(CAPS_FEATURES_MAX <= UINT16_MAX + 1u,
               "explain_names.by_id holds feature indexes in 16 bits");

/* Order by_id by binary insertion: stable, so an id's first emission stays
 * first (qsort is neither stable nor able to compare through en->id). */
static void
explain_index(struct explain_names *en)
{
    for (size_t i = 0; i < en->n; i++) {
        uint16_t x = (uint16_t)i;
        size_t lo = 0;
        size_t hi = i;

        while (lo < hi) { /* first slot whose id is greater than ours */
            size_t mid = lo + (hi - lo) / 2;

            if (en->id[en->by_id[mid]] <= en->id[x]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        memmove(&en->by_id[lo + 1], &en->by_id[lo],
                (i - lo) * sizeof(en->by_id[0]));
        en->by_id[lo] = x;
    }
}

/* Index of the first emission of id, or en->n. */
static size_t
explain_find(const struct explain_names *en, uint32_t id)
{
    size_t lo = 0;
    size_t hi = en->n;

    while (lo < hi) { /* first slot whose id is not less than id */
        size_t mid = lo + (hi - lo) / 2;

        if (en->id[en->by_id[mid]] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < en->n && en->id[en->by_id[lo]] == id ? en->by_id[lo] : en->n;
}

/*
 * " ns=word:+1.10,mime:+0.62,...": each namespace's share of the spam
 * margin, largest first.  Single features are clipped to a small weight,
 * so many tie in top=; the sums show which kind of evidence decided.
 */
static void
explain_ns_summary(const double *ns_sum, char *dst, size_t cap)
{
    bool done[EXPLAIN_NS_MAX] = {false};
    size_t used = strlen(dst);

    for (unsigned k = 0; k < EXPLAIN_NS_TOP; k++) {
        unsigned best = 0;
        int w;

        for (unsigned ns = 1; ns < EXPLAIN_NS_MAX; ns++) {
            if (!done[ns] && fabs(ns_sum[ns]) >= 0.005 &&
                (best == 0 || fabs(ns_sum[ns]) > fabs(ns_sum[best]))) {
                best = ns;
            }
        }
        if (best == 0) {
            return;
        }
        done[best] = true;
        w = snprintf(dst + used, cap - used, "%s%s:%+.2f",
                     k == 0 ? " ns=" : ",",
                     features_ns_name((enum features_ns)best), ns_sum[best]);
        if (w < 0 || (size_t)w >= cap - used) {
            dst[used] = '\0'; /* no half entry */
            return;
        }
        used += (size_t)w;
    }
}

void
engine_explain(const struct cartridge *c, const struct message *m,
               struct engine_scratch *s, struct verdict *v)
{
    struct explain_names *en = calloc(1, sizeof(*en));
    const struct model *model = cartridge_model(c);
    struct mime_doc doc;
    const uint32_t *ids = NULL;
    size_t n_ids = 0;
    unsigned fflags = 0;
    struct reputation_hits rep;
    double top_w[EXPLAIN_TOP];
    const char *top_name[EXPLAIN_TOP];
    double ns_sum[EXPLAIN_NS_MAX] = {0.0};
    size_t n_top = 0;
    struct model_norm norm;
    size_t used;

    if (en == NULL) {
        return;
    }
    arena_reset(s->arena);
    if (mime_parse(s->arena, m->data, m->len, &doc) != CM_OK) {
        free(en);
        return;
    }
    features_extract(&doc, m->env, s->fs, explain_trace, en, &ids, &n_ids,
                     &fflags);
    /* The reputation entries by name, before " top=" (which ends the
     * analysis). */
    reputation_check(cartridge_reputation(c), &doc, m->env, &rep);
    reputation_hits_format(&rep, true, v->analysis, sizeof(v->analysis));
    {
        const char *kind = NULL;
        uint32_t fired = rules_detect(cartridge_rules(c), &doc, fflags, &kind);

        rules_describe(cartridge_rules(c), fired, true, v->analysis,
                       sizeof(v->analysis));
        if ((fired & (1u << RULES_LOOKALIKE_DOMAIN)) != 0) {
            used = strlen(v->analysis);
            snprintf(v->analysis + used, sizeof(v->analysis) - used,
                     " lookalike=%s", kind);
        }
    }
    model_norm_of(model, ids, n_ids, &norm);
    explain_index(en);
    /* Insertion into a short list sorted by |contribution|. */
    for (size_t k = 0; k < n_ids; k++) {
        double w = model_weight(model, MODEL_HEAD_JUNK, ids[k]) *
                   model_norm_factor(&norm, ids[k]);
        size_t at = n_top;
        size_t e;

        if (w == 0.0) {
            continue;
        }
        e = explain_find(en, ids[k]);
        ns_sum[e < en->n ? en->ns[e] : 0] += w;
        while (at > 0 && fabs(top_w[at - 1]) < fabs(w)) {
            at--;
        }
        if (at >= EXPLAIN_TOP) {
            continue;
        }
        if (n_top < EXPLAIN_TOP) {
            n_top++;
        }
        memmove(&top_w[at + 1], &top_w[at],
                (n_top - 1 - at) * sizeof(top_w[0]));
        memmove(&top_name[at + 1], &top_name[at],
                (n_top - 1 - at) * sizeof(top_name[0]));
        top_w[at] = w;
        top_name[at] = e < en->n ? en->name[e] : "?";
    }
    explain_ns_summary(ns_sum, v->analysis, sizeof(v->analysis));
    used = strlen(v->analysis);
    for (size_t k = 0; k < n_top && used + 1 < sizeof(v->analysis); k++) {
        int w = snprintf(v->analysis + used, sizeof(v->analysis) - used,
                         "%s%s:%+.2f", k == 0 ? " top=" : ",", top_name[k],
                         top_w[k]);
        if (w < 0 || (size_t)w >= sizeof(v->analysis) - used) {
            v->analysis[used] = '\0'; /* no half entry */
            break;
        }
        used += (size_t)w;
    }
    free(en);
}
