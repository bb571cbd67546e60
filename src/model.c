/*
 * model.c -- linear model over hashed binary features: loading, scoring,
 * calibration and training (see model.h).
 *
 * MODEL section body (little-endian):
 *   format u32 (1 or 2) | features_version u32 | hash_bits u32 |
 *   n_heads u32 (MODEL_HEADS) | encoding u32 (0 raw, 1 zlib) |
 *   raw_len u64 | format 2 only: split u32 (first id of the high
 *   normalisation block, 1 .. 2^hash_bits - 1) | payload (raw_len bytes,
 *   or its zlib stream filling the rest of the section)
 * payload, for each head in order:
 *   bias f32 | scale f32 | n u32 | n id deltas (LEB128, first = id, then
 *   id - previous id >= 1) | n weights i16 (non-zero, > INT16_MIN)
 * A weight's value is scale * q.  The payload must be consumed exactly.
 *
 * CALIBRATION section body:
 *   format u32 | n_knots u32 | n × (margin f32, score f32) |
 *   phish_margin f32 | margin_96 f32
 *
 * The loaded model keeps one int16 per (id, head), interleaved so a feature
 * costs one cache line for both heads: 2^hash_bits * 4 bytes (16 MiB at 22
 * bits), allocated once at load and never written after.
 *
 * Training is FTRL-Proximal logistic regression (per-id adaptive rates,
 * L1 so that ids with little evidence stay exactly zero -- a small
 * cartridge and less memorisation -- and L2) with per-example
 * normalisation of each block, deterministic shuffles (hashing_rng), weights clipped to
 * [-clip, clip] (no single token may decide a message, which also bounds
 * what a corpus artifact can do) and sign constraints on the restricted id
 * range (bulk markers).  Single-threaded per call; the trainer runs folds
 * on separate threads with separate weights.
 */
/* madvise(MADV_HUGEPAGE) for the dense weight table (Linux, not POSIX). */
#define _DEFAULT_SOURCE
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>

#include "caps.h"
#include "cursor.h"
#include "hashing.h"

#define MODEL_FORMAT_ONE_BLOCK 1u
#define MODEL_FORMAT_SPLIT 2u
#define MODEL_CAL_FORMAT 1u
#define MODEL_ENC_RAW 0u
#define MODEL_ENC_ZLIB 1u
#define MODEL_Q_MAX 32767
/* The largest magnitude a loaded bias, scale, calibration knot or
 * threshold may have.  Real ones are a few units; the bound keeps a
 * hostile section's finite but huge floats (3e38) from turning into
 * infinities in float arithmetic downstream (a knot difference, a LEARN
 * target). */
#define MODEL_ABS_MAX 1e6f

struct model {
    unsigned hash_bits;
    uint32_t features_version;
    uint32_t split; /* MODEL_SPLIT_NONE for format 1 */
    double bias[MODEL_HEADS];
    double scale[MODEL_HEADS];
    size_t nonzero[MODEL_HEADS];
    int16_t *w; /* [id * MODEL_HEADS + head] */
    size_t w_bytes;
};

/*
 * The dense weight table (16 MiB at 22 bits) is written at a few hundred
 * thousand scattered ids when a cartridge loads: in 4 KiB pages that is
 * thousands of page faults, half of a helper's or RATE's start-up CPU.
 * Anonymous memory with a transparent-huge-page hint takes 2 MiB pages
 * where the kernel allows it (Debian's default is "madvise"); where it
 * does not, the hint is ignored and the table is ordinary zeroed memory.
 */
