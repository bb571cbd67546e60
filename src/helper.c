/*
 * helper.c -- helper mode: the CGP External Filter protocol on stdin and
 * stdout (SPEC §2, cgp-protocol.md §1).
 *
 * DESIGN
 *  - Threads.  The main thread is the reader; a pool (pool.c) of N
 *    workers scores FILE requests.  Workers block every signal (the pool
 *    does that); SIGTERM and SIGINT reach only the reader, whose handler
 *    writes one byte into a self-pipe that the reader polls beside stdin,
 *    so a signal interrupts the wait without any work in the handler.
 *  - Reader.  Reads stdin in chunks into a bounded line splitter
 *    (protocol_linebuf), parses each line (protocol_parse) and never waits
 *    on scoring: INTF, KEY, QUIT, unknown commands and malformed lines are
 *    answered on the spot; FILE becomes a job {seq, path} that the pool
 *    owns until a worker takes it.  A line longer than
 *    CAPS_REQUEST_LINE_MAX is dropped up to its LF, logged once with a
 *    bounded sample, and answered if its sequence is readable: the
 *    fail-open answer for FILE, INTF negotiated on the kept bytes, QUIT
 *    obeyed, "OK" for the rest.  With the queue full the reader waits
 *    for room (back-pressure on CGP) in slices, looking for a signal
 *    before it queues: after one, the waiting line and the rest of the
 *    read are left unanswered (CGP keeps them pending) and counted.
 *  - Worker.  Per job: path policy (relative, no ".." component), a
 *    non-blocking bounded read into a per-worker buffer (fsutil: a FIFO or
 *    directory is refused, at most Max_Body_Length bytes are read),
 *    queuefile_parse, engine_score on one cartridge snapshot under a
 *    per-message time budget (counted from when the reader took the
 *    request; a job that waited it out is answered without being read),
 *    render_answer, one write.  Every failure is
 *    a fail-open answer ("<seq> OK" or "<seq> FAILURE") plus a
 *    "* <seq> <reason>" line; a worker never stops on bad input.
 *  - Writer.  stdout is owned by struct helper_writer: one mutex
 *    (out_lock), each line (answers and "*" lines alike) is one write() of
 *    one whole line of at most CAPS_ANSWER_MAX bytes plus its LF; short
 *    writes and EINTR continue inside the lock, so lines never interleave.
 *    SIGPIPE is ignored: EPIPE marks the writer broken, later lines are
 *    dropped, and the reader is woken through the self-pipe to shut down.
 *    A pipe or socket stdout is made non-blocking so that a write never
 *    waits where it cannot be told to stop: while the helper runs, a full
 *    pipe is waited out however long CGP takes (back-pressure), but a
 *    signal, CGP closing stdin, or the reader stopping starts the stop,
 *    and from then on a write that makes no progress for
 *    CAPS_HELPER_STALL_MS marks the writer stalled: every later line is
 *    dropped and counted, and at exit one stderr line (CGP reads stderr
 *    once the helper ended) says how many answers were not delivered.
 *    Jobs still queued then (or after EPIPE) are not scored.
 *    The log sink (log_setup) formats "* <text>" lines into the same
 *    writer, so nothing reaches stderr while the protocol runs.
 *  - Counters.  Workers and the reader note every answered FILE (scored
 *    or fail-open, with its latency) and every dropped line in counters.c;
 *    the housekeep thread saves them every minute and writes the daily
 *    report (SPEC §7).
 *  - Cartridge.  updater_load_startup picks the newest verified cached
 *    cartridge or the embedded default; the slot holds it; the updater
 *    thread (when cartridge.cfg names a server) publishes newer ones into
 *    the slot while requests run, each job scoring on one snapshot.
 *    Without any usable cartridge the helper still runs and fails open.
 *  - Shutdown.  QUIT, EOF on stdin, SIGTERM/SIGINT or a broken stdout stop
 *    the reader; pool_drain_and_free answers every queued and running
 *    request and joins the workers; the updater stops; housekeep makes its
 *    last save of the counters; only then QUIT gets its "<seq> OK" (so
 *    nothing is lost once CGP sees it); exit status 0 (1 when reading
 *    stdin failed: the same shutdown, logged as a reader error).  Exit 2
 *    with a message on stderr only when the helper cannot start (arguments,
 *    memory, threads), before any request is read.
 *
 * State owned: the writer, the self-pipe, the pool, the loaded config,
 * whitelist and cartridge slot (all read-only once the workers run), and
 * the lifetime of the counters, updater and housekeep.  The one
 * file-scope variable is the self-pipe's write end, which the signal
 * handler needs.  Limits: CAPS_REQUEST_LINE_MAX, CAPS_HELPER_READ_CHUNK,
 * CAPS_HELPER_QUEUED_MAX, CAPS_ANSWER_MAX, Max_Body_Length.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "caps.h"
#include "cartridge.h"
#include "clock.h"
#include "config.h"
#include "counters.h"
#include "engine.h"
#include "err.h"
#include "fsutil.h"
#include "housekeep.h"
#include "log.h"
#include "pool.h"
#include "protocol.h"
#include "report.h"
#include "queuefile.h"
#include "render.h"
#include "sitelayer.h"
#include "updater.h"
#include "whitelist.h"

/* Bytes written into the self-pipe: why the reader was woken. */
#define HELPER_WAKE_SIGNAL 'T'
#define HELPER_WAKE_BROKEN 'P'
#define HELPER_WAKE_STOP 'S' /* the reader stopped: wakes a waiting writer */

/* Address space a worker needs beside its stack and the message it
 * read: what the engine's scratch, arena blocks, charset converters and
 * the answer take while scoring (see worker_room). */
#define HELPER_WORKER_SPARE_BYTES (8u << 20)

/* How often the reader, waiting for room in a full request queue, looks
 * whether a signal arrived. */
#define HELPER_SUBMIT_SLICE_MS 100u

/* Room for a log sample of untrusted bytes (escaped, with "..."). */
#define HELPER_SAMPLE_MAX (CAPS_LOG_SAMPLE_MAX * 4u + 8u)

struct helper_writer {
    pthread_mutex_t out_lock; /* guards the writes to fd and the fields
                                 from is_broken to lost_seqs (the two
                                 flags are atomic to be read without) */
    int fd;
    int fd_flags;     /* fd's flags before O_NONBLOCK was set; -1: kept */
    int in_fd;        /* stdin: CGP closing it starts the stop */
    int wake_fd;      /* self-pipe write end: tells the reader */
    int wake_read_fd; /* self-pipe read end: a signal starts the stop */
    atomic_bool is_broken;  /* a write failed (EPIPE...): drop every
                               later line */
    atomic_bool is_stalled; /* stopping, and fd took nothing for
                               CAPS_HELPER_STALL_MS: drop every later line */
    size_t n_lost_answers; /* lines dropped (broken or stalled) */
    size_t n_lost_info;
    char lost_seqs[CAPS_HELPER_DROPPED_SEQS * (CAPS_PROTOCOL_SEQ_MAX + 1) +
                   1]; /* the first lost answers' sequences */
    /* Monotonic µs when the helper began to stop, 0 while it runs; set
     * once, by the reader or by a writer that saw the stop coming. */
    _Atomic uint64_t stop_us;
};

