/*
 * test_housekeep.c -- the daily-report scheduler driven step by step with
 * a test clock: midnight, DST days in two zones, ReportTime inside a DST
 * change, clock jumps both ways, restarts after missed days, crashes at
 * every step of writing a report, and the final save (include/
 * housekeep.h).  No sleeps: housekeep_tick is called directly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "clock.h"
#include "config.h"
#include "counters.h"
#include "fsutil.h"
#include "housekeep.h"
#include "log.h"
#include "report.h"

#define MAX_SUBS 64

/* ---- captured log lines ---------------------------------------------- */

struct logcap {
    pthread_mutex_t lock;
    struct buf text;
};

static struct logcap logcap = {PTHREAD_MUTEX_INITIALIZER, {0}};

static void
capture(void *ctx, enum log_level level, const char *line, size_t len)
{
    (void)ctx;
    (void)level;
    pthread_mutex_lock(&logcap.lock);
    buf_append(&logcap.text, line, len);
    buf_putc(&logcap.text, '\n');
    pthread_mutex_unlock(&logcap.lock);
}

static size_t
log_count(const char *needle)
{
    size_t n = 0;
    const char *p = logcap.text.len > 0 ? (const char *)logcap.text.data : "";

    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

/* ---- a rename that fails on demand ------------------------------------ */

/* While set, renaming anything to "*.sub" fails with EIO (a disk error or
 * a full disk at the moment the report is committed); other renames (the
 * state file's) work.  The library's calls bind to this definition. */
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

/* ---- environment ----------------------------------------------------- */

struct env {
    char *dir;
    struct config cfg;
    struct clock_test clk;
    struct counters *c;
    struct housekeep *h;
};

struct sub {
    char path[CONFIG_PATH_MAX + 300];
    char *text;
};

static void
set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static int64_t
local_wall(int y, int mo, int d, int h, int mi, int s)
{
    struct clock_date cd = {y, mo, d};
    int64_t t;

    assert_int_equal(clock_local_to_wall(clock_days_from_date(&cd),
                                         (unsigned)(h * 60 + mi), &t),
                     CM_OK);
    return t + s;
}

static int64_t
day_of(int y, int mo, int d)
{
    struct clock_date cd = {y, mo, d};

    return clock_days_from_date(&cd);
}

/* Zone tz, clock at local time y-mo-d h:mi:s there. */
static void
env_init(struct env *e, const char *tz, int y, int mo, int d, int h, int mi,
         int s)
{
    char tmpl[] = "/tmp/test_housekeep.XXXXXX";
    int64_t wall;

    memset(e, 0, sizeof(*e));
    set_tz(tz);
    wall = local_wall(y, mo, d, h, mi, s);
    assert_non_null(mkdtemp(tmpl));
    e->dir = strdup(tmpl);
    config_defaults(&e->cfg);
    snprintf(e->cfg.main_domain, sizeof(e->cfg.main_domain), "example.com");
    snprintf(e->cfg.state_path, sizeof(e->cfg.state_path), "%s/state",
             e->dir);
    snprintf(e->cfg.submitted_dir, sizeof(e->cfg.submitted_dir),
             "%s/Submitted", e->dir);
    /* CGP's PIPE module makes Submitted/; the helper does not. */
    assert_int_equal(mkdir(e->cfg.submitted_dir, 0700), 0);
    clock_test_init(&e->clk, wall);
    e->c = counters_new();
    assert_non_null(e->c);
    buf_clear(&logcap.text);
    buf_init(&logcap.text, 1u << 20);
    log_setup(capture, NULL, LOG_LEVEL_DEBUG);
}

/* Start (or restart) housekeeping on fresh counters, as a new process
 * would. */
static void
env_start(struct env *e)
{
    if (e->c == NULL) {
        e->c = counters_new();
        assert_non_null(e->c);
    }
    e->h = housekeep_new(&e->cfg, e->c, &e->clk.clock);
    assert_non_null(e->h);
}

/* A clean exit: last tick and save. */
static void
env_stop(struct env *e)
{
    housekeep_stop(e->h);
    e->h = NULL;
    counters_free(e->c);
    e->c = NULL;
}

/* A crash: nothing more is saved. */
static void
env_crash(struct env *e)
{
    housekeep_free(e->h);
    e->h = NULL;
    counters_free(e->c);
    e->c = NULL;
}

static void
env_done(struct env *e)
{
    char cmd[CONFIG_PATH_MAX + 32];

    if (e->h != NULL) {
        housekeep_free(e->h);
    }
    counters_free(e->c);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
    free(e->dir);
    log_setup(NULL, NULL, LOG_LEVEL_INFO);
    set_tz("UTC");
}

static void
tick(struct env *e)
{
    housekeep_tick(e->h);
}

/* Tick once a minute from now until wall time `until`. */
static void
tick_every_minute_until(struct env *e, int64_t until)
{
    while (clock_wall_s(&e->clk.clock) < until) {
        tick(e);
        clock_test_advance_ms(&e->clk, 60000);
    }
    tick(e);
}

static int
cmp_sub(const void *a, const void *b)
{
    return strcmp(((const struct sub *)a)->path, ((const struct sub *)b)->path);
}

/* The .sub files in Submitted/, sorted by name (= by day), read. */
static size_t
list_subs(struct env *e, const char *suffix, struct sub *out, size_t cap)
{
    DIR *d = opendir(e->cfg.submitted_dir);
    struct dirent *de;
    size_t n = 0;

    if (d == NULL) {
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        struct buf b;
        bool is_truncated;

        if (len < 4 || strcmp(de->d_name + len - 4, suffix) != 0) {
            continue;
        }
        assert_true(n < cap);
        snprintf(out[n].path, sizeof(out[n].path), "%s/%s",
                 e->cfg.submitted_dir, de->d_name);
        buf_init(&b, 1u << 20);
        assert_int_equal(fsutil_read_file(out[n].path, 1u << 20, &b,
                                          &is_truncated, NULL),
                         CM_OK);
        out[n].text = strdup((const char *)b.data);
        buf_clear(&b);
        n++;
    }
    closedir(d);
    qsort(out, n, sizeof(out[0]), cmp_sub);
    return n;
}

static void
free_subs(struct sub *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].text);
    }
}

static size_t
count_subs(struct env *e, const char *suffix)
{
    struct sub s[MAX_SUBS];
    size_t n = list_subs(e, suffix, s, MAX_SUBS);

    free_subs(s, n);
    return n;
}

