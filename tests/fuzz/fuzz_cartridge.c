/*
 * fuzz_cartridge.c -- libFuzzer target for cartridge_load (and the model,
 * calibration, META and CATEGORY parsers behind it).  A cartridge that
 * loads must be fully usable: every accessor and a scoring pass over a
 * few ids stay inside the object.
 *
 * Every section carries a CRC32, so almost every mutation of a body would
 * stop at the CRC check; each input is therefore loaded twice: as it is,
 * and as a copy whose table CRCs are recomputed over the (mutated) bodies,
 * which takes mutations on to the section parsers.
 *
 * Seeds: `cmtool train --version 7 --seed 1 --folds 2 --passes 1
 * testdata/update/train -o corpus/cartridge/trained-v7.cmc` (and variants);
 * a FEATURES_VERSION bump makes older seeds stop at "model built for
 * another feature set", so retrain them then.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "caps.h"
#include "cartridge.h"
#include "featureset.h"
#include "model.h"

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
get_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* A malloc'ed copy of data with every in-bounds section's CRC made right,
 * or NULL when the table itself does not fit.  The table (cartridge.h): the
 * header ends in n_sections u32, then n x (type u32, offset u64, length
 * u64, crc32 u32). */
static uint8_t *
with_fixed_crcs(const uint8_t *data, size_t size)
{
    uint8_t *copy;
    uint64_t n;

    if (size < CARTRIDGE_HEADER_LEN) {
        return NULL;
    }
    n = get_le(data + CARTRIDGE_HEADER_LEN - 4, 4);
    if (n > CAPS_CARTRIDGE_SECTIONS_MAX ||
        n * CARTRIDGE_ENTRY_LEN > size - CARTRIDGE_HEADER_LEN) {
        return NULL;
    }
    copy = malloc(size);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, data, size);
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *e = copy + CARTRIDGE_HEADER_LEN + i * CARTRIDGE_ENTRY_LEN;
        uint64_t off = get_le(e + 4, 8);
        uint64_t len = get_le(e + 12, 8);
        uLong crc;

        if (off > size || len > size - off) {
            continue;
        }
        crc = crc32(crc32(0L, Z_NULL, 0), copy + off, (uInt)len);
        for (size_t b = 0; b < 4; b++) {
            e[20 + b] = (uint8_t)(crc >> (8 * b));
        }
    }
    return copy;
}

static void
load_and_check(const uint8_t *data, size_t size)
{
    struct cartridge *c = NULL;
    const char *why = NULL;
    struct cartridge_header h;
    struct cartridge_section secs[CAPS_CARTRIDGE_SECTIONS_MAX];
    size_t n = 0;

    if (cartridge_header_parse(data, size, &h, secs,
                               CAPS_CARTRIDGE_SECTIONS_MAX, &n,
                               &why) == CM_OK) {
        for (size_t i = 0; i < n; i++) {
            check(secs[i].offset <= size &&
                  secs[i].length <= size - secs[i].offset);
        }
    } else {
        check(why != NULL);
    }
    /* The section parsers on their own: past the CRC check the fuzzer
     * could not otherwise reach their inner states. */
    {
        struct model *m = NULL;
        struct model_calibration cal;

        if (model_parse(data, size, FEATURES_VERSION, FEATURES_HASH_BITS, &m,
                        &why) == CM_OK) {
            uint32_t id = 12345;
            double mg[MODEL_HEADS];

            model_margins(m, &id, 1, mg);
            check(isfinite(mg[0]) && isfinite(mg[1]));
            model_free(m);
        }
        if (model_calibration_parse(data, size, &cal, &why) == CM_OK) {
            check(cal.n_knots >= 2 && cal.n_knots <= MODEL_CAL_KNOTS_MAX);
            check(model_calibration_score(&cal, 0.5) <= 100);
            /* Knot differences stay finite even in float arithmetic. */
            check(isfinite(cal.margin[cal.n_knots - 1] - cal.margin[0]));
            check(isfinite(cal.phish_margin - cal.margin_96));
        }
    }
    if (cartridge_load(data, size, &c, &why) != CM_OK) {
        check(why != NULL && c == NULL);
        return;
    }
    {
        const struct model *m = cartridge_model(c);
        const struct model_calibration *cal = cartridge_calibration(c);
        uint32_t ids[4] = {0, 1, FEATURES_RESTRICTED_IDS,
                           (1u << FEATURES_HASH_BITS) - 1u};
        double mg[MODEL_HEADS];
        const char *k = NULL;
        const char *v = NULL;
        uint32_t code = 0;
        const char *name = NULL;
        const char *desc = NULL;
        struct cartridge_section s;

        model_margins(m, ids, 4, mg);
        check(isfinite(mg[0]) && isfinite(mg[1]));
        check(model_calibration_score(cal, mg[0]) <= 100);
        check(model_calibration_score(cal, -1e30) <= 100);
        for (size_t i = 0; cartridge_meta_at(c, i, &k, &v); i++) {
            check(cartridge_meta(c, k) != NULL);
        }
        for (size_t i = 0; cartridge_category_at(c, i, &code, &name, &desc);
             i++) {
            check(strlen(name) > 0 && cartridge_category_name(c, code));
        }
        for (size_t i = 0; cartridge_section_at(c, i, &s); i++) {
            check(s.offset + s.length <= size);
        }
        (void)cartridge_version(c);
    }
    cartridge_ref(c);
    cartridge_unref(c);
    cartridge_unref(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *fixed = with_fixed_crcs(data, size);

    load_and_check(data, size);
    if (fixed != NULL) {
        load_and_check(fixed, size);
        free(fixed);
    }
    return 0;
}
