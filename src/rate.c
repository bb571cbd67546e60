/*
 * rate.c -- CGPCloudmark RATE: score files, folders and mailboxes from the
 * shell (SPEC §6).
 *
 *   CGPCloudmark RATE [--threads N] [--json] [--explain] [--cartridge FILE]
 *                     [-c FILE] <file|dir>...
 *
 * DESIGN
 *   The main thread loads the configuration, the whitelist and one
 *   cartridge (--cartridge, else the one the helper would start on: the
 *   newest valid one in the micro-update cache, else the embedded
 *   default), then pulls items from msgsrc (argument order, sorted
 *   directories, mbox messages as <path>:<n>) and numbers them.  Each item
 *   becomes a job for the pool; a worker scores it exactly as the helper's
 *   worker does (queuefile_parse -> struct message -> engine_score with its
 *   own engine scratch) and drops the finished job into a reorder ring
 *   (slot = number modulo the window).  The main thread prints the ring in
 *   number order, so the output is the same for any --threads.  At most
 *   `window` jobs are between submission and printing: the main thread
 *   prints before it submits more, so memory stays bounded by the window
 *   times Max_Body_Length and pool_submit never blocks on a full queue.
 *
 *   A job is owned by the main thread until pool_submit, then by the pool,
 *   then by the worker, then by the ring, and finally by the main thread,
 *   which prints and frees it.  ring_lock guards only the ring slots;
 *   printing and freeing happen outside it.
 *
 *   Nothing read from a message aborts the run: an unreadable or unusable
 *   message is a result line with score "-" and category
 *   "error:<reason>".  Things that are not messages (FIFOs, devices,
 *   directory loops) are skipped with a warning.
 *
 * OUTPUT
 *   stdout: one line per message, "<path>\t<score>\t[<bar>]\t<category>"
 *   (+ "\t<analysis>" with --explain), or with --json one object per line.
 *   Control bytes, backslashes and the UTF-8 of C1 controls and of
 *   U+2028/U+2029 in a path are written as \xNN in text lines (as
 *   \uXXXX in JSON), so a line stays a line for any reader and every
 *   text path reads back to one name.
 *   stderr: warnings, a progress bar when stderr is a terminal (at most
 *   every CAPS_RATE_PROGRESS_INTERVAL_MS), and the summary.
 *
 * EXIT
 *   0 the run completed (also when some messages were error lines);
 *   1 the environment is unusable (cartridge, memory, threads, stdout);
 *   2 unusable arguments (no paths, a missing path, a path that is
 *     neither a file nor a folder, a bad option).
 */
#include "rate.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "budget.h"
#include "bytetable.h"
#include "caps.h"
#include "cartridge.h"
#include "config.h"
#include "cursor.h"
#include "engine.h"
#include "fsutil.h"
#include "log.h"
#include "msgsrc.h"
#include "pool.h"
#include "queuefile.h"
#include "sitelayer.h"
#include "updater.h"
#include "whitelist.h"

#define RATE_N_CATEGORIES ((size_t)ENGINE_CAT_BULK + 1)
#define RATE_STDOUT_BUFFER (1u << 20)

/* What the user asked for. */
struct rate_opts {
    unsigned n_threads;         /* 0: Threads from the config, else CPUs */
    bool is_json;
    bool is_explain;
    const char *config_path;    /* NULL: CGPCloudmark.cfg if present */
    const char *cartridge_path; /* NULL: the helper's (cache or default) */
    const char *const *paths;
    size_t n_paths;
};

/* One message on its way from msgsrc to stdout. */
struct rate_job {
    size_t seq;
    struct msgsrc_item item;
    bool is_error;
    const char *why; /* static: error reason */
    struct verdict verdict;
};

/* Totals for the summary; main thread only. */
struct rate_totals {
    size_t n_messages;
    size_t n_errors;
    size_t n_skipped;
    size_t per_bar[CONFIG_BARS_MAX + 1]; /* last: no bar matched */
    size_t per_category[RATE_N_CATEGORIES];
};

/* The progress bar; main thread only. */
struct rate_progress {
    bool is_on;          /* stderr is a terminal */
    bool is_visible;     /* a bar is drawn and not yet erased */
    bool is_stdout_tty;  /* result lines go to the same terminal */
    size_t total_files;
    uint64_t last_draw_ms;
};

