/*
 * test_report.c -- the report mail (golden text), its recipient, bars,
 * and the .tmp -> .sub file protocol including failed writes and
 * recovery (include/report.h).
 *
 * The golden mail is testdata/report/daily.expected; after a deliberate
 * change of the layout, rerun with CM_GOLDEN_WRITE=1 and review the diff.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "clock.h"
#include "config.h"
#include "counters.h"
#include "fsutil.h"
#include "report.h"

#define GOLDEN "testdata/report/daily.expected"
#define MADE_AT 1714608005 /* 2024-05-02 00:00:05 UTC */
#define DAY_0501 19844

static void
set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static char *
make_tmpdir(void)
{
    char tmpl[] = "/tmp/test_report.XXXXXX";
    char *d = mkdtemp(tmpl);

    assert_non_null(d);
    return strdup(d);
}

static void
remove_tree(const char *dir)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static bool
exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static size_t
count_files(const char *dir, const char *suffix)
{
    char cmd[512];
    char line[64];
    FILE *f;
    size_t n = 0;

    snprintf(cmd, sizeof(cmd), "ls -1 '%s' 2>/dev/null | grep -c '%s$'", dir,
             suffix);
    f = popen(cmd, "r");
    assert_non_null(f);
    if (fgets(line, sizeof(line), f) != NULL) {
        n = (size_t)strtoul(line, NULL, 10);
    }
    pclose(f);
    return n;
}

static char *
read_text(const char *path)
{
    struct buf b;
    bool is_truncated;
    char *s;

    buf_init(&b, 1u << 20);
    assert_int_equal(fsutil_read_file(path, 1u << 20, &b, &is_truncated, NULL),
                     CM_OK);
    s = strdup(b.len > 0 ? (char *)b.data : "");
    buf_clear(&b);
    return s;
}

static void
sample_day(struct counters_day *d)
{
    memset(d, 0, sizeof(*d));
    d->day = DAY_0501;
    d->by_score[0] = 500;
    d->by_score[20] = 200;
    d->by_score[39] = 100;
    d->by_score[60] = 50;
    d->by_score[85] = 40;
    d->by_score[93] = 30;
    d->by_score[97] = 60;
    d->by_score[100] = 20;
    d->by_category[ENGINE_CAT_LEGIT] = 850;
    d->by_category[ENGINE_CAT_SPAM] = 120;
    d->by_category[ENGINE_CAT_PHISHING] = 20;
    d->by_category[ENGINE_CAT_MALWARE] = 5;
    d->by_category[ENGINE_CAT_BULK] = 5;
    d->fail_open[COUNTERS_FAIL_MISSING_FILE] = 3;
    d->fail_open[COUNTERS_FAIL_TIMEOUT] = 1;
    d->errors = 2;
    d->latency[3] = 900;   /* <= 100 us */
    d->latency[13] = 90;   /* <= 1 ms */
    d->latency[15] = 10;   /* <= 1.5 ms */
    d->latency[45] = 4;    /* <= 1.2 s */
    d->updates_installed = 3;
    d->updates_refused[COUNTERS_REFUSED_SIGNATURE] = 1;
    d->updates_refused[COUNTERS_REFUSED_DOWNLOAD] = 2;
}

static void
sample_input(struct report_input *in, const struct counters_day *d)
{
    memset(in, 0, sizeof(*in));
    in->day = d;
    in->cartridge_version = 20240501;
    in->engine_version = "1.0.0";
    in->host = "mail.example.com";
    in->made_at_s = MADE_AT;
}

static void
sample_config(struct config *cfg)
{
    config_defaults(cfg);
    snprintf(cfg->main_domain, sizeof(cfg->main_domain), "example.com");
}

