/*
 * trainrep.c -- cmtool train's REPUTATION section: administrator lists
 * plus, when asked, entries derived from the training data (rules in
 * trainrep.h).
 *
 * Per message the parse workers keep what the engine's reputation check
 * reads (reputation_each_key: peer IP, sender domains, URL hosts), so a
 * held-out message is checked against the new section exactly as the
 * engine would check it.  The builder reduces the hosts to registered
 * domains (url_registered_domain), makes one (kind, domain, label,
 * sender) row per distinct domain of a message, sorts the rows and counts
 * each domain's junk, ham and distinct junk/ham senders in one pass.
 *
 * State: none between calls; deterministic (sorts with total orders).
 */
#include "trainrep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "failpoint.h"
#include "model.h"
#include "replist.h"
#include "reputation.h"
#include "url.h"

/* Keys of one message: From's and the Return-Path's domain, and every
 * URL host the engine's reputation check reads (reputation_each_key
 * visits up to MIME_MAX_URLS URLs, so a host the check would match is
 * not dropped here: a domain ham links to late in a long newsletter is
 * in ham, and must not earn a block). */
#define TRAINREP_KEYS_MAX (MIME_MAX_URLS + 2u)
#define TRAINREP_HOST_MAX 255u

/* keys holds n records back to back: kind, length, the key's bytes. */
struct trainrep_item {
    uint64_t sender;
    bool has_ip;
    uint8_t ip[16];
    size_t n;
    uint8_t keys[];
};

/* Keys of one message while it is parsed (heap, one per message). */
struct collector {
    bool has_ip;
    uint8_t ip[16];
    size_t n;
    size_t len; /* bytes used in keys */
    uint8_t keys[TRAINREP_KEYS_MAX * (TRAINREP_HOST_MAX + 2u)];
};

/* The next key record at *at in keys, advancing *at. */
static void
next_key(const uint8_t *keys, size_t *at, uint8_t *kind, const char **key,
         size_t *len)
{
    *kind = keys[*at];
    *len = keys[*at + 1u];
    *key = (const char *)keys + *at + 2u;
    *at += 2u + *len;
}

static bool
has_key(const struct collector *c, enum reputation_kind kind,
        const uint8_t *key, size_t len)
{
    size_t at = 0;

    for (size_t i = 0; i < c->n; i++) {
        uint8_t k;
        const char *t;
        size_t tl;

        next_key(c->keys, &at, &k, &t, &tl);
        if (k == kind && tl == len && memcmp(t, key, len) == 0) {
            return true;
        }
    }
    return false;
}

static void
collect_key(void *ctx, enum reputation_kind kind, const uint8_t *key,
            size_t len)
{
    struct collector *c = ctx;

    if (kind == REPUTATION_IPV6) {
        c->has_ip = true;
        memcpy(c->ip, key, sizeof(c->ip));
        return;
    }
    if (len == 0 || len > TRAINREP_HOST_MAX || c->n == TRAINREP_KEYS_MAX ||
        has_key(c, kind, key, len)) {
        return;
    }
    c->keys[c->len] = (uint8_t)kind;
    c->keys[c->len + 1u] = (uint8_t)len;
    memcpy(c->keys + c->len + 2u, key, len);
    c->len += 2u + len;
    c->n++;
}

/* Test hook: the nth collector allocation from now on fails (0: none). */
static struct failpoint collector_failpoint;

void
trainrep_test_fail_nth_alloc(unsigned nth)
{
    failpoint_arm(&collector_failpoint, nth);
}

struct trainrep_item *
trainrep_collect(const struct mime_doc *doc, const struct envelope *env,
                 uint64_t sender)
{
    struct collector *c =
        failpoint_hit(&collector_failpoint) ? NULL : malloc(sizeof(*c));
    struct trainrep_item *it = NULL;

    if (c == NULL) {
        return NULL;
    }
    c->has_ip = false;
    memset(c->ip, 0, sizeof(c->ip));
    c->n = 0;
    c->len = 0;
    reputation_each_key(doc, env, REPUTATION_KEYS_ALL, collect_key, c);
    it = calloc(1, sizeof(*it) + c->len + 1u);
    if (it != NULL) {
        it->sender = sender;
        it->has_ip = c->has_ip;
        memcpy(it->ip, c->ip, sizeof(it->ip));
        it->n = c->n;
        memcpy(it->keys, c->keys, c->len);
    }
    free(c);
    return it;
}

void
trainrep_item_free(struct trainrep_item *it)
{
    free(it);
}