static int16_t *
weights_alloc(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED) {
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

static void
weights_free(int16_t *w, size_t bytes)
{
    if (w != NULL) {
        munmap(w, bytes);
    }
}

/* ---- little-endian helpers ------------------------------------------ */

static float
f32_from_bits(uint32_t u)
{
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

static uint32_t
f32_bits(float f)
{
    uint32_t u;

    memcpy(&u, &f, sizeof(u));
    return u;
}

static enum cm_err
put_u32(struct buf *b, uint32_t v)
{
    uint8_t x[4];

    for (unsigned i = 0; i < 4; i++) {
        x[i] = (uint8_t)(v >> (8u * i));
    }
    return buf_append(b, x, sizeof(x));
}

static enum cm_err
put_u64(struct buf *b, uint64_t v)
{
    uint8_t x[8];

    for (unsigned i = 0; i < 8; i++) {
        x[i] = (uint8_t)(v >> (8u * i));
    }
    return buf_append(b, x, sizeof(x));
}

static enum cm_err
put_f32(struct buf *b, float f)
{
    return put_u32(b, f32_bits(f));
}

static enum cm_err
put_varint(struct buf *b, uint32_t v)
{
    uint8_t x[5];
    size_t n = 0;

    while (v >= 0x80u) {
        x[n++] = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    x[n++] = (uint8_t)v;
    return buf_append(b, x, n);
}

static enum cm_err
get_f32(struct cursor *c, float *out)
{
    uint32_t u = 0;

    if (cursor_u32le(c, &u) != CM_OK) {
        return CM_EPARSE;
    }
    *out = f32_from_bits(u);
    return CM_OK;
}

/* LEB128, at most 5 bytes, value below 2^32: the general case of
 * get_varint. */
static enum cm_err
get_varint_long(struct cursor *c, uint32_t *out)
{
    size_t left = cursor_left(c);
    uint64_t v = 0;

    for (unsigned i = 0; i < 5; i++) {
        uint8_t byte;

        if (i >= left) {
            c->off += i;
            return cursor_fail(c, "truncated");
        }
        byte = c->p[c->off + i];
        v |= (uint64_t)(byte & 0x7fu) << (7u * i);
        if ((byte & 0x80u) == 0) {
            c->off += i + 1u;
            if (v > UINT32_MAX) {
                return cursor_fail(c, "varint out of range");
            }
            *out = (uint32_t)v;
            return CM_OK;
        }
    }
    c->off += 5u;
    return cursor_fail(c, "varint too long");
}

/* A varint, read in place rather than through cursor_u8: the model's id
 * lists hold one per weight, a delta of one to three bytes, and a call
 * per byte was most of a cartridge load (issue #7).  Longer ones, and
 * the last bytes of the input, take the general path. */
static inline enum cm_err
get_varint(struct cursor *c, uint32_t *out)
{
    const uint8_t *b;

    if (c->why != NULL || c->len - c->off < 3u) {
        return get_varint_long(c, out);
    }
    b = c->p + c->off;
    if (b[0] < 0x80u) {
        *out = b[0];
        c->off += 1u;
        return CM_OK;
    }
    if (b[1] < 0x80u) {
        *out = (b[0] & 0x7fu) | (uint32_t)b[1] << 7;
        c->off += 2u;
        return CM_OK;
    }
    if (b[2] < 0x80u) {
        *out = (b[0] & 0x7fu) | (uint32_t)(b[1] & 0x7fu) << 7 |
               (uint32_t)b[2] << 14;
        c->off += 3u;
        return CM_OK;
    }
    return get_varint_long(c, out);
}

/* ---- loaded model --------------------------------------------------- */

static enum cm_err
inflate_bounded(const uint8_t *p, size_t len, uint8_t *dst, size_t dst_len,
                const char **why)
{
    z_stream z;
    int zrc;
    enum cm_err rc = CM_OK;

    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK) {
        *why = "zlib init failed";
        return CM_ENOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)p;
    z.next_out = dst;
    /* Both lengths are below CAPS_CARTRIDGE_MAX_BYTES / the raw cap, so
     * they fit zlib's uInt. */
    z.avail_in = (uInt)len;
    z.avail_out = (uInt)dst_len;
    zrc = inflate(&z, Z_FINISH);
    if (zrc != Z_STREAM_END) {
        *why = zrc == Z_BUF_ERROR ? "model payload larger than declared"
                                  : "model payload corrupt";
        rc = CM_EPARSE;
    } else if (z.total_out != dst_len) {
        *why = "model payload shorter than declared";
        rc = CM_EPARSE;
    } else if (z.avail_in != 0) {
        *why = "bytes after the model payload";
        rc = CM_EPARSE;
    }
    inflateEnd(&z);
    return rc;
}

static enum cm_err
parse_payload(struct model *m, const uint8_t *p, size_t len,
              const char **why)
{
    struct cursor c;
    size_t n_ids = (size_t)1 << m->hash_bits;

    cursor_init(&c, p, len);
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        float bias = 0.0f;
        float scale = 0.0f;
        uint32_t n = 0;
        uint32_t id = 0;
        size_t q_off;
        const uint8_t *wq;

        if (get_f32(&c, &bias) != CM_OK || get_f32(&c, &scale) != CM_OK ||
            cursor_u32le(&c, &n) != CM_OK) {
            *why = "model head truncated";
            return CM_EPARSE;
        }
        if (!isfinite(bias) || !isfinite(scale) || scale < 0.0f ||
            fabsf(bias) > MODEL_ABS_MAX || scale > MODEL_ABS_MAX) {
            *why = "model bias or scale out of range";
            return CM_EPARSE;
        }
        if (n > n_ids || n > cursor_left(&c) / 3u) {
            *why = "model weight count out of range";
            return CM_EPARSE;
        }
        /* The values follow the n deltas: find them first. */
        {
            struct cursor dc = c;

            for (uint32_t i = 0; i < n; i++) {
                uint32_t d = 0;

                if (get_varint(&dc, &d) != CM_OK) {
                    *why = "model id list truncated";
                    return CM_EPARSE;
                }
            }
            q_off = dc.off;
        }
        if (len - q_off < (size_t)n * 2u) {
            *why = "model weights truncated";
            return CM_EPARSE;
        }
        wq = p + q_off; /* n little-endian int16, bounds checked above */
        for (uint32_t i = 0; i < n; i++) {
            uint32_t d = 0;
            uint16_t u = 0;
            uint64_t next;
            int16_t q;

            (void)get_varint(&c, &d); /* validated above */
            if (i > 0 && d == 0) {
                *why = "model ids not increasing";
                return CM_EPARSE;
            }
            next = i == 0 ? d : (uint64_t)id + d;
            if (next >= n_ids) {
                *why = "model id out of range";
                return CM_EPARSE;
            }
            id = (uint32_t)next;
            u = (uint16_t)(wq[2u * i] | (unsigned)wq[2u * i + 1u] << 8);
            memcpy(&q, &u, sizeof(q));
            if (q == 0 || q == INT16_MIN) {
                *why = "model weight out of range";
                return CM_EPARSE;
            }
            m->w[(size_t)id * MODEL_HEADS + h] = q;
        }
        m->bias[h] = bias;
        m->scale[h] = scale;
        m->nonzero[h] = n;
        if (cursor_skip(&c, (size_t)n * 2u) != CM_OK) {
            *why = "model weights truncated";
            return CM_EPARSE;
        }
    }
    if (cursor_left(&c) != 0) {
        *why = "bytes after the model heads";
        return CM_EPARSE;
    }
    return CM_OK;
}

/* The MODEL section's fixed header, as read (split is MODEL_SPLIT_NONE
 * for format 1, which does not carry one). */
struct model_header {
    uint32_t format;
    uint32_t fver;
    uint32_t bits;
    uint32_t heads;
    uint32_t enc;
    uint64_t raw_len;
    uint32_t split;
};

/* Whether this build can use a model of the header's format, feature set,
 * hash size and head count, and whether its payload is within the cap.
 * The checks run in this order, so that a model from another build says
 * why it does not fit before anything is allocated for it. */
static enum cm_err
model_header_check(const struct model_header *mh, uint32_t features_version,
                   unsigned hash_bits, const char **why)
{
    if (mh->format != MODEL_FORMAT_ONE_BLOCK &&
        mh->format != MODEL_FORMAT_SPLIT) {
        *why = "unknown model format";
        return CM_EVERSION;
    }
    if (mh->fver != features_version) {
        *why = "model built for another feature set";
        return CM_EVERSION;
    }
    if (mh->bits != hash_bits || mh->bits < CAPS_MODEL_HASH_BITS_MIN ||
        mh->bits > CAPS_MODEL_HASH_BITS_MAX) {
        *why = "model hash size not supported";
        return CM_EVERSION;
    }
    if (mh->heads != MODEL_HEADS) {
        *why = "model head count not supported";
        return CM_EVERSION;
    }
    if (mh->raw_len > CAPS_MODEL_RAW_MAX_BYTES) {
        *why = "model payload too large";
        return CM_ELIMIT;
    }
    return CM_OK;
}

/* Read and check the header at c, leaving c at the payload.  The split
 * field of format 2 is read only once the rest is known to fit: it must
 * name an id inside the table (0 would leave the low block empty). */
static enum cm_err
model_header_parse(struct cursor *c, uint32_t features_version,
                   unsigned hash_bits, struct model_header *mh,
                   const char **why)
{
    enum cm_err rc;

    memset(mh, 0, sizeof(*mh));
    mh->split = MODEL_SPLIT_NONE;
    if (cursor_u32le(c, &mh->format) != CM_OK ||
        cursor_u32le(c, &mh->fver) != CM_OK ||
        cursor_u32le(c, &mh->bits) != CM_OK ||
        cursor_u32le(c, &mh->heads) != CM_OK ||
        cursor_u32le(c, &mh->enc) != CM_OK ||
        cursor_u64le(c, &mh->raw_len) != CM_OK) {
        *why = "model header truncated";
        return CM_EPARSE;
    }
    rc = model_header_check(mh, features_version, hash_bits, why);
    if (rc != CM_OK || mh->format != MODEL_FORMAT_SPLIT) {
        return rc;
    }
    if (cursor_u32le(c, &mh->split) != CM_OK) {
        *why = "model header truncated";
        return CM_EPARSE;
    }
    if (mh->split == 0 || mh->split >= (uint64_t)1 << mh->bits) {
        *why = "model block split out of range";
        return CM_EPARSE;
    }
    return CM_OK;
}

/* An empty model of the header's size: its dense weight table all zero,
 * to be filled by parse_payload.  NULL when out of memory. */
static struct model *
model_alloc(const struct model_header *mh)
{
    struct model *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        return NULL;
    }
    m->hash_bits = mh->bits;
    m->features_version = mh->fver;
    m->split = mh->split;
    m->w_bytes = ((size_t)1 << mh->bits) * MODEL_HEADS * sizeof(int16_t);
    m->w = weights_alloc(m->w_bytes);
    if (m->w == NULL) {
        model_free(m);
        return NULL;
    }
    return m;
}

