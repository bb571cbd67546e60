/*
 * test_sitelayer.c -- the site's LEARN layer: learning steps (all or
 * nothing when the table cannot grow), the overlap
 * gate, the file format (round trip and refusals) and the slot's reload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "buf.h"
#include "featureset.h"
#include "fsutil.h"
#include "sitelayer.h"

#define OPEN(k) (FEATURES_DENSE_IDS_END + 100u * (uint32_t)(k))

/* ids 0..n-1 of the open range, plus two dense ids never learned. */
static size_t
message(uint32_t *ids, size_t first, size_t n)
{
    size_t k = 0;

    ids[k++] = FEATURES_RESTRICTED_IDS + 5u;
    ids[k++] = 7u;
    for (size_t i = 0; i < n; i++) {
        ids[k++] = OPEN(first + i);
    }
    return k;
}

static void
test_learn_reaches_target(void **state)
{
    struct sitelayer *l = sitelayer_new();
    uint32_t ids[64];
    size_t n = message(ids, 0, 20);
    bool is_full = true;

    (void)state;
    assert_non_null(l);
    assert_true(sitelayer_margin(l, ids, n) == 0.0);
    /* spam at margin 1, target 3: the open ids get +0.1 each */
    assert_true(sitelayer_learn(l, ids, n, 1.0, 3.0, true, &is_full));
    assert_false(is_full);
    assert_int_equal(sitelayer_count(l), 20);
    assert_true(sitelayer_margin(l, ids, n) > 1.999 &&
                sitelayer_margin(l, ids, n) < 2.001);
    /* already past the target: nothing to do */
    assert_false(sitelayer_learn(l, ids, n, 3.5, 3.0, true, &is_full));
    /* ham: down to -1 from margin 3 */
    assert_true(sitelayer_learn(l, ids, n, 3.0, -1.0, false, &is_full));
    assert_true(sitelayer_margin(l, ids, n) > -2.001 &&
                sitelayer_margin(l, ids, n) < -1.999);
    /* only dense ids: nothing learnable */
    assert_false(sitelayer_learn(l, ids, 2, 0.0, 5.0, true, &is_full));
    sitelayer_free(l);
}

static void
test_weights_are_clipped(void **state)
{
    struct sitelayer *l = sitelayer_new();
    uint32_t ids[8];
    size_t n = message(ids, 0, 2);
    bool is_full;

    (void)state;
    assert_true(sitelayer_learn(l, ids, n, 0.0, 100.0, true, &is_full));
    assert_true(sitelayer_margin(l, ids, n) <= 2 * SITELAYER_WEIGHT_MAX);
    sitelayer_free(l);
}

/* A message sharing few of its words with what was learned gets little or
 * nothing of the learned weights; a near copy gets them all. */
static void
test_overlap_gate(void **state)
{
    struct sitelayer *l = sitelayer_new();
    uint32_t learned[128];
    uint32_t variant[128];
    uint32_t other[128];
    size_t n_learned = message(learned, 0, 100);
    size_t n_variant = message(variant, 10, 100); /* 90% shared */
    size_t n_other = message(other, 80, 100);     /* 20% shared */
    bool is_full;

    (void)state;
    assert_true(sitelayer_learn(l, learned, n_learned, 0.0, 10.0, true,
                                &is_full));
    assert_true(sitelayer_margin(l, variant, n_variant) > 8.9);
    assert_true(sitelayer_margin(l, other, n_other) == 0.0);
    sitelayer_free(l);
}

static void
test_save_load_round_trip(void **state)
{
    char dir[] = "/tmp/test_sitelayer.XXXXXX";
    char path[64];
    struct sitelayer *l = sitelayer_new();
    struct sitelayer *back = NULL;
    uint32_t ids[700];
    size_t n = message(ids, 0, 600);
    const char *why = NULL;
    bool is_full;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/layer", dir);
    assert_int_equal(sitelayer_load(path, &back, &why), CM_ENOENT);
    /* enough ids to make the table grow a few times */
    assert_true(sitelayer_learn(l, ids, n, -1.0, 2.0, true, &is_full));
    assert_int_equal(sitelayer_save(l, path), CM_OK);
    assert_int_equal(sitelayer_load(path, &back, &why), CM_OK);
    assert_int_equal(sitelayer_count(back), 600);
    assert_true(sitelayer_margin(back, ids, n) ==
                sitelayer_margin(l, ids, n));
    sitelayer_free(back);
    sitelayer_free(l);
    unlink(path);
    rmdir(dir);
}