int
trainrep_item_margin(const struct reputation_db *db,
                     const struct trainrep_item *it)
{
    struct reputation_hits hits;

    memset(&hits, 0, sizeof(hits));
    if (db == NULL || it == NULL) {
        return 0;
    }
    if (it->has_ip) {
        reputation_hits_add(&hits, reputation_match_ip(db, it->ip));
    }
    for (size_t i = 0, at = 0; i < it->n; i++) {
        uint8_t kind;
        const char *key;
        size_t len;

        next_key(it->keys, &at, &kind, &key, &len);
        reputation_hits_add(&hits,
                            reputation_match_host(
                                db, (enum reputation_kind)kind, key, len));
    }
    reputation_hits_clip(&hits);
    return hits.total;
}

/* ---- deriving entries --------------------------------------------------- */

struct row {
    const char *key; /* registered domain, a view into an item */
    uint8_t len;
    uint8_t kind;
    uint8_t label;
    uint64_t sender;
};

static int
row_cmp(const void *a, const void *b)
{
    const struct row *x = a;
    const struct row *y = b;
    int r;

    if (x->kind != y->kind) {
        return x->kind < y->kind ? -1 : 1;
    }
    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    r = memcmp(x->key, y->key, x->len);
    if (r != 0) {
        return r;
    }
    if (x->sender != y->sender) {
        return x->sender < y->sender ? -1 : 1;
    }
    return (x->label > y->label) - (x->label < y->label);
}

/* Whether reg, a registered domain, is itself a public suffix ("co.uk",
 * "github.io"): url_registered_domain returns such a host whole, and an
 * entry for it would cover every domain registered under it.  It is one
 * when a label in front of it is still a registered domain of its own. */
static bool
is_public_suffix(const char *reg, size_t rl)
{
    char t[REPUTATION_KEY_MAX + 3];
    const char *r2 = NULL;

    if (rl > REPUTATION_KEY_MAX) {
        return false;
    }
    t[0] = 'a';
    t[1] = '.';
    memcpy(t + 2, reg, rl);
    return url_registered_domain(t, rl + 2, &r2) == rl + 2;
}

/* Rows of one message: each distinct registered domain per kind. */
static size_t
item_rows(const struct trainrep_item *it, uint8_t label, struct row *out)
{
    size_t n = 0;
    size_t at = 0;

    for (size_t i = 0; i < it->n; i++) {
        uint8_t kind;
        const char *key;
        size_t len;
        const char *reg = NULL;
        size_t rl;
        bool is_dup = false;

        next_key(it->keys, &at, &kind, &key, &len);
        rl = url_registered_domain(key, len, &reg);
        if (rl == 0 || rl > REPUTATION_KEY_MAX ||
            memchr(reg, '.', rl) == NULL || is_public_suffix(reg, rl)) {
            continue;
        }
        for (size_t k = 0; k < n && !is_dup; k++) {
            is_dup = out[k].kind == kind && out[k].len == rl &&
                     memcmp(out[k].key, reg, rl) == 0;
        }
        if (!is_dup) {
            out[n++] = (struct row){reg, (uint8_t)rl, kind, label,
                                    it->sender};
        }
    }
    return n;
}

struct counts {
    size_t junk;
    size_t phish;
    size_t ham;
    size_t junk_senders;
    size_t ham_senders;
};

/* The entry rows [a, b) (one domain) earn, if any. */
static bool
derive(const struct row *r, size_t a, size_t b, double n_junk, double n_ham,
       struct reputation_item *e)
{
    struct counts c = {0};
    double lo;
    int w;

    /* Rows are sorted by sender: one run per sender. */
    for (size_t i = a; i < b;) {
        size_t j = i;
        bool has_junk = false;
        bool has_ham = false;

        for (; j < b && r[j].sender == r[i].sender; j++) {
            bool is_junk = r[j].label != MODEL_LABEL_HAM;

            c.junk += is_junk;
            c.phish += r[j].label == MODEL_LABEL_PHISH;
            c.ham += !is_junk;
            has_junk |= is_junk;
            has_ham |= !is_junk;
        }
        c.junk_senders += has_junk;
        c.ham_senders += has_ham;
        i = j;
    }
    lo = log(((double)c.junk + 1.0) / (n_junk + 2.0)) -
         log(((double)c.ham + 1.0) / (n_ham + 2.0));
    memset(e, 0, sizeof(*e));
    if (c.ham == 0 && c.junk >= TRAINREP_JUNK_MIN &&
        c.junk_senders >= TRAINREP_SENDERS_MIN && lo > 0.0) {
        e->action = REPUTATION_BLOCK;
        e->category = c.phish * 2 > c.junk ? REPUTATION_CAT_PHISHING
                                           : REPUTATION_CAT_SPAM;
    } else if (c.junk == 0 && c.ham >= TRAINREP_HAM_MIN &&
               c.ham_senders >= TRAINREP_SENDERS_MIN && lo < 0.0) {
        e->action = REPUTATION_ALLOW;
    } else {
        return false;
    }
    w = (int)lround(fabs(lo) * TRAINREP_SCALE * 100.0);
    w = w < TRAINREP_WEIGHT_MIN ? TRAINREP_WEIGHT_MIN
        : w > TRAINREP_WEIGHT_MAX ? TRAINREP_WEIGHT_MAX
                                  : w;
    e->weight = (int16_t)(e->action == REPUTATION_BLOCK ? w : -w);
    e->kind = r[a].kind;
    e->key_len = r[a].len;
    memcpy(e->key, r[a].key, r[a].len);
    return reputation_item_is_valid(e);
}