/* Submitted/ holds exactly the reports of 2024-05-01 (1 request) and
 * 2024-05-02 (2 requests), oldest first. */
static void
assert_may_1_and_2_reported(struct env *e)
{
    struct sub subs[MAX_SUBS];
    size_t n = list_subs(e, ".sub", subs, MAX_SUBS);

    assert_int_equal(n, 2);
    assert_non_null(strstr(subs[0].text, "daily report 2024-05-01: "
                                         "1 requests"));
    assert_non_null(strstr(subs[1].text, "daily report 2024-05-02: "
                                         "2 requests"));
    free_subs(subs, n);
}

/* The number after a label in the report's text part. */
static unsigned long long
report_number(const char *text, const char *label)
{
    const char *p = strstr(text, label);

    assert_non_null(p);
    p += strlen(label);
    while (*p == ' ') {
        p++;
    }
    return strtoull(p, NULL, 10);
}

static void
read_state(struct env *e, struct counters_snapshot *s)
{
    assert_int_equal(counters_read_file(e->cfg.state_path, s, NULL, NULL,
                                        NULL),
                     CM_OK);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_housekeep_day_of_and_paths(void **state)
{
    struct config cfg;
    char st[CONFIG_PATH_MAX];
    char sub[CONFIG_PATH_MAX];
    int64_t day = 0;

    (void)state;
    set_tz("UTC");
    /* 2024-05-01 05:59:59 and 06:00:00 with ReportTime 06:00. */
    assert_int_equal(housekeep_day_of(360, 1714543199, &day), CM_OK);
    assert_int_equal(day, day_of(2024, 4, 30));
    assert_int_equal(housekeep_day_of(360, 1714543200, &day), CM_OK);
    assert_int_equal(day, day_of(2024, 5, 1));
    assert_int_equal(housekeep_day_of(0, 1714543199, &day), CM_OK);
    assert_int_equal(day, day_of(2024, 5, 1));

    config_defaults(&cfg);
    assert_int_equal(housekeep_report_minute(&cfg), 0);
    snprintf(cfg.report_time, sizeof(cfg.report_time), "23:30");
    assert_int_equal(housekeep_report_minute(&cfg), 1410);
    snprintf(cfg.report_time, sizeof(cfg.report_time), "25:00");
    assert_int_equal(housekeep_report_minute(&cfg), 0);

    /* config.c resolves the paths; empty ones fall back to the defaults:
     * the state beside the configuration, Submitted/ in the current
     * directory (CGP's base directory). */
    snprintf(cfg.state_path, sizeof(cfg.state_path), "conf/my.state");
    snprintf(cfg.submitted_dir, sizeof(cfg.submitted_dir), "/var/cgp/Sub");
    assert_int_equal(housekeep_paths(&cfg, st, sizeof(st), sub, sizeof(sub)),
                     CM_OK);
    assert_string_equal(st, "conf/my.state");
    assert_string_equal(sub, "/var/cgp/Sub");
    cfg.state_path[0] = '\0';
    cfg.submitted_dir[0] = '\0';
    snprintf(cfg.base_dir, sizeof(cfg.base_dir), "conf");
    assert_int_equal(housekeep_paths(&cfg, st, sizeof(st), sub, sizeof(sub)),
                     CM_OK);
    assert_string_equal(st, "conf/CGPCloudmark.state");
    assert_string_equal(sub, "Submitted");
    assert_int_equal(housekeep_paths(&cfg, st, 8, sub, sizeof(sub)),
                     CM_ELIMIT);
}

static void
test_housekeep_first_start_saves_day(void **state)
{
    struct env e;
    struct counters_snapshot s;

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 12, 0, 0);
    env_start(&e);
    assert_int_equal(log_count("no state file"), 1);
    tick(&e);
    assert_int_equal(counters_day(e.c), day_of(2024, 5, 1));
    read_state(&e, &s);
    assert_int_equal(s.today.day, day_of(2024, 5, 1));
    assert_int_equal(s.last_reported, COUNTERS_DAY_NONE);
    assert_int_equal(count_subs(&e, ".sub"), 0);
    env_done(&e);
}

/* Midnight in Berlin: one report, for the right day, with the counts
 * that were noted; the next day starts at zero. */
static void
test_housekeep_midnight_report(void **state)
{
    struct env e;
    struct sub subs[MAX_SUBS];
    struct counters_snapshot s;
    size_t n;

    (void)state;
    env_init(&e, "Europe/Berlin", 2024, 5, 1, 23, 57, 30);
    env_start(&e);
    tick(&e);
    for (unsigned i = 0; i < 25; i++) {
        counters_note_message(e.c, i * 4, ENGINE_CAT_LEGIT, 100);
    }
    counters_note_message(e.c, 100, ENGINE_CAT_SPAM, 300);
    counters_note_fail_open(e.c, COUNTERS_FAIL_MISSING_FILE, 50);
    counters_note_fail_open(e.c, COUNTERS_FAIL_MISSING_FILE, 50);
    counters_set_cartridge_version(e.c, 4711);
    tick_every_minute_until(&e, local_wall(2024, 5, 1, 23, 59, 0));
    assert_int_equal(count_subs(&e, ".sub"), 0);
    tick_every_minute_until(&e, local_wall(2024, 5, 2, 0, 5, 0));
    n = list_subs(&e, ".sub", subs, MAX_SUBS);
    assert_int_equal(n, 1);
    assert_non_null(strstr(subs[0].path, "/cmreport-daily-2024-05-01-"));
    assert_non_null(strstr(subs[0].text, "Subject: CGPCloudmark daily report "
                                         "2024-05-01: 28 requests\n"));
    assert_non_null(strstr(subs[0].text, "Date: Thu, 02 May 2024 00:00:30 "
                                         "+0200\n"));
    assert_int_equal(report_number(subs[0].text, "Requests answered"), 28);
    assert_int_equal(report_number(subs[0].text, "  scored"), 26);
    assert_int_equal(report_number(subs[0].text, "  fail-open"), 2);
    assert_int_equal(report_number(subs[0].text, "0        []"), 1);
    assert_int_equal(report_number(subs[0].text, "1-39     [X]"), 9);
    assert_int_equal(report_number(subs[0].text, "  missing file"), 2);
    assert_int_equal(report_number(subs[0].text, "  spam"), 1);
    assert_int_equal(report_number(subs[0].text, "Cartridge version"), 4711);
    /* The engine version, as REPORT shows it. */
    assert_non_null(strstr(subs[0].text, "Engine version"));
    assert_non_null(strstr(subs[0].text, "Envelope-To: "
                                         "<postmaster@example.com>\n"));
    free_subs(subs, n);
    assert_int_equal(count_subs(&e, ".tmp"), 0);
    assert_int_equal(counters_day(e.c), day_of(2024, 5, 2));
    read_state(&e, &s);
    assert_int_equal(s.last_reported, day_of(2024, 5, 1));
    assert_int_equal(s.today.day, day_of(2024, 5, 2));
    assert_int_equal(counters_day_requests(&s.today), 0);
    assert_int_equal(s.n_history, 1);
    assert_int_equal(counters_day_requests(&s.history[0]), 28);
    assert_int_equal(log_count("daily report for 2024-05-01 written"), 1);
    env_done(&e);
}

