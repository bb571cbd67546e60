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
#include "failpoint.h"
#include "featureset.h"
#include "fingerprint.h"
#include "hashing.h"
#include "mime.h"
#include "model.h"
#include "rules.h"

/* What one digest of a message is. */
enum trainfp_digest_kind {
    TRAINFP_DIGEST_DANGEROUS = 1, /* an attachment features calls
                                     dangerous, or a zip listing one */
    TRAINFP_DIGEST_ATTACHMENT,    /* any other attachment */
    TRAINFP_DIGEST_URL            /* a normalised URL */
};

struct trainfp_digest {
    uint8_t d[FINGERPRINT_DIGEST_LEN];
    uint64_t filter;  /* the entry's filter (fingerprint.h) */
    uint64_t host;    /* URL: hash of its host; else 0 */
    uint8_t kind;     /* enum trainfp_digest_kind */
    bool is_eligible; /* ATTACHMENT: may become a reported entry; URL: not
                         a site's front page */
};

struct trainfp_item {
    bool has_sig;
    struct fingerprint_sig sig;
    size_t n_digests;
    struct trainfp_digest digests[];
};

/* ---- collecting --------------------------------------------------------- */

/* The attachments the engine digests (engine.c depth_digest_hit). */
static bool
is_digested_part(const struct mime_part *p)
{
    return p->is_attachment && p->data != NULL;
}

static bool
is_dangerous_part(const struct mime_part *p)
{
    const char *fn = p->filename != NULL ? p->filename : "";
    const char *other = p->other_filename != NULL ? p->other_filename : "";

    return features_is_dangerous_name(fn, strlen(fn)) ||
           features_is_dangerous_name(other, strlen(other)) ||
           rules_archive_is_dangerous(p);
}

/* A reported message's harmless-looking attachment is trusted as a
 * campaign marker only when it is no image (phishing attaches the real
 * brand logos, which legitimate mail carries too) and not tiny (spacer
 * GIFs, empty files). */
static bool
is_eligible_part(const struct mime_part *p)
{
    return strncmp(p->content_type, "image/", 6) != 0 &&
           p->data_len >= TRAINFP_ATTACHMENT_MIN_BYTES;
}

static bool
has_digest(const struct trainfp_item *it, const uint8_t *d, uint8_t kind)
{
    for (size_t i = 0; i < it->n_digests; i++) {
        bool is_url = it->digests[i].kind == TRAINFP_DIGEST_URL;

        if (is_url == (kind == TRAINFP_DIGEST_URL) &&
            memcmp(it->digests[i].d, d, FINGERPRINT_DIGEST_LEN) == 0) {
            return true;
        }
    }
    return false;
}

static void
add_parts(struct trainfp_item *it, const struct mime_doc *doc, size_t max)
{
    size_t n_done = 0;

    for (size_t i = 0; i < doc->n_parts && n_done < max; i++) {
        const struct mime_part *p = &doc->parts[i];
        struct trainfp_digest *x = &it->digests[it->n_digests];

        if (!is_digested_part(p)) {
            continue;
        }
        n_done++;
        if (!fingerprint_digest(p->data, p->data_len, x->d)) {
            continue;
        }
        x->kind = is_dangerous_part(p) ? TRAINFP_DIGEST_DANGEROUS
                                       : TRAINFP_DIGEST_ATTACHMENT;
        x->filter = fingerprint_attachment_filter(p->data_len);
        x->is_eligible = is_eligible_part(p);
        x->host = 0;
        if (!has_digest(it, x->d, x->kind)) {
            it->n_digests++;
        }
    }
}

/* Whether a URL has a path beyond "/": everybody links a site's front
 * page, spam that borrows a real site's name included. */
static bool
has_path(const struct mime_url *u)
{
    char norm[FINGERPRINT_URL_MAX + 1];
    size_t len = fingerprint_url_normalise(u->url, u->url_len, norm,
                                           sizeof(norm));
    const char *slash = memchr(norm, '/', len);

    return slash != NULL && (size_t)(slash - norm) + 1 < len;
}

/* The URLs the engine digests: the first CAPS_FINGERPRINT_DIGESTS_MAX of
 * the message, each once. */
