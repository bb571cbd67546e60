/*
 * updater.h -- the micro-update downloader (SPEC §5): start-up choice of
 * cartridge, the libcurl thread that keeps it current, one cycle on demand
 * (CGPCloudmark UPDATE), and the hourly statistics POST.
 *
 * Configuration: the cartridge.cfg keys in struct config_cartridge.  The
 * update base URL is `micro-update url` (a '/' is added when missing),
 * else http://<micro-update hostname>:<micro-update port>/; with neither,
 * updates are off and nothing is ever sent anywhere.  The server serves
 * what `cmtool publish` wrote: <base>manifest and the *.cmu it lists;
 * statistics go to <base>cmstats.
 *
 * Cache: `micro-update cache path` holds verified cartridge images named
 * cartridge-<version>.cmc (mode 0600), written by temp file, fsync,
 * rename and directory fsync; the newest CAPS_UPDATER_CACHE_KEEP are kept,
 * and always the one just installed.
 * The version is decimal with no leading zero; a file under any other
 * spelling ("cartridge-09.cmc") is not part of the cache.
 * The updater thread is the only writer while the helper runs (UPDATE
 * from the shell writes the same way, so the two cannot corrupt a file).
 *
 * Threads: updater_load_startup and updater_start run on the main thread
 * before the workers; the thread then owns the cache directory and its own
 * state.  updater_stop from the thread that started it.  The hooks are
 * called on the updater thread.
 */
#ifndef CM_UPDATER_H
#define CM_UPDATER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "caps.h"
#include "cartridge.h"
#include "config.h"
#include "err.h"

struct updater;

/* Counters the updater keeps about itself (a plain copy). */
struct updater_counters {
    uint64_t cycles;          /* manifest checks started */
    uint64_t installed;       /* cartridges installed */
    uint64_t not_modified;    /* 304 answers to the manifest GET */
    uint64_t current;         /* cycles that found nothing newer */
    uint64_t net_failures;    /* connect, HTTP status, timeout, cut off */
    uint64_t refused_signature;
    uint64_t refused_key;
    uint64_t refused_decrypt;
    uint64_t refused_version; /* replay: not newer, or older manifest */
    uint64_t refused_digest;  /* size or SHA-256 mismatch */
    uint64_t refused_expired;
    uint64_t refused_format;  /* malformed or over a cap */
    uint64_t cache_failures;  /* could not write the cache (disk full) */
    uint64_t stats_sent;
    uint64_t stats_failed;
};

/*
 * Optional callbacks (all may be NULL), called on the updater thread:
 * on_installed after a new cartridge is published, on_refused after a
 * failed cycle with its code (the counters module maps it), and add_stats
 * to append more "key=value" form fields ("&key=value", already
 * URL-encoded) to the hourly statistics body.  ctx is passed back.
 */
struct updater_hooks {
    void (*on_installed)(void *ctx, uint64_t version);
    void (*on_refused)(void *ctx, enum cm_err err);
    void (*add_stats)(void *ctx, struct buf *body);
    void *ctx;
};

/*
 * A cached file that failed to load, by what stat said of it before the
 * load: a rewrite (rename gives a new inode), an edit or a chmod (ctime)
 * makes it a file to try again.
 */
struct updater_cache_bad {
    uint64_t version;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;
};

/* The cached files updater_load_startup skipped (the newest
 * CAPS_UPDATER_CACHE_BAD_MAX), for updater_start: its first cycle then
 * does not read and warn about the same files again. */
struct updater_skipped {
    size_t n;
    struct updater_cache_bad file[CAPS_UPDATER_CACHE_BAD_MAX];
};

/*
 * The cartridge to start with: the newest cached image that loads and
 * whose version matches its name, else the embedded default.  Cached files
 * that fail are logged (warning) and skipped, and noted in *skipped when
 * it is not NULL.  *out has one reference for the caller; *is_default
 * tells which.  Errors: the embedded default is unusable too (CM_EPARSE
 * etc.), CM_ENOMEM.
 */
enum cm_err updater_load_startup(const struct config *cfg,
                                 struct cartridge **out, bool *is_default,
                                 struct updater_skipped *skipped);

/* True when cfg names an update server (url or hostname). */
bool updater_is_configured(const struct config *cfg);

/*
 * Start the downloader thread on slot (which must outlive updater_stop).
 * The first cycle starts at once, then every `micro-update interval`
 * (jittered), with exponential back-off and Retry-After after failures.
 * Returns NULL when updates are not configured (logged at info) or cannot
 * start (keys unusable, no thread: logged as an error); the helper then
 * just keeps its cartridge.  cfg must outlive the updater.  hooks may be
 * NULL; it is copied.  skipped: what updater_load_startup skipped (may be
 * NULL), so that the first cycle does not read those files again.
 */
struct updater *updater_start(const struct config *cfg,
                              struct cartridge_slot *slot,
                              const struct updater_hooks *hooks,
                              const struct updater_skipped *skipped);