/* Tick every minute across a DST weekend: exactly one report per day. */
static void
run_dst_days(const char *tz, int mo, int d0)
{
    struct env e;
    struct sub subs[MAX_SUBS];
    size_t n;
    char want[64];

    env_init(&e, tz, 2024, mo, d0, 12, 0, 0);
    env_start(&e);
    tick(&e);
    counters_note_message(e.c, 1, ENGINE_CAT_LEGIT, 100);
    tick_every_minute_until(&e, local_wall(2024, mo, d0 + 1, 12, 0, 0));
    counters_note_message(e.c, 99, ENGINE_CAT_SPAM, 100);
    counters_note_message(e.c, 99, ENGINE_CAT_SPAM, 100);
    tick_every_minute_until(&e, local_wall(2024, mo, d0 + 2, 12, 0, 0));
    n = list_subs(&e, ".sub", subs, MAX_SUBS);
    assert_int_equal(n, 2);
    snprintf(want, sizeof(want), "daily report 2024-%02d-%02d: 1 requests",
             mo, d0);
    assert_non_null(strstr(subs[0].text, want));
    snprintf(want, sizeof(want), "daily report 2024-%02d-%02d: 2 requests",
             mo, d0 + 1);
    assert_non_null(strstr(subs[1].text, want));
    /* Made at the first tick after the local midnight. */
    assert_non_null(strstr(subs[1].text, " 00:00:00 "));
    free_subs(subs, n);
    env_done(&e);
}

static void
test_housekeep_dst_berlin(void **state)
{
    (void)state;
    run_dst_days("Europe/Berlin", 3, 30);  /* 23-hour 2024-03-31 */
    run_dst_days("Europe/Berlin", 10, 26); /* 25-hour 2024-10-27 */
}

static void
test_housekeep_dst_new_york(void **state)
{
    (void)state;
    run_dst_days("America/New_York", 3, 9);  /* 23-hour 2024-03-10 */
    run_dst_days("America/New_York", 11, 2); /* 25-hour 2024-11-03 */
}

/* ReportTime 02:30 in Berlin: skipped on 2024-03-31 (the report comes at
 * 03:00), twice on 2024-10-27 (one report only). */
static void
test_housekeep_report_time_inside_dst_change(void **state)
{
    struct env e;
    struct sub subs[MAX_SUBS];
    size_t n;

    (void)state;
    env_init(&e, "Europe/Berlin", 2024, 3, 30, 12, 0, 0);
    snprintf(e.cfg.report_time, sizeof(e.cfg.report_time), "02:30");
    env_start(&e);
    tick_every_minute_until(&e, local_wall(2024, 3, 31, 12, 0, 0));
    n = list_subs(&e, ".sub", subs, MAX_SUBS);
    assert_int_equal(n, 1);
    assert_non_null(strstr(subs[0].text, "daily report 2024-03-30:"));
    assert_non_null(strstr(subs[0].text, "Date: Sun, 31 Mar 2024 03:00:00 "
                                         "+0200\n"));
    free_subs(subs, n);
    env_done(&e);

    env_init(&e, "Europe/Berlin", 2024, 10, 26, 12, 0, 0);
    snprintf(e.cfg.report_time, sizeof(e.cfg.report_time), "02:30");
    env_start(&e);
    tick_every_minute_until(&e, local_wall(2024, 10, 27, 12, 0, 0));
    n = list_subs(&e, ".sub", subs, MAX_SUBS);
    assert_int_equal(n, 1);
    assert_non_null(strstr(subs[0].text, "daily report 2024-10-26:"));
    assert_non_null(strstr(subs[0].text, "Date: Sun, 27 Oct 2024 02:30:00 "
                                         "+0200\n"));
    free_subs(subs, n);
    /* The repeated hour moved the clock's day back by one: not worth a
     * warning, and no second report. */
    assert_int_equal(log_count("counting continues"), 0);
    env_done(&e);
}

/* The wall clock jumps forward over midnight, back before it, and
 * forward again: one report per day, nothing lost. */
static void
test_housekeep_clock_jumps(void **state)
{
    struct env e;

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 23, 59, 30);
    env_start(&e);
    tick(&e);
    counters_note_message(e.c, 10, ENGINE_CAT_LEGIT, 100);
    clock_test_set_wall(&e.clk, local_wall(2024, 5, 2, 0, 0, 30));
    tick(&e);
    assert_int_equal(count_subs(&e, ".sub"), 1);
    /* Back before midnight: counting goes on into 2024-05-02. */
    clock_test_set_wall(&e.clk, local_wall(2024, 5, 1, 23, 59, 0));
    counters_note_message(e.c, 20, ENGINE_CAT_LEGIT, 100);
    tick(&e);
    clock_test_set_wall(&e.clk, local_wall(2024, 5, 2, 0, 0, 40));
    tick(&e);
    assert_int_equal(count_subs(&e, ".sub"), 1);
    assert_int_equal(counters_day(e.c), day_of(2024, 5, 2));
    /* Far back: logged once, still no report. */
    clock_test_set_wall(&e.clk, local_wall(2024, 4, 20, 10, 0, 0));
    tick(&e);
    tick(&e);
    assert_int_equal(log_count("counting continues on 2024-05-02"), 1);
    assert_int_equal(count_subs(&e, ".sub"), 1);
    counters_note_message(e.c, 30, ENGINE_CAT_LEGIT, 100);
    clock_test_set_wall(&e.clk, local_wall(2024, 5, 3, 0, 0, 10));
    tick(&e);
    assert_may_1_and_2_reported(&e);
    env_done(&e);
}