struct rate {
    struct rate_opts opts;
    const struct config *cfg;
    const struct cartridge *cart;
    const struct sitelayer *site; /* LEARN's layer, NULL when none */
    const struct whitelist *wl;

    /* The reorder ring: slot seq % window holds job seq once scored.
     * While the main thread sleeps on ring_cond (is_waiting), only the
     * worker that deposits job wake_seq signals it. */
    pthread_mutex_t ring_lock;
    pthread_cond_t ring_cond;
    struct rate_job **ring;
    size_t window;
    bool is_waiting;
    size_t wake_seq;

    /* Main thread only. */
    size_t n_submitted;
    size_t n_printed;
    size_t last_file_no;
    uint64_t start_ms;
    struct rate_totals totals;
    struct rate_progress progress;
};

/* ---- small helpers ------------------------------------------------- */

static uint64_t
now_ms(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
usage(FILE *to)
{
    fprintf(to,
        "usage: CGPCloudmark RATE [--threads N] [--json] [--explain]\n"
        "                         [--cartridge FILE] [-c FILE] "
        "<file|dir>...\n"
        "\n"
        "Scores every message found in the files and folders given (CGP\n"
        "queue files, plain RFC 822 files, .mdir folders, mbox files;\n"
        "folders recursively, in sorted order, dot files skipped) and\n"
        "prints one line per message on stdout, in input order:\n"
        "  <path>\\t<score>\\t[<bar>]\\t<category>\n"
        "A file holding several mbox messages gives <path>:<n> for its\n"
        "n-th message.  A message that cannot be read or parsed gives\n"
        "score '-' and category 'error:<reason>'.  A summary goes to\n"
        "stderr, with a progress bar when stderr is a terminal.\n"
        "\n"
        "  --threads N       scoring threads, 1..%u (default: Threads of\n"
        "                    the configuration, else one per CPU)\n"
        "  --json            one JSON object per line: path, score, bar,\n"
        "                    category, subcategory, rescan, analysis\n"
        "  --explain         add the engine's analysis as a 5th column\n"
        "  --cartridge FILE  score with this cartridge file (e.g. from\n"
        "                    'cmtool train') instead of the one the helper\n"
        "                    would start on (the newest in the micro-update\n"
        "                    cache, else the embedded default)\n"
        "  -c FILE           configuration (default: CGPCloudmark.cfg in\n"
        "                    the current directory, if present)\n"
        "  --help            this text\n"
        "\n"
        "Exit status: 0 when the run completed (error lines included),\n"
        "1 when it could not run (cartridge, memory, output), 2 for\n"
        "unusable arguments.\n",
        CAPS_THREADS_MAX);
}

/* Fail with exit status 2 and a clear message. */
static int
bad_usage(const char *what, const char *arg)
{
    if (arg != NULL) {
        fprintf(stderr, "CGPCloudmark RATE: %s: %s\n", what, arg);
    } else {
        fprintf(stderr, "CGPCloudmark RATE: %s\n", what);
    }
    fprintf(stderr, "usage: CGPCloudmark RATE [--threads N] [--json] "
                    "[--explain] [--cartridge FILE] [-c FILE] "
                    "<file|dir>...  (--help for more)\n");
    return 2;
}

/* Parse argv into *o; returns -1 when fine, else the exit status. */
static int
parse_args(int argc, char **argv, struct rate_opts *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;

        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--json") == 0) {
            o->is_json = true;
            continue;
        }
        if (strcmp(a, "--explain") == 0) {
            o->is_explain = true;
            continue;
        }
        if (strncmp(a, "--threads=", 10) == 0) {
            value = a + 10;
        } else if (strcmp(a, "--threads") == 0 || strcmp(a, "-c") == 0 ||
                   strcmp(a, "--cartridge") == 0) {
            if (i + 1 >= argc) {
                return bad_usage("option needs a value", a);
            }
            value = argv[++i];
        } else {
            return bad_usage("unknown option", a);
        }
        if (strcmp(a, "-c") == 0) {
            o->config_path = value;
        } else if (strcmp(a, "--cartridge") == 0) {
            o->cartridge_path = value;
        } else {
            uint64_t n;

            if (cursor_parse_u64(value, strlen(value), CAPS_THREADS_MAX,
                                 &n) != CM_OK ||
                n == 0) {
                return bad_usage("--threads wants a number from 1 to 64",
                                 value);
            }
            o->n_threads = (unsigned)n;
        }
    }
    if (i >= argc) {
        return bad_usage("no file or folder to rate", NULL);
    }
    o->paths = (const char *const *)(argv + i);
    o->n_paths = (size_t)(argc - i);
    for (size_t k = 0; k < o->n_paths; k++) {
        struct stat st;

        if (stat(o->paths[k], &st) != 0) {
            return bad_usage(errno == ENOENT || errno == ENOTDIR
                                 ? "no such file or folder"
                                 : "cannot access",
                             o->paths[k]);
        }
        /* A FIFO or a device named on the command line holds no message
         * RATE would read: refused like a missing path, not a run that
         * "completes" with nothing rated (the walk skips such things
         * only inside folders). */
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
            return bad_usage("not a file or folder", o->paths[k]);
        }
    }
    if (o->config_path != NULL && !fsutil_is_file(o->config_path)) {
        return bad_usage("configuration file not found", o->config_path);
    }
    if (o->cartridge_path != NULL && !fsutil_is_file(o->cartridge_path)) {
        return bad_usage("cartridge file not found", o->cartridge_path);
    }
    return -1;
}

