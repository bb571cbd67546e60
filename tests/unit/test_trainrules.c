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

/* The inputs of test_protect_file_lines: N_HAM ham messages. */
static void
ham_inputs(struct arena *a, struct features_scratch *fs,
           struct trainrules_input *in, struct trainrules_item **items)
{
    memset(in, 0, N_HAM * sizeof(*in));
    for (size_t i = 0; i < N_HAM; i++) {
        items[i] = collect(a, fs, ham_msg);
        in[i].it = items[i];
        in[i].weight = 1.0;
    }
}

/* trainrules_build with a --protect file holding text; its return code,
 * and what it wrote to stderr into err (cut to cap - 1 bytes). */
static enum cm_err
build_with_protect(const struct trainrules_input *in, size_t n,
                   const char *text, size_t len, char *path, size_t path_cap,
                   char *err, size_t cap)
{
    char err_path[] = "/tmp/test_trainrules.err.XXXXXX";
    int fd;
    int err_fd = mkstemp(err_path);
    int saved = dup(2);
    struct buf section;
    struct rules *r = NULL;
    enum cm_err rc;
    ssize_t got;

    snprintf(path, path_cap, "/tmp/test_trainrules.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0 && err_fd >= 0 && saved >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    buf_init(&section, CAPS_CARTRIDGE_MAX_BYTES);
    fflush(stderr);
    assert_true(dup2(err_fd, 2) >= 0);
    rc = trainrules_build(in, n, path, &section, &r);
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    got = pread(err_fd, err, cap - 1, 0);
    err[got > 0 ? (size_t)got : 0] = '\0';
    close(err_fd);
    unlink(err_path);
    unlink(path);
    rules_free(r);
    buf_clear(&section);
    return rc;
}

/*
 * The --protect file never drops a line silently: an entry that is no
 * domain (a leading or trailing dot, an empty label, no dot, a character
 * outside a-z 0-9 . -) fails the build with the file and line named
 * (".ourbank.example" used to pass, and the look-alike list then left it
 * out), and entries past CAPS_RULES_PROTECTED_MAX are each named in a
 * warning.
 */
static void
test_protect_file_lines(void **state)
{
    struct arena *a = arena_new(CAPS_ARENA_MAX_BYTES);
    struct features_scratch *fs = features_scratch_new();
    struct trainrules_input in[N_HAM];
    struct trainrules_item *items[N_HAM];
    static const char *const bad[] = {".ourbank.example", "ourbank.example.",
                                      "our..bank.example", "ourbank",
                                      "our_bank.example"};
    char path[64];
    char want[96];
    char *err = malloc(1u << 20);
    struct buf text;

    (void)state;
    assert_non_null(err);
    ham_inputs(a, fs, in, items);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char file[128];
        int len = snprintf(file, sizeof(file), "# ours\ngood.example\n%s\n",
                           bad[i]);

        assert_int_equal(build_with_protect(in, N_HAM, file, (size_t)len,
                                            path, sizeof(path), err,
                                            1u << 20),
                         CM_EPARSE);
        snprintf(want, sizeof(want), "%s line 3: ", path);
        assert_non_null(strstr(err, want));
    }
    /* More entries than fit: every one left out is named. */
    buf_init(&text, 2u << 20);
    for (unsigned i = 1; i <= CAPS_RULES_PROTECTED_MAX; i++) {
        char line[32];
        int len = snprintf(line, sizeof(line), "d%05u.example\n", i);

        assert_int_equal(buf_append(&text, line, (size_t)len), CM_OK);
    }
    assert_int_equal(build_with_protect(in, N_HAM, (const char *)text.data,
                                        text.len, path, sizeof(path), err,
                                        1u << 20),
                     CM_OK);
    snprintf(want, sizeof(want), "%s line %u: ", path,
             CAPS_RULES_PROTECTED_MAX);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "d08192.example"));
    snprintf(want, sizeof(want), "%s line 1: ", path);
    assert_null(strstr(err, want));
    /* A file over 1 MiB fails (its tail used to be cut, half a line
     * kept as a domain). */
    buf_reset(&text);
    while (text.len <= (1u << 20)) {
        assert_int_equal(buf_append(&text, "abcdefgh.example\n", 17), CM_OK);
    }
    assert_int_equal(build_with_protect(in, N_HAM, (const char *)text.data,
                                        text.len, path, sizeof(path), err,
                                        1u << 20),
                     CM_ELIMIT);
    assert_non_null(strstr(err, "larger than"));
    assert_int_equal(trainrules_protect_check("/nonexistent/protect"),
                     CM_EIO);
    buf_clear(&text);
    for (size_t i = 0; i < N_HAM; i++) {
        trainrules_item_free(items[i]);
    }
    free(err);
    features_scratch_free(fs);
    arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_protect_file_lines),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