/* A restart on the same day keeps counting; a restart days later
 * reports the day the state file holds, once. */
static void
test_housekeep_restart_after_missed_days(void **state)
{
    struct env e;
    struct sub subs[MAX_SUBS];
    struct counters_snapshot s;
    size_t n;

    (void)state;
    env_init(&e, "Europe/Berlin", 2024, 5, 1, 9, 0, 0);
    env_start(&e);
    tick(&e);
    for (unsigned i = 0; i < 7; i++) {
        counters_note_message(e.c, 97, ENGINE_CAT_SPAM, 1000);
    }
    env_stop(&e); /* QUIT: final save */

    clock_test_set_wall(&e.clk, local_wall(2024, 5, 1, 15, 0, 0));
    env_start(&e);
    tick(&e);
    counters_note_fail_open(e.c, COUNTERS_FAIL_TIMEOUT, 10000000);
    env_stop(&e);
    assert_int_equal(count_subs(&e, ".sub"), 0);

    /* Down from 2024-05-01 15:00 to 2024-05-04 10:00. */
    clock_test_set_wall(&e.clk, local_wall(2024, 5, 4, 10, 0, 0));
    env_start(&e);
    tick(&e);
    n = list_subs(&e, ".sub", subs, MAX_SUBS);
    assert_int_equal(n, 1);
    assert_non_null(strstr(subs[0].text, "daily report 2024-05-01: "
                                         "8 requests"));
    assert_int_equal(report_number(subs[0].text, "96-99    [XXXXX]"), 7);
    assert_int_equal(report_number(subs[0].text, "  timeout"), 1);
    assert_non_null(strstr(subs[0].text, "No counts for the 2 day(s) after "
                                         "2024-05-01"));
    free_subs(subs, n);
    assert_int_equal(counters_day(e.c), day_of(2024, 5, 4));
    tick(&e);
    env_stop(&e);
    /* And again: the state says 2024-05-01 was reported. */
    env_start(&e);
    tick(&e);
    env_stop(&e);
    assert_int_equal(count_subs(&e, ".sub"), 1);
    read_state(&e, &s);
    assert_int_equal(s.last_reported, day_of(2024, 5, 1));
    assert_int_equal(s.today.day, day_of(2024, 5, 4));
    assert_non_null(counters_snapshot_find(&s, day_of(2024, 5, 1)));
    env_done(&e);
}

/* A crash loses only what was noted since the last tick's save; a clean
 * stop loses nothing. */
static void
test_housekeep_crash_loses_at_most_a_tick(void **state)
{
    struct env e;
    struct counters_snapshot s;

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 9, 0, 0);
    env_start(&e);
    tick(&e);
    counters_note_message(e.c, 1, ENGINE_CAT_LEGIT, 100);
    counters_note_message(e.c, 2, ENGINE_CAT_LEGIT, 100);
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    counters_note_message(e.c, 3, ENGINE_CAT_LEGIT, 100);
    env_crash(&e);
    read_state(&e, &s);
    assert_int_equal(counters_day_scored(&s.today), 2);

    env_start(&e);
    counters_snapshot(e.c, &s);
    assert_int_equal(counters_day_scored(&s.today), 2);
    counters_note_message(e.c, 4, ENGINE_CAT_LEGIT, 100);
    env_stop(&e);
    read_state(&e, &s);
    assert_int_equal(counters_day_scored(&s.today), 3);
    env_done(&e);
}

/* Crash after the state said "reported" but before the rename: the next
 * start renames the finished .tmp; no second report is made. */
static void
test_housekeep_crash_before_rename(void **state)
{
    struct env e;
    struct counters_snapshot s;
    struct counters_day d;
    struct report_input in;
    struct report_file f;
    unsigned seq = 0;

    (void)state;
    env_init(&e, "UTC", 2024, 5, 2, 0, 0, 5);
    memset(&s, 0, sizeof(s));
    s.today.day = day_of(2024, 5, 2);
    s.last_reported = day_of(2024, 5, 1);
    s.n_history = 1;
    memset(&d, 0, sizeof(d));
    d.day = day_of(2024, 5, 1);
    d.by_score[50] = 3;
    s.history[0] = d;
    assert_int_equal(counters_save_snapshot(&s, e.cfg.state_path), CM_OK);
    memset(&in, 0, sizeof(in));
    in.day = &d;
    in.made_at_s = clock_wall_s(&e.clk.clock);
    assert_int_equal(report_prepare(&e.cfg, &in, e.cfg.submitted_dir,
                                    REPORT_KIND_DAILY, &seq, &f),
                     CM_OK);
    env_start(&e);
    assert_int_equal(count_subs(&e, ".tmp"), 0);
    assert_int_equal(count_subs(&e, ".sub"), 1);
    assert_true(fsutil_is_file(f.sub_path));
    tick(&e);
    clock_test_advance_ms(&e.clk, 3600000);
    tick(&e);
    assert_int_equal(count_subs(&e, ".sub"), 1);
    env_done(&e);
}

/* Crash while writing the .tmp (before the state was saved): the torn
 * file is removed at the next start and the day is reported afresh --
 * one complete .sub, never a partial one. */
static void
test_housekeep_crash_while_writing(void **state)
{
    struct env e;
    struct sub subs[MAX_SUBS];
    struct counters_day d;
    struct report_input in;
    struct report_file f;
    unsigned seq = 0;
    size_t n;

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 22, 0, 0);
    env_start(&e);
    tick(&e);
    counters_note_message(e.c, 42, ENGINE_CAT_LEGIT, 100);
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e); /* saved: day 2024-05-01, 1 message, nothing reported */
    /* What the crashed run left: a torn report for 2024-05-01. */
    memset(&d, 0, sizeof(d));
    d.day = day_of(2024, 5, 1);
    memset(&in, 0, sizeof(in));
    in.day = &d;
    in.made_at_s = local_wall(2024, 5, 2, 0, 0, 1);
    assert_int_equal(report_prepare(&e.cfg, &in, e.cfg.submitted_dir,
                                    REPORT_KIND_DAILY, &seq, &f),
                     CM_OK);
    assert_int_equal(truncate(f.tmp_path, 1000), 0);
    env_crash(&e);

    clock_test_set_wall(&e.clk, local_wall(2024, 5, 2, 0, 3, 0));
    env_start(&e);
    assert_false(fsutil_is_file(f.tmp_path));
    assert_int_equal(log_count("removed 1 unfinished"), 1);
    tick(&e);
    n = list_subs(&e, ".sub", subs, MAX_SUBS);
    assert_int_equal(n, 1);
    assert_non_null(strstr(subs[0].text, "daily report 2024-05-01: "
                                         "1 requests"));
    assert_non_null(strstr(subs[0].text, "--\n"));
    free_subs(subs, n);
    assert_int_equal(count_subs(&e, ".tmp"), 0);
    env_done(&e);
}

