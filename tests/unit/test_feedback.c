/*
 * test_feedback.c -- unit tests for cmtool feedback's pure part: the
 * verdict a feedback mail's path asks for (feedback_label_of_path, and
 * feedback_label_below for the part at or below a DIR).  The
 * command itself runs in tests/integration/test_feedback.py.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <unistd.h>

#include "feedback.h"
#include "model.h"

static void
test_feedback_label_of_path(void **state)
{
    (void)state;
    assert_int_equal(feedback_label_of_path("reports/spam/1.eml"),
                     MODEL_LABEL_SPAM);
    assert_int_equal(feedback_label_of_path("/a/phish/x/y/2"),
                     MODEL_LABEL_PHISH);
    assert_int_equal(feedback_label_of_path("ham"), MODEL_LABEL_HAM);
    /* Any case; CGP mailbox suffixes; the deepest label wins. */
    assert_int_equal(feedback_label_of_path("Accounts/x/HAM.mdir/1-2.msg"),
                     MODEL_LABEL_HAM);
    assert_int_equal(feedback_label_of_path("spam/not-spam/ham//3"),
                     MODEL_LABEL_HAM);
    /* An mbox named by its label, and its n-th message "path:n". */
    assert_int_equal(feedback_label_of_path("box/Spam.mbox:12"),
                     MODEL_LABEL_SPAM);
    assert_int_equal(feedback_label_of_path("box/phish:3"),
                     MODEL_LABEL_PHISH);
    /* Look-alikes are no labels. */
    assert_int_equal(feedback_label_of_path("spammy/1.eml"), -1);
    assert_int_equal(feedback_label_of_path("x/spam.txt"), -1);
    assert_int_equal(feedback_label_of_path("x/spam:"), -1);
    assert_int_equal(feedback_label_of_path("x/:3"), -1);
    assert_int_equal(feedback_label_of_path(""), -1);
    assert_int_equal(feedback_label_of_path("///"), -1);
}

/* Folders above the DIR given never label: /home/spam/reports is no
 * spam folder for the mail below it. */
static void
test_feedback_label_below(void **state)
{
    (void)state;
    assert_int_equal(feedback_label_below("/home/spam/reports",
                                          "/home/spam/reports/x.eml"),
                     -1);
    assert_int_equal(feedback_label_below("/home/spam/reports/",
                                          "/home/spam/reports/x.eml"),
                     -1);
    /* DIR's own name labels, and so does anything below it. */
    assert_int_equal(feedback_label_below("/home/spam", "/home/spam/x.eml"),
                     MODEL_LABEL_SPAM);
    assert_int_equal(feedback_label_below("spam/", "spam/x.eml"),
                     MODEL_LABEL_SPAM);
    assert_int_equal(feedback_label_below("/home/spam/reports",
                                          "/home/spam/reports/Ham.mdir/1"),
                     MODEL_LABEL_HAM);
    assert_int_equal(feedback_label_below(".", "./phish/1"),
                     MODEL_LABEL_PHISH);
    assert_int_equal(feedback_label_below("/", "/spam/1"), MODEL_LABEL_SPAM);
    /* An mbox given by itself, and its n-th message. */
    assert_int_equal(feedback_label_below("box/Spam.mbox",
                                          "box/Spam.mbox:2"),
                     MODEL_LABEL_SPAM);
    /* A file given by itself: its folder is above it. */
    assert_int_equal(feedback_label_below("spam/1.eml", "spam/1.eml"), -1);
    /* Not below dir (a name that only starts the same): no label. */
    assert_int_equal(feedback_label_below("/a/re", "/a/reports/spam/1"),
                     -1);
    assert_int_equal(feedback_label_below("/a", "/b/spam/1"), -1);
}

/* An empty DIR names nothing: no label, and no byte before it is read
 * (the "" sits right after an unreadable page here, so a read of dir[-1]
 * faults). */
static void
test_feedback_label_below_empty_dir(void **state)
{
    long page = sysconf(_SC_PAGESIZE);
    char *map;

    (void)state;
    assert_true(page > 0);
    map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map, (size_t)page, PROT_NONE), 0);
    map[page] = '\0';
    assert_int_equal(feedback_label_below(map + page, "spam/1.eml"), -1);
    assert_int_equal(feedback_label_below(map + page, "/spam/1.eml"), -1);
    assert_int_equal(feedback_label_below(map + page, ""), -1);
    munmap(map, (size_t)page * 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feedback_label_of_path),
        cmocka_unit_test(test_feedback_label_below),
        cmocka_unit_test(test_feedback_label_below_empty_dir),
    };

    return cmocka_run_group_tests_name("feedback", tests, NULL, NULL);
}
