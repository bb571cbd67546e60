/*
 * housekeep.c -- the housekeep thread: periodic state saves and the daily
 * report (see housekeep.h for the day rules).
 *
 * DESIGN
 *  - One thread, one loop: wait on wake_cond (CLOCK_MONOTONIC deadline)
 *    for at most CAPS_HOUSEKEEP_SAVE_INTERVAL_S or until just after the
 *    next ReportTime, then housekeep_tick().  Stop and wake requests set a
 *    flag under wake_lock and signal; the lock guards only those flags and
 *    is never held while ticking, logging or doing I/O.
 *  - Decisions use the injected struct clock only; the real monotonic
 *    clock is used only to bound the wait.  So tests drive housekeep_tick
 *    with a test clock and never sleep, and a wall clock that jumps is
 *    noticed at the next wake-up (at most a minute later).
 *  - Saving: each tick snapshots the counters and writes the state file
 *    only when the snapshot differs from the last one written, so an idle
 *    server does not fsync every minute.
 *  - Report commit order: .tmp written and fsync'ed -> state saved (the
 *    commit point) -> rename to .sub.  report_recover() at the next start
 *    completes or discards whatever a crash interrupted; a rename that
 *    failed while running is tried again at each tick.  The end of a day
 *    only rolls the counters over; the report of every ended day not yet
 *    reported is made by report_pending() on each tick, so one that could
 *    not be written at midnight is made at a later tick.
 *  - A state file that cannot be read for an I/O reason (not missing,
 *    not unparsable) may hold days of counts: it is never saved over.
 *    Each tick retries the load and does nothing else until it works;
 *    the counts noted meanwhile are then added to the file's.
 *  - Log lines are written on changes of state (a failing save is logged
 *    when it starts failing and when it recovers), not on every tick; a
 *    condition that lasts counts as one error in the day's counters.
 *
 * State owned: the housekeep struct (paths, last saved snapshot, thread,
 * wake flags).  The counters belong to counters.c; housekeep is the only
 * caller of counters_rollover.  SPEC §7, STYLE.md §2.8.
 */
#include "housekeep.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "engine.h"
#include "fsutil.h"
#include "log.h"
#include "report.h"

#define STATE_DEFAULT_NAME "CGPCloudmark.state"
#define SUBMITTED_DEFAULT "Submitted"
#define HOST_MAX 256u

struct housekeep {
    const struct config *cfg;
    struct counters *counters;
    const struct clock *clock;
    char state_path[CONFIG_PATH_MAX];
    char submitted_dir[CONFIG_PATH_MAX];
    char host[HOST_MAX];
    unsigned report_minute;
    unsigned report_seq; /* advances with every report name tried */
    /* A report written and marked reported whose rename to .sub failed:
     * each tick tries the rename again (commit_report). */
    struct report_file uncommitted;
    int64_t uncommitted_day;
    bool has_uncommitted;

    /* The last snapshot written to the state file, and a scratch one. */
    struct counters_snapshot *saved;
    struct counters_snapshot *scratch;
    bool has_saved;

    /* Logged-once flags: set while a condition lasts. */
    bool is_save_failing;
    bool is_report_failing;
    bool is_load_pending; /* the state file could not be read (I/O) */
    bool is_clock_behind;
    bool is_clock_broken;
    size_t n_problems_logged;

    /* The thread and how it is told to wake or stop. */
    pthread_mutex_t wake_lock; /* guards is_stopping, is_wake_requested */
    pthread_cond_t wake_cond;
    bool is_stopping;
    bool is_wake_requested;
    bool has_sync;   /* wake_lock and wake_cond were initialised */
    struct housekeep_hook hook; /* run by the thread after each tick */
    bool has_thread;
    pthread_t thread;
};

/* ---- configuration helpers ------------------------------------------ */