static void
test_report_recipient(void **state)
{
    static const char *const bad_to[] = {
        "a b@example.com", "x\n@example.com", "<x@example.com>",
        "a@b@example.com", "a@-example.com", "a\"b@example.com", "@example.com",
        "a,b@example.com", "a@exa mple.com", "caf\xc3\xa9@example.com"
    };
    struct config cfg;
    char out[CAPS_ADDR_MAX];

    (void)state;
    config_defaults(&cfg);
    assert_int_equal(report_recipient(&cfg, out, sizeof(out)), CM_OK);
    assert_string_equal(out, "postmaster");
    snprintf(cfg.main_domain, sizeof(cfg.main_domain), "example.com");
    assert_int_equal(report_recipient(&cfg, out, sizeof(out)), CM_OK);
    assert_string_equal(out, "postmaster@example.com");
    assert_int_equal(report_recipient(&cfg, out, 10), CM_ELIMIT);
    snprintf(cfg.report_to, sizeof(cfg.report_to), "spam-admin+cm@corp.test");
    assert_int_equal(report_recipient(&cfg, out, sizeof(out)), CM_OK);
    assert_string_equal(out, "spam-admin+cm@corp.test");
    snprintf(cfg.report_to, sizeof(cfg.report_to), "admin");
    assert_int_equal(report_recipient(&cfg, out, sizeof(out)), CM_OK);
    assert_string_equal(out, "admin");
    for (size_t i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++) {
        snprintf(cfg.report_to, sizeof(cfg.report_to), "%s", bad_to[i]);
        assert_int_equal(report_recipient(&cfg, out, sizeof(out)), CM_EINVAL);
    }
    cfg.report_to[0] = '\0';
    snprintf(cfg.main_domain, sizeof(cfg.main_domain), "exa>mple.com");
    assert_int_equal(report_recipient(&cfg, out, sizeof(out)), CM_EINVAL);
}

static void
test_report_bar_counts(void **state)
{
    struct config cfg;
    struct counters_day d;
    const struct config_bar *bars;
    uint64_t counts[CONFIG_BARS_MAX];
    uint64_t other = 99;
    size_t n;

    (void)state;
    sample_day(&d);
    memset(&cfg, 0, sizeof(cfg)); /* no bars: SPEC defaults */
    n = report_bar_counts(&cfg, &d, &bars, counts, &other);
    assert_int_equal(n, 7);
    assert_int_equal(counts[0], 500);
    assert_int_equal(counts[1], 300);
    assert_int_equal(counts[2], 50);
    assert_int_equal(counts[3], 40);
    assert_int_equal(counts[4], 30);
    assert_int_equal(counts[5], 60);
    assert_int_equal(counts[6], 20);
    assert_int_equal(other, 0);
    assert_string_equal(bars[5].text, "XXXXX");

    /* Configured bars with a gap and an overlap: first bar wins, the gap
     * is "other", the rows still add up. */
    cfg.n_bars = 2;
    cfg.bars[0] = (struct config_bar){0, 60, "A"};
    cfg.bars[1] = (struct config_bar){39, 95, "B"};
    n = report_bar_counts(&cfg, &d, &bars, counts, &other);
    assert_int_equal(n, 2);
    assert_int_equal(counts[0], 850);
    assert_int_equal(counts[1], 70);
    assert_int_equal(other, 80);
    assert_ptr_equal(bars, cfg.bars);
}

/* The hourly statistics carry the day's message counts: per score bar
 * and category, fail-opens and errors (cartridge.cfg(5)), and they fit
 * the statistics body's cap with the most bars a configuration has. */
static void
test_report_stats_format(void **state)
{
    struct config cfg;
    struct counters_day d;
    struct buf out;
    const char *text;

    (void)state;
    sample_day(&d);
    memset(&cfg, 0, sizeof(cfg)); /* no bars: SPEC defaults */
    buf_init(&out, CAPS_UPDATER_STATS_BODY_MAX_BYTES);
    assert_int_equal(report_stats_format(&cfg, &d, &out), CM_OK);
    assert_int_equal(buf_putc(&out, '\0'), CM_OK);
    text = (const char *)out.data;
    assert_string_equal(text,
                        "&day=2024-05-01&requests=1004&scored=1000"
                        "&fail_opens=4&errors=2"
                        "&score_0_0=500&score_1_39=300&score_40_80=50"
                        "&score_81_90=40&score_91_95=30&score_96_99=60"
                        "&score_100_100=20"
                        "&category_legit=850&category_spam=120"
                        "&category_phishing=20&category_malware=5"
                        "&category_bulk=5&category_other=0");
    buf_reset(&out);

    /* A gap in the configured bars is sent as "other". */
    cfg.n_bars = 2;
    cfg.bars[0] = (struct config_bar){0, 60, "A"};
    cfg.bars[1] = (struct config_bar){39, 95, "B"};
    assert_int_equal(report_stats_format(&cfg, &d, &out), CM_OK);
    assert_int_equal(buf_putc(&out, '\0'), CM_OK);
    text = (const char *)out.data;
    assert_non_null(strstr(text, "&score_0_60=850&score_39_95=70"
                                 "&score_other=80&category_legit="));
    buf_reset(&out);

    /* The most bars, the largest counts: still inside the body's cap
     * beside the updater's own fields. */
    cfg.n_bars = CONFIG_BARS_MAX;
    for (size_t i = 0; i < CONFIG_BARS_MAX; i++) {
        cfg.bars[i] = (struct config_bar){100, 100, "X"};
    }
    for (size_t i = 0; i < COUNTERS_SCORES; i++) {
        d.by_score[i] = CAPS_COUNTERS_VALUE_MAX;
    }
    assert_int_equal(report_stats_format(&cfg, &d, &out), CM_OK);
    assert_true(out.len < CAPS_UPDATER_STATS_BODY_MAX_BYTES / 4);
    buf_clear(&out);

    /* A full body: CM_ELIMIT. */
    buf_init(&out, 40);
    assert_int_equal(report_stats_format(&cfg, &d, &out), CM_ELIMIT);
    buf_clear(&out);
}

