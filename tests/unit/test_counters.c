/*
 * test_counters.c -- events, snapshots, rollover, and the state file's
 * format, parser and I/O (include/counters.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include <cmocka.h>

#include "clock.h"
#include "counters.h"
#include "queuefile.h"

#define MAX_PROBLEMS 64

struct problems {
    size_t n;
    size_t line[MAX_PROBLEMS];
    char what[MAX_PROBLEMS][64];
};

static void
collect(void *ctx, size_t line, const char *problem)
{
    struct problems *p = ctx;

    if (p->n < MAX_PROBLEMS) {
        p->line[p->n] = line;
        snprintf(p->what[p->n], sizeof(p->what[0]), "%s", problem);
    }
    p->n++;
}

static enum cm_err
parse_str(const char *s, struct counters_snapshot *out, struct problems *p,
          size_t *n_bad)
{
    memset(p, 0, sizeof(*p));
    return counters_parse((const uint8_t *)s, strlen(s), out, collect, p,
                          n_bad);
}

static char *
make_tmpdir(void)
{
    char tmpl[] = "/tmp/test_counters.XXXXXX";
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

static void
test_counters_new_is_empty(void **state)
{
    struct counters *c = counters_new();
    struct counters_snapshot s;

    (void)state;
    assert_non_null(c);
    counters_snapshot(c, &s);
    assert_int_equal(s.today.day, COUNTERS_DAY_NONE);
    assert_int_equal(s.last_reported, COUNTERS_DAY_NONE);
    assert_int_equal(s.cartridge_version, 0);
    assert_int_equal(s.n_history, 0);
    assert_int_equal(counters_day_requests(&s.today), 0);
    assert_int_equal(counters_day(c), COUNTERS_DAY_NONE);
    counters_free(c);
    counters_free(NULL);
}

static void
test_counters_note_events(void **state)
{
    struct counters *c = counters_new();
    struct counters_snapshot s;

    (void)state;
    counters_note_message(c, 0, ENGINE_CAT_LEGIT, 10);
    counters_note_message(c, 97, ENGINE_CAT_SPAM, 1000);
    counters_note_message(c, 250, ENGINE_CAT_PHISHING, 1000);
    counters_note_message(c, 50, (enum engine_category)77, 1000);
    counters_note_fail_open(c, COUNTERS_FAIL_TIMEOUT, 20000000);
    counters_note_fail_open(c, (enum counters_fail)99, 0);
    counters_note_error(c);
    counters_note_update_installed(c, 42);
    counters_note_update_refused(c, CM_ESIG);
    counters_note_update_refused(c, CM_ENET);
    counters_snapshot(c, &s);
    assert_int_equal(s.today.by_score[0], 1);
    assert_int_equal(s.today.by_score[97], 1);
    assert_int_equal(s.today.by_score[100], 1); /* clamped */
    assert_int_equal(s.today.by_score[50], 1);
    assert_int_equal(s.today.by_category[ENGINE_CAT_LEGIT], 1);
    assert_int_equal(s.today.by_category[ENGINE_CAT_SPAM], 1);
    assert_int_equal(s.today.by_category[ENGINE_CAT_PHISHING], 1);
    assert_int_equal(s.today.by_category[COUNTERS_CATEGORY_OTHER], 1);
    assert_int_equal(s.today.fail_open[COUNTERS_FAIL_TIMEOUT], 1);
    assert_int_equal(s.today.fail_open[COUNTERS_FAIL_OTHER], 1);
    assert_int_equal(s.today.errors, 1);
    assert_int_equal(s.today.updates_installed, 1);
    assert_int_equal(s.cartridge_version, 42);
    assert_int_equal(counters_cartridge_version(c), 42);
    assert_int_equal(s.today.updates_refused[COUNTERS_REFUSED_SIGNATURE], 1);
    assert_int_equal(s.today.updates_refused[COUNTERS_REFUSED_DOWNLOAD], 1);
    assert_int_equal(counters_day_scored(&s.today), 4);
    assert_int_equal(counters_day_fail_opens(&s.today), 2);
    assert_int_equal(counters_day_requests(&s.today), 6);
    assert_int_equal(counters_day_refused(&s.today), 2);
    /* Latency: one per request, fail-opens included. */
    assert_int_equal(s.today.latency[0], 2);  /* 10 us, 0 us */
    assert_int_equal(s.today.latency[13], 3); /* 1000 us */
    assert_int_equal(s.today.latency[COUNTERS_LATENCY_BUCKETS - 1], 1);
    counters_set_cartridge_version(c, 43);
    assert_int_equal(counters_cartridge_version(c), 43);
    counters_free(c);
}