enum cm_err
housekeep_paths(const struct config *cfg, char *state, size_t state_cap,
                char *submitted, size_t submitted_cap)
{
    /* config.c has already resolved both (StateFile against the
     * configuration's directory, SubmittedDir against the current one);
     * the defaults here only serve a config built by hand with the fields
     * left empty. */
    const char *s = cfg->state_path[0] != '\0' ? cfg->state_path
                                               : STATE_DEFAULT_NAME;
    const char *d = cfg->submitted_dir[0] != '\0' ? cfg->submitted_dir
                                                  : SUBMITTED_DEFAULT;
    const char *base = cfg->state_path[0] != '\0' ? "" : cfg->base_dir;

    if (fsutil_join(state, state_cap, base, s) != CM_OK) {
        return CM_ELIMIT;
    }
    if (fsutil_join(submitted, submitted_cap, "", d) != CM_OK) {
        return CM_ELIMIT;
    }
    return CM_OK;
}

unsigned
housekeep_report_minute(const struct config *cfg)
{
    unsigned m = 0;

    if (clock_hhmm_parse(cfg->report_time, strlen(cfg->report_time), &m) !=
        CM_OK) {
        return 0;
    }
    return m;
}

enum cm_err
housekeep_day_of(unsigned report_minute, int64_t wall_s, int64_t *out_day)
{
    struct clock_local l;

    if (clock_local(wall_s, &l) != CM_OK) {
        return CM_EINVAL;
    }
    /* Before ReportTime the previous date's report day is still running. */
    *out_day = l.minute_of_day < report_minute ? l.days - 1 : l.days;
    return CM_OK;
}

/* ---- saving ---------------------------------------------------------- */

static enum cm_err
save(struct housekeep *h, bool is_forced)
{
    struct counters_snapshot *t;
    enum cm_err rc;

    counters_snapshot(h->counters, h->scratch);
    if (!is_forced && h->has_saved &&
        memcmp(h->scratch, h->saved, sizeof(*h->saved)) == 0) {
        return CM_OK;
    }
    errno = 0;
    rc = counters_save_snapshot(h->scratch, h->state_path);
    if (rc != CM_OK) {
        /* The system's reason (a missing folder, permissions, a full or
         * read-only disk) says what to fix; "i/o error" does not. */
        int err = rc == CM_EIO ? errno : 0;

        /* One error for the whole time it fails, not one a minute: the
         * day's error count in the report is of problems, not retries. */
        if (!h->is_save_failing) {
            counters_note_error(h->counters);
            log_error("counters: cannot save %s: %s (retrying every "
                      "minute)", h->state_path,
                      err != 0 ? strerror(err) : cm_strerror(rc));
            h->is_save_failing = true;
        }
        return rc;
    }
    if (h->is_save_failing) {
        log_info("counters: %s saved again", h->state_path);
        h->is_save_failing = false;
    }
    t = h->saved;
    h->saved = h->scratch;
    h->scratch = t;
    h->has_saved = true;
    return CM_OK;
}

/* ---- the end of a day ------------------------------------------------ */

/*
 * The oldest ended day kept in s whose report was not made yet (newer than
 * s->last_reported), or NULL; *next_day gets the day that followed it
 * (the next kept day, or the live one), for "days without data".
 */
static const struct counters_day *
oldest_pending(const struct counters_snapshot *s, int64_t *next_day)
{
    for (size_t i = s->n_history; i-- > 0;) {
        const struct counters_day *d = &s->history[i];

        if (s->last_reported == COUNTERS_DAY_NONE ||
            d->day > s->last_reported) {
            *next_day = i > 0 ? s->history[i - 1].day : s->today.day;
            return d;
        }
    }
    return NULL;
}

/*
 * Rename the report of day to .sub.  When that fails the .tmp is kept as
 * h->uncommitted and every tick tries again (housekeep_tick): the day is
 * marked reported already, so it would otherwise sit in Submitted/ as a
 * .tmp until report_recover at the next start.  Logged and counted once.
 */
