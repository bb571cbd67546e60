/*
 * sitelayer.c -- the site's adaptive layer over the cartridge (see
 * sitelayer.h).
 *
 * State: a layer is an open-addressing table (key = id + 1, 0 = empty,
 * linear probing, power-of-two capacity kept at most half full) with a
 * parallel weight array; it grows by doubling up to twice
 * CAPS_SITELAYER_FEATURES_MAX slots.  A slot owns the current layer and
 * counts the references workers hold, under its mutex.
 */
#include "sitelayer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "buf.h"
#include "byteorder.h"
#include "caps.h"
#include "failpoint.h"
#include "featureset.h"
#include "fsutil.h"

#define SITELAYER_MAGIC "CMSL"
#define SITELAYER_HEAD_LEN 16u  /* magic, format, features version, n */
#define SITELAYER_ENTRY_LEN 8u  /* id, weight */
#define SITELAYER_MIN_SLOTS 1024u
/* Share of a message's open-vocabulary ids the layer must hold before its
 * weights count at all, and from which they count fully. */
#define SITELAYER_GATE_FROM 0.25
#define SITELAYER_GATE_FULL 0.60

struct sitelayer {
    uint32_t *keys; /* id + 1, 0 = empty */
    float *weights;
    size_t cap;     /* slots, a power of two */
    size_t n;       /* ids held */
    unsigned refs;  /* slot references, under the slot's lock */
    bool is_out_of_memory; /* a step could not grow the table */
};

struct sitelayer_slot {
    pthread_mutex_t lock;
    struct sitelayer *current;
    bool has_stat;
    struct stat last; /* of the file behind current */
    int stat_errno;   /* the stat() failure last reported, 0 when none */
    const char *read_why; /* the read failure last reported (a static
                             string), NULL when none */
};

static size_t
slot_of(uint32_t id, size_t cap)
{
    /* Feature ids are hash values already; a multiply spreads the low
     * bits the mask keeps. */
    return (size_t)((id * 2654435761u) & (uint32_t)(cap - 1));
}

/* Test hook: the nth table allocation from now on fails (0: none). */
static struct failpoint table_failpoint;

void
sitelayer_test_fail_nth_alloc(unsigned nth)
{
    failpoint_arm(&table_failpoint, nth);
}

static bool
alloc_table(struct sitelayer *l, size_t cap)
{
    if (failpoint_hit(&table_failpoint)) {
        l->keys = NULL;
        l->weights = NULL;
        return false;
    }
    l->keys = calloc(cap, sizeof(*l->keys));
    l->weights = calloc(cap, sizeof(*l->weights));
    if (l->keys == NULL || l->weights == NULL) {
        free(l->keys);
        free(l->weights);
        l->keys = NULL;
        l->weights = NULL;
        return false;
    }
    l->cap = cap;
    return true;
}

struct sitelayer *
sitelayer_new(void)
{
    struct sitelayer *l = calloc(1, sizeof(*l));

    if (l == NULL || !alloc_table(l, SITELAYER_MIN_SLOTS)) {
        free(l);
        return NULL;
    }
    return l;
}

void
sitelayer_free(struct sitelayer *l)
{
    if (l == NULL) {
        return;
    }
    free(l->keys);
    free(l->weights);
    free(l);
}

size_t
sitelayer_count(const struct sitelayer *l)
{
    return l != NULL ? l->n : 0;
}

/* Index of id's slot, or of the empty slot where it would go. */
static size_t
find(const struct sitelayer *l, uint32_t id)
{
    size_t i = slot_of(id, l->cap);

    while (l->keys[i] != 0 && l->keys[i] != id + 1u) {
        i = (i + 1) & (l->cap - 1);
    }
    return i;
}

static bool
grow(struct sitelayer *l)
{
    struct sitelayer old = *l;

    if (!alloc_table(l, old.cap * 2)) {
        *l = old;
        return false;
    }
    for (size_t i = 0; i < old.cap; i++) {
        if (old.keys[i] != 0) {
            size_t j = find(l, old.keys[i] - 1u);
            l->keys[j] = old.keys[i];
            l->weights[j] = old.weights[i];
        }
    }
    free(old.keys);
    free(old.weights);
    return true;
}

static bool
is_learnable(uint32_t id)
{
    return id >= FEATURES_DENSE_IDS_END;
}

