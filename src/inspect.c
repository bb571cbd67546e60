/*
 * inspect.c -- cmtool inspect FILE: what a cartridge holds (SPEC §5).
 *
 * Prints the header (format, version, created), each section (type, size,
 * CRC ok or BAD), then, when the whole file validates, the META pairs, the
 * model's dimensions and non-zero weights, the calibration knots, the
 * category table, the campaign fingerprints (counts by kind and
 * category), the reputation lists (counts by kind and action, the
 * first entries of each kind) and the heuristic rules (weight, category,
 * floor and subcategory of each, the first protected domains); with
 * --all every reputation entry and protected domain, one a line, so a
 * publisher can check what a cartridge blocks and protects.  A file that
 * does not validate still gets its header
 * and section table shown (when those parse) and the reason, and the
 * command exits 1.  Manifests and update files are shown by
 * publish_inspect_main (publish.c), with or without --all.
 * Reads the file with fsutil (bounded by CAPS_CARTRIDGE_MAX_BYTES); output
 * on stdout, errors on stderr.
 */
#include "inspect.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"
#include "caps.h"
#include "cartridge.h"
#include "fingerprint.h"
#include "fsutil.h"
#include "lookalike.h"
#include "model.h"
#include "publish.h"
#include "reputation.h"
#include "rules.h"

static const char *
section_name(uint32_t type)
{
    switch (type) {
    case CARTRIDGE_SEC_META:
        return "META";
    case CARTRIDGE_SEC_MODEL:
        return "MODEL";
    case CARTRIDGE_SEC_CALIBRATION:
        return "CALIBRATION";
    case CARTRIDGE_SEC_CATEGORY:
        return "CATEGORY";
    case CARTRIDGE_SEC_FINGERPRINTS:
        return "FINGERPRINTS";
    case CARTRIDGE_SEC_REPUTATION:
        return "REPUTATION";
    case CARTRIDGE_SEC_ALLOWLIST:
        return "ALLOWLIST";
    case CARTRIDGE_SEC_RULES:
        return "RULES";
    default:
        return "unknown";
    }
}

/* Fingerprint entries by kind (rows) and category (columns). */
static void
print_fingerprints(const struct fingerprint_db *db)
{
    size_t n[FINGERPRINT_URL + 1][FINGERPRINT_CAT_MALWARE + 1];

    if (db == NULL) {
        printf("fingerprints: none\n");
        return;
    }
    memset(n, 0, sizeof(n));
    for (size_t i = 0; i < fingerprint_db_size(db); i++) {
        const struct fingerprint_entry *e = fingerprint_db_at(db, i);

        n[e->kind][e->category]++;
    }
    printf("fingerprints: %zu entries, body match at %u of %u min-hashes\n",
           fingerprint_db_size(db), fingerprint_db_match_min(db),
           (unsigned)FINGERPRINT_K);
    for (unsigned k = FINGERPRINT_BODY; k <= FINGERPRINT_URL; k++) {
        printf("  %-10s %7zu  (spam %zu, phishing %zu, malware %zu)\n",
               fingerprint_kind_name((enum fingerprint_kind)k),
               fingerprint_db_count(db, (enum fingerprint_kind)k),
               n[k][FINGERPRINT_CAT_SPAM], n[k][FINGERPRINT_CAT_PHISHING],
               n[k][FINGERPRINT_CAT_MALWARE]);
    }
}

#define INSPECT_REPUTATION_SHOWN 5u

/* Reputation entries by kind and action, and the first few of each kind
 * (all with --all) as list lines. */
static void
print_reputation(const struct reputation_db *db, bool is_all)
{
    size_t shown[REPUTATION_URL_HOST + 1] = {0};

    if (db == NULL) {
        printf("reputation: none\n");
        return;
    }
    printf("reputation: %zu entries\n", reputation_db_size(db));
    for (unsigned k = REPUTATION_IPV4; k <= REPUTATION_URL_HOST; k++) {
        printf("  %-8s block %7zu  allow %7zu\n",
               reputation_kind_name((enum reputation_kind)k),
               reputation_db_count(db, (enum reputation_kind)k,
                                   REPUTATION_BLOCK),
               reputation_db_count(db, (enum reputation_kind)k,
                                   REPUTATION_ALLOW));
    }
    for (size_t i = 0; i < reputation_db_size(db); i++) {
        const struct reputation_entry *e = reputation_db_at(db, i);
        struct reputation_item it;
        char text[REPUTATION_TEXT_MAX];

        if (is_all || shown[e->kind]++ < INSPECT_REPUTATION_SHOWN) {
            reputation_entry_item(e, &it);
            reputation_item_text(&it, text, sizeof(text));
            printf("    %s\n", text);
        }
    }
}