struct helper {
    const struct config *cfg;
    const struct whitelist *wl;
    struct cartridge_slot *slot; /* NULL: no usable cartridge, fail open */
    struct sitelayer_slot *site; /* LEARN's layer; NULL when out of memory */
    enum protocol_answer fail_answer;
    struct counters *counters; /* events only: counters_note_*() */
    struct helper_writer writer;
};

/* One FILE request: made by the reader, owned by the pool, then by one
 * worker, which frees it after writing the answer. */
struct helper_job {
    char seq[CAPS_PROTOCOL_SEQ_MAX + 1];
    uint64_t received_us; /* monotonic, when the reader took the line */
    char path[];          /* NUL-terminated, no control bytes */
};

/* Per-worker state, reused message after message. */
struct helper_worker {
    struct engine_scratch *scratch;
    struct buf file;     /* the queue file, max_bytes = Max_Body_Length */
    struct envelope env;
    char answer[CAPS_ANSWER_MAX + 2];
};

enum helper_stop {
    HELPER_STOP_EOF,    /* stdin ended */
    HELPER_STOP_QUIT,   /* QUIT request: answer it after draining */
    HELPER_STOP_SIGNAL, /* SIGTERM or SIGINT */
    HELPER_STOP_BROKEN, /* stdout is gone */
    HELPER_STOP_ERROR   /* the reader itself failed (poll, read) */
};

/* Write end of the self-pipe, for the signal handler (which cannot be
 * given a context).  Set before the handler is installed. */
static int helper_signal_fd = -1;

static uint64_t
monotonic_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* budget_clock_fn: the per-message deadline's clock. */
static uint64_t
monotonic_ms(void *ctx)
{
    (void)ctx;
    return monotonic_us() / 1000u;
}

static void
on_signal(int sig)
{
    int saved = errno;
    char c = HELPER_WAKE_SIGNAL;
    ssize_t n;

    (void)sig;
    n = write(helper_signal_fd, &c, 1);
    (void)n; /* a full pipe already holds a wake-up */
    errno = saved;
}

/* ---- writer ---------------------------------------------------------- */

static void
writer_init(struct helper_writer *w, int fd, int in_fd, int wake_fd,
            int wake_read_fd)
{
    struct stat st;
    int fl;

    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->out_lock, NULL);
    w->fd = fd;
    w->fd_flags = -1;
    w->in_fd = in_fd;
    w->wake_fd = wake_fd;
    w->wake_read_fd = wake_read_fd;
    atomic_init(&w->is_broken, false);
    atomic_init(&w->is_stalled, false);
    atomic_init(&w->stop_us, 0);
    /* A blocking write into a pipe CGP no longer reads could never be
     * given up; a terminal or a file is left as it is. */
    if (fstat(fd, &st) != 0 ||
        !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
        return;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK) == 0 &&
        fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0) {
        w->fd_flags = fl;
    }
}

static void
writer_clear(struct helper_writer *w)
{
    if (w->fd_flags >= 0) {
        (void)fcntl(w->fd, F_SETFL, w->fd_flags);
    }
    pthread_mutex_destroy(&w->out_lock);
}

/* The helper is stopping from now on; true for the caller that made it
 * so.  Any thread. */
static bool
writer_note_stop(struct helper_writer *w)
{
    uint64_t none = 0;
    uint64_t now = monotonic_us();

    return atomic_compare_exchange_strong(&w->stop_us, &none,
                                          now != 0 ? now : 1);
}

/* The reader stopped: a writer waiting for a full stdout (in poll, on
 * the self-pipe among others) is woken to start counting its stall. */
static void
writer_begin_stop(struct helper_writer *w)
{
    if (writer_note_stop(w)) {
        char c = HELPER_WAKE_STOP;
        ssize_t n = write(w->wake_fd, &c, 1);
        (void)n; /* a full pipe already wakes it */
    }
}

/* Wait until fd takes more bytes of a line that has made no progress
 * since since_us.  While the helper runs, as long as CGP takes: its
 * requests then wait in its own queue.  A signal (a byte in the
 * self-pipe) or CGP closing stdin starts the stop; from then on false
 * once CAPS_HELPER_STALL_MS passed without progress.  Under out_lock, so
 * one thread at most waits here. */
static bool
writer_wait(struct helper_writer *w, uint64_t since_us)
{
    struct pollfd pfd[3] = {{w->fd, POLLOUT, 0},
                            {w->wake_read_fd, POLLIN, 0},
                            {w->in_fd, 0, 0}};
    uint64_t stop = atomic_load(&w->stop_us);
    uint64_t limit_us = (uint64_t)CAPS_HELPER_STALL_MS * 1000u;
    uint64_t now;

    if (stop == 0) {
        /* stdin's POLLHUP (its events are 0) means CGP closed it. */
        if (poll(pfd, 3, -1) > 0 &&
            (pfd[1].revents != 0 || pfd[2].revents != 0)) {
            (void)writer_note_stop(w);
        }
        return true;
    }
    if (since_us < stop) {
        since_us = stop;
    }
    now = monotonic_us();
    if (now - since_us >= limit_us) {
        return false;
    }
    (void)poll(pfd, 1, (int)((since_us + limit_us - now + 999u) / 1000u));
    return true;
}

/* A line that was not (wholly) written: counted, and the first answers'
 * sequences kept for the exit message.  Under out_lock. */
static void
writer_note_lost(struct helper_writer *w, const char *line, size_t len)
{
    const char *sp;
    size_t seq_len;
    size_t used;

    if (line[0] == '*') {
        w->n_lost_info++;
        return;
    }
    if (++w->n_lost_answers > CAPS_HELPER_DROPPED_SEQS) {
        return;
    }
    sp = memchr(line, ' ', len);
    seq_len = sp != NULL ? (size_t)(sp - line) : len - 1;
    if (seq_len > CAPS_PROTOCOL_SEQ_MAX) {
        seq_len = CAPS_PROTOCOL_SEQ_MAX;
    }
    used = strlen(w->lost_seqs);
    snprintf(w->lost_seqs + used, sizeof(w->lost_seqs) - used, " %.*s",
             (int)seq_len, line);
}

/* Write one whole line (ending in LF) with one write() where the pipe
 * allows, continuing after short writes without releasing the lock. */