/*
 * The one place that decides which cartridge RATE scores with: the file
 * given with --cartridge, else the one the helper would start on with the
 * same configuration (updater_load_startup: the newest valid cartridge in
 * the micro-update cache, else the embedded default), so RATE's scores
 * and --explain are the helper's.
 */
static enum cm_err
load_cartridge(const char *path, const struct config *cfg,
               struct cartridge **out)
{
    const char *why = "unknown reason";
    bool is_default = false;
    enum cm_err rc;

    if (path != NULL) {
        rc = cartridge_load_file(path, out, &why);
        if (rc != CM_OK) {
            log_error("cartridge %s unusable: %s (%s)", path,
                      cm_strerror(rc), why);
        }
        return rc;
    }
    rc = updater_load_startup(cfg, out, &is_default, NULL);
    if (rc != CM_OK) {
        log_error("no usable cartridge: none in the micro-update cache %s "
                  "and the embedded default is unusable (%s)",
                  cfg->cart.cache_path, cm_strerror(rc));
    }
    return rc;
}

/* The site's LEARN layer, scored as the helper would; none when the file
 * is missing.  A damaged or unreadable file stops RATE: a running helper
 * may still hold the layer it loaded before, so RATE's scores would not
 * be the helper's.  A layer learned under another feature set (an older
 * binary) is different: no engine of this one ever uses it (sitelayer.h),
 * the helper included, so RATE ignores it too and says so. */
static enum cm_err
load_site_layer(const struct config *cfg, struct sitelayer **out)
{
    const char *why = NULL;
    enum cm_err rc;

    *out = NULL;
    if (cfg->sitelayer_path[0] == '\0') {
        return CM_OK;
    }
    rc = sitelayer_load(cfg->sitelayer_path, out, &why);
    if (rc == CM_ENOENT) {
        return CM_OK;
    }
    if (rc == CM_EVERSION) {
        log_warn("site layer %s ignored: %s (remove it, then LEARN again)",
                 cfg->sitelayer_path, why != NULL ? why : cm_strerror(rc));
        return CM_OK;
    }
    if (rc != CM_OK) {
        log_error("site layer %s unusable: %s", cfg->sitelayer_path,
                  why != NULL ? why : cm_strerror(rc));
        return rc;
    }
    log_info("site layer %s: %zu learned features", cfg->sitelayer_path,
             sitelayer_count(*out));
    return CM_OK;
}

/* ---- the workers --------------------------------------------------- */

static void *
worker_init(void *ctx)
{
    (void)ctx;
    return engine_scratch_new();
}

static void
worker_fini(void *state)
{
    engine_scratch_free(state);
}

/* Score one message the way the helper's worker does. */
static void
score_message(struct rate *r, struct engine_scratch *scratch,
              struct rate_job *j)
{
    struct envelope env;
    struct message m;
    struct budget b;
    size_t off = 0;
    unsigned flags = 0;
    const char *why = NULL;
    enum cm_err rc;