static enum cm_err
commit_report(struct housekeep *h, const struct report_file *f, int64_t day)
{
    char date[CLOCK_DATE_TEXT_SIZE];
    struct stat st;
    enum cm_err rc = report_commit(f);

    clock_date_format(day, date, sizeof(date));
    if (rc != CM_OK && lstat(f->tmp_path, &st) != 0 && errno == ENOENT) {
        /* Nothing is left to rename: the rename did happen although it
         * reported a failure (the .sub is there), or someone removed or
         * renamed the .tmp by hand.  Then this helper does not know
         * whether the report is sent, and must not say it wrote it. */
        h->has_uncommitted = false;
        if (lstat(f->sub_path, &st) != 0) {
            log_warn("report: daily report for %s: %s disappeared before it "
                     "could be renamed to .sub (removed or renamed by "
                     "hand?); not trying again", date, f->tmp_path);
            return CM_OK;
        }
        rc = CM_OK;
    }
    if (rc != CM_OK) {
        if (!h->has_uncommitted) {
            counters_note_error(h->counters);
            log_error("report: cannot rename %s to .sub: %s (trying again "
                      "every minute)", f->tmp_path, cm_strerror(rc));
        }
        h->uncommitted = *f;
        h->uncommitted_day = day;
        h->has_uncommitted = true;
        return rc;
    }
    h->has_uncommitted = false;
    log_info("report: daily report for %s written to %s", date, f->sub_path);
    return CM_OK;
}

/*
 * Write the report of ended day d: .tmp written and fsync'ed -> the day
 * marked reported and the state saved (the commit point) -> rename to
 * .sub.  A report that cannot be written leaves the day unreported, to be
 * tried again at the next tick (logged and counted once while it fails).
 */
static enum cm_err
report_day(struct housekeep *h, const struct counters_day *d,
           int64_t next_day, int64_t now)
{
    char date[CLOCK_DATE_TEXT_SIZE];
    struct report_input in;
    struct report_file f;
    enum cm_err rc;
    enum cm_err commit_rc;

    clock_date_format(d->day, date, sizeof(date));
    memset(&in, 0, sizeof(in));
    in.day = d;
    in.cartridge_version = counters_cartridge_version(h->counters);
    in.engine_version = engine_version();
    in.host = h->host[0] != '\0' ? h->host : NULL;
    in.made_at_s = now;
    in.days_without_data = next_day - d->day - 1;
    rc = report_prepare(h->cfg, &in, h->submitted_dir, REPORT_KIND_DAILY,
                        &h->report_seq, &f);
    if (rc != CM_OK) {
        if (!h->is_report_failing) {
            counters_note_error(h->counters);
            log_error("report: daily report for %s not written to %s: %s "
                      "(trying again every minute)", date, h->submitted_dir,
                      rc == CM_ENOENT ? "no such directory (CGP's Submitted "
                                        "folder: is the helper running in "
                                        "CGP's base directory? else set "
                                        "SubmittedDir)"
                                      : cm_strerror(rc));
            h->is_report_failing = true;
        }
        return rc;
    }
    h->is_report_failing = false;
    counters_set_last_reported(h->counters, d->day);
    /* Even when the save fails the report goes out: a lost report is
     * worse than the small chance of a second one after a crash before
     * the next successful save. */
    rc = save(h, true);
    commit_rc = commit_report(h, &f, d->day);
    return commit_rc != CM_OK ? commit_rc : rc;
}

/*
 * Report every ended day still unreported, oldest first, stopping at the
 * first that cannot be written: a Submitted/ that is full or unwritable
 * at midnight delays the report instead of losing it, and days are never
 * reported out of order (which would mark the older one reported).
 */
static enum cm_err
report_pending(struct housekeep *h, int64_t now)
{
    struct counters_snapshot *s = malloc(sizeof(*s));
    const struct counters_day *d;
    int64_t next_day = 0;
    enum cm_err rc = CM_OK;

    if (s == NULL) {
        return CM_ENOMEM;
    }
    /* Each success moves last_reported past d, so this ends after at
     * most CAPS_COUNTERS_HISTORY_DAYS rounds. */
    for (;;) {
        counters_snapshot(h->counters, s);
        d = oldest_pending(s, &next_day);
        if (d == NULL) {
            break;
        }
        rc = report_day(h, d, next_day, now);
        if (rc != CM_OK) {
            break;
        }
    }
    free(s);
    return rc;
}

