/*
 * fuzz_rules.c -- libFuzzer target for the RULES section parser and the
 * look-alike checks: a section that parses formats back to one that
 * parses to the same table and protected list; the input as a host name,
 * a display name and punycode never reads outside itself; the category
 * choice keeps the score within 0..100 and names a known category.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "caps.h"
#include "lookalike.h"
#include "rules.h"

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_rules(const struct rules *a, const struct rules *b)
{
    const struct lookalike_db *da = rules_protected(a);
    const struct lookalike_db *db = rules_protected(b);

    for (unsigned i = 0; i < RULES_COUNT; i++) {
        const struct rules_rule *x = rules_rule_at(a, (enum rules_id)i);
        const struct rules_rule *y = rules_rule_at(b, (enum rules_id)i);

        check(x->weight == y->weight && x->category == y->category &&
              x->floor == y->floor && strcmp(x->sub, y->sub) == 0);
    }
    check(lookalike_db_count(da) == lookalike_db_count(db));
    for (size_t i = 0; i < lookalike_db_count(da); i++) {
        check(strcmp(lookalike_db_at(da, i), lookalike_db_at(db, i)) == 0);
        check(lookalike_is_brand(da, i) == lookalike_is_brand(db, i));
    }
}

static void
reformat(const struct rules *r)
{
    const struct lookalike_db *db = rules_protected(r);
    size_t n = lookalike_db_count(db);
    const char **names = calloc(n > 0 ? n : 1, sizeof(*names));
    bool *brand = calloc(n > 0 ? n : 1, sizeof(*brand));
    struct rules_rule t[RULES_COUNT];
    struct rules *again = NULL;
    struct buf b;

    check(names != NULL && brand != NULL);
    for (size_t i = 0; i < n; i++) {
        names[i] = lookalike_db_at(db, i);
        brand[i] = lookalike_is_brand(db, i);
    }
    for (unsigned i = 0; i < RULES_COUNT; i++) {
        t[i] = *rules_rule_at(r, (enum rules_id)i);
    }
    buf_init(&b, CAPS_CARTRIDGE_MAX_BYTES);
    check(rules_format(t, names, brand, n, &b) == CM_OK);
    check(rules_parse(b.data, b.len, &again, NULL) == CM_OK);
    same_rules(r, again);
    rules_free(again);
    buf_clear(&b);
    free(names);
    free(brand);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rules *r = NULL;
    const char *why = NULL;
    unsigned cp[64];
    size_t which = 0;

    check(lookalike_punycode_decode((const char *)data, size, cp, 64) <= 64);
    if (rules_parse(data, size, &r, &why) != CM_OK) {
        check(why != NULL && r == NULL);
        r = NULL;
    } else {
        reformat(r);
    }
    {
        const struct rules *use = r != NULL ? r : rules_builtin();
        const struct lookalike_db *db = rules_protected(use);
        enum lookalike_kind k =
            lookalike_check(db, (const char *)data, size, &which);
        unsigned score = size > 0 ? data[0] % 101u : 0;
        uint32_t fired = size > 1 ? data[1] : 0;
        enum rules_category cat = RULES_CAT_LEGIT;
        const char *sub = NULL;

        check(k == LOOKALIKE_NONE || k == LOOKALIKE_MIXED_SCRIPT ||
              which < lookalike_db_count(db));
        (void)lookalike_display_name(db, (const char *)data, size,
                                     (const char *)data, size,
                                     size > 3 && (data[3] & 1) != 0, NULL);
        rules_classify(use, fired, size > 2 && (data[2] & 1) != 0, &score,
                       &cat, &sub);
        check(score <= 100 && cat <= RULES_CAT_BULK && sub != NULL);
    }
    rules_free(r);
    return 0;
}
