/*
 * test_trainrules.c -- the trainer's half of the rules: the protected
 * list (seed brands, domains frequent in ham, the --protect file), the
 * fitted weights (junk-only rule up, bulk never up), the learned
 * categories (a "phishing" rule firing only in spam becomes spam, one
 * firing once in spam stays phishing), the
 * category-only rules' weight staying 0, and
 * that the section it writes parses.
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
#include "buf.h"
#include "caps.h"
#include "featureset.h"
#include "lookalike.h"
#include "mime.h"
#include "trainrules.h"

#define N_HAM 40
#define N_SPAM 20
#define N_PHISH 10

static const char ham_msg[] =
    "From: News <news@example.org>\r\nSubject: monthly\r\n"
    "List-Id: <news.example.org>\r\nContent-Type: text/html\r\n\r\n"
    "<a href=\"https://www.example.org/a\">read more</a>\r\n";
static const char spam_msg[] =
    "From: offers@cheap.example\r\nSubject: deal\r\n"
    "Content-Type: text/html\r\n\r\n"
    "<a href=\"http://track.bulkmail.example/x\">www.bigstore.example</a>\r\n";
/* One spam message of N_SPAM: its reply-to-freemail firing in 1 of 20
 * spam and 0 of 10 phish is no evidence against "phishing". */
static const char spam_rare_msg[] =
    "From: offers@cheap.example\r\nSubject: deal\r\n"
    "Reply-To: desk@gmail.com\r\nContent-Type: text/html\r\n\r\n"
    "<a href=\"http://track.bulkmail.example/x\">www.bigstore.example</a>\r\n";
static const char phish_msg[] =
    "From: alerts@notice.example\r\nSubject: verify\r\n"
    "Authentication-Results: mx.example.org; spf=softfail\r\n"
    "Content-Type: text/html\r\n\r\n"
    "<a href=\"https://login.examp1e.org/x\">Restore access</a>\r\n";

static struct trainrules_item *
collect(struct arena *a, struct features_scratch *fs, const char *msg)
{
    struct mime_doc doc;
    const uint32_t *ids = NULL;
    size_t n = 0;
    unsigned fflags = 0;
    struct trainrules_item *it;

    arena_reset(a);
    assert_int_equal(mime_parse(a, (const uint8_t *)msg, strlen(msg), &doc),
                     CM_OK);
    features_extract(&doc, NULL, fs, NULL, NULL, &ids, &n, &fflags);
    it = trainrules_collect(&doc, fflags);
    assert_non_null(it);
    return it;
}

static void
test_build(void **state)
{
    struct arena *a = arena_new(CAPS_ARENA_MAX_BYTES);
    struct features_scratch *fs = features_scratch_new();
    struct trainrules_input in[N_HAM + N_SPAM + N_PHISH];
    struct trainrules_item *items[N_HAM + N_SPAM + N_PHISH];
    size_t n = 0;
    struct buf section;
    struct rules *r = NULL;
    char prot[] = "/tmp/test_trainrules.XXXXXX";
    int fd = mkstemp(prot);
    const struct lookalike_db *db;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "# ours\nOurBank.example\n", 23), 23);
    close(fd);
    memset(in, 0, sizeof(in));
    for (size_t i = 0; i < N_HAM + N_SPAM + N_PHISH; i++) {
        const char *m = i < N_HAM              ? ham_msg
                        : i == N_HAM          ? spam_rare_msg
                        : i < N_HAM + N_SPAM ? spam_msg
                                              : phish_msg;

        items[n] = collect(a, fs, m);
        in[n].it = items[n];
        in[n].is_junk = i >= N_HAM;
        in[n].is_phish = i >= N_HAM + N_SPAM;
        in[n].weight = 1.0;
        in[n].margin = 0.0;
        n++;
    }
    buf_init(&section, 1u << 20);
    assert_int_equal(trainrules_build(in, n, prot, &section, &r), CM_OK);
    assert_non_null(r);
    db = rules_protected(r);
    /* Seed brand, the admin's file (lower-cased), frequent ham domain. */
    assert_true(lookalike_is_protected(db, "paypal.com", 10));
    assert_true(lookalike_is_protected(db, "ourbank.example", 15));
    assert_true(lookalike_is_protected(db, "example.org", 11));
    assert_false(lookalike_is_protected(db, "cheap.example", 13));
    /* The look-alike of the ham domain fires in phish only. */
    assert_int_equal(trainrules_item_fired(r, items[N_HAM + N_SPAM]) &
                         (1u << RULES_LOOKALIKE_DOMAIN),
                     1u << RULES_LOOKALIKE_DOMAIN);
    assert_true(rules_rule_at(r, RULES_LOOKALIKE_DOMAIN)->weight > 0.5);
    assert_int_equal(rules_rule_at(r, RULES_LOOKALIKE_DOMAIN)->category,
                     RULES_CAT_PHISHING);
    /* Deceptive links fired only in spam: spam, not phishing. */
    assert_true(rules_rule_at(r, RULES_DECEPTIVE_LINK)->weight > 0.5);
    assert_int_equal(rules_rule_at(r, RULES_DECEPTIVE_LINK)->category,
                     RULES_CAT_SPAM);
    /* A category-only rule fired only in phish: phishing, weight 0 (it
     * names the junk, the score stays the model's). */
    assert_true((trainrules_item_fired(r, items[N_HAM + N_SPAM]) &
                 (1u << RULES_AUTH_FAILED)) != 0);
    assert_true(rules_rule_at(r, RULES_AUTH_FAILED)->weight == 0.0);
    assert_int_equal(rules_rule_at(r, RULES_AUTH_FAILED)->category,
                     RULES_CAT_PHISHING);
    assert_true((trainrules_item_fired(r, items[N_HAM]) &
                 (1u << RULES_REPLY_TO_FREEMAIL)) != 0);
    assert_int_equal(rules_rule_at(r, RULES_REPLY_TO_FREEMAIL)->category,
                     RULES_CAT_PHISHING);
    /* Bulk markers fired only in ham: never junk evidence. */
    assert_true(rules_rule_at(r, RULES_BULK_MARKERS)->weight <= 0.0);
    assert_true(rules_rule_at(r, RULES_BULK_MARKERS)->weight >=
                -TRAINRULES_CLIP);
    /* The section written is the one returned. */
    {
        struct rules *again = NULL;

        assert_int_equal(rules_parse(section.data, section.len, &again,
                                     NULL),
                         CM_OK);
        assert_int_equal(lookalike_db_count(rules_protected(again)),
                         lookalike_db_count(db));
        rules_free(again);
    }
    rules_free(r);
    r = NULL;
    /* An unreadable --protect file fails the build. */
    buf_reset(&section);
    assert_int_equal(trainrules_build(in, n, "/nonexistent/protect", &section,
                                      &r),
                     CM_EIO);
    assert_null(r);
    for (size_t i = 0; i < n; i++) {
        trainrules_item_free(items[i]);
    }
    unlink(prot);
    buf_clear(&section);
    features_scratch_free(fs);
    arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