static void
test_counters_latency_bucket_edges(void **state)
{
    struct counters *c = counters_new();
    struct counters_snapshot s;
    size_t last = COUNTERS_LATENCY_BUCKETS - 1;

    (void)state;
    assert_int_equal(counters_latency_bound_us(0), 50);
    assert_int_equal(counters_latency_bound_us(last - 1), 10000000);
    assert_true(counters_latency_bound_us(last) == COUNTERS_LATENCY_OVER);
    assert_true(counters_latency_bound_us(last + 5) == COUNTERS_LATENCY_OVER);
    for (size_t i = 1; i < last; i++) {
        assert_true(counters_latency_bound_us(i) >
                    counters_latency_bound_us(i - 1));
    }
    counters_note_message(c, 1, ENGINE_CAT_LEGIT, 50);       /* bucket 0 */
    counters_note_message(c, 1, ENGINE_CAT_LEGIT, 51);       /* bucket 1 */
    counters_note_message(c, 1, ENGINE_CAT_LEGIT, 10000000); /* last - 1 */
    counters_note_message(c, 1, ENGINE_CAT_LEGIT, 10000001); /* over */
    counters_note_message(c, 1, ENGINE_CAT_LEGIT, UINT64_MAX);
    counters_snapshot(c, &s);
    assert_int_equal(s.today.latency[0], 1);
    assert_int_equal(s.today.latency[1], 1);
    assert_int_equal(s.today.latency[last - 1], 1);
    assert_int_equal(s.today.latency[last], 2);
    counters_free(c);
}

static void
test_counters_percentiles(void **state)
{
    struct counters_day d;
    uint64_t us = 0;

    (void)state;
    memset(&d, 0, sizeof(d));
    assert_false(counters_day_percentile_us(&d, 500, &us));
    d.latency[3] = 98;  /* <= 100 us */
    d.latency[20] = 2;  /* <= 5 ms */
    assert_true(counters_day_percentile_us(&d, 500, &us));
    assert_int_equal(us, 100);
    assert_true(counters_day_percentile_us(&d, 980, &us));
    assert_int_equal(us, 100);
    assert_true(counters_day_percentile_us(&d, 990, &us));
    assert_int_equal(us, 5000);
    assert_true(counters_day_percentile_us(&d, 1000, &us));
    assert_int_equal(us, 5000);
    assert_true(counters_day_percentile_us(&d, 0, &us));
    assert_int_equal(us, 100);
    d.latency[COUNTERS_LATENCY_BUCKETS - 1] = 1000;
    assert_true(counters_day_percentile_us(&d, 990, &us));
    assert_true(us == COUNTERS_LATENCY_OVER);
}