static void
add_urls(struct trainfp_item *it, const struct mime_doc *doc, size_t max)
{
    for (size_t i = 0; i < doc->n_urls && i < max; i++) {
        const struct mime_url *u = &doc->urls[i];
        struct trainfp_digest *x = &it->digests[it->n_digests];

        if (u->host_len == 0 ||
            !fingerprint_url_digest(u->url, u->url_len, x->d)) {
            continue;
        }
        x->kind = TRAINFP_DIGEST_URL;
        x->filter = fingerprint_url_filter(u->url, u->url_len);
        x->is_eligible = has_path(u);
        x->host = hashing_hash64(u->host, u->host_len, TRAINFP_HOST_SEED);
        if (!has_digest(it, x->d, x->kind)) {
            it->n_digests++;
        }
    }
}

/* Test hook: the nth item allocation from now on fails (0: none). */
static struct failpoint item_failpoint;

void
trainfp_test_fail_nth_alloc(unsigned nth)
{
    failpoint_arm(&item_failpoint, nth);
}

enum cm_err
trainfp_collect(const struct mime_doc *doc, struct trainfp_item **out)
{
    struct fingerprint_sig sig;
    bool has_sig = fingerprint_sig_compute(doc->text, doc->text_len, &sig);
    size_t n_parts = 0;
    size_t n_urls = doc->n_urls < CAPS_FINGERPRINT_DIGESTS_MAX
                        ? doc->n_urls
                        : CAPS_FINGERPRINT_DIGESTS_MAX;
    struct trainfp_item *it;

    for (size_t i = 0; i < doc->n_parts; i++) {
        n_parts += is_digested_part(&doc->parts[i]);
    }
    if (n_parts > CAPS_FINGERPRINT_DIGESTS_MAX) {
        n_parts = CAPS_FINGERPRINT_DIGESTS_MAX;
    }
    if (!has_sig && n_parts + n_urls == 0) {
        *out = NULL;
        return CM_OK;
    }
    it = failpoint_hit(&item_failpoint)
             ? NULL
             : calloc(1, sizeof(*it) + (n_parts + n_urls) *
                                           sizeof(struct trainfp_digest));
    if (it == NULL) {
        return CM_ENOMEM;
    }
    it->has_sig = has_sig;
    it->sig = sig;
    add_parts(it, doc, n_parts);
    add_urls(it, doc, n_urls);
    *out = it;
    return CM_OK;
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

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static bool
u64_in(const uint64_t *set, size_t n, uint64_t v)
{
    return n > 0 && bsearch(&v, set, n, sizeof(v), cmp_u64) != NULL;
}

static bool
is_training(const struct trainfp_input *x, bool want_junk)
{
    return x->fp != NULL && !x->is_test &&
           (x->label != MODEL_LABEL_HAM) == want_junk;
}

/* What training ham holds: every attachment digest, every URL digest and
 * every URL host, each sorted; nothing matching them becomes an entry. */
struct ham_sets {
    uint8_t *atts;
    size_t n_atts;
    uint8_t *urls;
    size_t n_urls;
    uint64_t *hosts;
    size_t n_hosts;
};

static void
ham_sets_clear(struct ham_sets *h)
{
    free(h->atts);
    free(h->urls);
    free(h->hosts);
}

static enum cm_err
ham_sets_collect(const struct trainfp_input *in, size_t n, struct ham_sets *h)
{
    size_t total = 0;

    memset(h, 0, sizeof(*h));
    for (size_t i = 0; i < n; i++) {
        if (is_training(&in[i], false)) {
            total += in[i].fp->n_digests;
        }
    }
    h->atts = calloc(total > 0 ? total : 1, FINGERPRINT_DIGEST_LEN);
    h->urls = calloc(total > 0 ? total : 1, FINGERPRINT_DIGEST_LEN);
    h->hosts = calloc(total > 0 ? total : 1, sizeof(*h->hosts));
    if (h->atts == NULL || h->urls == NULL || h->hosts == NULL) {
        ham_sets_clear(h);
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_training(&in[i], false)) {
            continue;
        }
        for (size_t k = 0; k < in[i].fp->n_digests; k++) {
            const struct trainfp_digest *x = &in[i].fp->digests[k];

            if (x->kind == TRAINFP_DIGEST_URL) {
                memcpy(h->urls + h->n_urls++ * FINGERPRINT_DIGEST_LEN, x->d,
                       FINGERPRINT_DIGEST_LEN);
                h->hosts[h->n_hosts++] = x->host;
            } else {
                memcpy(h->atts + h->n_atts++ * FINGERPRINT_DIGEST_LEN, x->d,
                       FINGERPRINT_DIGEST_LEN);
            }
        }
    }
    qsort(h->atts, h->n_atts, FINGERPRINT_DIGEST_LEN, cmp_digest);
    qsort(h->urls, h->n_urls, FINGERPRINT_DIGEST_LEN, cmp_digest);
    qsort(h->hosts, h->n_hosts, sizeof(*h->hosts), cmp_u64);
    return CM_OK;
}