static void
writer_put(struct helper_writer *w, const char *line, size_t len)
{
    bool wake_reader = false;
    size_t off = 0;
    uint64_t since = 0; /* when the line last stopped making progress */

    if (len == 0 || len > CAPS_ANSWER_MAX + 1 || line[len - 1] != '\n') {
        return; /* callers build lines within the cap; never reached */
    }
    pthread_mutex_lock(&w->out_lock);
    while (!w->is_broken && !w->is_stalled && off < len) {
        ssize_t n = write(w->fd, line + off, len - off);

        if (n > 0) {
            off += (size_t)n;
            since = 0;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (since == 0) {
                since = monotonic_us();
            }
            if (!writer_wait(w, since)) {
                w->is_stalled = true;
                wake_reader = true;
            }
        } else {
            w->is_broken = true;
            wake_reader = true;
        }
    }
    if (off < len) {
        writer_note_lost(w, line, len);
    }
    pthread_mutex_unlock(&w->out_lock);
    if (wake_reader) {
        /* Nothing more can be answered: stop reading requests. */
        char c = HELPER_WAKE_BROKEN;
        ssize_t n = write(w->wake_fd, &c, 1);
        (void)n;
    }
}

/* True when lines are being dropped (stdout closed or stalled).  Without
 * the lock, which a writer waiting for stdout holds. */
static bool
writer_is_broken(struct helper_writer *w)
{
    return atomic_load(&w->is_broken) || atomic_load(&w->is_stalled);
}

/* At exit, after the last line: stdout stalled while stopping, so the
 * log never got there; the one stderr line says what CGP did not get.
 * (A closed stdout is CGP gone: nothing to tell.) */
static void
writer_report_lost(struct helper_writer *w)
{
    size_t more;

    pthread_mutex_lock(&w->out_lock);
    if (w->is_stalled) {
        more = w->n_lost_answers > CAPS_HELPER_DROPPED_SEQS
                   ? w->n_lost_answers - CAPS_HELPER_DROPPED_SEQS
                   : 0;
        fprintf(stderr,
                "CGPCloudmark: stdout not read for %u s while stopping: "
                "%zu answer%s not delivered%s%s%s%s, %zu log line%s "
                "dropped\n",
                CAPS_HELPER_STALL_MS / 1000u, w->n_lost_answers,
                w->n_lost_answers == 1 ? "" : "s",
                w->n_lost_answers > 0 ? " (seq" : "", w->lost_seqs,
                more > 0 ? " ..." : "", w->n_lost_answers > 0 ? ")" : "",
                w->n_lost_info, w->n_lost_info == 1 ? "" : "s");
    }
    pthread_mutex_unlock(&w->out_lock);
}

/* log sink: "* <text>\n" through the writer. */
static void
writer_log_sink(void *ctx, enum log_level level, const char *line,
                size_t len)
{
    char out[CAPS_LOG_LINE_MAX + 8];
    size_t n;

    (void)level;
    n = protocol_format_info(out, sizeof(out), line, len);
    writer_put(ctx, out, n);
}

/* After shutdown nothing may reach stderr either. */
static void
discard_log_sink(void *ctx, enum log_level level, const char *line,
                 size_t len)
{
    (void)ctx;
    (void)level;
    (void)line;
    (void)len;
}

static void
answer_simple(struct helper *h, const char *seq, enum protocol_answer a)
{
    char line[CAPS_PROTOCOL_SEQ_MAX + 16];
    size_t n;

    if (protocol_format_answer(line, sizeof(line), seq, a, &n) == CM_OK) {
        writer_put(&h->writer, line, n);
    }
}

/* Fail open: the "* <seq> <reason>" line, then the configured answer;
 * counted under code with the latency since received_us. */
static void
answer_fail_open(struct helper *h, const char *seq, enum counters_fail code,
                 uint64_t received_us, const char *reason)
{
    log_warn("%s %s", seq, reason);
    answer_simple(h, seq, h->fail_answer);
    counters_note_fail_open(h->counters, code, monotonic_us() - received_us);
}

/* ---- worker ---------------------------------------------------------- */

static void *
worker_init(void *ctx)
{
    struct helper *h = ctx;
    struct helper_worker *w = calloc(1, sizeof(*w));

    if (w == NULL) {
        return NULL;
    }
    w->scratch = engine_scratch_new();
    if (w->scratch == NULL) {
        free(w);
        return NULL;
    }
    buf_init(&w->file, queuefile_read_max(h->cfg->max_body_bytes));
    return w;
}

static void
worker_fini(void *state)
{
    struct helper_worker *w = state;

    if (w == NULL) {
        return;
    }
    buf_clear(&w->file);
    engine_scratch_free(w->scratch);
    free(w);
}

/* CGP names files relative to its base directory; anything that could
 * leave it (absolute, or a ".." component) is not a queue file. */
static bool
path_leaves_base(const char *path)
{
    const char *p = path;

    if (path[0] == '/') {
        return true;
    }
    while (*p != '\0') {
        size_t n = strcspn(p, "/");

        if (n == 2 && p[0] == '.' && p[1] == '.') {
            return true;
        }
        p += n;
        if (*p == '/') {
            p++;
        }
    }
    return false;
}

/* The job's message into w->file and msg (its envelope into w->env);
 * false when the job was answered fail-open instead. */
static bool
read_job_message(struct helper *h, struct helper_worker *w,
                 const struct helper_job *job, struct message *msg)
{
    char reason[CAPS_LOG_LINE_MAX];
    char sample[HELPER_SAMPLE_MAX];
    const char *why = NULL;
    bool is_truncated = false;
    size_t max = h->cfg->max_body_bytes;
    size_t msg_off = 0;
    unsigned flags = 0;
    enum cm_err rc;
    uint64_t t0 = job->received_us;

    if (path_leaves_base(job->path)) {
        answer_fail_open(h, job->seq, COUNTERS_FAIL_PATH_REFUSED, t0,
                         "path leaves the base directory");
        return false;
    }
    buf_reset(&w->file);
    /* Max_Body_Length is the message's: the envelope (up to
     * CAPS_ENVELOPE_MAX_BYTES of it) is read besides. */
    rc = fsutil_read_file(job->path, queuefile_read_max(max), &w->file,
                          &is_truncated, &why);
    if (rc != CM_OK) {
        log_sample(sample, sizeof(sample), (const uint8_t *)job->path,
                   strlen(job->path));
        snprintf(reason, sizeof(reason), "cannot read %s: %s", sample,
                 why != NULL ? why : cm_strerror(rc));
        answer_fail_open(h, job->seq, counters_fail_of_err(rc), t0, reason);
        return false;
    }
    if (queuefile_cut_message(w->file.data, &w->file.len, max)) {
        is_truncated = true;
    }
    queuefile_parse(w->file.data, w->file.len, &w->env, &msg_off, &flags);
    if (queuefile_is_unusable(flags, is_truncated, &why)) {
        answer_fail_open(h, job->seq, counters_fail_of_queuefile(flags), t0,
                         why);
        return false;
    }
    msg->data = w->file.data + msg_off;
    msg->len = w->file.len - msg_off;
    msg->env = &w->env;
    msg->is_truncated = is_truncated;
    return true;
}

