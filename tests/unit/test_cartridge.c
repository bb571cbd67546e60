/*
 * test_cartridge.c -- unit tests for cartridge: round trip, every kind of
 * corruption refused (each truncation, CRC, magic, format, offsets,
 * sections), references, the slot and publishing, the embedded default.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "caps.h"
#include "cartridge.h"
#include "fingerprint.h"
#include "featureset.h"
#include "fsutil.h"
#include "model.h"

static void
put32(struct buf *b, uint32_t v)
{
    uint8_t x[4];

    for (unsigned i = 0; i < 4; i++) {
        x[i] = (uint8_t)(v >> (8 * i));
    }
    buf_append(b, x, 4);
}

static void
put64(struct buf *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static void
putf(struct buf *b, float f)
{
    uint32_t u;

    memcpy(&u, &f, 4);
    put32(b, u);
}

/* A raw MODEL body: junk head bias -1, weight 2000 * 0.001 = +2.0 at id
 * 5000; phish head empty. */
static void
model_body(struct buf *b, uint32_t fver)
{
    put32(b, 1);
    put32(b, fver);
    put32(b, FEATURES_HASH_BITS);
    put32(b, MODEL_HEADS);
    put32(b, 0);
    put64(b, 12 + 2 + 2 + 12);
    putf(b, -1.0f);
    putf(b, 0.001f);
    put32(b, 1);
    buf_putc(b, (uint8_t)(0x80 | (5000 & 0x7f))); /* 5000 as LEB128 */
    buf_putc(b, (uint8_t)((5000 >> 7) & 0x7f));
    buf_putc(b, (uint8_t)(2000 & 0xff));
    buf_putc(b, (uint8_t)(2000 >> 8));
    putf(b, 0.0f);
    putf(b, 1.0f);
    put32(b, 0);
}

static void
cal_body(struct buf *b)
{
    struct model_calibration cal;

    memset(&cal, 0, sizeof(cal));
    cal.n_knots = 3;
    cal.margin[0] = -2.0f;
    cal.score[0] = 0.0f;
    cal.margin[1] = 0.0f;
    cal.score[1] = 50.0f;
    cal.margin[2] = 2.0f;
    cal.score[2] = 100.0f;
    cal.phish_margin = 0.0f;
    cal.margin_96 = 1.84f;
    model_calibration_format(&cal, b);
}

struct image_opts {
    const char *meta;
    uint32_t fver;
    bool no_model;
    bool dup_meta;
    uint32_t extra_type; /* 0: none */
    const uint8_t *extra_body; /* NULL: "xyz" */
    size_t extra_len;
    const uint8_t *cats;
    size_t cats_len;
};

static void
build_image(struct buf *out, const struct image_opts *o)
{
    struct buf model;
    struct buf cal;
    struct buf cats;
    struct cartridge_body bodies[8];
    size_t n = 0;
    const char *meta = o->meta != NULL ? o->meta : "trainer=test\nham=3\n";

    buf_init(&model, 1u << 16);
    buf_init(&cal, 1u << 16);
    buf_init(&cats, 1u << 16);
    model_body(&model, o->fver != 0 ? o->fver : FEATURES_VERSION);
    cal_body(&cal);
    if (o->cats != NULL) {
        buf_append(&cats, o->cats, o->cats_len);
    } else {
        cartridge_category_format(&cats);
    }
    bodies[n++] = (struct cartridge_body){CARTRIDGE_SEC_META,
                                          (const uint8_t *)meta,
                                          strlen(meta)};
    if (o->dup_meta) {
        bodies[n++] = bodies[0];
    }
    if (!o->no_model) {
        bodies[n++] = (struct cartridge_body){CARTRIDGE_SEC_MODEL,
                                              model.data, model.len};
    }
    bodies[n++] = (struct cartridge_body){CARTRIDGE_SEC_CALIBRATION,
                                          cal.data, cal.len};
    bodies[n++] = (struct cartridge_body){CARTRIDGE_SEC_CATEGORY, cats.data,
                                          cats.len};
    if (o->extra_type != 0) {
        bodies[n++] = (struct cartridge_body){
            o->extra_type,
            o->extra_body != NULL ? o->extra_body : (const uint8_t *)"xyz",
            o->extra_body != NULL ? o->extra_len : 3};
    }
    assert_int_equal(cartridge_format(42, 1700000000, bodies, n, out),
                     CM_OK);
    buf_clear(&model);
    buf_clear(&cal);
    buf_clear(&cats);
}