/* A wall clock far ahead for a moment (a wrong RTC at boot, then NTP):
 * the day it ended is reported early, once; when the clock is back, the
 * counting leaves the bogus future day as soon as the clock's day is past
 * the last one ended, so the daily reports resume the next midnight
 * instead of a year later, and no day is reported twice. */
static void
test_housekeep_clock_far_ahead_then_back(void **state)
{
    struct env e;

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 10, 0, 0);
    env_start(&e);
    tick(&e);
    counters_note_message(e.c, 10, ENGINE_CAT_LEGIT, 100);
    clock_test_set_wall(&e.clk, local_wall(2025, 5, 1, 10, 0, 0));
    tick(&e); /* 2024-05-01 ends early */
    assert_int_equal(count_subs(&e, ".sub"), 1);
    counters_note_message(e.c, 20, ENGINE_CAT_LEGIT, 100);
    clock_test_set_wall(&e.clk, local_wall(2024, 5, 1, 10, 1, 0));
    tick(&e);
    tick(&e);
    /* 2024-05-01 was reported: counting may not go back to it */
    assert_int_equal(counters_day(e.c), day_of(2025, 5, 1));
    assert_int_equal(log_count("counting continues on 2025-05-01"), 1);
    clock_test_set_wall(&e.clk, local_wall(2024, 5, 2, 0, 0, 30));
    tick(&e);
    assert_int_equal(counters_day(e.c), day_of(2024, 5, 2));
    assert_int_equal(log_count("counting moves to 2024-05-02"), 1);
    assert_int_equal(count_subs(&e, ".sub"), 1);
    counters_note_message(e.c, 30, ENGINE_CAT_LEGIT, 100);
    clock_test_set_wall(&e.clk, local_wall(2024, 5, 3, 0, 0, 30));
    tick(&e);
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    assert_may_1_and_2_reported(&e);
    env_done(&e);
}

/* A helper started just before midnight with one message counted,
 * whose report of 2024-05-01 is written at midnight but cannot be renamed
 * to .sub (is_sub_rename_failing stays set). */
static void
report_stuck_as_tmp(struct env *e)
{
    env_init(e, "UTC", 2024, 5, 1, 23, 59, 0);
    env_start(e);
    tick(e);
    counters_note_message(e->c, 7, ENGINE_CAT_LEGIT, 100);
    is_sub_rename_failing = true;
    clock_test_advance_ms(&e->clk, 120000);
    tick(e);
}

/* The report was written but its rename to .sub failed: the next tick
 * tries the rename again instead of leaving the .tmp (marked reported, so
 * never made again) in Submitted/ until the next restart. */
static void
test_housekeep_report_commit_retried(void **state)
{
    struct env e;
    struct sub subs[MAX_SUBS];
    size_t n;

    (void)state;
    report_stuck_as_tmp(&e);
    assert_int_equal(count_subs(&e, ".sub"), 0);
    assert_int_equal(count_subs(&e, ".tmp"), 1);
    assert_int_equal(log_count("cannot rename"), 1);

    /* still failing: logged once */
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    assert_int_equal(log_count("cannot rename"), 1);
    assert_int_equal(count_subs(&e, ".tmp"), 1);

    /* the disk recovers: the same report goes out, once */
    is_sub_rename_failing = false;
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    n = list_subs(&e, ".sub", subs, MAX_SUBS);
    assert_int_equal(n, 1);
    assert_non_null(strstr(subs[0].text, "daily report 2024-05-01: "
                                         "1 requests"));
    free_subs(subs, n);
    assert_int_equal(count_subs(&e, ".tmp"), 0);
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    env_stop(&e);
    assert_int_equal(count_subs(&e, ".sub"), 1);
    env_done(&e);
}

/* A report stuck as .tmp (its rename failing) that an administrator
 * removes by hand was not written to .sub: the log must not say it was,
 * and the helper stops trying to rename it. */
static void
test_housekeep_report_tmp_removed_by_hand(void **state)
{
    struct env e;
    struct sub subs[MAX_SUBS];
    size_t n;

    (void)state;
    report_stuck_as_tmp(&e);
    n = list_subs(&e, ".tmp", subs, MAX_SUBS);
    assert_int_equal(n, 1);
    assert_int_equal(unlink(subs[0].path), 0);
    free_subs(subs, n);

    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    assert_int_equal(count_subs(&e, ".sub"), 0);
    assert_int_equal(log_count("written to"), 0);
    assert_int_equal(log_count("daily report for 2024-05-01: "), 1);
    assert_int_equal(log_count("disappeared before it could be renamed"), 1);
    /* nothing left to retry: no further line */
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    assert_int_equal(log_count("disappeared"), 1);
    is_sub_rename_failing = false;
    env_stop(&e);
    env_done(&e);
}

/* Submitted/ cannot be written at midnight (here a file stands where the
 * directory should be; a full disk looks the same): the day still rolls
 * over, but stays unreported -- logged and counted once, not every
 * minute -- and its report is written as soon as Submitted/ works again,
 * at a later tick or after a restart; exactly once. */