/* msg scored with the cartridge and site layer installed now (held only
 * while scoring, so a swap frees the old one as soon as it is unused),
 * within the time budget counted from start_ms. */
static enum cm_err
score_with_current(struct helper *h, struct helper_worker *w,
                   const struct message *msg, uint64_t start_ms,
                   struct verdict *verdict)
{
    const struct config *cfg = h->cfg;
    struct budget budget;
    const struct cartridge *cart;
    const struct sitelayer *site;
    enum cm_err rc;

    budget.now_ms = cfg->time_budget_ms > 0 ? monotonic_ms : NULL;
    budget.ctx = NULL;
    budget.deadline_ms = start_ms + cfg->time_budget_ms;
    cart = cartridge_acquire(h->slot);
    site = h->site != NULL ? sitelayer_acquire(h->site) : NULL;
    rc = engine_score_site(cart, site, h->wl, msg, &budget, w->scratch,
                           verdict);
    if (site != NULL) {
        sitelayer_release(h->site, site);
    }
    cartridge_unref(cart);
    return rc;
}

/* One FILE request, from its file to its answer; every failure is
 * answered fail-open with its reason logged. */
static void
score_job(struct helper *h, struct helper_worker *w,
          const struct helper_job *job)
{
    const struct config *cfg = h->cfg;
    char reason[CAPS_LOG_LINE_MAX];
    struct message msg;
    struct verdict verdict;
    enum cm_err rc;
    size_t n;
    uint64_t t0 = job->received_us;
    /* The budget runs from when the reader took the request, as CGP's
     * Time-out does from when it sent it: under a backlog, requests
     * that already waited their budget for a worker are answered at
     * once, so the queue drains instead of CGP killing the helper. */
    uint64_t start_ms = t0 / 1000u;

    if (writer_is_broken(&h->writer)) {
        /* No answer can reach CGP any more (it keeps the request pending
         * for the next helper): scoring would only delay the exit.  The
         * dropped answer is counted for the exit message. */
        answer_simple(h, job->seq, h->fail_answer);
        return;
    }
    if (w == NULL) {
        answer_fail_open(h, job->seq, COUNTERS_FAIL_ENGINE_ERROR, t0,
                         "out of memory for the worker");
        return;
    }
    if (monotonic_ms(NULL) > start_ms + cfg->time_budget_ms) {
        snprintf(reason, sizeof(reason),
                 "time budget of %u ms spent waiting for a worker",
                 cfg->time_budget_ms);
        answer_fail_open(h, job->seq, COUNTERS_FAIL_TIMEOUT, t0, reason);
        return;
    }
    if (!read_job_message(h, w, job, &msg)) {
        return;
    }
    if (h->slot == NULL) {
        answer_fail_open(h, job->seq, COUNTERS_FAIL_ENGINE_ERROR, t0,
                         "no usable cartridge");
        return;
    }
    rc = score_with_current(h, w, &msg, start_ms, &verdict);
    if (rc == CM_ETIMEOUT) {
        snprintf(reason, sizeof(reason), "time budget of %u ms exceeded",
                 cfg->time_budget_ms);
        answer_fail_open(h, job->seq, COUNTERS_FAIL_TIMEOUT, t0, reason);
        return;
    }
    if (rc != CM_OK) {
        snprintf(reason, sizeof(reason), "engine error: %s",
                 cm_strerror(rc));
        answer_fail_open(h, job->seq, COUNTERS_FAIL_ENGINE_ERROR, t0,
                         reason);
        return;
    }
    rc = render_answer(cfg, job->seq, &verdict, w->answer, sizeof(w->answer),
                       &n);
    if (rc != CM_OK || n == 0 || n > CAPS_ANSWER_MAX + 1) {
        snprintf(reason, sizeof(reason), "cannot render the answer: %s",
                 cm_strerror(rc != CM_OK ? rc : CM_ELIMIT));
        answer_fail_open(h, job->seq, COUNTERS_FAIL_OTHER, t0, reason);
        return;
    }
    if (log_max_level() >= LOG_LEVEL_DEBUG) {
        log_debug("%s score=%u cat=%s rescan=%d %llums", job->seq,
                  verdict.score, verdict.category_name, verdict.rescan ? 1 : 0,
                  (unsigned long long)((monotonic_us() - t0) / 1000u));
    }
    writer_put(&h->writer, w->answer, n);
    counters_note_message(h->counters, verdict.score, verdict.category,
                          monotonic_us() - t0);
}

static void
worker_run(void *job, void *state, void *ctx)
{
    score_job(ctx, state, job);
    free(job);
}

/* ---- reader ---------------------------------------------------------- */

struct helper_reader {
    struct helper *h;
    struct pool *pool;
    int wake_fd; /* self-pipe read end: polled, never read, while waiting */
    size_t n_unanswered; /* lines read but left when a signal came */
    char first_unanswered[CAPS_PROTOCOL_SEQ_MAX + 1];
    struct protocol_linebuf lines;
    struct buf path; /* decoded FILE name, reused */
    uint8_t *chunk;  /* CAPS_HELPER_READ_CHUNK bytes read from stdin */
    char quit_seq[CAPS_PROTOCOL_SEQ_MAX + 1];
};

/* Whether the self-pipe holds a wake-up (a signal, a broken stdout);
 * the byte is left for reader_run to tell which. */
static bool
wake_pending(int fd)
{
    struct pollfd pfd = {fd, POLLIN, 0};

    return poll(&pfd, 1, 0) > 0 && pfd.revents != 0;
}

/* Queue job, waiting for room as long as the workers take (back-pressure
 * on CGP), but in slices, and looking for a signal before queueing after
 * a wait, so that a signal ends the wait at once even when room came with
 * it: HELPER_STOP_SIGNAL then (the job is freed unanswered; CGP still has
 * the request pending), else HELPER_STOP_EOF ("keep reading"). */
static enum helper_stop
submit_job(struct helper_reader *r, struct helper_job *job)
{
    enum cm_err rc;

    while ((rc = pool_try_submit(r->pool, job)) == CM_ELIMIT) {
        (void)pool_wait_room(r->pool, HELPER_SUBMIT_SLICE_MS);
        if (wake_pending(r->wake_fd)) {
            free(job);
            return HELPER_STOP_SIGNAL;
        }
    }
    if (rc != CM_OK) {
        answer_fail_open(r->h, job->seq, COUNTERS_FAIL_OTHER,
                         job->received_us, "cannot queue the request");
        free(job);
    }
    return HELPER_STOP_EOF;
}