/* One junk digest that may become an entry. */
struct cand {
    uint8_t d[FINGERPRINT_DIGEST_LEN];
    uint64_t filter;
    uint64_t host;
    uint64_t sender;
    uint8_t category; /* enum fingerprint_category */
    bool has_path;    /* URL: not a front page */
};

/* By digest, then the highest category first, then sender. */
static int
cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a;
    const struct cand *y = b;
    int c = memcmp(x->d, y->d, FINGERPRINT_DIGEST_LEN);

    if (c != 0) {
        return c;
    }
    if (x->category != y->category) {
        return x->category > y->category ? -1 : 1;
    }
    return (x->sender > y->sender) - (x->sender < y->sender);
}

/* By digest, then sender (distinct senders are counted in a run). */
static int
cmp_cand_sender(const void *a, const void *b)
{
    const struct cand *x = a;
    const struct cand *y = b;
    int c = memcmp(x->d, y->d, FINGERPRINT_DIGEST_LEN);

    if (c != 0) {
        return c;
    }
    return (x->sender > y->sender) - (x->sender < y->sender);
}

static uint8_t
category_of_label(uint8_t label)
{
    return label == MODEL_LABEL_PHISH ? FINGERPRINT_CAT_PHISHING
                                      : FINGERPRINT_CAT_SPAM;
}

static uint8_t
weight_of(uint8_t category)
{
    switch (category) {
    case FINGERPRINT_CAT_MALWARE:
        return TRAINFP_MALWARE_WEIGHT;
    case FINGERPRINT_CAT_PHISHING:
        return TRAINFP_PHISH_WEIGHT;
    default:
        return TRAINFP_SPAM_WEIGHT;
    }
}

/*
 * The junk digests of one kind as candidates: URLs (want_url; sorted by
 * cmp_cand_sender), or attachments (sorted by cmp_cand) -- dangerous ones from any junk (malware),
 * eligible others only from reported junk (the report's label).
 */
static struct cand *
junk_cands(const struct trainfp_input *in, size_t n, bool want_url,
           size_t *n_out)
{
    size_t total = 0;
    size_t k = 0;
    struct cand *c;

    for (size_t i = 0; i < n; i++) {
        if (is_training(&in[i], true)) {
            total += in[i].fp->n_digests;
        }
    }
    c = calloc(total > 0 ? total : 1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_training(&in[i], true)) {
            continue;
        }
        for (size_t j = 0; j < in[i].fp->n_digests; j++) {
            const struct trainfp_digest *x = &in[i].fp->digests[j];
            uint8_t cat;

            if (want_url != (x->kind == TRAINFP_DIGEST_URL)) {
                continue;
            }
            if (x->kind == TRAINFP_DIGEST_DANGEROUS) {
                cat = FINGERPRINT_CAT_MALWARE;
            } else if (x->kind == TRAINFP_DIGEST_URL ||
                       (x->is_eligible && in[i].is_reported)) {
                cat = category_of_label(in[i].label);
            } else {
                continue;
            }
            memcpy(c[k].d, x->d, FINGERPRINT_DIGEST_LEN);
            c[k].filter = x->filter;
            c[k].host = x->host;
            c[k].sender = in[i].sender;
            c[k].category = cat;
            c[k].has_path = x->kind == TRAINFP_DIGEST_URL && x->is_eligible;
            k++;
        }
    }
    qsort(c, k, sizeof(*c), want_url ? cmp_cand_sender : cmp_cand);
    *n_out = k;
    return c;
}

