/*
 * test_render.c -- answer lines and header lines: default scores, names
 * from the config, hostile text, the 4096-byte cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "caps.h"
#include "cgpstr.h"
#include "config.h"
#include "engine.h"
#include "render.h"

static char answer[CAPS_ANSWER_MAX + 1];

static void
verdict_init(struct verdict *v, unsigned score)
{
    memset(v, 0, sizeof(*v));
    v->score = score;
    snprintf(v->category_name, sizeof(v->category_name), "%s",
             score >= 50 ? "spam" : "legit");
}

static const char *
render(const struct config *cfg, const char *seq, const struct verdict *v)
{
    size_t len = 0;

    assert_int_equal(render_answer(cfg, seq, v, answer, sizeof(answer),
                                   &len),
                     CM_OK);
    assert_int_equal(len, strlen(answer));
    assert_true(len <= CAPS_ANSWER_MAX);
    return answer;
}

/*
 * Check that line is one protocol line whose quoted argument decodes to
 * exactly want (header lines joined by "\n").
 */
static void
assert_round_trip(const char *line, const char *want, size_t want_len)
{
    const char *q = strstr(line, " ADDHEADER \"");
    size_t len = strlen(line);
    size_t used = 0;
    struct buf dec;

    assert_non_null(q);
    assert_true(len >= 5);
    /* One line: the only byte below 0x20 is the final LF. */
    for (size_t i = 0; i + 1 < len; i++) {
        assert_true((unsigned char)line[i] >= 0x20 &&
                    (unsigned char)line[i] != 0x7f);
    }
    assert_int_equal(line[len - 1], '\n');
    q += strlen(" ADDHEADER ");
    buf_init(&dec, 1 << 16);
    assert_int_equal(cgpstr_unquote((const uint8_t *)q,
                                    len - (size_t)(q - line), &used, &dec),
                     CM_OK);
    /* The quoted string ends exactly before " OK\n". */
    assert_string_equal(q + used, " OK\n");
    assert_int_equal(dec.len, want_len);
    assert_memory_equal(dec.data, want, want_len);
    buf_clear(&dec);
}

static void
test_render_default_scores(void **state)
{
    static const struct {
        unsigned score;
        const char *want;
    } cases[] = {
        {0, "7 ADDHEADER \"X-Junk-Score: 0 []\\eX-Cloudmark-Score: 0 []\" "
            "OK\n"},
        {39, "7 ADDHEADER \"X-Junk-Score: 39 [X]\\eX-Cloudmark-Score: 39 "
             "[X]\" OK\n"},
        {40, "7 ADDHEADER \"X-Junk-Score: 40 [XX]\\eX-Cloudmark-Score: 40 "
             "[XX]\" OK\n"},
        {90, "7 ADDHEADER \"X-Junk-Score: 90 [XXX]\\eX-Cloudmark-Score: 90 "
             "[XXX]\" OK\n"},
        {91, "7 ADDHEADER \"X-Junk-Score: 91 [XXXX]\\eX-Cloudmark-Score: 91 "
             "[XXXX]\\eX-Alert: possible spam!\\eX-Color: red\" OK\n"},
        {96, "7 ADDHEADER \"X-Junk-Score: 96 [XXXXX]\\eX-Cloudmark-Score: 96 "
             "[XXXXX]\\eX-Alert: possible spam!\\eX-Color: red\" OK\n"},
        {100, "7 ADDHEADER \"X-Junk-Score: 100 [XXXXXX]\\eX-Cloudmark-Score: "
              "100 [XXXXXX]\\eX-Alert: possible spam!\\eX-Color: red\" OK\n"},
        /* Out-of-range scores are shown as 100. */
        {250, "7 ADDHEADER \"X-Junk-Score: 100 [XXXXXX]\\eX-Cloudmark-Score: "
              "100 [XXXXXX]\\eX-Alert: possible spam!\\eX-Color: red\" OK\n"},
    };
    struct config cfg;
    struct verdict v;

    (void)state;
    config_defaults(&cfg);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        verdict_init(&v, cases[i].score);
        assert_string_equal(render(&cfg, "7", &v), cases[i].want);
    }
}

static void
test_render_spec_example(void **state)
{
    struct config cfg;
    struct verdict v;

    (void)state;
    config_defaults(&cfg);
    verdict_init(&v, 92);
    assert_string_equal(render(&cfg, "00012", &v),
                        "00012 ADDHEADER \"X-Junk-Score: 92 [XXXX]\\e"
                        "X-Cloudmark-Score: 92 [XXXX]\\eX-Alert: possible "
                        "spam!\\eX-Color: red\" OK\n");
    assert_round_trip(answer,
                      "X-Junk-Score: 92 [XXXX]\nX-Cloudmark-Score: 92 "
                      "[XXXX]\nX-Alert: possible spam!\nX-Color: red",
                      strlen("X-Junk-Score: 92 [XXXX]\nX-Cloudmark-Score: "
                             "92 [XXXX]\nX-Alert: possible spam!\nX-Color: "
                             "red"));
}