/* A FILE request into the queue, or answered fail-open; HELPER_STOP_SIGNAL
 * when a signal came while the queue was full. */
static enum helper_stop
submit_file(struct helper_reader *r, const struct protocol_request *req)
{
    struct helper *h = r->h;
    struct helper_job *job;
    const char *why = NULL;
    char reason[CAPS_LOG_LINE_MAX];
    uint64_t t0 = monotonic_us();

    buf_reset(&r->path);
    if (protocol_file_path(req, &r->path, &why) != CM_OK) {
        char sample[HELPER_SAMPLE_MAX];

        log_sample(sample, sizeof(sample), req->args, req->args_len);
        snprintf(reason, sizeof(reason), "%s: %s", why, sample);
        answer_fail_open(h, req->seq, COUNTERS_FAIL_PATH_REFUSED, t0,
                         reason);
        return HELPER_STOP_EOF;
    }
    job = malloc(sizeof(*job) + r->path.len + 1);
    if (job == NULL) {
        answer_fail_open(h, req->seq, COUNTERS_FAIL_OTHER, t0,
                         "out of memory for the request");
        return HELPER_STOP_EOF;
    }
    memcpy(job->seq, req->seq, req->seq_len + 1);
    memcpy(job->path, r->path.data, r->path.len);
    job->path[r->path.len] = '\0';
    job->received_us = t0;
    if (submit_job(r, job) == HELPER_STOP_SIGNAL) {
        memcpy(r->first_unanswered, req->seq, req->seq_len + 1);
        return HELPER_STOP_SIGNAL;
    }
    return HELPER_STOP_EOF;
}

static void
answer_intf(struct helper_reader *r, const struct protocol_request *req)
{
    struct helper *h = r->h;
    unsigned theirs = h->cfg->intf_max;
    unsigned ours;
    const char *why = NULL;
    char line[CAPS_PROTOCOL_SEQ_MAX + 32];
    size_t n;

    if (protocol_intf_version(req, &theirs, &why) != CM_OK) {
        log_warn("%s %s", req->seq, why);
        theirs = h->cfg->intf_max;
    }
    ours = theirs < h->cfg->intf_max ? theirs : h->cfg->intf_max;
    if (protocol_format_intf(line, sizeof(line), req->seq, ours, &n) ==
        CM_OK) {
        writer_put(&h->writer, line, n);
    }
}

/* A line over CAPS_REQUEST_LINE_MAX: only its first bytes were kept.
 * The cut costs the arguments, not the command: FILE fails open (its path
 * is gone), INTF is still negotiated and QUIT still ends the session,
 * because CGP takes "<seq> OK" to either as a finished exchange and would
 * otherwise see no INTF version or a helper that never exits.  True on
 * QUIT. */
static bool
handle_overlong(struct helper_reader *r)
{
    struct protocol_request req;
    char sample[HELPER_SAMPLE_MAX];

    log_sample(sample, sizeof(sample), r->lines.line,
               protocol_loggable_len(r->lines.line, r->lines.len));
    if (protocol_parse(r->lines.line, r->lines.len, &req, NULL) != CM_OK) {
        log_warn("request line over %u bytes without a sequence number "
                 "dropped: %s",
                 CAPS_REQUEST_LINE_MAX, sample);
        counters_note_error(r->h->counters);
        return false;
    }
    if (req.cmd == PROTOCOL_CMD_FILE) {
        char reason[CAPS_LOG_LINE_MAX];

        snprintf(reason, sizeof(reason),
                 "request line over %u bytes (%zu bytes dropped): %s",
                 CAPS_REQUEST_LINE_MAX, r->lines.n_dropped, sample);
        answer_fail_open(r->h, req.seq, COUNTERS_FAIL_PATH_REFUSED,
                         monotonic_us(), reason);
        return false;
    }
    log_warn("%s request line over %u bytes (%zu bytes dropped): %s",
             req.seq, CAPS_REQUEST_LINE_MAX, r->lines.n_dropped, sample);
    counters_note_error(r->h->counters);
    switch (req.cmd) {
    case PROTOCOL_CMD_INTF:
        answer_intf(r, &req);
        return false;
    case PROTOCOL_CMD_QUIT:
        memcpy(r->quit_seq, req.seq, req.seq_len + 1);
        return true;
    case PROTOCOL_CMD_FILE:
    case PROTOCOL_CMD_KEY:
    case PROTOCOL_CMD_UNKNOWN:
        break;
    }
    answer_simple(r->h, req.seq, PROTOCOL_ANSWER_OK);
    return false;
}

/* Handle the complete line in r->lines: HELPER_STOP_QUIT on QUIT,
 * HELPER_STOP_SIGNAL when a signal came while a FILE waited for room in
 * the queue (the line is left unanswered), else HELPER_STOP_EOF. */
static enum helper_stop
handle_line(struct helper_reader *r)
{
    struct protocol_request req;
    const char *why = NULL;
    char sample[HELPER_SAMPLE_MAX];

    if (r->lines.is_overlong) {
        return handle_overlong(r) ? HELPER_STOP_QUIT : HELPER_STOP_EOF;
    }
    if (r->lines.len == 0) {
        return HELPER_STOP_EOF; /* an empty line carries nothing to answer */
    }
    if (protocol_parse(r->lines.line, r->lines.len, &req, &why) != CM_OK) {
        log_sample(sample, sizeof(sample), r->lines.line,
                   protocol_loggable_len(r->lines.line, r->lines.len));
        log_warn("request dropped (%s): %s", why, sample);
        counters_note_error(r->h->counters);
        return HELPER_STOP_EOF;
    }
    switch (req.cmd) {
    case PROTOCOL_CMD_INTF:
        answer_intf(r, &req);
        return HELPER_STOP_EOF;
    case PROTOCOL_CMD_KEY:
        /* The key's text is never logged. */
        answer_simple(r->h, req.seq, PROTOCOL_ANSWER_OK);
        return HELPER_STOP_EOF;
    case PROTOCOL_CMD_FILE:
        return submit_file(r, &req);
    case PROTOCOL_CMD_QUIT:
        memcpy(r->quit_seq, req.seq, req.seq_len + 1);
        return HELPER_STOP_QUIT;
    case PROTOCOL_CMD_UNKNOWN:
        if (req.word_len == 0) {
            log_warn("%s request without a command", req.seq);
        } else {
            log_sample(sample, sizeof(sample), req.word,
                       (size_t)(r->lines.line + r->lines.len - req.word));
            log_warn("%s unknown command %s", req.seq, sample);
        }
        answer_simple(r->h, req.seq, PROTOCOL_ANSWER_OK);
        return HELPER_STOP_EOF;
    }
    return HELPER_STOP_EOF;
}