/* The raw payload (raw_len bytes) behind the header: the rest of the
 * section as it is, or inflated into *raw, a buffer of raw_len bytes the
 * caller frees (also when this fails).  zlib may neither stop short of
 * raw_len nor run past it, nor leave input unread. */
static enum cm_err
model_payload(const struct cursor *c, const struct model_header *mh,
              const uint8_t **payload, uint8_t **raw, const char **why)
{
    enum cm_err rc;

    if (mh->enc == MODEL_ENC_RAW) {
        if (cursor_left(c) != mh->raw_len) {
            *why = "model payload length mismatch";
            return CM_EPARSE;
        }
        *payload = c->p + c->off;
        return CM_OK;
    }
    if (mh->enc != MODEL_ENC_ZLIB) {
        *why = "unknown model encoding";
        return CM_EVERSION;
    }
    if (mh->raw_len == 0 || cursor_left(c) == 0) {
        *why = "model payload empty";
        return CM_EPARSE;
    }
    *raw = malloc((size_t)mh->raw_len);
    if (*raw == NULL) {
        *why = "out of memory";
        return CM_ENOMEM;
    }
    rc = inflate_bounded(c->p + c->off, cursor_left(c), *raw,
                         (size_t)mh->raw_len, why);
    if (rc != CM_OK) {
        return rc;
    }
    *payload = *raw;
    return CM_OK;
}

