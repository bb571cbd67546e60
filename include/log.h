/*
 * log.h -- one-line, bounded, escaped log messages.
 *
 * main picks the sink once, before any thread starts: stderr for CLI
 * commands, the helper's protocol writer ("* ..." lines) in helper mode.
 * Every line is at most CAPS_LOG_LINE_MAX bytes with control bytes, the
 * backslash and bytes >= 0x80 escaped as \xNN, so nothing taken from input
 * can start a new protocol line, pass raw 8-bit bytes, or fake an escape.
 * Decoding a line once always gives what was formatted.
 *
 * Thread safety: log_* may be called from any thread once the sink is set;
 * the sink itself must be thread-safe.
 */
#ifndef CM_LOG_H
#define CM_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level {
    LOG_LEVEL_ERROR = 0, /* an administrator must act */
    LOG_LEVEL_WARN = 1,  /* input refused, a fail-open */
    LOG_LEVEL_INFO = 2,  /* banner, update installed, report written */
    LOG_LEVEL_DEBUG = 3  /* off by default */
};

/* Receives one finished line (escaped, no newline, NUL-terminated). */
typedef void (*log_sink_fn)(void *ctx, enum log_level level, const char *line,
                            size_t len);

/* Install the sink and the most verbose level that is passed on.  Call
 * before threads start.  fn NULL restores the default, stderr, whose
 * lines start with the program name ctx (a NUL-terminated string; NULL:
 * "CGPCloudmark"). */
void log_setup(log_sink_fn fn, void *ctx, enum log_level max_level);

/* Current most verbose level passed to the sink. */
enum log_level log_max_level(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copy a bounded sample of untrusted bytes into dst (capacity cap, always
 * NUL-terminated when cap > 0) for a log_* argument: at most
 * CAPS_LOG_SAMPLE_MAX input bytes, "..." when cut.  The bytes stay raw:
 * the log line escapes them, once.  A NUL byte ends the sample (marked
 * cut).  Use it only inside a log line.  Returns the length written.
 */
size_t log_sample(char *dst, size_t cap, const uint8_t *p, size_t len);

#endif
