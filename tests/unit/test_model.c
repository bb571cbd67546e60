/*
 * test_model.c -- unit tests for model: training separates a synthetic
 * set and is deterministic, constraints hold, the MODEL and CALIBRATION
 * bodies round-trip and every corruption is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "hashing.h"
#include "model.h"

#define BITS 12u
#define N_EX 600u
#define PER_EX 24u
#define FVER 77u

struct synth {
    uint32_t ids[N_EX * PER_EX];
    size_t off[N_EX + 1];
    uint8_t label[N_EX];
    struct model_dataset ds;
};

/* Ham carries ids 100..109, spam 200..209, phish 200..204 and 300..309,
 * everyone random noise ids from 1000 up; id 5 (restricted) only in spam. */
static void
synth_build(struct synth *s)
{
    struct hashing_rng r;
    size_t k = 0;

    hashing_rng_init(&r, 99);
    for (size_t i = 0; i < N_EX; i++) {
        uint8_t lab = (uint8_t)(i % 3);

        s->off[i] = k;
        s->label[i] = lab;
        for (size_t j = 0; j < PER_EX; j++) {
            uint32_t id;

            if (j < 4) {
                uint32_t base = lab == MODEL_LABEL_HAM    ? 100
                                : lab == MODEL_LABEL_SPAM ? 200
                                : j < 2                   ? 200
                                                          : 300;
                id = base + (uint32_t)hashing_rng_below(&r, 10);
            } else if (j == 4 && lab == MODEL_LABEL_SPAM) {
                id = 5;
            } else {
                id = 1000 + (uint32_t)hashing_rng_below(&r, 3000);
            }
            s->ids[k++] = id;
        }
    }
    s->off[N_EX] = k;
    memset(&s->ds, 0, sizeof(s->ds));
    s->ds.ids = s->ids;
    s->ds.off = s->off;
    s->ds.label = s->label;
    s->ds.n = N_EX;
}

static void
train_synth(struct synth *s, struct model_weights *mw)
{
    struct model_train_params p;

    model_train_params_default(&p, BITS);
    p.restricted_ids = 16;
    p.restricted_min = -0.25f;
    p.clip = 2.0f;
    assert_int_equal(model_weights_init(mw, BITS), CM_OK);
    assert_int_equal(model_train(mw, &s->ds, NULL, 0, &p), CM_OK);
}

static void
test_model_training_separates(void **state)
{
    struct synth *s = malloc(sizeof(*s));
    struct model_weights mw;
    size_t right_junk = 0;
    size_t right_phish = 0;
    size_t n_junk = 0;

    (void)state;
    synth_build(s);
    train_synth(s, &mw);
    for (size_t i = 0; i < N_EX; i++) {
        double m[MODEL_HEADS];
        bool junk = s->label[i] != MODEL_LABEL_HAM;

        model_weights_margins(&mw, s->ids + s->off[i], PER_EX, PER_EX, 0, m);
        right_junk += (m[MODEL_HEAD_JUNK] > 0) == junk;
        if (junk) {
            n_junk++;
            right_phish += (m[MODEL_HEAD_PHISH] > 0) ==
                           (s->label[i] == MODEL_LABEL_PHISH);
        }
    }
    assert_true(right_junk >= N_EX * 98 / 100);
    assert_true(right_phish >= n_junk * 95 / 100);
    /* Constraints: clip everywhere, restricted ids never positive. */
    for (size_t id = 0; id < ((size_t)1 << BITS); id++) {
        for (unsigned h = 0; h < MODEL_HEADS; h++) {
            assert_true(mw.w[h][id] <= 2.0f && mw.w[h][id] >= -2.0f);
            if (id < 16) {
                assert_true(mw.w[h][id] <= 0.0f);
                assert_true(mw.w[h][id] >= -0.25f);
            }
        }
    }
    assert_true(mw.w[MODEL_HEAD_JUNK][200] > 0.0f);
    assert_true(mw.w[MODEL_HEAD_JUNK][100] < 0.0f);
    model_weights_clear(&mw);
    free(s);
}

/* Ids marked narrow stay within narrow_clip, those marked
 * MODEL_NARROW_COMMON within common_clip; the rest keep their limits (the
 * strongly junk ids 200-209 reach past both when not narrow). */
static void
test_model_training_narrow_clip(void **state)
{
    struct synth *s = malloc(sizeof(*s));
    uint8_t *narrow = calloc((size_t)1 << BITS, 1);
    struct model_train_params p;
    struct model_weights mw;
    float widest = 0.0f;
    float widest_common = 0.0f;

    (void)state;
    assert_non_null(s);
    assert_non_null(narrow);
    synth_build(s);
    for (uint32_t id = 200; id < 203; id++) {
        narrow[id] = 1;
    }
    for (uint32_t id = 203; id < 205; id++) {
        narrow[id] = MODEL_NARROW_COMMON;
    }
    model_train_params_default(&p, BITS);
    p.clip = 2.0f;
    p.narrow = narrow;
    p.narrow_clip = 0.125f;
    p.common_clip = 0.03125f;
    assert_int_equal(model_weights_init(&mw, BITS), CM_OK);
    assert_int_equal(model_train(&mw, &s->ds, NULL, 0, &p), CM_OK);
    for (uint32_t id = 200; id < 210; id++) {
        for (unsigned h = 0; h < MODEL_HEADS; h++) {
            float w = mw.w[h][id];

            if (id < 203) {
                assert_true(w <= 0.125f && w >= -0.125f);
            } else if (id < 205) {
                assert_true(w <= 0.03125f && w >= -0.03125f);
                widest_common = w > widest_common ? w : widest_common;
            } else if (w > widest) {
                widest = w;
            }
        }
    }
    assert_true(widest > 0.125f);
    /* The common ids are junk evidence held at their limit, not zero. */
    assert_true(widest_common > 0.03f);
    model_weights_clear(&mw);
    free(narrow);
    free(s);
}