static enum cm_err
load_with(const struct image_opts *o, struct cartridge **c,
          const char **why)
{
    struct buf b;
    enum cm_err rc;

    buf_init(&b, 1u << 20);
    build_image(&b, o);
    rc = cartridge_load(b.data, b.len, c, why);
    buf_clear(&b);
    return rc;
}

static void
test_cartridge_round_trip(void **state)
{
    struct image_opts o;
    struct cartridge *c = NULL;
    const char *why = NULL;
    struct cartridge_section sec;
    uint32_t code = 0;
    const char *name = NULL;
    const char *desc = NULL;
    const char *k = NULL;
    const char *v = NULL;

    (void)state;
    memset(&o, 0, sizeof(o));
    assert_int_equal(load_with(&o, &c, &why), CM_OK);
    assert_int_equal(cartridge_version(c), 42);
    assert_false(cartridge_is_default(c));
    assert_string_equal(cartridge_meta(c, "trainer"), "test");
    assert_string_equal(cartridge_meta(c, "ham"), "3");
    assert_null(cartridge_meta(c, "nope"));
    assert_int_equal(cartridge_meta_count(c), 2);
    assert_true(cartridge_meta_at(c, 1, &k, &v));
    assert_string_equal(k, "ham");
    assert_false(cartridge_meta_at(c, 2, &k, &v));
    assert_int_equal(cartridge_section_count(c), 4);
    assert_true(cartridge_section_at(c, 1, &sec));
    assert_int_equal(sec.type, CARTRIDGE_SEC_MODEL);
    assert_false(cartridge_section_at(c, 4, &sec));
    assert_int_equal(cartridge_category_count(c), 5);
    assert_true(cartridge_category_at(c, 2, &code, &name, &desc));
    assert_int_equal(code, 2);
    assert_string_equal(name, "phishing");
    assert_string_equal(cartridge_category_name(c, 4), "bulk");
    assert_null(cartridge_category_name(c, 99));
    assert_true(fabs(model_weight(cartridge_model(c), MODEL_HEAD_JUNK, 5000) -
                     2.0) < 1e-5);
    assert_int_equal(cartridge_calibration(c)->n_knots, 3);
    cartridge_unref(c);
    cartridge_unref(NULL);
}

static void
test_cartridge_every_truncation_refused(void **state)
{
    struct image_opts o;
    struct buf b;

    (void)state;
    memset(&o, 0, sizeof(o));
    buf_init(&b, 1u << 20);
    build_image(&b, &o);
    for (size_t len = 0; len < b.len; len++) {
        struct cartridge *c = NULL;
        const char *why = NULL;

        assert_int_not_equal(cartridge_load(b.data, len, &c, &why), CM_OK);
        assert_null(c);
        assert_non_null(why);
    }
    buf_clear(&b);
}