/*
 * The counters' day is over: roll over to new_day.  The ended day stays
 * unreported (last_reported unchanged) until report_pending has written
 * its report, unless it was reported already.
 */
static enum cm_err
end_day(struct housekeep *h, int64_t new_day)
{
    struct counters_day *ended = malloc(sizeof(*ended));
    int64_t last = counters_last_reported(h->counters);
    int64_t dropped;
    char date[CLOCK_DATE_TEXT_SIZE];

    if (ended == NULL) {
        return CM_ENOMEM;
    }
    counters_rollover(h->counters, new_day, ended, &dropped);
    if (dropped != COUNTERS_DAY_NONE) {
        /* Its report failed at every tick for a month: an administrator
         * must hear that a day's counts are gone. */
        clock_date_format(dropped, date, sizeof(date));
        counters_note_error(h->counters);
        log_error("report: daily report for %s was never written in %u "
                  "days (see %s); its counts are dropped", date,
                  CAPS_COUNTERS_HISTORY_DAYS, h->submitted_dir);
    }
    if (last != COUNTERS_DAY_NONE && ended->day <= last) {
        clock_date_format(ended->day, date, sizeof(date));
        log_warn("report: %s was reported already; not reporting it again",
                 date);
    } else {
        counters_set_last_reported(h->counters, last);
    }
    free(ended);
    return CM_OK;
}

/* The newest day that ended (reported or not), or COUNTERS_DAY_NONE. */
static int64_t
newest_ended_day(struct housekeep *h)
{
    int64_t newest;

    /* scratch is free between saves: save() refills it first. */
    counters_snapshot(h->counters, h->scratch);
    newest = h->scratch->last_reported;
    if (h->scratch->n_history > 0 &&
        (newest == COUNTERS_DAY_NONE ||
         h->scratch->history[0].day > newest)) {
        newest = h->scratch->history[0].day;
    }
    return newest;
}

/*
 * The clock's report day `period` is more than a day before the counters'
 * day.  Usually the clock jumped back and soon passes the counters' day
 * again.  But when that day came from a wall clock that was briefly far
 * ahead (a wrong RTC at boot, corrected by NTP a minute later), waiting
 * for the clock to get there would mean no daily report for months or
 * years.  So once the clock's day is past every day that has ended, the
 * live counts move to it: no day can be reported twice (ended days are
 * all before it), nothing is lost, and reports resume at its end.  Both
 * cases are logged once.
 */
static void
clock_behind(struct housekeep *h, int64_t period, int64_t day)
{
    char d1[CLOCK_DATE_TEXT_SIZE];
    char d2[CLOCK_DATE_TEXT_SIZE];
    int64_t newest = newest_ended_day(h);

    clock_date_format(period, d1, sizeof(d1));
    clock_date_format(day, d2, sizeof(d2));
    if (newest == COUNTERS_DAY_NONE || period > newest) {
        log_warn("housekeep: the counters are on %s, ahead of the clock's "
                 "%s (the clock was wrong); counting moves to %s", d2, d1,
                 d1);
        counters_set_day(h->counters, period);
        h->is_clock_behind = false;
        return;
    }
    if (!h->is_clock_behind) {
        log_warn("housekeep: the clock says %s but the counters are on "
                 "%s; counting continues on %s until the clock passes "
                 "it", d1, d2, d2);
        h->is_clock_behind = true;
    }
}

static bool retry_load(struct housekeep *h);