static void
test_model_training_deterministic(void **state)
{
    struct synth *s = malloc(sizeof(*s));
    struct model_weights a;
    struct model_weights b;
    struct buf fa;
    struct buf fb;

    (void)state;
    synth_build(s);
    train_synth(s, &a);
    train_synth(s, &b);
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        assert_memory_equal(a.w[h], b.w[h], sizeof(float) << BITS);
        assert_true(a.bias[h] == b.bias[h]);
    }
    buf_init(&fa, 1u << 24);
    buf_init(&fb, 1u << 24);
    assert_int_equal(model_format(&a, FVER, &fa), CM_OK);
    assert_int_equal(model_format(&b, FVER, &fb), CM_OK);
    assert_int_equal(fa.len, fb.len);
    assert_memory_equal(fa.data, fb.data, fa.len);
    buf_clear(&fa);
    buf_clear(&fb);
    model_weights_clear(&a);
    model_weights_clear(&b);
    free(s);
}

static void
test_model_train_rejects_bad_input(void **state)
{
    struct synth *s = malloc(sizeof(*s));
    struct model_weights mw;
    struct model_train_params p;
    size_t bad_idx = N_EX;

    (void)state;
    synth_build(s);
    assert_int_equal(model_weights_init(&mw, 9), CM_EINVAL);
    assert_int_equal(model_weights_init(&mw, 25), CM_EINVAL);
    assert_int_equal(model_weights_init(&mw, BITS), CM_OK);
    model_train_params_default(&p, BITS + 1);
    assert_int_equal(model_train(&mw, &s->ds, NULL, 0, &p), CM_EINVAL);
    model_train_params_default(&p, BITS);
    assert_int_equal(model_train(&mw, &s->ds, &bad_idx, 1, &p), CM_EINVAL);
    s->ids[3] = 1u << BITS; /* id out of range */
    assert_int_equal(model_train(&mw, &s->ds, NULL, 0, &p), CM_EINVAL);
    model_weights_clear(&mw);
    free(s);
}

/* Training from scratch on no examples leaves every weight 0, whatever
 * the weights held before (model.h: they are overwritten). */
static void
test_model_train_on_nothing_zeroes(void **state)
{
    struct synth *s = malloc(sizeof(*s));
    struct model_weights mw;
    struct model_train_params p;
    size_t none = 0;
    size_t n_nonzero = 0;

    (void)state;
    synth_build(s);
    train_synth(s, &mw);
    model_train_params_default(&p, BITS);
    assert_int_equal(model_train(&mw, &s->ds, &none, 0, &p), CM_OK);
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        for (size_t id = 0; id < ((size_t)1 << BITS); id++) {
            n_nonzero += mw.w[h][id] != 0.0f;
        }
        assert_true(mw.bias[h] == 0.0f);
    }
    assert_int_equal(n_nonzero, 0);
    model_weights_clear(&mw);
    free(s);
}

static void
test_model_format_parse_round_trip(void **state)
{
    struct synth *s = malloc(sizeof(*s));
    struct model_weights mw;
    struct buf f;
    struct model *m = NULL;
    const char *why = NULL;

    (void)state;
    synth_build(s);
    train_synth(s, &mw);
    buf_init(&f, 1u << 24);
    assert_int_equal(model_format(&mw, FVER, &f), CM_OK);
    assert_int_equal(model_parse(f.data, f.len, FVER, BITS, &m, &why), CM_OK);
    assert_int_equal(model_hash_bits(m), BITS);
    assert_int_equal(model_features_version(m), FVER);
    assert_true(model_nonzero(m, MODEL_HEAD_JUNK) > 100);
    for (size_t i = 0; i < N_EX; i++) {
        double a[MODEL_HEADS];
        double b[MODEL_HEADS];

        model_weights_margins(&mw, s->ids + s->off[i], PER_EX, PER_EX, 0, a);
        model_margins(m, s->ids + s->off[i], PER_EX, b);
        for (unsigned h = 0; h < MODEL_HEADS; h++) {
            assert_true(fabs(a[h] - b[h]) < 0.01);
        }
    }
    assert_true(fabs(model_weight(m, MODEL_HEAD_JUNK, 200) -
                     mw.w[MODEL_HEAD_JUNK][200]) < 0.001);
    assert_true(model_weight(m, MODEL_HEAD_JUNK, 1u << BITS) == 0.0);
    model_free(m);
    m = NULL;
    /* The wrong feature set or hash size is refused. */
    assert_int_equal(model_parse(f.data, f.len, FVER + 1, BITS, &m, &why),
                     CM_EVERSION);
    assert_non_null(why);
    assert_int_equal(model_parse(f.data, f.len, FVER, BITS + 1, &m, &why),
                     CM_EVERSION);
    assert_null(m);
    model_free(NULL);
    buf_clear(&f);
    model_weights_clear(&mw);
    free(s);
}

static void
put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* With a block split (MODEL format 2) each block is normalised by its own
 * size: the split survives the round trip, the loaded model scores as the
 * float weights do, and a lone high-block id weighs as much as a whole
 * low block of the same weights would. */
