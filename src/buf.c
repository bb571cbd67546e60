/*
 * buf.c -- bounded growable buffer (see buf.h).  No shared state except the
 * allocation-failure test hook, which only tests set.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failpoint.h"

static struct failpoint alloc_failpoint;

void
buf_test_fail_nth_alloc(unsigned nth)
{
    failpoint_arm(&alloc_failpoint, nth);
}

void
buf_init(struct buf *b, size_t max_bytes)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max_bytes = max_bytes;
    b->is_capped = false;
}

void
buf_clear(struct buf *b)
{
    free(b->data);
    buf_init(b, b->max_bytes);
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    b->is_capped = false;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

enum cm_err
buf_reserve(struct buf *b, size_t want)
{
    size_t room = b->max_bytes - b->len;
    size_t need;
    size_t new_cap;
    uint8_t *p;
    enum cm_err rc = CM_OK;

    if (want > room) {
        want = room;
        rc = CM_ELIMIT;
    }
    need = b->len + want;
    if (need <= b->cap && b->data != NULL) {
        return rc;
    }
    new_cap = b->cap < 256 ? 256 : b->cap;
    while (new_cap < need) {
        new_cap = new_cap > SIZE_MAX / 2 ? need : new_cap * 2;
    }
    if (new_cap > b->max_bytes) {
        new_cap = b->max_bytes;
    }
    if (failpoint_hit(&alloc_failpoint)) {
        return CM_ENOMEM;
    }
    p = realloc(b->data, new_cap + 1);
    if (p == NULL) {
        return CM_ENOMEM;
    }
    b->data = p;
    b->cap = new_cap;
    b->data[b->len] = '\0';
    return rc;
}

enum cm_err
buf_append(struct buf *b, const void *p, size_t len)
{
    enum cm_err rc = buf_reserve(b, len);
    size_t room;

    if (rc == CM_ENOMEM) {
        return rc;
    }
    room = b->max_bytes - b->len;
    if (len > room) {
        len = room;
        b->is_capped = true;
        rc = CM_ELIMIT;
    }
    if (len > 0) {
        memcpy(b->data + b->len, p, len);
        b->len += len;
    }
    if (b->data != NULL) {
        b->data[b->len] = '\0';
    }
    return rc;
}

enum cm_err
buf_putc(struct buf *b, uint8_t ch)
{
    return buf_append(b, &ch, 1);
}

enum cm_err
buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

enum cm_err
buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    int n;
    enum cm_err rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return CM_EINVAL;
    }
    if ((size_t)n < sizeof(small)) {
        return buf_append(b, small, (size_t)n);
    }
    rc = buf_reserve(b, (size_t)n + 1);
    if (rc == CM_ENOMEM) {
        return rc;
    }
    if (b->max_bytes - b->len < (size_t)n) {
        /* Would not fit: keep the prefix that does, like buf_append. */
        (void)buf_append(b, small, sizeof(small) - 1);
        b->is_capped = true;
        return CM_ELIMIT;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CM_OK;
}
