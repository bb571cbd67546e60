/*
 * test_engine.c -- unit tests for engine_score: hand-written samples in
 * testdata/engine scored with the embedded default cartridge, whitelists,
 * the time budget, the verdict fields, and a cartridge trained in the test
 * from synthetic messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "caps.h"
#include "cartridge.h"
#include "engine.h"
#include "featureset.h"
#include "fsutil.h"
#include "hashing.h"
#include "mime.h"
#include "model.h"
#include "queuefile.h"
#include "whitelist.h"

struct fx {
    struct cartridge *c;
    struct engine_scratch *s;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    const char *why = NULL;

    assert_non_null(f);
    assert_int_equal(cartridge_load_default(&f->c, &why), CM_OK);
    f->s = engine_scratch_new();
    assert_non_null(f->s);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    engine_scratch_free(f->s);
    cartridge_unref(f->c);
    free(f);
    return 0;
}

/* Score a message held in memory (an optional CGP envelope first). */
static enum cm_err
score_mem(const struct cartridge *c, const struct whitelist *wl,
          struct engine_scratch *s, const uint8_t *p, size_t len,
          const struct budget *b, struct verdict *v)
{
    struct envelope env;
    size_t off = 0;
    unsigned qf = 0;
    struct message m;

    queuefile_parse(p, len, &env, &off, &qf);
    m.data = p + off;
    m.len = len - off;
    m.env = &env;
    m.is_truncated = false;
    return engine_score(c, wl, &m, b, s, v);
}

static struct verdict
score_file(struct fx *f, const struct whitelist *wl, const char *name)
{
    char path[256];
    struct buf b;
    bool is_truncated = false;
    struct verdict v;

    snprintf(path, sizeof(path), "testdata/engine/%s", name);
    buf_init(&b, CAPS_BODY_DEFAULT_BYTES);
    assert_int_equal(fsutil_read_file(path, CAPS_BODY_DEFAULT_BYTES, &b,
                                      &is_truncated, NULL),
                     CM_OK);
    assert_int_equal(score_mem(f->c, wl, f->s, b.data, b.len, NULL, &v),
                     CM_OK);
    buf_clear(&b);
    return v;
}

static void
assert_analysis_clean(const struct verdict *v)
{
    assert_true(strlen(v->analysis) > 0);
    for (const char *p = v->analysis; *p != '\0'; p++) {
        assert_true(*p >= 0x20 && *p < 0x7f);
        assert_true(*p != '"' && *p != '\\');
    }
}

/* The analysis opens with "f=%zu m=%.2f p=%.2f mf=0x%x ff=0x%x": the
 * engine writes it without printf, so check the shape by hand. */
static void
assert_analysis_head(const struct verdict *v)
{
    const char *p = v->analysis;
    static const char *const keys[] = {"f=", " m=", " p=", " mf=0x",
                                       " ff=0x"};
    static const char *const digits[] = {"0123456789", "-0123456789.",
                                         "-0123456789.", "0123456789abcdef",
                                         "0123456789abcdef"};

    for (size_t k = 0; k < 5; k++) {
        size_t n = 0;

        assert_memory_equal(p, keys[k], strlen(keys[k]));
        p += strlen(keys[k]);
        while (p[n] != '\0' && strchr(digits[k], p[n]) != NULL) {
            n++;
        }
        assert_true(n > 0);
        /* No leading zeros in the counts and flags. */
        assert_true(k == 1 || k == 2 || n == 1 || p[0] != '0');
        p += n;
    }
    assert_true(*p == '\0' || *p == ' ');
}

static void
test_engine_samples_ordered(void **state)
{
    struct fx *f = *state;
    struct verdict ham = score_file(f, NULL, "ham_reply.eml");
    struct verdict news = score_file(f, NULL, "ham_newsletter.eml");
    struct verdict spam = score_file(f, NULL, "spam_offer.eml");
    struct verdict phish = score_file(f, NULL, "phish_account.eml");

    assert_true(ham.score < 50);
    assert_string_equal(ham.category_name, "legit");
    assert_true(spam.score > ham.score);
    assert_true(spam.score > news.score);
    assert_true(spam.score >= 50);
    assert_true(phish.score > ham.score);
    assert_true(phish.score >= 50);
    assert_true(phish.category == ENGINE_CAT_PHISHING ||
                phish.category == ENGINE_CAT_SPAM);
    assert_true(spam.category == ENGINE_CAT_SPAM ||
                spam.category == ENGINE_CAT_PHISHING);
    /* The embedded default always asks for a rescan. */
    assert_true(ham.rescan);
    assert_int_equal(ham.cartridge_version, cartridge_version(f->c));
    assert_false(ham.is_whitelisted);
    assert_analysis_clean(&ham);
    assert_analysis_clean(&spam);
    assert_analysis_head(&ham);
    assert_analysis_head(&spam);
    assert_analysis_head(&phish);
}

