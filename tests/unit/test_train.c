/*
 * test_train.c -- unit tests for the parts of cmtool train that stand
 * alone (train-int.h); the command as a whole is tested by
 * tests/integration/test_train.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "caps.h"
#include "mime.h"

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_sender_key_raw_address),
    };

    return cmocka_run_group_tests_name("train", tests, NULL, NULL);
}