static void
test_report_format_golden(void **state)
{
    struct config cfg;
    struct counters_day d;
    struct report_input in;
    struct buf out;
    char *want;

    (void)state;
    set_tz("UTC");
    sample_config(&cfg);
    sample_day(&d);
    sample_input(&in, &d);
    buf_init(&out, CAPS_REPORT_MAX_BYTES);
    assert_int_equal(report_format(&cfg, &in, "cmreport-daily-2024-05-01-x",
                                   &out),
                     CM_OK);
    if (getenv("CM_GOLDEN_WRITE") != NULL) {
        assert_int_equal(fsutil_write_atomic(GOLDEN, out.data, out.len, 0644),
                         CM_OK);
    }
    want = read_text(GOLDEN);
    if (strcmp((char *)out.data, want) != 0) {
        print_error("got:\n%s", (char *)out.data);
    }
    assert_string_equal((char *)out.data, want);
    free(want);
    buf_clear(&out);
}

/* The properties that matter to CGP and mail clients, independent of the
 * layout. */
static void
test_report_format_shape(void **state)
{
    struct config cfg;
    struct counters_day d;
    struct report_input in;
    struct buf out;
    const char *s;
    size_t line_len = 0;

    (void)state;
    set_tz("Europe/Berlin");
    sample_config(&cfg);
    snprintf(cfg.report_to, sizeof(cfg.report_to), "boss@corp.test");
    sample_day(&d);
    sample_input(&in, &d);
    buf_init(&out, CAPS_REPORT_MAX_BYTES);
    assert_int_equal(report_format(&cfg, &in, "u-1", &out), CM_OK);
    s = (const char *)out.data;
    assert_memory_equal(s, "Return-Path: <>\nEnvelope-To: <boss@corp.test>\n",
                        46);
    assert_non_null(strstr(s, "\nFrom: \"CGPCloudmark\" "
                              "<postmaster@example.com>\n"));
    assert_non_null(strstr(s, "\nTo: <boss@corp.test>\n"));
    assert_non_null(strstr(s, "\nSubject: CGPCloudmark daily report "
                              "2024-05-01: 1004 requests\n"));
    assert_non_null(strstr(s, "\nDate: Thu, 02 May 2024 02:00:05 +0200\n"));
    assert_non_null(strstr(s, "\nMessage-ID: <u-1@example.com>\n"));
    assert_non_null(strstr(s, "\nMIME-Version: 1.0\n"));
    assert_non_null(strstr(s, "multipart/alternative;\n boundary=\"=_u-1\""));
    assert_non_null(strstr(s, "\n--=_u-1\nContent-Type: text/plain;"));
    assert_non_null(strstr(s, "\n--=_u-1\nContent-Type: text/html;"));
    assert_non_null(strstr(s, "\n--=_u-1--\n"));
    /* Headers end before the first body line. */
    assert_true(strstr(s, "\n\n") < strstr(s, "--=_u-1\n"));
    /* 7-bit, LF only, short lines, no external resources. */
    for (size_t i = 0; i < out.len; i++) {
        assert_true((unsigned char)s[i] < 0x80);
        assert_true(s[i] != '\r' && s[i] != '\0');
        line_len = s[i] == '\n' ? 0 : line_len + 1;
        assert_true(line_len < 998);
    }
    assert_null(strstr(s, "http"));
    assert_null(strstr(s, "src="));
    assert_null(strstr(s, "<script"));
    buf_clear(&out);
    set_tz("UTC");
}