static void
test_engine_malware_rule(void **state)
{
    struct fx *f = *state;
    struct verdict v = score_file(f, NULL, "malware_invoice.eml");

    assert_int_equal(v.category, ENGINE_CAT_MALWARE);
    assert_string_equal(v.category_name, "malware");
    assert_string_equal(v.subcategory_name, "executable-attachment");
    assert_true(v.score >= 96);
}

static struct whitelist *
wl_from(const char *text)
{
    struct whitelist *wl = NULL;
    size_t n_errors = 0;

    assert_int_equal(whitelist_parse("wl.cfg", (const uint8_t *)text,
                                     strlen(text), &wl, NULL, NULL,
                                     &n_errors),
                     CM_OK);
    assert_int_equal(n_errors, 0);
    return wl;
}

static void
test_engine_whitelist_forces_zero(void **state)
{
    struct fx *f = *state;
    struct whitelist *wl;
    struct verdict v;
    static const char queued[] =
        "P I 12-01-2024 12:00:00 0000 ____ ____ <deals@promo.example>\n"
        "S SMTP [192.0.2.99]\n"
        "R W 12-01-2024 12:00:00 0000 ____ _FY_ <u@example.net>\n"
        "\n"
        "From: deals@promo.example\n"
        "Subject: CHEAP MEDS!!! BUY NOW\n"
        "\n"
        "Viagra cialis 80% off, click here, limited offer!!!\n";

    wl = wl_from("type = header; header = [From]; "
                 "value = [deals4u[0-9]+@promo-mailer];\n");
    v = score_file(f, wl, "spam_offer.eml");
    assert_int_equal(v.score, 0);
    assert_true(v.is_whitelisted);
    assert_int_equal(v.category, ENGINE_CAT_LEGIT);
    assert_analysis_clean(&v);
    /* A non-matching entry changes nothing. */
    v = score_file(f, wl, "ham_reply.eml");
    assert_false(v.is_whitelisted);
    whitelist_free(wl);

    /* Envelope entries match before the message is parsed. */
    wl = wl_from("type = host; address = [192.0.2.0/24];\n");
    assert_int_equal(score_mem(f->c, wl, f->s, (const uint8_t *)queued,
                               strlen(queued), NULL, &v),
                     CM_OK);
    assert_int_equal(v.score, 0);
    assert_true(v.is_whitelisted);
    whitelist_free(wl);
    wl = wl_from("type = envelope; command = [mail from]; "
                 "value = [.*@other\\.example];\n");
    assert_int_equal(score_mem(f->c, wl, f->s, (const uint8_t *)queued,
                               strlen(queued), NULL, &v),
                     CM_OK);
    assert_false(v.is_whitelisted);
    assert_true(v.score > 0);
    whitelist_free(wl);
}

struct fake_clock {
    uint64_t now_ms;
    uint64_t step_ms; /* added on every reading */
};

static uint64_t
fake_now(void *ctx)
{
    struct fake_clock *fc = ctx;
    uint64_t t = fc->now_ms;

    fc->now_ms += fc->step_ms;
    return t;
}

/* Memory refused while parsing (not the arena budget, which a hostile
 * message may reach): no verdict on the partial view -- CM_ENOMEM, so the
 * helper fails open.  Under an address-space limit a ham message scored
 * 96 "phishing" from what was left of it.  The next message, after the
 * arena's reset, is scored normally. */
static void
test_engine_out_of_memory(void **state)
{
    struct fx *f = *state;
    struct engine_scratch *s = engine_scratch_new();
    struct verdict want = score_file(f, NULL, "ham_reply.eml");
    struct verdict v;
    char path[] = "testdata/engine/ham_reply.eml";
    struct buf b;
    bool is_truncated = false;

    assert_non_null(s);
    buf_init(&b, CAPS_BODY_DEFAULT_BYTES);
    assert_int_equal(fsutil_read_file(path, CAPS_BODY_DEFAULT_BYTES, &b,
                                      &is_truncated, NULL),
                     CM_OK);
    /* A fresh scratch: the first arena allocation asks for a block. */
    arena_test_fail_nth_block(1);
    assert_int_equal(score_mem(f->c, NULL, s, b.data, b.len, NULL, &v),
                     CM_ENOMEM);
    arena_test_fail_nth_block(0);
    assert_int_equal(score_mem(f->c, NULL, s, b.data, b.len, NULL, &v),
                     CM_OK);
    assert_int_equal(v.score, want.score);
    assert_string_equal(v.analysis, want.analysis);
    buf_clear(&b);
    engine_scratch_free(s);
}