    queuefile_parse(j->item.data, j->item.len, &env, &off, &flags);
    if (queuefile_is_unusable(flags, j->item.is_truncated, &why)) {
        j->is_error = true;
        j->why = why != NULL ? why : "unusable";
        return;
    }
    m.data = j->item.data + off;
    m.len = j->item.len - off;
    m.env = &env;
    m.is_truncated = j->item.is_truncated;
    b.now_ms = now_ms;
    b.ctx = NULL;
    b.deadline_ms = now_ms(NULL) + r->cfg->time_budget_ms;
    rc = engine_score_site(r->cart, r->site, r->wl, &m, r->cfg->time_budget_ms > 0 ? &b
                                                                     : NULL,
                      scratch, &j->verdict);
    if (rc != CM_OK) {
        j->is_error = true;
        j->why = rc == CM_ETIMEOUT ? "time budget exceeded"
                                   : cm_strerror(rc);
    } else if (r->opts.is_explain && !j->verdict.is_whitelisted) {
        engine_explain(r->cart, &m, scratch, &j->verdict);
    }
}

static void
worker_run(void *job, void *state, void *ctx)
{
    struct rate *r = ctx;
    struct rate_job *j = job;

    if (j->item.kind != MSGSRC_MESSAGE) {
        j->is_error = true;
        j->why = j->item.why != NULL ? j->item.why : "unreadable";
    } else if (state == NULL) {
        j->is_error = true;
        j->why = "out of memory";
    } else {
        score_message(r, state, j);
    }
    /* The bytes stay with the job: the main thread, which allocated
     * them, frees them after printing.  A free here would hand the chunk
     * back to the main thread's malloc arena under its lock, contended
     * with the reader, and keep the reader's next buffers cold. */

    pthread_mutex_lock(&r->ring_lock);
    r->ring[j->seq % r->window] = j;
    if (r->is_waiting && j->seq == r->wake_seq) {
        pthread_cond_signal(&r->ring_cond);
    }
    pthread_mutex_unlock(&r->ring_lock);
}

/* ---- printing ------------------------------------------------------ */

/*
 * Length of the UTF-8 sequence at p (a NUL-terminated string) when it
 * encodes a C1 control (U+0080..U+009F: NEL, CSI, ...) or U+2028/U+2029
 * (LINE and PARAGRAPH SEPARATOR), else 0.  Unicode-aware readers split
 * lines at NEL and the separators (Python's str.splitlines does) and
 * terminals obey C1 controls, so a file name holding one must not reach
 * a result line as itself.
 */
static size_t
unicode_break_len(const unsigned char *p)
{
    if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
        return 2;
    }
    if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
        return 3;
    }
    return 0;
}

/* Bytes at p (not the NUL) a text path writes as \xNN each: a control
 * byte, so a line stays a line; the backslash itself, so a name that
 * holds a literal "\x0a" never reads as one holding a line feed; a
 * Unicode line break or C1 control.  0 when *p is written as itself. */
static size_t
text_escape_len(const unsigned char *p)
{
    if (*p < 0x20 || *p == 0x7f || *p == '\\') {
        return 1;
    }
    return unicode_break_len(p);
}

/* The NUL and the bytes an escape can start with (text_escape_len):
 * the scan of a path for one costs a table load per byte, not the
 * compares of text_escape_len (issue #7).  Built at compile time. */
#define RATE_MAY_ESCAPE(c)                                                 \
    ((c) < 0x20 || (c) == 0x7f || (c) == '\\' || (c) == 0xc2 || (c) == 0xe2)
static const bool may_escape[256] = {BYTETABLE(RATE_MAY_ESCAPE)};

/* A path in a text line, escaped as text_escape_len says. */
static void
put_text_path(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (;;) {
        while (!may_escape[*p]) {
            p++;
        }
        if (*p == '\0' || text_escape_len(p) != 0) {
            break;
        }
        p++;
    }
    if (*p == '\0') {
        fputs(s, stdout); /* the usual case: nothing to escape */
        return;
    }
    p = (const unsigned char *)s;
    while (*p != '\0') {
        size_t n = text_escape_len(p);

        if (n == 0) {
            putc(*p++, stdout);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            fprintf(stdout, "\\x%02x", *p++);
        }
    }
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when invalid. */
static size_t
utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0; /* also stops at the NUL */
        }
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;
    }
    return n;
}

