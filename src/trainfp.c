/*
 * trainfp.c -- campaign fingerprints for cmtool train (see trainfp.h;
 * SPEC §4).
 *
 * Grouping: every training junk signature goes into one in-memory
 * fingerprint database, so finding a message's near-duplicates is the
 * same indexed lookup the engine makes (no scan over all pairs).  Each
 * message's degree (how many junk messages match it) orders a greedy
 * cover: the highest-degree message not yet in a group becomes a group's
 * entry and takes every unassigned message matching it.  A group of at
 * least TRAINFP_GROUP_MIN messages is a candidate; a candidate that any
 * training ham matches (same database rule, over all ham signatures) is
 * dropped.  Ties are broken by input index throughout, so the section
 * depends only on the (sorted) input list.
 *
 * State: none beyond one call.  Single-threaded.  Prints its summary to
 * stderr (cmtool train's report).
 */
#include "trainfp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "featureset.h"
#include "fingerprint.h"
#include "mime.h"
#include "model.h"
#include "ziplist.h"

struct trainfp_item {
    bool has_sig;
    struct fingerprint_sig sig;
    size_t n_digests;
    uint8_t digests[][FINGERPRINT_DIGEST_LEN]; /* dangerous attachments */
};

/* ---- collecting --------------------------------------------------------- */

static bool
zip_has_dangerous(const uint8_t *p, size_t len)
{
    struct ziplist z;
    struct ziplist_member m;

    if (!ziplist_is_zip(p, len)) {
        return false;
    }
    ziplist_init(&z, p, len);
    while (ziplist_next(&z, &m)) {
        if (features_is_dangerous_name((const char *)m.name, m.name_len)) {
            return true;
        }
    }
    return false;
}

static bool
is_dangerous_part(const struct mime_part *p)
{
    const char *fn = p->filename != NULL ? p->filename : "";

    if (p->data == NULL || (!p->is_attachment && fn[0] == '\0')) {
        return false;
    }
    return features_is_dangerous_name(fn, strlen(fn)) ||
           zip_has_dangerous(p->data, p->data_len);
}

struct trainfp_item *
trainfp_collect(const struct mime_doc *doc)
{
    struct fingerprint_sig sig;
    bool has_sig = fingerprint_sig_compute(doc->text, doc->text_len, &sig);
    size_t n_dangerous = 0;
    struct trainfp_item *it;

    for (size_t i = 0; i < doc->n_parts; i++) {
        n_dangerous += is_dangerous_part(&doc->parts[i]);
    }
    if (n_dangerous > CAPS_FINGERPRINT_DIGESTS_MAX) {
        n_dangerous = CAPS_FINGERPRINT_DIGESTS_MAX;
    }
    if (!has_sig && n_dangerous == 0) {
        return NULL;
    }
    it = calloc(1, sizeof(*it) + n_dangerous * FINGERPRINT_DIGEST_LEN);
    if (it == NULL) {
        return NULL;
    }
    it->has_sig = has_sig;
    it->sig = sig;
    for (size_t i = 0; i < doc->n_parts && it->n_digests < n_dangerous; i++) {
        const struct mime_part *p = &doc->parts[i];

        if (is_dangerous_part(p) &&
            fingerprint_digest(p->data, p->data_len,
                               it->digests[it->n_digests])) {
            it->n_digests++;
        }
    }
    return it;
}

void
trainfp_item_free(struct trainfp_item *it)
{
    free(it);
}

/* ---- body groups -------------------------------------------------------- */

struct group {
    size_t rep;     /* index into the junk list */
    size_t size;    /* messages in the group */
    size_t n_phish;
};

struct cover_ctx {
    const struct fingerprint_db *db;
    uint8_t *is_assigned; /* by junk index */
    struct group *g;      /* when grouping, the group being filled */
    const uint8_t *labels;
};

static void
count_degree(void *ctx, size_t index, unsigned agree)
{
    size_t *n = ctx;

    (void)index;
    (void)agree;
    (*n)++;
}

static void
take_member(void *ctx, size_t index, unsigned agree)
{
    struct cover_ctx *c = ctx;
    uint32_t j = fingerprint_db_at(c->db, index)->tag;

    (void)agree;
    if (c->is_assigned[j]) {
        return;
    }
    c->is_assigned[j] = 1;
    c->g->size++;
    c->g->n_phish += c->labels[j] == MODEL_LABEL_PHISH;
}

