/*
 * test_learn.c -- CGPCloudmark LEARN (learn_main) when memory runs out:
 * the run writes nothing and exits 3, so the layer file is the one
 * before the run or a whole new one, never a half-learned one.  The rest
 * of LEARN is tested end to end by tests/integration/test_learn.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"
#include "fsutil.h"
#include "learn.h"
#include "sitelayer.h"

struct fixture {
    char dir[64];
    char cfg[128];
    char layer[128];
    char msg[128];
};

static void
write_text(const char *path, const char *text)
{
    assert_int_equal(fsutil_write_atomic(path, text, strlen(text), 0600),
                     CM_OK);
}

/* A message of 1,000 distinct made-up words: more open-vocabulary ids
 * than a new layer's table holds before it grows. */
static void
write_wordy_message(const char *path)
{
    size_t cap = 16u * 1024u;
    char *m = malloc(cap);
    size_t k;

    assert_non_null(m);
    k = (size_t)snprintf(m, cap, "From: a@b.example\r\nTo: c@d.example\r\n"
                                 "Subject: words\r\n\r\n");
    for (unsigned i = 0; i < 1000; i++) {
        k += (size_t)snprintf(m + k, cap - k, "zq%c%c%c%c ",
                              'a' + (char)(i % 26), 'a' + (char)(i / 26 % 26),
                              'a' + (char)(i / 676 % 26),
                              'a' + (char)(i % 7));
    }
    snprintf(m + k, cap - k, "\r\n");
    write_text(path, m);
    free(m);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[160];
    char text[512];

    if (f == NULL) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_learn.XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return -1;
    }
    snprintf(f->cfg, sizeof(f->cfg), "%s/CGPCloudmark.cfg", f->dir);
    snprintf(f->layer, sizeof(f->layer), "%s/site.learned", f->dir);
    snprintf(f->msg, sizeof(f->msg), "%s/wordy.eml", f->dir);
    snprintf(path, sizeof(path), "%s/cartridge.cfg", f->dir);
    snprintf(text, sizeof(text), "micro-update cache path = %s/cache\n",
             f->dir);
    write_text(path, text);
    snprintf(text, sizeof(text),
             "{\n  SiteLayerFile = \"%s\";\n"
             "  CartridgeConfig = \"%s/cartridge.cfg\";\n}\n",
             f->layer, f->dir);
    write_text(f->cfg, text);
    write_wordy_message(f->msg);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        return -1;
    }
    free(f);
    return 0;
}

static int
learn_spam(struct fixture *f)
{
    char *argv[] = {"LEARN", "spam", "-c", f->cfg, f->msg, NULL};

    return learn_main(5, argv);
}

/*
 * The layer's table cannot grow (its second allocation: the first is the
 * new layer's): LEARN exits 3 and writes no layer.  It used to weigh the
 * ids that fit, call the layer "full", and write it with exit 0.  Then
 * the message cannot be parsed for lack of memory: exit 3 too, not 1 ("no
 * usable message", as if the input were not mail).  With memory back
 * the same run learns and writes the layer.
 */
static void
test_learn_out_of_memory_writes_nothing(void **state)
{
    struct fixture *f = *state;

    sitelayer_test_fail_nth_alloc(2);
    assert_int_equal(learn_spam(f), 3);
    sitelayer_test_fail_nth_alloc(0);
    assert_false(fsutil_is_file(f->layer));

    arena_test_fail_nth_block(1);
    assert_int_equal(learn_spam(f), 3);
    arena_test_fail_nth_block(0);
    assert_false(fsutil_is_file(f->layer));

    assert_int_equal(learn_spam(f), 0);
    assert_true(fsutil_is_file(f->layer));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learn_out_of_memory_writes_nothing),
    };

    return cmocka_run_group_tests_name("learn", tests, setup, teardown);
}