static int
heavier_first(const void *a, const void *b)
{
    const struct reputation_item *x = a;
    const struct reputation_item *y = b;
    int wx = abs(x->weight);
    int wy = abs(y->weight);

    if (wx != wy) {
        return wx > wy ? -1 : 1;
    }
    if (x->kind != y->kind) {
        return x->kind < y->kind ? -1 : 1;
    }
    if (x->key_len != y->key_len) {
        return x->key_len < y->key_len ? -1 : 1;
    }
    return memcmp(x->key, y->key, x->key_len);
}

/* Derived entries appended to out; CM_ENOMEM. */
static enum cm_err
derive_all(const struct trainrep_input *in, size_t n, bool with_allows,
           struct replist *out)
{
    struct row *rows;
    struct replist found = {0};
    size_t n_rows = 0;
    double n_junk = 0.0;
    double n_ham = 0.0;
    size_t n_block = 0;
    enum cm_err rc = CM_OK;

    /* At most one row per key: sized by the keys the messages have, not
     * by the most a message could have. */
    for (size_t i = 0; i < n; i++) {
        n_rows += in[i].is_test || in[i].rep == NULL ? 0 : in[i].rep->n;
    }
    rows = malloc((n_rows > 0 ? n_rows : 1) * sizeof(*rows));
    if (rows == NULL) {
        return CM_ENOMEM;
    }
    n_rows = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i].is_test) {
            continue;
        }
        n_junk += in[i].label != MODEL_LABEL_HAM;
        n_ham += in[i].label == MODEL_LABEL_HAM;
        if (in[i].rep != NULL) {
            n_rows += item_rows(in[i].rep, in[i].label, rows + n_rows);
        }
    }
    qsort(rows, n_rows, sizeof(*rows), row_cmp);
    for (size_t a = 0; a < n_rows && rc == CM_OK;) {
        size_t b = a + 1;
        struct reputation_item e;

        while (b < n_rows && rows[b].kind == rows[a].kind &&
               rows[b].len == rows[a].len &&
               memcmp(rows[b].key, rows[a].key, rows[a].len) == 0) {
            b++;
        }
        if (derive(rows, a, b, n_junk, n_ham, &e) &&
            (with_allows || e.action == REPUTATION_BLOCK)) {
            rc = replist_add(&found, &e);
        }
        a = b;
    }
    if (rc == CM_OK && found.n > 0) {
        qsort(found.e, found.n, sizeof(*found.e), heavier_first);
        if (found.n > CAPS_TRAIN_REPUTATION_MAX) {
            found.n = CAPS_TRAIN_REPUTATION_MAX;
        }
        for (size_t i = 0; i < found.n && rc == CM_OK; i++) {
            n_block += found.e[i].action == REPUTATION_BLOCK;
            rc = replist_add(out, &found.e[i]);
        }
    }
    fprintf(stderr, "reputation from data: %zu entries (%zu block, %zu "
                    "allow)\n",
            found.n, n_block, found.n - n_block);
    replist_clear(&found);
    free(rows);
    return rc;
}

enum cm_err
trainrep_build(const struct trainrep_input *in, size_t n,
               const struct replist *lists, enum trainrep_derive derive,
               struct buf *section)
{
    struct replist all = {0};
    enum cm_err rc = CM_OK;

    for (size_t i = 0; lists != NULL && i < lists->n && rc == CM_OK; i++) {
        rc = replist_add(&all, &lists->e[i]);
    }
    if (rc == CM_OK && derive != TRAINREP_DERIVE_NONE) {
        rc = derive_all(in, n, derive == TRAINREP_DERIVE_ALL, &all);
    }
    if (rc == CM_OK) {
        rc = reputation_format(all.e, all.n, section);
        fprintf(stderr, "reputation: %zu list entries%s\n",
                lists != NULL ? lists->n : 0,
                derive != TRAINREP_DERIVE_NONE ? " plus the derived ones" : "");
    }
    replist_clear(&all);
    return rc;
}