static void
test_model_split_blocks_round_trip(void **state)
{
    struct synth *s = malloc(sizeof(*s));
    struct model_weights mw;
    struct model_train_params p;
    struct model_norm norm;
    struct buf f;
    struct model *m = NULL;
    const uint32_t split = 1000;
    const uint32_t pair[2] = {5, 1500};

    (void)state;
    synth_build(s);
    model_train_params_default(&p, BITS);
    p.norm_split = split;
    assert_int_equal(model_weights_init(&mw, BITS), CM_OK);
    assert_int_equal(model_train(&mw, &s->ds, NULL, 0, &p), CM_OK);
    assert_int_equal(mw.split, split);
    buf_init(&f, 1u << 24);
    assert_int_equal(model_format(&mw, FVER, &f), CM_OK);
    assert_int_equal(f.data[0], 2); /* format 2: split recorded */
    assert_int_equal(model_parse(f.data, f.len, FVER, BITS, &m, NULL), CM_OK);
    assert_int_equal(model_split(m), split);
    for (size_t i = 0; i < N_EX; i++) {
        const uint32_t *ids = s->ids + s->off[i];
        size_t high = 0;
        double a[MODEL_HEADS];
        double b[MODEL_HEADS];

        for (size_t j = 0; j < PER_EX; j++) {
            high += ids[j] >= split;
        }
        model_weights_margins(&mw, ids, PER_EX, PER_EX, high, a);
        model_margins(m, ids, PER_EX, b);
        for (unsigned h = 0; h < MODEL_HEADS; h++) {
            assert_true(fabs(a[h] - b[h]) < 0.01);
        }
    }
    /* One id in each block: both factors are 1. */
    model_norm_of(m, pair, 2, &norm);
    assert_true(model_norm_factor(&norm, 5) == 1.0);
    assert_true(model_norm_factor(&norm, 1500) == 1.0);
    {
        double b[MODEL_HEADS];

        model_margins(m, pair, 2, b);
        assert_true(fabs(b[MODEL_HEAD_JUNK] -
                         (model_bias(m, MODEL_HEAD_JUNK) +
                          model_weight(m, MODEL_HEAD_JUNK, 5) +
                          model_weight(m, MODEL_HEAD_JUNK, 1500))) < 1e-9);
    }
    model_free(m);
    /* A split of 0 or past the ids, or cut off, is refused. */
    {
        uint8_t *copy = malloc(f.len);
        const size_t at = 28; /* after format .. raw_len */

        memcpy(copy, f.data, f.len);
        memset(copy + at, 0, 4);
        m = NULL;
        assert_int_equal(model_parse(copy, f.len, FVER, BITS, &m, NULL),
                         CM_EPARSE);
        put32(copy + at, 1u << BITS);
        assert_int_equal(model_parse(copy, f.len, FVER, BITS, &m, NULL),
                         CM_EPARSE);
        assert_int_not_equal(model_parse(f.data, at + 2, FVER, BITS, &m, NULL),
                             CM_OK);
        assert_null(m);
        free(copy);
    }
    /* A format 1 model (no split) keeps one block. */
    buf_clear(&f);
    model_weights_clear(&mw);
    train_synth(s, &mw);
    buf_init(&f, 1u << 24);
    assert_int_equal(model_format(&mw, FVER, &f), CM_OK);
    assert_int_equal(f.data[0], 1);
    assert_int_equal(model_parse(f.data, f.len, FVER, BITS, &m, NULL), CM_OK);
    assert_int_equal(model_split(m), MODEL_SPLIT_NONE);
    model_norm_of(m, pair, 2, &norm);
    assert_true(fabs(model_norm_factor(&norm, 1500) - 1.0 / sqrt(2.0)) < 1e-12);
    model_free(m);
    /* A split outside the ids cannot be trained. */
    p.norm_split = 0;
    assert_int_equal(model_train(&mw, &s->ds, NULL, 0, &p), CM_EINVAL);
    p.norm_split = 1u << BITS;
    assert_int_equal(model_train(&mw, &s->ds, NULL, 0, &p), CM_EINVAL);
    buf_clear(&f);
    model_weights_clear(&mw);
    free(s);
}

static void
test_model_parse_refuses_corruption(void **state)
{
    struct model_weights mw;
    struct buf f;
    struct model *m = NULL;
    uint8_t *copy;

    (void)state;
    assert_int_equal(model_weights_init(&mw, 10), CM_OK);
    mw.w[0][3] = 1.0f;
    mw.w[0][700] = -0.5f;
    mw.w[1][9] = 0.25f;
    buf_init(&f, 1u << 20);
    assert_int_equal(model_format(&mw, FVER, &f), CM_OK);
    assert_int_equal(model_parse(f.data, f.len, FVER, 10, &m, NULL), CM_OK);
    assert_true(fabs(model_weight(m, MODEL_HEAD_JUNK, 700) + 0.5) < 1e-3);
    model_free(m);
    /* Every truncation is refused. */
    for (size_t len = 0; len < f.len; len++) {
        m = NULL;
        assert_int_not_equal(model_parse(f.data, len, FVER, 10, &m, NULL),
                             CM_OK);
        assert_null(m);
    }
    /* Every single flipped byte is refused or still loads (a flipped
     * weight byte inside a valid zlib stream cannot be told apart), but
     * never crashes; the header fields are always checked. */
    copy = malloc(f.len);
    for (size_t i = 0; i < f.len; i++) {
        memcpy(copy, f.data, f.len);
        copy[i] ^= 0x5a;
        m = NULL;
        if (model_parse(copy, f.len, FVER, 10, &m, NULL) == CM_OK) {
            assert_true(i >= 28);
            model_free(m);
        }
    }
    /* A declared raw length larger than the cap is refused before any
     * allocation. */
    memcpy(copy, f.data, f.len);
    copy[20 + 3] = 0x7f;
    assert_int_equal(model_parse(copy, f.len, FVER, 10, &m, NULL), CM_ELIMIT);
    free(copy);
    buf_clear(&f);
    model_weights_clear(&mw);
}