static void
test_report_format_partial_and_gaps(void **state)
{
    struct config cfg;
    struct counters_day d;
    struct report_input in;
    struct buf out;
    const char *s;

    (void)state;
    set_tz("UTC");
    config_defaults(&cfg); /* no MainDomain: bare postmaster */
    memset(&d, 0, sizeof(d));
    d.day = DAY_0501;
    memset(&in, 0, sizeof(in));
    in.day = &d;
    in.made_at_s = MADE_AT - 86400 + 14 * 3600 + 5 * 60;
    in.is_partial = true;
    buf_init(&out, CAPS_REPORT_MAX_BYTES);
    assert_int_equal(report_format(&cfg, &in, "p", &out), CM_OK);
    s = (const char *)out.data;
    assert_non_null(strstr(s, "Envelope-To: <postmaster>\n"));
    assert_non_null(strstr(s, "From: \"CGPCloudmark\" <postmaster>\n"));
    assert_non_null(strstr(s, "Message-ID: <p@cgpcloudmark.invalid>\n"));
    assert_non_null(strstr(s, "Subject: CGPCloudmark report 2024-05-01 "
                              "(until 14:05): 0 requests\n"));
    assert_non_null(strstr(s, "counts so far"));
    assert_non_null(strstr(s, "  no requests\n"));
    assert_non_null(strstr(s, "Cartridge version               unknown\n"));
    assert_null(strstr(s, "Host:"));
    assert_null(strstr(s, "Engine version"));
    assert_null(strstr(s, "No counts for"));
    buf_reset(&out);

    in.is_partial = false;
    in.days_without_data = 2;
    assert_int_equal(report_format(&cfg, &in, "p", &out), CM_OK);
    s = (const char *)out.data;
    assert_non_null(strstr(s, "No counts for the 2 day(s) after 2024-05-01"));
    assert_null(strstr(s, "so far"));
    buf_clear(&out);
}

static void
test_report_format_escapes_config_text(void **state)
{
    struct config cfg;
    struct counters_day d;
    struct report_input in;
    struct buf out;
    const char *s;

    (void)state;
    sample_config(&cfg);
    cfg.n_bars = 2;
    cfg.bars[0] = (struct config_bar){0, 50, "<b>&"};
    cfg.bars[1] = (struct config_bar){51, 100, "\x01\xff"};
    sample_day(&d);
    sample_input(&in, &d);
    in.host = "evil\n<host>";
    buf_init(&out, CAPS_REPORT_MAX_BYTES);
    assert_int_equal(report_format(&cfg, &in, "e", &out), CM_OK);
    s = (const char *)out.data;
    assert_non_null(strstr(s, "[&lt;b&gt;&amp;]"));
    assert_non_null(strstr(s, "0-50     [<b>&]"));
    assert_non_null(strstr(s, "[??]"));
    assert_non_null(strstr(s, "Host: evil?<host>\n"));
    assert_non_null(strstr(s, "Host: evil?&lt;host&gt;<br>"));
    buf_clear(&out);
}

static void
test_report_format_errors(void **state)
{
    struct config cfg;
    struct counters_day d;
    struct report_input in;
    struct buf out;
    char long_name[REPORT_NAME_MAX + 1];

    (void)state;
    sample_config(&cfg);
    sample_day(&d);
    sample_input(&in, &d);
    buf_init(&out, CAPS_REPORT_MAX_BYTES);
    assert_int_equal(report_format(&cfg, &in, "a b", &out), CM_EINVAL);
    assert_int_equal(report_format(&cfg, &in, "", &out), CM_EINVAL);
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[REPORT_NAME_MAX] = '\0';
    assert_int_equal(report_format(&cfg, &in, long_name, &out), CM_EINVAL);
    long_name[REPORT_NAME_MAX - 1] = '\0'; /* at the cap */
    assert_int_equal(report_format(&cfg, &in, long_name, &out), CM_OK);
    in.day = NULL;
    assert_int_equal(report_format(&cfg, &in, "x", &out), CM_EINVAL);
    in.day = &d;
    snprintf(cfg.report_to, sizeof(cfg.report_to), "a b");
    assert_int_equal(report_format(&cfg, &in, "x", &out), CM_EINVAL);
    cfg.report_to[0] = '\0';
    buf_clear(&out);
    buf_init(&out, 300);
    assert_int_equal(report_format(&cfg, &in, "x", &out), CM_ELIMIT);
    buf_clear(&out);
}