static void
test_housekeep_report_write_fails(void **state)
{
    struct env e;
    struct counters_snapshot s;
    struct sub subs[MAX_SUBS];
    size_t n;
    FILE *f;

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 23, 59, 0);
    assert_int_equal(rmdir(e.cfg.submitted_dir), 0);
    f = fopen(e.cfg.submitted_dir, "w"); /* a file where the dir should be */
    assert_non_null(f);
    fclose(f);
    env_start(&e);
    tick(&e);
    counters_note_message(e.c, 7, ENGINE_CAT_LEGIT, 100);
    clock_test_advance_ms(&e.clk, 120000);
    tick(&e);
    assert_int_equal(log_count("daily report for 2024-05-01 not written"), 1);
    assert_int_equal(counters_day(e.c), day_of(2024, 5, 2));
    read_state(&e, &s);
    assert_int_equal(s.last_reported, COUNTERS_DAY_NONE);
    assert_int_equal(s.today.errors, 1);
    assert_int_equal(counters_day_scored(&s.history[0]), 1);

    /* still failing a minute later: no second log line, no second error */
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    assert_int_equal(log_count("daily report for 2024-05-01 not written"), 1);
    read_state(&e, &s);
    assert_int_equal(s.today.errors, 1);

    /* a crash, Submitted/ repaired, a restart: the day is reported */
    env_crash(&e);
    assert_int_equal(unlink(e.cfg.submitted_dir), 0);
    assert_int_equal(mkdir(e.cfg.submitted_dir, 0700), 0);
    clock_test_advance_ms(&e.clk, 60000);
    env_start(&e);
    tick(&e);
    n = list_subs(&e, ".sub", subs, MAX_SUBS);
    assert_int_equal(n, 1);
    assert_non_null(strstr(subs[0].text, "daily report 2024-05-01: "
                                         "1 requests"));
    free_subs(subs, n);
    read_state(&e, &s);
    assert_int_equal(s.last_reported, day_of(2024, 5, 1));
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    env_stop(&e);
    assert_int_equal(count_subs(&e, ".sub"), 1);
    env_done(&e);
}

/* No Submitted/ at all (the helper started outside CGP's base directory,
 * or SubmittedDir names the wrong place): the helper made one, and logged
 * the report as written to a folder nothing delivers from.  Now it is
 * logged once as missing, not made, and the report is written once the
 * folder exists. */
static void
test_housekeep_no_submitted_dir(void **state)
{
    struct env e;
    struct stat st;

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 23, 59, 0);
    assert_int_equal(rmdir(e.cfg.submitted_dir), 0);
    env_start(&e);
    tick(&e);
    counters_note_message(e.c, 7, ENGINE_CAT_LEGIT, 100);
    clock_test_advance_ms(&e.clk, 120000);
    tick(&e);
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    assert_int_equal(log_count("daily report for 2024-05-01 not written"), 1);
    assert_int_equal(log_count("no such directory (CGP's Submitted folder"),
                     1);
    assert_int_not_equal(stat(e.cfg.submitted_dir, &st), 0);
    assert_int_equal(mkdir(e.cfg.submitted_dir, 0700), 0);
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    env_stop(&e);
    assert_int_equal(count_subs(&e, ".sub"), 1);
    env_done(&e);
}

/* The same without a restart, over two midnights: Submitted/ unwritable
 * from before the first until after the second, then repaired; both
 * days are reported, the older first, each once. */
static void
test_housekeep_report_retried_in_order(void **state)
{
    struct env e;
    struct counters_snapshot s;
    FILE *f;

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 23, 59, 0);
    assert_int_equal(rmdir(e.cfg.submitted_dir), 0);
    f = fopen(e.cfg.submitted_dir, "w");
    assert_non_null(f);
    fclose(f);
    env_start(&e);
    tick(&e);
    counters_note_message(e.c, 7, ENGINE_CAT_LEGIT, 100);
    clock_test_advance_ms(&e.clk, 120000);
    tick(&e); /* 2024-05-01 ended, not written */
    counters_note_message(e.c, 8, ENGINE_CAT_LEGIT, 100);
    counters_note_message(e.c, 9, ENGINE_CAT_LEGIT, 100);
    clock_test_set_wall(&e.clk, local_wall(2024, 5, 3, 0, 1, 0));
    tick(&e); /* 2024-05-02 ended, not written either */
    assert_int_equal(count_subs(&e, ".sub"), 0);
    assert_int_equal(unlink(e.cfg.submitted_dir), 0);
    assert_int_equal(mkdir(e.cfg.submitted_dir, 0700), 0);
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    assert_may_1_and_2_reported(&e);
    read_state(&e, &s);
    assert_int_equal(s.last_reported, day_of(2024, 5, 2));
    assert_int_equal(log_count("report for 2024-05-01 written to"), 1);
    assert_int_equal(log_count("report for 2024-05-02 written to"), 1);
    assert_int_equal(log_count("report for 2024-05-02 not written"), 0);
    clock_test_advance_ms(&e.clk, 60000);
    tick(&e);
    assert_int_equal(count_subs(&e, ".sub"), 2);
    env_done(&e);
}

/* A state file from the future (unknown version) is kept aside, not
 * overwritten; bad lines are logged and skipped. */
static void
test_housekeep_state_file_problems(void **state)
{
    struct env e;
    char bad[CONFIG_PATH_MAX + 16];
    static const char future[] = "version=9\nday=2024-05-01\n";
    static const char lines[] =
        "version=1\nday=2024-05-01\nscore.3=2\nbogus=1\nscore.4=x\n";

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 9, 0, 0);
    assert_int_equal(fsutil_write_atomic(e.cfg.state_path, future,
                                         sizeof(future) - 1, 0644),
                     CM_OK);
    env_start(&e);
    snprintf(bad, sizeof(bad), "%s.bad", e.cfg.state_path);
    assert_true(fsutil_is_file(bad));
    assert_false(fsutil_is_file(e.cfg.state_path));
    assert_int_equal(log_count("moved to"), 1);
    env_crash(&e);

    assert_int_equal(fsutil_write_atomic(e.cfg.state_path, lines,
                                         sizeof(lines) - 1, 0644),
                     CM_OK);
    env_start(&e);
    assert_int_equal(log_count("line 4: unknown key"), 1);
    assert_int_equal(log_count("line 5: bad number"), 1);
    assert_int_equal(log_count("2 bad line(s)"), 1);
    {
        struct counters_snapshot s;
        counters_snapshot(e.c, &s);
        assert_int_equal(s.today.by_score[3], 2);
    }
    env_done(&e);
}

/* Submitted/ unwritable from before midnight for n_days midnights (one
 * message noted each day), then repaired and ticked once. */
static void
block_reports_for(struct env *e, unsigned n_days)
{
    FILE *f;

    env_init(e, "UTC", 2024, 5, 1, 23, 59, 0);
    assert_int_equal(rmdir(e->cfg.submitted_dir), 0);
    f = fopen(e->cfg.submitted_dir, "w");
    assert_non_null(f);
    fclose(f);
    env_start(e);
    tick(e);
    for (unsigned i = 0; i < n_days; i++) {
        counters_note_message(e->c, 7, ENGINE_CAT_LEGIT, 100);
        clock_test_advance_ms(&e->clk, i == 0 ? 120000 : 86400000);
        tick(e);
    }
    assert_int_equal(count_subs(e, ".sub"), 0);
    assert_int_equal(unlink(e->cfg.submitted_dir), 0);
    assert_int_equal(mkdir(e->cfg.submitted_dir, 0700), 0);
    clock_test_advance_ms(&e->clk, 60000);
    tick(e);
}