#define INSPECT_PROTECTED_SHOWN 40u

/* The rule table and the first protected domains (brands marked "*"),
 * with --all every one on a line of its own, as --protect reads them. */
static void
print_rules(const struct cartridge *c, bool is_all)
{
    static const char *const cats[] = {"legit", "spam", "phishing",
                                       "malware", "bulk"};
    const struct rules *r = cartridge_rules(c);
    const struct lookalike_db *db = rules_protected(r);
    size_t n = lookalike_db_count(db);

    printf("rules: %s\n", cartridge_has_rules(c)
                              ? "RULES section"
                              : "built-in (no RULES section)");
    for (unsigned i = 0; i < RULES_COUNT; i++) {
        const struct rules_rule *x = rules_rule_at(r, (enum rules_id)i);

        printf("  %-22s weight %+7.3f  %-8s floor %3u  sub %s\n",
               rules_name(i), x->weight,
               x->category <= RULES_CAT_BULK ? cats[x->category] : "?",
               (unsigned)x->floor, x->sub[0] != '\0' ? x->sub : "-");
    }
    printf("  protected domains: %zu", n);
    if (is_all) {
        printf("\n");
        for (size_t i = 0; i < n; i++) {
            printf("    %s%s\n", lookalike_db_at(db, i),
                   lookalike_is_brand(db, i) ? "*" : "");
        }
        return;
    }
    for (size_t i = 0; i < n && i < INSPECT_PROTECTED_SHOWN; i++) {
        printf("%s%s%s", i == 0 ? " (" : " ", lookalike_db_at(db, i),
               lookalike_is_brand(db, i) ? "*" : "");
    }
    printf("%s\n", n > INSPECT_PROTECTED_SHOWN ? " ...)" : n > 0 ? ")" : "");
}

static void
print_loaded(const struct cartridge *c, bool is_all)
{
    const struct model *m = cartridge_model(c);
    const struct model_calibration *cal = cartridge_calibration(c);
    size_t n = cartridge_meta_count(c);

    printf("meta:\n");
    for (size_t i = 0; i < n; i++) {
        const char *k = NULL;
        const char *v = NULL;

        if (cartridge_meta_at(c, i, &k, &v)) {
            printf("  %s = %s\n", k, v);
        }
    }
    printf("model:\n");
    printf("  features version %u, hash bits %u (%zu ids), heads %u\n",
           model_features_version(m), model_hash_bits(m),
           (size_t)1 << model_hash_bits(m), (unsigned)MODEL_HEADS);
    if (model_split(m) == MODEL_SPLIT_NONE) {
        printf("  normalisation: one block\n");
    } else {
        printf("  normalisation: two blocks, ids below %u and from it on\n",
               (unsigned)model_split(m));
    }
    printf("  junk head:  bias %+.4f, %zu non-zero weights\n",
           model_bias(m, MODEL_HEAD_JUNK), model_nonzero(m, MODEL_HEAD_JUNK));
    printf("  phish head: bias %+.4f, %zu non-zero weights\n",
           model_bias(m, MODEL_HEAD_PHISH),
           model_nonzero(m, MODEL_HEAD_PHISH));
    printf("calibration (junk margin -> score):\n");
    for (size_t i = 0; i < cal->n_knots; i++) {
        printf("  %+9.4f -> %5.1f\n", (double)cal->margin[i],
               (double)cal->score[i]);
    }
    printf("  score 96 from margin %+.4f; phishing from phish margin "
           "%+.4f\n",
           (double)cal->margin_96, (double)cal->phish_margin);
    printf("categories:\n");
    for (size_t i = 0; i < cartridge_category_count(c); i++) {
        uint32_t code = 0;
        const char *name = NULL;
        const char *desc = NULL;

        if (cartridge_category_at(c, i, &code, &name, &desc)) {
            printf("  %u %-10s %s\n", code, name, desc);
        }
    }
    print_fingerprints(cartridge_fingerprints(c));
    print_reputation(cartridge_reputation(c), is_all);
    print_rules(c, is_all);
}