enum cm_err
model_parse(const uint8_t *p, size_t len, uint32_t features_version,
            unsigned hash_bits, struct model **out, const char **why)
{
    struct cursor c;
    struct model_header mh;
    const char *reason = NULL;
    struct model *m = NULL;
    uint8_t *raw = NULL;
    const uint8_t *payload = NULL;
    enum cm_err rc;

    cursor_init(&c, p, len);
    rc = model_header_parse(&c, features_version, hash_bits, &mh, &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    m = model_alloc(&mh);
    if (m == NULL) {
        rc = CM_ENOMEM;
        reason = "out of memory";
        goto fail;
    }
    rc = model_payload(&c, &mh, &payload, &raw, &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    rc = parse_payload(m, payload, (size_t)mh.raw_len, &reason);
    if (rc != CM_OK) {
        goto fail;
    }
    free(raw);
    *out = m;
    return CM_OK;

fail:
    free(raw);
    model_free(m);
    if (why != NULL) {
        *why = reason;
    }
    return rc;
}

void
model_free(struct model *m)
{
    if (m == NULL) {
        return;
    }
    weights_free(m->w, m->w_bytes);
    free(m);
}

unsigned
model_hash_bits(const struct model *m)
{
    return m->hash_bits;
}

uint32_t
model_features_version(const struct model *m)
{
    return m->features_version;
}

size_t
model_nonzero(const struct model *m, enum model_head h)
{
    return m->nonzero[h];
}

double
model_bias(const struct model *m, enum model_head h)
{
    return m->bias[h];
}

double
model_weight(const struct model *m, enum model_head h, uint32_t id)
{
    if ((uint64_t)id >= ((uint64_t)1 << m->hash_bits)) {
        return 0.0;
    }
    return m->scale[h] * m->w[(size_t)id * MODEL_HEADS + h];
}

static double
norm_factor(size_t n)
{
    return n > 0 ? 1.0 / sqrt((double)n) : 1.0;
}

uint32_t
model_split(const struct model *m)
{
    return m->split;
}

void
model_norm_of(const struct model *m, const uint32_t *ids, size_t n,
              struct model_norm *out)
{
    size_t n_high = 0;

    for (size_t i = 0; i < n; i++) {
        n_high += ids[i] >= m->split;
    }
    out->split = m->split;
    out->factor[0] = norm_factor(n - n_high);
    out->factor[1] = norm_factor(n_high);
}

void
model_margins(const struct model *m, const uint32_t *ids, size_t n,
              double margins[MODEL_HEADS])
{
    /* Per block and head: integer sums, so the result does not depend on
     * the order of the ids.  A branch per id picks the block rather than
     * an index into a [block][head] array: the four sums then stay in
     * registers instead of being loaded and stored for every id (issue
     * #7: about 170 ids a message). */
    int64_t low[MODEL_HEADS] = {0};
    int64_t high[MODEL_HEADS] = {0};
    size_t n_high = 0;
    uint32_t split = m->split;

    for (size_t i = 0; i < n; i++) {
        const int16_t *w = m->w + (size_t)ids[i] * MODEL_HEADS;

        if (ids[i] >= split) {
            n_high++;
            for (unsigned h = 0; h < MODEL_HEADS; h++) {
                high[h] += w[h];
            }
        } else {
            for (unsigned h = 0; h < MODEL_HEADS; h++) {
                low[h] += w[h];
            }
        }
    }
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        margins[h] = m->bias[h] +
                     m->scale[h] * ((double)low[h] * norm_factor(n - n_high) +
                                    (double)high[h] * norm_factor(n_high));
    }
}

/* ---- calibration ---------------------------------------------------- */

enum cm_err
model_calibration_parse(const uint8_t *p, size_t len,
                        struct model_calibration *out, const char **why)
{
    struct cursor c;
    uint32_t format = 0;
    uint32_t n = 0;
    struct model_calibration cal;
    const char *reason = NULL;

    memset(&cal, 0, sizeof(cal));
    cursor_init(&c, p, len);
    if (cursor_u32le(&c, &format) != CM_OK ||
        cursor_u32le(&c, &n) != CM_OK) {
        reason = "calibration truncated";
        goto fail;
    }
    if (format != MODEL_CAL_FORMAT) {
        reason = "unknown calibration format";
        goto fail;
    }
    if (n < 2 || n > MODEL_CAL_KNOTS_MAX) {
        reason = "calibration knot count out of range";
        goto fail;
    }
    cal.n_knots = n;
    for (uint32_t i = 0; i < n; i++) {
        if (get_f32(&c, &cal.margin[i]) != CM_OK ||
            get_f32(&c, &cal.score[i]) != CM_OK) {
            reason = "calibration truncated";
            goto fail;
        }
        if (!(fabsf(cal.margin[i]) <= MODEL_ABS_MAX) ||
            !(cal.score[i] >= 0.0f) ||
            !(cal.score[i] <= 100.0f)) {
            reason = "calibration knot out of range";
            goto fail;
        }
        if (i > 0 && (!(cal.margin[i] > cal.margin[i - 1]) ||
                      cal.score[i] < cal.score[i - 1])) {
            reason = "calibration not monotone";
            goto fail;
        }
    }
    if (get_f32(&c, &cal.phish_margin) != CM_OK ||
        get_f32(&c, &cal.margin_96) != CM_OK) {
        reason = "calibration truncated";
        goto fail;
    }
    if (!(fabsf(cal.phish_margin) <= MODEL_ABS_MAX) ||
        !(fabsf(cal.margin_96) <= MODEL_ABS_MAX)) {
        reason = "calibration threshold out of range";
        goto fail;
    }
    if (cursor_left(&c) != 0) {
        reason = "bytes after the calibration";
        goto fail;
    }
    *out = cal;
    return CM_OK;

fail:
    if (why != NULL) {
        *why = reason;
    }
    return CM_EPARSE;
}

enum cm_err
model_calibration_format(const struct model_calibration *cal, struct buf *out)
{
    enum cm_err rc;

    rc = put_u32(out, MODEL_CAL_FORMAT);
    if (rc == CM_OK) {
        rc = put_u32(out, (uint32_t)cal->n_knots);
    }
    for (size_t i = 0; rc == CM_OK && i < cal->n_knots; i++) {
        rc = put_f32(out, cal->margin[i]);
        if (rc == CM_OK) {
            rc = put_f32(out, cal->score[i]);
        }
    }
    if (rc == CM_OK) {
        rc = put_f32(out, cal->phish_margin);
    }
    if (rc == CM_OK) {
        rc = put_f32(out, cal->margin_96);
    }
    return rc;
}

unsigned
model_calibration_score(const struct model_calibration *cal, double margin)
{
    size_t n = cal->n_knots;
    double s;

    if (n == 0) {
        return 50;
    }
    if (!(margin > cal->margin[0])) { /* also catches NaN */
        s = cal->score[0];
    } else if (margin >= cal->margin[n - 1]) {
        s = cal->score[n - 1];
    } else {
        size_t i = 1;

        while (i < n - 1 && margin >= cal->margin[i]) {
            i++;
        }
        s = cal->score[i - 1] + (cal->score[i] - cal->score[i - 1]) *
                                    (margin - cal->margin[i - 1]) /
                                    (cal->margin[i] - cal->margin[i - 1]);
    }
    /* A small epsilon so a margin exactly on a knot gets the knot's score
     * despite float rounding in the interpolation. */
    s = floor(s + 1e-6);
    if (s < 0.0) {
        return 0;
    }
    if (s > 100.0) {
        return 100;
    }
    return (unsigned)s;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Class-balanced logistic fit p = sigmoid(a * m + b) by Newton steps. */
static void
platt_fit(const double *margins, const bool *pos, size_t n, double *a_out,
          double *b_out)
{
    size_t n_pos = 0;
    double a = 1.0;
    double b = 0.0;

    for (size_t i = 0; i < n; i++) {
        n_pos += pos[i];
    }
    for (unsigned it = 0; it < 50; it++) {
        double gaa = 1e-9;
        double gab = 0.0;
        double gbb = 1e-9;
        double ga = 0.0;
        double gb = 0.0;
        double det;
        double da;
        double db;

        for (size_t i = 0; i < n; i++) {
            double w = pos[i] ? 0.5 / (double)n_pos
                              : 0.5 / (double)(n - n_pos);
            double z = a * margins[i] + b;
            double p = 1.0 / (1.0 + exp(-z));
            double r = (pos[i] ? 1.0 : 0.0) - p;
            double v = p * (1.0 - p) * w;

            ga += w * r * margins[i];
            gb += w * r;
            gaa += v * margins[i] * margins[i];
            gab += v * margins[i];
            gbb += v;
        }
        det = gaa * gbb - gab * gab;
        if (!(det > 1e-18)) {
            break;
        }
        da = (gbb * ga - gab * gb) / det;
        db = (gaa * gb - gab * ga) / det;
        a += da;
        b += db;
        if (fabs(da) < 1e-9 && fabs(db) < 1e-9) {
            break;
        }
    }
    if (!(a > 1e-3) || !isfinite(a) || !isfinite(b)) {
        a = 1.0;
        b = 0.0;
    }
    *a_out = a;
    *b_out = b;
}

/* Threshold on phish margins maximising TPR - FPR (Youden's J). */
static double
youden_threshold(const double *m, const bool *pos, size_t n)
{
    double *s;
    size_t n_pos = 0;
    size_t k = 0;
    double best = 0.0;
    double best_j = -2.0;
    size_t tp;
    size_t fp;

    for (size_t i = 0; i < n; i++) {
        n_pos += pos[i];
    }
    if (n_pos == 0 || n_pos == n) {
        return 0.0;
    }
    s = malloc(n * sizeof(*s) * 2);
    if (s == NULL) {
        return 0.0;
    }
    /* Pairs (margin, label) sorted by margin, descending scan. */
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = m[i];
        s[2 * i + 1] = pos[i] ? 1.0 : 0.0;
    }
    qsort(s, n, 2 * sizeof(double), cmp_double);
    tp = n_pos;
    fp = n - n_pos;
    /* Threshold just above index k-1: everything from k on is "phish". */
    for (k = 0; k < n; k++) {
        double j;

        if (k == 0 || s[2 * k] != s[2 * (k - 1)]) {
            j = (double)tp / (double)n_pos - (double)fp / (double)(n - n_pos);
            if (j > best_j) {
                best_j = j;
                /* Midway to the margin below: the gap is the safe side. */
                best = k > 0 ? (s[2 * k] + s[2 * (k - 1)]) / 2.0 : s[2 * k];
            }
        }
        if (s[2 * k + 1] > 0.5) {
            tp--;
        } else {
            fp--;
        }
    }
    free(s);
    return best;
}

/* The margin at which at most max_ham_fp of the ham (!is_junk) reaches:
 * just above the (k+1)-th highest ham margin; also the highest ham
 * margin.  CM_EINVAL without both ham and junk. */
static enum cm_err
ham_fp_margin(const double *margins, const bool *is_junk, size_t n,
              double max_ham_fp, double *m96, double *max_ham)
{
    double *ham;
    size_t n_ham = 0;
    size_t k;

    for (size_t i = 0; i < n; i++) {
        n_ham += !is_junk[i];
    }
    if (n_ham == 0 || n_ham == n) {
        return CM_EINVAL;
    }
    ham = malloc(n_ham * sizeof(*ham));
    if (ham == NULL) {
        return CM_ENOMEM;
    }
    n_ham = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_junk[i]) {
            ham[n_ham++] = margins[i];
        }
    }
    qsort(ham, n_ham, sizeof(*ham), cmp_double);
    *max_ham = ham[n_ham - 1];
    k = (size_t)floor(max_ham_fp * (double)n_ham);
    if (k >= n_ham) {
        k = n_ham - 1;
    }
    *m96 = ham[n_ham - 1 - k] + 1e-4;
    free(ham);
    return CM_OK;
}

