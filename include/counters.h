/*
 * counters.h -- the helper's counters and their state file (SPEC §7).
 *
 * counters.c is the one owner of every count the daily report shows
 * (STYLE.md §2.3).  Workers, the reader and the updater only *note*
 * events through counters_note_*(): lock-free atomic adds, callable from
 * any thread at any time, never failing; each event lands whole in one
 * day (a message's score, category and latency never straddle a
 * rollover).  Readers (housekeep, stats, the
 * report) take a counters_snapshot(), a plain copy.
 *
 * The counts belong to a "day": the local date housekeep assigns (see
 * housekeep.h for how ReportTime shifts it).  When the report for a day is
 * made, housekeep calls counters_rollover(): the day's counts move into a
 * short history (kept for `REPORT --date`), the live counts start again
 * from zero for the new day, and the last reported day is recorded so a
 * day is never reported twice.
 *
 * Per-bar counts are not stored as such: every score 0..100 has its own
 * count and the report sums them over the configured bars, so a changed
 * BarLevels never mislabels stored counts.
 *
 * State file: text, one "key=value" per line, first line "version=1"; see
 * counters_format() for the grammar.  Written by counters_save() through
 * fsutil_write_atomic (temp, fsync, rename); read back by counters_load()
 * with a bounded parser that treats it as untrusted input.
 *
 * Consistency: each event is one or two independent atomic adds.  An event
 * noted while the day rolls over may have its parts counted on different
 * sides of the boundary (never lost, never doubled); a report's message
 * total is the sum of its score counts, so its percentages always add up.
 */
#ifndef CM_COUNTERS_H
#define CM_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "caps.h"
#include "engine.h"
#include "err.h"

/* Scores 0..100, one count each. */
#define COUNTERS_SCORES 101u

/* Categories: the engine's (by enum engine_category value) plus "other"
 * for a value this table does not know yet. */
#define COUNTERS_CATEGORY_OTHER ((unsigned)ENGINE_CAT_BULK + 1u)
#define COUNTERS_CATEGORIES (COUNTERS_CATEGORY_OTHER + 1u)

/* Why a request was answered without a score (fail-open, SPEC §2). */
enum counters_fail {
    COUNTERS_FAIL_MISSING_FILE = 0, /* FILE names nothing */
    COUNTERS_FAIL_NOT_REGULAR,      /* directory, FIFO, device */
    COUNTERS_FAIL_EMPTY,            /* zero bytes */
    COUNTERS_FAIL_NOT_MAIL,         /* first line fits no known form */
    COUNTERS_FAIL_NO_BLANK_LINE,    /* envelope or header never ended */
    COUNTERS_FAIL_PATH_REFUSED,     /* unusable or refused path */
    COUNTERS_FAIL_TIMEOUT,          /* MessageTimeout budget overrun */
    COUNTERS_FAIL_ENGINE_ERROR,     /* engine failed (memory, cartridge) */
    COUNTERS_FAIL_OTHER
};
#define COUNTERS_FAIL_REASONS ((unsigned)COUNTERS_FAIL_OTHER + 1u)

/* Why an update was not installed (filled by the updater). */
enum counters_refusal {
    COUNTERS_REFUSED_SIGNATURE = 0, /* CM_ESIG */
    COUNTERS_REFUSED_KEY,           /* CM_EKEY */
    COUNTERS_REFUSED_DECRYPT,       /* CM_ECRYPTO */
    COUNTERS_REFUSED_VERSION,       /* CM_EVERSION: not newer, unknown */
    COUNTERS_REFUSED_DIGEST,        /* CM_EDIGEST: size or digest */
    COUNTERS_REFUSED_EXPIRED,       /* CM_EEXPIRED */
    COUNTERS_REFUSED_FORMAT,        /* CM_EPARSE, CM_ELIMIT: bad content */
    COUNTERS_REFUSED_DOWNLOAD,      /* CM_ENET, CM_ETIMEOUT: network */
    COUNTERS_REFUSED_CACHE,         /* CM_EIO, CM_ENOENT, CM_ENOTREG: the
                                     * micro_updates directory */
    COUNTERS_REFUSED_OTHER
};
#define COUNTERS_REFUSALS ((unsigned)COUNTERS_REFUSED_OTHER + 1u)

/* Latency histogram: log-spaced upper bounds from 50 us to 10 s (about
 * ten per decade), plus one bucket for anything slower. */