static void
test_counters_mapping_helpers(void **state)
{
    (void)state;
    assert_int_equal(counters_fail_of_err(CM_ENOENT),
                     COUNTERS_FAIL_MISSING_FILE);
    assert_int_equal(counters_fail_of_err(CM_ENOTREG),
                     COUNTERS_FAIL_NOT_REGULAR);
    assert_int_equal(counters_fail_of_err(CM_ETIMEOUT), COUNTERS_FAIL_TIMEOUT);
    assert_int_equal(counters_fail_of_err(CM_EINVAL),
                     COUNTERS_FAIL_PATH_REFUSED);
    assert_int_equal(counters_fail_of_err(CM_ENOMEM),
                     COUNTERS_FAIL_ENGINE_ERROR);
    assert_int_equal(counters_fail_of_err(CM_EIO), COUNTERS_FAIL_OTHER);
    assert_int_equal(counters_fail_of_queuefile(QUEUEFILE_EMPTY),
                     COUNTERS_FAIL_EMPTY);
    assert_int_equal(counters_fail_of_queuefile(QUEUEFILE_NOT_MAIL),
                     COUNTERS_FAIL_NOT_MAIL);
    assert_int_equal(counters_fail_of_queuefile(QUEUEFILE_NO_BLANK_LINE |
                                                QUEUEFILE_HAS_ENVELOPE),
                     COUNTERS_FAIL_NO_BLANK_LINE);
    /* A header-only message refused because its file was cut. */
    assert_int_equal(counters_fail_of_queuefile(QUEUEFILE_HEADER_TO_END),
                     COUNTERS_FAIL_NO_BLANK_LINE);
    assert_int_equal(counters_fail_of_queuefile(0), COUNTERS_FAIL_OTHER);
    assert_int_equal(counters_refusal_of_err(CM_EKEY), COUNTERS_REFUSED_KEY);
    assert_int_equal(counters_refusal_of_err(CM_ECRYPTO),
                     COUNTERS_REFUSED_DECRYPT);
    assert_int_equal(counters_refusal_of_err(CM_EVERSION),
                     COUNTERS_REFUSED_VERSION);
    assert_int_equal(counters_refusal_of_err(CM_EDIGEST),
                     COUNTERS_REFUSED_DIGEST);
    assert_int_equal(counters_refusal_of_err(CM_EEXPIRED),
                     COUNTERS_REFUSED_EXPIRED);
    assert_int_equal(counters_refusal_of_err(CM_EPARSE),
                     COUNTERS_REFUSED_FORMAT);
    assert_int_equal(counters_refusal_of_err(CM_ETIMEOUT),
                     COUNTERS_REFUSED_DOWNLOAD);
    assert_int_equal(counters_refusal_of_err(CM_ENOMEM),
                     COUNTERS_REFUSED_OTHER);
    assert_string_equal(counters_category_name(ENGINE_CAT_MALWARE),
                        "malware");
    assert_string_equal(counters_category_name(1000), "other");
    assert_string_equal(counters_fail_name(COUNTERS_FAIL_NO_BLANK_LINE),
                        "no_blank_line");
    assert_string_equal(counters_fail_name((enum counters_fail)1000),
                        "other");
    assert_string_equal(counters_refusal_name(COUNTERS_REFUSED_SIGNATURE),
                        "signature");
    assert_string_equal(counters_refusal_name((enum counters_refusal)1000),
                        "other");
}

/* The updater returns CM_EIO, CM_ENOENT and CM_ENOTREG only for the
 * micro_updates cache (a write that failed, a delta base that cannot be
 * read): the report must not file them under download (network) failures,
 * which send an administrator to the wrong place. */
static void
test_counters_cache_failures_are_not_downloads(void **state)
{
    static const enum cm_err cache_errs[] = {CM_EIO, CM_ENOENT,
                                             CM_ENOTREG};

    (void)state;
    for (size_t i = 0; i < sizeof(cache_errs) / sizeof(cache_errs[0]);
         i++) {
        assert_string_equal(
            counters_refusal_name(counters_refusal_of_err(cache_errs[i])),
            "cache");
    }
    assert_string_equal(
        counters_refusal_name(counters_refusal_of_err(CM_ENET)), "download");
    assert_string_equal(
        counters_refusal_name(counters_refusal_of_err(CM_ETIMEOUT)),
        "download");
}

struct noter {
    struct counters *c;
    unsigned id;
};

#define NOTES_PER_THREAD 20000u
#define NOTER_THREADS 4u

static void *
noter_run(void *arg)
{
    struct noter *n = arg;

    for (unsigned i = 0; i < NOTES_PER_THREAD; i++) {
        counters_note_message(n->c, (i + n->id) % 101u,
                              (enum engine_category)(i % 5u), i);
        if (i % 10u == 0) {
            counters_note_fail_open(n->c, COUNTERS_FAIL_EMPTY, i);
        }
    }
    return NULL;
}

/* Events from several threads while the day rolls over: none is lost or
 * doubled. */