/* A JSON string.  A byte that is not valid UTF-8 (paths are bytes) comes
 * out as \udcXX, the lone surrogate of PEP 383's surrogateescape: the
 * line stays valid JSON, the name reads back to its bytes (Python's
 * os.fsencode), and "caf\xe9" stays apart from the UTF-8 "caf\u00e9",
 * which \u00e9 for the byte made the same string. */
static void
put_json_string(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    putc('"', stdout);
    while (*p != '\0') {
        size_t n = utf8_len(p);

        if (n == 0) {
            fprintf(stdout, "\\udc%02x", *p);
            p++;
            continue;
        }
        if (n > 1 && unicode_break_len(p) > 0) {
            /* As \uXXXX: the same string, and a line stays a line for
             * readers that split at NEL or U+2028/9. */
            fprintf(stdout, "\\u%04x", n == 2
                        ? ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu)
                        : ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) |
                              (p[2] & 0x3fu));
            p += n;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, n, stdout);
            p += n;
            continue;
        }
        switch (*p) {
        case '"':
            fputs("\\\"", stdout);
            break;
        case '\\':
            fputs("\\\\", stdout);
            break;
        case '\n':
            fputs("\\n", stdout);
            break;
        case '\t':
            fputs("\\t", stdout);
            break;
        case '\r':
            fputs("\\r", stdout);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                fprintf(stdout, "\\u%04x", *p);
            } else {
                putc(*p, stdout);
            }
        }
        p++;
    }
    putc('"', stdout);
}

/* "error:<reason>": the reason as one lower-case word-ish token. */
static void
format_error_category(char *dst, size_t cap, const char *why)
{
    size_t o = 0;
    const char *prefix = "error:";

    for (const char *q = prefix; *q != '\0' && o + 1 < cap; q++) {
        dst[o++] = *q;
    }
    for (const unsigned char *p = (const unsigned char *)why;
         *p != '\0' && o + 1 < cap; p++) {
        unsigned char c = *p;

        if (c >= 'A' && c <= 'Z') {
            c = (unsigned char)(c - 'A' + 'a');
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
            c == '_') {
            dst[o++] = (char)c;
        } else if (o > 0 && dst[o - 1] != '-' && dst[o - 1] != ':') {
            dst[o++] = '-';
        }
    }
    while (o > 0 && dst[o - 1] == '-') {
        o--;
    }
    dst[o] = '\0';
}

/* Index of the configured bar holding score (n_bars when none does). */
static size_t
bar_index(const struct config *cfg, unsigned score)
{
    for (size_t i = 0; i < cfg->n_bars; i++) {
        if (score >= cfg->bars[i].min_score &&
            score <= cfg->bars[i].max_score) {
            return i;
        }
    }
    return cfg->n_bars;
}

/* v in decimal on stdout, as %u writes it. */
static void
put_uint(unsigned v)
{
    char tmp[16];
    size_t k = sizeof(tmp);

    tmp[--k] = '\0';
    do {
        tmp[--k] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v > 0);
    fputs(tmp + k, stdout);
}