/* Knots for scores 0 to 90 from the Platt fit p = 1 / (1 + e^-(a m + b)),
 * strictly increasing; their count, and the margin of 50 in *m50. */
static size_t
platt_knots(struct model_calibration *cal, double a, double b, double *m50)
{
    /* Scores 0..10 span odds 1:999 to 1:9, evenly in log-odds.  Most
     * mail is clearly legitimate, and a wider 0 (it used to take
     * everything below 1:99) tied that mass with the junk whose margin
     * was low but still above most ham: ranking information an
     * administrator's rules and an integer-score AUC both lose. */
    static const double probs[] = {0.001, 0.1, 0.2, 0.3, 0.4,
                                   0.5,   0.6, 0.7, 0.8, 0.9};
    static const float scores[] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90};
    size_t nk = 0;

    for (size_t i = 0; i < sizeof(probs) / sizeof(probs[0]); i++) {
        double mi = (log(probs[i] / (1.0 - probs[i])) - b) / a;

        if (nk > 0 && !(mi > cal->margin[nk - 1])) {
            mi = cal->margin[nk - 1] + 1e-3;
        }
        cal->margin[nk] = (float)mi;
        cal->score[nk] = scores[i];
        if (scores[i] == 50.0f) {
            *m50 = cal->margin[nk];
        }
        nk++;
    }
    return nk;
}

/* The phish head's threshold over the junk: Youden's point, never below
 * even odds (phishing is the rarer and graver verdict, so a tie goes to
 * spam). */
static enum cm_err
phish_threshold(const double *phish_margins, const bool *is_phish,
                const bool *is_junk, size_t n, float *out)
{
    double *pm = malloc((n > 0 ? n : 1) * sizeof(*pm));
    bool *pp = malloc((n > 0 ? n : 1) * sizeof(*pp));
    size_t nj = 0;

    if (pm == NULL || pp == NULL) {
        free(pm);
        free(pp);
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (is_junk[i]) {
            pm[nj] = phish_margins[i];
            pp[nj] = is_phish[i];
            nj++;
        }
    }
    *out = (float)youden_threshold(pm, pp, nj);
    if (*out < 0.0f) {
        *out = 0.0f;
    }
    free(pm);
    free(pp);
    return CM_OK;
}

enum cm_err
model_calibrate(const double *margins, const bool *is_junk,
                const double *phish_margins, const bool *is_phish, size_t n,
                double max_ham_fp, struct model_calibration *out)
{
    struct model_calibration cal;
    double a;
    double b;
    double m50 = 0.0;
    double m96;
    double p96;
    double m100;
    double max_ham;
    size_t nk;
    enum cm_err rc;

    rc = ham_fp_margin(margins, is_junk, n, max_ham_fp, &m96, &max_ham);
    if (rc != CM_OK) {
        return rc;
    }
    platt_fit(margins, is_junk, n, &a, &b);
    memset(&cal, 0, sizeof(cal));
    nk = platt_knots(&cal, a, b, &m50);
    /* 96: where the ham bound puts it, but never below the fit's 96. */
    p96 = (log(0.96 / 0.04) - b) / a;
    if (m96 < p96) {
        m96 = p96;
    }
    if (!(m96 > cal.margin[nk - 1])) {
        m96 = cal.margin[nk - 1] + 1e-3;
    }
    cal.margin[nk] = (float)m96;
    cal.score[nk] = 96;
    nk++;
    /* 100: as far above 96 as 96 is above 50, and beyond every ham. */
    m100 = m96 + (m96 - m50);
    if (m100 < max_ham + 1e-3) {
        m100 = max_ham + 1e-3;
    }
    if (!((float)m100 > cal.margin[nk - 1])) {
        m100 = cal.margin[nk - 1] + 1e-3;
    }
    cal.margin[nk] = (float)m100;
    cal.score[nk] = 100;
    nk++;
    cal.n_knots = nk;
    cal.margin_96 = (float)m96;
    cal.phish_margin = 0.0f;
    if (phish_margins != NULL && is_phish != NULL) {
        rc = phish_threshold(phish_margins, is_phish, is_junk, n,
                             &cal.phish_margin);
        if (rc != CM_OK) {
            return rc;
        }
    }
    *out = cal;
    return CM_OK;
}

void
model_calibration_raise_96(struct model_calibration *cal, double m96)
{
    size_t k96 = cal->n_knots;
    size_t k50 = cal->n_knots;
    double m100;

    for (size_t i = 0; i < cal->n_knots; i++) {
        if (cal->score[i] == 96.0f) {
            k96 = i;
        }
        if (cal->score[i] == 50.0f) {
            k50 = i;
        }
    }
    if (k96 >= cal->n_knots || k96 + 2 != cal->n_knots || k50 >= k96 ||
        !(m96 > cal->margin[k96])) {
        return;
    }
    cal->margin[k96] = (float)m96;
    cal->margin_96 = (float)m96;
    m100 = m96 + (m96 - cal->margin[k50]);
    if (m100 > cal->margin[k96 + 1]) {
        cal->margin[k96 + 1] = (float)m100;
    }
    if (!(cal->margin[k96 + 1] > cal->margin[k96])) {
        cal->margin[k96 + 1] = cal->margin[k96] + 1e-3f;
    }
}

struct weighted_margin {
    double margin;
    double weight;
};

static int
cmp_weighted_desc(const void *a, const void *b)
{
    const struct weighted_margin *x = a;
    const struct weighted_margin *y = b;

    return (x->margin < y->margin) - (x->margin > y->margin);
}