enum cm_err
housekeep_tick(struct housekeep *h)
{
    int64_t now = clock_wall_s(h->clock);
    int64_t period;
    int64_t day;
    enum cm_err rc = CM_OK;
    enum cm_err save_rc;

    if (h->is_load_pending && !retry_load(h)) {
        return CM_EIO;
    }
    if (housekeep_day_of(h->report_minute, now, &period) != CM_OK) {
        if (!h->is_clock_broken) {
            log_error("housekeep: the wall clock (%lld) has no local date",
                      (long long)now);
            h->is_clock_broken = true;
        }
        return save(h, false);
    }
    h->is_clock_broken = false;
    day = counters_day(h->counters);
    if (day == COUNTERS_DAY_NONE) {
        counters_set_day(h->counters, period);
    } else if (period > day) {
        h->is_clock_behind = false;
        rc = end_day(h, period);
    } else if (period < day - 1) {
        clock_behind(h, period, day);
    } else {
        h->is_clock_behind = false;
    }
    /* A report whose rename failed goes first, so days stay in order. */
    if (rc == CM_OK && h->has_uncommitted) {
        rc = commit_report(h, &h->uncommitted, h->uncommitted_day);
    }
    if (rc == CM_OK) {
        rc = report_pending(h, now);
    }
    save_rc = save(h, false);
    return rc != CM_OK ? rc : save_rc;
}

/* ---- start-up -------------------------------------------------------- */

static void
state_problem(void *ctx, size_t line, const char *problem)
{
    struct housekeep *h = ctx;

    if (h->n_problems_logged < CAPS_HOUSEKEEP_PROBLEMS_LOGGED) {
        log_warn("counters: %s line %zu: %s; line ignored", h->state_path,
                 line, problem);
    }
    h->n_problems_logged++;
}

/* Load errors worth retrying: the file may be fine and the fault passing
 * (a permission, a network file system, memory), unlike a missing file or
 * one we cannot parse. */
static bool
is_load_retryable(enum cm_err rc)
{
    return rc == CM_EIO || rc == CM_ENOMEM;
}

/*
 * Load the state file into the counters.  When it cannot be read for an
 * I/O reason it may still hold days of counts, so it is kept: nothing is
 * saved over it and no day is rolled over or reported (a report would
 * lack the file's counts and its "reported" mark) until a retry reads it
 * (is_load_pending; housekeep_tick retries).  Counts noted meanwhile are
 * added to the file's when it loads.  Removing the file ends the wait.
 */
static void
load_state(struct housekeep *h)
{
    size_t n_bad = 0;
    enum cm_err rc;
    char aside[CONFIG_PATH_MAX + 8];
    int n;

    rc = counters_load(h->counters, h->state_path, state_problem, h, &n_bad);
    if (is_load_retryable(rc)) {
        if (!h->is_load_pending) {
            counters_note_error(h->counters);
            log_error("counters: cannot read %s: %s; keeping it, nothing is "
                      "saved or reported until it can be read (retrying "
                      "every minute; remove it to count afresh)",
                      h->state_path, cm_strerror(rc));
            h->is_load_pending = true;
        }
        return;
    }
    if (h->is_load_pending && rc == CM_OK) {
        log_info("counters: %s can be read again; the counts since "
                 "start-up were added to it", h->state_path);
    }
    h->is_load_pending = false;
    if (rc == CM_OK) {
        if (n_bad > 0) {
            log_warn("counters: %zu bad line(s) in %s were ignored", n_bad,
                     h->state_path);
        }
        return;
    }
    if (rc == CM_ENOENT) {
        log_info("counters: no state file %s yet; counting from zero",
                 h->state_path);
        return;
    }
    counters_note_error(h->counters);
    if (rc == CM_ELIMIT || rc == CM_EVERSION || rc == CM_ENOTREG) {
        /* Keep what we cannot read for the administrator instead of
         * overwriting it a minute from now. */
        n = snprintf(aside, sizeof(aside), "%s.bad", h->state_path);
        if (n > 0 && (size_t)n < sizeof(aside) &&
            rename(h->state_path, aside) == 0) {
            log_error("counters: %s is unusable (%s); moved to %s, "
                      "counting from zero", h->state_path, cm_strerror(rc),
                      aside);
            return;
        }
    }
    log_error("counters: cannot use %s: %s; counting from zero",
              h->state_path, cm_strerror(rc));
}

