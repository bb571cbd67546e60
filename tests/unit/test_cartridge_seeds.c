/*
 * test_cartridge_seeds.c -- the trained fuzz seed cartridges
 * (tests/fuzz/corpus/cartridge/trained-*.cmc) still load with this build.
 *
 * They exist so the cartridge fuzzer starts from images that reach every
 * section parser.  A cartridge is refused as a whole when its model was
 * built for another feature set, so after each FEATURES_VERSION change
 * the seeds silently stopped at that check and fuzzed nothing behind it
 * until someone noticed.  This test makes the change fail instead: no
 * seed may be refused for its feature set, and at least one must load.
 * Fix by retraining them (cmtool train on a tiny labelled tree, as the
 * commit that made them did) -- never by deleting this test.  Run from
 * the top of the tree (tests/run-unit.sh does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "cartridge.h"
#include "err.h"

#define SEED_DIR "tests/fuzz/corpus/cartridge"

static void
test_cartridge_seeds_load(void **state)
{
    DIR *d = opendir(SEED_DIR);
    struct dirent *e;
    size_t n_seeds = 0;
    size_t n_loaded = 0;

    (void)state;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char path[512];
        struct cartridge *c = NULL;
        const char *why = NULL;
        size_t len = strlen(e->d_name);

        if (strncmp(e->d_name, "trained-", 8) != 0 || len < 4 ||
            strcmp(e->d_name + len - 4, ".cmc") != 0) {
            continue;
        }
        n_seeds++;
        snprintf(path, sizeof(path), "%s/%s", SEED_DIR, e->d_name);
        if (cartridge_load_file(path, &c, &why) == CM_OK) {
            n_loaded++;
            cartridge_unref(c);
            continue;
        }
        if (why != NULL && strstr(why, "feature set") != NULL) {
            fail_msg("%s: %s -- FEATURES_VERSION changed: retrain the "
                     "trained-*.cmc fuzz seeds", path, why);
        }
    }
    closedir(d);
    assert_true(n_seeds > 0);
    if (n_loaded == 0) {
        fail_msg("no trained-*.cmc fuzz seed loads: retrain them");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cartridge_seeds_load),
    };

    return cmocka_run_group_tests_name("cartridge_seeds", tests, NULL,
                                       NULL);
}