static void
test_report_prepare_commit(void **state)
{
    char *dir = make_tmpdir();
    char sub[512];
    struct config cfg;
    struct counters_day d;
    struct report_input in;
    struct report_file f;
    struct buf want;
    unsigned seq = 5;
    char *got;

    (void)state;
    set_tz("UTC");
    snprintf(sub, sizeof(sub), "%s/Submitted", dir);
    sample_config(&cfg);
    sample_day(&d);
    sample_input(&in, &d);
    /* Submitted/ is CGP's: a missing one is not made (it would hold
     * reports nothing delivers). */
    assert_int_equal(report_prepare(&cfg, &in, sub, REPORT_KIND_DAILY, &seq,
                                    &f),
                     CM_ENOENT);
    assert_false(exists(sub));
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(report_prepare(&cfg, &in, sub, REPORT_KIND_DAILY, &seq,
                                    &f),
                     CM_OK);
    assert_int_equal(seq, 6);
    assert_true(exists(f.tmp_path));
    assert_false(exists(f.sub_path));
    assert_int_equal(count_files(sub, ".sub"), 0);
    assert_int_equal(strncmp(f.name, "cmreport-daily-2024-05-01-1714608005-",
                             37),
                     0);
    assert_int_equal(report_commit(&f), CM_OK);
    assert_false(exists(f.tmp_path));
    assert_true(exists(f.sub_path));
    /* The file is exactly the formatted mail. */
    buf_init(&want, CAPS_REPORT_MAX_BYTES);
    assert_int_equal(report_format(&cfg, &in, f.name, &want), CM_OK);
    got = read_text(f.sub_path);
    assert_string_equal(got, (char *)want.data);
    free(got);
    buf_clear(&want);
    /* A second commit of the same file has nothing to rename. */
    assert_int_equal(report_commit(&f), CM_EIO);

    /* Renamed, the .sub is CGP's to send even when the directory's fsync
     * fails (EIO injected): CM_EIO there made REPORT say "cannot write
     * the report" and exit 1 for a report on its way, inviting a second
     * run and a second mail. */
    assert_int_equal(report_prepare(&cfg, &in, sub, REPORT_KIND_MANUAL, &seq,
                                    &f),
                     CM_OK);
    fsutil_test_fail_nth_dir_fsync(1);
    assert_int_equal(report_commit(&f), CM_OK);
    fsutil_test_fail_nth_dir_fsync(0);
    assert_false(exists(f.tmp_path));
    assert_true(exists(f.sub_path));
    assert_int_equal(unlink(f.sub_path), 0);

    /* Abort removes the .tmp. */
    assert_int_equal(report_prepare(&cfg, &in, sub, REPORT_KIND_MANUAL, &seq,
                                    &f),
                     CM_OK);
    assert_true(exists(f.tmp_path));
    report_abort(&f);
    assert_false(exists(f.tmp_path));
    assert_int_equal(count_files(sub, ".tmp"), 0);
    assert_int_equal(count_files(sub, ".sub"), 1);

    assert_int_equal(report_prepare(&cfg, &in, sub, "bad kind", &seq, &f),
                     CM_EINVAL);
    remove_tree(dir);
    free(dir);
}