static void
test_cartridge_corruption_refused(void **state)
{
    struct image_opts o;
    struct buf b;
    uint8_t *p;
    struct cartridge *c = NULL;
    const char *why = NULL;
    size_t len;

    (void)state;
    memset(&o, 0, sizeof(o));
    buf_init(&b, 1u << 20);
    build_image(&b, &o);
    len = b.len;
    p = malloc(len + 1);
    /* Every byte flipped: refused (CRC or header), never accepted. */
    for (size_t i = 0; i < len; i++) {
        memcpy(p, b.data, len);
        p[i] ^= 0x01;
        c = NULL;
        if (cartridge_load(p, len, &c, &why) == CM_OK) {
            /* Only the version and created-time fields take any value,
             * and the optional META (entry 0) and CATEGORY (entry 3)
             * sections may turn into skipped unknown types. */
            bool is_free = i >= 16 && i < 32;
            bool is_opt_type = (i >= 36 && i < 40) ||
                               (i >= 36 + 3 * 24 && i < 40 + 3 * 24);

            assert_true(is_free || is_opt_type);
            cartridge_unref(c);
        }
    }
    /* Bad magic. */
    memcpy(p, b.data, len);
    p[0] = 'X';
    assert_int_equal(cartridge_load(p, len, &c, &why), CM_EPARSE);
    assert_string_equal(why, "not a cartridge (bad magic)");
    /* Unknown format and flags. */
    memcpy(p, b.data, len);
    p[8] = 2;
    assert_int_equal(cartridge_load(p, len, &c, &why), CM_EVERSION);
    memcpy(p, b.data, len);
    p[12] = 1;
    assert_int_equal(cartridge_load(p, len, &c, &why), CM_EVERSION);
    /* Section count 0 and past the cap. */
    memcpy(p, b.data, len);
    memset(p + 32, 0, 4);
    assert_int_equal(cartridge_load(p, len, &c, &why), CM_EPARSE);
    p[32] = (uint8_t)(CAPS_CARTRIDGE_SECTIONS_MAX + 1);
    assert_int_equal(cartridge_load(p, len, &c, &why), CM_EPARSE);
    /* An offset moved, a length past the end. */
    memcpy(p, b.data, len);
    p[36 + 4] ^= 0x01;
    assert_int_equal(cartridge_load(p, len, &c, &why), CM_EPARSE);
    memcpy(p, b.data, len);
    p[36 + 12 + 6] = 0x10;
    assert_int_equal(cartridge_load(p, len, &c, &why), CM_EPARSE);
    /* A CRC changed. */
    memcpy(p, b.data, len);
    p[36 + 20] ^= 0xff;
    assert_int_equal(cartridge_load(p, len, &c, &why), CM_EPARSE);
    assert_string_equal(why, "cartridge section CRC mismatch");
    /* A trailing byte. */
    memcpy(p, b.data, len);
    p[len] = 0;
    assert_int_equal(cartridge_load(p, len + 1, &c, &why), CM_EPARSE);
    /* Too large. */
    assert_int_equal(cartridge_load(p, (size_t)CAPS_CARTRIDGE_MAX_BYTES + 1,
                                    &c, &why),
                     CM_ELIMIT);
    free(p);
    buf_clear(&b);
}

static void
test_cartridge_sections_validated(void **state)
{
    struct image_opts o;
    struct cartridge *c = NULL;
    const char *why = NULL;
    static const uint8_t dup_cat[] = {2, 0, 0, 0,  1, 0, 0, 0, 1, 0, 'a',
                                      0, 0, 1,  0, 0, 0, 1, 0, 'b', 0,  0};
    static const uint8_t bad_name[] = {1, 0, 0, 0, 1, 0, 0, 0,
                                       1, 0, 'A', 0, 0};

    (void)state;
    memset(&o, 0, sizeof(o));
    o.no_model = true;
    assert_int_equal(load_with(&o, &c, &why), CM_EPARSE);
    memset(&o, 0, sizeof(o));
    o.dup_meta = true;
    assert_int_equal(load_with(&o, &c, &why), CM_EPARSE);
    assert_string_equal(why, "cartridge section repeated");
    memset(&o, 0, sizeof(o));
    o.fver = FEATURES_VERSION + 1;
    assert_int_equal(load_with(&o, &c, &why), CM_EVERSION);
    memset(&o, 0, sizeof(o));
    o.meta = "no equals sign\n";
    assert_int_equal(load_with(&o, &c, &why), CM_EPARSE);
    o.meta = "key=va\x01lue\n";
    assert_int_equal(load_with(&o, &c, &why), CM_EPARSE);
    o.meta = "bad key=value\n";
    assert_int_equal(load_with(&o, &c, &why), CM_EPARSE);
    o.meta = "=value\n";
    assert_int_equal(load_with(&o, &c, &why), CM_EPARSE);
    memset(&o, 0, sizeof(o));
    o.cats = dup_cat;
    o.cats_len = sizeof(dup_cat);
    assert_int_equal(load_with(&o, &c, &why), CM_EPARSE);
    o.cats = bad_name;
    o.cats_len = sizeof(bad_name);
    assert_int_equal(load_with(&o, &c, &why), CM_EPARSE);
    /* Reserved and unknown section types are skipped. */
    memset(&o, 0, sizeof(o));
    o.extra_type = CARTRIDGE_SEC_ALLOWLIST;
    assert_int_equal(load_with(&o, &c, &why), CM_OK);
    assert_null(cartridge_fingerprints(c));
    assert_null(cartridge_reputation(c));
    cartridge_unref(c);
    /* REPUTATION is parsed: garbage there refuses the cartridge. */
    o.extra_type = CARTRIDGE_SEC_REPUTATION;
    assert_int_equal(load_with(&o, &c, &why), CM_EPARSE);
    assert_string_equal(why, "REPUTATION section: bad magic");
    /* FINGERPRINTS is parsed: garbage there refuses the cartridge. */
    o.extra_type = CARTRIDGE_SEC_FINGERPRINTS;
    assert_int_equal(load_with(&o, &c, &why), CM_EPARSE);
    assert_string_equal(why, "FINGERPRINTS section: bad magic");
    o.extra_type = 999;
    assert_int_equal(load_with(&o, &c, &why), CM_OK);
    assert_int_equal(cartridge_section_count(c), 5);
    cartridge_unref(c);
    /* Last META line without a newline, and an empty value. */
    memset(&o, 0, sizeof(o));
    o.meta = "a=1\nb=";
    assert_int_equal(load_with(&o, &c, &why), CM_OK);
    assert_string_equal(cartridge_meta(c, "b"), "");
    cartridge_unref(c);
}