/* Lines in (p, len) that hold more than a CR: a last line without its
 * LF counts, empty ones (which are never answered) do not. */
static size_t
count_lines(const uint8_t *p, size_t len)
{
    size_t n = 0;
    size_t off = 0;

    while (off < len) {
        const uint8_t *lf = memchr(p + off, '\n', len - off);
        size_t end = lf != NULL ? (size_t)(lf - p) : len;
        size_t line_len = end - off;

        if (line_len > 0 && p[end - 1] == '\r') {
            line_len--;
        }
        n += line_len > 0 ? 1u : 0u;
        off = end + 1;
    }
    return n;
}

/* Feed bytes read from stdin; HELPER_STOP_QUIT when a QUIT was seen,
 * HELPER_STOP_SIGNAL when a signal came while the queue was full, else
 * HELPER_STOP_EOF meaning "keep reading".  What follows a QUIT in
 * the same read is not answered (CGP sends nothing after QUIT, and the
 * helper is leaving), but it is counted in a log line so that a client
 * that does send more can see where its requests went.  After a signal
 * the line that waited and the rest of the read are left to CGP, which
 * still has them pending; r->n_unanswered counts them. */
static enum helper_stop
feed(struct helper_reader *r, const uint8_t *p, size_t len)
{
    size_t off = 0;

    while (off < len) {
        off += protocol_linebuf_feed(&r->lines, p + off, len - off);
        if (r->lines.is_complete) {
            enum helper_stop stop = handle_line(r);
            bool is_quit = stop == HELPER_STOP_QUIT;

            protocol_linebuf_next(&r->lines);
            if (stop == HELPER_STOP_SIGNAL) {
                r->n_unanswered = 1 + count_lines(p + off, len - off);
                return stop;
            }
            if (is_quit) {
                size_t n = count_lines(p + off, len - off);

                if (n > 0) {
                    log_warn("%zu request %s after QUIT ignored", n,
                             n == 1 ? "line" : "lines");
                }
                return HELPER_STOP_QUIT;
            }
        }
    }
    return HELPER_STOP_EOF;
}

/* Why the self-pipe woke us; drains it. */
static enum helper_stop
wake_reason(int fd)
{
    char bytes[64];
    enum helper_stop stop = HELPER_STOP_SIGNAL;
    ssize_t n;

    while ((n = read(fd, bytes, sizeof(bytes))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (bytes[i] == HELPER_WAKE_BROKEN) {
                stop = HELPER_STOP_BROKEN;
            }
        }
    }
    return stop;
}

/* The reader was woken: why (draining the self-pipe), and the stop made
 * known to a writer waiting for stdout, which may have missed the byte
 * just drained. */
static enum helper_stop
stop_for_wake(struct helper_reader *r, int wake_read_fd)
{
    enum helper_stop stop = wake_reason(wake_read_fd);

    writer_begin_stop(&r->h->writer);
    if (writer_is_broken(&r->h->writer)) {
        stop = HELPER_STOP_BROKEN;
    }
    return stop;
}

static enum helper_stop
reader_run(struct helper_reader *r, int wake_read_fd)
{
    uint8_t *chunk = r->chunk;
    enum helper_stop stop = HELPER_STOP_ERROR;

    for (;;) {
        struct pollfd pfd[2] = {{STDIN_FILENO, POLLIN, 0},
                                {wake_read_fd, POLLIN, 0}};
        ssize_t n;

        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            log_error("poll on stdin failed: %s", strerror(errno));
            stop = HELPER_STOP_ERROR;
            break;
        }
        if (pfd[1].revents != 0) {
            /* A signal or a broken stdout: stop before reading more. */
            stop = stop_for_wake(r, wake_read_fd);
            break;
        }
        if (pfd[0].revents == 0) {
            continue;
        }
        n = read(STDIN_FILENO, chunk, CAPS_HELPER_READ_CHUNK);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
                continue;
            }
            /* Not the end of the input: CGP is still sending, or meant
             * to; exit 1 tells it (and the stop line) what happened. */
            log_error("reading stdin failed: %s", strerror(errno));
            stop = HELPER_STOP_ERROR;
            break;
        }
        if (n == 0) {
            /* A last line without its LF still counts. */
            stop = protocol_linebuf_finish(&r->lines) ? handle_line(r)
                                                      : HELPER_STOP_EOF;
            if (stop == HELPER_STOP_SIGNAL) {
                r->n_unanswered = 1;
                stop = stop_for_wake(r, wake_read_fd);
            }
            break;
        }
        stop = feed(r, chunk, (size_t)n);
        if (stop == HELPER_STOP_SIGNAL) {
            stop = stop_for_wake(r, wake_read_fd);
        }
        if (stop != HELPER_STOP_EOF) {
            break;
        }
    }
    return stop;
}

static void
reader_free(struct helper_reader *r)
{
    if (r == NULL) {
        return;
    }
    buf_clear(&r->path);
    free(r->chunk);
    free(r);
}

/*
 * The reader with all the memory it needs to read requests, taken before
 * the workers start: under a process memory limit the threads may leave
 * no room for it afterwards, and a helper that stops reading at start
 * (exit 1) is restarted by CGP in a loop while every message waits.
 * NULL when out of memory.
 */
static struct helper_reader *
reader_new(struct helper *h)
{
    struct helper_reader *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        return NULL;
    }
    r->h = h;
    protocol_linebuf_init(&r->lines);
    buf_init(&r->path, CAPS_PROTOCOL_PATH_MAX);
    r->chunk = malloc(CAPS_HELPER_READ_CHUNK);
    if (r->chunk == NULL ||
        buf_reserve(&r->path, CAPS_PROTOCOL_PATH_MAX) != CM_OK) {
        reader_free(r);
        return NULL;
    }
    return r;
}

/* ---- start-up and shutdown ------------------------------------------- */

static void
usage(FILE *to)
{
    fputs("usage: CGPCloudmark [-c CGPCloudmark.cfg]\n"
          "Helper mode: started by CommuniGate Pro as an External Filter, "
          "reads\n"
          "requests on stdin and answers on stdout (INTF, KEY, FILE, "
          "QUIT).\n"
          "  -c FILE   configuration file (default: CGPCloudmark.cfg in the\n"
          "            current directory)\n"
          "  --help    this text\n",
          to);
}

/*
 * CGP starts the helper with stdin, stdout and stderr open.  One started
 * with a standard descriptor closed would hand its number to the first
 * descriptor the helper makes, the self-pipe: with stdin closed the
 * reader polled its own wake-up pipe as its input and waited forever.
 * A closed one gets /dev/null opened the other way round, so that using
 * it fails as the closed descriptor would: reading stdin is a reader
 * error (exit 1), writing stdout a closed output.  False when stdin or
 * stdout cannot be held so (no /dev/null); stderr is then left closed,
 * as the helper never needs it to serve.
 */