static void
put_f(uint8_t *p, float f)
{
    uint32_t u;

    memcpy(&u, &f, 4);
    put32(p, u);
}

static void
test_model_parse_raw_payload_rules(void **state)
{
    /* Hand-built raw (unencoded) body: format, fver, bits 10, heads 2,
     * encoding 0, raw_len, then two heads. */
    uint8_t b[128];
    size_t n = 0;
    size_t raw_start;
    struct model *m = NULL;
    const char *why = NULL;

    (void)state;
    memset(b, 0, sizeof(b));
    put32(b + 0, 1);
    put32(b + 4, FVER);
    put32(b + 8, 10);
    put32(b + 12, 2);
    put32(b + 16, 0);
    n = 28;
    raw_start = n;
    /* head 0: bias 0.5, scale 0.01, 2 weights at ids 5 and 7 */
    put_f(b + n, 0.5f);
    put_f(b + n + 4, 0.01f);
    put32(b + n + 8, 2);
    n += 12;
    b[n++] = 5;
    b[n++] = 2;
    b[n++] = 100;
    b[n++] = 0;
    b[n++] = 0x9c; /* -100 */
    b[n++] = 0xff;
    /* head 1: no weights */
    put_f(b + n, 0.0f);
    put_f(b + n + 4, 1.0f);
    put32(b + n + 8, 0);
    n += 12;
    put32(b + 20, (uint32_t)(n - raw_start));
    assert_int_equal(model_parse(b, n, FVER, 10, &m, &why), CM_OK);
    assert_true(fabs(model_weight(m, MODEL_HEAD_JUNK, 5) - 1.0) < 1e-6);
    assert_true(fabs(model_weight(m, MODEL_HEAD_JUNK, 7) + 1.0) < 1e-6);
    {
        uint32_t ids[2] = {5, 5};
        double mg[MODEL_HEADS];

        model_margins(m, ids, 2, mg);
        assert_true(fabs(mg[0] - (0.5 + 2.0 / sqrt(2.0))) < 1e-6);
    }
    model_free(m);
    /* A repeated id (delta 0) is refused. */
    b[raw_start + 13] = 0;
    assert_int_equal(model_parse(b, n, FVER, 10, &m, &why), CM_EPARSE);
    b[raw_start + 13] = 2;
    /* An id past 2^bits is refused. */
    b[raw_start + 12] = 0xff;
    b[raw_start + 13] = 0x7f;
    assert_int_equal(model_parse(b, n, FVER, 10, &m, &why), CM_EPARSE);
    b[raw_start + 12] = 5;
    b[raw_start + 13] = 2;
    /* A zero weight is refused. */
    b[raw_start + 14] = 0;
    assert_int_equal(model_parse(b, n, FVER, 10, &m, &why), CM_EPARSE);
    b[raw_start + 14] = 100;
    /* A NaN bias is refused. */
    put_f(b + raw_start, NAN);
    assert_int_equal(model_parse(b, n, FVER, 10, &m, &why), CM_EPARSE);
    put_f(b + raw_start, 0.5f);
    /* Trailing bytes are refused. */
    put32(b + 20, (uint32_t)(n + 1 - raw_start));
    assert_int_equal(model_parse(b, n + 1, FVER, 10, &m, &why), CM_EPARSE);
    put32(b + 20, (uint32_t)(n - raw_start));
    /* Unknown format and encoding are refused. */
    put32(b + 0, 3);
    assert_int_equal(model_parse(b, n, FVER, 10, &m, &why), CM_EVERSION);
    put32(b + 0, 1);
    put32(b + 16, 9);
    assert_int_equal(model_parse(b, n, FVER, 10, &m, &why), CM_EVERSION);
    put32(b + 16, 0);
    assert_int_equal(model_parse(b, n, FVER, 10, &m, &why), CM_OK);
    model_free(m);
}

/* A raw model body of bits 22 whose head 0 holds the n_ids ids coded by
 * the varint bytes v (nv of them), each with weight 100; head 1 empty. */
static size_t
raw_varint_model(uint8_t *b, const uint8_t *v, size_t nv, uint32_t n_ids)
{
    size_t n = 28;

    memset(b, 0, 28);
    put32(b + 0, 1);
    put32(b + 4, FVER);
    put32(b + 8, 22);
    put32(b + 12, 2);
    put32(b + 16, 0);
    put_f(b + n, 0.0f);
    put_f(b + n + 4, 1.0f);
    put32(b + n + 8, n_ids);
    n += 12;
    memcpy(b + n, v, nv);
    n += nv;
    for (uint32_t i = 0; i < n_ids; i++) {
        b[n++] = 100;
        b[n++] = 0;
    }
    put_f(b + n, 0.0f);
    put_f(b + n + 4, 1.0f);
    put32(b + n + 8, 0);
    n += 12;
    put32(b + 20, (uint32_t)(n - 28));
    return n;
}