/*
 * Room for the ids of one step before any weight changes, so a step is
 * all or nothing: the table grows now to hold every learnable id not yet
 * in it (up to CAPS_SITELAYER_FEATURES_MAX), and cell() then never
 * grows.  An id repeated in ids is counted twice, which only grows the
 * table a little early.  false when memory ran out (the layer as it was,
 * at most with a larger table).
 */
static bool
reserve(struct sitelayer *l, const uint32_t *ids, size_t n)
{
    size_t want = l->n;

    for (size_t k = 0; k < n && want < CAPS_SITELAYER_FEATURES_MAX; k++) {
        if (is_learnable(ids[k]) && l->keys[find(l, ids[k])] == 0) {
            want++;
        }
    }
    while (want * 2 > l->cap) {
        if (!grow(l)) {
            return false;
        }
    }
    return true;
}

/* The weight cell of id, added when absent; NULL when the layer is full
 * (or, without reserve() first, out of memory). */
static float *
cell(struct sitelayer *l, uint32_t id)
{
    size_t i = find(l, id);

    if (l->keys[i] != 0) {
        return &l->weights[i];
    }
    if (l->n >= CAPS_SITELAYER_FEATURES_MAX) {
        return NULL;
    }
    if ((l->n + 1) * 2 > l->cap) {
        if (!grow(l)) {
            l->is_out_of_memory = true;
            return NULL;
        }
        i = find(l, id);
    }
    l->keys[i] = id + 1u;
    l->weights[i] = 0.0f;
    l->n++;
    return &l->weights[i];
}

/*
 * The learned weights count in proportion to how much of the message's
 * open vocabulary the layer has seen: a step spreads over every word of
 * the reported message, "the" and "you" included, so without the gate a
 * few reports of one kind would shift all mail.  A variant of a reported
 * message shares most of its words and gets the full sum; unrelated mail
 * shares few and gets little or nothing.  As reports of both kinds
 * accumulate, common words meet in both directions and cancel, and the
 * gate opens for more mail: the layer becomes an ordinary online learner.
 */
static double
overlap_gate(size_t hits, size_t n_open)
{
    double share = n_open > 0 ? (double)hits / (double)n_open : 0.0;
    double g = (share - SITELAYER_GATE_FROM) /
               (SITELAYER_GATE_FULL - SITELAYER_GATE_FROM);

    return g < 0.0 ? 0.0 : g > 1.0 ? 1.0 : g;
}

bool
sitelayer_is_out_of_memory(const struct sitelayer *l)
{
    return l != NULL && l->is_out_of_memory;
}

double
sitelayer_margin(const struct sitelayer *l, const uint32_t *ids, size_t n)
{
    double sum = 0.0;
    size_t hits = 0;
    size_t n_open = 0;

    if (l == NULL || l->n == 0) {
        return 0.0;
    }
    for (size_t k = 0; k < n; k++) {
        size_t i;

        if (!is_learnable(ids[k])) {
            continue;
        }
        n_open++;
        i = find(l, ids[k]);
        if (l->keys[i] != 0) {
            sum += l->weights[i];
            hits++;
        }
    }
    return sum * overlap_gate(hits, n_open);
}

bool
sitelayer_learn(struct sitelayer *l, const uint32_t *ids, size_t n,
                double margin, double target, bool is_junk, bool *is_full)
{
    double missing = is_junk ? target - margin : margin - target;
    double step;
    size_t n_open = 0;
    bool is_changed = false;

    *is_full = false;
    if (!(missing > 0.0)) {
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        n_open += is_learnable(ids[k]);
    }
    if (n_open == 0) {
        return false;
    }
    if (!reserve(l, ids, n)) {
        l->is_out_of_memory = true;
        return false;
    }
    /* The passive-aggressive step: with binary features |x|^2 = n_open. */
    step = missing / (double)n_open;
    if (!is_junk) {
        step = -step;
    }
    for (size_t k = 0; k < n; k++) {
        float *w;
        double next;

        if (!is_learnable(ids[k])) {
            continue;
        }
        w = cell(l, ids[k]);
        if (w == NULL) {
            *is_full = true;
            continue;
        }
        next = *w + step;
        if (next > SITELAYER_WEIGHT_MAX) {
            next = SITELAYER_WEIGHT_MAX;
        } else if (next < -SITELAYER_WEIGHT_MAX) {
            next = -SITELAYER_WEIGHT_MAX;
        }
        is_changed |= (float)next != *w;
        *w = (float)next;
    }
    return is_changed;
}