static void
test_counters_concurrent_notes_and_rollover(void **state)
{
    struct counters *c = counters_new();
    pthread_t th[NOTER_THREADS];
    struct noter n[NOTER_THREADS];
    struct counters_day ended;
    int64_t dropped;
    struct counters_snapshot *s = malloc(sizeof(*s));
    uint64_t scored = 0;
    uint64_t fails = 0;

    (void)state;
    counters_set_day(c, 100);
    for (unsigned i = 0; i < NOTER_THREADS; i++) {
        n[i].c = c;
        n[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, noter_run, &n[i]), 0);
    }
    for (int64_t d = 101; d < 111; d++) {
        counters_rollover(c, d, &ended, &dropped);
        scored += counters_day_scored(&ended);
        fails += counters_day_fail_opens(&ended);
    }
    for (unsigned i = 0; i < NOTER_THREADS; i++) {
        pthread_join(th[i], NULL);
    }
    counters_snapshot(c, s);
    scored += counters_day_scored(&s->today);
    fails += counters_day_fail_opens(&s->today);
    assert_int_equal(scored, NOTER_THREADS * NOTES_PER_THREAD);
    assert_int_equal(fails, NOTER_THREADS * NOTES_PER_THREAD / 10u);
    free(s);
    counters_free(c);
}

/* True when every event of d was counted whole in d: each scored message
 * has its category and its latency, each fail-open its latency. */
static bool
day_is_whole(const struct counters_day *d)
{
    uint64_t categories = 0;
    uint64_t latencies = 0;

    for (size_t i = 0; i < COUNTERS_CATEGORIES; i++) {
        categories += d->by_category[i];
    }
    for (size_t i = 0; i < COUNTERS_LATENCY_BUCKETS; i++) {
        latencies += d->latency[i];
    }
    return categories == counters_day_scored(d) &&
           latencies == counters_day_requests(d);
}

/* Days rolled over as fast as they can while events arrive: each event
 * lands whole in one day, so every day's report adds up (categories ==
 * scored, latencies == requests), not just the sum over all days. */
static void
test_counters_rollover_keeps_events_whole(void **state)
{
    struct counters *c = counters_new();
    pthread_t th[NOTER_THREADS];
    struct noter n[NOTER_THREADS];
    struct counters_day *ended = malloc(sizeof(*ended));
    struct counters_snapshot *s = malloc(sizeof(*s));
    int64_t dropped;
    int64_t d = 100;
    uint64_t scored = 0;
    size_t n_split = 0;

    (void)state;
    assert_non_null(ended);
    assert_non_null(s);
    counters_set_day(c, d);
    for (unsigned i = 0; i < NOTER_THREADS; i++) {
        n[i].c = c;
        n[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, noter_run, &n[i]), 0);
    }
    /* Roll over until the noters are done (their last notes land in the
     * final live day). */
    for (unsigned k = 0; k < 20000u; k++) {
        counters_rollover(c, ++d, ended, &dropped);
        scored += counters_day_scored(ended);
        n_split += day_is_whole(ended) ? 0u : 1u;
    }
    for (unsigned i = 0; i < NOTER_THREADS; i++) {
        pthread_join(th[i], NULL);
    }
    counters_snapshot(c, s);
    scored += counters_day_scored(&s->today);
    assert_true(day_is_whole(&s->today));
    assert_int_equal(n_split, 0);
    assert_int_equal(scored, NOTER_THREADS * NOTES_PER_THREAD);
    free(s);
    free(ended);
    counters_free(c);
}