struct by_degree {
    uint32_t degree;
    uint32_t j;
};

static int
cmp_by_degree(const void *a, const void *b)
{
    const struct by_degree *x = a;
    const struct by_degree *y = b;

    if (x->degree != y->degree) {
        return x->degree > y->degree ? -1 : 1;
    }
    return (x->j > y->j) - (x->j < y->j);
}

static int
cmp_group(const void *a, const void *b)
{
    const struct group *x = a;
    const struct group *y = b;

    if (x->size != y->size) {
        return x->size > y->size ? -1 : 1;
    }
    return (x->rep > y->rep) - (x->rep < y->rep);
}

/*
 * Groups of the junk signatures sigs[0..n) (labels alongside), biggest
 * first, into *out (caller frees); *n_out groups of at least
 * TRAINFP_GROUP_MIN.
 */
static enum cm_err
group_junk(const struct fingerprint_entry *sigs, const uint8_t *labels,
           size_t n, struct group **out, size_t *n_out)
{
    struct fingerprint_db *db = fingerprint_db_new(sigs, n,
                                                   FINGERPRINT_MATCH_MIN);
    struct by_degree *order = calloc(n > 0 ? n : 1, sizeof(*order));
    uint8_t *is_assigned = calloc(n > 0 ? n : 1, 1);
    struct group *groups = calloc(n > 0 ? n : 1, sizeof(*groups));
    struct cover_ctx c;
    size_t n_groups = 0;
    enum cm_err rc = CM_ENOMEM;

    if (db == NULL || order == NULL ||
        is_assigned == NULL || groups == NULL) {
        goto out;
    }
    for (size_t i = 0; i < fingerprint_db_size(db); i++) {
        const struct fingerprint_entry *e = fingerprint_db_at(db, i);
        size_t d = 0;

        fingerprint_db_each_body(db, &e->sig, SIZE_MAX, count_degree, &d);
        order[e->tag].degree = (uint32_t)d;
        order[e->tag].j = e->tag;
    }
    qsort(order, n, sizeof(*order), cmp_by_degree);
    c.db = db;
    c.is_assigned = is_assigned;
    c.labels = labels;
    for (size_t k = 0; k < n && order[k].degree >= TRAINFP_GROUP_MIN; k++) {
        size_t j = order[k].j;
        struct group g = {j, 0, 0};

        if (is_assigned[j]) {
            continue;
        }
        c.g = &g;
        fingerprint_db_each_body(db, &sigs[j].sig, SIZE_MAX, take_member, &c);
        if (g.size >= TRAINFP_GROUP_MIN) {
            groups[n_groups++] = g;
        }
    }
    qsort(groups, n_groups, sizeof(*groups), cmp_group);
    *out = groups;
    groups = NULL;
    *n_out = n_groups;
    rc = CM_OK;

out:
    fingerprint_db_free(db);
    free(order);
    free(is_assigned);
    free(groups);
    return rc;
}

/* ---- the section -------------------------------------------------------- */

static int
cmp_digest(const void *a, const void *b)
{
    return memcmp(a, b, FINGERPRINT_DIGEST_LEN);
}

static bool
digest_in(const uint8_t *set, size_t n, const uint8_t *d)
{
    return n > 0 && bsearch(d, set, n, FINGERPRINT_DIGEST_LEN, cmp_digest) !=
                        NULL;
}

/* Digests of training inputs of a class (junk or ham), sorted, back to
 * back (FINGERPRINT_DIGEST_LEN bytes each). */
static uint8_t *
collect_digests(const struct trainfp_input *in, size_t n, bool want_junk,
                size_t *n_out)
{
    size_t total = 0;
    size_t k = 0;
    uint8_t *d;

    for (size_t i = 0; i < n; i++) {
        if (in[i].fp != NULL && !in[i].is_test &&
            (in[i].label != MODEL_LABEL_HAM) == want_junk) {
            total += in[i].fp->n_digests;
        }
    }
    d = calloc(total > 0 ? total : 1, FINGERPRINT_DIGEST_LEN);
    if (d == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i].fp != NULL && !in[i].is_test &&
            (in[i].label != MODEL_LABEL_HAM) == want_junk) {
            memcpy(d + k * FINGERPRINT_DIGEST_LEN, in[i].fp->digests,
                   in[i].fp->n_digests * FINGERPRINT_DIGEST_LEN);
            k += in[i].fp->n_digests;
        }
    }
    qsort(d, k, FINGERPRINT_DIGEST_LEN, cmp_digest);
    *n_out = k;
    return d;
}