/* ---- file format ---------------------------------------------------- */

static uint32_t
crc_of(const uint8_t *p, size_t len)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)len);
}

enum cm_err
sitelayer_parse(const uint8_t *p, size_t len, struct sitelayer **out,
                const char **why)
{
    struct sitelayer *l;
    uint32_t n;
    uint32_t prev = 0;

    *out = NULL;
    if (len < SITELAYER_HEAD_LEN + 4u ||
        memcmp(p, SITELAYER_MAGIC, 4) != 0) {
        *why = "not a site layer file";
        return CM_EPARSE;
    }
    if (byteorder_le32(p + 4) != SITELAYER_FORMAT) {
        *why = "unknown site layer format";
        return CM_EPARSE;
    }
    if (byteorder_le32(p + 8) != FEATURES_VERSION) {
        *why = "learned under another feature set";
        return CM_EVERSION;
    }
    n = byteorder_le32(p + 12);
    if (n > CAPS_SITELAYER_FEATURES_MAX ||
        len != SITELAYER_HEAD_LEN + (size_t)n * SITELAYER_ENTRY_LEN + 4u) {
        *why = "site layer size does not match its count";
        return CM_EPARSE;
    }
    if (crc_of(p, len - 4) != byteorder_le32(p + len - 4)) {
        *why = "site layer checksum mismatch";
        return CM_EPARSE;
    }
    l = sitelayer_new();
    if (l == NULL) {
        return CM_ENOMEM;
    }
    for (uint32_t k = 0; k < n; k++) {
        const uint8_t *e = p + SITELAYER_HEAD_LEN + (size_t)k *
                                                        SITELAYER_ENTRY_LEN;
        uint32_t id = byteorder_le32(e);
        uint32_t bits = byteorder_le32(e + 4);
        float w;
        float *c;

        memcpy(&w, &bits, sizeof(w));
        if ((k > 0 && id <= prev) || id == UINT32_MAX || !is_learnable(id) ||
            !(w >= -SITELAYER_WEIGHT_MAX && w <= SITELAYER_WEIGHT_MAX)) {
            sitelayer_free(l);
            *why = "site layer entry out of order or out of range";
            return CM_EPARSE;
        }
        c = cell(l, id);
        if (c == NULL) {
            sitelayer_free(l);
            return CM_ENOMEM;
        }
        *c = w;
        prev = id;
    }
    *out = l;
    return CM_OK;
}