/* The whole usage, both halves: -h and --help each print all of it. */
static void
usage(FILE *to)
{
    fprintf(to,
            "usage: cmtool inspect [--all] [-k KEYDIR] [--public FILE] "
            "[--content FILE] FILE\n"
            "  FILE: a cartridge, a manifest or an update file (.cmu);"
            " with keys the\n"
            "  signature is verified and an update file decrypted and "
            "checked.\n"
            "  For a cartridge: header, sections, meta, model, "
            "calibration, categories,\n"
            "  fingerprint counts, reputation lists, rules and protected "
            "domains;\n"
            "  --all lists every reputation entry and protected domain "
            "(a manifest or\n"
            "  update file is always shown whole).\n");
}

/* -h or --help anywhere: asked before the file is looked at, so the
 * answer does not depend on what FILE holds. */
static bool
wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return true;
        }
    }
    return false;
}

int
inspect_main(int argc, char **argv)
{
    struct buf b;
    bool is_truncated = false;
    const char *why = NULL;
    struct cartridge_header hdr;
    struct cartridge_section secs[CAPS_CARTRIDGE_SECTIONS_MAX];
    size_t n_secs = 0;
    struct cartridge *c = NULL;
    int status = 1;
    const char *path;
    bool is_all = false;

    if (wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    /* Manifests and update files belong to the update network's code. */
    status = publish_inspect_main(argc, argv);
    if (status != PUBLISH_INSPECT_NOT_MINE) {
        return status;
    }
    status = 1;
    /* The key options of the synopsis are taken and not needed: a
     * cartridge carries no signature, so one inspect line serves every
     * file of a published tree. */
    path = NULL;
    for (int i = 1; i < argc; i++) {
        bool has_val = i + 1 < argc;

        if (strcmp(argv[i], "--all") == 0) {
            is_all = true;
        } else if ((strcmp(argv[i], "-k") == 0 ||
                    strcmp(argv[i], "--public") == 0 ||
                    strcmp(argv[i], "--content") == 0) &&
                   has_val) {
            i++;
        } else if (argv[i][0] != '-' && path == NULL) {
            path = argv[i];
        } else {
            path = NULL;
            break;
        }
    }
    if (path == NULL) {
        usage(stderr);
        return 2;
    }
    buf_init(&b, CAPS_CARTRIDGE_MAX_BYTES);
    if (fsutil_read_file(path, CAPS_CARTRIDGE_MAX_BYTES, &b, &is_truncated,
                         &why) != CM_OK) {
        fprintf(stderr, "cmtool inspect: %s: %s\n", path,
                why != NULL ? why : "cannot read");
        goto out;
    }
    if (is_truncated) {
        fprintf(stderr, "cmtool inspect: %s: larger than %u bytes\n", path,
                CAPS_CARTRIDGE_MAX_BYTES);
        goto out;
    }
    if (cartridge_header_parse(b.data, b.len, &hdr, secs,
                               CAPS_CARTRIDGE_SECTIONS_MAX, &n_secs,
                               &why) != CM_OK) {
        fprintf(stderr, "cmtool inspect: %s: %s\n", path,
                why != NULL ? why : "not a cartridge");
        goto out;
    }
    printf("%s: cartridge format %u, version %llu, created %llu, %zu "
           "bytes\n",
           path, hdr.format, (unsigned long long)hdr.version,
           (unsigned long long)hdr.created_unix, b.len);
    printf("sections:\n");
    for (size_t i = 0; i < n_secs; i++) {
        uLong crc = crc32(0L, Z_NULL, 0);

        crc = crc32(crc, b.data + secs[i].offset, (uInt)secs[i].length);
        printf("  %-12s type %u  offset %llu  size %llu  crc %08x %s\n",
               section_name(secs[i].type), secs[i].type,
               (unsigned long long)secs[i].offset,
               (unsigned long long)secs[i].length, secs[i].crc32,
               (uint32_t)crc == secs[i].crc32 ? "ok" : "BAD");
    }
    if (cartridge_load(b.data, b.len, &c, &why) != CM_OK) {
        fprintf(stderr, "cmtool inspect: %s: invalid: %s\n", path,
                why != NULL ? why : "?");
        goto out;
    }
    print_loaded(c, is_all);
    status = 0;

out:
    cartridge_unref(c);
    buf_clear(&b);
    return status;
}