/* Temporary state files a crash left between writing and renaming
 * (fsutil_write_temp names them by pid, so nothing else ever replaces or
 * removes them). */
static void
remove_stale_temps(struct housekeep *h)
{
    size_t n = fsutil_remove_stale_temps(h->state_path);

    if (n > 0) {
        log_info("counters: removed %zu temporary file(s) an interrupted "
                 "save left beside %s", n, h->state_path);
    }
}

/* Finish or remove the reports a crash interrupted; this needs the
 * state file's "reported" mark, so it runs once the file was loaded. */
static void
recover_reports(struct housekeep *h)
{
    size_t n_committed = 0;
    size_t n_removed = 0;
    enum cm_err rc;

    rc = report_recover(h->submitted_dir,
                        counters_last_reported(h->counters), &n_committed,
                        &n_removed);
    if (rc == CM_OK && (n_committed > 0 || n_removed > 0)) {
        log_info("report: finished %zu and removed %zu unfinished "
                 "report(s) in %s", n_committed, n_removed,
                 h->submitted_dir);
    } else if (rc != CM_OK && rc != CM_ENOENT) {
        log_warn("report: cannot look for unfinished reports in %s: %s",
                 h->submitted_dir, cm_strerror(rc));
    }
}

/* The state file could not be read: try again.  True once it was (or
 * is gone, or turned out unusable and was dealt with as at start-up). */
static bool
retry_load(struct housekeep *h)
{
    load_state(h);
    if (h->is_load_pending) {
        return false;
    }
    recover_reports(h);
    return true;
}

struct housekeep *
housekeep_new(const struct config *cfg, struct counters *counters,
              const struct clock *clock)
{
    struct housekeep *h = calloc(1, sizeof(*h));

    if (h == NULL) {
        return NULL;
    }
    h->cfg = cfg;
    h->counters = counters;
    h->clock = clock;
    h->saved = calloc(1, sizeof(*h->saved));
    h->scratch = calloc(1, sizeof(*h->scratch));
    if (h->saved == NULL || h->scratch == NULL ||
        housekeep_paths(cfg, h->state_path, sizeof(h->state_path),
                        h->submitted_dir, sizeof(h->submitted_dir)) !=
            CM_OK) {
        housekeep_free(h);
        return NULL;
    }
    h->report_minute = housekeep_report_minute(cfg);
    if (cfg->report_time[0] != '\0' && h->report_minute == 0 &&
        strcmp(cfg->report_time, "00:00") != 0 &&
        strcmp(cfg->report_time, "0:00") != 0) {
        log_warn("report: ReportTime \"%.8s\" is not HH:MM; using 00:00",
                 cfg->report_time);
    }
    if (gethostname(h->host, sizeof(h->host) - 1) != 0) {
        h->host[0] = '\0';
    }
    h->host[sizeof(h->host) - 1] = '\0';
    remove_stale_temps(h);
    load_state(h);
    if (!h->is_load_pending) {
        recover_reports(h);
    }
    return h;
}

/* ---- the thread ------------------------------------------------------ */

/*
 * Seconds until just after the next ReportTime, at most the save
 * interval, at least one second.  A next ReportTime that is not ahead
 * (it falls in the hour a DST change repeats and mktime placed it at the
 * passed instance; a local time mktime cannot place) gets the save
 * interval: the tick that ends the day comes at most a minute late,
 * instead of a tick every second for up to an hour.
 */
static unsigned
wait_s(struct housekeep *h)
{
    int64_t now = clock_wall_s(h->clock);
    int64_t day;
    int64_t next;

    if (housekeep_day_of(h->report_minute, now, &day) != CM_OK ||
        clock_local_to_wall(day + 1, h->report_minute, &next) != CM_OK ||
        next <= now) {
        return CAPS_HOUSEKEEP_SAVE_INTERVAL_S;
    }
    /* +1: the wall clock reads whole seconds. */
    if (next - now + 1 >= (int64_t)CAPS_HOUSEKEEP_SAVE_INTERVAL_S) {
        return CAPS_HOUSEKEEP_SAVE_INTERVAL_S;
    }
    return (unsigned)(next - now + 1);
}