enum cm_err
sitelayer_load(const char *path, struct sitelayer **out, const char **why)
{
    struct buf b;
    bool is_truncated = false;
    size_t cap = SITELAYER_HEAD_LEN +
                 (size_t)CAPS_SITELAYER_FEATURES_MAX * SITELAYER_ENTRY_LEN +
                 4u;
    enum cm_err rc;

    *out = NULL;
    buf_init(&b, cap + 1);
    rc = fsutil_read_file(path, cap + 1, &b, &is_truncated, why);
    if (rc == CM_OK && is_truncated) {
        *why = "site layer file too large";
        rc = CM_EPARSE;
    }
    if (rc == CM_OK) {
        rc = sitelayer_parse(b.data, b.len, out, why);
    }
    buf_clear(&b);
    return rc;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

enum cm_err
sitelayer_save(const struct sitelayer *l, const char *path)
{
    size_t len = SITELAYER_HEAD_LEN + l->n * SITELAYER_ENTRY_LEN + 4u;
    uint8_t *img = malloc(len);
    uint32_t *ids = malloc((l->n > 0 ? l->n : 1) * sizeof(*ids));
    size_t n = 0;
    enum cm_err rc;

    if (img == NULL || ids == NULL) {
        free(img);
        free(ids);
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < l->cap; i++) {
        if (l->keys[i] != 0) {
            ids[n++] = l->keys[i] - 1u;
        }
    }
    qsort(ids, n, sizeof(*ids), cmp_u32);
    memcpy(img, SITELAYER_MAGIC, 4);
    byteorder_put_le32(img + 4, SITELAYER_FORMAT);
    byteorder_put_le32(img + 8, FEATURES_VERSION);
    byteorder_put_le32(img + 12, (uint32_t)n);
    for (size_t k = 0; k < n; k++) {
        uint8_t *e = img + SITELAYER_HEAD_LEN + k * SITELAYER_ENTRY_LEN;
        float w = l->weights[find(l, ids[k])];
        uint32_t bits;

        memcpy(&bits, &w, sizeof(bits));
        byteorder_put_le32(e, ids[k]);
        byteorder_put_le32(e + 4, bits);
    }
    byteorder_put_le32(img + len - 4, crc_of(img, len - 4));
    rc = fsutil_write_atomic(path, img, len, 0600);
    free(img);
    free(ids);
    return rc;
}

/* ---- slot ----------------------------------------------------------- */

struct sitelayer_slot *
sitelayer_slot_new(struct sitelayer *initial)
{
    struct sitelayer_slot *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        sitelayer_free(initial);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->current = initial;
    if (initial != NULL) {
        initial->refs = 1;
    }
    return s;
}

void
sitelayer_slot_free(struct sitelayer_slot *s)
{
    if (s == NULL) {
        return;
    }
    /* Called after the workers stopped: no reference is outstanding. */
    sitelayer_free(s->current);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

const struct sitelayer *
sitelayer_acquire(struct sitelayer_slot *s)
{
    struct sitelayer *l;

    pthread_mutex_lock(&s->lock);
    l = s->current;
    if (l != NULL) {
        l->refs++;
    }
    pthread_mutex_unlock(&s->lock);
    return l;
}

/* Drops one reference; the caller holds the lock.  Frees at zero. */
static void
unref_locked(struct sitelayer *l)
{
    if (l != NULL && --l->refs == 0) {
        sitelayer_free(l);
    }
}

void
sitelayer_release(struct sitelayer_slot *s, const struct sitelayer *l)
{
    if (l == NULL) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    unref_locked((struct sitelayer *)l);
    pthread_mutex_unlock(&s->lock);
}

static void
publish(struct sitelayer_slot *s, struct sitelayer *next)
{
    pthread_mutex_lock(&s->lock);
    if (next != NULL) {
        next->refs = 1;
    }
    unref_locked(s->current);
    s->current = next;
    pthread_mutex_unlock(&s->lock);
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
           a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * stat(path) failed with err.  Only ENOENT means the layer is gone (how an
 * administrator makes LEARN forget).  Anything else -- EACCES after a
 * permission change, EIO or ESTALE on a network file system -- says
 * nothing about the layer, and dropping it would silently change every
 * score: keep it, and report the failure once until it changes.
 */
static enum cm_err
stat_failed(struct sitelayer_slot *s, int err, bool *is_changed,
            const char **why)
{
    if (err == ENOENT) {
        s->stat_errno = 0;
        if (s->has_stat || s->current != NULL) {
            publish(s, NULL);
            s->has_stat = false;
            *is_changed = true;
        }
        return CM_OK;
    }
    if (err == s->stat_errno) {
        return CM_OK;
    }
    s->stat_errno = err;
    *why = err == EACCES ? "cannot stat it: permission denied"
                         : "cannot stat it";
    return CM_EIO;
}

enum cm_err
sitelayer_slot_refresh(struct sitelayer_slot *s, const char *path,
                       bool *is_changed, const char **why)
{
    struct stat st;
    struct sitelayer *next = NULL;
    enum cm_err rc;

    *is_changed = false;
    if (stat(path, &st) != 0) {
        return stat_failed(s, errno, is_changed, why);
    }
    s->stat_errno = 0;
    if (s->has_stat && same_file(&s->last, &st)) {
        return CM_OK;
    }
    /* Remember the file even when it is bad: it is reported once, not on
     * every tick, and retried when it changes again.  A failure that says
     * nothing about the file (CM_EIO: out of descriptors, EACCES until a
     * chown or chmod, which change neither size nor mtime; CM_ENOMEM) is
     * retried at the next tick instead, as the counters state file is. */
    s->last = st;
    s->has_stat = true;
    rc = sitelayer_load(path, &next, why);
    if (rc == CM_EIO || rc == CM_ENOMEM) {
        /* Tried again at every call, but reported only when it starts
         * or its reason changes: the helper calls every minute. */
        bool is_repeat = s->read_why != NULL && *why != NULL &&
                         strcmp(s->read_why, *why) == 0;

        s->has_stat = false;
        s->read_why = *why;
        return is_repeat ? CM_OK : rc;
    }
    s->read_why = NULL;
    if (rc != CM_OK) {
        return rc;
    }
    publish(s, next);
    *is_changed = true;
    return CM_OK;
}