/*
 * Wait until the first cycle has ended (whatever its outcome) or max_wait_s
 * seconds have passed; for `download micro-updates before init = yes`
 * (pass cfg->cart.mu_timeout_s: the cycle's own transfers are bounded by
 * it, so this bounds start-up).  true when the first cycle installed a
 * cartridge.  u may be NULL (returns false at once).
 */
bool updater_wait_first(struct updater *u, unsigned max_wait_s);

/*
 * updater_wait_first that also ends as soon as cancel_fd (>= 0) has
 * something to read -- the helper's self-pipe, written by its SIGTERM
 * handler -- so a stop asked for during the start-up wait is not held
 * until the first download ends or times out.  Nothing is read from
 * cancel_fd.  Returns false when cancelled.
 */
bool updater_wait_first_or(struct updater *u, unsigned max_wait_s,
                           int cancel_fd);

/*
 * Stop: interrupts a sleeping interval and aborts a transfer in progress
 * (progress callback), joins the thread, frees everything.  NULL does
 * nothing.  Returns promptly (well under a second unless libcurl is inside
 * a blocking name lookup).
 */
void updater_stop(struct updater *u);

/*
 * POST the statistics now to <base>cmstats (the thread does this every
 * CAPS_UPDATER_STATS_INTERVAL_S when `report statistics` is on).  Any
 * thread; uses its own connection.  CM_OK on a 2xx answer, else CM_ENET,
 * CM_ETIMEOUT, CM_ELIMIT (body over its cap) with why filled.
 */
enum cm_err updater_post_stats(struct updater *u, char *why, size_t why_cap);

/* Snapshot of the counters (any thread).  u may be NULL (zeros). */
void updater_counters_get(struct updater *u, struct updater_counters *out);

enum updater_outcome {
    UPDATER_INSTALLED = 0, /* a newer cartridge was verified and cached */
    UPDATER_CURRENT = 1,   /* nothing newer on the server */
    UPDATER_FAILED = 2     /* see err and why */
};

/* What one cycle did. */
struct updater_result {
    enum updater_outcome outcome;
    enum cm_err err;          /* CM_OK unless FAILED */
    uint64_t from_version;    /* installed before (0: embedded default) */
    uint64_t version;         /* installed after */
    bool was_delta;           /* installed from a delta */
    bool is_delta_refused;    /* the delta was refused and the full file
                                 tried instead (on INSTALLED, why says
                                 why the delta was not used) */
    char why[256];            /* what happened, for a person (no secrets) */
};

/*
 * One update cycle now, for `CGPCloudmark UPDATE`: start-up cartridge as
 * updater_load_startup, then manifest, file, verification, cache, exactly
 * as the thread does, without publishing anywhere.  Returns res->err
 * (CM_OK for INSTALLED and CURRENT).  Not configured: CM_EINVAL with a
 * message.  Nothing is logged; the caller prints res->why.
 */
enum cm_err updater_run_once(const struct config *cfg,
                             struct updater_result *res);

/* ---- pure helpers (exposed for tests) ------------------------------- */

/* The base URL (ending in '/') into dst.  CM_EINVAL when not configured,
 * CM_ELIMIT when too long. */
enum cm_err updater_base_url(const struct config *cfg, char *dst,
                             size_t cap);

/*
 * Seconds to wait after n_failures consecutive failed cycles (>= 1):
 * CAPS_UPDATER_BACKOFF_MIN_S doubled per failure, capped at
 * max(CAPS_UPDATER_BACKOFF_MAX_S, interval_s), then "equal jitter": a
 * uniform value in [d/2, d] picked by rnd (any 64-bit random value).  At
 * least retry_after_s when the server asked for that (capped at
 * CAPS_UPDATER_RETRY_AFTER_MAX_S).
 */
unsigned updater_backoff_s(unsigned n_failures, unsigned interval_s,
                           unsigned retry_after_s, uint64_t rnd);

/* `anonymize statistics`: the salt's length and its file in the
 * micro-update cache folder (hex, made at the first anonymous POST). */
#define UPDATER_STATS_SALT_LEN 32
#define UPDATER_STATS_SALT_FILE "statistics.salt"

/*
 * The statistics form body (application/x-www-form-urlencoded) into out:
 * format, customer, host (with salt, UPDATER_STATS_SALT_LEN bytes, not
 * NULL: SHA-256 hex of salt followed by host_name),
 * cartridge version, period_s (the seconds the counters cover: they run
 * from the updater's start, not per POST) and the counters.  Values are
 * percent-encoded.  CM_ELIMIT when out's cap is hit.
 */
enum cm_err updater_stats_body(const char *customer_id, const char *host_name,
                               const uint8_t *salt, uint64_t cartridge_version,
                               unsigned period_s,
                               const struct updater_counters *counters,
                               struct buf *out);

#endif
