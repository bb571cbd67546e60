/*
 * test_train.c -- unit tests for the parts of cmtool train that stand
 * alone (train-int.h), and the command's answer to an allocation failure
 * (injected through a test hook; run from the top of the tree, as make
 * check does, for testdata/); the command as a whole is tested by
 * tests/integration/test_train.py.
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
#include "caps.h"
#include "fsutil.h"
#include "mime.h"
#include "train.h"
#include "trainfp.h"
#include "trainrep.h"
#include "trainrules.h"

#include "../../src/train-int.h"

/* The sender key of a message holding only the header block hdrs. */
static uint64_t
key_of(const char *hdrs)
{
    struct arena *a = arena_new(CAPS_ARENA_MAX_BYTES);
    struct mime_doc doc;
    uint64_t k;

    assert_non_null(a);
    assert_int_equal(mime_parse(a, (const uint8_t *)hdrs, strlen(hdrs),
                                &doc),
                     CM_OK);
    k = train_sender_key(&doc, "/corpus/x");
    arena_free(a);
    return k;
}

/*
 * The key comes from the address as the engine reads it, before RFC 2047
 * decoding: a display name encoded to decode to another address
 * ("support@bank.example") does not move the message to that sender's
 * group, nor does any other encoded name.
 */
static void
test_train_sender_key_raw_address(void **state)
{
    uint64_t plain = key_of("From: x@spam.example\r\n\r\nhi\r\n");

    (void)state;
    assert_int_equal(key_of("From: =?utf-8?q?support=40bank.example?= "
                            "<x@spam.example>\r\n\r\nhi\r\n"),
                     plain);
    assert_int_equal(key_of("From: =?utf-8?b?QW5u?= <X@Spam.example>\r\n"
                            "\r\nhi\r\n"),
                     plain);
    assert_int_equal(key_of("From: \"Ann\" <x@spam.example>\r\n\r\nhi\r\n"),
                     plain);
    assert_int_not_equal(key_of("From: y@spam.example\r\n\r\nhi\r\n"),
                         plain);
    /* no From: the message's own path */
    assert_int_not_equal(key_of("Subject: s\r\n\r\nhi\r\n"), plain);
}

/*
 * A message's training data that cannot be allocated is no message
 * without those facts: train went on and wrote a cartridge whose
 * FINGERPRINTS section silently lacked that message's campaign, or whose
 * rule and reputation weights were fitted without its facts (exit 0).
 * Now it stops with "out of memory" and writes nothing.
 */
static void
check_enomem_stops_train(void (*arm)(unsigned nth))
{
    char dir[] = "/tmp/test_train.XXXXXX";
    char out[sizeof(dir) + 16];
    char *argv[] = {"train", "--version", "1", "testdata/update/train",
                    "-o", out, NULL};

    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof(out), "%s/out.cmc", dir);
    arm(1);
    assert_int_equal(train_main(6, argv), 1);
    arm(0);
    assert_false(fsutil_is_file(out));
    /* Without the failure the same run writes the cartridge. */
    assert_int_equal(train_main(6, argv), 0);
    assert_true(fsutil_is_file(out));
    assert_int_equal(unlink(out), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void
test_train_fingerprint_enomem_fails(void **state)
{
    (void)state;
    check_enomem_stops_train(trainfp_test_fail_nth_alloc);
}

static void
test_train_rules_enomem_fails(void **state)
{
    (void)state;
    check_enomem_stops_train(trainrules_test_fail_nth_alloc);
}

static void
test_train_reputation_enomem_fails(void **state)
{
    (void)state;
    check_enomem_stops_train(trainrep_test_fail_nth_alloc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_sender_key_raw_address),
        cmocka_unit_test(test_train_fingerprint_enomem_fails),
        cmocka_unit_test(test_train_rules_enomem_fails),
        cmocka_unit_test(test_train_reputation_enomem_fails),
    };

    return cmocka_run_group_tests_name("train", tests, NULL, NULL);
}
