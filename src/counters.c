/*
 * counters.c -- the one owner of the helper's counts (see counters.h).
 *
 * DESIGN
 *  - State owned: the live counts of the current day (one _Atomic uint64_t
 *    per count), the day they belong to, the last reported day, the
 *    serving cartridge version, and a short history of ended days.
 *  - Writers: any thread notes events with relaxed atomic adds; there is
 *    no lock on the event path, so a worker never waits for housekeep or
 *    a snapshot.  Relaxed order is enough: a count publishes nothing else.
 *  - Days: only housekeep's thread rolls the day over.  The live counts
 *    are two sets, live[cur] taking events.  An event (a message's score,
 *    category and latency) enters the set it adds to (writers[i]) and
 *    leaves after its last add; rollover points cur at the other set,
 *    waits for the events still inside the old one and only then takes
 *    it (swapping each count with zero, ready for the day after).  So
 *    every event lands whole in exactly one day and each day's report
 *    adds up (categories == scored), even for a message noted during the
 *    rollover.  An event never waits; rollover waits for a few adds.
 *    The history is guarded by history_lock, held only for copying the
 *    array.
 *  - State file: a text format (see counters_format in counters.h) parsed
 *    line by line with a bounded parser: CAPS_COUNTERS_STATE_MAX_BYTES per
 *    file, CAPS_COUNTERS_LINE_MAX per line, CAPS_COUNTERS_VALUE_MAX per
 *    count, 1 + CAPS_COUNTERS_HISTORY_DAYS days.  Bad lines are reported
 *    and skipped, never fatal: losing one count beats losing the day.
 *
 * SPEC §7 (daily report counters); STYLE.md §2.3 (state ownership).
 */
#include "counters.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cursor.h"
#include "fsutil.h"
#include "queuefile.h"

#define STATE_VERSION_LINE "version=1"

struct live_day {
    _Atomic uint64_t by_score[COUNTERS_SCORES];
    _Atomic uint64_t by_category[COUNTERS_CATEGORIES];
    _Atomic uint64_t fail_open[COUNTERS_FAIL_REASONS];
    _Atomic uint64_t errors;
    _Atomic uint64_t latency[COUNTERS_LATENCY_BUCKETS];
    _Atomic uint64_t updates_installed;
    _Atomic uint64_t updates_refused[COUNTERS_REFUSALS];
};

struct counters {
    struct live_day live[2];
    _Atomic unsigned cur;          /* index of the set taking events */
    _Atomic uint64_t writers[2];   /* events being added to live[i] */
    _Atomic int64_t day;
    _Atomic int64_t last_reported;
    _Atomic uint64_t cartridge_version;

    pthread_mutex_t history_lock; /* guards n_history and history[] */
    size_t n_history;
    struct counters_day history[CAPS_COUNTERS_HISTORY_DAYS];
};

/* Indexed by enum engine_category; "other" last.  A category the engine
 * adds later counts as "other" until it is named here. */
static const char *const category_names[COUNTERS_CATEGORIES] = {
    "legit", "spam", "phishing", "malware", "bulk", "other"
};
_Static_assert(ENGINE_CAT_LEGIT == 0 && ENGINE_CAT_BULK == 4,
               "category_names follows enum engine_category");

static const char *const fail_names[COUNTERS_FAIL_REASONS] = {
    "missing_file", "not_regular", "empty", "not_mail", "no_blank_line",
    "path_refused", "timeout", "engine_error", "other"
};

static const char *const refusal_names[COUNTERS_REFUSALS] = {
    "signature", "key", "decrypt", "version", "digest", "expired",
    "format", "download", "cache", "other"
};

/* Upper bounds in microseconds: 50 us, then 1-1.2-1.5-2-2.5-3-4-5-6-8 per
 * decade up to 10 s.  The last bucket (not in the table) is "over". */
static const uint64_t latency_bounds_us[COUNTERS_LATENCY_BUCKETS - 1] = {
    50, 60, 80,
    100, 120, 150, 200, 250, 300, 400, 500, 600, 800,
    1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000,
    10000, 12000, 15000, 20000, 25000, 30000, 40000, 50000, 60000, 80000,
    100000, 120000, 150000, 200000, 250000, 300000, 400000, 500000,
    600000, 800000,
    1000000, 1200000, 1500000, 2000000, 2500000, 3000000, 4000000,
    5000000, 6000000, 8000000,
    10000000
};

/* ---- construction ---------------------------------------------------- */