static void
test_model_parse_varint_lengths(void **state)
{
    /* Deltas of one to four bytes (1, +200, +20000, +3000000), then a
     * padded five-byte 1: ids 1, 201, 20201, 3020201, 3020202. */
    static const uint8_t ok[] = {
        0x01, 0xc8, 0x01, 0xa0, 0x9c, 0x01, 0xc0, 0x8d, 0xb7, 0x01,
        0x81, 0x80, 0x80, 0x80, 0x00,
    };
    /* Six bytes: too long; 2^35 - 1 in five: out of range. */
    static const uint8_t too_long[] = {0x81, 0x80, 0x80, 0x80, 0x80, 0x00};
    static const uint8_t too_big[] = {0xff, 0xff, 0xff, 0xff, 0x7f};
    static const uint32_t ids[] = {1, 201, 20201, 3020201, 3020202};
    uint8_t b[128];
    size_t n;
    struct model *m = NULL;
    const char *why = NULL;

    (void)state;
    n = raw_varint_model(b, ok, sizeof(ok), 5);
    assert_int_equal(model_parse(b, n, FVER, 22, &m, &why), CM_OK);
    for (size_t i = 0; i < 5; i++) {
        assert_true(fabs(model_weight(m, MODEL_HEAD_JUNK, ids[i]) - 100.0) <
                    1e-6);
        assert_true(model_weight(m, MODEL_HEAD_JUNK, ids[i] + 1u) == 0.0 ||
                    i == 3);
    }
    model_free(m);
    m = NULL;
    n = raw_varint_model(b, too_long, sizeof(too_long), 1);
    assert_int_equal(model_parse(b, n, FVER, 22, &m, &why), CM_EPARSE);
    assert_null(m);
    n = raw_varint_model(b, too_big, sizeof(too_big), 1);
    assert_int_equal(model_parse(b, n, FVER, 22, &m, &why), CM_EPARSE);
    assert_null(m);
}

static void
test_model_calibration_fit(void **state)
{
    enum { N = 4000 };
    double *m = malloc(N * sizeof(*m));
    bool *junk = malloc(N * sizeof(*junk));
    double *pm = malloc(N * sizeof(*pm));
    bool *ph = malloc(N * sizeof(*ph));
    struct model_calibration cal;
    struct hashing_rng r;
    size_t ham_96 = 0;
    size_t n_ham = 0;

    (void)state;
    hashing_rng_init(&r, 3);
    for (size_t i = 0; i < N; i++) {
        double u = (double)(hashing_rng_next(&r) >> 11) / 9007199254740992.0;

        junk[i] = i % 2 == 0;
        m[i] = (junk[i] ? 2.0 : -2.0) + 3.0 * (u - 0.5);
        ph[i] = junk[i] && i % 4 == 0;
        pm[i] = ph[i] ? 1.0 + u : -1.0 - u;
    }
    assert_int_equal(model_calibrate(m, junk, pm, ph, N, 0.001, &cal), CM_OK);
    assert_true(cal.n_knots >= 2 && cal.n_knots <= MODEL_CAL_KNOTS_MAX);
    for (size_t k = 1; k < cal.n_knots; k++) {
        assert_true(cal.margin[k] > cal.margin[k - 1]);
        assert_true(cal.score[k] >= cal.score[k - 1]);
    }
    assert_true(cal.score[cal.n_knots - 1] == 100.0f);
    assert_true(cal.phish_margin >= 0.0f && cal.phish_margin <= 1.0f);
    for (size_t i = 0; i < N; i++) {
        unsigned s = model_calibration_score(&cal, m[i]);

        assert_true(s <= 100);
        if (!junk[i]) {
            n_ham++;
            ham_96 += s >= 96;
        }
    }
    assert_true(ham_96 <= n_ham / 1000);
    /* Even odds near margin 0 for this symmetric set. */
    {
        unsigned s0 = model_calibration_score(&cal, 0.0);

        assert_true(s0 >= 40 && s0 <= 60);
    }
    /* Scores 0..10 are spread evenly over the margins between their
     * knots (odds 1:999 and 1:9), so clearly legitimate mail keeps a
     * ranking rather than one tied 0. */
    {
        size_t k10 = 0;
        unsigned mid;

        while (k10 < cal.n_knots && cal.score[k10] != 10.0f) {
            k10++;
        }
        assert_true(k10 > 0 && k10 < cal.n_knots && cal.score[0] == 0.0f);
        mid = model_calibration_score(
            &cal, ((double)cal.margin[0] + (double)cal.margin[k10]) / 2.0);
        assert_true(mid >= 4 && mid <= 5);
    }
    assert_int_equal(model_calibration_score(&cal, -1e9), 0);
    assert_int_equal(model_calibration_score(&cal, 1e9), 100);
    assert_int_equal(model_calibration_score(&cal, cal.margin_96), 96);
    assert_int_equal(model_calibration_score(&cal, NAN), 0);
    /* One class only is refused. */
    for (size_t i = 0; i < N; i++) {
        junk[i] = true;
    }
    assert_int_equal(model_calibrate(m, junk, NULL, NULL, N, 0.001, &cal),
                     CM_EINVAL);
    free(m);
    free(junk);
    free(pm);
    free(ph);
}

/* Unit weights: at most floor(share * n) items reach the result; sender
 * weights: a sender with many items counts once. */
