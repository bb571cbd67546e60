/*
 * housekeep.h -- the housekeep thread: counters saved every minute, the
 * daily report made when the day ends (SPEC §7).
 *
 * Days.  A "report day" D runs from ReportTime on local date D to
 * ReportTime on local date D+1 (with the default "00:00" it is simply the
 * local date).  It is computed from the local wall-clock reading, never by
 * adding 86400 seconds, so a 23- or 25-hour DST day is still one day, and
 * a ReportTime skipped by a spring-forward change takes effect at the
 * first minute after it.
 *
 * Rules (each tick applies them; a tick is idempotent):
 *  - The counters' day only moves forward.  When the clock's report day is
 *    past it, the counters' day has ended: its report is made (unless the
 *    state file says that day was reported already), and counting starts
 *    on the clock's day.  So a day missed while the helper was down is
 *    reported at the next start, and a wall clock jumping forward ends the
 *    day early rather than losing counts.
 *  - When the clock's report day is before the counters' day (the clock
 *    jumped back, or a repeated DST hour falls around ReportTime), nothing
 *    is reported and counting continues on the counters' day until the
 *    clock passes it: a day is never reported twice.  A jump back of more
 *    than one day is logged once.  When the clock's day is nonetheless
 *    past every day that has ended (the counters' day came from a clock
 *    that was briefly far ahead), the counting moves to the clock's day
 *    instead, so reports do not stop until the clock catches up.
 *  - Days during which the helper never ran have no counts and get no
 *    report of their own (a week's downtime does not flood postmaster with
 *    empty mails); the report of the last day with counts says how many
 *    days without data followed it.
 *  - The state file is the commit point: the report is written as a .tmp
 *    and fsync'ed, then the state (day rolled over, day marked reported)
 *    is saved, then the .tmp is renamed .sub.  A crash between the steps
 *    is finished at the next start by report_recover().
 *  - A report that cannot be written (Submitted/ full or unwritable)
 *    leaves its ended day unreported in the state file's history; every
 *    tick tries again, oldest day first, until it is written.  Such days
 *    are kept up to CAPS_COUNTERS_HISTORY_DAYS (a month; reported ones
 *    only CAPS_COUNTERS_REPORTED_DAYS); past that the oldest is dropped,
 *    logged as an error.  The failure is logged once.
 *  - Every tick saves the state file if any count changed since the last
 *    save; the thread ticks at least every CAPS_HOUSEKEEP_SAVE_INTERVAL_S
 *    and right after each ReportTime, so a crash loses at most a minute.
 *
 * Paths: StateFile and SubmittedDir as config.c resolved them: a relative
 * StateFile against the configuration's directory, a relative SubmittedDir
 * against the current directory, which CGP sets to its base directory,
 * where its PIPE module polls Submitted/.
 *
 * Threads: housekeep_start/stop/wake from the thread that owns the
 * helper's lifetime; housekeep_tick only from one thread at a time (the
 * housekeep thread once started, else the caller -- tests drive it step
 * by step with a test clock).  Logs through log.h.
 */
#ifndef CM_HOUSEKEEP_H
#define CM_HOUSEKEEP_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "counters.h"
#include "err.h"

struct housekeep;

/* Work the helper wants done on the housekeeping thread after each tick
 * (at least once a minute), off the request path: the reload of LEARN's
 * site layer. */
struct housekeep_hook {
    void (*on_tick)(void *ctx);
    void *ctx;
};

/*
 * Prepare housekeeping without a thread: resolve the paths, load the state
 * file into counters (a missing file is a fresh start; an unusable one is
 * logged, renamed "<state>.bad" and replaced; one that cannot be read for
 * an I/O reason is kept, and ticks only retry the load until it works),
 * and finish reports a previous run left unfinished in Submitted/ (after
 * the load, which they need).  cfg, counters and clock are
 * borrowed and must outlive the housekeep.  NULL on ENOMEM or when a path
 * does not fit.
 */
struct housekeep *housekeep_new(const struct config *cfg,
                                struct counters *counters,
                                const struct clock *clock);

/*
 * One step: end the counters' day and make its report when it is over,
 * then save the state file if anything changed.  Returns CM_OK, or the
 * first error met (already logged and counted as an error); CM_EIO
 * without doing anything else while the state file still cannot be
 * read.
 */
enum cm_err housekeep_tick(struct housekeep *h);

/*
 * housekeep_new, one tick (so a missed day is reported at once), then the
 * thread.  NULL on failure (logged).
 */
struct housekeep *housekeep_start(const struct config *cfg,
                                  struct counters *counters,
                                  const struct clock *clock,
                                  const struct housekeep_hook *hook);

/* Ask the thread for a tick now (e.g. after SIGHUP).  No-op without one. */
void housekeep_wake(struct housekeep *h);

/*
 * Stop and join the thread (if any), run a last tick -- the final save,
 * so a clean exit loses nothing -- and free.  Call after the last event
 * was noted (after the workers drained).  NULL does nothing.
 */
void housekeep_stop(struct housekeep *h);

/* Free without the last tick (what a crash would leave; for tests).  The
 * thread, if any, is stopped first.  NULL does nothing. */
void housekeep_free(struct housekeep *h);

/* The state file and Submitted/ paths housekeep uses for cfg. */
enum cm_err housekeep_paths(const struct config *cfg, char *state,
                            size_t state_cap, char *submitted,
                            size_t submitted_cap);

/* ReportTime of cfg in minutes after local midnight (0 when unset or
 * unusable). */
unsigned housekeep_report_minute(const struct config *cfg);

/* Report day of wall time wall_s for ReportTime report_minute.
 * CM_EINVAL when the time cannot be broken down. */
enum cm_err housekeep_day_of(unsigned report_minute, int64_t wall_s,
                             int64_t *out_day);

#endif