static void
print_job(struct rate *r, const struct rate_job *j)
{
    const char *name = j->item.name != NULL ? j->item.name : "(unnamed)";
    const struct verdict *v = &j->verdict;
    char category[64];

    if (j->is_error) {
        format_error_category(category, sizeof(category), j->why);
    }
    if (r->opts.is_json) {
        fputs("{\"path\":", stdout);
        put_json_string(name);
        if (j->is_error) {
            fputs(",\"score\":null,\"bar\":null,\"category\":", stdout);
            put_json_string(category);
            fputs(",\"subcategory\":\"\",\"rescan\":false,\"analysis\":",
                  stdout);
            put_json_string(j->why);
            fputs("}\n", stdout);
            return;
        }
        fprintf(stdout, ",\"score\":%u,\"bar\":\"[", v->score);
        fputs(config_bar_text(r->cfg, v->score), stdout);
        fputs("]\",\"category\":", stdout);
        put_json_string(v->category_name);
        fputs(",\"subcategory\":", stdout);
        put_json_string(v->subcategory_name);
        fprintf(stdout, ",\"rescan\":%s,\"analysis\":",
                v->rescan ? "true" : "false");
        put_json_string(v->analysis);
        fputs("}\n", stdout);
        return;
    }
    put_text_path(name);
    if (j->is_error) {
        fprintf(stdout, "\t-\t-\t%s", category);
        if (r->opts.is_explain) {
            fprintf(stdout, "\t%s", j->why);
        }
    } else {
        /* "\t%u\t[%s]\t%s" without printf's format parsing: one line
         * per message (issue #7). */
        putc('\t', stdout);
        put_uint(v->score);
        fputs("\t[", stdout);
        fputs(config_bar_text(r->cfg, v->score), stdout);
        fputs("]\t", stdout);
        fputs(v->category_name, stdout);
        if (r->opts.is_explain) {
            putc('\t', stdout);
            fputs(v->analysis, stdout);
        }
    }
    putc('\n', stdout);
}

static void
count_job(struct rate *r, const struct rate_job *j)
{
    struct rate_totals *t = &r->totals;

    t->n_messages++;
    if (j->is_error) {
        t->n_errors++;
        return;
    }
    t->per_bar[bar_index(r->cfg, j->verdict.score)]++;
    if ((size_t)j->verdict.category < RATE_N_CATEGORIES) {
        t->per_category[j->verdict.category]++;
    }
}

static void
progress_erase(struct rate *r)
{
    if (r->progress.is_visible) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        r->progress.is_visible = false;
    }
}

static void
progress_draw(struct rate *r, bool is_forced)
{
    struct rate_progress *pr = &r->progress;
    uint64_t now;
    double elapsed_s;
    size_t total = pr->total_files;
    size_t done = r->last_file_no;
    size_t width = 30;
    size_t filled;
    char bar[64];

    if (!pr->is_on) {
        return;
    }
    now = now_ms(NULL);
    if (!is_forced && now - pr->last_draw_ms < CAPS_RATE_PROGRESS_INTERVAL_MS) {
        return;
    }
    pr->last_draw_ms = now;
    if (pr->is_stdout_tty) {
        fflush(stdout);
    }
    if (done > total) {
        total = done;
    }
    filled = total > 0 ? done * width / total : 0;
    for (size_t i = 0; i < width; i++) {
        bar[i] = i < filled ? '#' : '.';
    }
    bar[width] = '\0';
    elapsed_s = (double)(now - r->start_ms) / 1000.0;
    fprintf(stderr, "\r\033[K[%s] %zu/%zu files, %zu messages, %.0f/s", bar,
            done, total, r->totals.n_messages,
            elapsed_s > 0 ? (double)r->totals.n_messages / elapsed_s : 0.0);
    fflush(stderr);
    pr->is_visible = true;
}

/*
 * Sleep until the head job and the job a quarter window after it (or the
 * last submitted one) are finished.  ring_lock held.  Waking once per
 * batch of results instead of once per job keeps the futex calls and
 * context switches of the hand-off off the per-message path.
 */
static void
wait_for_batch(struct rate *r)
{
    size_t batch = r->window / 4 > 0 ? r->window / 4 : 1;
    size_t last = r->n_printed + batch - 1;

    if (last >= r->n_submitted) {
        last = r->n_submitted - 1;
    }
    for (;;) {
        bool has_head = r->ring[r->n_printed % r->window] != NULL;
        bool has_last = r->ring[last % r->window] != NULL;

        if (has_head && has_last) {
            break;
        }
        r->wake_seq = has_last ? r->n_printed : last;
        r->is_waiting = true;
        pthread_cond_wait(&r->ring_cond, &r->ring_lock);
    }
    r->is_waiting = false;
}

/*
 * Print finished jobs in order until the next one is not finished and at
 * most max_in_flight jobs are outstanding.  Main thread only.
 */