static void
test_model_margin_at_weighted_share(void **state)
{
    double m[1000];
    double w[1000];
    double out = 0.0;
    size_t above = 0;

    (void)state;
    for (size_t i = 0; i < 1000; i++) {
        m[i] = (double)((i * 7919u) % 1000u) / 100.0; /* 0.00 .. 9.99 */
        w[i] = 1.0;
    }
    assert_int_equal(model_margin_at_weighted_share(m, w, 1000, 0.003, &out),
                     CM_OK);
    for (size_t i = 0; i < 1000; i++) {
        above += m[i] >= out;
    }
    assert_int_equal(above, 3);
    assert_true(out > 9.96 && out < 9.97);
    /* The ten highest items all come from one sender (weight 1/10 each):
     * together they count as one item (of 991), so one more item fits
     * below them. */
    for (size_t i = 0; i < 1000; i++) {
        w[i] = m[i] >= 9.895 ? 0.1 : 1.0;
    }
    assert_int_equal(model_margin_at_weighted_share(m, w, 1000, 0.003, &out),
                     CM_OK);
    above = 0;
    for (size_t i = 0; i < 1000; i++) {
        above += m[i] >= out;
    }
    assert_int_equal(above, 10 + 1);
    /* Share 0: just above the highest; share 1: everything counts. */
    assert_int_equal(model_margin_at_weighted_share(m, w, 1000, 0.0, &out),
                     CM_OK);
    assert_true(out > 9.99);
    assert_int_equal(model_margin_at_weighted_share(m, w, 1000, 1.0, &out),
                     CM_OK);
    assert_true(out > 0.0 && out < 0.01);
    /* Refusals. */
    assert_int_equal(model_margin_at_weighted_share(m, w, 0, 0.1, &out),
                     CM_EINVAL);
    w[5] = 0.0;
    assert_int_equal(model_margin_at_weighted_share(m, w, 1000, 0.1, &out),
                     CM_EINVAL);
    w[5] = 1.0;
    m[7] = NAN;
    assert_int_equal(model_margin_at_weighted_share(m, w, 1000, 0.1, &out),
                     CM_EINVAL);
}

/* Raising 96 moves only the 96 knot (and 100 past it), never lowers it. */
static void
test_model_calibration_raise_96(void **state)
{
    struct model_calibration cal;
    double m50;
    double m96;

    (void)state;
    memset(&cal, 0, sizeof(cal));
    cal.n_knots = 4;
    cal.margin[0] = -2.0f;
    cal.score[0] = 0.0f;
    cal.margin[1] = 0.0f;
    cal.score[1] = 50.0f;
    cal.margin[2] = 1.0f;
    cal.score[2] = 96.0f;
    cal.margin[3] = 2.0f;
    cal.score[3] = 100.0f;
    cal.margin_96 = 1.0f;
    m50 = cal.margin[1];
    model_calibration_raise_96(&cal, 0.5);
    assert_true(cal.margin[2] == 1.0f);
    model_calibration_raise_96(&cal, 3.0);
    m96 = cal.margin[2];
    assert_true(m96 == 3.0f && cal.margin_96 == 3.0f);
    assert_true(cal.margin[3] >= (float)(m96 + (m96 - m50)) - 1e-6f);
    assert_int_equal(model_calibration_score(&cal, 2.999), 95);
    assert_int_equal(model_calibration_score(&cal, 3.0), 96);
    assert_int_equal(model_calibration_score(&cal, 1.5), 73);
}

static void
test_model_calibration_round_trip_and_refusals(void **state)
{
    struct model_calibration cal;
    struct model_calibration back;
    struct buf b;
    uint8_t *copy;

    (void)state;
    memset(&cal, 0, sizeof(cal));
    cal.n_knots = 3;
    cal.margin[0] = -1.0f;
    cal.score[0] = 0.0f;
    cal.margin[1] = 0.0f;
    cal.score[1] = 50.0f;
    cal.margin[2] = 1.0f;
    cal.score[2] = 100.0f;
    cal.phish_margin = 0.25f;
    cal.margin_96 = 0.92f;
    buf_init(&b, 4096);
    assert_int_equal(model_calibration_format(&cal, &b), CM_OK);
    assert_int_equal(model_calibration_parse(b.data, b.len, &back, NULL),
                     CM_OK);
    assert_int_equal(back.n_knots, 3);
    assert_true(back.phish_margin == 0.25f);
    assert_int_equal(model_calibration_score(&back, 0.5), 75);
    assert_int_equal(model_calibration_score(&back, 0.0), 50);
    for (size_t len = 0; len < b.len; len++) {
        assert_int_equal(model_calibration_parse(b.data, len, &back, NULL),
                         CM_EPARSE);
    }
    copy = malloc(b.len + 1);
    memcpy(copy, b.data, b.len);
    copy[b.len] = 0;
    assert_int_equal(model_calibration_parse(copy, b.len + 1, &back, NULL),
                     CM_EPARSE);
    /* Non-monotone margins, scores above 100, bad counts. */
    put_f(copy + 8 + 8, -2.0f);
    assert_int_equal(model_calibration_parse(copy, b.len, &back, NULL),
                     CM_EPARSE);
    memcpy(copy, b.data, b.len);
    put_f(copy + 8 + 20, 101.0f);
    assert_int_equal(model_calibration_parse(copy, b.len, &back, NULL),
                     CM_EPARSE);
    memcpy(copy, b.data, b.len);
    put32(copy + 4, 1);
    assert_int_equal(model_calibration_parse(copy, b.len, &back, NULL),
                     CM_EPARSE);
    put32(copy + 4, MODEL_CAL_KNOTS_MAX + 1);
    assert_int_equal(model_calibration_parse(copy, b.len, &back, NULL),
                     CM_EPARSE);
    memcpy(copy, b.data, b.len);
    put32(copy, 7);
    assert_int_equal(model_calibration_parse(copy, b.len, &back, NULL),
                     CM_EPARSE);
    free(copy);
    buf_clear(&b);
}

/*
 * Finite but huge calibration values are refused like NaN and infinity:
 * knots at -3e38 and 3e38 loaded, and their difference, taken in float
 * where the engine maps a score back to a margin (LEARN's targets), is
 * infinite.  The bound is the one on a model's bias (1e6); 1e6 itself
 * still loads.
 */