static void
test_counters_rollover_history(void **state)
{
    struct counters *c = counters_new();
    struct counters_day ended;
    int64_t dropped;
    struct counters_snapshot s;

    (void)state;
    /* From no day: nothing ends, nothing is reported. */
    counters_rollover(c, 1000, &ended, &dropped);
    assert_int_equal(ended.day, COUNTERS_DAY_NONE);
    assert_int_equal(counters_last_reported(c), COUNTERS_DAY_NONE);
    counters_snapshot(c, &s);
    assert_int_equal(s.n_history, 0);
    assert_int_equal(s.today.day, 1000);

    for (int64_t d = 1000; d < 1010; d++) {
        for (int64_t k = 0; k < d - 999; k++) {
            counters_note_message(c, 5, ENGINE_CAT_LEGIT, 100);
        }
        counters_rollover(c, d + 1, &ended, &dropped);
        assert_int_equal(dropped, COUNTERS_DAY_NONE);
        assert_int_equal(ended.day, d);
        assert_int_equal(counters_day_scored(&ended), (uint64_t)(d - 999));
        assert_int_equal(counters_last_reported(c), d);
    }
    counters_snapshot(c, &s);
    assert_int_equal(s.today.day, 1010);
    assert_int_equal(counters_day_requests(&s.today), 0);
    /* Reported days: only a week is kept. */
    assert_int_equal(s.n_history, CAPS_COUNTERS_REPORTED_DAYS);
    for (size_t i = 0; i < s.n_history; i++) {
        assert_int_equal(s.history[i].day, 1009 - (int64_t)i);
        assert_int_equal(counters_day_scored(&s.history[i]), 10 - i);
    }
    assert_ptr_equal(counters_snapshot_find(&s, 1010), &s.today);
    assert_ptr_equal(counters_snapshot_find(&s, 1005), &s.history[4]);
    assert_null(counters_snapshot_find(&s, 1002)); /* dropped out */
    assert_null(counters_snapshot_find(&s, COUNTERS_DAY_NONE));
    counters_free(c);
}

static void
fill_day(struct counters_day *d, int64_t day, uint64_t seed)
{
    memset(d, 0, sizeof(*d));
    d->day = day;
    for (size_t i = 0; i < COUNTERS_SCORES; i += 3) {
        d->by_score[i] = seed + i;
    }
    for (size_t i = 0; i < COUNTERS_CATEGORIES; i++) {
        d->by_category[i] = seed * 2 + i;
    }
    for (size_t i = 0; i < COUNTERS_FAIL_REASONS; i += 2) {
        d->fail_open[i] = seed + 7 * i;
    }
    d->errors = seed;
    for (size_t i = 0; i < COUNTERS_LATENCY_BUCKETS; i++) {
        d->latency[i] = i % 4 == 0 ? seed + i : 0;
    }
    d->latency[COUNTERS_LATENCY_BUCKETS - 1] = seed + 1;
    d->updates_installed = seed % 3;
    d->updates_refused[COUNTERS_REFUSED_DIGEST] = seed + 5;
    d->updates_refused[COUNTERS_REFUSED_OTHER] = CAPS_COUNTERS_VALUE_MAX;
}

static void
fill_snapshot(struct counters_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    fill_day(&s->today, 19844, 11);
    s->last_reported = 19843;
    s->cartridge_version = UINT64_MAX;
    s->n_history = 3;
    fill_day(&s->history[0], 19843, 1);
    fill_day(&s->history[1], 19840, 2);
    fill_day(&s->history[2], 19000, 3);
}

static void
test_counters_format_parse_round_trip(void **state)
{
    struct counters_snapshot *a = malloc(sizeof(*a));
    struct counters_snapshot *b = malloc(sizeof(*b));
    struct problems p;
    struct buf out;
    size_t n_bad = 99;

    (void)state;
    fill_snapshot(a);
    buf_init(&out, CAPS_COUNTERS_STATE_MAX_BYTES);
    assert_int_equal(counters_format(a, &out), CM_OK);
    assert_memory_equal(out.data, "version=1\n", 10);
    assert_non_null(strstr((char *)out.data, "\nday=2024-05-01\n"));
    assert_non_null(strstr((char *)out.data, "\nlast_reported=2024-04-30\n"));
    assert_non_null(strstr((char *)out.data, "\nlatency_us.over=12\n"));
    assert_non_null(strstr((char *)out.data, "\nlatency_us.50=11\n"));
    memset(&p, 0, sizeof(p));
    assert_int_equal(counters_parse(out.data, out.len, b, collect, &p, &n_bad),
                     CM_OK);
    assert_int_equal(n_bad, 0);
    assert_int_equal(p.n, 0);
    assert_memory_equal(a, b, sizeof(*a));
    buf_clear(&out);

    /* An empty snapshot: just the version line and a comment. */
    memset(a, 0, sizeof(*a));
    a->today.day = COUNTERS_DAY_NONE;
    a->last_reported = COUNTERS_DAY_NONE;
    buf_init(&out, CAPS_COUNTERS_STATE_MAX_BYTES);
    assert_int_equal(counters_format(a, &out), CM_OK);
    assert_int_equal(counters_parse(out.data, out.len, b, NULL, NULL, NULL),
                     CM_OK);
    assert_memory_equal(a, b, sizeof(*a));
    buf_clear(&out);

    /* The output cap is honoured. */
    fill_snapshot(a);
    buf_init(&out, 100);
    assert_int_equal(counters_format(a, &out), CM_ELIMIT);
    buf_clear(&out);
    free(a);
    free(b);
}