static void
print_ready(struct rate *r, size_t max_in_flight)
{
    while (r->n_submitted > r->n_printed) {
        size_t slot = r->n_printed % r->window;
        struct rate_job *j;

        pthread_mutex_lock(&r->ring_lock);
        if (r->ring[slot] == NULL &&
            r->n_submitted - r->n_printed > max_in_flight) {
            wait_for_batch(r);
        }
        j = r->ring[slot];
        r->ring[slot] = NULL;
        pthread_mutex_unlock(&r->ring_lock);
        if (j == NULL) {
            return;
        }
        if (r->progress.is_stdout_tty) {
            progress_erase(r);
        }
        print_job(r, j);
        count_job(r, j);
        if (j->item.file_no > r->last_file_no) {
            r->last_file_no = j->item.file_no;
        }
        msgsrc_item_clear(&j->item);
        free(j);
        r->n_printed++;
        progress_draw(r, false);
    }
}

static void
print_summary(struct rate *r, unsigned n_threads)
{
    const struct rate_totals *t = &r->totals;
    size_t n_scored = t->n_messages - t->n_errors;
    double elapsed_s = (double)(now_ms(NULL) - r->start_ms) / 1000.0;

    progress_erase(r);
    fprintf(stderr,
            "RATE: %zu messages, %zu errors, %zu skipped, %.2f s, "
            "%.1f messages/s, %u threads\n",
            t->n_messages, t->n_errors, t->n_skipped, elapsed_s,
            elapsed_s > 0 ? (double)t->n_messages / elapsed_s : 0.0,
            n_threads);
    for (size_t i = 0; i <= r->cfg->n_bars; i++) {
        char label[48];

        if (i == r->cfg->n_bars) {
            if (t->per_bar[i] == 0) {
                continue;
            }
            snprintf(label, sizeof(label), "(no bar)");
        } else {
            snprintf(label, sizeof(label), "%3u-%-3u [%s]",
                     r->cfg->bars[i].min_score, r->cfg->bars[i].max_score,
                     r->cfg->bars[i].text);
        }
        fprintf(stderr, "  %-20s %8zu %6.2f%%\n", label, t->per_bar[i],
                n_scored > 0 ? 100.0 * (double)t->per_bar[i] /
                                   (double)n_scored
                             : 0.0);
    }
    for (size_t c = 0; c < RATE_N_CATEGORIES; c++) {
        fprintf(stderr, "  %-20s %8zu %6.2f%%\n",
                engine_category_name((enum engine_category)c),
                t->per_category[c],
                n_scored > 0 ? 100.0 * (double)t->per_category[c] /
                                   (double)n_scored
                             : 0.0);
    }
    if (t->n_errors > 0) {
        fprintf(stderr, "  %-20s %8zu\n", "error", t->n_errors);
    }
}

/* ---- the run ------------------------------------------------------- */

/* Scoring threads: --threads, else the config's, else one per CPU. */
static unsigned
thread_count(const struct rate *r)
{
    unsigned n_threads = r->opts.n_threads;

    if (n_threads == 0) {
        n_threads = r->cfg->threads;
    }
    if (n_threads == 0) {
        n_threads = pool_cpu_count();
    }
    if (n_threads > CAPS_THREADS_MAX) {
        n_threads = CAPS_THREADS_MAX;
    }
    return n_threads;
}

/* Queue every item of src on pool, printing the results that are ready
 * as it goes; false on a fatal error (logged). */
static bool
submit_all(struct rate *r, struct msgsrc *src, struct pool *pool)
{
    struct msgsrc_item item;

    while (msgsrc_next(src, &item)) {
        struct rate_job *j;

        if (item.kind == MSGSRC_SKIPPED) {
            progress_erase(r);
            log_warn("skipped %s: %s",
                     item.name != NULL ? item.name : "(unnamed)", item.why);
            r->totals.n_skipped++;
            msgsrc_item_clear(&item);
            continue;
        }
        j = calloc(1, sizeof(*j));
        if (j == NULL) {
            /* Without a job the message cannot even be reported in
             * order; stop rather than print a wrong sequence. */
            msgsrc_item_clear(&item);
            log_error("out of memory");
            return false;
        }
        j->item = item;
        j->seq = r->n_submitted;
        /* Keep fewer than window jobs outstanding so slots never clash. */
        print_ready(r, r->window - 1);
        if (pool_submit(pool, j) != CM_OK) {
            msgsrc_item_clear(&j->item);
            free(j);
            log_error("cannot queue a message");
            return false;
        }
        r->n_submitted++;
    }
    print_ready(r, 0);
    return true;
}

