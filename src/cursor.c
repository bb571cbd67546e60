/*
 * cursor.c -- bounded reader (see cursor.h).  No shared state; any thread.
 */
#include "cursor.h"

#include <string.h>

void
cursor_init(struct cursor *c, const uint8_t *p, size_t len)
{
    c->p = p;
    c->len = p == NULL ? 0 : len;
    c->off = 0;
    c->why = NULL;
}

size_t
cursor_left(const struct cursor *c)
{
    return c->why != NULL ? 0 : c->len - c->off;
}

enum cm_err
cursor_fail(struct cursor *c, const char *why)
{
    if (c->why == NULL) {
        c->why = why;
    }
    return CM_EPARSE;
}

enum cm_err
cursor_bytes(struct cursor *c, size_t n, const uint8_t **out)
{
    if (c->why != NULL) {
        return CM_EPARSE;
    }
    if (n > c->len - c->off) {
        return cursor_fail(c, "truncated");
    }
    *out = c->p + c->off;
    c->off += n;
    return CM_OK;
}

enum cm_err
cursor_copy(struct cursor *c, void *dst, size_t n)
{
    const uint8_t *src;

    if (cursor_bytes(c, n, &src) != CM_OK) {
        return CM_EPARSE;
    }
    if (n > 0) {
        memcpy(dst, src, n);
    }
    return CM_OK;
}

enum cm_err
cursor_skip(struct cursor *c, size_t n)
{
    const uint8_t *unused;

    return cursor_bytes(c, n, &unused);
}

enum cm_err
cursor_u8(struct cursor *c, uint8_t *out)
{
    return cursor_copy(c, out, 1);
}

static enum cm_err
read_le(struct cursor *c, size_t n, uint64_t *out)
{
    const uint8_t *b;
    uint64_t v = 0;

    if (cursor_bytes(c, n, &b) != CM_OK) {
        return CM_EPARSE;
    }
    for (size_t i = n; i > 0; i--) {
        v = (v << 8) | b[i - 1];
    }
    *out = v;
    return CM_OK;
}

enum cm_err
cursor_u16le(struct cursor *c, uint16_t *out)
{
    uint64_t v;

    if (read_le(c, 2, &v) != CM_OK) {
        return CM_EPARSE;
    }
    *out = (uint16_t)v;
    return CM_OK;
}

enum cm_err
cursor_u32le(struct cursor *c, uint32_t *out)
{
    uint64_t v;

    if (read_le(c, 4, &v) != CM_OK) {
        return CM_EPARSE;
    }
    *out = (uint32_t)v;
    return CM_OK;
}

enum cm_err
cursor_u64le(struct cursor *c, uint64_t *out)
{
    return read_le(c, 8, out);
}

enum cm_err
cursor_u64_dec(struct cursor *c, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t digits = 0;

    if (c->why != NULL) {
        return CM_EPARSE;
    }
    while (c->off < c->len && c->p[c->off] >= '0' && c->p[c->off] <= '9') {
        unsigned d = (unsigned)(c->p[c->off] - '0');
        if (d > max || v > (max - d) / 10) {
            return cursor_fail(c, "number too large");
        }
        v = v * 10 + d;
        c->off++;
        digits++;
    }
    if (digits == 0) {
        return cursor_fail(c, "number expected");
    }
    *out = v;
    return CM_OK;
}

enum cm_err
cursor_parse_u64(const char *p, size_t len, uint64_t max, uint64_t *out)
{
    struct cursor c;
    uint64_t v;

    cursor_init(&c, (const uint8_t *)p, len);
    if (cursor_u64_dec(&c, max, &v) != CM_OK || cursor_left(&c) != 0) {
        return CM_EPARSE;
    }
    *out = v;
    return CM_OK;
}