static void
test_counters_parse_version(void **state)
{
    struct counters_snapshot s;
    struct problems p;

    (void)state;
    assert_int_equal(parse_str("", &s, &p, NULL), CM_EVERSION);
    assert_int_equal(parse_str("version=2\nday=2024-05-01\n", &s, &p, NULL),
                     CM_EVERSION);
    assert_int_equal(parse_str("day=2024-05-01\nversion=1\n", &s, &p, NULL),
                     CM_EVERSION);
    assert_int_equal(s.today.day, COUNTERS_DAY_NONE); /* left empty */
    assert_int_equal(parse_str("version=1 \n", &s, &p, NULL), CM_EVERSION);
    assert_int_equal(parse_str("# hello\n\nversion=1", &s, &p, NULL), CM_OK);
    assert_int_equal(parse_str("version=1\r\nday=2024-05-01\r\nerrors=3\r\n",
                               &s, &p, NULL),
                     CM_OK);
    assert_int_equal(s.today.day, 19844);
    assert_int_equal(s.today.errors, 3);
}

static void
test_counters_parse_bad_lines(void **state)
{
    static const char text[] =
        "version=1\n"
        "cartridge_version=12\n"
        "cartridge_version=13\n"      /* 3 duplicate */
        "bogus=1\n"                   /* 4 unknown key */
        "errors=1\n"                  /* 5 day key before any day */
        "last_reported=2024-02-30\n"  /* 6 bad date */
        "day=2024-05-01\n"
        "score.7=5\n"
        "score.7=6\n"                 /* 9 duplicate */
        "score.101=1\n"               /* 10 unknown key */
        "score.x=1\n"                 /* 11 unknown key */
        "category.spam=-1\n"          /* 12 bad number */
        "category.ham=1\n"            /* 13 unknown key */
        "fail_open.timeout=1000000000000001\n" /* 14 count too large */
        "fail_open.empty=1000000000000000\n"
        "latency_us.55=1\n"           /* 16 unknown key (no such bound) */
        "latency_us.1500=4\n"
        "no equals sign\n"            /* 18 no '=' */
        "errors=\n"                   /* 19 bad number */
        "last_reported=2024-04-30\n"  /* 20 unknown key inside a day */
        "day=2024-05-01\n"            /* 21 out of order */
        "errors=99\n"                 /* skipped with its day */
        "day=2024-04-29\n"
        "update_refused.key=2\n"
        "day=2023-13-01\n"            /* 25 bad date */
        "errors=98\n"                 /* skipped with its day */
        "day=2024-04-28\n"
        "updates_installed=1";
    struct counters_snapshot s;
    struct problems p;
    size_t n_bad = 0;
    static const size_t want_lines[] = {3, 4, 5, 6, 9, 10, 11, 12, 13, 14,
                                        16, 18, 19, 20, 21, 25};

    (void)state;
    assert_int_equal(parse_str(text, &s, &p, &n_bad), CM_OK);
    assert_int_equal(n_bad, sizeof(want_lines) / sizeof(want_lines[0]));
    assert_int_equal(p.n, n_bad);
    for (size_t i = 0; i < p.n; i++) {
        assert_int_equal(p.line[i], want_lines[i]);
    }
    assert_string_equal(p.what[0], "duplicate key");
    assert_string_equal(p.what[1], "unknown key");
    assert_string_equal(p.what[7], "bad number");
    assert_string_equal(p.what[9], "count too large");
    assert_string_equal(p.what[11], "no '='");
    assert_string_equal(p.what[14], "day out of order; its day is ignored");
    assert_string_equal(p.what[15], "bad date; its day is ignored");
    assert_int_equal(s.cartridge_version, 12);
    assert_int_equal(s.last_reported, COUNTERS_DAY_NONE);
    assert_int_equal(s.today.day, 19844);
    assert_int_equal(s.today.by_score[7], 5);
    assert_int_equal(s.today.errors, 0);
    assert_int_equal(s.today.fail_open[COUNTERS_FAIL_TIMEOUT], 0);
    assert_int_equal(s.today.fail_open[COUNTERS_FAIL_EMPTY],
                     CAPS_COUNTERS_VALUE_MAX);
    assert_int_equal(s.today.latency[15], 4);
    assert_int_equal(s.n_history, 2);
    assert_int_equal(s.history[0].day, 19842);
    assert_int_equal(s.history[0].updates_refused[COUNTERS_REFUSED_KEY], 2);
    assert_int_equal(s.history[0].errors, 0);
    assert_int_equal(s.history[1].day, 19841);
    assert_int_equal(s.history[1].updates_installed, 1);
}

