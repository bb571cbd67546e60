/*
 * log.c -- formats, bounds and escapes log lines, then hands them to the
 * sink chosen by main.
 *
 * State: the sink, its context and the level, written once by main before
 * any thread starts (log_setup) and only read afterwards.  This is the one
 * process-wide setting besides the cartridge slot: every module logs, and
 * threading a logger through every call would buy nothing.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"

struct log_state {
    log_sink_fn sink;
    void *ctx;
    enum log_level max_level;
};

static struct log_state log_state = {NULL, NULL, LOG_LEVEL_INFO};

static const char *
level_name(enum log_level level)
{
    switch (level) {
    case LOG_LEVEL_ERROR:
        return "error";
    case LOG_LEVEL_WARN:
        return "warning";
    case LOG_LEVEL_INFO:
        return "info";
    case LOG_LEVEL_DEBUG:
        return "debug";
    }
    return "?";
}

static void
stderr_sink(void *ctx, enum log_level level, const char *line, size_t len)
{
    char out[CAPS_LOG_LINE_MAX + 32];
    int n;

    n = snprintf(out, sizeof(out), "%s: %s: %.*s\n",
                 ctx != NULL ? (const char *)ctx : "CGPCloudmark",
                 level_name(level), (int)len, line);
    if (n > 0) {
        size_t want = (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1;
        /* One write per line so lines from threads do not interleave. */
        ssize_t w = write(STDERR_FILENO, out, want);
        (void)w;
    }
}

void
log_setup(log_sink_fn fn, void *ctx, enum log_level max_level)
{
    log_state.sink = fn;
    log_state.ctx = ctx;
    log_state.max_level = max_level;
}

enum log_level
log_max_level(void)
{
    return log_state.max_level;
}

/*
 * Replace control bytes so a formatted argument cannot break the line,
 * and the backslash and bytes >= 0x80 too, all as \xNN (log_sample's
 * form): every backslash in a log line then starts an escape, so a
 * literal "\x0a" in a file name reads \x5cx0a and cannot pass for an
 * escaped LF.  8-bit bytes are escaped rather than passed as UTF-8: they
 * come from file names, headers and protocol lines in any charset, the
 * log's reader (CGP's log, a terminal) may not be UTF-8, and valid UTF-8
 * still carries C1 controls and bidi overrides that disguise a line.
 */
static size_t
escape_in_place(char *line, size_t len, size_t cap)
{
    char tmp[CAPS_LOG_LINE_MAX + 1];
    size_t o = 0;

    for (size_t i = 0; i < len && o < cap; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '\\') {
            if (o + 4 > cap) {
                break;
            }
            snprintf(tmp + o, 5, "\\x%02x", ch);
            o += 4;
        } else {
            tmp[o++] = (char)ch;
        }
    }
    memcpy(line, tmp, o);
    line[o] = '\0';
    return o;
}

/* The attribute lets compilers check callers and accept vsnprintf here. */
static void log_emit(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_emit(enum log_level level, const char *fmt, va_list ap)
{
    char line[CAPS_LOG_LINE_MAX + 1];
    int n;
    size_t len;

    if (level > log_state.max_level) {
        return;
    }
    n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0) {
        return;
    }
    len = (size_t)n < CAPS_LOG_LINE_MAX ? (size_t)n : CAPS_LOG_LINE_MAX;
    len = escape_in_place(line, len, CAPS_LOG_LINE_MAX);
    if (log_state.sink != NULL) {
        log_state.sink(log_state.ctx, level, line, len);
    } else {
        stderr_sink(log_state.ctx, level, line, len);
    }
}

#define LOG_DEFINE(name, level)                                              \
    void name(const char *fmt, ...)                                          \
    {                                                                        \
        va_list ap;                                                          \
        va_start(ap, fmt);                                                   \
        log_emit(level, fmt, ap);                                            \
        va_end(ap);                                                          \
    }

LOG_DEFINE(log_error, LOG_LEVEL_ERROR)
LOG_DEFINE(log_warn, LOG_LEVEL_WARN)
LOG_DEFINE(log_info, LOG_LEVEL_INFO)
LOG_DEFINE(log_debug, LOG_LEVEL_DEBUG)

/*
 * Only bounds the sample: escape_in_place escapes every log line once, so
 * escaping here too showed a CR as \x5cx0d.  A NUL cannot travel through
 * the "%s" that carries the sample, so the sample ends there, marked cut.
 */
size_t
log_sample(char *dst, size_t cap, const uint8_t *p, size_t len)
{
    size_t n = len < CAPS_LOG_SAMPLE_MAX ? len : CAPS_LOG_SAMPLE_MAX;
    const uint8_t *nul = n > 0 ? memchr(p, 0, n) : NULL;
    size_t o;

    if (cap == 0) {
        return 0;
    }
    if (nul != NULL) {
        n = (size_t)(nul - p);
    }
    o = n < cap - 1 ? n : cap - 1;
    memcpy(dst, p, o);
    if (len > o && o + 3 < cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return o;
}