static void
test_model_calibration_huge_values_refused(void **state)
{
    static const float huge[] = {3e38f, -3e38f, 1e7f, -1.5e6f, INFINITY,
                                 NAN};
    struct model_calibration cal;
    struct model_calibration back;
    struct buf b;
    const char *why = NULL;

    (void)state;
    memset(&cal, 0, sizeof(cal));
    cal.n_knots = 2;
    cal.margin[0] = -1e6f;
    cal.score[0] = 0.0f;
    cal.margin[1] = 1e6f;
    cal.score[1] = 100.0f;
    cal.phish_margin = 1e6f;
    cal.margin_96 = -1e6f;
    buf_init(&b, 4096);
    assert_int_equal(model_calibration_format(&cal, &b), CM_OK);
    assert_int_equal(model_calibration_parse(b.data, b.len, &back, NULL),
                     CM_OK);
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        /* format, n_knots, (margin, score) x 2, phish, m96 */
        static const size_t at[] = {8, 16, 24, 28};

        for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
            uint8_t copy[32];

            assert_int_equal(b.len, sizeof(copy));
            memcpy(copy, b.data, sizeof(copy));
            /* Keep the knots increasing: the huge value replaces the
             * lower knot only when it is negative, the upper one only
             * when it is positive. */
            if (k == 0 && huge[i] > 0) {
                put_f(copy + 16, huge[i]);
            } else {
                put_f(copy + at[k], huge[i]);
            }
            why = NULL;
            assert_int_equal(model_calibration_parse(copy, sizeof(copy),
                                                     &back, &why),
                             CM_EPARSE);
            assert_non_null(why);
        }
    }
    buf_clear(&b);
}

/* ---- the loaded model's compact table against a dense reference ---- */

/* A hand-encoded raw MODEL format 2 body and the dense table it stands
 * for: ref[id * MODEL_HEADS + h] is head h's int16 weight of id. */
struct sparse_case {
    unsigned bits;
    uint32_t split;
    float bias[MODEL_HEADS];
    float scale[MODEL_HEADS];
    int16_t *ref;
    uint8_t *body;
    size_t len;
};

static size_t
put_leb(uint8_t *p, uint32_t v)
{
    size_t n = 0;

    while (v >= 0x80u) {
        p[n++] = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Whether head h of a case carries id: the ids every table must get
 * right (the first and last of the range and of its first blocks, runs
 * of adjacent ids across a block edge) in both heads or one, and random
 * sparse ones. */
static bool
sparse_pick(struct hashing_rng *r, unsigned bits, uint32_t id,
            uint32_t run_at, unsigned h)
{
    uint32_t top = (1u << bits) - 1u;

    if (id == 0 || id == 63 || id == 64 || id == top) {
        return true;
    }
    if (id == 127 || id == 128 || id == top - 63u || id == top - 64u) {
        return h == 0;
    }
    if (id >= run_at && id < run_at + 150u) {
        return id % 7u != 3u || h == 1;
    }
    return hashing_rng_below(r, 1000) < 30;
}

/* Head h's section part: bias, scale, n, id deltas, weights. */
static size_t
sparse_head(struct sparse_case *sc, unsigned h, uint8_t *p)
{
    size_t n_ids = (size_t)1 << sc->bits;
    uint32_t n = 0;
    size_t at = 12;
    uint32_t prev = 0;

    put_f(p, sc->bias[h]);
    put_f(p + 4, sc->scale[h]);
    for (size_t id = 0; id < n_ids; id++) {
        if (sc->ref[id * MODEL_HEADS + h] != 0) {
            at += put_leb(p + at, n == 0 ? (uint32_t)id : (uint32_t)id - prev);
            prev = (uint32_t)id;
            n++;
        }
    }
    put32(p + 8, n);
    for (size_t id = 0; id < n_ids; id++) {
        int16_t q = sc->ref[id * MODEL_HEADS + h];
        uint16_t u;

        if (q != 0) {
            memcpy(&u, &q, sizeof(u));
            p[at++] = (uint8_t)u;
            p[at++] = (uint8_t)(u >> 8);
        }
    }
    return at;
}

static void
sparse_case_build(struct sparse_case *sc, unsigned bits, uint64_t seed)
{
    size_t n_ids = (size_t)1 << bits;
    struct hashing_rng r;
    uint32_t run_at;
    size_t n = 32;

    hashing_rng_init(&r, seed);
    sc->bits = bits;
    sc->split = 1u + (uint32_t)hashing_rng_below(&r, n_ids - 1u);
    run_at = 60u + (uint32_t)hashing_rng_below(&r, n_ids / 2u);
    sc->ref = calloc(n_ids * MODEL_HEADS, sizeof(*sc->ref));
    sc->body = malloc(64 + n_ids * MODEL_HEADS * 7u);
    assert_non_null(sc->ref);
    assert_non_null(sc->body);
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        sc->bias[h] = (float)hashing_rng_below(&r, 200) / 100.0f - 1.0f;
        sc->scale[h] = (float)(1u + hashing_rng_below(&r, 1000)) / 65536.0f;
        for (size_t id = 0; id < n_ids; id++) {
            if (sparse_pick(&r, bits, (uint32_t)id, run_at, h)) {
                int16_t q = (int16_t)(1 + (int)hashing_rng_below(&r, 32767));

                sc->ref[id * MODEL_HEADS + h] =
                    hashing_rng_below(&r, 2) != 0 ? q : (int16_t)-q;
            }
        }
    }
    memset(sc->body, 0, 32);
    put32(sc->body + 0, 2);
    put32(sc->body + 4, FVER);
    put32(sc->body + 8, bits);
    put32(sc->body + 12, MODEL_HEADS);
    put32(sc->body + 16, 0);
    put32(sc->body + 28, sc->split);
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        n += sparse_head(sc, h, sc->body + n);
    }
    put32(sc->body + 20, (uint32_t)(n - 32));
    sc->len = n;
}