static void
test_engine_budget(void **state)
{
    struct fx *f = *state;
    static const char msg[] = "From: a@example.org\nSubject: hi\n\nhello\n";
    struct fake_clock fc = {1000, 0};
    struct budget b = {fake_now, &fc, 999};
    struct verdict v;

    /* Already past the deadline: nothing is done. */
    assert_int_equal(score_mem(f->c, NULL, f->s, (const uint8_t *)msg,
                               strlen(msg), &b, &v),
                     CM_ETIMEOUT);
    /* The deadline passes between phases. */
    for (uint64_t ticks = 1; ticks <= 2; ticks++) {
        fc.now_ms = 1000;
        fc.step_ms = 10;
        b.deadline_ms = 1000 + 10 * (ticks - 1);
        assert_int_equal(score_mem(f->c, NULL, f->s, (const uint8_t *)msg,
                                   strlen(msg), &b, &v),
                         CM_ETIMEOUT);
    }
    /* Enough time, or no clock at all: a verdict. */
    fc.now_ms = 1000;
    fc.step_ms = 1;
    b.deadline_ms = 5000;
    assert_int_equal(score_mem(f->c, NULL, f->s, (const uint8_t *)msg,
                               strlen(msg), &b, &v),
                     CM_OK);
    b.now_ms = NULL;
    assert_int_equal(score_mem(f->c, NULL, f->s, (const uint8_t *)msg,
                               strlen(msg), &b, &v),
                     CM_OK);
}

static void
test_engine_names_and_truncation(void **state)
{
    struct fx *f = *state;
    static const char msg[] = "From: a@example.org\nSubject: hi\n\nhello\n";
    struct message m;
    struct verdict v;

    assert_string_equal(engine_category_name(ENGINE_CAT_LEGIT), "legit");
    assert_string_equal(engine_category_name(ENGINE_CAT_SPAM), "spam");
    assert_string_equal(engine_category_name(ENGINE_CAT_PHISHING),
                        "phishing");
    assert_string_equal(engine_category_name(ENGINE_CAT_MALWARE), "malware");
    assert_string_equal(engine_category_name(ENGINE_CAT_BULK), "bulk");
    assert_string_equal(engine_version(), "1.0.0");
    m.data = (const uint8_t *)msg;
    m.len = strlen(msg);
    m.env = NULL;
    m.is_truncated = true;
    assert_int_equal(engine_score(f->c, NULL, &m, NULL, f->s, &v), CM_OK);
    assert_true(v.rescan);
    assert_true(v.mime_flags & MIME_TRUNCATED);
    /* Empty and garbage input still get a verdict. */
    m.len = 0;
    m.is_truncated = false;
    assert_int_equal(engine_score(f->c, NULL, &m, NULL, f->s, &v), CM_OK);
    assert_true(v.score <= 100);
    m.data = (const uint8_t *)"\xff\xfe\x00\x01";
    m.len = 4;
    assert_int_equal(engine_score(f->c, NULL, &m, NULL, f->s, &v), CM_OK);
    assert_analysis_clean(&v);
    engine_scratch_free(NULL);
}

/* ---- a cartridge trained here from synthetic mail --------------------- */

static const char *const ham_words[] = {
    "meeting", "agenda", "review", "patch", "build", "schedule",
    "thanks", "project", "release", "notes", "tomorrow", "report"};
static const char *const spam_words[] = {
    "cheap", "pills", "winner", "prize", "casino", "discount",
    "viagra", "lottery", "bonus", "offer", "credit", "loan"};

static void
synth_message(struct buf *b, bool spam, struct hashing_rng *r)
{
    const char *const *w = spam ? spam_words : ham_words;

    buf_reset(b);
    buf_printf(b, "From: %s@%s\nSubject: %s %s\n\n",
               spam ? "promo" : "colleague",
               spam ? "deals.example" : "work.example",
               w[hashing_rng_below(r, 12)], w[hashing_rng_below(r, 12)]);
    for (int i = 0; i < 30; i++) {
        buf_printf(b, "%s ", w[hashing_rng_below(r, 12)]);
    }
    buf_puts(b, "\n");
}