static void
test_render_configured_names(void **state)
{
    struct config cfg;
    struct verdict v;

    (void)state;
    config_defaults(&cfg);
    snprintf(cfg.junk_header, sizeof(cfg.junk_header), "X-Spam-Level");
    cfg.score_header[0] = '\0';
    snprintf(cfg.alert_header, sizeof(cfg.alert_header),
             "X-Alert: \"really\" spam\\");
    cfg.color_header[0] = '\0';
    cfg.alert_threshold = 50;
    verdict_init(&v, 60);
    assert_string_equal(render(&cfg, "3", &v),
                        "3 ADDHEADER \"X-Spam-Level: 60 [XX]\\eX-Alert: "
                        "\\\"really\\\" spam\\\\\" OK\n");
    /* AlertThreshold 101 never alerts. */
    cfg.alert_threshold = 101;
    verdict_init(&v, 100);
    assert_string_equal(render(&cfg, "3", &v),
                        "3 ADDHEADER \"X-Spam-Level: 100 [XXXXXX]\" OK\n");
}

static void
test_render_minimum_score_and_no_headers(void **state)
{
    struct config cfg;
    struct verdict v;

    (void)state;
    config_defaults(&cfg);
    cfg.minimum_score = 40;
    verdict_init(&v, 39);
    assert_string_equal(render(&cfg, "9", &v), "9 OK\n");
    verdict_init(&v, 40);
    assert_non_null(strstr(render(&cfg, "9", &v), "ADDHEADER"));
    /* Every header disabled. */
    config_defaults(&cfg);
    cfg.junk_header[0] = '\0';
    cfg.score_header[0] = '\0';
    verdict_init(&v, 80);
    assert_string_equal(render(&cfg, "9", &v), "9 OK\n");
    /* Only the alert lines, at the threshold. */
    verdict_init(&v, 91);
    assert_string_equal(render(&cfg, "9", &v),
                        "9 ADDHEADER \"X-Alert: possible spam!\\eX-Color: "
                        "red\" OK\n");
}

static void
test_render_analysis_header(void **state)
{
    struct config cfg;
    struct verdict v;
    char plain[2048];
    size_t len = 0;

    (void)state;
    config_defaults(&cfg);
    cfg.add_analysis_header = true;
    verdict_init(&v, 97);
    snprintf(v.subcategory_name, sizeof(v.subcategory_name), "pharma");
    v.rescan = true;
    snprintf(v.analysis, sizeof(v.analysis), "fp=3 m=0.97");
    assert_string_equal(render(&cfg, "1", &v),
                        "1 ADDHEADER \"X-Junk-Score: 97 [XXXXX]\\e"
                        "X-Cloudmark-Score: 97 [XXXXX]\\eX-Alert: possible "
                        "spam!\\eX-Color: red\\eX-Cloudmark-Analysis: v=1 "
                        "s=97 c=spam sc=pharma r=1 fp=3 m=0.97\" OK\n");
    assert_int_equal(render_headers(&cfg, &v, plain, sizeof(plain), &len),
                     CM_OK);
    assert_string_equal(plain,
                        "X-Junk-Score: 97 [XXXXX]\nX-Cloudmark-Score: 97 "
                        "[XXXXX]\nX-Alert: possible spam!\nX-Color: red\n"
                        "X-Cloudmark-Analysis: v=1 s=97 c=spam sc=pharma "
                        "r=1 fp=3 m=0.97");
    assert_int_equal(len, strlen(plain));
    assert_round_trip(answer, plain, len);
    /* Empty names and details. */
    memset(&v, 0, sizeof(v));
    cfg.junk_header[0] = '\0';
    cfg.score_header[0] = '\0';
    assert_string_equal(render(&cfg, "1", &v),
                        "1 ADDHEADER \"X-Cloudmark-Analysis: v=1 s=0 c=- "
                        "sc=- r=0\" OK\n");
}

/*
 * Nothing from a verdict can add a line or break the quoting.  CGP decodes
 * the quoted string and an escaped LF ("\010") in the decoded text ends a
 * header line like "\e" does: what CGP decodes must hold exactly the four
 * separators as line breaks, with control bytes (TAB aside) and bytes that
 * are not well-formed UTF-8 turned into '?'.
 */