static void
test_cartridge_fingerprints_section(void **state)
{
    struct fingerprint_entry e;
    struct buf fp;
    struct buf img;
    struct image_opts o;
    struct cartridge *c = NULL;
    const char *why = NULL;
    const struct fingerprint_db *db;
    size_t n_before;

    (void)state;
    memset(&e, 0, sizeof(e));
    e.kind = FINGERPRINT_ATTACHMENT;
    e.category = FINGERPRINT_CAT_MALWARE;
    e.weight = 99;
    memset(e.digest, 0xab, sizeof(e.digest));
    buf_init(&fp, 1u << 16);
    assert_int_equal(fingerprint_db_format(&e, 1, FINGERPRINT_MATCH_MIN, &fp),
                     CM_OK);
    /* As a section of the image. */
    memset(&o, 0, sizeof(o));
    o.extra_type = CARTRIDGE_SEC_FINGERPRINTS;
    o.extra_body = fp.data;
    o.extra_len = fp.len;
    assert_int_equal(load_with(&o, &c, &why), CM_OK);
    db = cartridge_fingerprints(c);
    assert_non_null(db);
    assert_int_equal(fingerprint_db_count(db, FINGERPRINT_ATTACHMENT), 1);
    assert_non_null(
        fingerprint_db_match_digest(db, FINGERPRINT_ATTACHMENT, e.digest));
    cartridge_unref(c);
    /* Added to an image without one, then replaced (not repeated). */
    memset(&o, 0, sizeof(o));
    buf_init(&img, 1u << 20);
    build_image(&img, &o);
    assert_int_equal(cartridge_load(img.data, img.len, &c, &why), CM_OK);
    n_before = cartridge_section_count(c);
    cartridge_unref(c);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(cartridge_image_add_section(
                             &img, CARTRIDGE_SEC_FINGERPRINTS, fp.data,
                             fp.len),
                         CM_OK);
        assert_int_equal(cartridge_load(img.data, img.len, &c, &why), CM_OK);
        assert_int_equal(cartridge_section_count(c), n_before + 1);
        assert_int_equal(cartridge_version(c), 42);
        assert_non_null(cartridge_fingerprints(c));
        assert_non_null(cartridge_model(c));
        cartridge_unref(c);
    }
    /* Not an image: refused, image untouched. */
    buf_reset(&img);
    assert_int_equal(buf_append(&img, "nope", 4), CM_OK);
    assert_int_not_equal(cartridge_image_add_section(
                             &img, CARTRIDGE_SEC_FINGERPRINTS, fp.data,
                             fp.len),
                         CM_OK);
    assert_int_equal(img.len, 4);
    buf_clear(&img);
    buf_clear(&fp);
}

static void
test_cartridge_header_parse_for_inspect(void **state)
{
    struct image_opts o;
    struct buf b;
    struct cartridge_header h;
    struct cartridge_section secs[8];
    size_t n = 0;
    const char *why = NULL;

    (void)state;
    memset(&o, 0, sizeof(o));
    buf_init(&b, 1u << 20);
    build_image(&b, &o);
    /* A bad CRC does not stop the header parse (inspect shows it). */
    b.data[b.len - 1] ^= 1;
    assert_int_equal(cartridge_header_parse(b.data, b.len, &h, secs, 8, &n,
                                            &why),
                     CM_OK);
    assert_int_equal(h.format, CARTRIDGE_FORMAT);
    assert_int_equal(h.version, 42);
    assert_int_equal(h.created_unix, 1700000000);
    assert_int_equal(n, 4);
    assert_int_equal(secs[0].type, CARTRIDGE_SEC_META);
    assert_int_equal(secs[0].offset, CARTRIDGE_HEADER_LEN +
                                         4 * CARTRIDGE_ENTRY_LEN);
    /* max limits what is filled, not what is validated. */
    assert_int_equal(cartridge_header_parse(b.data, b.len, &h, secs, 2, &n,
                                            &why),
                     CM_OK);
    assert_int_equal(n, 2);
    buf_clear(&b);
}