/* model_margins' formula over the dense reference. */
static void
sparse_ref_margins(const struct sparse_case *sc, const uint32_t *ids,
                   size_t n, double out[MODEL_HEADS])
{
    int64_t low[MODEL_HEADS] = {0};
    int64_t high[MODEL_HEADS] = {0};
    size_t n_high = 0;

    for (size_t i = 0; i < n; i++) {
        n_high += ids[i] >= sc->split;
        for (unsigned h = 0; h < MODEL_HEADS; h++) {
            int16_t q = sc->ref[(size_t)ids[i] * MODEL_HEADS + h];

            if (ids[i] >= sc->split) {
                high[h] += q;
            } else {
                low[h] += q;
            }
        }
    }
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        double f_low = n - n_high > 0 ? 1.0 / sqrt((double)(n - n_high)) : 1.0;
        double f_high = n_high > 0 ? 1.0 / sqrt((double)n_high) : 1.0;

        out[h] = (double)sc->bias[h] +
                 (double)sc->scale[h] *
                     ((double)low[h] * f_low + (double)high[h] * f_high);
    }
}

/* Every id of the table (present or not: the whole range at these
 * sizes) weighs what the dense reference says, in both heads. */
static void
sparse_check_weights(const struct sparse_case *sc, const struct model *m)
{
    size_t n_ids = (size_t)1 << sc->bits;
    size_t nonzero[MODEL_HEADS] = {0};

    for (size_t id = 0; id < n_ids; id++) {
        for (unsigned h = 0; h < MODEL_HEADS; h++) {
            int16_t q = sc->ref[id * MODEL_HEADS + h];
            double want = (double)sc->scale[h] * q;

            nonzero[h] += q != 0;
            if (model_weight(m, (enum model_head)h, (uint32_t)id) != want) {
                fail_msg("bits %u id %zu head %u: %g, want %g", sc->bits, id,
                         h, model_weight(m, (enum model_head)h, (uint32_t)id),
                         want);
            }
        }
    }
    for (unsigned h = 0; h < MODEL_HEADS; h++) {
        assert_int_equal(model_nonzero(m, (enum model_head)h), nonzero[h]);
        assert_true(model_weight(m, (enum model_head)h, (uint32_t)n_ids) ==
                    0.0);
    }
}

/* Random messages of present and absent ids (duplicates too) score as
 * the dense reference does, to the last bit. */
static void
sparse_check_margins(const struct sparse_case *sc, const struct model *m,
                     uint64_t seed)
{
    size_t n_ids = (size_t)1 << sc->bits;
    struct hashing_rng r;
    uint32_t ids[300];

    hashing_rng_init(&r, seed);
    for (unsigned k = 0; k < 2000; k++) {
        size_t n = (size_t)hashing_rng_below(&r, 300);
        double a[MODEL_HEADS];
        double b[MODEL_HEADS];

        for (size_t i = 0; i < n; i++) {
            uint32_t id = (uint32_t)hashing_rng_below(&r, n_ids);

            /* Half of them moved on to the next present id. */
            while (hashing_rng_below(&r, 2) != 0 && id + 1u < n_ids &&
                   sc->ref[(size_t)id * MODEL_HEADS] == 0 &&
                   sc->ref[(size_t)id * MODEL_HEADS + 1] == 0) {
                id++;
            }
            ids[i] = id;
        }
        model_margins(m, ids, n, a);
        sparse_ref_margins(sc, ids, n, b);
        for (unsigned h = 0; h < MODEL_HEADS; h++) {
            assert_true(a[h] == b[h]);
        }
    }
}

static void
test_model_sparse_table_matches_dense(void **state)
{
    static const unsigned bits[] = {10, 10, 16, 22};

    (void)state;
    for (size_t k = 0; k < sizeof(bits) / sizeof(bits[0]); k++) {
        struct sparse_case sc;
        struct model *m = NULL;
        const char *why = NULL;

        sparse_case_build(&sc, bits[k], 1000u + k);
        assert_int_equal(model_parse(sc.body, sc.len, FVER, sc.bits, &m, &why),
                         CM_OK);
        assert_int_equal(model_split(m), sc.split);
        sparse_check_weights(&sc, m);
        sparse_check_margins(&sc, m, 2000u + k);
        model_free(m);
        free(sc.ref);
        free(sc.body);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_training_separates),
        cmocka_unit_test(test_model_training_narrow_clip),
        cmocka_unit_test(test_model_training_deterministic),
        cmocka_unit_test(test_model_train_rejects_bad_input),
        cmocka_unit_test(test_model_train_on_nothing_zeroes),
        cmocka_unit_test(test_model_format_parse_round_trip),
        cmocka_unit_test(test_model_split_blocks_round_trip),
        cmocka_unit_test(test_model_parse_refuses_corruption),
        cmocka_unit_test(test_model_parse_raw_payload_rules),
        cmocka_unit_test(test_model_parse_varint_lengths),
        cmocka_unit_test(test_model_sparse_table_matches_dense),
        cmocka_unit_test(test_model_calibration_fit),
        cmocka_unit_test(test_model_margin_at_weighted_share),
        cmocka_unit_test(test_model_calibration_raise_96),
        cmocka_unit_test(test_model_calibration_round_trip_and_refusals),
        cmocka_unit_test(test_model_calibration_huge_values_refused),
    };

    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