static void
set_digest_entry(struct fingerprint_entry *x, enum fingerprint_kind kind,
                 uint8_t category, const char *sub, const struct cand *c)
{
    memset(x, 0, sizeof(*x));
    x->kind = (uint8_t)kind;
    x->category = category;
    x->weight = weight_of(category);
    snprintf(x->sub, sizeof(x->sub), "%s", sub);
    memcpy(x->digest, c->d, FINGERPRINT_DIGEST_LEN);
    x->filter = c->filter;
}

/* Attachment entries: candidate digests not seen in ham, each once (the
 * highest category wins). */
static enum cm_err
add_attachments(const struct trainfp_input *in, size_t n,
                const struct ham_sets *ham, struct fingerprint_entry *e,
                size_t *n_e, size_t *n_in_ham)
{
    size_t n_c = 0;
    struct cand *c = junk_cands(in, n, false, &n_c);
    size_t added = 0;

    if (c == NULL) {
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < n_c && added < CAPS_TRAIN_DIGESTS_MAX; i++) {
        if (i > 0 && memcmp(c[i - 1].d, c[i].d, FINGERPRINT_DIGEST_LEN) == 0) {
            continue;
        }
        if (digest_in(ham->atts, ham->n_atts, c[i].d)) {
            (*n_in_ham)++;
            continue;
        }
        set_digest_entry(&e[(*n_e)++], FINGERPRINT_ATTACHMENT, c[i].category,
                         c[i].category == FINGERPRINT_CAT_MALWARE
                             ? "known-attachment"
                             : "reported-attachment",
                         &c[i]);
        added++;
    }
    free(c);
    return CM_OK;
}

struct url_pick {
    size_t first;   /* index of the run's first candidate */
    size_t senders; /* distinct senders in the run */
};

static int
cmp_pick(const void *a, const void *b)
{
    const struct url_pick *x = a;
    const struct url_pick *y = b;

    if (x->senders != y->senders) {
        return x->senders > y->senders ? -1 : 1;
    }
    return (x->first > y->first) - (x->first < y->first);
}

/* Distinct junk URLs on host h: hosts[] holds the host of each distinct
 * URL, sorted. */
static size_t
urls_on_host(const uint64_t *hosts, size_t n, uint64_t h)
{
    size_t lo = 0;
    size_t hi = n;
    size_t k;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (hosts[mid] < h) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (k = lo; k < n && hosts[k] == h; k++) {
    }
    return k - lo;
}

/*
 * URL entries: a normalised URL (the engine's digest) with a path, in
 * training junk from at least TRAINFP_URL_SENDERS_MIN distinct senders,
 * on a host that junk links under at most TRAINFP_URL_HOST_URLS_MAX
 * distinct URLs, whose digest and host never occur in training ham; the
 * most widely sent first, at most CAPS_TRAIN_URLS_MAX.  Phishing when
 * most of its messages are phish.  The host rules keep out the real
 * sites junk links to for credibility (a bank's help pages in phish, a
 * webmail footer, a news site): a campaign's own host carries a few
 * pages, and a front page is linked by everybody.
 */