/* Attachment entries: junk digests not seen in ham, each once. */
static enum cm_err
add_attachments(const struct trainfp_input *in, size_t n,
                struct fingerprint_entry *e, size_t *n_e, size_t *n_in_ham)
{
    size_t n_junk = 0;
    size_t n_ham = 0;
    uint8_t *junk = collect_digests(in, n, true, &n_junk);
    uint8_t *ham = collect_digests(in, n, false, &n_ham);
    size_t added = 0;

    if (junk == NULL || ham == NULL) {
        free(junk);
        free(ham);
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < n_junk && added < CAPS_TRAIN_DIGESTS_MAX; i++) {
        struct fingerprint_entry *x = &e[*n_e];
        const uint8_t *d = junk + i * FINGERPRINT_DIGEST_LEN;

        if (i > 0 && memcmp(d - FINGERPRINT_DIGEST_LEN, d,
                            FINGERPRINT_DIGEST_LEN) == 0) {
            continue;
        }
        if (digest_in(ham, n_ham, d)) {
            (*n_in_ham)++;
            continue;
        }
        memset(x, 0, sizeof(*x));
        x->kind = FINGERPRINT_ATTACHMENT;
        x->category = FINGERPRINT_CAT_MALWARE;
        x->weight = TRAINFP_MALWARE_WEIGHT;
        snprintf(x->sub, sizeof(x->sub), "known-attachment");
        memcpy(x->digest, d, FINGERPRINT_DIGEST_LEN);
        (*n_e)++;
        added++;
    }
    free(junk);
    free(ham);
    return CM_OK;
}

static void
count_any(void *ctx, size_t index, unsigned agree)
{
    size_t *n = ctx;

    (void)index;
    (void)agree;
    (*n)++;
}

/* Signatures of the training inputs of one class, as body entries tagged
 * with their input index. */
static struct fingerprint_entry *
class_sigs(const struct trainfp_input *in, size_t n, bool want_junk,
           uint8_t **labels_out, size_t *n_out)
{
    struct fingerprint_entry *e = calloc(n > 0 ? n : 1, sizeof(*e));
    uint8_t *labels = calloc(n > 0 ? n : 1, 1);
    size_t k = 0;

    if (e == NULL || labels == NULL) {
        free(e);
        free(labels);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i].fp == NULL || !in[i].fp->has_sig || in[i].is_test ||
            (in[i].label != MODEL_LABEL_HAM) != want_junk) {
            continue;
        }
        e[k].kind = FINGERPRINT_BODY;
        e[k].sig = in[i].fp->sig;
        e[k].tag = (uint32_t)k;
        labels[k] = in[i].label;
        k++;
    }
    *labels_out = labels;
    *n_out = k;
    return e;
}

/* Held-out inputs against the built section: hits per class. */
static void
measure(const struct trainfp_input *in, size_t n, const struct buf *section)
{
    struct fingerprint_db *db = NULL;
    const char *why = NULL;
    size_t n_msgs[2] = {0};
    size_t n_sig[2] = {0};
    size_t n_hit[2] = {0};
    size_t n_att_hit[2] = {0};

    if (fingerprint_db_parse(section->data, section->len, &db, &why) !=
        CM_OK) {
        fprintf(stderr, "cmtool train: bug: fingerprints do not parse: %s\n",
                why != NULL ? why : "?");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t cls = in[i].label != MODEL_LABEL_HAM;
        const struct trainfp_item *fp = in[i].fp;
        bool is_att_hit = false;

        if (!in[i].is_test) {
            continue;
        }
        n_msgs[cls]++;
        if (fp == NULL) {
            continue;
        }
        if (fp->has_sig) {
            n_sig[cls]++;
            n_hit[cls] += fingerprint_db_match_body(db, &fp->sig) != NULL;
        }
        for (size_t k = 0; k < fp->n_digests && !is_att_hit; k++) {
            is_att_hit = fingerprint_db_match_digest(
                             db, FINGERPRINT_ATTACHMENT, fp->digests[k]) !=
                         NULL;
        }
        n_att_hit[cls] += is_att_hit;
    }
    if (n_msgs[0] + n_msgs[1] > 0) {
        fprintf(stderr,
                "fingerprints on held-out mail: junk %zu of %zu hit (%zu "
                "with a body signature), %zu by attachment; ham %zu of %zu "
                "hit (%zu with a signature), %zu by attachment\n",
                n_hit[1], n_msgs[1], n_sig[1], n_att_hit[1], n_hit[0],
                n_msgs[0], n_sig[0], n_att_hit[0]);
    }
    fingerprint_db_free(db);
}