#define COUNTERS_LATENCY_BUCKETS 55u
/* What counters_latency_bound_us() returns for the overflow bucket. */
#define COUNTERS_LATENCY_OVER UINT64_MAX

/* No day assigned yet (fresh counters, empty state file). */
#define COUNTERS_DAY_NONE INT64_MIN

/* The counts of one day (a plain copy; no atomics). */
struct counters_day {
    int64_t day; /* clock.h day number, or COUNTERS_DAY_NONE */
    uint64_t by_score[COUNTERS_SCORES];
    uint64_t by_category[COUNTERS_CATEGORIES];
    uint64_t fail_open[COUNTERS_FAIL_REASONS];
    uint64_t errors;
    uint64_t latency[COUNTERS_LATENCY_BUCKETS];
    uint64_t updates_installed;
    uint64_t updates_refused[COUNTERS_REFUSALS];
};

/* Everything counters_save() writes. */
struct counters_snapshot {
    struct counters_day today;
    int64_t last_reported;      /* day number or COUNTERS_DAY_NONE */
    uint64_t cartridge_version; /* 0 when unknown */
    size_t n_history;           /* days in history[], newest first */
    struct counters_day history[CAPS_COUNTERS_HISTORY_DAYS];
};

struct counters;

/* Fresh counters: all zero, no day, nothing reported.  NULL on ENOMEM. */
struct counters *counters_new(void);

/* Free; NULL does nothing.  No thread may note events any more. */
void counters_free(struct counters *c);

/* ---- events (any thread, lock-free, never fail) --------------------- */

/*
 * One request answered with a score.  score above 100 counts as 100; an
 * unknown category counts as "other".  latency_us: from reading the
 * request to handing the answer to the writer.
 */
void counters_note_message(struct counters *c, unsigned score,
                           enum engine_category category,
                           uint64_t latency_us);

/* One request answered without a score (fail-open). */
void counters_note_fail_open(struct counters *c, enum counters_fail reason,
                             uint64_t latency_us);

/* An internal error that is not a fail-open (a failed state save, a
 * report that could not be written, a protocol line refused, ...). */
void counters_note_error(struct counters *c);

/* The updater installed cartridge version (also sets the version). */
void counters_note_update_installed(struct counters *c, uint64_t version);

/* The updater refused or failed to fetch an update; reason is the
 * cm_err it got (mapped with counters_refusal_of_err()). */
void counters_note_update_refused(struct counters *c, enum cm_err reason);

/* The cartridge now serving (at start-up and after a hot swap). */
void counters_set_cartridge_version(struct counters *c, uint64_t version);

/* ---- mapping helpers (pure) ------------------------------------------ */

/* Fail-open reason for an error from fsutil_read_file / engine_score. */
enum counters_fail counters_fail_of_err(enum cm_err err);

/* Fail-open reason for queuefile flags that made a file unusable. */
enum counters_fail counters_fail_of_queuefile(unsigned queuefile_flags);

/* Refusal bucket of an updater error. */
enum counters_refusal counters_refusal_of_err(enum cm_err err);

/* Stable lower-case names used in the state file and the report
 * ("spam", "missing_file", "signature").  Never NULL. */
const char *counters_category_name(unsigned category);
const char *counters_fail_name(enum counters_fail reason);
const char *counters_refusal_name(enum counters_refusal reason);

/* Upper bound of latency bucket i in microseconds; COUNTERS_LATENCY_OVER
 * for the last bucket (and for i out of range). */
uint64_t counters_latency_bound_us(size_t i);

/* ---- reading (any thread) -------------------------------------------- */

/* Copy every count into *out.  Safe while other threads note events. */
void counters_snapshot(struct counters *c, struct counters_snapshot *out);

/* Day the live counts belong to (COUNTERS_DAY_NONE when unset). */
int64_t counters_day(struct counters *c);

/* Last day whose report was made (COUNTERS_DAY_NONE when none). */
int64_t counters_last_reported(struct counters *c);

/* The cartridge version last set (0 when unknown). */
uint64_t counters_cartridge_version(struct counters *c);

/* Sums over one day. */
uint64_t counters_day_scored(const struct counters_day *d);
uint64_t counters_day_fail_opens(const struct counters_day *d);
uint64_t counters_day_refused(const struct counters_day *d);
uint64_t counters_day_requests(const struct counters_day *d); /* both */

/*
 * Latency percentile (permille: 500 = median, 990 = p99) over every
 * request of the day: the upper bound of the bucket holding it, in
 * microseconds; COUNTERS_LATENCY_OVER when in the overflow bucket.
 * false when the day has no latency samples.
 */