static bool
hold_std_fds(void)
{
    static const int modes[3] = {O_WRONLY, O_RDONLY, O_WRONLY};

    for (int fd = 0; fd < 3; fd++) {
        int got;

        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) {
            continue;
        }
        /* The lower ones are open, so open() returns fd itself. */
        got = open("/dev/null", modes[fd] | O_NOCTTY);
        if (got != fd) {
            if (got >= 0) {
                close(got);
            }
            if (fd < 2) {
                return false;
            }
        }
    }
    return true;
}

static int
make_self_pipe(int fds[2])
{
    if (pipe(fds) != 0) {
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) != 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0) {
            close(fds[0]);
            close(fds[1]);
            return -1;
        }
    }
    return 0;
}

static void
set_handlers(bool is_on)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = is_on ? on_signal : SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* Parse argv; -1 to continue, else the exit status. */
static int
parse_args(int argc, char **argv, const char **cfg_path)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc && *cfg_path == NULL) {
            *cfg_path = argv[++i];
            continue;
        }
        fprintf(stderr, "CGPCloudmark: unexpected argument '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    return -1;
}

static const char *
stop_name(enum helper_stop stop)
{
    switch (stop) {
    case HELPER_STOP_EOF:
        return "end of input";
    case HELPER_STOP_QUIT:
        return "QUIT";
    case HELPER_STOP_SIGNAL:
        return "signal";
    case HELPER_STOP_BROKEN:
        return "output closed";
    case HELPER_STOP_ERROR:
        return "reader error";
    }
    return "?";
}

/* updater hooks: installs and refusals are counted for the report. */
static void
on_update_installed(void *ctx, uint64_t version)
{
    const struct helper *h = ctx;

    counters_note_update_installed(h->counters, version);
}

static void
on_update_refused(void *ctx, enum cm_err err)
{
    const struct helper *h = ctx;

    counters_note_update_refused(h->counters, err);
}

/* The hourly statistics carry the day's message counts (per score bar and
 * category, fail-opens, errors), as cartridge.cfg(5) says; without this
 * hook they held the updater's own counts only. */
static void
add_message_stats(void *ctx, struct buf *body)
{
    const struct helper *h = ctx;
    struct counters_snapshot *s = malloc(sizeof(*s));

    if (s == NULL) {
        return;
    }
    counters_snapshot(h->counters, s);
    report_stats_format(h->cfg, &s->today, body);
    free(s);
}

/* (Re)load LEARN's site layer when its file changed: at start and from
 * the housekeeping thread after each tick; workers keep scoring on the
 * layer they acquired. */
static void
refresh_site_layer(void *ctx)
{
    struct helper *h = ctx;
    const char *why = NULL;
    bool is_changed = false;
    const struct sitelayer *l;

    if (h->site == NULL || h->cfg->sitelayer_path[0] == '\0') {
        return;
    }
    if (sitelayer_slot_refresh(h->site, h->cfg->sitelayer_path, &is_changed,
                               &why) != CM_OK) {
        /* At start there is no previous layer to keep: say what scores. */
        l = sitelayer_acquire(h->site);
        log_warn("site layer %s unusable (%s); %s", h->cfg->sitelayer_path,
                 why != NULL ? why : "?",
                 l != NULL ? "keeping the previous one"
                           : "scoring without a site layer");
        sitelayer_release(h->site, l);
        return;
    }
    if (is_changed) {
        l = sitelayer_acquire(h->site);
        log_info("site layer %s: %zu learned features",
                 h->cfg->sitelayer_path, sitelayer_count(l));
        sitelayer_release(h->site, l);
    }
}

/* Temporary layer files a LEARN killed between writing and renaming left
 * (fsutil_write_temp names them by pid, so no later LEARN replaces them);
 * at start, as housekeep does for the state file. */
static void
remove_stale_layer_temps(const struct config *cfg)
{
    size_t n;

    if (cfg->sitelayer_path[0] == '\0') {
        return;
    }
    n = fsutil_remove_stale_temps(cfg->sitelayer_path);
    if (n > 0) {
        log_info("site layer: removed %zu temporary file(s) an interrupted "
                 "LEARN left beside %s", n, cfg->sitelayer_path);
    }
}

/*
 * The cartridge slot: the newest verified cartridge in the micro-update
 * cache, else the embedded default; then the updater thread on it.  With
 * no usable cartridge at all h->slot stays NULL and every FILE fails open
 * (better than CGP restarting the helper in a loop).  CM_ENOMEM only.
 */
static enum cm_err
start_cartridge(struct helper *h, struct updater **upd, int wake_read_fd)
{
    struct updater_hooks hooks;
    struct updater_skipped skipped;
    struct cartridge *cart = NULL;
    bool is_default = true;
    enum cm_err err;

    err = updater_load_startup(h->cfg, &cart, &is_default, &skipped);
    if (err == CM_ENOMEM) {
        return err;
    }
    if (err != CM_OK) {
        log_error("no usable cartridge (%s): every message is answered "
                  "without a score",
                  cm_strerror(err));
        return CM_OK;
    }
    counters_set_cartridge_version(h->counters, cartridge_version(cart));
    h->slot = cartridge_slot_new(cart);
    if (h->slot == NULL) {
        cartridge_unref(cart);
        return CM_ENOMEM;
    }
    memset(&hooks, 0, sizeof(hooks));
    hooks.on_installed = on_update_installed;
    hooks.on_refused = on_update_refused;
    hooks.add_stats = add_message_stats;
    hooks.ctx = h;
    /* NULL when updates are off or cannot start (it logs why): the helper
     * keeps its cartridge.  The thread blocks signals itself. */
    *upd = updater_start(h->cfg, h->slot, &hooks, &skipped);
    if (*upd != NULL && h->cfg->cart.download_before_init) {
        /* A SIGTERM meanwhile ends the wait; serve() then sees it. */
        updater_wait_first_or(*upd, h->cfg->cart.mu_timeout_s,
                              wake_read_fd);
    }
    return CM_OK;
}

/* The pool's reserve_per_thread: the queue file at Max_Body_Length, as
 * much again for its decoded parts in the engine's arena, and the spare.
 * Without it, under an address-space limit the last worker stacks took
 * what the running workers needed, and every message failed open with
 * "out of memory". */
static size_t
worker_room(const struct config *cfg)
{
    return 2u * queuefile_read_max(cfg->max_body_bytes) +
           HELPER_WORKER_SPARE_BYTES;
}