/* Ten days without a writable Submitted/ (a holiday): every day's report
 * is kept and written once it works again, oldest first; reported days
 * are then trimmed back to the ones kept for REPORT --date. */
static void
test_housekeep_report_kept_past_a_week(void **state)
{
    struct env e;
    struct sub subs[MAX_SUBS];
    struct counters_snapshot *s = malloc(sizeof(*s));
    size_t n;

    (void)state;
    assert_non_null(s);
    block_reports_for(&e, 10);
    n = list_subs(&e, ".sub", subs, MAX_SUBS);
    assert_int_equal(n, 10);
    assert_non_null(strstr(subs[0].text, "daily report 2024-05-01: "
                                         "1 requests"));
    assert_non_null(strstr(subs[9].text, "daily report 2024-05-10: "
                                         "1 requests"));
    free_subs(subs, n);
    assert_int_equal(log_count("dropped"), 0);
    clock_test_advance_ms(&e.clk, 86400000);
    tick(&e);
    read_state(&e, s);
    assert_int_equal(s->n_history, CAPS_COUNTERS_REPORTED_DAYS);
    free(s);
    env_done(&e);
}

/* Past the bound, the oldest unreported day is dropped -- logged, once
 * per day -- and the rest are still reported. */
static void
test_housekeep_report_dropped_past_the_bound(void **state)
{
    struct env e;
    struct sub subs[MAX_SUBS];
    size_t n;

    (void)state;
    block_reports_for(&e, CAPS_COUNTERS_HISTORY_DAYS + 2);
    assert_int_equal(log_count("report for 2024-05-01 was never written"),
                     1);
    assert_int_equal(log_count("report for 2024-05-02 was never written"),
                     1);
    assert_int_equal(log_count("was never written"), 2);
    n = list_subs(&e, ".sub", subs, MAX_SUBS);
    assert_int_equal(n, CAPS_COUNTERS_HISTORY_DAYS);
    assert_non_null(strstr(subs[0].text, "daily report 2024-05-03: "));
    free_subs(subs, n);
    env_done(&e);
}

/* A state file that cannot be read for an I/O reason (here a symlink
 * loop: ELOOP; a permission or disk error looks the same) is neither
 * overwritten nor reported from while it stays unreadable: it may hold
 * days of counts.  The load is retried every tick, and once it works the
 * counts noted meanwhile are added to the file's. */
static void
test_housekeep_state_unreadable_kept(void **state)
{
    struct env e;
    struct counters_snapshot s;
    struct stat st;
    char real[CONFIG_PATH_MAX + 16];
    static const char saved[] = "version=1\nday=2024-05-01\nscore.3=5\n";

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 9, 0, 0);
    snprintf(real, sizeof(real), "%s/real.state", e.dir);
    assert_int_equal(fsutil_write_atomic(real, saved, sizeof(saved) - 1,
                                         0644),
                     CM_OK);
    assert_int_equal(symlink(e.cfg.state_path, e.cfg.state_path), 0);
    env_start(&e);
    for (unsigned i = 0; i < 3; i++) {
        counters_note_message(e.c, 7, ENGINE_CAT_LEGIT, 100);
        tick(&e);
        clock_test_advance_ms(&e.clk, 60000);
    }
    assert_int_equal(lstat(e.cfg.state_path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(log_count("cannot read"), 1);

    /* repaired: the file is read, the three messages join its counts */
    assert_int_equal(unlink(e.cfg.state_path), 0);
    assert_int_equal(symlink(real, e.cfg.state_path), 0);
    tick(&e);
    assert_int_equal(log_count("can be read again"), 1);
    read_state(&e, &s);
    assert_int_equal(s.today.day, day_of(2024, 5, 1));
    assert_int_equal(s.today.by_score[3], 5);
    assert_int_equal(s.today.by_score[7], 3);
    env_done(&e);
}

/* A file of `age_s` seconds at dir/name. */
static void
make_aged(const char *dir, const char *name, long age_s)
{
    char path[CONFIG_PATH_MAX + 300];
    struct timespec t[2];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("partial", f);
    fclose(f);
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= age_s;
    t[1] = t[0];
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static bool
exists_in(const char *dir, const char *name)
{
    char path[CONFIG_PATH_MAX + 300];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return lstat(path, &st) == 0;
}

/* Temporary files a crash left -- a state save's "<state>.tmp.<pid>.<n>"
 * beside the state file, a REPORT's "cmreport-manual-….tmp" in
 * Submitted/ -- are removed at start-up once they are old enough that no
 * process can still be writing them; other names, fresh files and
 * symlinks stay. */
static void
test_housekeep_removes_stale_temps(void **state)
{
    struct env e;
    char link[CONFIG_PATH_MAX + 300];
    static const char manual[] =
        "cmreport-manual-2024-04-30-1714435200-77-0.tmp";

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 9, 0, 0);
    assert_int_equal(fsutil_mkdirs(e.cfg.submitted_dir, 0700), CM_OK);
    make_aged(e.dir, "state.tmp.77.0", 7200);
    make_aged(e.dir, "state.tmp.78.0", 10);
    make_aged(e.dir, "state.tmp.x.0", 7200);
    make_aged(e.dir, "other.tmp.77.0", 7200);
    make_aged(e.cfg.submitted_dir, manual, 7200);
    make_aged(e.cfg.submitted_dir, "cmreport-manual-x.tmp", 7200);
    snprintf(link, sizeof(link), "%s/state.tmp.79.0", e.dir);
    assert_int_equal(symlink("/nonexistent", link), 0);
    env_start(&e);
    assert_false(exists_in(e.dir, "state.tmp.77.0"));
    assert_false(exists_in(e.cfg.submitted_dir, manual));
    assert_true(exists_in(e.dir, "state.tmp.78.0"));
    assert_true(exists_in(e.dir, "state.tmp.x.0"));
    assert_true(exists_in(e.dir, "other.tmp.77.0"));
    assert_true(exists_in(e.dir, "state.tmp.79.0"));
    assert_true(exists_in(e.cfg.submitted_dir, "cmreport-manual-x.tmp"));
    env_done(&e);
}

/* A failing state save is logged once, with the system's reason (the
 * folder is missing: not an "i/o error", which reads as a failing disk),
 * retried, and logged when it works again.  It is one error in the day's
 * count however many minutes it lasts (each retry counted one, so a
 * night without the folder showed hundreds in the report); failing again
 * after it recovered is a second one. */
static void
test_housekeep_save_failure_logged_once(void **state)
{
    struct env e;
    struct counters_snapshot s;
    char dir[256];
    char aside[264];

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 9, 0, 0);
    snprintf(dir, sizeof(dir), "%s/sub", e.dir);
    snprintf(aside, sizeof(aside), "%s.aside", dir);
    snprintf(e.cfg.state_path, sizeof(e.cfg.state_path), "%s/state", dir);
    env_start(&e);
    for (unsigned i = 0; i < 3; i++) {
        counters_note_message(e.c, i, ENGINE_CAT_LEGIT, 100);
        assert_int_equal(housekeep_tick(e.h), CM_EIO);
    }
    assert_int_equal(log_count("cannot save"), 1);
    assert_int_equal(log_count(strerror(ENOENT)), 1);
    assert_int_equal(fsutil_mkdirs(dir, 0700), CM_OK);
    assert_int_equal(housekeep_tick(e.h), CM_OK);
    assert_int_equal(log_count("saved again"), 1);
    read_state(&e, &s);
    assert_int_equal(s.today.errors, 1);

    /* Failing again, for two ticks, then back. */
    assert_int_equal(rename(dir, aside), 0);
    for (unsigned i = 0; i < 2; i++) {
        counters_note_message(e.c, i, ENGINE_CAT_LEGIT, 100);
        assert_int_equal(housekeep_tick(e.h), CM_EIO);
    }
    assert_int_equal(rename(aside, dir), 0);
    assert_int_equal(housekeep_tick(e.h), CM_OK);
    assert_int_equal(log_count("cannot save"), 2);
    assert_int_equal(log_count("saved again"), 2);
    read_state(&e, &s);
    assert_int_equal(s.today.errors, 2);
    env_done(&e);
}