static void
test_counters_parse_caps(void **state)
{
    struct counters_snapshot *s = malloc(sizeof(*s));
    struct problems p;
    struct buf b;
    char line[CAPS_COUNTERS_LINE_MAX + 2];
    size_t n_bad = 0;

    (void)state;
    /* A line at the cap is looked at (unknown key); one more byte and it
     * is refused unread. */
    buf_init(&b, 4096);
    assert_int_equal(buf_puts(&b, "version=1\nday=2024-05-01\n"), CM_OK);
    memset(line, 'k', sizeof(line));
    line[CAPS_COUNTERS_LINE_MAX - 2] = '=';
    line[CAPS_COUNTERS_LINE_MAX - 1] = '1';
    assert_int_equal(buf_append(&b, line, CAPS_COUNTERS_LINE_MAX), CM_OK);
    assert_int_equal(buf_puts(&b, "\n"), CM_OK);
    line[CAPS_COUNTERS_LINE_MAX - 1] = '1';
    line[CAPS_COUNTERS_LINE_MAX] = '1';
    assert_int_equal(buf_append(&b, line, CAPS_COUNTERS_LINE_MAX + 1), CM_OK);
    memset(&p, 0, sizeof(p));
    assert_int_equal(counters_parse(b.data, b.len, s, collect, &p, &n_bad),
                     CM_OK);
    assert_int_equal(n_bad, 2);
    assert_string_equal(p.what[0], "unknown key");
    assert_string_equal(p.what[1], "line too long");
    buf_clear(&b);

    /* The file cap: exactly at it parses, one byte over is refused. */
    buf_init(&b, CAPS_COUNTERS_STATE_MAX_BYTES + 1);
    assert_int_equal(buf_puts(&b, "version=1\nday=2024-05-01\nerrors=1\n"),
                     CM_OK);
    while (b.len < CAPS_COUNTERS_STATE_MAX_BYTES) {
        size_t room = CAPS_COUNTERS_STATE_MAX_BYTES - b.len;
        assert_int_equal(buf_append(&b, "#...............................\n",
                                    room < 34 ? room : 34),
                         CM_OK);
    }
    assert_int_equal(counters_parse(b.data, b.len, s, NULL, NULL, NULL),
                     CM_OK);
    assert_int_equal(s->today.errors, 1);
    assert_int_equal(buf_putc(&b, '\n'), CM_OK);
    assert_int_equal(counters_parse(b.data, b.len, s, NULL, NULL, NULL),
                     CM_ELIMIT);
    assert_int_equal(s->today.day, COUNTERS_DAY_NONE);
    buf_clear(&b);

    /* Days: today plus CAPS_COUNTERS_HISTORY_DAYS; one more is refused. */
    buf_init(&b, 4096);
    assert_int_equal(buf_puts(&b, "version=1\n"), CM_OK);
    for (unsigned i = 0; i <= CAPS_COUNTERS_HISTORY_DAYS + 1; i++) {
        struct clock_date cd = {2024, 5, 20};
        char date[CLOCK_DATE_TEXT_SIZE];

        clock_date_format(clock_days_from_date(&cd) - (int64_t)i, date,
                          sizeof(date));
        assert_int_equal(buf_printf(&b, "day=%s\nerrors=%u\n", date,
                                    i + 1),
                         CM_OK);
    }
    memset(&p, 0, sizeof(p));
    assert_int_equal(counters_parse(b.data, b.len, s, collect, &p, &n_bad),
                     CM_OK);
    assert_int_equal(n_bad, 1);
    assert_string_equal(p.what[0], "too many days; the rest is ignored");
    assert_int_equal(s->n_history, CAPS_COUNTERS_HISTORY_DAYS);
    assert_int_equal(s->history[CAPS_COUNTERS_HISTORY_DAYS - 1].errors,
                     CAPS_COUNTERS_HISTORY_DAYS + 1);
    buf_clear(&b);
    free(s);
}

