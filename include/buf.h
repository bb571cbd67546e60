/*
 * buf.h -- a growable byte buffer with a maximum fixed at init.
 *
 * Growth stops at max_bytes: an append that does not fit copies what fits,
 * sets is_capped and returns CM_ELIMIT, so a caller reading untrusted input
 * keeps a truncated prefix and a flag instead of growing without bound.
 * The data is always followed by one NUL byte (not counted in len), so
 * text can be handed to C string functions after checking.
 *
 * Not thread-safe; a buf has one owner.
 */
#ifndef CM_BUF_H
#define CM_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf {
    uint8_t *data;    /* NULL until the first append */
    size_t len;       /* bytes held */
    size_t cap;       /* bytes allocated, minus the NUL */
    size_t max_bytes; /* len never exceeds this */
    bool is_capped;   /* an append was cut at max_bytes */
};

/* Empty buffer that will hold at most max_bytes.  Allocates nothing. */
void buf_init(struct buf *b, size_t max_bytes);

/* Free the storage; the buf may be reused after buf_init. */
void buf_clear(struct buf *b);

/* Forget the contents but keep the storage and the maximum. */
void buf_reset(struct buf *b);

/* Make room for want more bytes (capped at max_bytes). CM_ENOMEM on failure,
 * CM_ELIMIT when the cap leaves less room than wanted (room up to the cap is
 * still reserved). */
enum cm_err buf_reserve(struct buf *b, size_t want);

/* Append len bytes; see the header comment for the capped case. */
enum cm_err buf_append(struct buf *b, const void *p, size_t len);

/* Append one byte. */
enum cm_err buf_putc(struct buf *b, uint8_t ch);

/* Append a NUL-terminated string (without the NUL). */
enum cm_err buf_puts(struct buf *b, const char *s);

/* Append printf-formatted text (bounded by the cap). */
enum cm_err buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Test hook: the nth allocation from now on fails (0 disables). */
void buf_test_fail_nth_alloc(unsigned nth);

#endif