bool counters_day_percentile_us(const struct counters_day *d,
                                unsigned permille, uint64_t *out_us);

/* Find day in the snapshot (today or history); NULL when not kept. */
const struct counters_day *counters_snapshot_find(
    const struct counters_snapshot *s, int64_t day);

/* ---- day management (housekeep's thread only) ------------------------ */

/* Assign the day of the live counts (first start, no state file). */
void counters_set_day(struct counters *c, int64_t day);

/*
 * End the live day: its counts go into *ended and to the front of the
 * history, the live counts restart at zero for new_day, and last_reported
 * becomes the ended day.  The history keeps CAPS_COUNTERS_REPORTED_DAYS
 * reported days (those up to last_reported as it was before the call)
 * and up to CAPS_COUNTERS_HISTORY_DAYS in all; when a day not yet
 * reported has to drop out for that, *dropped gets it (else
 * COUNTERS_DAY_NONE) for the caller to log.  Called only by the thread
 * that manages days (housekeep); it waits (yielding) for events being
 * noted at that moment to finish their few adds.
 */
void counters_rollover(struct counters *c, int64_t new_day,
                       struct counters_day *ended, int64_t *dropped);

/*
 * Set the last reported day (COUNTERS_DAY_NONE: none).  housekeep uses it
 * to leave an ended day unreported until its report is written, and to
 * mark it reported then.  Housekeep's thread only.
 */
void counters_set_last_reported(struct counters *c, int64_t day);

/* ---- state file ------------------------------------------------------- */

/* One refused line of a state file. */
typedef void (*counters_problem_fn)(void *ctx, size_t line,
                                    const char *problem);

/*
 * State file text for s into out (appended).  Grammar, one item a line:
 *   version=1                       (first line; '#' lines are comments)
 *   last_reported=YYYY-MM-DD        (optional)
 *   cartridge_version=N             (optional)
 *   day=YYYY-MM-DD                  (starts a day: today, then history
 *                                    newest first)
 *   score.N=COUNT  category.NAME=COUNT  fail_open.NAME=COUNT  errors=COUNT
 *   latency_us.BOUND=COUNT (BOUND a bucket bound or "over")
 *   updates_installed=COUNT  update_refused.NAME=COUNT
 * Zero counts are left out.  CM_ELIMIT when out's cap is hit.
 */
enum cm_err counters_format(const struct counters_snapshot *s,
                            struct buf *out);

/*
 * Parse a state file (untrusted; no NUL or final newline needed) into
 * *out (first zeroed: no day, nothing reported).  Each bad line (too
 * long, unknown key, bad number, value above CAPS_COUNTERS_VALUE_MAX,
 * duplicate, day out of order, too many days) is passed to problem (may
 * be NULL) and ignored; *n_bad (may be NULL) counts them.  Whole-file
 * errors: CM_ELIMIT (longer than CAPS_COUNTERS_STATE_MAX_BYTES),
 * CM_EVERSION (version line missing or not 1); *out is then left zeroed.
 */
enum cm_err counters_parse(const uint8_t *p, size_t len,
                           struct counters_snapshot *out,
                           counters_problem_fn problem, void *ctx,
                           size_t *n_bad);

/*
 * Read and parse the state file at path into *out.  CM_ENOENT when there
 * is none; CM_EIO, CM_ENOTREG, CM_ENOMEM from reading; else as
 * counters_parse.  Any thread (touches no live counters).
 */
enum cm_err counters_read_file(const char *path, struct counters_snapshot *out,
                               counters_problem_fn problem, void *ctx,
                               size_t *n_bad);

/*
 * Load the state file into the live counters: today's counts are added
 * to the live ones and its day adopted, the history and last reported
 * day replace the live ones, the cartridge version is taken only while
 * none is set.  Errors as counters_read_file; on error nothing changes.
 * Call before other threads manage days (events may already flow).
 */
enum cm_err counters_load(struct counters *c, const char *path,
                          counters_problem_fn problem, void *ctx,
                          size_t *n_bad);

/*
 * Save a snapshot to path atomically (fsutil_write_atomic, mode 0640).
 * CM_EIO on failure; the previous file is then left as it was.
 */
enum cm_err counters_save_snapshot(const struct counters_snapshot *s,
                                   const char *path);

/* Snapshot and save (counters_save_snapshot). */
enum cm_err counters_save(struct counters *c, const char *path);

#endif