enum cm_err
model_margin_at_weighted_share(const double *margin, const double *weight,
                               size_t n, double share, double *out)
{
    struct weighted_margin *s;
    double total = 0.0;
    double acc = 0.0;
    size_t i;

    if (n == 0 || !(share >= 0.0)) {
        return CM_EINVAL;
    }
    s = malloc(n * sizeof(*s));
    if (s == NULL) {
        return CM_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        if (!(weight[i] > 0.0) || !isfinite(margin[i])) {
            free(s);
            return CM_EINVAL;
        }
        s[i].margin = margin[i];
        s[i].weight = weight[i];
        total += weight[i];
    }
    qsort(s, n, sizeof(*s), cmp_weighted_desc);
    for (i = 0; i < n - 1; i++) {
        acc += s[i].weight;
        /* A relative epsilon: weights like 1/3 must not fall past the
         * share by float rounding. */
        if (acc > share * total * (1.0 + 1e-9)) {
            break;
        }
    }
    *out = s[i].margin + 1e-4;
    free(s);
    return CM_OK;
}

/* ---- training ------------------------------------------------------- */

void
model_train_params_default(struct model_train_params *p, unsigned hash_bits)
{
    memset(p, 0, sizeof(*p));
    p->hash_bits = hash_bits;
    p->passes = 8;
    p->seed = 0x436d54726169ull; /* "CmTrai" */
    p->alpha = 1.0f;
    p->beta = 1.0f;
    p->l1 = 0.01f;
    /* Weight limits, from scripts/eval-crosssource.sh (mean AUC over the
     * left-out-source splits 0.977 -> 0.986, random split unchanged):
     * a body word may move the sum by at most 1, so a message is judged
     * by many words agreeing, not by a few words one corpus happens to
     * use (at 16, SpamAssassin's or trec07p's ham scored 0.95 AUC when
     * left out).  Dense facts (format, header and URL shape) get 2: they
     * are few per message and, weighed this way, carried over to unseen
     * sources better than words; dropping any family lowered the AUC.
     * The small L2 lets well-supported weights reach those limits. */
    p->l2 = 0.3f;
    p->clip = 1.0f;
    p->restricted_ids = 0;
    p->restricted_min = -0.5f;
    p->dense_ids_end = 0;
    p->dense_clip = 2.0f;
    p->ham_weight = 1.0f;
    p->phish_weight = 1.0f;
    p->norm_split = MODEL_SPLIT_NONE;
}

enum cm_err
model_weights_init(struct model_weights *mw, unsigned hash_bits)
{
    memset(mw, 0, sizeof(*mw));
    if (hash_bits < CAPS_MODEL_HASH_BITS_MIN ||
        hash_bits > CAPS_MODEL_HASH_BITS_MAX) {
        return CM_EINVAL;
    }
    mw->hash_bits = hash_bits;
    mw->split = MODEL_SPLIT_NONE;
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        mw->w[h] = calloc((size_t)1 << hash_bits, sizeof(float));
        if (mw->w[h] == NULL) {
            model_weights_clear(mw);
            return CM_ENOMEM;
        }
    }
    return CM_OK;
}

void
model_weights_clear(struct model_weights *mw)
{
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        free(mw->w[h]);
        mw->w[h] = NULL;
    }
}

void
model_weights_margins(const struct model_weights *mw, const uint32_t *ids,
                      size_t n, size_t n_norm, size_t n_norm_high,
                      double margins[MODEL_HEADS])
{
    double f[2] = {norm_factor(n_norm - n_norm_high),
                   norm_factor(n_norm_high)};

    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        double sum[2] = {0.0, 0.0};

        for (size_t i = 0; i < n; i++) {
            sum[ids[i] >= mw->split] += mw->w[h][ids[i]];
        }
        margins[h] = mw->bias[h] + sum[0] * f[0] + sum[1] * f[1];
    }
}

/* FTRL-Proximal state of one head: per id the accumulated adjusted
 * gradient z and the sum of squared gradients n; the weight is derived
 * from both (closed form), exactly zero while |z| <= l1. */
struct ftrl_head {
    float *z;
    float *n;
    double bias_z;
    double bias_n;
};

/* Which constraint applies to an id. */
enum ftrl_range {
    FTRL_OPEN,       /* [-clip, clip] */
    FTRL_RESTRICTED, /* [restricted_min, 0] */
    FTRL_DENSE,      /* [-dense_clip, dense_clip] */
    FTRL_NARROW,     /* [-narrow_clip, narrow_clip]: see narrow */
    FTRL_NARROW_COMMON /* [-common_clip, common_clip]: see narrow */
};

static enum ftrl_range
ftrl_range_of(uint32_t id, const struct model_train_params *p)
{
    if (id < p->restricted_ids) {
        return FTRL_RESTRICTED;
    }
    if (p->narrow != NULL && p->narrow[id] != 0) {
        return p->narrow[id] == MODEL_NARROW_COMMON ? FTRL_NARROW_COMMON
                                                     : FTRL_NARROW;
    }
    if (id < p->dense_ids_end) {
        return FTRL_DENSE;
    }
    return FTRL_OPEN;
}

static double
ftrl_weight(double z, double n, double l1, const struct model_train_params *p,
            enum ftrl_range range)
{
    double w;
    double lim = p->clip;

    if (fabs(z) <= l1) {
        return 0.0;
    }
    w = -(z - (z > 0 ? l1 : -l1)) /
        ((p->beta + sqrt(n)) / p->alpha + p->l2);
    switch (range) {
    case FTRL_RESTRICTED:
        w = w > 0.0 ? 0.0 : w;
        return w < p->restricted_min ? p->restricted_min : w;
    case FTRL_DENSE:
        lim = p->dense_clip;
        break;
    case FTRL_NARROW:
        lim = p->narrow_clip;
        break;
    case FTRL_NARROW_COMMON:
        lim = p->common_clip;
        break;
    case FTRL_OPEN:
        lim = p->clip;
        break;
    }
    w = w > lim ? lim : w;
    return w < -lim ? -lim : w;
}

/* One FTRL step of head fh on example (ids, n) with target y: an id's
 * feature value is x[id >= p->norm_split]; wtmp holds at least n
 * doubles. */
static void
ftrl_step(struct ftrl_head *fh, const uint32_t *ids, size_t n,
          const double x[2], bool y, double weight,
          const struct model_train_params *p, double *wtmp)
{
    double bias = ftrl_weight(fh->bias_z, fh->bias_n, 0.0, p, FTRL_OPEN);
    double sum[2] = {0.0, 0.0};
    double prob;
    double g;

    for (size_t i = 0; i < n; i++) {
        uint32_t id = ids[i];

        wtmp[i] = ftrl_weight(fh->z[id], fh->n[id], p->l1, p,
                              ftrl_range_of(id, p));
        sum[id >= p->norm_split] += wtmp[i];
    }
    prob = 1.0 / (1.0 + exp(-(bias + sum[0] * x[0] + sum[1] * x[1])));
    g = (prob - (y ? 1.0 : 0.0)) * weight;
    for (size_t i = 0; i < n; i++) {
        uint32_t id = ids[i];
        double gi = g * x[id >= p->norm_split];
        double ni = fh->n[id];
        double sigma = (sqrt(ni + gi * gi) - sqrt(ni)) / p->alpha;

        fh->z[id] = (float)(fh->z[id] + gi - sigma * wtmp[i]);
        fh->n[id] = (float)(ni + gi * gi);
    }
    {
        double sigma = (sqrt(fh->bias_n + g * g) - sqrt(fh->bias_n)) /
                       p->alpha;

        fh->bias_z += g - sigma * bias;
        fh->bias_n += g * g;
    }
}