enum cm_err
trainfp_build(const struct trainfp_input *in, size_t n, struct buf *section)
{
    uint8_t *junk_labels = NULL;
    uint8_t *ham_labels = NULL;
    size_t n_junk = 0;
    size_t n_ham = 0;
    struct fingerprint_entry *junk = class_sigs(in, n, true, &junk_labels,
                                                &n_junk);
    struct fingerprint_entry *ham = class_sigs(in, n, false, &ham_labels,
                                               &n_ham);
    struct fingerprint_db *ham_db = NULL;
    struct group *groups = NULL;
    size_t n_groups = 0;
    struct fingerprint_entry *out = NULL;
    size_t n_out = 0;
    size_t n_rejected = 0;
    size_t n_att_in_ham = 0;
    size_t n_body = 0;
    enum cm_err rc = CM_ENOMEM;

    if (junk == NULL || ham == NULL) {
        goto out;
    }
    ham_db = fingerprint_db_new(ham, n_ham, FINGERPRINT_MATCH_MIN);
    if (ham_db == NULL ||
        group_junk(junk, junk_labels, n_junk, &groups, &n_groups) != CM_OK) {
        goto out;
    }
    out = calloc(CAPS_TRAIN_FINGERPRINTS_MAX + CAPS_TRAIN_DIGESTS_MAX,
                 sizeof(*out));
    if (out == NULL) {
        goto out;
    }
    for (size_t i = 0; i < n_groups && n_body < CAPS_TRAIN_FINGERPRINTS_MAX;
         i++) {
        const struct group *g = &groups[i];
        struct fingerprint_entry *x = &out[n_out];
        size_t n_ham_hits = 0;

        fingerprint_db_each_body(ham_db, &junk[g->rep].sig, SIZE_MAX,
                                 count_any, &n_ham_hits);
        if (n_ham_hits > 0) {
            n_rejected++;
            continue;
        }
        memset(x, 0, sizeof(*x));
        x->kind = FINGERPRINT_BODY;
        x->sig = junk[g->rep].sig;
        if (2 * g->n_phish > g->size) {
            x->category = FINGERPRINT_CAT_PHISHING;
            x->weight = TRAINFP_PHISH_WEIGHT;
        } else {
            x->category = FINGERPRINT_CAT_SPAM;
            x->weight = TRAINFP_SPAM_WEIGHT;
        }
        snprintf(x->sub, sizeof(x->sub), "campaign");
        n_out++;
        n_body++;
    }
    rc = add_attachments(in, n, out, &n_out, &n_att_in_ham);
    if (rc == CM_OK) {
        rc = fingerprint_db_format(out, n_out, FINGERPRINT_MATCH_MIN, section);
    }
    if (rc != CM_OK) {
        goto out;
    }
    fprintf(stderr,
            "fingerprints: %zu junk and %zu ham signatures; %zu campaign "
            "groups of >= %u, %zu dropped as ham matches them, %zu body "
            "entries; %zu attachment entries (%zu digests also in ham)\n",
            n_junk, n_ham, n_groups, TRAINFP_GROUP_MIN, n_rejected, n_body,
            n_out - n_body, n_att_in_ham);
    measure(in, n, section);

out:
    free(junk);
    free(ham);
    free(junk_labels);
    free(ham_labels);
    fingerprint_db_free(ham_db);
    free(groups);
    free(out);
    return rc;
}