static void *
housekeep_thread(void *arg)
{
    struct housekeep *h = arg;

    for (;;) {
        struct timespec deadline;
        bool is_stopping;

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t)wait_s(h);
        pthread_mutex_lock(&h->wake_lock);
        while (!h->is_stopping && !h->is_wake_requested) {
            if (pthread_cond_timedwait(&h->wake_cond, &h->wake_lock,
                                       &deadline) == ETIMEDOUT) {
                break;
            }
        }
        is_stopping = h->is_stopping;
        h->is_wake_requested = false;
        pthread_mutex_unlock(&h->wake_lock);
        if (is_stopping) {
            break;
        }
        housekeep_tick(h);
        if (h->hook.on_tick != NULL) {
            h->hook.on_tick(h->hook.ctx);
        }
    }
    return NULL;
}

static bool
sync_init(struct housekeep *h)
{
    pthread_condattr_t attr;
    bool ok;

    if (pthread_condattr_init(&attr) != 0) {
        return false;
    }
    ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
         pthread_mutex_init(&h->wake_lock, NULL) == 0;
    if (ok && pthread_cond_init(&h->wake_cond, &attr) != 0) {
        pthread_mutex_destroy(&h->wake_lock);
        ok = false;
    }
    pthread_condattr_destroy(&attr);
    h->has_sync = ok;
    return ok;
}

struct housekeep *
housekeep_start(const struct config *cfg, struct counters *counters,
                const struct clock *clock, const struct housekeep_hook *hook)
{
    struct housekeep *h = housekeep_new(cfg, counters, clock);
    sigset_t all;
    sigset_t old;
    int err;

    if (h == NULL) {
        log_error("housekeep: out of memory or path too long");
        return NULL;
    }
    if (hook != NULL) {
        h->hook = *hook;
    }
    housekeep_tick(h);
    if (!sync_init(h)) {
        log_error("housekeep: cannot initialise the thread's lock");
        housekeep_free(h);
        return NULL;
    }
    /* The thread inherits a full signal mask: signals go to the helper's
     * main thread only (STYLE.md §2.8). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&h->thread, NULL, housekeep_thread, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        log_error("housekeep: cannot start the thread: %s", strerror(err));
        housekeep_free(h);
        return NULL;
    }
    h->has_thread = true;
    return h;
}

void
housekeep_wake(struct housekeep *h)
{
    if (h == NULL || !h->has_thread) {
        return;
    }
    pthread_mutex_lock(&h->wake_lock);
    h->is_wake_requested = true;
    pthread_cond_signal(&h->wake_cond);
    pthread_mutex_unlock(&h->wake_lock);
}

static void
stop_thread(struct housekeep *h)
{
    if (!h->has_thread) {
        return;
    }
    pthread_mutex_lock(&h->wake_lock);
    h->is_stopping = true;
    pthread_cond_signal(&h->wake_cond);
    pthread_mutex_unlock(&h->wake_lock);
    pthread_join(h->thread, NULL);
    h->has_thread = false;
}

void
housekeep_free(struct housekeep *h)
{
    if (h == NULL) {
        return;
    }
    stop_thread(h);
    if (h->has_sync) {
        pthread_cond_destroy(&h->wake_cond);
        pthread_mutex_destroy(&h->wake_lock);
    }
    free(h->saved);
    free(h->scratch);
    free(h);
}

void
housekeep_stop(struct housekeep *h)
{
    if (h == NULL) {
        return;
    }
    stop_thread(h);
    housekeep_tick(h);
    if (h->is_load_pending) {
        log_error("counters: %s still cannot be read; the counts since "
                  "start-up were not saved", h->state_path);
    }
    housekeep_free(h);
}