/* Feature values of example e's two blocks: 1/sqrt of each block's size
 * as the scorer will see the message (n_norm, n_norm_high), or as the ids
 * are when the dataset does not say. */
static void
example_norm(const struct model_dataset *ds, size_t e, uint32_t split,
             double x[2])
{
    size_t n = ds->off[e + 1] - ds->off[e];
    size_t n_norm = ds->n_norm != NULL ? ds->n_norm[e] : n;
    size_t n_high = 0;

    if (ds->n_norm_high != NULL) {
        n_high = ds->n_norm_high[e];
    } else {
        for (size_t i = ds->off[e]; i < ds->off[e + 1]; i++) {
            n_high += ds->ids[i] >= split;
        }
    }
    if (n_high > n_norm) {
        n_high = n_norm;
    }
    x[0] = norm_factor(n_norm - n_high);
    x[1] = norm_factor(n_high);
}

/* The examples to train on, in a fresh array the passes shuffle, and the
 * longest one's id count (at least 1: wtmp's size).  CM_EINVAL for an
 * index past the dataset or an id past the table, before any training
 * state is allocated. */
static enum cm_err
train_order(const struct model_dataset *ds, const size_t *idx, size_t n_idx,
            size_t n_ids, size_t **order_out, size_t *max_n_out)
{
    size_t *order = malloc(n_idx * sizeof(*order));
    size_t max_n = 1;

    if (order == NULL) {
        return CM_ENOMEM;
    }
    for (size_t i = 0; i < n_idx; i++) {
        size_t e = idx != NULL ? idx[i] : i;
        size_t n;

        if (e >= ds->n) {
            free(order);
            return CM_EINVAL;
        }
        order[i] = e;
        n = ds->off[e + 1] - ds->off[e];
        max_n = n > max_n ? n : max_n;
        for (size_t j = 0; j < n; j++) {
            if (ds->ids[ds->off[e] + j] >= n_ids) {
                free(order);
                return CM_EINVAL;
            }
        }
    }
    *order_out = order;
    *max_n_out = max_n;
    return CM_OK;
}

/* Zeroed FTRL state (z and n per id) for every head; what was allocated
 * stays in fh for ftrl_heads_free when this fails. */
static enum cm_err
ftrl_heads_alloc(struct ftrl_head fh[MODEL_HEADS], size_t n_ids)
{
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        fh[h].z = calloc(n_ids, sizeof(float));
        fh[h].n = calloc(n_ids, sizeof(float));
        if (fh[h].z == NULL || fh[h].n == NULL) {
            return CM_ENOMEM;
        }
    }
    return CM_OK;
}

static void
ftrl_heads_free(struct ftrl_head fh[MODEL_HEADS])
{
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        free(fh[h].z);
        free(fh[h].n);
    }
}

/* Fisher-Yates over order from the end, one rng draw per position: the
 * shuffle, and so the trained weights, depend only on the seed. */
static void
shuffle_order(size_t *order, size_t n, struct hashing_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)hashing_rng_below(rng, i);
        size_t t = order[i - 1];

        order[i - 1] = order[j];
        order[j] = t;
    }
}

/* One example's steps: every example trains the junk head (ham weighed
 * by ham_weight); only junk trains the phish head, which tells phish from
 * the rest of the junk (phish weighed by phish_weight). */
static void
train_example(struct ftrl_head fh[MODEL_HEADS],
              const struct model_dataset *ds, size_t e,
              const struct model_train_params *p, double *wtmp)
{
    const uint32_t *ids = ds->ids + ds->off[e];
    size_t n = ds->off[e + 1] - ds->off[e];
    double ew = ds->weight != NULL ? ds->weight[e] : 1.0;
    uint8_t label = ds->label[e];
    bool junk = label != MODEL_LABEL_HAM;
    bool phish = label == MODEL_LABEL_PHISH;
    double x[2];

    example_norm(ds, e, p->norm_split, x);
    ftrl_step(&fh[MODEL_HEAD_JUNK], ids, n, x, junk,
              junk ? ew : ew * p->ham_weight, p, wtmp);
    if (junk) {
        ftrl_step(&fh[MODEL_HEAD_PHISH], ids, n, x, phish,
                  phish ? ew * p->phish_weight : ew, p, wtmp);
    }
}

/* p->passes shuffled passes over the examples in order (which they
 * leave shuffled), from the seed's first draw on. */
static void
train_passes(struct ftrl_head fh[MODEL_HEADS], const struct model_dataset *ds,
             size_t *order, size_t n_order,
             const struct model_train_params *p, double *wtmp)
{
    struct hashing_rng rng;

    hashing_rng_init(&rng, p->seed);
    for (unsigned pass = 0; pass < p->passes; pass++) {
        shuffle_order(order, n_order, &rng);
        for (size_t i = 0; i < n_order; i++) {
            train_example(fh, ds, order[i], p, wtmp);
        }
    }
}

/* The weights FTRL's state stands for, clipped as during training. */
static void
store_weights(struct model_weights *mw, const struct ftrl_head fh[MODEL_HEADS],
              size_t n_ids, const struct model_train_params *p)
{
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        for (size_t id = 0; id < n_ids; id++) {
            mw->w[h][id] = (float)ftrl_weight(fh[h].z[id], fh[h].n[id],
                                              p->l1, p,
                                              ftrl_range_of((uint32_t)id, p));
        }
        mw->bias[h] = (float)ftrl_weight(fh[h].bias_z, fh[h].bias_n, 0.0, p,
                                         FTRL_OPEN);
    }
}