/* The image of a layer with the given entries, CRC fixed up. */
static size_t
image(uint8_t *p, const uint32_t *ids, size_t n, uint32_t fversion)
{
    struct sitelayer *l = sitelayer_new();
    char dir[] = "/tmp/test_sitelayer.XXXXXX";
    char path[64];
    struct buf b;
    bool is_truncated;
    size_t len;
    bool is_full;

    assert_true(sitelayer_learn(l, ids, n, 0.0, 1.0, true, &is_full));
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/layer", dir);
    assert_int_equal(sitelayer_save(l, path), CM_OK);
    buf_init(&b, 1 << 20);
    assert_int_equal(fsutil_read_file(path, 1 << 20, &b, &is_truncated, NULL),
                     CM_OK);
    memcpy(p, b.data, b.len);
    len = b.len;
    buf_clear(&b);
    unlink(path);
    rmdir(dir);
    sitelayer_free(l);
    p[8] = (uint8_t)fversion;
    return len;
}

static void
test_parse_refusals(void **state)
{
    uint8_t p[4096];
    uint32_t ids[8];
    size_t n = message(ids, 0, 4);
    size_t len = image(p, ids, n, FEATURES_VERSION);
    struct sitelayer *l = NULL;
    const char *why = NULL;

    (void)state;
    assert_int_equal(sitelayer_parse(p, len, &l, &why), CM_OK);
    sitelayer_free(l);
    /* truncated, extended, flipped byte (checksum), bad magic */
    assert_int_equal(sitelayer_parse(p, len - 1, &l, &why), CM_EPARSE);
    assert_int_equal(sitelayer_parse(p, 3, &l, &why), CM_EPARSE);
    p[20] ^= 1;
    assert_int_equal(sitelayer_parse(p, len, &l, &why), CM_EPARSE);
    assert_string_equal(why, "site layer checksum mismatch");
    p[20] ^= 1;
    p[0] = 'X';
    assert_int_equal(sitelayer_parse(p, len, &l, &why), CM_EPARSE);
    assert_null(l);
    /* learned under another feature set */
    len = image(p, ids, n, FEATURES_VERSION + 1);
    assert_int_equal(sitelayer_parse(p, len, &l, &why), CM_EVERSION);
}

static void
test_slot_refresh(void **state)
{
    char dir[] = "/tmp/test_sitelayer.XXXXXX";
    char path[64];
    struct sitelayer_slot *s = sitelayer_slot_new(NULL);
    struct sitelayer *l = sitelayer_new();
    const struct sitelayer *held;
    const struct sitelayer *now;
    uint32_t ids[16];
    size_t n = message(ids, 0, 10);
    const char *why = NULL;
    bool is_changed = true;
    bool is_full;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/layer", dir);
    /* no file: nothing */
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_OK);
    assert_false(is_changed);
    assert_null(sitelayer_acquire(s));
    /* a file appears: loaded */
    assert_true(sitelayer_learn(l, ids, n, 0.0, 1.0, true, &is_full));
    assert_int_equal(sitelayer_save(l, path), CM_OK);
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_OK);
    assert_true(is_changed);
    held = sitelayer_acquire(s);
    assert_int_equal(sitelayer_count(held), 10);
    /* unchanged: not reloaded */
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_OK);
    assert_false(is_changed);
    /* a bad file: refused once, the old layer keeps serving */
    assert_int_equal(fsutil_write_atomic(path, "junk", 4, 0600), CM_OK);
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_EPARSE);
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_OK);
    now = sitelayer_acquire(s);
    assert_ptr_equal(now, held);
    sitelayer_release(s, now);
    /* removed: the slot empties; the reference held stays valid */
    unlink(path);
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_OK);
    assert_true(is_changed);
    assert_null(sitelayer_acquire(s));
    assert_int_equal(sitelayer_count(held), 10);
    sitelayer_release(s, held);
    sitelayer_slot_free(s);
    sitelayer_free(l);
    rmdir(dir);
}

/* Only a missing file means "no layer": any other stat() failure keeps
 * the layer in service, reported once until it changes. */
static void
test_slot_refresh_stat_error_keeps_layer(void **state)
{
    char dir[] = "/tmp/test_sitelayer.XXXXXX";
    char path[64];
    struct sitelayer_slot *s = sitelayer_slot_new(NULL);
    struct sitelayer *l = sitelayer_new();
    const struct sitelayer *held;
    const struct sitelayer *now;
    uint32_t ids[16];
    size_t n = message(ids, 0, 10);
    const char *why = NULL;
    bool is_changed = false;
    bool is_full;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/layer", dir);
    assert_true(sitelayer_learn(l, ids, n, 0.0, 1.0, true, &is_full));
    assert_int_equal(sitelayer_save(l, path), CM_OK);
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_OK);
    held = sitelayer_acquire(s);
    assert_non_null(held);
    /* a link to itself: stat() fails with ELOOP, not ENOENT */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink(path, path), 0);
    assert_int_not_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                         CM_OK);
    assert_false(is_changed);
    assert_non_null(why);
    now = sitelayer_acquire(s);
    assert_ptr_equal(now, held);
    sitelayer_release(s, now);
    /* the same failure again is not reported again */
    why = NULL;
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_OK);
    assert_false(is_changed);
    now = sitelayer_acquire(s);
    assert_ptr_equal(now, held);
    sitelayer_release(s, now);
    /* gone for real: the slot empties */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_OK);
    assert_true(is_changed);
    assert_null(sitelayer_acquire(s));
    sitelayer_release(s, held);
    sitelayer_slot_free(s);
    sitelayer_free(l);
    rmdir(dir);
}