static enum cm_err
add_urls_entries(const struct trainfp_input *in, size_t n,
                 const struct ham_sets *ham, struct fingerprint_entry *e,
                 size_t *n_e, size_t *n_in_ham)
{
    size_t n_c = 0;
    struct cand *c = junk_cands(in, n, true, &n_c);
    struct url_pick *picks = calloc(n_c > 0 ? n_c : 1, sizeof(*picks));
    uint64_t *hosts = calloc(n_c > 0 ? n_c : 1, sizeof(*hosts));
    size_t n_hosts = 0;
    size_t n_picks = 0;

    if (c == NULL || picks == NULL || hosts == NULL) {
        free(c);
        free(picks);
        free(hosts);
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < n_c; i++) {
        if (i == 0 || memcmp(c[i - 1].d, c[i].d, FINGERPRINT_DIGEST_LEN) != 0) {
            hosts[n_hosts++] = c[i].host;
        }
    }
    qsort(hosts, n_hosts, sizeof(*hosts), cmp_u64);
    for (size_t i = 0; i < n_c;) {
        size_t j = i;
        size_t senders = 0;

        while (j < n_c && memcmp(c[i].d, c[j].d, FINGERPRINT_DIGEST_LEN) == 0) {
            senders += j == i || c[j].sender != c[j - 1].sender;
            j++;
        }
        if (senders >= TRAINFP_URL_SENDERS_MIN && c[i].has_path &&
            urls_on_host(hosts, n_hosts, c[i].host) <=
                TRAINFP_URL_HOST_URLS_MAX) {
            if (digest_in(ham->urls, ham->n_urls, c[i].d) ||
                u64_in(ham->hosts, ham->n_hosts, c[i].host)) {
                (*n_in_ham)++;
            } else {
                picks[n_picks].first = i;
                picks[n_picks].senders = senders;
                n_picks++;
            }
        }
        i = j;
    }
    free(hosts);
    qsort(picks, n_picks, sizeof(*picks), cmp_pick);
    for (size_t k = 0; k < n_picks && k < CAPS_TRAIN_URLS_MAX; k++) {
        const struct cand *x = &c[picks[k].first];
        size_t n_phish = 0;
        size_t n_all = 0;

        for (size_t j = picks[k].first;
             j < n_c && memcmp(x->d, c[j].d, FINGERPRINT_DIGEST_LEN) == 0;
             j++) {
            n_phish += c[j].category == FINGERPRINT_CAT_PHISHING;
            n_all++;
        }
        set_digest_entry(&e[(*n_e)++], FINGERPRINT_URL,
                         2 * n_phish > n_all ? FINGERPRINT_CAT_PHISHING
                                             : FINGERPRINT_CAT_SPAM,
                         "campaign-url", x);
    }
    free(c);
    free(picks);
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

/* Whether a digest of fp matches an entry of kind (URL digests for URL
 * entries, attachment digests for ATTACHMENT ones). */
static bool
digest_hit(const struct fingerprint_db *db, const struct trainfp_item *fp,
           enum fingerprint_kind kind)
{
    for (size_t k = 0; k < fp->n_digests; k++) {
        bool is_url = fp->digests[k].kind == TRAINFP_DIGEST_URL;

        if (is_url == (kind == FINGERPRINT_URL) &&
            fingerprint_db_match_digest(db, kind, fp->digests[k].d) != NULL) {
            return true;
        }
    }
    return false;
}

unsigned
trainfp_hit_weight(const struct fingerprint_db *db,
                   const struct trainfp_item *fp)
{
    const struct fingerprint_entry *e;
    unsigned w = 0;

    if (fp == NULL) {
        return 0;
    }
    if (fp->has_sig) {
        e = fingerprint_db_match_body(db, &fp->sig);
        w = e != NULL ? e->weight : 0;
    }
    for (size_t k = 0; k < fp->n_digests; k++) {
        enum fingerprint_kind kind = fp->digests[k].kind == TRAINFP_DIGEST_URL
                                         ? FINGERPRINT_URL
                                         : FINGERPRINT_ATTACHMENT;

        e = fingerprint_db_match_digest(db, kind, fp->digests[k].d);
        if (e != NULL && e->weight > w) {
            w = e->weight;
        }
    }
    return w;
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
    size_t n_url_hit[2] = {0};

    if (fingerprint_db_parse(section->data, section->len, &db, &why) !=
        CM_OK) {
        fprintf(stderr, "cmtool train: bug: fingerprints do not parse: %s\n",
                why != NULL ? why : "?");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t cls = in[i].label != MODEL_LABEL_HAM;
        const struct trainfp_item *fp = in[i].fp;

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
        n_att_hit[cls] += digest_hit(db, fp, FINGERPRINT_ATTACHMENT);
        n_url_hit[cls] += digest_hit(db, fp, FINGERPRINT_URL);
    }
    if (n_msgs[0] + n_msgs[1] > 0) {
        fprintf(stderr,
                "fingerprints on held-out mail: junk %zu of %zu hit (%zu "
                "with a body signature), %zu by attachment, %zu by URL; ham "
                "%zu of %zu hit (%zu with a signature), %zu by attachment, "
                "%zu by URL\n",
                n_hit[1], n_msgs[1], n_sig[1], n_att_hit[1], n_url_hit[1],
                n_hit[0], n_msgs[0], n_sig[0], n_att_hit[0], n_url_hit[0]);
    }
    fingerprint_db_free(db);
}

/*
 * Body entries for reported junk (trainfp_input.is_reported) that no
 * campaign entry in e[0..*n_e) covers yet: a report is a trusted sighting,
 * so one message is enough -- unless any training ham matches it.
 */
static enum cm_err
add_reported(const struct trainfp_input *in, size_t n,
             const struct fingerprint_db *ham_db, struct fingerprint_entry *e,
             size_t *n_e, size_t *n_added, size_t *n_in_ham)
{
    struct fingerprint_db *chosen = fingerprint_db_new(e, *n_e,
                                                       FINGERPRINT_MATCH_MIN);
    size_t first = *n_e;

    if (chosen == NULL) {
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < n && *n_added < CAPS_TRAIN_REPORTED_MAX; i++) {
        const struct trainfp_input *x = &in[i];
        struct fingerprint_entry *y = &e[*n_e];
        size_t n_ham_hits = 0;
        bool is_dup = false;

        if (!x->is_reported || !is_training(x, true) || !x->fp->has_sig ||
            fingerprint_db_match_body(chosen, &x->fp->sig) != NULL) {
            continue;
        }
        /* Two reports of one campaign need one entry. */
        for (size_t k = first; k < *n_e && !is_dup; k++) {
            is_dup = fingerprint_agree(&e[k].sig, &x->fp->sig) >=
                     FINGERPRINT_MATCH_MIN;
        }
        if (is_dup) {
            continue;
        }
        fingerprint_db_each_body(ham_db, &x->fp->sig, SIZE_MAX, count_any,
                                 &n_ham_hits);
        if (n_ham_hits > 0) {
            (*n_in_ham)++;
            continue;
        }
        memset(y, 0, sizeof(*y));
        y->kind = FINGERPRINT_BODY;
        y->sig = x->fp->sig;
        y->category = category_of_label(x->label);
        y->weight = weight_of(y->category);
        snprintf(y->sub, sizeof(y->sub), "reported");
        (*n_e)++;
        (*n_added)++;
    }
    fingerprint_db_free(chosen);
    return CM_OK;
}

/* What the section holds and what was dropped: cmtool train's report. */
struct trainfp_tally {
    size_t n_junk;     /* training signatures of each class */
    size_t n_ham;
    size_t n_groups;   /* campaign groups of >= TRAINFP_GROUP_MIN */
    size_t n_rejected; /* groups that training ham matches */
    size_t n_body;     /* campaign body entries */
    size_t n_reported;
    size_t n_reported_in_ham;
    size_t n_atts;
    size_t n_att_in_ham;
    size_t n_urls;
    size_t n_url_in_ham;
};

/*
 * One body entry per campaign group, taken from the group's entry
 * message, unless any training ham matches that message; at most
 * CAPS_TRAIN_FINGERPRINTS_MAX of them, written from out[0].  Returns how
 * many were written.
 */
static size_t
add_campaigns(const struct fingerprint_entry *junk, const struct group *groups,
              size_t n_groups, const struct fingerprint_db *ham_db,
              struct fingerprint_entry *out, size_t *n_rejected)
{
    size_t n_out = 0;

    for (size_t i = 0; i < n_groups && n_out < CAPS_TRAIN_FINGERPRINTS_MAX;
         i++) {
        const struct group *g = &groups[i];
        struct fingerprint_entry *x = &out[n_out];
        size_t n_ham_hits = 0;

        fingerprint_db_each_body(ham_db, &junk[g->rep].sig, SIZE_MAX,
                                 count_any, &n_ham_hits);
        if (n_ham_hits > 0) {
            (*n_rejected)++;
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
    }
    return n_out;
}

/*
 * Every entry in section order -- campaign bodies, reported bodies,
 * attachments, URLs -- formatted into section; t counts each kind.
 */
static enum cm_err
build_entries(const struct trainfp_input *in, size_t n,
              const struct fingerprint_entry *junk, const struct group *groups,
              const struct fingerprint_db *ham_db,
              const struct ham_sets *ham_sets, struct trainfp_tally *t,
              struct buf *section)
{
    struct fingerprint_entry *out;
    size_t n_out;
    enum cm_err rc;

    out = calloc(CAPS_TRAIN_FINGERPRINTS_MAX + CAPS_TRAIN_REPORTED_MAX +
                     CAPS_TRAIN_DIGESTS_MAX + CAPS_TRAIN_URLS_MAX,
                 sizeof(*out));
    if (out == NULL) {
        return CM_ENOMEM;
    }
    n_out = add_campaigns(junk, groups, t->n_groups, ham_db, out,
                          &t->n_rejected);
    t->n_body = n_out;
    rc = add_reported(in, n, ham_db, out, &n_out, &t->n_reported,
                      &t->n_reported_in_ham);
    if (rc == CM_OK) {
        rc = add_attachments(in, n, ham_sets, out, &n_out, &t->n_att_in_ham);
    }
    t->n_atts = n_out - t->n_body - t->n_reported;
    if (rc == CM_OK) {
        rc = add_urls_entries(in, n, ham_sets, out, &n_out, &t->n_url_in_ham);
    }
    t->n_urls = n_out - t->n_body - t->n_reported - t->n_atts;
    if (rc == CM_OK) {
        rc = fingerprint_db_format(out, n_out, FINGERPRINT_MATCH_MIN, section);
    }
    free(out);
    return rc;
}

static void
print_tally(const struct trainfp_tally *t)
{
    fprintf(stderr,
            "fingerprints: %zu junk and %zu ham signatures; %zu campaign "
            "groups of >= %u, %zu dropped as ham matches them, %zu body "
            "entries; %zu reported (%zu dropped as ham matches them); %zu "
            "attachment entries (%zu digests also in ham); %zu URL entries "
            "(%zu recurring URLs dropped as ham has them or their host)\n",
            t->n_junk, t->n_ham, t->n_groups, TRAINFP_GROUP_MIN,
            t->n_rejected, t->n_body, t->n_reported, t->n_reported_in_ham,
            t->n_atts, t->n_att_in_ham, t->n_urls, t->n_url_in_ham);
}

enum cm_err
trainfp_build(const struct trainfp_input *in, size_t n, struct buf *section)
{
    struct trainfp_tally t = {0};
    uint8_t *junk_labels = NULL;
    uint8_t *ham_labels = NULL;
    struct fingerprint_entry *junk = class_sigs(in, n, true, &junk_labels,
                                                &t.n_junk);
    struct fingerprint_entry *ham = class_sigs(in, n, false, &ham_labels,
                                               &t.n_ham);
    struct fingerprint_db *ham_db = NULL;
    struct ham_sets ham_sets;
    bool has_ham_sets = false;
    struct group *groups = NULL;
    enum cm_err rc = CM_ENOMEM;

    if (junk == NULL || ham == NULL) {
        goto out;
    }
    ham_db = fingerprint_db_new(ham, t.n_ham, FINGERPRINT_MATCH_MIN);
    if (ham_db == NULL ||
        group_junk(junk, junk_labels, t.n_junk, &groups, &t.n_groups) !=
            CM_OK ||
        ham_sets_collect(in, n, &ham_sets) != CM_OK) {
        goto out;
    }
    has_ham_sets = true;
    rc = build_entries(in, n, junk, groups, ham_db, &ham_sets, &t, section);
    if (rc != CM_OK) {
        goto out;
    }
    print_tally(&t);
    measure(in, n, section);

out:
    free(junk);
    free(ham);
    free(junk_labels);
    free(ham_labels);
    fingerprint_db_free(ham_db);
    if (has_ham_sets) {
        ham_sets_clear(&ham_sets);
    }
    free(groups);
    return rc;
}
