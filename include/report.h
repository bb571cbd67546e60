/*
 * report.h -- the daily report mail and its file in Submitted/ (SPEC §7,
 * cgp-protocol.md §3).
 *
 * report_format() turns one day's counts into an RFC 5322 message,
 * multipart/alternative with a text/plain part (tables and a histogram
 * drawn in characters) and a text/html part (the same with inline CSS
 * bars; no external resources, no scripts), 7-bit ASCII, LF line ends
 * (CGP's native EOL on Unix), lines under 998 bytes.
 *
 * The file goes to CGP's PIPE module in two steps so that no partial .sub
 * can ever be picked up: report_prepare() writes Submitted/<unique>.tmp
 * with O_EXCL and fsyncs it; report_commit() renames it to <unique>.sub
 * and fsyncs the directory.  A prepared file that was never committed
 * (crash, or the caller's decision) is cleaned up by report_recover() at
 * the next start: daily reports are committed or removed according to the
 * day the state file says was reported (see housekeep.c).
 *
 * Pure functions and plain file I/O; no shared state; any thread.
 */
#ifndef CM_REPORT_H
#define CM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "counters.h"
#include "err.h"

/* "cmreport-" kind "-" YYYY-MM-DD "-" time "-" pid "-" seq, and more. */
#define REPORT_NAME_MAX 96u
/* A path in Submitted/: the directory plus a name plus ".tmp". */
#define REPORT_PATH_MAX (CONFIG_PATH_MAX + REPORT_NAME_MAX + 8u)
/* Kinds of report; the name of a daily one is what recovery looks for. */
#define REPORT_KIND_DAILY "daily"
#define REPORT_KIND_MANUAL "manual"

/* What one report shows. */
struct report_input {
    const struct counters_day *day; /* the counts (day->day is the date) */
    uint64_t cartridge_version;     /* 0: unknown */
    const char *engine_version;     /* NULL: not shown */
    const char *host;               /* NULL: not shown; sanitised */
    int64_t made_at_s;              /* wall clock, for Date: and the text */
    bool is_partial;                /* the day has not ended (REPORT) */
    int64_t days_without_data;      /* days after day with no counts */
};

/*
 * Recipient address into out (capacity cap): ReportTo when set, else
 * "postmaster@<MainDomain>", else "postmaster".  CM_EINVAL when ReportTo
 * or MainDomain holds characters that cannot appear in an address header
 * (controls, spaces, quotes, angle brackets, commas, non-ASCII); CM_ELIMIT
 * when it does not fit.
 */
enum cm_err report_recipient(const struct config *cfg, char *out, size_t cap);

/*
 * Append the whole message for in to out (whose max should be
 * CAPS_REPORT_MAX_BYTES).  unique (printable, no spaces, at most
 * REPORT_NAME_MAX) goes into the Message-ID and the MIME boundary.
 * Errors: CM_EINVAL (bad recipient, see above, or bad unique),
 * CM_ELIMIT / CM_ENOMEM from the buffer.
 */
enum cm_err report_format(const struct config *cfg,
                          const struct report_input *in, const char *unique,
                          struct buf *out);

/* Per-bar counts of a day over the configured bars (the SPEC's default
 * bars when cfg has none); scores no bar covers go to *other.  out has
 * room for CONFIG_BARS_MAX counts; returns the number of bars used and
 * points *bars at them. */
size_t report_bar_counts(const struct config *cfg,
                         const struct counters_day *d,
                         const struct config_bar **bars, uint64_t *out,
                         uint64_t *other);

/*
 * The message counters of day d as form fields for the hourly statistics
 * POST (SPEC §5; updater_hooks.add_stats), appended to out:
 * "&day=YYYY-MM-DD&requests=N&scored=N&fail_opens=N&errors=N", then
 * "&score_<min>_<max>=N" for each score bar (as report_bar_counts, plus
 * "&score_other=N" when some score is outside every bar) and
 * "&category_<name>=N" for each category.  The counts of the day so far
 * (it starts at ReportTime), never anything taken from a message.
 * CM_ELIMIT when out's cap is hit.
 */
enum cm_err report_stats_format(const struct config *cfg,
                                const struct counters_day *d,
                                struct buf *out);

/* A report file between prepare and commit. */
struct report_file {
    char name[REPORT_NAME_MAX];      /* the unique base name */
    char tmp_path[REPORT_PATH_MAX];  /* <dir>/<name>.tmp */
    char sub_path[REPORT_PATH_MAX];  /* <dir>/<name>.sub */
};

/*
 * Make a unique name "cmreport-<kind>-<date>-<made_at>-<pid>-<seq>" (seq
 * from *seq, advanced past every name tried), format the report with it
 * and write <dir>/<name>.tmp (O_EXCL, mode 0640, fsync).  On success *out
 * names the files and the .tmp exists; on failure no .tmp remains.
 * Errors: those of report_format, CM_ENOENT (dir is not a directory: it
 * is CGP's Submitted folder, which its PIPE module makes; one made here
 * would hold reports nothing delivers), CM_EIO (errno from
 * open/write/fsync), CM_ELIMIT (paths too long, or CAPS_REPORT_NAME_TRIES
 * names all taken).
 */
enum cm_err report_prepare(const struct config *cfg,
                           const struct report_input *in, const char *dir,
                           const char *kind, unsigned *seq,
                           struct report_file *out);

/* Rename .tmp to .sub (refusing to replace an existing .sub) and fsync
 * the directory (fsutil_sync_renamed: once renamed, CM_OK).  CM_EIO when
 * it cannot be renamed; the .tmp is then left in place. */
enum cm_err report_commit(const struct report_file *f);

/* Remove a prepared .tmp that will not be committed. */
void report_abort(const struct report_file *f);

/*
 * Finish what a previous run left in dir: each daily report
 * "cmreport-daily-<date>-….tmp" is committed when its date is on or
 * before last_reported (the state file says it was made, so only the
 * rename was lost) and the file is complete (ends with its closing MIME
 * boundary), or left for the next start when that rename fails; any
 * other daily .tmp is removed (its day will be reported again from the
 * counters).  A manual report's .tmp (never committed: a
 * REPORT that crashed) is removed once it is a regular file at least
 * CAPS_STALE_TEMP_S old; foreign files, links and newer manual ones are
 * left alone.  At most CAPS_REPORT_RECOVER_ENTRIES entries are looked at.
 * Counts go to *n_committed and *n_removed (may be NULL).  CM_ENOENT when
 * dir does not exist, CM_EIO when it cannot be read.
 */
enum cm_err report_recover(const char *dir, int64_t last_reported,
                           size_t *n_committed, size_t *n_removed);

#endif