static void
test_engine_trained_cartridge(void **state)
{
    enum { N = 80 };
    struct arena *a = arena_new(CAPS_ARENA_MAX_BYTES);
    struct features_scratch *fs = features_scratch_new();
    struct engine_scratch *s = engine_scratch_new();
    struct hashing_rng r;
    struct buf msg;
    uint32_t *ids = malloc(N * CAPS_FEATURES_MAX * sizeof(uint32_t));
    size_t off[N + 1];
    uint8_t label[N];
    struct model_dataset ds;
    struct model_train_params p;
    struct model_weights mw;
    double margins[N];
    bool junk[N];
    struct model_calibration cal;
    struct buf model;
    struct buf calb;
    struct buf image;
    struct cartridge_body bodies[3];
    struct cartridge *c = NULL;
    struct verdict v;
    const char *meta = "trainer=test_engine\n";
    size_t k = 0;

    (void)state;
    hashing_rng_init(&r, 11);
    buf_init(&msg, 1u << 16);
    for (size_t i = 0; i < N; i++) {
        struct mime_doc doc;
        const uint32_t *fids = NULL;
        size_t n = 0;
        unsigned ff = 0;

        synth_message(&msg, i % 2 == 1, &r);
        arena_reset(a);
        assert_int_equal(mime_parse(a, msg.data, msg.len, &doc), CM_OK);
        features_extract(&doc, NULL, fs, NULL, NULL, &fids, &n, &ff);
        off[i] = k;
        memcpy(ids + k, fids, n * sizeof(uint32_t));
        k += n;
        label[i] = i % 2 == 1 ? MODEL_LABEL_SPAM : MODEL_LABEL_HAM;
    }
    off[N] = k;
    memset(&ds, 0, sizeof(ds));
    ds.ids = ids;
    ds.off = off;
    ds.label = label;
    ds.n = N;
    model_train_params_default(&p, FEATURES_HASH_BITS);
    p.norm_split = FEATURES_DENSE_IDS_END; /* as cmtool train does */
    assert_int_equal(model_weights_init(&mw, FEATURES_HASH_BITS), CM_OK);
    assert_int_equal(model_train(&mw, &ds, NULL, 0, &p), CM_OK);
    for (size_t i = 0; i < N; i++) {
        double mg[MODEL_HEADS];
        size_t high = 0;

        for (size_t j = off[i]; j < off[i + 1]; j++) {
            high += ids[j] >= FEATURES_DENSE_IDS_END;
        }
        model_weights_margins(&mw, ids + off[i], off[i + 1] - off[i],
                              off[i + 1] - off[i], high, mg);
        margins[i] = mg[MODEL_HEAD_JUNK];
        junk[i] = label[i] != MODEL_LABEL_HAM;
    }
    assert_int_equal(model_calibrate(margins, junk, NULL, NULL, N, 0.0005,
                                     &cal),
                     CM_OK);
    buf_init(&model, CAPS_CARTRIDGE_MAX_BYTES);
    buf_init(&calb, 4096);
    buf_init(&image, CAPS_CARTRIDGE_MAX_BYTES);
    assert_int_equal(model_format(&mw, FEATURES_VERSION, &model), CM_OK);
    assert_int_equal(model_calibration_format(&cal, &calb), CM_OK);
    bodies[0] = (struct cartridge_body){CARTRIDGE_SEC_META,
                                        (const uint8_t *)meta, strlen(meta)};
    bodies[1] = (struct cartridge_body){CARTRIDGE_SEC_MODEL, model.data,
                                        model.len};
    bodies[2] = (struct cartridge_body){CARTRIDGE_SEC_CALIBRATION, calb.data,
                                        calb.len};
    assert_int_equal(cartridge_format(7, 0, bodies, 3, &image), CM_OK);
    assert_int_equal(cartridge_load(image.data, image.len, &c, NULL), CM_OK);
    assert_false(cartridge_is_default(c));

    /* Fresh messages: spam-like scores high, ham-like low. */
    for (int i = 0; i < 6; i++) {
        bool spam = i % 2 == 1;

        synth_message(&msg, spam, &r);
        assert_int_equal(score_mem(c, NULL, s, msg.data, msg.len, NULL, &v),
                         CM_OK);
        if (spam) {
            assert_true(v.score >= 50);
            assert_int_equal(v.category, ENGINE_CAT_SPAM);
        } else {
            assert_true(v.score < 50);
            assert_int_equal(v.category, ENGINE_CAT_LEGIT);
        }
        assert_false(v.rescan);
        assert_int_equal(v.cartridge_version, 7);
    }
    cartridge_unref(c);
    buf_clear(&model);
    buf_clear(&calb);
    buf_clear(&image);
    buf_clear(&msg);
    model_weights_clear(&mw);
    free(ids);
    engine_scratch_free(s);
    features_scratch_free(fs);
    arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_engine_samples_ordered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_engine_malware_rule, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_engine_whitelist_forces_zero,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_out_of_memory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_engine_names_and_truncation,
                                        setup, teardown),
        cmocka_unit_test(test_engine_trained_cartridge),
    };

    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