/* Pull every item, score and print; 0 or 1 (fatal). */
static int
run(struct rate *r)
{
    struct msgsrc_conf sconf = {0};
    struct pool_conf pconf = {0};
    struct msgsrc *src = NULL;
    struct pool *pool = NULL;
    unsigned n_threads = thread_count(r);
    int status = 1;

    r->window = (size_t)n_threads * CAPS_RATE_WINDOW_PER_THREAD;
    if (r->window > CAPS_JOBS_QUEUED_MAX) {
        r->window = CAPS_JOBS_QUEUED_MAX;
    }
    r->ring = calloc(r->window, sizeof(*r->ring));
    sconf.max_body_bytes = r->cfg->max_body_bytes;
    src = msgsrc_new(r->opts.paths, r->opts.n_paths, &sconf);
    pconf.n_threads = n_threads;
    pconf.max_queued = r->window;
    pconf.init = worker_init;
    pconf.fini = worker_fini;
    pconf.work = worker_run;
    pconf.ctx = r;
    if (r->ring == NULL || src == NULL) {
        log_error("out of memory");
        goto out;
    }
    pool = pool_new(&pconf);
    if (pool == NULL) {
        log_error("cannot start %u scoring threads", n_threads);
        goto out;
    }
    r->start_ms = now_ms(NULL);
    if (submit_all(r, src, pool)) {
        status = 0;
    }
out:
    if (pool != NULL) {
        /* Finishes what was queued; print it so nothing leaks. */
        n_threads = pool_threads(pool);
        pool_drain_and_free(pool);
        print_ready(r, 0);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        log_error("cannot write the results: %s", strerror(errno));
        status = 1;
    }
    print_summary(r, n_threads);
    msgsrc_free(src);
    free(r->ring);
    r->ring = NULL;
    return status;
}

int
rate_main(int argc, char **argv)
{
    struct rate r;
    struct config *cfg = NULL;
    struct whitelist *wl = NULL;
    struct cartridge *cart = NULL;
    struct sitelayer *site = NULL;
    static char out_buf[RATE_STDOUT_BUFFER];
    int status;

    memset(&r, 0, sizeof(r));
    status = parse_args(argc, argv, &r.opts);
    if (status >= 0) {
        return status;
    }
    status = 1;
    cfg = malloc(sizeof(*cfg));
    if (cfg == NULL) {
        log_error("out of memory");
        goto out;
    }
    if (config_load(r.opts.config_path, cfg, config_problem_log, NULL, NULL) !=
        CM_OK) {
        log_error("out of memory while reading the configuration");
        goto out;
    }
    log_setup(NULL, NULL, cfg->log_level);
    if (cfg->whitelist_cfg_path[0] != '\0' &&
        whitelist_load(cfg->whitelist_cfg_path, &wl, config_problem_log, NULL,
                       NULL) != CM_OK) {
        log_error("out of memory while reading %s", cfg->whitelist_cfg_path);
        goto out;
    }
    if (load_cartridge(r.opts.cartridge_path, cfg, &cart) != CM_OK) {
        goto out;
    }
    if (load_site_layer(cfg, &site) != CM_OK) {
        goto out;
    }
    r.cfg = cfg;
    r.wl = wl;
    r.cart = cart;
    r.site = site;
    r.progress.is_on = isatty(STDERR_FILENO) == 1;
    r.progress.is_stdout_tty = isatty(STDOUT_FILENO) == 1;
    if (!r.progress.is_stdout_tty) {
        setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
    }
    if (r.progress.is_on) {
        r.progress.total_files = msgsrc_count_files(r.opts.paths,
                                                    r.opts.n_paths, 0);
    }
    pthread_mutex_init(&r.ring_lock, NULL);
    pthread_cond_init(&r.ring_cond, NULL);
    status = run(&r);
    pthread_cond_destroy(&r.ring_cond);
    pthread_mutex_destroy(&r.ring_lock);
out:
    cartridge_unref(cart);
    sitelayer_free(site);
    whitelist_free(wl);
    free(cfg);
    return status;
}