/*
 * A load that failed for a reason outside the file -- out of descriptors
 * here (EMFILE), or EACCES until an administrator's chown or chmod, which
 * leave size and mtime as they were -- is tried again at the next
 * refresh.  It used to be remembered like a bad file, so the layer LEARN
 * wrote stayed out of service until the next LEARN changed the file.
 */
static void
test_slot_refresh_retries_after_io_error(void **state)
{
    char dir[] = "/tmp/test_sitelayer.XXXXXX";
    char path[64];
    struct sitelayer_slot *s = sitelayer_slot_new(NULL);
    struct sitelayer *l = sitelayer_new();
    const struct sitelayer *now;
    uint32_t ids[16];
    size_t n = message(ids, 0, 10);
    const char *why = NULL;
    bool is_changed = false;
    bool is_full;
    struct rlimit old;
    struct rlimit low;
    int fds[64];
    size_t n_fds = 0;
    int null_fd;
    enum cm_err rc;
    enum cm_err rc_again;
    bool is_changed_again = true;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/layer", dir);
    assert_true(sitelayer_learn(l, ids, n, 0.0, 1.0, true, &is_full));
    assert_int_equal(sitelayer_save(l, path), CM_OK);
    /* Every descriptor in use: stat() works, open() fails. */
    null_fd = open("/dev/null", O_RDONLY);
    assert_true(null_fd >= 0);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 32;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    for (;;) {
        int fd = dup(null_fd);

        if (fd < 0) {
            assert_int_equal(errno, EMFILE);
            break;
        }
        assert_true(n_fds < sizeof(fds) / sizeof(fds[0]));
        fds[n_fds++] = fd;
    }
    rc = sitelayer_slot_refresh(s, path, &is_changed, &why);
    /* Tried again, failing the same way: not reported again (the helper
     * refreshes every minute and would log the same line each time). */
    rc_again = sitelayer_slot_refresh(s, path, &is_changed_again, &why);
    while (n_fds > 0) {
        close(fds[--n_fds]);
    }
    close(null_fd);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(rc, CM_EIO);
    assert_false(is_changed);
    assert_int_equal(rc_again, CM_OK);
    assert_false(is_changed_again);
    assert_null(sitelayer_acquire(s));
    /* Descriptors again, the file unchanged: loaded now. */
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_OK);
    assert_true(is_changed);
    now = sitelayer_acquire(s);
    assert_non_null(now);
    assert_int_equal(sitelayer_count(now), 10);
    sitelayer_release(s, now);
    /* and, loaded, not again */
    assert_int_equal(sitelayer_slot_refresh(s, path, &is_changed, &why),
                     CM_OK);
    assert_false(is_changed);
    sitelayer_slot_free(s);
    sitelayer_free(l);
    unlink(path);
    rmdir(dir);
}

/*
 * A step that needs the table to grow and cannot (allocation failure)
 * changes nothing and is not "full": it used to weigh the ids it could
 * hold, skip the rest as if the layer were full, and report a change,
 * which LEARN then saved.
 */
static void
test_learn_out_of_memory_changes_nothing(void **state)
{
    struct sitelayer *l = sitelayer_new();
    uint32_t *ids = calloc(702, sizeof(*ids));
    size_t n;
    bool is_full = false;

    (void)state;
    assert_non_null(l);
    assert_non_null(ids);
    /* 700 open ids: the 1,024-slot table must grow past 512 */
    n = message(ids, 0, 700);
    sitelayer_test_fail_nth_alloc(1);
    assert_false(sitelayer_learn(l, ids, n, 0.0, 1.0, true, &is_full));
    sitelayer_test_fail_nth_alloc(0);
    assert_false(is_full);
    assert_true(sitelayer_is_out_of_memory(l));
    assert_int_equal(sitelayer_count(l), 0);
    assert_true(sitelayer_margin(l, ids, n) == 0.0);
    /* memory back: the same step goes through whole */
    assert_true(sitelayer_learn(l, ids, n, 0.0, 1.0, true, &is_full));
    assert_int_equal(sitelayer_count(l), 700);
    free(ids);
    sitelayer_free(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learn_reaches_target),
        cmocka_unit_test(test_learn_out_of_memory_changes_nothing),
        cmocka_unit_test(test_weights_are_clipped),
        cmocka_unit_test(test_overlap_gate),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_slot_refresh),
        cmocka_unit_test(test_slot_refresh_stat_error_keeps_layer),
        cmocka_unit_test(test_slot_refresh_retries_after_io_error),
    };

    return cmocka_run_group_tests_name("sitelayer", tests, NULL, NULL);
}