/* The real thread: started, woken, stopped; the stop's final save holds
 * every event noted before it. */
static void
test_housekeep_thread_start_stop(void **state)
{
    struct env e;
    struct counters_snapshot s;

    (void)state;
    env_init(&e, "UTC", 2024, 5, 1, 9, 0, 0);
    e.h = housekeep_start(&e.cfg, e.c, &e.clk.clock, NULL);
    assert_non_null(e.h);
    for (unsigned i = 0; i < 100; i++) {
        counters_note_message(e.c, i, ENGINE_CAT_LEGIT, 100);
    }
    housekeep_wake(e.h);
    counters_note_fail_open(e.c, COUNTERS_FAIL_EMPTY, 100);
    housekeep_stop(e.h);
    e.h = NULL;
    read_state(&e, &s);
    assert_int_equal(counters_day_scored(&s.today), 100);
    assert_int_equal(counters_day_fail_opens(&s.today), 1);
    housekeep_stop(NULL);
    housekeep_free(NULL);
    housekeep_wake(NULL);
    env_done(&e);
}

static void
count_tick(void *ctx)
{
    atomic_uint *n = ctx;

    atomic_fetch_add(n, 1);
}

/*
 * ReportTime inside the hour a DST change repeats, in its second pass:
 * New York, 2026-11-01 01:10 EST (01:30 EDT has passed, 01:30 EST is to
 * come).  mktime places "01:30" at the passed instance, so the thread's
 * wait came out as one second, and it ticked (read the clock, compared
 * the state) every second until 01:30 EST, twenty minutes here, up to an
 * hour at worst.  It now waits its usual minute.
 */
static void
test_housekeep_thread_repeated_hour_waits(void **state)
{
    struct env e;
    struct housekeep_hook hook;
    atomic_uint n_ticks = 0;

    (void)state;
    env_init(&e, "America/New_York", 2026, 11, 1, 0, 10, 0);
    /* 00:10 EDT plus two hours is 01:10 EST */
    clock_test_set_wall(&e.clk, local_wall(2026, 11, 1, 0, 10, 0) + 7200);
    snprintf(e.cfg.report_time, sizeof(e.cfg.report_time), "01:30");
    hook.on_tick = count_tick;
    hook.ctx = &n_ticks;
    e.h = housekeep_start(&e.cfg, e.c, &e.clk.clock, &hook);
    assert_non_null(e.h);
    sleep(3);
    housekeep_stop(e.h);
    e.h = NULL;
    assert_int_equal(atomic_load(&n_ticks), 0);
    env_done(&e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_housekeep_day_of_and_paths),
        cmocka_unit_test(test_housekeep_first_start_saves_day),
        cmocka_unit_test(test_housekeep_midnight_report),
        cmocka_unit_test(test_housekeep_dst_berlin),
        cmocka_unit_test(test_housekeep_dst_new_york),
        cmocka_unit_test(test_housekeep_report_time_inside_dst_change),
        cmocka_unit_test(test_housekeep_clock_jumps),
        cmocka_unit_test(test_housekeep_restart_after_missed_days),
        cmocka_unit_test(test_housekeep_crash_loses_at_most_a_tick),
        cmocka_unit_test(test_housekeep_crash_before_rename),
        cmocka_unit_test(test_housekeep_crash_while_writing),
        cmocka_unit_test(test_housekeep_clock_far_ahead_then_back),
        cmocka_unit_test(test_housekeep_report_write_fails),
        cmocka_unit_test(test_housekeep_no_submitted_dir),
        cmocka_unit_test(test_housekeep_report_commit_retried),
        cmocka_unit_test(test_housekeep_report_tmp_removed_by_hand),
        cmocka_unit_test(test_housekeep_report_retried_in_order),
        cmocka_unit_test(test_housekeep_report_kept_past_a_week),
        cmocka_unit_test(test_housekeep_report_dropped_past_the_bound),
        cmocka_unit_test(test_housekeep_state_file_problems),
        cmocka_unit_test(test_housekeep_state_unreadable_kept),
        cmocka_unit_test(test_housekeep_removes_stale_temps),
        cmocka_unit_test(test_housekeep_save_failure_logged_once),
        cmocka_unit_test(test_housekeep_thread_start_stop),
        cmocka_unit_test(test_housekeep_thread_repeated_hour_waits),
    };

    return cmocka_run_group_tests_name("housekeep", tests, NULL, NULL);
}