struct counters *
counters_new(void)
{
    struct counters *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    if (pthread_mutex_init(&c->history_lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    /* calloc zeroed the atomics' storage; init them properly anyway. */
    atomic_init(&c->day, COUNTERS_DAY_NONE);
    atomic_init(&c->last_reported, COUNTERS_DAY_NONE);
    atomic_init(&c->cartridge_version, 0);
    atomic_init(&c->cur, 0);
    atomic_init(&c->writers[0], 0);
    atomic_init(&c->writers[1], 0);
    return c;
}

void
counters_free(struct counters *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_destroy(&c->history_lock);
    free(c);
}

/* ---- events ---------------------------------------------------------- */

static void
add1(_Atomic uint64_t *a)
{
    atomic_fetch_add_explicit(a, 1, memory_order_relaxed);
}

/*
 * Start an event: the index of the live set to add it to.  The increment
 * of writers[i] comes before the re-read of cur (both sequentially
 * consistent), and rollover's switch of cur before its read of writers[i],
 * so rollover either waits for this event or the event sees the switch
 * and goes to the new set.
 */
static unsigned
enter(struct counters *c)
{
    for (;;) {
        unsigned i = atomic_load(&c->cur);

        atomic_fetch_add(&c->writers[i], 1);
        if (atomic_load(&c->cur) == i) {
            return i;
        }
        atomic_fetch_sub(&c->writers[i], 1);
    }
}

/* End an event started with enter(): its adds are visible to rollover. */
static void
leave(struct counters *c, unsigned i)
{
    atomic_fetch_sub_explicit(&c->writers[i], 1, memory_order_release);
}

static size_t
latency_bucket(uint64_t us)
{
    size_t lo = 0;
    size_t hi = COUNTERS_LATENCY_BUCKETS - 1; /* the overflow bucket */

    /* Smallest i with us <= bound[i]; hi stays "over" if none. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (us <= latency_bounds_us[mid]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

void
counters_note_message(struct counters *c, unsigned score,
                      enum engine_category category, uint64_t latency_us)
{
    unsigned cat = (unsigned)category;
    size_t bucket = latency_bucket(latency_us);
    unsigned i;

    if (score > 100) {
        score = 100;
    }
    if (cat >= COUNTERS_CATEGORY_OTHER) {
        cat = COUNTERS_CATEGORY_OTHER;
    }
    i = enter(c);
    add1(&c->live[i].by_score[score]);
    add1(&c->live[i].by_category[cat]);
    add1(&c->live[i].latency[bucket]);
    leave(c, i);
}

void
counters_note_fail_open(struct counters *c, enum counters_fail reason,
                        uint64_t latency_us)
{
    unsigned r = (unsigned)reason;
    size_t bucket = latency_bucket(latency_us);
    unsigned i;

    if (r >= COUNTERS_FAIL_REASONS) {
        r = COUNTERS_FAIL_OTHER;
    }
    i = enter(c);
    add1(&c->live[i].fail_open[r]);
    add1(&c->live[i].latency[bucket]);
    leave(c, i);
}

void
counters_note_error(struct counters *c)
{
    unsigned i = enter(c);

    add1(&c->live[i].errors);
    leave(c, i);
}

void
counters_note_update_installed(struct counters *c, uint64_t version)
{
    unsigned i = enter(c);

    add1(&c->live[i].updates_installed);
    leave(c, i);
    atomic_store_explicit(&c->cartridge_version, version,
                          memory_order_relaxed);
}

void
counters_note_update_refused(struct counters *c, enum cm_err reason)
{
    unsigned i = enter(c);

    add1(&c->live[i].updates_refused[counters_refusal_of_err(reason)]);
    leave(c, i);
}

void
counters_set_cartridge_version(struct counters *c, uint64_t version)
{
    atomic_store_explicit(&c->cartridge_version, version,
                          memory_order_relaxed);
}

/* ---- mapping helpers ------------------------------------------------- */

enum counters_fail
counters_fail_of_err(enum cm_err err)
{
    switch (err) {
    case CM_ENOENT:
        return COUNTERS_FAIL_MISSING_FILE;
    case CM_ENOTREG:
        return COUNTERS_FAIL_NOT_REGULAR;
    case CM_ETIMEOUT:
        return COUNTERS_FAIL_TIMEOUT;
    case CM_EINVAL:
        return COUNTERS_FAIL_PATH_REFUSED;
    case CM_ENOMEM:
    case CM_ECRYPTO:
    case CM_EVERSION:
        return COUNTERS_FAIL_ENGINE_ERROR;
    case CM_OK:
    case CM_EIO:
    case CM_EPARSE:
    case CM_ELIMIT:
    case CM_ESIG:
    case CM_EKEY:
    case CM_EDIGEST:
    case CM_EEXPIRED:
    case CM_ENET:
        return COUNTERS_FAIL_OTHER;
    }
    return COUNTERS_FAIL_OTHER;
}

enum counters_fail
counters_fail_of_queuefile(unsigned flags)
{
    if (flags & QUEUEFILE_EMPTY) {
        return COUNTERS_FAIL_EMPTY;
    }
    if (flags & QUEUEFILE_NOT_MAIL) {
        return COUNTERS_FAIL_NOT_MAIL;
    }
    if (flags & (QUEUEFILE_NO_BLANK_LINE | QUEUEFILE_HEADER_TO_END)) {
        return COUNTERS_FAIL_NO_BLANK_LINE;
    }
    return COUNTERS_FAIL_OTHER;
}

enum counters_refusal
counters_refusal_of_err(enum cm_err err)
{
    switch (err) {
    case CM_ESIG:
        return COUNTERS_REFUSED_SIGNATURE;
    case CM_EKEY:
        return COUNTERS_REFUSED_KEY;
    case CM_ECRYPTO:
        return COUNTERS_REFUSED_DECRYPT;
    case CM_EVERSION:
        return COUNTERS_REFUSED_VERSION;
    case CM_EDIGEST:
        return COUNTERS_REFUSED_DIGEST;
    case CM_EEXPIRED:
        return COUNTERS_REFUSED_EXPIRED;
    case CM_EPARSE:
    case CM_ELIMIT:
        return COUNTERS_REFUSED_FORMAT;
    case CM_ENET:
    case CM_ETIMEOUT:
        return COUNTERS_REFUSED_DOWNLOAD;
    case CM_EIO:
    case CM_ENOENT:
    case CM_ENOTREG:
        /* The updater's only file system errors: the cache could not be
         * written, or a delta's base not read from it.  Not a download
         * failure: the fix is on this disk, not on the network. */
        return COUNTERS_REFUSED_CACHE;
    case CM_OK:
    case CM_ENOMEM:
    case CM_EINVAL:
        return COUNTERS_REFUSED_OTHER;
    }
    return COUNTERS_REFUSED_OTHER;
}

const char *
counters_category_name(unsigned category)
{
    if (category >= COUNTERS_CATEGORIES) {
        category = COUNTERS_CATEGORY_OTHER;
    }
    return category_names[category];
}

const char *
counters_fail_name(enum counters_fail reason)
{
    unsigned r = (unsigned)reason;

    return fail_names[r < COUNTERS_FAIL_REASONS ? r : COUNTERS_FAIL_OTHER];
}

const char *
counters_refusal_name(enum counters_refusal reason)
{
    unsigned r = (unsigned)reason;

    return refusal_names[r < COUNTERS_REFUSALS ? r : COUNTERS_REFUSED_OTHER];
}

uint64_t
counters_latency_bound_us(size_t i)
{
    if (i >= COUNTERS_LATENCY_BUCKETS - 1) {
        return COUNTERS_LATENCY_OVER;
    }
    return latency_bounds_us[i];
}

/* ---- reading --------------------------------------------------------- */

/* Copy n live counts into dst; with reset, swap each with zero. */
static void
take(_Atomic uint64_t *src, uint64_t *dst, size_t n, bool reset)
{
    for (size_t i = 0; i < n; i++) {
        if (reset) {
            dst[i] = atomic_exchange_explicit(&src[i], 0,
                                              memory_order_relaxed);
        } else {
            dst[i] = atomic_load_explicit(&src[i], memory_order_relaxed);
        }
    }
}

static void
take_day(struct live_day *l, struct counters_day *d, bool reset)
{
    take(l->by_score, d->by_score, COUNTERS_SCORES, reset);
    take(l->by_category, d->by_category, COUNTERS_CATEGORIES, reset);
    take(l->fail_open, d->fail_open, COUNTERS_FAIL_REASONS, reset);
    take(&l->errors, &d->errors, 1, reset);
    take(l->latency, d->latency, COUNTERS_LATENCY_BUCKETS, reset);
    take(&l->updates_installed, &d->updates_installed, 1, reset);
    take(l->updates_refused, d->updates_refused, COUNTERS_REFUSALS, reset);
}

static void
add_n(_Atomic uint64_t *dst, const uint64_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (src[i] != 0) {
            atomic_fetch_add_explicit(&dst[i], src[i], memory_order_relaxed);
        }
    }
}

static void
add_day(struct live_day *l, const struct counters_day *d)
{
    add_n(l->by_score, d->by_score, COUNTERS_SCORES);
    add_n(l->by_category, d->by_category, COUNTERS_CATEGORIES);
    add_n(l->fail_open, d->fail_open, COUNTERS_FAIL_REASONS);
    add_n(&l->errors, &d->errors, 1);
    add_n(l->latency, d->latency, COUNTERS_LATENCY_BUCKETS);
    add_n(&l->updates_installed, &d->updates_installed, 1);
    add_n(l->updates_refused, d->updates_refused, COUNTERS_REFUSALS);
}

void
counters_snapshot(struct counters *c, struct counters_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    out->today.day = atomic_load(&c->day);
    take_day(&c->live[atomic_load(&c->cur)], &out->today, false);
    out->last_reported = atomic_load(&c->last_reported);
    out->cartridge_version = atomic_load_explicit(&c->cartridge_version,
                                                  memory_order_relaxed);
    pthread_mutex_lock(&c->history_lock);
    out->n_history = c->n_history;
    memcpy(out->history, c->history, c->n_history * sizeof(c->history[0]));
    pthread_mutex_unlock(&c->history_lock);
}

int64_t
counters_day(struct counters *c)
{
    return atomic_load(&c->day);
}

int64_t
counters_last_reported(struct counters *c)
{
    return atomic_load(&c->last_reported);
}

uint64_t
counters_cartridge_version(struct counters *c)
{
    return atomic_load_explicit(&c->cartridge_version, memory_order_relaxed);
}

static uint64_t
sum(const uint64_t *v, size_t n)
{
    uint64_t s = 0;

    for (size_t i = 0; i < n; i++) {
        /* Loaded values are capped at CAPS_COUNTERS_VALUE_MAX, live ones
         * cannot get near 2^64; saturate anyway rather than wrap. */
        s = v[i] > UINT64_MAX - s ? UINT64_MAX : s + v[i];
    }
    return s;
}

uint64_t
counters_day_scored(const struct counters_day *d)
{
    return sum(d->by_score, COUNTERS_SCORES);
}

uint64_t
counters_day_fail_opens(const struct counters_day *d)
{
    return sum(d->fail_open, COUNTERS_FAIL_REASONS);
}

uint64_t
counters_day_refused(const struct counters_day *d)
{
    return sum(d->updates_refused, COUNTERS_REFUSALS);
}

uint64_t
counters_day_requests(const struct counters_day *d)
{
    uint64_t a = counters_day_scored(d);
    uint64_t b = counters_day_fail_opens(d);

    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

bool
counters_day_percentile_us(const struct counters_day *d, unsigned permille,
                           uint64_t *out_us)
{
    uint64_t total = sum(d->latency, COUNTERS_LATENCY_BUCKETS);
    uint64_t rank;
    uint64_t seen = 0;

    if (total == 0) {
        return false;
    }
    if (permille > 1000) {
        permille = 1000;
    }
    /* Rank of the sample: ceil(total * permille / 1000), at least 1.
     * total <= 55 * 10^15 after load caps, so the product may exceed
     * 2^64 only for absurd live counts; divide first in that case. */
    if (total <= UINT64_MAX / 1000u) {
        rank = (total * permille + 999u) / 1000u;
    } else {
        rank = total / 1000u * permille;
    }
    if (rank == 0) {
        rank = 1;
    }
    for (size_t i = 0; i < COUNTERS_LATENCY_BUCKETS; i++) {
        seen = d->latency[i] > UINT64_MAX - seen ? UINT64_MAX
                                                 : seen + d->latency[i];
        if (seen >= rank) {
            *out_us = counters_latency_bound_us(i);
            return true;
        }
    }
    *out_us = COUNTERS_LATENCY_OVER;
    return true;
}

const struct counters_day *
counters_snapshot_find(const struct counters_snapshot *s, int64_t day)
{
    if (day == COUNTERS_DAY_NONE) {
        return NULL;
    }
    if (s->today.day == day) {
        return &s->today;
    }
    for (size_t i = 0; i < s->n_history && i < CAPS_COUNTERS_HISTORY_DAYS;
         i++) {
        if (s->history[i].day == day) {
            return &s->history[i];
        }
    }
    return NULL;
}

/* ---- day management -------------------------------------------------- */

void
counters_set_day(struct counters *c, int64_t day)
{
    atomic_store(&c->day, day);
}

/* True when day is on or before last_reported (its report was made). */
static bool
is_reported(int64_t day, int64_t last_reported)
{
    return last_reported != COUNTERS_DAY_NONE && day <= last_reported;
}

/*
 * Put ended at the front of the history (history_lock held).  Reported
 * days are only kept for REPORT --date, so they go first once more than a
 * week is kept; an unreported one (its report still to be written) drops
 * out only when the whole history is full, and is returned so the caller
 * can say so (else COUNTERS_DAY_NONE).
 */
static int64_t
history_push(struct counters *c, const struct counters_day *ended,
             int64_t last_reported)
{
    int64_t dropped = COUNTERS_DAY_NONE;

    if (c->n_history == CAPS_COUNTERS_HISTORY_DAYS) {
        c->n_history--;
        if (!is_reported(c->history[c->n_history].day, last_reported)) {
            dropped = c->history[c->n_history].day;
        }
    }
    memmove(&c->history[1], &c->history[0],
            c->n_history * sizeof(c->history[0]));
    c->history[0] = *ended;
    c->n_history++;
    while (c->n_history > CAPS_COUNTERS_REPORTED_DAYS &&
           is_reported(c->history[c->n_history - 1].day, last_reported)) {
        c->n_history--;
    }
    return dropped;
}

void
counters_rollover(struct counters *c, int64_t new_day,
                  struct counters_day *ended, int64_t *dropped)
{
    int64_t old_day = atomic_load(&c->day);
    int64_t last = atomic_load(&c->last_reported);
    unsigned i = atomic_load(&c->cur);

    *dropped = COUNTERS_DAY_NONE;
    memset(ended, 0, sizeof(*ended));
    ended->day = old_day;
    /* New events go to the other set (zeroed when it was last taken);
     * the ones already inside this set finish their adds first. */
    atomic_store(&c->cur, i ^ 1u);
    /* Sequentially consistent, as the store above and enter()'s add and
     * re-read: with an acquire load the store could be ordered after it,
     * and an event entering now be neither waited for nor sent on. */
    while (atomic_load(&c->writers[i]) != 0) {
        sched_yield();
    }
    take_day(&c->live[i], ended, true);
    atomic_store(&c->day, new_day);
    if (old_day == COUNTERS_DAY_NONE) {
        return;
    }
    pthread_mutex_lock(&c->history_lock);
    *dropped = history_push(c, ended, last);
    pthread_mutex_unlock(&c->history_lock);
    if (last == COUNTERS_DAY_NONE || last < old_day) {
        atomic_store(&c->last_reported, old_day);
    }
}

void
counters_set_last_reported(struct counters *c, int64_t day)
{
    atomic_store(&c->last_reported, day);
}

/* ---- state file: format ---------------------------------------------- */

static enum cm_err
format_counts(struct buf *out, const char *prefix, const char *const *names,
              const uint64_t *v, size_t n)
{
    enum cm_err rc = CM_OK;

    for (size_t i = 0; i < n && rc == CM_OK; i++) {
        if (v[i] != 0) {
            rc = buf_printf(out, "%s.%s=%llu\n", prefix, names[i],
                            (unsigned long long)v[i]);
        }
    }
    return rc;
}

static enum cm_err
format_day(const struct counters_day *d, struct buf *out)
{
    char date[CLOCK_DATE_TEXT_SIZE];
    enum cm_err rc;

    clock_date_format(d->day, date, sizeof(date));
    rc = buf_printf(out, "day=%s\n", date);
    for (size_t i = 0; i < COUNTERS_SCORES && rc == CM_OK; i++) {
        if (d->by_score[i] != 0) {
            rc = buf_printf(out, "score.%zu=%llu\n", i,
                            (unsigned long long)d->by_score[i]);
        }
    }
    if (rc == CM_OK) {
        rc = format_counts(out, "category", category_names, d->by_category,
                           COUNTERS_CATEGORIES);
    }
    if (rc == CM_OK) {
        rc = format_counts(out, "fail_open", fail_names, d->fail_open,
                           COUNTERS_FAIL_REASONS);
    }
    if (rc == CM_OK && d->errors != 0) {
        rc = buf_printf(out, "errors=%llu\n",
                        (unsigned long long)d->errors);
    }
    for (size_t i = 0; i < COUNTERS_LATENCY_BUCKETS && rc == CM_OK; i++) {
        if (d->latency[i] == 0) {
            continue;
        }
        if (i == COUNTERS_LATENCY_BUCKETS - 1) {
            rc = buf_printf(out, "latency_us.over=%llu\n",
                            (unsigned long long)d->latency[i]);
        } else {
            rc = buf_printf(out, "latency_us.%llu=%llu\n",
                            (unsigned long long)latency_bounds_us[i],
                            (unsigned long long)d->latency[i]);
        }
    }
    if (rc == CM_OK && d->updates_installed != 0) {
        rc = buf_printf(out, "updates_installed=%llu\n",
                        (unsigned long long)d->updates_installed);
    }
    if (rc == CM_OK) {
        rc = format_counts(out, "update_refused", refusal_names,
                           d->updates_refused, COUNTERS_REFUSALS);
    }
    return rc;
}

enum cm_err
counters_format(const struct counters_snapshot *s, struct buf *out)
{
    char date[CLOCK_DATE_TEXT_SIZE];
    enum cm_err rc;

    rc = buf_puts(out, STATE_VERSION_LINE "\n"
                  "# CGPCloudmark counters (daily report state); "
                  "rewritten every minute\n");
    if (rc == CM_OK && s->last_reported != COUNTERS_DAY_NONE) {
        clock_date_format(s->last_reported, date, sizeof(date));
        rc = buf_printf(out, "last_reported=%s\n", date);
    }
    if (rc == CM_OK && s->cartridge_version != 0) {
        rc = buf_printf(out, "cartridge_version=%llu\n",
                        (unsigned long long)s->cartridge_version);
    }
    if (rc == CM_OK && s->today.day != COUNTERS_DAY_NONE) {
        rc = format_day(&s->today, out);
    }
    for (size_t i = 0; i < s->n_history && i < CAPS_COUNTERS_HISTORY_DAYS &&
                       rc == CM_OK;
         i++) {
        if (s->history[i].day != COUNTERS_DAY_NONE) {
            rc = format_day(&s->history[i], out);
        }
    }
    return rc;
}

/* ---- state file: parse ----------------------------------------------- */

/* Parser state across lines. */
struct parse_state {
    struct counters_snapshot *out;
    counters_problem_fn problem;
    void *ctx;
    size_t n_bad;
    size_t line_no;
    bool has_version;
    bool has_last_reported;
    bool has_cartridge_version;
    /* The day block being filled: NULL before the first "day=" line and
     * while a refused block's lines are skipped. */
    struct counters_day *cur;
    struct counters_day seen; /* nonzero slot: key already given */
    size_t n_days;            /* blocks accepted so far */
    bool is_skipping;         /* inside a refused block */
};

static void
bad(struct parse_state *ps, const char *problem)
{
    ps->n_bad++;
    if (ps->problem != NULL) {
        ps->problem(ps->ctx, ps->line_no, problem);
    }
}

static bool
has_prefix(const char *k, size_t klen, const char *prefix, size_t *plen)
{
    size_t n = strlen(prefix);

    if (klen <= n || memcmp(k, prefix, n) != 0) {
        return false;
    }
    *plen = n;
    return true;
}

/* Index of name (k, klen) in names[n], or n when absent. */
static size_t
name_index(const char *k, size_t klen, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(names[i]) == klen && memcmp(names[i], k, klen) == 0) {
            return i;
        }
    }
    return n;
}

/*
 * The count a day key names, inside d; NULL for an unknown key.  Called
 * with the same key on the day being filled and on the "seen" marks, so
 * the two slots correspond.
 */
static uint64_t *
day_slot(struct counters_day *d, const char *k, size_t klen)
{
    size_t pl;
    size_t i;
    uint64_t n;

    if (klen == 6 && memcmp(k, "errors", 6) == 0) {
        return &d->errors;
    }
    if (klen == 17 && memcmp(k, "updates_installed", 17) == 0) {
        return &d->updates_installed;
    }
    if (has_prefix(k, klen, "score.", &pl)) {
        if (cursor_parse_u64(k + pl, klen - pl, COUNTERS_SCORES - 1, &n) !=
            CM_OK) {
            return NULL;
        }
        return &d->by_score[n];
    }
    if (has_prefix(k, klen, "category.", &pl)) {
        i = name_index(k + pl, klen - pl, category_names,
                       COUNTERS_CATEGORIES);
        return i < COUNTERS_CATEGORIES ? &d->by_category[i] : NULL;
    }
    if (has_prefix(k, klen, "fail_open.", &pl)) {
        i = name_index(k + pl, klen - pl, fail_names, COUNTERS_FAIL_REASONS);
        return i < COUNTERS_FAIL_REASONS ? &d->fail_open[i] : NULL;
    }
    if (has_prefix(k, klen, "update_refused.", &pl)) {
        i = name_index(k + pl, klen - pl, refusal_names, COUNTERS_REFUSALS);
        return i < COUNTERS_REFUSALS ? &d->updates_refused[i] : NULL;
    }
    if (has_prefix(k, klen, "latency_us.", &pl)) {
        if (klen - pl == 4 && memcmp(k + pl, "over", 4) == 0) {
            return &d->latency[COUNTERS_LATENCY_BUCKETS - 1];
        }
        if (cursor_parse_u64(k + pl, klen - pl, UINT64_MAX, &n) != CM_OK) {
            return NULL;
        }
        for (i = 0; i < COUNTERS_LATENCY_BUCKETS - 1; i++) {
            if (latency_bounds_us[i] == n) {
                return &d->latency[i];
            }
        }
        return NULL;
    }
    return NULL;
}

static void
parse_day_line(struct parse_state *ps, const char *v, size_t vlen)
{
    struct counters_snapshot *s = ps->out;
    int64_t day;
    int64_t prev;

    ps->cur = NULL;
    ps->is_skipping = true;
    if (clock_date_parse(v, vlen, &day) != CM_OK) {
        bad(ps, "bad date; its day is ignored");
        return;
    }
    if (ps->n_days >= 1 + CAPS_COUNTERS_HISTORY_DAYS) {
        bad(ps, "too many days; the rest is ignored");
        return;
    }
    if (ps->n_days > 0) {
        prev = ps->n_days == 1 ? s->today.day
                               : s->history[ps->n_days - 2].day;
        if (day >= prev) {
            bad(ps, "day out of order; its day is ignored");
            return;
        }
    }
    ps->cur = ps->n_days == 0 ? &s->today : &s->history[ps->n_days - 1];
    memset(ps->cur, 0, sizeof(*ps->cur));
    ps->cur->day = day;
    memset(&ps->seen, 0, sizeof(ps->seen));
    if (ps->n_days > 0) {
        s->n_history = ps->n_days;
    }
    ps->n_days++;
    ps->is_skipping = false;
}

static void
parse_top_line(struct parse_state *ps, const char *k, size_t klen,
               const char *v, size_t vlen)
{
    struct counters_snapshot *s = ps->out;
    int64_t day;
    uint64_t n;

    if (klen == 13 && memcmp(k, "last_reported", 13) == 0) {
        if (ps->has_last_reported) {
            bad(ps, "duplicate key");
        } else if (clock_date_parse(v, vlen, &day) != CM_OK) {
            bad(ps, "bad date");
        } else {
            s->last_reported = day;
            ps->has_last_reported = true;
        }
        return;
    }
    if (klen == 17 && memcmp(k, "cartridge_version", 17) == 0) {
        if (ps->has_cartridge_version) {
            bad(ps, "duplicate key");
        } else if (cursor_parse_u64(v, vlen, UINT64_MAX, &n) != CM_OK) {
            bad(ps, "bad number");
        } else {
            s->cartridge_version = n;
            ps->has_cartridge_version = true;
        }
        return;
    }
    bad(ps, "unknown key");
}

static void
parse_line(struct parse_state *ps, const char *p, size_t len)
{
    const char *eq;
    size_t klen;
    const char *v;
    size_t vlen;
    uint64_t *slot;
    uint64_t *mark;
    uint64_t n;

    if (len == 0 || p[0] == '#') {
        return;
    }
    if (len > CAPS_COUNTERS_LINE_MAX) {
        bad(ps, "line too long");
        return;
    }
    eq = memchr(p, '=', len);
    if (eq == NULL) {
        bad(ps, "no '='");
        return;
    }
    klen = (size_t)(eq - p);
    v = eq + 1;
    vlen = len - klen - 1;
    if (klen == 3 && memcmp(p, "day", 3) == 0) {
        parse_day_line(ps, v, vlen);
        return;
    }
    if (ps->is_skipping) {
        return;
    }
    if (ps->cur == NULL) {
        parse_top_line(ps, p, klen, v, vlen);
        return;
    }
    slot = day_slot(ps->cur, p, klen);
    if (slot == NULL) {
        bad(ps, "unknown key");
        return;
    }
    mark = day_slot(&ps->seen, p, klen);
    if (*mark != 0) {
        bad(ps, "duplicate key");
        return;
    }
    if (cursor_parse_u64(v, vlen, UINT64_MAX, &n) != CM_OK) {
        bad(ps, "bad number");
        return;
    }
    if (n > CAPS_COUNTERS_VALUE_MAX) {
        bad(ps, "count too large");
        return;
    }
    *slot = n;
    *mark = 1;
}

static void
snapshot_empty(struct counters_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    s->today.day = COUNTERS_DAY_NONE;
    s->last_reported = COUNTERS_DAY_NONE;
}

enum cm_err
counters_parse(const uint8_t *p, size_t len, struct counters_snapshot *out,
               counters_problem_fn problem, void *ctx, size_t *n_bad)
{
    struct parse_state *ps;
    size_t off = 0;
    enum cm_err rc = CM_OK;

    snapshot_empty(out);
    if (n_bad != NULL) {
        *n_bad = 0;
    }
    if (len > CAPS_COUNTERS_STATE_MAX_BYTES) {
        return CM_ELIMIT;
    }
    /* ~1.5 KiB of marks: keep them off small thread stacks. */
    ps = calloc(1, sizeof(*ps));
    if (ps == NULL) {
        return CM_ENOMEM;
    }
    ps->out = out;
    ps->problem = problem;
    ps->ctx = ctx;
    while (off < len) {
        const uint8_t *nl = memchr(p + off, '\n', len - off);
        size_t end = nl == NULL ? len : (size_t)(nl - p);
        size_t line_len = end - off;
        const char *line = (const char *)p + off;

        ps->line_no++;
        if (line_len > 0 && line[line_len - 1] == '\r') {
            line_len--;
        }
        if (!ps->has_version) {
            if (line_len == 0 || line[0] == '#') {
                off = end + 1;
                continue;
            }
            if (line_len != strlen(STATE_VERSION_LINE) ||
                memcmp(line, STATE_VERSION_LINE, line_len) != 0) {
                rc = CM_EVERSION;
                break;
            }
            ps->has_version = true;
        } else {
            parse_line(ps, line, line_len);
        }
        off = end + 1; /* past the newline (or past len: loop ends) */
    }
    if (rc == CM_OK && !ps->has_version) {
        rc = CM_EVERSION;
    }
    if (rc != CM_OK) {
        snapshot_empty(out);
    } else if (n_bad != NULL) {
        *n_bad = ps->n_bad;
    }
    free(ps);
    return rc;
}

/* ---- state file: I/O ------------------------------------------------- */

enum cm_err
counters_read_file(const char *path, struct counters_snapshot *out,
                   counters_problem_fn problem, void *ctx, size_t *n_bad)
{
    struct buf b;
    bool is_truncated = false;
    enum cm_err rc;

    buf_init(&b, CAPS_COUNTERS_STATE_MAX_BYTES + 1u);
    rc = fsutil_read_file(path, CAPS_COUNTERS_STATE_MAX_BYTES + 1u, &b,
                          &is_truncated, NULL);
    if (rc == CM_OK &&
        (is_truncated || b.len > CAPS_COUNTERS_STATE_MAX_BYTES)) {
        rc = CM_ELIMIT;
    }
    if (rc == CM_OK) {
        rc = counters_parse(b.data, b.len, out, problem, ctx, n_bad);
    }
    buf_clear(&b);
    return rc;
}

enum cm_err
counters_load(struct counters *c, const char *path,
              counters_problem_fn problem, void *ctx, size_t *n_bad)
{
    struct counters_snapshot *s = malloc(sizeof(*s));
    enum cm_err rc;
    uint64_t none = 0;

    if (s == NULL) {
        return CM_ENOMEM;
    }
    rc = counters_read_file(path, s, problem, ctx, n_bad);
    if (rc != CM_OK) {
        free(s);
        return rc;
    }
    if (s->today.day != COUNTERS_DAY_NONE) {
        unsigned i = enter(c);

        add_day(&c->live[i], &s->today);
        leave(c, i);
        atomic_store(&c->day, s->today.day);
    }
    atomic_store(&c->last_reported, s->last_reported);
    atomic_compare_exchange_strong(&c->cartridge_version, &none,
                                   s->cartridge_version);
    pthread_mutex_lock(&c->history_lock);
    c->n_history = s->n_history;
    memcpy(c->history, s->history, s->n_history * sizeof(s->history[0]));
    pthread_mutex_unlock(&c->history_lock);
    free(s);
    return CM_OK;
}

enum cm_err
counters_save_snapshot(const struct counters_snapshot *s, const char *path)
{
    struct buf b;
    enum cm_err rc;
    int saved;

    buf_init(&b, CAPS_COUNTERS_STATE_MAX_BYTES);
    rc = counters_format(s, &b);
    if (rc == CM_OK) {
        rc = fsutil_write_atomic(path, b.data, b.len, 0640);
    }
    saved = errno; /* fsutil's cause of a CM_EIO, kept past free() */
    buf_clear(&b);
    errno = saved;
    return rc;
}

enum cm_err
counters_save(struct counters *c, const char *path)
{
    struct counters_snapshot *s = malloc(sizeof(*s));
    enum cm_err rc;

    if (s == NULL) {
        return CM_ENOMEM;
    }
    counters_snapshot(c, s);
    rc = counters_save_snapshot(s, path);
    free(s);
    return rc;
}