static void
test_counters_save_and_load(void **state)
{
    char *dir = make_tmpdir();
    char path[512];
    char bad_path[512];
    struct counters *c = counters_new();
    struct counters_snapshot *a = malloc(sizeof(*a));
    struct counters_snapshot *b = malloc(sizeof(*b));

    (void)state;
    snprintf(path, sizeof(path), "%s/state", dir);
    snprintf(bad_path, sizeof(bad_path), "%s/none/state", dir);
    assert_int_equal(counters_read_file(path, b, NULL, NULL, NULL),
                     CM_ENOENT);
    assert_int_equal(counters_load(c, path, NULL, NULL, NULL), CM_ENOENT);
    fill_snapshot(a);
    a->cartridge_version = 77;
    assert_int_equal(counters_save_snapshot(a, path), CM_OK);
    assert_int_equal(counters_save_snapshot(a, bad_path), CM_EIO);
    assert_int_equal(counters_read_file(path, b, NULL, NULL, NULL), CM_OK);
    assert_memory_equal(a, b, sizeof(*a));

    /* Loading adds today's counts to events noted before the load, and
     * keeps a cartridge version already set. */
    counters_note_message(c, 0, ENGINE_CAT_LEGIT, 10);
    counters_set_cartridge_version(c, 5);
    assert_int_equal(counters_load(c, path, NULL, NULL, NULL), CM_OK);
    counters_snapshot(c, b);
    assert_int_equal(b->today.day, 19844);
    assert_int_equal(b->today.by_score[0], a->today.by_score[0] + 1);
    assert_int_equal(b->today.latency[0], a->today.latency[0] + 1);
    assert_int_equal(b->last_reported, 19843);
    assert_int_equal(b->cartridge_version, 5);
    assert_int_equal(b->n_history, 3);
    assert_memory_equal(b->history, a->history, 3 * sizeof(a->history[0]));

    /* counters_save writes what a snapshot shows. */
    assert_int_equal(counters_save(c, path), CM_OK);
    assert_int_equal(counters_read_file(path, a, NULL, NULL, NULL), CM_OK);
    assert_memory_equal(a, b, sizeof(*a));

    /* A fresh counters takes the saved cartridge version. */
    counters_free(c);
    c = counters_new();
    assert_int_equal(counters_load(c, path, NULL, NULL, NULL), CM_OK);
    assert_int_equal(counters_cartridge_version(c), 5);
    assert_int_equal(counters_day(c), 19844);
    assert_int_equal(counters_last_reported(c), 19843);

    /* A directory is not a state file. */
    assert_int_equal(counters_read_file(dir, b, NULL, NULL, NULL),
                     CM_ENOTREG);
    counters_free(c);
    free(a);
    free(b);
    remove_tree(dir);
    free(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_new_is_empty),
        cmocka_unit_test(test_counters_note_events),
        cmocka_unit_test(test_counters_latency_bucket_edges),
        cmocka_unit_test(test_counters_percentiles),
        cmocka_unit_test(test_counters_mapping_helpers),
        cmocka_unit_test(test_counters_cache_failures_are_not_downloads),
        cmocka_unit_test(test_counters_concurrent_notes_and_rollover),
        cmocka_unit_test(test_counters_rollover_keeps_events_whole),
        cmocka_unit_test(test_counters_rollover_history),
        cmocka_unit_test(test_counters_format_parse_round_trip),
        cmocka_unit_test(test_counters_parse_version),
        cmocka_unit_test(test_counters_parse_bad_lines),
        cmocka_unit_test(test_counters_parse_caps),
        cmocka_unit_test(test_counters_save_and_load),
    };

    return cmocka_run_group_tests_name("counters", tests, NULL, NULL);
}