static struct pool *
start_workers(struct helper *h)
{
    struct pool_conf pc;
    struct pool *pool;
    unsigned wanted;

    memset(&pc, 0, sizeof(pc));
    pc.n_threads = h->cfg->threads < CAPS_THREADS_MAX ? h->cfg->threads
                                                      : CAPS_THREADS_MAX;
    pc.max_queued = CAPS_HELPER_QUEUED_MAX;
    pc.init = worker_init;
    pc.fini = worker_fini;
    pc.work = worker_run;
    pc.ctx = h;
    pc.reserve_per_thread = worker_room(h->cfg);
    wanted = pc.n_threads == 0 ? pool_cpu_count() : pc.n_threads;
    pool = pool_new(&pc);
    if (pool == NULL) {
        fprintf(stderr, "CGPCloudmark: cannot start %u worker threads\n",
                wanted);
        return NULL;
    }
    if (pool_threads(pool) < wanted) {
        log_warn("only %u of %u worker threads could be started (process "
                 "or memory limits); serving with %u",
                 pool_threads(pool), wanted, pool_threads(pool));
    }
    if (h->slot != NULL) {
        const struct cartridge *c = cartridge_acquire(h->slot);
        log_info("CGPCloudmark %s started, cartridge %llu%s, %u threads",
                 engine_version(), (unsigned long long)cartridge_version(c),
                 cartridge_is_default(c) ? " (default)" : "",
                 pool_threads(pool));
        cartridge_unref(c);
    } else {
        log_info("CGPCloudmark %s started, no cartridge, %u threads",
                 engine_version(), pool_threads(pool));
    }
    return pool;
}

/* Read and answer until QUIT, EOF, a signal or a closed stdout; then
 * drain.  Returns the reason; *quit_seq gets QUIT's sequence. */
static enum helper_stop
serve(struct pool *pool, struct helper_reader *reader, int wake_read_fd,
      char quit_seq[CAPS_PROTOCOL_SEQ_MAX + 1])
{
    enum helper_stop stop;

    reader->pool = pool;
    reader->wake_fd = wake_read_fd;
    stop = reader_run(reader, wake_read_fd);
    /* From here a stdout CGP does not read holds the drain up for at
     * most CAPS_HELPER_STALL_MS. */
    writer_begin_stop(&reader->h->writer);
    memcpy(quit_seq, reader->quit_seq, sizeof(reader->quit_seq));
    log_info("stopping (%s), finishing the requests in flight",
             stop_name(stop));
    if (reader->n_unanswered > 0) {
        log_warn("%zu request line%s read but not answered, from %s on "
                 "(left pending in CGP)",
                 reader->n_unanswered,
                 reader->n_unanswered == 1 ? "" : "s",
                 reader->first_unanswered);
    }
    pool_drain_and_free(pool);
    return stop;
}

int
helper_main(int argc, char **argv)
{
    const char *cfg_path = NULL;
    struct config *cfg = NULL;
    struct whitelist *wl = NULL;
    struct updater *upd = NULL;
    struct housekeep *hk = NULL;
    struct housekeep_hook hook;
    struct pool *pool;
    struct helper_reader *reader = NULL;
    struct helper h;
    enum helper_stop stop = HELPER_STOP_ERROR;
    char quit_seq[CAPS_PROTOCOL_SEQ_MAX + 1] = "";
    int wake[2] = {-1, -1};
    int status = 2;
    int rc;

    rc = parse_args(argc, argv, &cfg_path);
    if (rc >= 0) {
        return rc;
    }
    memset(&h, 0, sizeof(h));
    if (!hold_std_fds()) {
        fprintf(stderr, "CGPCloudmark: stdin or stdout is closed and "
                        "/dev/null cannot be opened in its place\n");
        return 2;
    }
    if (make_self_pipe(wake) != 0) {
        fprintf(stderr, "CGPCloudmark: cannot create a pipe: %s\n",
                strerror(errno));
        return 2;
    }
    helper_signal_fd = wake[1];
    set_handlers(true);
    writer_init(&h.writer, STDOUT_FILENO, STDIN_FILENO, wake[1], wake[0]);
    log_setup(writer_log_sink, &h.writer, LOG_LEVEL_INFO);

    cfg = malloc(sizeof(*cfg));
    h.counters = counters_new();
    if (cfg == NULL || h.counters == NULL ||
        config_load(cfg_path, cfg, config_problem_log, NULL, NULL) != CM_OK) {
        fprintf(stderr, "CGPCloudmark: out of memory at start-up\n");
        goto out;
    }
    log_setup(writer_log_sink, &h.writer, cfg->log_level);
    h.cfg = cfg;
    h.fail_answer = cfg->fail_answer == CONFIG_FAIL_FAILURE
                        ? PROTOCOL_ANSWER_FAILURE
                        : PROTOCOL_ANSWER_OK;
    if (whitelist_load(cfg->whitelist_cfg_path, &wl, config_problem_log, NULL,
                       NULL) != CM_OK) {
        fprintf(stderr, "CGPCloudmark: out of memory loading %s\n",
                cfg->whitelist_cfg_path);
        goto out;
    }
    h.wl = wl;
    if (start_cartridge(&h, &upd, wake[0]) != CM_OK) {
        fprintf(stderr, "CGPCloudmark: out of memory at start-up\n");
        goto out;
    }
    /* Counts saved every minute, the daily report; on failure (logged)
     * the helper still serves, it just cannot keep counts across runs. */
    h.site = sitelayer_slot_new(NULL);
    remove_stale_layer_temps(cfg);
    refresh_site_layer(&h);
    hook.on_tick = refresh_site_layer;
    hook.ctx = &h;
    hk = housekeep_start(cfg, h.counters, clock_real(), &hook);
    reader = reader_new(&h);
    if (reader == NULL) {
        fprintf(stderr, "CGPCloudmark: out of memory for the request "
                        "reader\n");
        goto out;
    }
    pool = start_workers(&h);
    if (pool == NULL) {
        goto out;
    }
    stop = serve(pool, reader, wake[0], quit_seq);
    status = stop == HELPER_STOP_ERROR ? 1 : 0;
out:
    /* Every event is noted by now (workers drained, updater stopped), so
     * housekeep's last save loses nothing; only then does QUIT get its
     * answer. */
    writer_begin_stop(&h.writer);
    updater_stop(upd);
    housekeep_stop(hk);
    if (status != 2 && stop == HELPER_STOP_QUIT) {
        answer_simple(&h, quit_seq, PROTOCOL_ANSWER_OK);
    }
    reader_free(reader);
    log_setup(discard_log_sink, NULL, LOG_LEVEL_ERROR);
    set_handlers(false);
    helper_signal_fd = -1;
    if (h.slot != NULL) {
        cartridge_slot_free(h.slot);
    }
    sitelayer_slot_free(h.site);
    if (wl != NULL) {
        whitelist_free(wl);
    }
    counters_free(h.counters);
    free(cfg);
    writer_report_lost(&h.writer);
    writer_clear(&h.writer);
    close(wake[0]);
    close(wake[1]);
    return status;
}