static void
touch(const char *dir, const char *name)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static void
test_report_prepare_name_taken(void **state)
{
    char *dir = make_tmpdir();
    char name[128];
    struct config cfg;
    struct counters_day d;
    struct report_input in;
    struct report_file f;
    unsigned seq = 0;

    (void)state;
    sample_config(&cfg);
    sample_day(&d);
    sample_input(&in, &d);
    /* seq 0 has a .tmp, seq 1 a .sub: the report takes seq 2. */
    snprintf(name, sizeof(name), "cmreport-daily-2024-05-01-%d-%ld-0.tmp",
             MADE_AT, (long)getpid());
    touch(dir, name);
    snprintf(name, sizeof(name), "cmreport-daily-2024-05-01-%d-%ld-1.sub",
             MADE_AT, (long)getpid());
    touch(dir, name);
    assert_int_equal(report_prepare(&cfg, &in, dir, REPORT_KIND_DAILY, &seq,
                                    &f),
                     CM_OK);
    assert_int_equal(seq, 3);
    snprintf(name, sizeof(name), "cmreport-daily-2024-05-01-%d-%ld-2",
             MADE_AT, (long)getpid());
    assert_string_equal(f.name, name);

    /* Every name of CAPS_REPORT_NAME_TRIES taken: refused, nothing left. */
    seq = 100;
    for (unsigned i = 0; i < CAPS_REPORT_NAME_TRIES; i++) {
        snprintf(name, sizeof(name), "cmreport-daily-2024-05-01-%d-%ld-%u.tmp",
                 MADE_AT, (long)getpid(), 100 + i);
        touch(dir, name);
    }
    assert_int_equal(count_files(dir, ".tmp"), CAPS_REPORT_NAME_TRIES + 2);
    assert_int_equal(report_prepare(&cfg, &in, dir, REPORT_KIND_DAILY, &seq,
                                    &f),
                     CM_ELIMIT);
    assert_int_equal(seq, 100 + CAPS_REPORT_NAME_TRIES);
    assert_int_equal(count_files(dir, ".tmp"), CAPS_REPORT_NAME_TRIES + 2);
    /* One more free name: found. */
    assert_int_equal(report_prepare(&cfg, &in, dir, REPORT_KIND_DAILY, &seq,
                                    &f),
                     CM_OK);
    remove_tree(dir);
    free(dir);
}

/* A write that fails half-way (the file-size limit stands in for a full
 * disk or a crash mid-write) leaves neither a .sub nor a .tmp. */
static void
test_report_failed_write_leaves_no_sub(void **state)
{
    char *dir = make_tmpdir();
    struct config cfg;
    struct counters_day d;
    struct report_input in;
    struct report_file f;
    struct rlimit old;
    struct rlimit small;
    unsigned seq = 0;
    enum cm_err rc;

    (void)state;
    sample_config(&cfg);
    sample_day(&d);
    sample_input(&in, &d);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 700; /* the headers fit, the body does not */
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    rc = report_prepare(&cfg, &in, dir, REPORT_KIND_DAILY, &seq, &f);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(rc, CM_EIO);
    assert_int_equal(count_files(dir, ".tmp"), 0);
    assert_int_equal(count_files(dir, ".sub"), 0);

    /* No directory (here a file stands in its way): nothing is made. */
    touch(dir, "file");
    {
        char bad[512];
        snprintf(bad, sizeof(bad), "%s/file/Submitted", dir);
        assert_int_equal(report_prepare(&cfg, &in, bad, REPORT_KIND_DAILY,
                                        &seq, &f),
                         CM_ENOENT);
    }
    remove_tree(dir);
    free(dir);
}