static void
test_render_hostile_text(void **state)
{
    static const char hostile[] = "a\"b\\c\r\nX-Evil: 1\n\x01\x1f\x7f"
                                  "\\e\\\" OK\n1 DISCARD\t\xc3\xa9"
                                  " \xff\xc3x\xed\xa0\x80\xf4\x90\x80\x80"
                                  "\xe2\x82";
    static const char hostile_plain[] = "a\"b\\c??X-Evil: 1????"
                                        "\\e\\\" OK?1 DISCARD\t\xc3\xa9"
                                        " ??x?????????";
    struct config cfg;
    struct verdict v;
    char want[2048];
    char plain[2048];
    size_t len = 0;
    int n;

    (void)state;
    config_defaults(&cfg);
    cfg.add_analysis_header = true;
    verdict_init(&v, 99);
    snprintf(v.category_name, sizeof(v.category_name), "sp\"am\r\n\\");
    snprintf(v.subcategory_name, sizeof(v.subcategory_name), "x\ny");
    snprintf(v.analysis, sizeof(v.analysis), "%s", hostile);
    render(&cfg, "5", &v);
    n = snprintf(want, sizeof(want),
                 "X-Junk-Score: 99 [XXXXX]\nX-Cloudmark-Score: 99 "
                 "[XXXXX]\nX-Alert: possible spam!\nX-Color: red\n"
                 "X-Cloudmark-Analysis: v=1 s=99 c=sp\"am??\\ sc=x?y "
                 "r=0 %s",
                 hostile_plain);
    assert_round_trip(answer, want, (size_t)n);
    /* Decoded, the value holds exactly the four line breaks. */
    {
        size_t lfs = 0;

        for (int i = 0; i < n; i++) {
            lfs += want[i] == '\n' || want[i] == '\r';
        }
        assert_int_equal(lfs, 4);
    }
    /* Exactly four \e separators: no header was added. */
    {
        size_t seps = 0;
        for (const char *p = answer; (p = strstr(p, "\\e")) != NULL; p++) {
            /* "\\e" preceded by an escaped backslash is text, not EOL. */
            size_t k = 0;
            while (p - k > answer && p[-1 - (long)k] == '\\') {
                k++;
            }
            seps += k % 2 == 0;
        }
        assert_int_equal(seps, 4);
    }
    /* The plain lines replace control bytes and stay five lines. */
    assert_int_equal(render_headers(&cfg, &v, plain, sizeof(plain), &len),
                     CM_OK);
    {
        size_t lines = 1;
        for (size_t i = 0; i < len; i++) {
            lines += plain[i] == '\n';
            assert_true((unsigned char)plain[i] >= 0x20 || plain[i] == '\n');
        }
        assert_int_equal(lines, 5);
    }
}

/* Fields without a NUL are bounded by their size. */
static void
test_render_unterminated_fields(void **state)
{
    struct config cfg;
    struct verdict v;

    (void)state;
    config_defaults(&cfg);
    cfg.add_analysis_header = true;
    verdict_init(&v, 10);
    memset(v.category_name, 'c', sizeof(v.category_name));
    memset(v.subcategory_name, 's', sizeof(v.subcategory_name));
    memset(v.analysis, 'a', sizeof(v.analysis));
    render(&cfg, "1", &v);
    assert_non_null(strstr(answer, " c=cccccccccccccccccccccccccccccccc "
                                   "sc=ssssssssssssssssssssssssssssssss "));
}

/*
 * The cap.  Control bytes no longer reach the escaper (they become '?'),
 * so the worst an escape does is double a byte ('\\', '"', TAB): with
 * every field at its size and full of such bytes, and the longest
 * sequence token, the answer still fits CAPS_ANSWER_MAX with all five
 * headers kept (the line dropping in render_answer stays as a guard).
 */