static void
test_cartridge_file_and_default(void **state)
{
    char dir[] = "/tmp/test_cartridge.XXXXXX";
    char path[256];
    struct image_opts o;
    struct buf b;
    struct cartridge *c = NULL;
    const char *why = NULL;
    const uint8_t *img = NULL;
    size_t img_len = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/c.cmc", dir);
    memset(&o, 0, sizeof(o));
    buf_init(&b, 1u << 20);
    build_image(&b, &o);
    assert_int_equal(fsutil_write_atomic(path, b.data, b.len, 0644), CM_OK);
    assert_int_equal(cartridge_load_file(path, &c, &why), CM_OK);
    assert_int_equal(cartridge_version(c), 42);
    cartridge_unref(c);
    unlink(path);
    assert_int_equal(cartridge_load_file(path, &c, &why), CM_ENOENT);
    rmdir(dir);
    buf_clear(&b);
    /* The embedded default: committed cartridge/default.cmc. */
    cartridge_default_image(&img, &img_len);
    assert_true(img_len > 0);
    assert_int_equal(cartridge_load_default(&c, &why), CM_OK);
    assert_true(cartridge_is_default(c));
    assert_true(cartridge_version(c) >= 1);
    assert_non_null(cartridge_meta(c, "trainer"));
    cartridge_unref(c);
}

static void
test_cartridge_slot_publish(void **state)
{
    struct image_opts o;
    struct cartridge *a = NULL;
    struct cartridge *b = NULL;
    struct cartridge_slot *s;
    const struct cartridge *held;
    const struct cartridge *now;

    (void)state;
    memset(&o, 0, sizeof(o));
    assert_int_equal(load_with(&o, &a, NULL), CM_OK);
    o.meta = "trainer=second\n";
    assert_int_equal(load_with(&o, &b, NULL), CM_OK);
    s = cartridge_slot_new(a);
    assert_non_null(s);
    held = cartridge_acquire(s);
    assert_ptr_equal(held, a);
    cartridge_publish(s, b);
    /* The old one stays usable until its last user lets go. */
    assert_string_equal(cartridge_meta(held, "trainer"), "test");
    now = cartridge_acquire(s);
    assert_ptr_equal(now, b);
    cartridge_unref(held);
    cartridge_ref(now);
    cartridge_unref(now);
    cartridge_unref(now);
    cartridge_slot_free(s);
    cartridge_slot_free(NULL);
}

struct race {
    struct cartridge_slot *s;
    int rounds;
};

static void *
race_reader(void *arg)
{
    struct race *r = arg;

    for (int i = 0; i < r->rounds; i++) {
        const struct cartridge *c = cartridge_acquire(r->s);

        assert_non_null(cartridge_meta(c, "trainer"));
        cartridge_unref(c);
    }
    return NULL;
}

static void
test_cartridge_slot_concurrent(void **state)
{
    struct image_opts o;
    struct cartridge *first = NULL;
    struct race r;
    pthread_t t[2];

    (void)state;
    memset(&o, 0, sizeof(o));
    assert_int_equal(load_with(&o, &first, NULL), CM_OK);
    r.s = cartridge_slot_new(first);
    r.rounds = 2000;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, race_reader, &r), 0);
    }
    for (int i = 0; i < 20; i++) {
        struct cartridge *next = NULL;

        assert_int_equal(load_with(&o, &next, NULL), CM_OK);
        cartridge_publish(r.s, next);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
    }
    cartridge_slot_free(r.s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cartridge_round_trip),
        cmocka_unit_test(test_cartridge_every_truncation_refused),
        cmocka_unit_test(test_cartridge_corruption_refused),
        cmocka_unit_test(test_cartridge_sections_validated),
        cmocka_unit_test(test_cartridge_fingerprints_section),
        cmocka_unit_test(test_cartridge_header_parse_for_inspect),
        cmocka_unit_test(test_cartridge_file_and_default),
        cmocka_unit_test(test_cartridge_slot_publish),
        cmocka_unit_test(test_cartridge_slot_concurrent),
    };

    return cmocka_run_group_tests_name("cartridge", tests, NULL, NULL);
}
