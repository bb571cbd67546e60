/*
 * cursor.h -- a bounded reader over untrusted bytes.
 *
 * Every read checks the bytes left before it copies.  The first failed read
 * records why (a static string) and makes every later read fail too, so a
 * caller can read a whole record and check once.  All functions return
 * CM_OK (0) on success so calls chain with ||.  Outputs are untouched on
 * failure.  Not thread-safe; a cursor has one owner.
 */
#ifndef CM_CURSOR_H
#define CM_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cursor {
    const uint8_t *p; /* borrowed; must outlive the cursor */
    size_t len;
    size_t off;
    const char *why; /* NULL while no read failed */
};

void cursor_init(struct cursor *c, const uint8_t *p, size_t len);

/* Bytes not yet consumed (0 after a failure). */
size_t cursor_left(const struct cursor *c);

/* Record a failure (first one wins) and return CM_EPARSE. */
enum cm_err cursor_fail(struct cursor *c, const char *why);

enum cm_err cursor_u8(struct cursor *c, uint8_t *out);
enum cm_err cursor_u16le(struct cursor *c, uint16_t *out);
enum cm_err cursor_u32le(struct cursor *c, uint32_t *out);
enum cm_err cursor_u64le(struct cursor *c, uint64_t *out);

/* A view of the next n bytes (no copy); valid as long as the input is. */
enum cm_err cursor_bytes(struct cursor *c, size_t n, const uint8_t **out);

/* Copy the next n bytes into dst. */
enum cm_err cursor_copy(struct cursor *c, void *dst, size_t n);

enum cm_err cursor_skip(struct cursor *c, size_t n);

/* Unsigned decimal: 1..20 digits, value <= max.  Stops at the first
 * non-digit. */
enum cm_err cursor_u64_dec(struct cursor *c, uint64_t max, uint64_t *out);

/* Parse all of (p, len) as an unsigned decimal <= max; no sign, no spaces. */
enum cm_err cursor_parse_u64(const char *p, size_t len, uint64_t max,
                             uint64_t *out);

#endif