static void
test_render_answer_cap(void **state)
{
    struct config cfg;
    struct verdict v;
    size_t len = 0;
    char seq[CAPS_RENDER_SEQ_MAX + 1];
    static const char fill[] = {'\\', '"', '\t', 0x01, '\n'};

    (void)state;
    memset(seq, '9', CAPS_RENDER_SEQ_MAX);
    seq[CAPS_RENDER_SEQ_MAX] = '\0';
    config_defaults(&cfg);
    cfg.add_analysis_header = true;
    memset(cfg.junk_header, '\\', CONFIG_HEADER_MAX - 1);
    cfg.junk_header[CONFIG_HEADER_MAX - 1] = '\0';
    memset(cfg.score_header, '"', CONFIG_HEADER_MAX - 1);
    cfg.score_header[CONFIG_HEADER_MAX - 1] = '\0';
    memset(cfg.alert_header, '"', CONFIG_TEXT_MAX - 1);
    memcpy(cfg.alert_header, "X-A: ", 5);
    cfg.alert_header[CONFIG_TEXT_MAX - 1] = '\0';
    memset(cfg.color_header, '"', CONFIG_TEXT_MAX - 1);
    memcpy(cfg.color_header, "X-C: ", 5);
    cfg.color_header[CONFIG_TEXT_MAX - 1] = '\0';
    verdict_init(&v, 100);
    for (size_t f = 0; f < sizeof(fill); f++) {
        memset(v.category_name, fill[f], sizeof(v.category_name) - 1);
        memset(v.subcategory_name, fill[f], sizeof(v.subcategory_name) - 1);
        memset(v.analysis, fill[f], sizeof(v.analysis) - 1);
        v.analysis[sizeof(v.analysis) - 1] = '\0';
        assert_int_equal(render_answer(&cfg, seq, &v, answer, sizeof(answer),
                                       &len),
                         CM_OK);
        assert_true(len <= CAPS_ANSWER_MAX);
        assert_int_equal(len, strlen(answer));
        assert_non_null(strstr(answer, "\\eX-C: \\\""));
        assert_non_null(strstr(answer, "\\eX-Cloudmark-Analysis: v=1 "));
        assert_string_equal(answer + len - 5, "\" OK\n");
    }
}

static void
test_render_bad_arguments(void **state)
{
    struct config cfg;
    struct verdict v;
    size_t len = 77;
    char small[CAPS_ANSWER_MAX];
    char seq[CAPS_RENDER_SEQ_MAX + 2];

    (void)state;
    config_defaults(&cfg);
    verdict_init(&v, 50);
    assert_int_equal(render_answer(&cfg, "1", &v, small, sizeof(small), &len),
                     CM_EINVAL);
    assert_int_equal(render_answer(&cfg, "", &v, answer, sizeof(answer),
                                   &len),
                     CM_EINVAL);
    assert_int_equal(render_answer(&cfg, "1 2", &v, answer, sizeof(answer),
                                   &len),
                     CM_EINVAL);
    assert_int_equal(render_answer(&cfg, "1\n", &v, answer, sizeof(answer),
                                   &len),
                     CM_EINVAL);
    assert_int_equal(render_answer(&cfg, NULL, &v, answer, sizeof(answer),
                                   &len),
                     CM_EINVAL);
    memset(seq, '1', sizeof(seq) - 1);
    seq[sizeof(seq) - 1] = '\0';
    assert_int_equal(render_answer(&cfg, seq, &v, answer, sizeof(answer),
                                   &len),
                     CM_EINVAL);
    seq[CAPS_RENDER_SEQ_MAX] = '\0';
    assert_int_equal(render_answer(&cfg, seq, &v, answer, sizeof(answer),
                                   &len),
                     CM_OK);
    assert_int_equal(len, strlen(answer));
}

static void
test_render_headers_cap(void **state)
{
    struct config cfg;
    struct verdict v;
    char out[64];
    size_t len = 5;
    const char *want = "X-Junk-Score: 0 []\nX-Cloudmark-Score: 0 []";

    (void)state;
    config_defaults(&cfg);
    verdict_init(&v, 0);
    /* At the cap (text plus NUL) and one byte short. */
    assert_int_equal(render_headers(&cfg, &v, out, strlen(want) + 1, &len),
                     CM_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    len = 5;
    assert_int_equal(render_headers(&cfg, &v, out, strlen(want), &len),
                     CM_ELIMIT);
    assert_int_equal(len, 5);
    assert_string_equal(out, "");
    /* Below MinimumScore: no lines. */
    cfg.minimum_score = 1;
    assert_int_equal(render_headers(&cfg, &v, out, sizeof(out), &len),
                     CM_OK);
    assert_int_equal(len, 0);
    assert_string_equal(out, "");
}

static void
test_render_enomem(void **state)
{
    struct config cfg;
    struct verdict v;
    size_t len = 0;

    (void)state;
    config_defaults(&cfg);
    verdict_init(&v, 50);
    buf_test_fail_nth_alloc(1);
    assert_int_equal(render_answer(&cfg, "1", &v, answer, sizeof(answer),
                                   &len),
                     CM_ENOMEM);
    buf_test_fail_nth_alloc(0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_default_scores),
        cmocka_unit_test(test_render_spec_example),
        cmocka_unit_test(test_render_configured_names),
        cmocka_unit_test(test_render_minimum_score_and_no_headers),
        cmocka_unit_test(test_render_analysis_header),
        cmocka_unit_test(test_render_hostile_text),
        cmocka_unit_test(test_render_unterminated_fields),
        cmocka_unit_test(test_render_answer_cap),
        cmocka_unit_test(test_render_bad_arguments),
        cmocka_unit_test(test_render_headers_cap),
        cmocka_unit_test(test_render_enomem),
    };

    return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