static void
test_report_recover(void **state)
{
    char *dir = make_tmpdir();
    struct config cfg;
    struct counters_day d;
    struct report_input in;
    struct report_file done;
    struct report_file later;
    struct report_file torn;
    struct report_file manual;
    char missing[512];
    size_t nc = 99;
    size_t nr = 99;
    unsigned seq = 0;

    (void)state;
    sample_config(&cfg);
    sample_day(&d);
    sample_input(&in, &d);
    /* 2024-05-01 was reported per the state; its rename was lost. */
    assert_int_equal(report_prepare(&cfg, &in, dir, REPORT_KIND_DAILY, &seq,
                                    &done),
                     CM_OK);
    /* The same day, torn: cut before its closing boundary. */
    assert_int_equal(report_prepare(&cfg, &in, dir, REPORT_KIND_DAILY, &seq,
                                    &torn),
                     CM_OK);
    assert_int_equal(truncate(torn.tmp_path, 900), 0);
    /* 2024-05-02 was never marked reported: it will be made again. */
    d.day = DAY_0501 + 1;
    assert_int_equal(report_prepare(&cfg, &in, dir, REPORT_KIND_DAILY, &seq,
                                    &later),
                     CM_OK);
    /* Manual reports and foreign files are not ours to finish. */
    assert_int_equal(report_prepare(&cfg, &in, dir, REPORT_KIND_MANUAL, &seq,
                                    &manual),
                     CM_OK);
    touch(dir, "other.tmp");
    touch(dir, "cmreport-daily-2024-99-01-1-1-1.tmp");

    assert_int_equal(report_recover(dir, DAY_0501, &nc, &nr), CM_OK);
    assert_int_equal(nc, 1);
    assert_int_equal(nr, 2);
    assert_true(exists(done.sub_path));
    assert_false(exists(done.tmp_path));
    assert_false(exists(torn.tmp_path));
    assert_false(exists(torn.sub_path));
    assert_false(exists(later.tmp_path));
    assert_false(exists(later.sub_path));
    assert_true(exists(manual.tmp_path));
    assert_int_equal(count_files(dir, ".tmp"), 3);
    assert_int_equal(count_files(dir, ".sub"), 1);

    /* Nothing reported yet: every daily .tmp goes. */
    d.day = DAY_0501;
    assert_int_equal(report_prepare(&cfg, &in, dir, REPORT_KIND_DAILY, &seq,
                                    &done),
                     CM_OK);
    assert_int_equal(report_recover(dir, COUNTERS_DAY_NONE, NULL, NULL),
                     CM_OK);
    assert_false(exists(done.tmp_path));
    assert_false(exists(done.sub_path));

    snprintf(missing, sizeof(missing), "%s/none", dir);
    assert_int_equal(report_recover(missing, DAY_0501, &nc, &nr), CM_ENOENT);
    remove_tree(dir);
    free(dir);
}

/* While set, renaming anything to "*.sub" fails with EIO; the library's
 * calls bind to this definition. */
static bool is_sub_rename_failing;

int
rename(const char *from, const char *to)
{
    size_t n = strlen(to);

    if (is_sub_rename_failing && n >= 4 && strcmp(to + n - 4, ".sub") == 0) {
        errno = EIO;
        return -1;
    }
    return renameat(AT_FDCWD, from, AT_FDCWD, to);
}

/* A finished report of a day the state marks reported whose rename fails
 * at start-up (a disk error): it is kept for the next start, never
 * removed, since its day will not be reported again. */
static void
test_report_recover_keeps_unrenamed(void **state)
{
    char *dir = make_tmpdir();
    struct config cfg;
    struct counters_day d;
    struct report_input in;
    struct report_file done;
    size_t nc = 99;
    size_t nr = 99;
    unsigned seq = 0;

    (void)state;
    sample_config(&cfg);
    sample_day(&d);
    sample_input(&in, &d);
    assert_int_equal(report_prepare(&cfg, &in, dir, REPORT_KIND_DAILY, &seq,
                                    &done),
                     CM_OK);
    is_sub_rename_failing = true;
    assert_int_equal(report_recover(dir, DAY_0501, &nc, &nr), CM_OK);
    is_sub_rename_failing = false;
    assert_int_equal(nc, 0);
    assert_int_equal(nr, 0);
    assert_true(exists(done.tmp_path));
    assert_false(exists(done.sub_path));

    /* The next start finishes it. */
    assert_int_equal(report_recover(dir, DAY_0501, &nc, &nr), CM_OK);
    assert_int_equal(nc, 1);
    assert_true(exists(done.sub_path));
    assert_false(exists(done.tmp_path));
    remove_tree(dir);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_recipient),
        cmocka_unit_test(test_report_bar_counts),
        cmocka_unit_test(test_report_stats_format),
        cmocka_unit_test(test_report_format_golden),
        cmocka_unit_test(test_report_format_shape),
        cmocka_unit_test(test_report_format_partial_and_gaps),
        cmocka_unit_test(test_report_format_escapes_config_text),
        cmocka_unit_test(test_report_format_errors),
        cmocka_unit_test(test_report_prepare_commit),
        cmocka_unit_test(test_report_prepare_name_taken),
        cmocka_unit_test(test_report_failed_write_leaves_no_sub),
        cmocka_unit_test(test_report_recover),
        cmocka_unit_test(test_report_recover_keeps_unrenamed),
    };

    return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