enum cm_err
model_train(struct model_weights *mw, const struct model_dataset *ds,
            const size_t *idx, size_t n_idx,
            const struct model_train_params *p)
{
    size_t *order = NULL;
    double *wtmp = NULL;
    size_t max_n = 1;
    size_t n_ids = (size_t)1 << mw->hash_bits;
    struct ftrl_head fh[MODEL_HEADS];
    enum cm_err rc;

    memset(fh, 0, sizeof(fh));
    if (p->hash_bits != mw->hash_bits || p->passes == 0 ||
        !(p->alpha > 0.0f) ||
        (p->norm_split != MODEL_SPLIT_NONE &&
         (p->norm_split == 0 || p->norm_split >= n_ids))) {
        return CM_EINVAL;
    }
    mw->split = p->norm_split;
    if (idx == NULL) {
        n_idx = ds->n;
    }
    if (n_idx == 0) {
        /* From scratch on nothing: every weight 0, as training gives an
         * id it never saw. */
        for (unsigned h = 0; h < MODEL_HEADS; h++) {
            memset(mw->w[h], 0, n_ids * sizeof(*mw->w[h]));
            mw->bias[h] = 0.0f;
        }
        return CM_OK;
    }
    rc = train_order(ds, idx, n_idx, n_ids, &order, &max_n);
    if (rc != CM_OK) {
        return rc;
    }
    wtmp = malloc(max_n * sizeof(*wtmp));
    if (wtmp == NULL) {
        rc = CM_ENOMEM;
    } else {
        rc = ftrl_heads_alloc(fh, n_ids);
    }
    if (rc == CM_OK) {
        train_passes(fh, ds, order, n_idx, p, wtmp);
        store_weights(mw, fh, n_ids, p);
    }
    ftrl_heads_free(fh);
    free(wtmp);
    free(order);
    return rc;
}

/* The quantisation step of one head's weights: the largest magnitude
 * maps to MODEL_Q_MAX, so the int16 range is used in full (1 when every
 * weight is zero).  The quotient is taken in float, as it always was:
 * the cartridge's bytes depend on it. */
static double
head_scale(const float *w, size_t n_ids)
{
    float max_abs = 0.0f;

    for (size_t id = 0; id < n_ids; id++) {
        float a = fabsf(w[id]);

        max_abs = a > max_abs ? a : max_abs;
    }
    return max_abs > 0.0f ? max_abs / MODEL_Q_MAX : 1.0;
}

/* How many of one head's weights survive quantisation (round to non-zero):
 * only those are written. */
static uint32_t
head_count(const float *w, size_t n_ids, double scale)
{
    uint32_t n = 0;

    for (size_t id = 0; id < n_ids; id++) {
        n += lround(w[id] / scale) != 0;
    }
    return n;
}

/* The surviving ids in increasing order, each as its distance from the
 * previous one (the first as itself): mostly one- or two-byte varints. */
static enum cm_err
put_head_ids(struct buf *raw, const float *w, size_t n_ids, double scale)
{
    enum cm_err rc = CM_OK;
    uint32_t prev = 0;
    bool first = true;

    for (size_t id = 0; id < n_ids && rc == CM_OK; id++) {
        if (lround(w[id] / scale) != 0) {
            rc = put_varint(raw, first ? (uint32_t)id
                                       : (uint32_t)id - prev);
            prev = (uint32_t)id;
            first = false;
        }
    }
    return rc;
}

/* The surviving weights in the same order, int16 little-endian, kept
 * within +-MODEL_Q_MAX (INT16_MIN is refused at load). */
static enum cm_err
put_head_weights(struct buf *raw, const float *w, size_t n_ids, double scale)
{
    enum cm_err rc = CM_OK;

    for (size_t id = 0; id < n_ids && rc == CM_OK; id++) {
        long q = lround(w[id] / scale);

        if (q != 0) {
            uint16_t u;
            int16_t s16 = (int16_t)(q > MODEL_Q_MAX    ? MODEL_Q_MAX
                                    : q < -MODEL_Q_MAX ? -MODEL_Q_MAX
                                                       : q);
            uint8_t x[2];

            memcpy(&u, &s16, sizeof(u));
            x[0] = (uint8_t)u;
            x[1] = (uint8_t)(u >> 8);
            rc = buf_append(raw, x, sizeof(x));
        }
    }
    return rc;
}

/* One head of the payload: bias, scale, count, ids, weights. */
static enum cm_err
put_head(struct buf *raw, const float *w, float bias, size_t n_ids)
{
    double scale = head_scale(w, n_ids);
    uint32_t n = head_count(w, n_ids, scale);
    enum cm_err rc;

    rc = put_f32(raw, bias);
    if (rc == CM_OK) {
        rc = put_f32(raw, (float)scale);
    }
    if (rc == CM_OK) {
        rc = put_u32(raw, n);
    }
    if (rc == CM_OK) {
        rc = put_head_ids(raw, w, n_ids, scale);
    }
    if (rc == CM_OK) {
        rc = put_head_weights(raw, w, n_ids, scale);
    }
    return rc;
}

/* The section header in front of the compressed payload (see the top of
 * this file); format 2 only when the weights were trained with a split. */
static enum cm_err
put_model_header(struct buf *out, const struct model_weights *mw,
                 uint32_t features_version, size_t raw_len)
{
    enum cm_err rc;

    rc = put_u32(out, mw->split == MODEL_SPLIT_NONE ? MODEL_FORMAT_ONE_BLOCK
                                                    : MODEL_FORMAT_SPLIT);
    if (rc == CM_OK) {
        rc = put_u32(out, features_version);
    }
    if (rc == CM_OK) {
        rc = put_u32(out, mw->hash_bits);
    }
    if (rc == CM_OK) {
        rc = put_u32(out, MODEL_HEADS);
    }
    if (rc == CM_OK) {
        rc = put_u32(out, MODEL_ENC_ZLIB);
    }
    if (rc == CM_OK) {
        rc = put_u64(out, raw_len);
    }
    if (rc == CM_OK && mw->split != MODEL_SPLIT_NONE) {
        rc = put_u32(out, mw->split);
    }
    return rc;
}

enum cm_err
model_format(const struct model_weights *mw, uint32_t features_version,
             struct buf *out)
{
    struct buf raw;
    size_t n_ids = (size_t)1 << mw->hash_bits;
    enum cm_err rc = CM_OK;
    uLongf zlen;
    uint8_t *z = NULL;

    buf_init(&raw, CAPS_MODEL_RAW_MAX_BYTES);
    for (unsigned h = 0; h < MODEL_HEADS && rc == CM_OK; h++) {
        rc = put_head(&raw, mw->w[h], mw->bias[h], n_ids);
    }
    if (rc != CM_OK) {
        goto out;
    }
    zlen = compressBound((uLong)raw.len);
    z = malloc(zlen);
    if (z == NULL) {
        rc = CM_ENOMEM;
        goto out;
    }
    if (compress2(z, &zlen, raw.data, (uLong)raw.len, 9) != Z_OK) {
        rc = CM_ENOMEM;
        goto out;
    }
    rc = put_model_header(out, mw, features_version, raw.len);
    if (rc == CM_OK) {
        rc = buf_append(out, z, zlen);
    }

out:
    free(z);
    buf_clear(&raw);
    return rc;
}
